//! `stacktag push`, `merge` and `image-ref`: from the parsed command line to
//! the registry calls, and what is printed.

use std::time::Instant;

use clap::Args;

use super::args::{ImageName, Naming, Output, PublishAuth, TagsDir};
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

pub(crate) fn credentials(host: &str, auth: &PublishAuth) -> Result<Found, Error> {
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
    Ok(credentials::lookup(
        host,
        Given {
            username: auth.username.clone(),
            password,
        },
    )?)
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// Image name, as in the hierarchy file [default with --archive: from the archive's name]
    #[arg(long, required_unless_present = "archive")]
    pub image: Option<String>,
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

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Image name, as in the hierarchy file
    #[arg(long)]
    pub image: String,
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

#[derive(Debug, Args)]
pub struct ImageRefArgs {
    /// Image name, as in the hierarchy file
    #[arg(long, required_unless_present = "all")]
    pub image: Option<String>,
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
    let start = Instant::now();
    let image = args.image.clone().unwrap_or_default(); // clap: required without --archive
    super::archive::check_dirty(&h, &image, None, &args.checks, true)?;
    let t = target(&h, &image, &args.naming.name)?;
    let dir = args.tags.dir();
    let variant = &args.naming.name.variant;
    let session = Session::connect().await?;
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
    let found = credentials(&t.host, &args.auth)?;
    let policy = Policy::new(args.auth.tries);
    let registry = Registry::new(&t.host, &found, policy);
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
                ui.result(Body::Push(doc));
                return Err(e);
            }
        }
    }
    doc.seconds = start.elapsed().as_secs_f64();
    ui.result(Body::Push(doc));
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
    let image = match &args.image {
        Some(i) if *i != name.image => {
            return Err(ArchiveError::Layout {
                path,
                detail: format!("the archive is of image {}, not {i} (--image)", name.image),
            }
            .into())
        }
        _ => name.image.clone(),
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
    let found = credentials(&t.host, &args.auth)?;
    let registry = Registry::new(&t.host, &found, Policy::new(args.auth.tries));
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
    let start = Instant::now();
    let t = target(&h, &args.image, &args.name)?;
    let variant = &args.name.variant;
    let dir = args.tags.dir();
    let mut files = tags_files::read_all(&dir, variant, &args.image, &t.name)?;
    // A stack with `platforms:` merges those: none is missing when they are all in.
    files.retain(|f| h.builds_platform(f.platform));
    let absent = Platform::ALL
        .into_iter()
        .filter(|p| h.builds_platform(*p))
        .filter(|p| !files.iter().any(|f| f.platform == *p))
        .map(|p| (p, tags_files::path(&dir, p, variant, &args.image)))
        .collect();
    let (annotations, created_from_images) = args.annotate.resolve(&h, &args.image)?;
    let found = credentials(&t.host, &args.auth)?;
    let registry = Registry::new(&t.host, &found, Policy::new(args.auth.tries));
    let opts = Options {
        dry_run: args.dry_run,
        allow_missing_platform: args.allow_missing_platform,
        absent,
        annotations,
        created_from_images,
    };
    let (merged, warnings) =
        merge::merge(&registry, &t.repository, &args.image, &files, opts).await?;
    ui.result(Body::Merge(json::Merge {
        image: args.image.clone(),
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
    }));
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
        args.image,
        merged.len(),
        if args.dry_run {
            "checked (dry run, nothing written)"
        } else {
            "put"
        },
        start.elapsed().as_secs_f64()
    ));
    Ok(())
}

pub async fn image_ref(h: Hierarchy, args: ImageRefArgs, ui: &Ui) -> Result<(), Error> {
    if args.supply.all {
        return super::supply::image_ref_all(&h, &args, ui).await;
    }
    let image = args
        .image
        .clone()
        .expect("clap requires --image without --all");
    let t = target(&h, &image, &args.name)?;
    let variant = &args.name.variant;
    let tag = match (&args.tag, Platform::parse_option(args.platform.as_deref())?) {
        (Some(tag), _) => tag.clone(),
        (None, Some(p)) => format!("{}-latest", tags::tag_prefix(p, variant)),
        (None, None) if variant == tags::DEFAULT_VARIANT => "latest".to_string(),
        (None, None) => format!("{variant}-latest"),
    };
    let found = credentials(&t.host, &args.auth)?;
    let registry = Registry::new(&t.host, &found, Policy::new(args.auth.tries));
    if args.supply.referrers {
        return super::supply::print_referrers(&registry, &t, &image, &tag, ui).await;
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
    ui.result(Body::ImageRef(json::ImageRef::Tag {
        image: image.clone(),
        name: t.name.clone(),
        tag,
        reference: format!("{}@{digest}", t.name),
        digest,
    }));
    Ok(())
}
