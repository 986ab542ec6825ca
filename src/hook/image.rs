//! The image on the daemon: what it is (platform, size) and its tags,
//! applied all or nothing.

use bollard::query_parameters::{RemoveImageOptionsBuilder, TagImageOptionsBuilder};

use crate::error::Error;
use crate::error::HookError;
use crate::formats::tags::Platform;

pub struct Inspected {
    pub id: String,
    pub platform: Platform,
    pub size: u64,
}

/// `None` when the daemon has no such image.
pub async fn inspect(
    docker: &bollard::Docker,
    reference: &str,
) -> Result<Option<Inspected>, Error> {
    match docker.inspect_image(reference).await {
        Ok(i) => Ok(Some(Inspected {
            id: i.id.unwrap_or_default(),
            platform: Platform::from_docker_arch(i.architecture.as_deref().unwrap_or("unknown"))?,
            size: i.size.unwrap_or(0).max(0) as u64,
        })),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(None),
        Err(e) => Err(Error::docker(format!("inspect image {reference}"), e)),
    }
}

/// The image `source` on the daemon (`short` names it in the hierarchy),
/// which must be of `given` platform when one is given.
pub async fn find(
    docker: &bollard::Docker,
    source: &str,
    short: &str,
    given: Option<Platform>,
) -> Result<Inspected, Error> {
    let found = inspect(docker, source)
        .await?
        .ok_or_else(|| HookError::ImageNotFound {
            image: source.to_string(),
            short: short.to_string(),
        })?;
    match given {
        Some(given) if given != found.platform => Err(HookError::PlatformMismatch {
            image: source.to_string(),
            actual: found.platform.to_string(),
            given: given.to_string(),
        }
        .into()),
        _ => Ok(found),
    }
}

/// Points `{name}:{tag}` at `source` for every tag. If one fails, the tags
/// already moved are put back as they were (restored or removed), so the
/// image never ends up with part of its tag set. The caller can still undo
/// the whole set with [`Applied::rollback`] if its next step fails.
pub async fn apply_tags(
    docker: &bollard::Docker,
    image: &str,
    source: &str,
    name: &str,
    tags: &[String],
) -> Result<Applied, Error> {
    let mut applied = Applied {
        name: name.to_string(),
        done: Vec::new(),
    };
    for tag in tags {
        let reference = format!("{name}:{tag}");
        let before = inspect(docker, &reference)
            .await
            .ok()
            .flatten()
            .map(|i| i.id);
        let opts = TagImageOptionsBuilder::default()
            .repo(name)
            .tag(tag)
            .build();
        if let Err(source_err) = docker.tag_image(source, Some(opts)).await {
            applied.rollback(docker).await;
            return Err(HookError::Apply {
                image: image.to_string(),
                source: Box::new(source_err),
            }
            .into());
        }
        applied.done.push((tag.clone(), before));
    }
    Ok(applied)
}

/// The tags one [`apply_tags`] moved, with what each pointed at before.
#[must_use]
pub struct Applied {
    name: String,
    done: Vec<(String, Option<String>)>,
}

impl Applied {
    /// Puts every tag back as it was: restored, or removed if it is new.
    pub async fn rollback(self, docker: &bollard::Docker) {
        let name = &self.name;
        for (tag, before) in self.done.iter().rev() {
            let result = match before {
                Some(id) => {
                    let opts = TagImageOptionsBuilder::default()
                        .repo(name)
                        .tag(tag)
                        .build();
                    docker.tag_image(id, Some(opts)).await
                }
                None => {
                    let opts = RemoveImageOptionsBuilder::default().noprune(true).build();
                    docker
                        .remove_image(&format!("{name}:{tag}"), Some(opts), None)
                        .await
                        .map(|_| ())
                }
            };
            if let Err(e) = result {
                crate::console::warn(format_args!("could not restore {name}:{tag}: {e}"));
            }
        }
    }
}
