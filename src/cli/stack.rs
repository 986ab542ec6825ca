//! `stacktag check`, `list` and `explain`: what the hierarchy file says.

use std::collections::HashMap;

use clap::Args;

use super::args::{Images, Output};
use super::exit::{CONFIG, IO, OK, USAGE};
use super::json;
use super::{Context, Run};
use crate::build::BuilderKind;
use crate::error::{ConfigError, Error};
use crate::formats::tags;
use crate::hierarchy::{Hierarchy, Names};
use crate::hook::progress::counted;
use crate::plugin;

/// The exit codes of explain, check and list.
pub const CODES: &[i32] = &[OK, USAGE, CONFIG, IO];

pub const EXPLAIN_LONG_ABOUT: &str = "\
Show what runs on an image: the reference it is read from, its parent and chain, the Dockerfile its
history line links, and every tagger and manifest in the order they run, with the ancestor whose
list names it (and the file line of those declared in the hierarchy file). Several images, or
--all, are shown one after another, a blank line between them.";

pub const EXPLAIN_EXAMPLES: &str = "  stacktag explain r-notebook
  stacktag explain --chain r-notebook      root first, one per line (for scripts)
  stacktag explain --all --format json";

#[derive(Debug, Args)]
#[command(
    override_usage = "stacktag explain [OPTIONS] <IMAGE>...\n       stacktag explain [OPTIONS] --all"
)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub images: Images,
    /// Print only each image's ancestors and itself, root first, one per line
    #[arg(long)]
    pub chain: bool,
    #[command(flatten)]
    pub output: Output,
}

pub const CHECK_LONG_ABOUT: &str = "\
Validate the hierarchy file and print the image tree: each image's full reference, and the
registry, owner and repository (saying which are defaults: quay.io, jupyter, jupyter/docker-stacks).
Every problem of the file is reported in one run, each with its line. Each image's Dockerfile
(where it exists) must start its final stage FROM its `parent:` (resolved with the build args a
build passes: REGISTRY, OWNER, `build_args:`, ARG defaults), and a root's FROM must not be an
image of the stack: each disagreement names both files' lines and the fix.";

pub const CHECK_EXAMPLES: &str = "  stacktag check
  stacktag check --config my/hierarchy.yaml
  for img in $(stacktag check --images); do ...; done   parents before children";

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Print only the image names, parents before children, one per line
    #[arg(long)]
    pub images: bool,
    #[command(flatten)]
    pub output: Output,
}

pub const LIST_LONG_ABOUT: &str = "\
List the taggers and manifests this binary knows (built-ins and plugins compiled in), and those the
hierarchy file declares, with where.";

pub const LIST_EXAMPLES: &str = "  stacktag list";

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub output: Output,
}

impl Run for CheckArgs {
    fn output(&self) -> &Output {
        &self.output
    }

    async fn run(self, cx: &Context<'_>) -> Result<(), Error> {
        // `check --images` lists names, which a plugin binary's taggers do not change.
        let names = if self.images {
            Names::Any
        } else {
            Names::Known
        };
        let hierarchy = cx.hierarchy(names)?;
        // Each Dockerfile's FROM is its `parent:`; a Dockerfile not there is not checked.
        let (registry, owner) = (&hierarchy.registry, &hierarchy.owner);
        let items = crate::build::from::items_of(&hierarchy, registry, owner);
        crate::build::from::check(&hierarchy, registry, owner, &items)?;
        let builder = super::build::builder_for_check().await;
        cx.ui.out(&check(&hierarchy, self.images, &builder));
        cx.ui
            .result(json::Body::Check(check_json(&hierarchy, &builder)));
        Ok(())
    }
}

impl Run for ListArgs {
    fn output(&self) -> &Output {
        &self.output
    }

    async fn run(self, cx: &Context<'_>) -> Result<(), Error> {
        let hierarchy = cx.hierarchy(Names::Known)?;
        cx.ui.out(&list(&hierarchy));
        cx.ui.result(json::Body::List(list_json(&hierarchy)));
        Ok(())
    }
}

impl Run for ExplainArgs {
    fn output(&self) -> &Output {
        &self.output
    }

    async fn run(self, cx: &Context<'_>) -> Result<(), Error> {
        let hierarchy = cx.hierarchy(Names::Known)?;
        let (mut texts, mut docs) = (Vec::new(), Vec::new());
        for image in self.images.chosen(&hierarchy)? {
            texts.push(explain(&hierarchy, &image, self.chain)?);
            docs.push(json::Body::Explain(explain_json(&hierarchy, &image)?));
        }
        // Several images: a blank line between them.
        cx.ui.out(&texts.join("\n"));
        cx.ui.results(self.images.one(), docs);
        Ok(())
    }
}

/// The image tree with each image's full reference, and the settings the
/// file leaves to their defaults; or only the names, parents first.
/// `builder`: what `build` would use and why (`None`: no daemon answered).
pub fn check(h: &Hierarchy, names_only: bool, builder: &(Option<BuilderKind>, String)) -> String {
    if names_only {
        return h
            .topological()
            .iter()
            .map(|i| format!("{}\n", i.name))
            .collect();
    }
    let n = h.images.len();
    let mut text = format!("{}: {}, valid\n", h.path.display(), counted(n, "image"));
    text += &format!("  registry: {}{}\n", h.registry, defaulted(h, "registry"));
    text += &format!("  owner: {}{}\n", h.owner, defaulted(h, "owner"));
    text += &format!(
        "  repository: {}{}\n",
        h.repository,
        defaulted(h, "repository")
    );
    let kind = builder.0.map_or("unknown", BuilderKind::name);
    text += &format!("  builder: {kind} ({})\n", builder.1);
    text += "images (the hook tags {registry}/{owner}/{image}:latest):\n";
    text += &tree(h);
    text
}

fn defaulted(h: &Hierarchy, key: &str) -> &'static str {
    if h.defaulted.contains(&key) {
        "  (default: not set in the file)"
    } else {
        ""
    }
}

pub fn list(h: &Hierarchy) -> String {
    let mut taggers: Vec<_> = plugin::taggers().collect();
    taggers.sort_by_key(|t| t.name);
    let mut manifests: Vec<_> = plugin::manifests().collect();
    manifests.sort_by_key(|m| m.name);
    let mut text = String::from("taggers:\n");
    for t in taggers {
        text += &format!("  {:<20} {}\n", t.name, t.about);
    }
    for d in &h.declared_taggers {
        let r = &d.rule;
        text += &format!(
            "  {:<20} `{}` gives `{}-...` (declared in {}:{}, image {})\n",
            d.name,
            crate::plugin::command::Cmd(r.command.clone()),
            r.prefix,
            h.path.display(),
            d.line,
            d.image
        );
    }
    text += "manifests:\n";
    for m in manifests {
        text += &format!("  {:<20} {}\n", m.name, m.about);
    }
    for d in &h.declared_manifests {
        text += &format!(
            "  {:<20} `## {}` (declared in {}:{}, image {})\n",
            d.name,
            d.rule.heading,
            h.path.display(),
            d.line,
            d.image
        );
    }
    text
}

pub fn explain(h: &Hierarchy, image: &str, chain_only: bool) -> Result<String, ConfigError> {
    let r = h.resolve(image)?;
    if chain_only {
        return Ok(r.chain.iter().map(|i| format!("{i}\n")).collect());
    }
    let spec = h.image(image).expect("resolved");
    let origin = |name: &str, from: &str| {
        let declared = h
            .declared_taggers
            .iter()
            .map(|d| (&d.name, d.line))
            .chain(h.declared_manifests.iter().map(|d| (&d.name, d.line)))
            .find(|(n, _)| *n == name);
        match declared {
            Some((_, line)) => format!("from {from} (declared at {}:{line})", h.path.display()),
            None => format!("from {from}"),
        }
    };
    let mut text = format!("{image}\n");
    text += &format!(
        "  image: {}:latest\n",
        tags::image_name(&h.registry, &h.owner, image)
    );
    text += &format!(
        "  parent: {}\n",
        spec.parent.as_deref().unwrap_or("(none: a root)")
    );
    text += &format!("  chain: {}\n", r.chain.join(" -> "));
    text += &format!(
        "  dockerfile: {}\n",
        spec.dockerfile_path(tags::DEFAULT_VARIANT)
    );
    text += &format!("  network: {}\n", if r.network { "on" } else { "off" });
    text += &format!(
        "  variants: default{}\n",
        r.variants
            .iter()
            .map(|v| format!(", {v}"))
            .collect::<String>()
    );
    text += "  taggers (in tag order, after `latest`):\n";
    for t in &r.taggers {
        text += &format!("    {:<20} {}\n", t.name, origin(&t.name, &t.from));
    }
    text += "  manifests (after the Build Info header):\n";
    for m in &r.manifests {
        text += &format!("    {:<20} {}\n", m.name, origin(&m.name, &m.from));
    }
    Ok(text)
}

fn tree(h: &Hierarchy) -> String {
    fn walk(
        h: &Hierarchy,
        name: &str,
        depth: usize,
        kids: &HashMap<&str, Vec<&str>>,
        text: &mut String,
    ) {
        let spec = h.image(name).expect("listed");
        let variants = if spec.variants.is_empty() {
            String::new()
        } else {
            format!(" (variants: {})", spec.variants.join(", "))
        };
        let full = tags::image_name(&h.registry, &h.owner, name);
        text.push_str(&format!(
            "{}{name}{variants}  {full}:latest\n",
            "  ".repeat(depth + 1)
        ));
        for k in kids.get(name).into_iter().flatten() {
            walk(h, k, depth + 1, kids, text);
        }
    }
    let kids = h.children();
    let mut text = String::new();
    for root in h.images.iter().filter(|i| i.parent.is_none()) {
        walk(h, &root.name, 0, &kids, &mut text);
    }
    text
}

/// `check --format json`: the file, its settings, every image parents first.
pub fn check_json(h: &Hierarchy, builder: &(Option<BuilderKind>, String)) -> json::Check {
    json::Check {
        file: h.path.display().to_string(),
        registry: h.registry.clone(),
        owner: h.owner.clone(),
        repository: h.repository.clone(),
        builder: builder.0,
        builder_why: builder.1.clone(),
        defaults: h.defaulted.iter().map(|k| k.to_string()).collect(),
        images: h
            .topological()
            .iter()
            .map(|i| json::CheckImage {
                image: i.name.clone(),
                parent: i.parent.clone(),
                reference: format!(
                    "{}:latest",
                    tags::image_name(&h.registry, &h.owner, &i.name)
                ),
                variants: json::with_default(&i.variants),
                line: i.line,
            })
            .collect(),
    }
}

/// `list --format json`: as the text, one entry per tagger and manifest.
pub fn list_json(h: &Hierarchy) -> json::List {
    let origin = |builtin: bool| if builtin { "built-in" } else { "plugin" };
    let mut taggers: Vec<_> = plugin::taggers().collect();
    taggers.sort_by_key(|t| t.name);
    let mut manifests: Vec<_> = plugin::manifests().collect();
    manifests.sort_by_key(|m| m.name);
    let known = |name: &str, about: String, origin: &'static str| json::Known {
        name: name.to_string(),
        about,
        origin,
        declared_at: None,
        image: None,
    };
    let declared = |name: &str, about: String, line: usize, image: &str| json::Known {
        declared_at: Some(json::location(h, line)),
        image: Some(image.to_string()),
        ..known(name, about, "declared")
    };
    let mut doc = json::List {
        taggers: taggers
            .iter()
            .map(|t| known(t.name, t.about.to_string(), origin(t.builtin())))
            .collect(),
        manifests: manifests
            .iter()
            .map(|m| known(m.name, m.about.to_string(), origin(m.builtin())))
            .collect(),
    };
    for d in &h.declared_taggers {
        let about = format!(
            "`{}` gives `{}-...`",
            crate::plugin::command::Cmd(d.rule.command.clone()),
            d.rule.prefix
        );
        doc.taggers.push(declared(&d.name, about, d.line, &d.image));
    }
    for d in &h.declared_manifests {
        let about = format!("`## {}`", d.rule.heading);
        doc.manifests
            .push(declared(&d.name, about, d.line, &d.image));
    }
    doc
}

/// `explain --format json` (with or without --chain: the chain is in it).
pub fn explain_json(h: &Hierarchy, image: &str) -> Result<json::Explain, ConfigError> {
    let r = h.resolve(image)?;
    let spec = h.image(image).expect("resolved");
    let declared_line = |name: &str| {
        h.declared_taggers
            .iter()
            .map(|d| (&d.name, d.line))
            .chain(h.declared_manifests.iter().map(|d| (&d.name, d.line)))
            .find(|(n, _)| *n == name)
            .map(|(_, line)| json::location(h, line))
    };
    let origins = |items: &[crate::hierarchy::Inherited]| {
        items
            .iter()
            .map(|i| json::Origin {
                name: i.name.clone(),
                from: i.from.clone(),
                declared_at: declared_line(&i.name),
            })
            .collect()
    };
    let name = tags::image_name(&h.registry, &h.owner, image);
    Ok(json::Explain {
        image: image.to_string(),
        reference: format!("{name}:latest"),
        name,
        parent: spec.parent.clone(),
        chain: r.chain.clone(),
        dockerfile: spec.dockerfile_path(tags::DEFAULT_VARIANT),
        network: r.network,
        variants: json::with_default(&r.variants),
        taggers: origins(&r.taggers),
        manifests: origins(&r.manifests),
    })
}
