//! `stacktag push`, `merge` and `image-ref`: from the parsed command line to
//! the library calls, and what is printed.

use std::time::Instant;

use super::client::Registry;
use super::credentials::{self, Found, Given};
use super::merge::{self, Options};
use super::push;
use super::retry::Policy;
use super::tags_files;
use super::RegistryError;
use crate::cli::{ImageName, ImageRefArgs, MergeArgs, PublishAuth, PushArgs};
use crate::error::Error;
use crate::hierarchy::Hierarchy;
use crate::session::Session;
use crate::tags::{self, Platform};

/// The image's naming, resolved against the hierarchy's defaults.
struct Target {
    /// As the daemon names it: `{registry}/{owner}/{image}`.
    name: String,
    /// The registry host (`docker.io` when the hierarchy names none).
    host: String,
    /// `{owner}/{image}`.
    repository: String,
}

fn target(h: &Hierarchy, image: &str, name: &ImageName) -> Result<Target, Error> {
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

fn credentials(host: &str, auth: &PublishAuth) -> Result<Found, Error> {
    let password = if auth.password_stdin {
        Some(credentials::password_from_stdin().map_err(|e| Error::Io {
            path: "<stdin>".into(),
            source: e,
        })?)
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

fn say(quiet: bool, line: &str) {
    if !quiet {
        crate::console::line(format_args!("{line}"));
    }
}

pub async fn push(h: Hierarchy, args: PushArgs, quiet: bool) -> Result<(), Error> {
    let start = Instant::now();
    let t = target(&h, &args.image, &args.naming.name)?;
    let dir = args.tags.dir();
    let variant = &args.naming.name.variant;
    let session = Session::connect().await?;
    let platform = match Platform::parse_option(args.naming.platform.as_deref())? {
        Some(p) => p,
        None => {
            let present = tags_files::read_all(&dir, variant, &args.image, &t.name)?;
            match present.as_slice() {
                [one] => one.platform,
                _ => {
                    // Both platforms' files are here: push the one this daemon built.
                    let latest = format!("{}:latest", t.name);
                    crate::image::inspect(&session.docker, &latest)
                        .await?
                        .ok_or_else(|| Error::ImageNotFound {
                            image: latest,
                            short: args.image.clone(),
                        })?
                        .platform
                }
            }
        }
    };
    let file =
        tags_files::read(&dir, platform, variant, &args.image, &t.name)?.ok_or_else(|| {
            RegistryError::NoTagsFile {
                image: args.image.clone(),
                variant: variant.clone(),
                dir: dir.clone(),
                expected: format!("{}.txt", tags::file_stem(platform, variant, &args.image)),
            }
        })?;
    // The tags file says which platform; the image under its first tag must agree.
    let first = format!("{}:{}", t.name, file.tags[0]);
    if let Some(i) = crate::image::inspect(&session.docker, &first).await? {
        if i.platform != platform {
            return Err(Error::PlatformMismatch {
                image: first,
                actual: i.platform.to_string(),
                given: platform.to_string(),
            });
        }
    }
    let found = credentials(&t.host, &args.auth)?;
    let policy = Policy::new(args.auth.tries);
    let registry = Registry::new(&t.host, &found, policy);
    let pushed = push::push(
        &session.docker,
        &registry,
        &found,
        &t.repository,
        &args.image,
        &file.tags,
        &policy,
        quiet,
        |line| say(quiet, line),
    )
    .await?;
    let mut text = String::new();
    for p in &pushed {
        text += &format!("{}:{} {}\n", t.name, p.tag, p.digest);
    }
    crate::cli::out(&text);
    say(
        quiet,
        &format!(
            "{}: {} tags pushed to {} in {:.2}s",
            args.image,
            pushed.len(),
            t.host,
            start.elapsed().as_secs_f64()
        ),
    );
    Ok(())
}

pub async fn merge(h: Hierarchy, args: MergeArgs, quiet: bool) -> Result<(), Error> {
    let start = Instant::now();
    let t = target(&h, &args.image, &args.name)?;
    let variant = &args.name.variant;
    let dir = args.tags.dir();
    let files = tags_files::read_all(&dir, variant, &args.image, &t.name)?;
    let absent = Platform::ALL
        .into_iter()
        .filter(|p| !files.iter().any(|f| f.platform == *p))
        .map(|p| (p, tags_files::path(&dir, p, variant, &args.image)))
        .collect();
    let found = credentials(&t.host, &args.auth)?;
    let registry = Registry::new(&t.host, &found, Policy::new(args.auth.tries));
    let opts = Options {
        dry_run: args.dry_run,
        allow_missing_platform: args.allow_missing_platform,
        absent,
    };
    let (merged, warnings) =
        merge::merge(&registry, &t.repository, &args.image, &files, opts).await?;
    for w in &warnings {
        crate::console::warn(format_args!("{w}"));
    }
    let mut text = String::new();
    for m in &merged {
        let from = m
            .images
            .iter()
            .map(|i| format!("{} {}", i.platform, i.digest))
            .collect::<Vec<_>>()
            .join(", ");
        match &m.digest {
            Some(d) => text += &format!("{}:{} {d} <- {from}\n", t.name, m.merged),
            None => text += &format!("would put {}:{} <- {from}\n", t.name, m.merged),
        }
    }
    crate::cli::out(&text);
    say(
        quiet,
        &format!(
            "{}: {} merged tags {} in {:.2}s",
            args.image,
            merged.len(),
            if args.dry_run {
                "checked (dry run, nothing written)"
            } else {
                "put"
            },
            start.elapsed().as_secs_f64()
        ),
    );
    Ok(())
}

pub async fn image_ref(h: Hierarchy, args: ImageRefArgs) -> Result<(), Error> {
    let t = target(&h, &args.image, &args.name)?;
    let variant = &args.name.variant;
    let tag = match (&args.tag, Platform::parse_option(args.platform.as_deref())?) {
        (Some(tag), _) => tag.clone(),
        (None, Some(p)) => format!("{}-latest", tags::tag_prefix(p, variant)),
        (None, None) if variant == tags::DEFAULT_VARIANT => "latest".to_string(),
        (None, None) => format!("{variant}-latest"),
    };
    let found = credentials(&t.host, &args.auth)?;
    let registry = Registry::new(&t.host, &found, Policy::new(args.auth.tries));
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
    crate::cli::out(&format!("{}@{digest}\n", t.name));
    Ok(())
}
