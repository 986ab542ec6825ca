//! `stacktag copy`, `delete`, `retain` and `tags`: registry work a stack's
//! maintainers did with skopeo and by hand. Each names images as full
//! references (`registry/owner/image[:tag]`) or as the hierarchy's image
//! names (then the hierarchy file gives the registry and owner); the
//! hierarchy file is read only in the second case.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;

use super::args::{Output, PublishAuth};
use super::exit::{
    CONFIG, DELETE_UNSUPPORTED, IO, MISSING_PLATFORM, OK, REFUSED, REGISTRY, REGISTRY_AUTH, USAGE,
};
use super::help;
use super::json::{self, Body};
use super::publish::Clients;
use super::Ui;
use crate::error::{Error, FileError};
use crate::hierarchy::{Hierarchy, Names};
use crate::registry::copy::{self, Place};
use crate::registry::delete::{self, Action};
use crate::registry::list::{self, Tag};
use crate::registry::retain;

/// Registry and owner of short image names [default: from the hierarchy file].
#[derive(Debug, Args, Clone)]
pub struct Naming {
    /// Registry of short image names [default: from the hierarchy file]
    #[arg(long)]
    pub registry: Option<String>,
    /// Owner of short image names [default: from the hierarchy file]
    #[arg(long)]
    pub owner: Option<String>,
}

/// The exit codes of copy, delete, retain and tags.
pub const CODES: &[i32] = &[
    OK,
    USAGE,
    CONFIG,
    IO,
    REGISTRY,
    REGISTRY_AUTH,
    MISSING_PLATFORM,
    REFUSED,
    DELETE_UNSUPPORTED,
];

/// Credentials (each registry's by its host), exit codes and examples of
/// copy, delete, retain and tags.
pub fn after_long_help(examples: &str) -> String {
    format!(
        "{} Each registry's credentials are looked up by its host (a copy between two \
registries with different accounts: `docker login` to each).\n\n{}",
        help::credentials(),
        help::after(CODES, examples)
    )
}

pub const COPY_LONG_ABOUT: &str = "\
Copy tags from one registry (or repository) to another, as they are: an image index with its
platform images and BuildKit's attestation manifests, each image with its config and layers, and
the referrers of each manifest (SBOMs attached by `stacktag attach`), listed at the target by its
referrers API or the referrers tag (sha256-{hex}). Blobs go from registry to registry as a stream,
never through a daemon or the disk; blobs the target has are skipped, and on one registry they are
mounted. Manifests are copied byte for byte, so the digests at the target are the source's: each
tag is read back and checked, and `{target}@{digest}` printed. The tags are written last: a copy cut
short leaves no tag on a half-copied image, and running it again sends only what is missing.

Name the images as REGISTRY/OWNER/IMAGE[:TAG] (SRC and DST), or with --image (or --all) and
--to-registry as the hierarchy file names them (--image is repeatable: SRC and DST are references,
so the images of the hierarchy file are not positional here). The tags: SRC's, --tag (repeatable),
or every tag of one build with --build (the tags on the digests of its commit tags, see `stacktag
tags`).";

pub const COPY_EXAMPLES: &str =
    "  stacktag copy docker.io/jupyter/base-notebook:2026-11-24 quay.io/jupyter/base-notebook
  stacktag copy --all --build 1ffe43816ba9 --to-registry quay.io    a whole build, every image
  stacktag copy --image base-notebook --tag latest --tag python-3.11 --to-registry quay.io";

#[derive(Debug, Args)]
pub struct CopyArgs {
    /// Source: REGISTRY/OWNER/IMAGE[:TAG], or an image name of the hierarchy file
    #[arg(value_name = "SRC")]
    pub source: Option<String>,
    /// Target: REGISTRY/OWNER/IMAGE (the tags keep their names)
    #[arg(value_name = "DST", required_unless_present = "to_registry")]
    pub target: Option<String>,
    /// Images of the hierarchy file to copy (repeatable), instead of SRC
    #[arg(long = "image", value_name = "NAME", conflicts_with = "source")]
    pub images: Vec<String>,
    /// Every image of the hierarchy file
    #[arg(long, conflicts_with_all = ["source", "images"])]
    pub all: bool,
    /// A tag to copy (repeatable) [default: SRC's tag]
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Every tag of one build: its commit (7 to 40 hex characters)
    #[arg(long, value_name = "SHA", conflicts_with = "tags")]
    pub build: Option<String>,
    /// Target registry for --image/--all
    #[arg(long, value_name = "HOST", conflicts_with = "target")]
    pub to_registry: Option<String>,
    /// Target owner for --image/--all [default: the source's]
    #[arg(long, value_name = "OWNER", requires = "to_registry")]
    pub to_owner: Option<String>,
    #[command(flatten)]
    pub naming: Naming,
    #[command(flatten)]
    pub auth: PublishAuth,
    #[command(flatten)]
    pub output: Output,
}

pub const DELETE_LONG_ABOUT: &str = "\
Delete tags. A tag whose manifest another tag still needs (points to it, or to an index that names
it) is removed alone; a manifest no remaining tag needs is deleted, with its referrers (SBOMs,
signatures) and referrers tag, and so are the platform and attestation manifests of an index that
nothing else needs. A tag on what a moving tag points to (any tag but a commit tag, a date tag
YYYY-MM-DD or a referrers tag: latest, python-3.11, ...) is refused without --force (exit #REFUSED).

Before anything is deleted, the registry is asked whether it allows deletes and the credentials may
delete: if not, nothing is (exit #DELETE_UNSUPPORTED, or #REGISTRY_AUTH for credentials that may not delete). A tag that points
elsewhere when its turn comes (a push raced the delete) is left as it is. On registries that do not
delete tags alone (distribution 2), such a tag is first moved to a placeholder manifest, which is
then deleted. It takes tags (IMAGE:TAG), not images, so no --all: --image names the one image whose
--build goes.";

pub const DELETE_EXAMPLES: &str =
    "  stacktag delete quay.io/jupyter/base-notebook:2023-01-02 --dry-run
  stacktag delete base-notebook:2023-01-02 base-notebook:x86_64-2023-01-02
  stacktag delete --image base-notebook --build 1ffe43816ba9     every tag of one build";

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Tags to delete: REGISTRY/OWNER/IMAGE:TAG, or IMAGE:TAG with an image name of the hierarchy file
    #[arg(value_name = "IMAGE:TAG", required_unless_present = "build")]
    pub references: Vec<String>,
    /// Every tag of one build (its commit, 7 to 40 hex characters) of --image
    #[arg(long, value_name = "SHA", requires = "image")]
    pub build: Option<String>,
    /// The image of --build: REGISTRY/OWNER/IMAGE or an image name of the hierarchy file
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// Print what would be deleted; delete nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Delete even what a moving tag (latest, python-3.11, ...) points to
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub naming: Naming,
    #[command(flatten)]
    pub auth: PublishAuth,
    #[command(flatten)]
    pub output: Output,
}

pub const RETAIN_LONG_ABOUT: &str = "\
Keep the builds of an image that matter and delete the rest. A build is a commit tag's digest with
every tag on it (see `stacktag tags`). Kept: the newest --keep builds (by their date tag, else the
day their image was created), every build a moving tag (latest, python-3.11, ...) points to, every
build the wiki's manifests of the last --keep-months months cite (--wiki-dir), and builds with no
date. The others are deleted as `stacktag delete` deletes their tags. A plan that keeps no build is
refused without --force (exit #REFUSED). Run it with --dry-run first: the plan is printed (and is the
JSON document's `builds`).";

pub const RETAIN_EXAMPLES: &str = "  stacktag retain --all --keep 30 --dry-run
  stacktag retain base-notebook --keep 10 --wiki-dir ../docker-stacks.wiki --keep-months 6
  stacktag retain quay.io/jupyter/base-notebook --keep 5 --format json > retain.json";

#[derive(Debug, Args)]
#[command(mut_arg("names", |a| a.help("Images: REGISTRY/OWNER/IMAGE, or image names of the hierarchy file")))]
#[command(
    override_usage = "stacktag retain [OPTIONS] <IMAGE>...\n       stacktag retain [OPTIONS] --all"
)]
pub struct RetainArgs {
    #[command(flatten)]
    pub images: super::args::Images,
    /// The newest builds kept (by date tag, else the image's creation day)
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub keep: usize,
    /// Keep the builds the wiki cites in its last M months (needs --wiki-dir)
    #[arg(long, value_name = "M", requires = "wiki_dir")]
    pub keep_months: Option<u32>,
    /// The wiki checkout whose manifests/ tell which builds are cited
    #[arg(long, value_name = "DIR", requires = "keep_months")]
    pub wiki_dir: Option<PathBuf>,
    /// Print the plan; delete nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Delete even when the plan keeps no build
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub naming: Naming,
    #[command(flatten)]
    pub auth: PublishAuth,
    #[command(flatten)]
    pub output: Output,
}

pub const TAGS_LONG_ABOUT: &str = "\
List the tags of an image in the registry, one per line: the tag, its digest, the platforms of an
index (stacktag's names: x86_64, aarch64), and the build (commit) it belongs to when stacktag made
it: a tag belongs to the build whose commit tag (1ffe43816ba9, x86_64-1ffe43816ba9) has the same
digest. Moving tags are all but commit, date (YYYY-MM-DD) and referrers (sha256-{hex}) tags.
Several images, or --all, are listed one after another, each under its name.

The tags file of one image (upstream's write_tags_file) is written by `stacktag tags-file`.";

pub const TAGS_EXAMPLES: &str = "  stacktag tags quay.io/jupyter/base-notebook
  stacktag tags base-notebook --build 1ffe43816ba9
  stacktag tags base-notebook --format json | jq -r '.tags[] | select(.kind == \"moving\") | .tag'";

#[derive(Debug, Args)]
#[command(mut_arg("names", |a| a.help("Images: REGISTRY/OWNER/IMAGE, or image names of the hierarchy file")))]
#[command(
    override_usage = "stacktag tags [OPTIONS] <IMAGE>...\n       stacktag tags [OPTIONS] --all"
)]
pub struct TagsArgs {
    #[command(flatten)]
    pub images: super::args::Images,
    /// Only the tags of one build (its commit, 7 to 40 hex characters)
    #[arg(long, value_name = "SHA")]
    pub build: Option<String>,
    #[command(flatten)]
    pub naming: Naming,
    #[command(flatten)]
    pub auth: PublishAuth,
    #[command(flatten)]
    pub output: Output,
}

/// A repository and maybe a tag, as named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Named {
    host: String,
    repository: String,
    tag: Option<String>,
}

impl Named {
    fn name(&self) -> String {
        format!("{}/{}", self.host, self.repository)
    }
}

/// The hierarchy file, read once, only when a short name needs it.
struct Stack<'a> {
    config: Option<&'a Path>,
    loaded: Option<Hierarchy>,
}

impl Stack<'_> {
    fn get(&mut self) -> Result<&Hierarchy, Error> {
        if self.loaded.is_none() {
            self.loaded = Some(Hierarchy::load_default(self.config, Names::Any)?);
        }
        Ok(self.loaded.as_ref().expect("just loaded"))
    }
}

/// Splits `registry/owner/image[:tag]` (the registry is the first part when
/// it has a dot or a colon, or is `localhost`), or reads a short name
/// `image[:tag]` with the hierarchy's registry and owner.
fn parse(text: &str, naming: &Naming, stack: &mut Stack) -> Result<Named, Error> {
    let (path, tag) = match text.rsplit_once(':') {
        Some((p, t)) if !t.contains('/') => (p, Some(t.to_string())),
        _ => (text, None),
    };
    if let Some((first, rest)) = path.split_once('/') {
        if first.contains('.') || first.contains(':') || first == "localhost" {
            return Ok(Named {
                host: first.to_string(),
                repository: rest.to_string(),
                tag,
            });
        }
        return Err(FileError::Bad {
            path: PathBuf::from(text),
            message: "not an image reference: name the registry too (REGISTRY/OWNER/IMAGE:TAG), or give an image name of the hierarchy file".into(),
        }
        .into());
    }
    let h = stack.get()?;
    h.resolve(path)?;
    let registry = naming
        .registry
        .clone()
        .unwrap_or_else(|| h.registry.clone());
    let owner = naming.owner.clone().unwrap_or_else(|| h.owner.clone());
    Ok(Named {
        host: if registry.is_empty() {
            "docker.io".into()
        } else {
            registry
        },
        repository: format!("{owner}/{path}"),
        tag,
    })
}

fn seconds(start: Instant) -> f64 {
    (start.elapsed().as_secs_f64() * 1000.0).round() / 1000.0
}

// ---- copy ----

pub async fn copy(config: Option<&Path>, args: CopyArgs, ui: &Ui) -> Result<(), Error> {
    let start = Instant::now();
    let mut stack = Stack {
        config,
        loaded: None,
    };
    let mut clients = Clients::new(&args.auth)?;
    // (source, target) repositories.
    let mut pairs: Vec<(Named, Named)> = Vec::new();
    if let Some(src) = &args.source {
        let from = parse(src, &args.naming, &mut stack)?;
        let target = args.target.as_deref().unwrap_or_default();
        let to = parse(target, &args.naming, &mut stack)?;
        pairs.push((from, to));
    } else {
        let names: Vec<String> = if args.all {
            stack.get()?.chosen(true, &[])
        } else {
            args.images.clone()
        };
        if names.is_empty() {
            return Err(usage(
                "name SRC and DST, or --image NAME (or --all) with --to-registry",
            ));
        }
        let to_registry = args
            .to_registry
            .clone()
            .ok_or_else(|| usage("--image and --all need --to-registry"))?;
        for n in names {
            let from = parse(&n, &args.naming, &mut stack)?;
            let owner_image = match (&args.to_owner, from.repository.rsplit_once('/')) {
                (Some(o), Some((_, image))) => format!("{o}/{image}"),
                _ => from.repository.clone(),
            };
            let to = Named {
                host: to_registry.clone(),
                repository: owner_image,
                tag: None,
            };
            pairs.push((from, to));
        }
    }
    let run = copy::Run::default();
    let mut results = Vec::new();
    let say = |line: &str| ui.say(line);
    // Every source is read first: a missing tag stops the run before anything is sent.
    let mut plans = Vec::new();
    for (from, to) in &pairs {
        let src = clients.get(&from.host)?;
        let dst = clients.get(&to.host)?;
        let tags: Vec<String> = match (&args.build, args.tags.is_empty(), &from.tag) {
            (Some(sha), _, _) => {
                let all = list::tags(&src, &from.repository).await?;
                let builds = list::builds(&all);
                list::build_tags(&builds, &from.name(), sha)?.tags.clone()
            }
            (None, false, _) => args.tags.clone(),
            (None, true, Some(t)) => vec![t.clone()],
            (None, true, None) => {
                return Err(usage(&format!(
                    "{}: which tags? name one (SRC:TAG), or pass --tag TAG or --build SHA",
                    from.name()
                )))
            }
        };
        let sources = copy::read_sources(
            Place {
                registry: &src,
                repository: &from.repository,
            },
            &tags,
        )
        .await?;
        plans.push((src, dst, from, to, sources));
    }
    let copies = plans.iter().map(|(src, dst, from, to, sources)| {
        let run = &run;
        let say = &say;
        async move {
            copy::copy_tags(
                run,
                Place {
                    registry: src,
                    repository: &from.repository,
                },
                Place {
                    registry: dst,
                    repository: &to.repository,
                },
                sources,
                say,
            )
            .await
        }
    });
    // The images of a build at the same time (their shared blobs copied once).
    let done = futures_util::future::join_all(copies).await;
    let mut failure = None;
    for d in done {
        match d {
            Ok(c) => results.extend(c),
            Err(e) if failure.is_none() => failure = Some(e),
            Err(_) => {}
        }
    }
    let mut text = String::new();
    for c in &results {
        text += &format!("{}@{}\n", c.target, c.verified);
    }
    ui.out(&text);
    let mut doc = json::Copy::new(&results, &run.counts, seconds(start));
    let c = &mut doc.counts;
    ui.say(format_args!(
        "copied {} tag(s): {} manifest(s) put, {} already there; {} blob(s) sent ({}), {} mounted, {} already there; {} referrer(s) ({:.1}s)",
        results.len(),
        c.manifests_put.get_mut(),
        c.manifests_present.get_mut(),
        c.blobs_sent.get_mut(),
        crate::console::size(*c.bytes_sent.get_mut()),
        c.blobs_mounted.get_mut(),
        c.blobs_present.get_mut(),
        c.referrers.get_mut(),
        doc.seconds
    ));
    ui.result(Body::Copy(doc));
    match failure {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

fn usage(message: &str) -> Error {
    Error::Usage(message.to_string())
}

// ---- delete ----

pub async fn delete(config: Option<&Path>, args: DeleteArgs, ui: &Ui) -> Result<(), Error> {
    let start = Instant::now();
    let mut stack = Stack {
        config,
        loaded: None,
    };
    let mut clients = Clients::new(&args.auth)?;
    // Tags by repository, in the order given.
    let mut wanted: Vec<(Named, Vec<String>)> = Vec::new();
    for r in &args.references {
        let n = parse(r, &args.naming, &mut stack)?;
        let Some(tag) = n.tag.clone() else {
            return Err(usage(&format!("{r}: name the tag to delete (IMAGE:TAG)")));
        };
        let repo = Named { tag: None, ..n };
        match wanted.iter_mut().find(|(w, _)| *w == repo) {
            Some((_, tags)) => tags.push(tag),
            None => wanted.push((repo, vec![tag])),
        }
    }
    let mut by_build = None;
    if let (Some(sha), Some(image)) = (&args.build, &args.image) {
        let n = parse(image, &args.naming, &mut stack)?;
        let repo = Named { tag: None, ..n };
        by_build = Some((repo, sha.clone()));
    }
    let mut planned = Vec::new();
    for (repo, tags) in wanted
        .into_iter()
        .map(|(r, t)| (r, Some(t)))
        .chain(by_build.map(|(r, _)| (r, None)))
    {
        let registry = clients.get(&repo.host)?;
        let all = list::tags(&registry, &repo.repository).await?;
        let tags = match tags {
            Some(t) => t,
            None => {
                let builds = list::builds(&all);
                let sha = args.build.as_deref().unwrap_or_default();
                list::build_tags(&builds, &repo.name(), sha)?.tags.clone()
            }
        };
        let plan = delete::plan(&repo.name(), &all, &tags, args.force)?;
        planned.push((registry, repo, plan));
    }
    let mut docs = Vec::new();
    let mut text = String::new();
    let mut failure = None;
    for (registry, repo, plan) in &planned {
        text += &plan_text(&repo.name(), plan);
        let done = if args.dry_run || failure.is_some() {
            None
        } else {
            let say = |line: &str| ui.say(line);
            match delete::execute(registry, &repo.repository, plan, &say).await {
                Ok(d) => Some(d),
                Err(e) => {
                    failure = Some(e);
                    None
                }
            }
        };
        docs.push(json::DeletePlan::new(&repo.name(), plan, done.as_ref()));
    }
    ui.out(&text);
    ui.result(Body::Delete(json::Delete {
        dry_run: args.dry_run,
        repositories: docs,
        seconds: seconds(start),
    }));
    match failure {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

fn plan_text(name: &str, plan: &delete::Plan) -> String {
    let mut text = String::new();
    for t in &plan.tags {
        let what = match t.action {
            Action::Untag => "tag only (another tag needs the manifest)",
            Action::WithManifest => "tag and manifest",
        };
        text += &format!("delete {name}:{}  {}  {what}\n", t.tag, t.digest);
    }
    for m in &plan.manifests {
        text += &format!("delete {name}@{}  {}\n", m.digest, m.what);
    }
    text
}

// ---- retain ----

pub async fn retain(config: Option<&Path>, args: RetainArgs, ui: &Ui) -> Result<(), Error> {
    let start = Instant::now();
    let mut stack = Stack {
        config,
        loaded: None,
    };
    let mut clients = Clients::new(&args.auth)?;
    let names: Vec<String> = if args.images.all {
        stack.get()?.chosen(true, &[])
    } else {
        args.images.given()
    };
    let today = chrono::Utc::now().date_naive();
    let mut planned = Vec::new();
    for n in &names {
        let repo = parse(n, &args.naming, &mut stack)?;
        let image = repo
            .repository
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let registry = clients.get(&repo.host)?;
        let all = list::tags(&registry, &repo.repository).await?;
        let builds = list::builds(&all);
        let mut dated = Vec::new();
        for b in builds.into_values() {
            let date = retain::date_of(&registry, &repo.repository, &b, &all).await?;
            dated.push((b, date));
        }
        let cited = match (&args.wiki_dir, args.keep_months) {
            (Some(dir), Some(months)) => retain::cited(dir, &image, months, today)
                .map_err(|e| Error::io(dir.join("manifests"), e))?,
            _ => Default::default(),
        };
        let rules = retain::Rules {
            keep: args.keep,
            cited,
        };
        let decisions = retain::decide(dated, &rules);
        retain::check_not_everything(&repo.name(), &decisions, args.force)?;
        let tags = retain::tags_to_delete(&decisions, &all);
        let plan = delete::plan(&repo.name(), &all, &tags, args.force)?;
        planned.push((registry, repo, decisions, plan));
    }
    let mut docs = Vec::new();
    let mut text = String::new();
    let mut failure = None;
    for (registry, repo, decisions, plan) in &planned {
        for d in decisions {
            text += &format!(
                "{} {}:{}  {}  {}\n",
                if d.keep { "keep  " } else { "delete" },
                repo.name(),
                d.build.commit,
                d.date.as_deref().unwrap_or("no date"),
                if d.keep {
                    d.why.join("; ")
                } else {
                    format!("{} tag(s)", d.build.tags.len())
                }
            );
        }
        let done = if args.dry_run || failure.is_some() {
            None
        } else {
            let say = |line: &str| ui.say(line);
            match delete::execute(registry, &repo.repository, plan, &say).await {
                Ok(d) => Some(d),
                Err(e) => {
                    failure = Some(e);
                    None
                }
            }
        };
        docs.push(json::RetainImage::new(
            &repo.name(),
            decisions,
            json::DeletePlan::new(&repo.name(), plan, done.as_ref()),
        ));
    }
    ui.out(&text);
    ui.result(Body::Retain(json::Retain {
        dry_run: args.dry_run,
        keep: args.keep,
        keep_months: args.keep_months,
        images: docs,
        seconds: seconds(start),
    }));
    match failure {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

// ---- tags ----

pub async fn tags(config: Option<&Path>, args: TagsArgs, ui: &Ui) -> Result<(), Error> {
    let mut stack = Stack {
        config,
        loaded: None,
    };
    let names: Vec<String> = if args.images.all {
        stack.get()?.chosen(true, &[])
    } else {
        args.images.given()
    };
    let mut clients = Clients::new(&args.auth)?;
    let (mut text, mut docs) = (String::new(), Vec::new());
    for n in &names {
        let repo = parse(n, &args.naming, &mut stack)?;
        let registry = clients.get(&repo.host)?;
        let all = list::tags(&registry, &repo.repository).await?;
        let builds = list::builds(&all);
        let shown: Vec<&Tag> = match &args.build {
            Some(sha) => {
                let b = list::build_tags(&builds, &repo.name(), sha)?;
                all.iter().filter(|t| b.tags.contains(&t.tag)).collect()
            }
            None => all.iter().collect(),
        };
        // Several images: each one's lines under its name.
        if !args.images.one() {
            text += &format!(
                "{}{}\n",
                if docs.is_empty() { "" } else { "\n" },
                repo.name()
            );
        }
        for t in &shown {
            let platforms: Vec<String> =
                t.platforms.iter().map(|p| list::platform_name(p)).collect();
            text += &format!(
                "{}  {}  {}  {}\n",
                t.tag,
                t.digest,
                if platforms.is_empty() {
                    "-".to_string()
                } else {
                    platforms.join(",")
                },
                list::builds_of(&builds, &t.digest).join(",")
            );
        }
        docs.push(Body::Tags(json::TagList {
            name: repo.name(),
            tags: shown
                .iter()
                .map(|t| json::TagDoc {
                    tag: (*t).clone(),
                    builds: list::builds_of(&builds, &t.digest)
                        .into_iter()
                        .map(str::to_string)
                        .collect(),
                })
                .collect(),
        }));
    }
    ui.out(&text);
    ui.results(args.images.one(), docs);
    Ok(())
}

impl super::Run for CopyArgs {
    fn output(&self) -> &Output {
        &self.output
    }

    async fn run(self, cx: &super::Context<'_>) -> Result<(), Error> {
        copy(cx.config, self, cx.ui).await
    }
}

impl super::Run for DeleteArgs {
    fn output(&self) -> &Output {
        &self.output
    }

    async fn run(self, cx: &super::Context<'_>) -> Result<(), Error> {
        delete(cx.config, self, cx.ui).await
    }
}

impl super::Run for RetainArgs {
    fn output(&self) -> &Output {
        &self.output
    }

    async fn run(self, cx: &super::Context<'_>) -> Result<(), Error> {
        retain(cx.config, self, cx.ui).await
    }
}

impl super::Run for TagsArgs {
    fn output(&self) -> &Output {
        &self.output
    }

    async fn run(self, cx: &super::Context<'_>) -> Result<(), Error> {
        tags(cx.config, self, cx.ui).await
    }
}
