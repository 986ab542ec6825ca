//! `stacktag push`, `merge` and `image-ref`: from the parsed command line to
//! the registry calls, and what is printed.

use std::collections::BTreeMap;
use std::time::Instant;

use clap::Args;

use super::args::{ImageName, Images, Naming, Output, PublishAuth, TagsDir};
use super::json::{self, Body};
use super::Ui;
use crate::error::Error;
use crate::error::{FileError, HookError};
use crate::formats::tags::{self, Platform};
use crate::hierarchy::Hierarchy;
use crate::hook::session::Session;
use crate::registry::archive_push;
use crate::registry::client::Registry;
use crate::registry::credentials::{self, Found, Given};
use crate::registry::merge::{self, Options};
use crate::registry::push;
use crate::registry::retry::Policy;
use crate::registry::tags_files;
use crate::registry::RegistryError;

/// The image's naming, resolved against the hierarchy's defaults.
pub(crate) struct Target {
    /// As the daemon names it: `{registry}/{owner}/{image}`.
    pub(crate) name: String,
    /// The registry host (`docker.io` when the hierarchy names none).
    pub(crate) host: String,
    /// `{owner}/{image}`.
    pub(crate) repository: String,
}

pub(crate) fn target(h: &Hierarchy, image: &str, name: &ImageName) -> Result<Target, Error> {
    h.resolve(image)?;
    let (registry, owner) = name.registry_owner(h);
    let host = if registry.is_empty() {
        "docker.io".to_string()
    } else {
        registry.clone()
    };
    Ok(Target {
        name: tags::image_name(&registry, &owner, image),
        host,
        repository: format!("{owner}/{image}"),
    })
}

/// A registry client per host, its credentials looked up once; the password
/// of --password-stdin is read once, however many images and hosts.
pub(crate) struct Clients {
    auth: PublishAuth,
    password: Option<credentials::Secret>,
    made: BTreeMap<String, (Found, Registry)>,
}

impl Clients {
    pub(crate) fn new(auth: &PublishAuth) -> Result<Self, Error> {
        let password = if auth.password_stdin {
            Some(
                credentials::password_from_stdin().map_err(|e| FileError::Io {
                    path: "<stdin>".into(),
                    source: e,
                })?,
            )
        } else {
            None
        };
        Ok(Clients {
            auth: auth.clone(),
            password,
            made: BTreeMap::new(),
        })
    }

    /// The client of `host`.
    pub(crate) fn get(&mut self, host: &str) -> Result<Registry, Error> {
        Ok(self.login(host)?.1)
    }

    /// The credentials of `host` (the daemon's push needs them too) and its client.
    pub(crate) fn login(&mut self, host: &str) -> Result<(Found, Registry), Error> {
        if let Some(made) = self.made.get(host) {
            return Ok(made.clone());
        }
        let found = credentials::lookup(
            host,
            Given {
                username: self.auth.username.clone(),
                password: self.password.clone(),
            },
        )?;
        let r = Registry::new(host, &found, self.policy());
        self.made
            .insert(host.to_string(), (found.clone(), r.clone()));
        Ok((found, r))
    }

    pub(crate) fn policy(&self) -> Policy {
        Policy::new(self.auth.tries)
    }
}

pub const PUSH_LONG_ABOUT: &str = "\
Push every tag of each image's tags file to its registry, through the Docker daemon, then read each
tag's digest back from the registry (printed as `name:tag sha256:...`); several images (or --all)
go parents first, and a dirty one stops the run before anything is pushed. With --archive FILE, the
image of an archive from `stacktag save` goes straight into the registry, no daemon: the archive
is checked against its .sha256 in the one pass that reads it, and what it holds is cached
(~/.cache/stacktag/archives), so pushing it again does not read it while it is unchanged. A dirty
build is refused (exit #DIRTY) unless --allow-dirty; a bad archive is exit #ARCHIVE.";

pub const PUSH_EXAMPLES: &str = "  stacktag push base-notebook
  stacktag push --all                              every image of the stack, parents first
  echo \"$TOKEN\" | stacktag push base-notebook --username bot --password-stdin
  stacktag push base-notebook --metadata-file push.json   each tag's digest in push.json";

#[derive(Debug, Args)]
#[command(mut_arg("names", |a| a.required_unless_present_any(["all", "image", "archive"])))]
#[command(
    override_usage = "stacktag push [OPTIONS] <IMAGE>...\n       stacktag push [OPTIONS] --all\n       stacktag push [OPTIONS] --archive <FILE> [IMAGE]"
)]
pub struct PushArgs {
    #[command(flatten)]
    pub images: Images,
    #[command(flatten)]
    pub naming: Naming,
    #[command(flatten)]
    pub tags: TagsDir,
    #[command(flatten)]
    pub auth: PublishAuth,
    #[command(flatten)]
    pub sbom: super::supply::PushSbom,
    #[command(flatten)]
    pub checks: super::archive::PublishChecks,
    #[command(flatten)]
    pub output: Output,
}

pub const MERGE_LONG_ABOUT: &str = "\
Put the multi-platform tags of each image: for each tag of the platforms' tags files with the
leading {platform}- removed, one image index in the registry holding every platform's image.
Everything is checked before anything is written.";

pub const MERGE_EXAMPLES: &str = "  stacktag merge base-notebook --dry-run
  stacktag merge --all --allow-missing-platform
  stacktag merge base-notebook --format json | jq -r '.merged[].digest'";

#[derive(Debug, Args)]
#[command(
    override_usage = "stacktag merge [OPTIONS] <IMAGE>...\n       stacktag merge [OPTIONS] --all"
)]
pub struct MergeArgs {
    #[command(flatten)]
    pub images: Images,
    #[command(flatten)]
    pub name: ImageName,
    #[command(flatten)]
    pub tags: TagsDir,
    /// Check the registry and print what would be put; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Merge what is there when a platform image is missing, instead of refusing
    #[arg(long)]
    pub allow_missing_platform: bool,
    #[command(flatten)]
    pub annotate: super::supply::Annotate,
    #[command(flatten)]
    pub auth: PublishAuth,
    #[command(flatten)]
    pub output: Output,
}

pub const IMAGE_REF_LONG_ABOUT: &str = "\
Print name@sha256:... of each pushed image, read from the registry: of `latest` (the merged
index), of {platform}-latest with --platform, or of any --tag; with --digests, every digest of
the build. For signing steps.";

pub const IMAGE_REF_EXAMPLES: &str = "  stacktag image-ref base-notebook
  cosign sign --yes $(stacktag image-ref base-notebook --platform x86_64)
  stacktag image-ref --all --digests --format json | jq -r '.references[]'   all to sign";

#[derive(Debug, Args)]
#[command(
    override_usage = "stacktag image-ref [OPTIONS] <IMAGE>...\n       stacktag image-ref [OPTIONS] --all"
)]
pub struct ImageRefArgs {
    #[command(flatten)]
    pub images: Images,
    #[command(flatten)]
    pub name: ImageName,
    /// The platform image ({platform}-latest) instead of the multi-platform one (latest)
    #[arg(long)]
    pub platform: Option<String>,
    /// Any tag instead of latest
    #[arg(long, conflicts_with = "platform")]
    pub tag: Option<String>,
    #[command(flatten)]
    pub auth: PublishAuth,
    #[command(flatten)]
    pub supply: super::supply::ImageRefMore,
    #[command(flatten)]
    pub output: Output,
}

pub async fn push(h: Hierarchy, args: PushArgs, ui: &Ui) -> Result<(), Error> {
    if args.checks.archive.is_some() {
        return push_archive(h, args, ui).await;
    }
    let images = args.images.chosen(&h)?;
    // A dirty build stops the run before anything is pushed.
    for image in &images {
        super::archive::check_dirty(&h, image, None, &args.checks, true)?;
    }
    let mut clients = Clients::new(&args.auth)?;
    let session = Session::connect().await?;
    let mut docs = Vec::new();
    for image in &images {
        let pushed = push_one(&h, &args, image, &session, &mut clients, &mut docs, ui).await;
        if let Err(e) = pushed {
            // The images before it are pushed: the document says so.
            ui.results(args.images.one(), docs);
            return Err(e);
        }
    }
    ui.results(args.images.one(), docs);
    Ok(())
}

/// Pushes one image's tags (and its SBOMs with --attach-sbom); its document
/// goes into `docs`, also when the attach after the push failed.
async fn push_one(
    h: &Hierarchy,
    args: &PushArgs,
    image: &str,
    session: &Session,
    clients: &mut Clients,
    docs: &mut Vec<Body>,
    ui: &Ui,
) -> Result<(), Error> {
    let start = Instant::now();
    let image = image.to_string();
    let t = target(h, &image, &args.naming.name)?;
    let dir = args.tags.dir();
    let variant = &args.naming.name.variant;
    let platform = match Platform::parse_option(args.naming.platform.as_deref())? {
        Some(p) => p,
        None => {
            let present = tags_files::read_all(&dir, variant, &image, &t.name)?;
            match present.as_slice() {
                [one] => one.platform,
                _ => {
                    // Both platforms' files are here: push the one this daemon built.
                    let latest = format!("{}:latest", t.name);
                    crate::hook::image::inspect(&session.docker, &latest)
                        .await?
                        .ok_or_else(|| HookError::ImageNotFound {
                            image: latest,
                            short: image.clone(),
                        })?
                        .platform
                }
            }
        }
    };
    let file = tags_files::require(&dir, platform, variant, &image, &t.name)?;
    // The tags file says which platform; the image under its first tag must agree.
    let first = format!("{}:{}", t.name, file.tags[0]);
    let mut image_id = String::new();
    if let Some(i) = crate::hook::image::inspect(&session.docker, &first).await? {
        if i.platform != platform {
            return Err(HookError::PlatformMismatch {
                image: first,
                actual: i.platform.to_string(),
                given: platform.to_string(),
            }
            .into());
        }
        image_id = i.id;
    }
    // The SBOM files are checked before anything is pushed.
    let sboms = if args.sbom.attach_sbom {
        Some(
            args.sbom
                .files
                .read(&args.tags, platform, variant, &image)?,
        )
    } else {
        None
    };
    let (found, registry) = clients.login(&t.host)?;
    let policy = clients.policy();
    let pushed = push::push(
        &session.docker,
        &registry,
        &found,
        &t.repository,
        &image,
        &file.tags,
        &policy,
        ui.quiet,
        |line| ui.say(line),
    )
    .await?;
    let mut text = String::new();
    for p in &pushed {
        text += &format!("{}:{} {}\n", t.name, p.tag, p.digest);
    }
    ui.out(&text);
    let mut doc = json::Push {
        image: image.clone(),
        name: t.name.clone(),
        platform: platform.to_string(),
        variant: variant.clone(),
        image_id,
        registry: t.host.clone(),
        tags_file: file.path.display().to_string(),
        pushed: pushed.clone(),
        attached: Vec::new(),
        seconds: 0.0,
    };
    if let Some(sboms) = &sboms {
        match super::supply::attach_one(&registry, &t, platform, &file.tags[0], sboms, ui).await {
            Ok(attached) => doc.attached = attached,
            Err(e) => {
                // The tags are pushed: the document says so.
                doc.seconds = start.elapsed().as_secs_f64();
                docs.push(Body::Push(doc));
                return Err(e);
            }
        }
    }
    doc.seconds = start.elapsed().as_secs_f64();
    docs.push(Body::Push(doc));
    ui.say(format_args!(
        "{}: {} tags pushed to {} in {:.2}s",
        image,
        pushed.len(),
        t.host,
        start.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// `push --archive FILE`: no daemon; the archive's image straight into the registry.
pub async fn push_archive(h: Hierarchy, args: PushArgs, ui: &Ui) -> Result<(), Error> {
    use crate::archive::head::{self, Source};
    use crate::archive::{ArchiveError, ArchiveName};
    let start = Instant::now();
    let path = args.checks.archive.clone().expect("called with --archive");
    let name =
        ArchiveName::parse(&path).ok_or_else(|| ArchiveError::BadName { path: path.clone() })?;
    let image = match args.images.given().as_slice() {
        [] => name.image.clone(),
        [i] if *i == name.image => name.image.clone(),
        [i] => {
            return Err(ArchiveError::Layout {
                path,
                detail: format!("the archive is of image {}, not {i}", name.image),
            }
            .into())
        }
        [..] => {
            return Err(Error::Usage(
                "--archive pushes one image: name at most one IMAGE with it".into(),
            ))
        }
    };
    let t = target(&h, &image, &args.naming.name)?;
    super::archive::check_dirty(&h, &image, Some(&name.version), &args.checks, false)?;
    let head = {
        let p = path.clone();
        tokio::task::spawn_blocking(move || head::read(&p, head::cache_dir().as_deref()))
            .await
            .map_err(|e| Error::io(&path, std::io::Error::other(e)))??
    };
    let read = match &head.source {
        Source::Cache => "unchanged since verified, not read".to_string(),
        Source::Archive { bytes, cache_error } => {
            if let Some(e) = cache_error {
                ui.warn(format_args!(
                    "cannot cache what {} holds ({e}); the next push reads it again",
                    path.display()
                ));
            }
            format!("verified, {} read", crate::console::size(*bytes))
        }
    };
    let platform = Platform::from_docker_arch(&head.architecture)?;
    if let Some(given) = Platform::parse_option(args.naming.platform.as_deref())? {
        if given != platform {
            return Err(HookError::PlatformMismatch {
                image: path.display().to_string(),
                actual: platform.to_string(),
                given: given.to_string(),
            }
            .into());
        }
    }
    let dir = args.tags.dir();
    let variant = &args.naming.name.variant;
    let file = tags_files::require(&dir, platform, variant, &image, &t.name)?;
    // The SBOM files are checked before anything is pushed.
    let sboms = if args.sbom.attach_sbom {
        Some(
            args.sbom
                .files
                .read(&args.tags, platform, variant, &image)?,
        )
    } else {
        None
    };
    let owner = t
        .repository
        .rsplit_once('/')
        .map_or("", |(o, _)| o)
        .to_string();
    let mount_from: Vec<String> = h
        .resolve(&image)?
        .chain
        .iter()
        .rev()
        .filter(|a| **a != image)
        .map(|a| {
            if owner.is_empty() {
                a.clone()
            } else {
                format!("{owner}/{a}")
            }
        })
        .collect();
    let registry = Clients::new(&args.auth)?.get(&t.host)?;
    let pushed = archive_push::push(
        &registry,
        &head,
        &t.repository,
        &file.tags,
        &mount_from,
        |line| ui.say(format_args!("stacktag: {line}")),
    )
    .await?;
    let mut text = String::new();
    for tag in &file.tags {
        text += &format!("{}:{tag} {}\n", t.name, pushed.digest);
    }
    ui.out(&text);
    let mut doc = json::Push {
        image: image.clone(),
        name: t.name.clone(),
        platform: platform.to_string(),
        variant: variant.clone(),
        image_id: head.id.clone(),
        registry: t.host.clone(),
        tags_file: file.path.display().to_string(),
        pushed: file
            .tags
            .iter()
            .map(|tag| crate::registry::push::Pushed {
                tag: tag.clone(),
                reference: format!("{}:{tag}", t.name),
                digest: pushed.digest.clone(),
            })
            .collect(),
        attached: Vec::new(),
        seconds: 0.0,
    };
    if let Some(sboms) = &sboms {
        match super::supply::attach_one(&registry, &t, platform, &file.tags[0], sboms, ui).await {
            Ok(attached) => doc.attached = attached,
            Err(e) => {
                // The tags are pushed: the document says so.
                doc.seconds = start.elapsed().as_secs_f64();
                ui.result(Body::Push(doc));
                return Err(e);
            }
        }
    }
    doc.seconds = start.elapsed().as_secs_f64();
    ui.result(Body::Push(doc));
    ui.say(format_args!(
            "{image}: {} tags ({} put) of image {} pushed to {} from {} ({read}) in {:.2}s: {} layers, {} already there, {} mounted, {} uploaded ({})",
            file.tags.len(),
            pushed.tags_put.len(),
            &head.id[7..19],
            t.host,
            path.display(),
            start.elapsed().as_secs_f64(),
            pushed.layers,
            pushed.skipped,
            pushed.mounted,
            pushed.uploaded,
            crate::console::size(pushed.uploaded_bytes),
    ));
    Ok(())
}

pub async fn merge(h: Hierarchy, args: MergeArgs, ui: &Ui) -> Result<(), Error> {
    let images = args.images.chosen(&h)?;
    let mut clients = Clients::new(&args.auth)?;
    let mut docs = Vec::new();
    for image in &images {
        match merge_one(&h, &args, image, &mut clients, ui).await {
            Ok(doc) => docs.push(doc),
            Err(e) => {
                // The images before it are merged: the document says so.
                ui.results(args.images.one(), docs);
                return Err(e);
            }
        }
    }
    ui.results(args.images.one(), docs);
    Ok(())
}

async fn merge_one(
    h: &Hierarchy,
    args: &MergeArgs,
    image: &str,
    clients: &mut Clients,
    ui: &Ui,
) -> Result<Body, Error> {
    let start = Instant::now();
    let t = target(h, image, &args.name)?;
    let variant = &args.name.variant;
    let dir = args.tags.dir();
    let mut files = tags_files::read_all(&dir, variant, image, &t.name)?;
    // A stack with `platforms:` merges those: none is missing when they are all in.
    files.retain(|f| h.builds_platform(f.platform));
    let absent = Platform::ALL
        .into_iter()
        .filter(|p| h.builds_platform(*p))
        .filter(|p| !files.iter().any(|f| f.platform == *p))
        .map(|p| (p, tags_files::path(&dir, p, variant, image)))
        .collect();
    let (annotations, created_from_images) = args.annotate.resolve(h, image)?;
    let registry = clients.get(&t.host)?;
    let opts = Options {
        dry_run: args.dry_run,
        allow_missing_platform: args.allow_missing_platform,
        absent,
        annotations,
        created_from_images,
    };
    let (merged, warnings) = merge::merge(&registry, &t.repository, image, &files, opts).await?;
    let doc = Body::Merge(json::Merge {
        image: image.to_string(),
        name: t.name.clone(),
        variant: variant.clone(),
        registry: t.host.clone(),
        dry_run: args.dry_run,
        merged: merged
            .iter()
            .map(|m| json::MergedTag::new(&t.name, m))
            .collect(),
        warnings: warnings.clone(),
        seconds: start.elapsed().as_secs_f64(),
    });
    for w in &warnings {
        ui.warn(w);
    }
    let mut text = String::new();
    for m in &merged {
        let from = m
            .images
            .iter()
            .map(|i| {
                let mut entry = format!("{} {}", i.platform, i.digest);
                for a in &i.attestations {
                    entry += &format!(" + attestation {}", a.digest);
                }
                entry
            })
            .collect::<Vec<_>>()
            .join(", ");
        match &m.digest {
            Some(d) => text += &format!("{}:{} {d} <- {from}\n", t.name, m.merged),
            None => {
                text += &format!("would put {}:{} <- {from}\n", t.name, m.merged);
                for (k, v) in &m.annotations {
                    text += &format!("  annotation {k}={v}\n");
                }
            }
        }
    }
    ui.out(&text);
    ui.say(format_args!(
        "{}: {} merged tags {} in {:.2}s",
        image,
        merged.len(),
        if args.dry_run {
            "checked (dry run, nothing written)"
        } else {
            "put"
        },
        start.elapsed().as_secs_f64()
    ));
    Ok(doc)
}

pub async fn image_ref(h: Hierarchy, args: ImageRefArgs, ui: &Ui) -> Result<(), Error> {
    let images = args.images.chosen(&h)?;
    let mut clients = Clients::new(&args.auth)?;
    if args.supply.digests {
        return super::supply::image_ref_digests(&h, &images, &args, &mut clients, ui).await;
    }
    let mut docs = Vec::new();
    for image in &images {
        match image_ref_one(&h, &args, image, &mut clients, ui).await {
            Ok(doc) => docs.push(doc),
            Err(e) => {
                ui.results(args.images.one(), docs);
                return Err(e);
            }
        }
    }
    ui.results(args.images.one(), docs);
    Ok(())
}

async fn image_ref_one(
    h: &Hierarchy,
    args: &ImageRefArgs,
    image: &str,
    clients: &mut Clients,
    ui: &Ui,
) -> Result<Body, Error> {
    let t = target(h, image, &args.name)?;
    let variant = &args.name.variant;
    let tag = match (&args.tag, Platform::parse_option(args.platform.as_deref())?) {
        (Some(tag), _) => tag.clone(),
        (None, Some(p)) => format!("{}-latest", tags::tag_prefix(p, variant)),
        (None, None) if variant == tags::DEFAULT_VARIANT => "latest".to_string(),
        (None, None) => format!("{variant}-latest"),
    };
    let registry = clients.get(&t.host)?;
    if args.supply.referrers {
        return super::supply::print_referrers(&registry, &t, image, &tag, ui).await;
    }
    let digest = match registry
        .digest(&registry.reference(&t.repository, &tag))
        .await
    {
        Err(RegistryError::NotFound { .. }) => {
            return Err(RegistryError::NotFound {
                reference: format!("{}:{tag}", t.name),
            }
            .into())
        }
        other => other?,
    };
    ui.out(&format!("{}@{digest}\n", t.name));
    Ok(Body::ImageRef(json::ImageRef::Tag {
        image: image.to_string(),
        name: t.name.clone(),
        tag,
        reference: format!("{}@{digest}", t.name),
        digest,
    }))
}

impl super::Run for PushArgs {
    fn output(&self) -> &Output {
        &self.output
    }

    async fn run(self, cx: &super::Context<'_>) -> Result<(), Error> {
        push(cx.hierarchy(crate::hierarchy::Names::Any)?, self, cx.ui).await
    }
}

impl super::Run for MergeArgs {
    fn output(&self) -> &Output {
        &self.output
    }

    async fn run(self, cx: &super::Context<'_>) -> Result<(), Error> {
        merge(cx.hierarchy(crate::hierarchy::Names::Any)?, self, cx.ui).await
    }
}

impl super::Run for ImageRefArgs {
    fn output(&self) -> &Output {
        &self.output
    }

    async fn run(self, cx: &super::Context<'_>) -> Result<(), Error> {
        image_ref(cx.hierarchy(crate::hierarchy::Names::Any)?, self, cx.ui).await
    }
}
