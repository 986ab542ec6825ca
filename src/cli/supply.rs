//! The supply-chain options: OCI annotations on merged indexes, SBOMs attached
//! to pushed images (`attach`, `push --attach-sbom`), and the digests to sign
//! (`image-ref --digests`, `image-ref --referrers`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::Args;

use super::args::{ImageName, Images, Output, PublishAuth, TagsDir};
use super::json::{self, Body};
use super::publish::{target, Clients, Target};
use super::{ImageRefArgs, Ui};
use crate::error::Error;
use crate::formats::tags::{self, Platform};
use crate::git::Commit;
use crate::hierarchy::Hierarchy;
use crate::registry::annotations::{self, Build};
use crate::registry::client::Registry;
use crate::registry::referrers::{self, SbomFile};
use crate::registry::{digests, tags_files, RegistryError};

/// OCI annotations on every merged index.
#[derive(Debug, Args, Clone)]
pub struct Annotate {
    /// Add an annotation to every index (repeatable); a pre-defined key replaces stacktag's value
    #[arg(long = "annotation", value_name = "KEY=VALUE", value_parser = annotations::parse)]
    pub annotation: Vec<(String, String)>,
    /// No annotations: over Docker manifests the index is then a Docker manifest list
    #[arg(long, conflicts_with_all = ["annotation", "revision", "timestamp"])]
    pub no_annotations: bool,
    /// GitHub OWNER/REPO for org.opencontainers.image.source [default: from the hierarchy file]
    #[arg(long)]
    pub repository: Option<String>,
    /// Commit for org.opencontainers.image.revision [default: HEAD of the git checkout at --repo-dir]
    #[arg(long, value_name = "SHA", value_parser = parse_revision)]
    pub revision: Option<String>,
    /// Directory inside the git checkout of the stack
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub repo_dir: PathBuf,
    /// Build timestamp for org.opencontainers.image.created [default: the newest creation time of the platform images]
    #[arg(long, env = "STACKTAG_TIMESTAMP")]
    pub timestamp: Option<DateTime<Utc>>,
}

fn parse_revision(given: &str) -> Result<String, String> {
    if given.len() >= 7 && given.len() <= 64 && given.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(given.to_ascii_lowercase())
    } else {
        Err(format!(
            "`{given}` is not a git commit hash (7 to 64 hex digits)"
        ))
    }
}

impl Annotate {
    /// The annotations of every index of `image`, and whether `created` is
    /// to be taken from the images (no timestamp given).
    pub fn resolve(
        &self,
        h: &Hierarchy,
        image: &str,
    ) -> Result<(BTreeMap<String, String>, bool), Error> {
        if self.no_annotations {
            return Ok((BTreeMap::new(), false));
        }
        let revision = match &self.revision {
            Some(r) => r.clone(),
            None => Commit::head(&self.repo_dir)?.sha,
        };
        let build = Build {
            repository: self
                .repository
                .clone()
                .unwrap_or_else(|| h.repository.clone()),
            revision: Some(revision),
            created: self.timestamp,
            title: image.to_string(),
        };
        Ok((
            annotations::for_build(&build, &self.annotation),
            self.timestamp.is_none(),
        ))
    }
}

/// Where the SBOM files of a build are.
#[derive(Debug, Args, Clone)]
pub struct SbomFiles {
    /// SBOM files ({platform}-{variant}-{image}-{sha12}.spdx.json, .cdx.json) [default: OUT_DIR/sbom]
    #[arg(long, value_name = "DIR")]
    pub sbom_dir: Option<PathBuf>,
    /// Directory inside the git checkout of the stack: the SBOM files are named by its HEAD commit
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub repo_dir: PathBuf,
}

impl SbomFiles {
    /// The SBOM files of this build of `image` on `platform`, read and checked.
    pub fn read(
        &self,
        tags: &TagsDir,
        platform: Platform,
        variant: &str,
        image: &str,
    ) -> Result<Vec<SbomFile>, Error> {
        let dir = self
            .sbom_dir
            .clone()
            .unwrap_or_else(|| tags.out_dir.join("sbom"));
        let commit = Commit::head(&self.repo_dir)?;
        referrers::sbom_files(&dir, platform, variant, image, &commit.sha[..12])
    }
}

/// `push --attach-sbom`.
#[derive(Debug, Args, Clone)]
pub struct PushSbom {
    /// After the push, attach the build's SBOM files to the platform image (as `stacktag attach`)
    #[arg(long)]
    pub attach_sbom: bool,
    #[command(flatten)]
    pub files: SbomFiles,
}

pub const ATTACH_LONG_ABOUT: &str = "\
Attach the SBOM files of an image's build ({sbom_dir}/{platform}-{variant}-{image}-{sha12}.spdx.json
and .cdx.json, from `stacktag hook --sbom`) to its pushed platform image, as OCI artifacts whose
subject is the image's manifest: through the registry's referrers API where it has one, else the
OCI 1.1 referrers tag (sha256-{hex}), updated rather than overwritten. `image-ref --referrers` lists
what is attached.";

pub const ATTACH_EXAMPLES: &str = "  stacktag attach base-notebook
  stacktag push base-notebook --attach-sbom      push, then attach";

#[derive(Debug, Args)]
#[command(
    override_usage = "stacktag attach [OPTIONS] <IMAGE>...\n       stacktag attach [OPTIONS] --all"
)]
pub struct AttachArgs {
    #[command(flatten)]
    pub images: Images,
    #[command(flatten)]
    pub name: ImageName,
    /// x86_64 or aarch64 (arm64) [default: every platform with a tags file]
    #[arg(long)]
    pub platform: Option<String>,
    #[command(flatten)]
    pub tags: TagsDir,
    #[command(flatten)]
    pub sbom: SbomFiles,
    #[command(flatten)]
    pub auth: PublishAuth,
    #[command(flatten)]
    pub output: Output,
}

/// `image-ref --digests`, `--referrers`.
#[derive(Debug, Args, Clone)]
pub struct ImageRefMore {
    /// Every digest of the build to sign, of each image: its platform tags (its tags files in
    /// the tags directory) and merged tags, read from the registry
    #[arg(long, conflicts_with_all = ["platform", "tag", "referrers"])]
    pub digests: bool,
    /// List what is attached to the image (SBOMs, signatures): referrers API, else the sha256-{hex} tag
    #[arg(long)]
    pub referrers: bool,
    #[command(flatten)]
    pub tags: TagsDir,
}

/// `stacktag attach`: every platform with a tags file (or the one asked for).
/// Every SBOM file of every image is read and checked before anything is pushed.
pub async fn attach(h: Hierarchy, args: AttachArgs, ui: &Ui) -> Result<(), Error> {
    let variant = &args.name.variant;
    let dir = args.tags.dir();
    let mut work = Vec::new();
    for image in args.images.chosen(&h)? {
        let t = target(&h, &image, &args.name)?;
        let files = match Platform::parse_option(args.platform.as_deref())? {
            Some(p) => vec![tags_files::require(&dir, p, variant, &image, &t.name)?],
            None => tags_files::read_all(&dir, variant, &image, &t.name)?,
        };
        let mut sboms = Vec::new();
        for f in &files {
            sboms.push(args.sbom.read(&args.tags, f.platform, variant, &image)?);
        }
        work.push((image, t, files, sboms));
    }
    let mut clients = Clients::new(&args.auth)?;
    let mut docs = Vec::new();
    for (image, t, files, sboms) in &work {
        let registry = clients.get(&t.host)?;
        let mut doc = json::Attach {
            image: image.clone(),
            name: t.name.clone(),
            variant: variant.clone(),
            registry: t.host.clone(),
            attached: Vec::new(),
        };
        for (f, sboms) in files.iter().zip(sboms) {
            match attach_one(&registry, t, f.platform, &f.tags[0], sboms, ui).await {
                Ok(attached) => doc.attached.extend(attached),
                Err(e) => {
                    // What is before it is attached: the document says so.
                    docs.push(Body::Attach(doc));
                    ui.results(args.images.one(), docs);
                    return Err(e);
                }
            }
        }
        ui.say(format_args!(
            "{image}: {} attached in {}",
            crate::hook::progress::counted(doc.attached.len(), "SBOM"),
            t.host
        ));
        docs.push(Body::Attach(doc));
    }
    ui.results(args.images.one(), docs);
    Ok(())
}

/// Attaches `sboms` to the platform image under `tag`; prints one line each.
pub(crate) async fn attach_one(
    registry: &Registry,
    t: &Target,
    platform: Platform,
    tag: &str,
    sboms: &[SbomFile],
    ui: &Ui,
) -> Result<Vec<json::AttachedDoc>, Error> {
    let subject = referrers::platform_subject(registry, &t.repository, tag, platform).await?;
    let attached = referrers::attach(registry, &t.repository, &subject, sboms).await?;
    let mut text = String::new();
    for a in &attached {
        text += &format!(
            "{}@{} <- {} {}@{} ({}; {})\n",
            t.name,
            a.subject,
            a.artifact_type,
            t.name,
            a.digest,
            a.path.display(),
            a.via
        );
    }
    ui.out(&text);
    let shown = platform.to_string();
    Ok(attached
        .iter()
        .map(|a| json::AttachedDoc::new(&t.name, &shown, a))
        .collect())
}

/// `image-ref --referrers`: what is attached to the tag's manifest and, for an
/// index, to each image in it.
pub(crate) async fn print_referrers(
    registry: &Registry,
    t: &Target,
    image: &str,
    tag: &str,
    ui: &Ui,
) -> Result<Body, Error> {
    let mut all = Vec::new();
    for (subject, what) in referrers::subjects_of(registry, &t.repository, tag).await? {
        for r in referrers::list(registry, &t.repository, &subject).await? {
            all.push((what.clone(), r));
        }
    }
    let text: String = all
        .iter()
        .map(|(what, r)| {
            format!(
                "{}@{} ({what}) <- {} {}@{} ({})\n",
                t.name,
                r.subject,
                r.descriptor.artifact_type.as_deref().unwrap_or("-"),
                t.name,
                r.descriptor.digest,
                r.via
            )
        })
        .collect();
    ui.out(&text);
    Ok(Body::ImageRef(json::ImageRef::Referrers {
        image: image.to_string(),
        name: t.name.clone(),
        tag: tag.to_string(),
        referrers: all
            .iter()
            .map(|(what, r)| json::ReferrerDoc::new(&t.name, what, r))
            .collect(),
    }))
}

/// `image-ref --digests`: each image chosen, each variant with tags files.
pub(crate) async fn image_ref_digests(
    h: &Hierarchy,
    images: &[String],
    args: &ImageRefArgs,
    clients: &mut Clients,
    ui: &Ui,
) -> Result<(), Error> {
    let dir = args.supply.tags.dir();
    let mut builds = Vec::new();
    for spec in h.topological() {
        let image = &spec.name;
        if !images.contains(image) {
            continue;
        }
        let variants =
            std::iter::once(tags::DEFAULT_VARIANT.to_string()).chain(spec.variants.iter().cloned());
        for variant in variants {
            let name = ImageName {
                variant: variant.clone(),
                ..args.name.clone()
            };
            let t = target(h, image, &name)?;
            let files = match tags_files::read_all(&dir, &variant, image, &t.name) {
                Ok(f) => f,
                // A variant is not built everywhere; the default one is.
                Err(Error::Registry(RegistryError::NoTagsFile { .. }))
                    if variant != tags::DEFAULT_VARIANT =>
                {
                    continue
                }
                Err(e) => return Err(e),
            };
            // A stack with `platforms:` publishes those only.
            let files: Vec<_> = files
                .into_iter()
                .filter(|f| h.builds_platform(f.platform))
                .collect();
            builds.push((t, image.clone(), variant, files));
        }
    }
    let mut found = Vec::new();
    for (t, image, variant, files) in &builds {
        let registry = clients.get(&t.host)?;
        found.push(digests::collect(&registry, &t.repository, image, variant, files).await?);
    }
    let mut text = String::new();
    for d in &found {
        for p in &d.platforms {
            text += &format!(
                "{}@{} {} {}\n",
                d.name,
                p.digest,
                p.platform,
                p.tags.join(",")
            );
            if let Some(i) = &p.image_digest {
                text += &format!("{}@{i} {}-image {}\n", d.name, p.platform, p.tags.join(","));
            }
        }
        for m in &d.merged {
            text += &format!("{}@{} merged {}\n", d.name, m.digest, m.tags.join(","));
        }
    }
    ui.out(&text);
    ui.result(Body::ImageRef(json::ImageRef::all(&found)));
    Ok(())
}

impl super::Run for AttachArgs {
    fn output(&self) -> &Output {
        &self.output
    }

    async fn run(self, cx: &super::Context<'_>) -> Result<(), Error> {
        attach(cx.hierarchy(crate::hierarchy::Names::Any)?, self, cx.ui).await
    }
}
