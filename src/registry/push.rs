//! Push through the Docker daemon (`POST /images/{name}/push`), one call per
//! tag, with the credentials sent as `X-Registry-Auth`. The daemon reports
//! failures inside the progress stream, as text only: they are sorted here into
//! credentials refused, worth a retry, or final. Before the first push, the
//! credentials are tried on the registry's API, so a wrong password is a typed
//! 401 and not a guess from a message.

use std::io::{IsTerminal, Write};

use bollard::query_parameters::PushImageOptionsBuilder;
use futures_util::StreamExt;

use super::client::Registry;
use super::credentials::Found;
use super::error::RegistryError;
use super::retry::{retry, Policy};
use crate::error::Error;
use crate::error::HookError;

/// One tag pushed, with the digest the registry now has for it (as `push
/// --format json` lists it).
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Pushed {
    #[schemars(with = "crate::formats::schema::Tag")]
    pub tag: String,
    /// `{name}:{tag}`.
    pub reference: String,
    #[schemars(with = "crate::formats::schema::Digest")]
    pub digest: String,
}

/// How a failed push call should be handled.
#[derive(Debug)]
enum Failure {
    Transient(String),
    Unauthorized,
    Denied,
    Final(String),
    Daemon(bollard::errors::Error),
}

/// Sorts the daemon's error text (it has no code to go by).
fn sort(message: &str) -> Failure {
    let m = message.to_ascii_lowercase();
    let any = |words: &[&str]| words.iter().any(|w| m.contains(w));
    if any(&[
        "unauthorized",
        "authentication required",
        "no basic auth credentials",
    ]) {
        Failure::Unauthorized
    } else if any(&["denied", "forbidden"]) {
        Failure::Denied
    } else if any(&[
        "connection refused",
        "connection reset",
        "broken pipe",
        "eof",
        "timeout",
        "timed out",
        "no route to host",
        "tls handshake",
        "500 internal server error",
        "502 bad gateway",
        "503 service unavailable",
        "504 gateway timeout",
        "429 too many requests",
    ]) {
        Failure::Transient(message.to_string())
    } else {
        Failure::Final(message.to_string())
    }
}

/// The progress line on a terminal; nothing otherwise. The daemon's stream
/// (as bollard models it) carries no layer id, so layers are told apart by
/// their size, which is good enough for a progress line.
struct Meter {
    tty: bool,
    quiet: bool,
    layers: std::cell::RefCell<std::collections::HashMap<i64, i64>>,
    dirty: std::cell::Cell<bool>,
}

impl Meter {
    fn new(quiet: bool) -> Self {
        Meter {
            tty: std::io::stderr().is_terminal(),
            quiet,
            layers: Default::default(),
            dirty: Default::default(),
        }
    }

    fn show(&self, reference: &str, info: &bollard::models::PushImageInfo) {
        if !self.tty || self.quiet {
            return;
        }
        let mut layers = self.layers.borrow_mut();
        if let Some((current, total)) = info
            .progress_detail
            .as_ref()
            .and_then(|d| Some((d.current?, d.total?)))
            .filter(|(_, total)| *total > 0)
        {
            layers.insert(total, current.min(total));
        }
        let (sent, size) = layers
            .iter()
            .fold((0, 0), |(s, t), (total, cur)| (s + cur, t + total));
        let status = info.status.as_deref().unwrap_or("");
        let bytes = |n: i64| crate::console::size(n.max(0) as u64);
        let line = if size > 0 {
            format!(
                "{reference}: {} of {} sent ({} layers); {status}",
                bytes(sent),
                bytes(size),
                layers.len()
            )
        } else {
            format!("{reference}: {status}")
        };
        let line: String = line.chars().take(150).collect();
        let _ = write!(std::io::stderr().lock(), "\r\x1b[2K{line}");
        self.dirty.set(true);
    }

    fn clear(&self) {
        self.layers.borrow_mut().clear();
        if self.dirty.replace(false) {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[2K");
        }
    }
}

async fn push_once(
    docker: &bollard::Docker,
    name: &str,
    tag: &str,
    found: &Found,
    registry: &str,
    meter: &Meter,
) -> Result<(), Failure> {
    let opts = PushImageOptionsBuilder::default().tag(tag).build();
    let mut stream = docker.push_image(name, Some(opts), found.credentials.for_daemon(registry));
    let reference = format!("{name}:{tag}");
    let mut result = Ok(());
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => meter.show(&reference, &info),
            Err(bollard::errors::Error::DockerStreamError { error }) => {
                result = Err(sort(&error));
                break;
            }
            Err(e) => {
                result = Err(Failure::Daemon(e));
                break;
            }
        }
    }
    meter.clear();
    result
}

/// Pushes `{name}:{tag}` for every tag, in order, then reads each digest back
/// from the registry. `log` gets one line per tag pushed.
#[allow(clippy::too_many_arguments)]
pub async fn push(
    docker: &bollard::Docker,
    registry: &Registry,
    found: &Found,
    repository: &str,
    image: &str,
    tags: &[String],
    policy: &Policy,
    quiet: bool,
    mut log: impl FnMut(&str),
) -> Result<Vec<Pushed>, Error> {
    let name = format!("{}/{repository}", registry.host);
    if let Some(first) = tags.first() {
        registry
            .check_access(&registry.reference(repository, first))
            .await?;
    }
    for tag in tags {
        let reference = format!("{name}:{tag}");
        if crate::hook::image::inspect(docker, &reference)
            .await?
            .is_none()
        {
            return Err(HookError::ImageNotFound {
                image: reference,
                short: image.to_string(),
            }
            .into());
        }
    }
    let meter = Meter::new(quiet);
    let mut pushed = Vec::new();
    for tag in tags {
        let reference = format!("{name}:{tag}");
        let what = format!("pushing {reference}");
        let outcome = retry(
            policy,
            |f: &Failure| matches!(f, Failure::Transient(_)),
            |n, f, wait| {
                if let Failure::Transient(m) = f {
                    crate::console::line(format_args!(
                        "stacktag: {what}: {m}; try {n} in {:.1}s",
                        wait.as_secs_f64()
                    ));
                }
            },
            || push_once(docker, &name, tag, found, &registry.host, &meter),
        )
        .await;
        match outcome {
            Ok(()) => {}
            Err((failure, tries)) => {
                return Err(match failure {
                    Failure::Unauthorized => RegistryError::Unauthorized {
                        registry: registry.host.clone(),
                        what,
                        credentials: found.source,
                    }
                    .into(),
                    Failure::Denied => RegistryError::Denied {
                        registry: registry.host.clone(),
                        what,
                        credentials: found.source,
                    }
                    .into(),
                    Failure::Transient(detail) => RegistryError::Unreachable {
                        registry: registry.host.clone(),
                        what,
                        detail,
                        tries,
                    }
                    .into(),
                    Failure::Final(detail) => RegistryError::Push { reference, detail }.into(),
                    Failure::Daemon(e) => Error::docker(what, e),
                })
            }
        }
        let digest = registry
            .digest(&registry.reference(repository, tag))
            .await?;
        log(&format!(
            "pushed {reference} ({}/{})",
            pushed.len() + 1,
            tags.len()
        ));
        pushed.push(Pushed {
            tag: tag.clone(),
            reference: reference.clone(),
            digest,
        });
    }
    Ok(pushed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daemon_messages_are_sorted() {
        // Messages as Docker 20.10 words them.
        assert!(matches!(
            sort("unauthorized: authentication required"),
            Failure::Unauthorized
        ));
        assert!(matches!(
            sort("denied: requested access to the resource is denied"),
            Failure::Denied
        ));
        assert!(matches!(
            sort("Get \"http://127.0.0.1:5999/v2/\": dial tcp 127.0.0.1:5999: connect: connection refused"),
            Failure::Transient(_)
        ));
        assert!(matches!(
            sort("received unexpected HTTP status: 503 Service Unavailable"),
            Failure::Transient(_)
        ));
        assert!(matches!(
            sort("manifest invalid: manifest invalid"),
            Failure::Final(_)
        ));
    }
}
