//! The registry as a cache of builds: an image is pushed under
//! `inputs-{16 hex}` (`--push-cache`) and, on another machine or after the
//! local store was emptied, pulled instead of built (`--cache-from-registry`).
//! Existence is asked of the registry's API (typed 401/403); pull and push
//! go through the daemon, with the same credentials as `stacktag push`.
//! (Not `registry::push`, whose progress meter is for a terminal and not `Send`.)

use bollard::query_parameters::{CreateImageOptionsBuilder, PushImageOptionsBuilder};
use futures_util::StreamExt;

use crate::error::Error;
use crate::registry::credentials::{self, Found, Given};
use crate::registry::retry::Policy;
use crate::registry::{Registry, RegistryError};

const TRIES: u32 = 5;

pub struct RegistryCache {
    registry: Registry,
    found: Found,
    /// The registry host (`docker.io` when the hierarchy names none).
    pub host: String,
}

impl RegistryCache {
    /// For the images named `{registry}/…`; credentials as `stacktag push`
    /// finds them (environment, then the Docker config), never from stdin.
    pub fn new(registry: &str) -> Result<RegistryCache, Error> {
        let host = if registry.is_empty() {
            "docker.io".to_string()
        } else {
            registry.to_string()
        };
        let found = credentials::lookup(&host, Given::default())?;
        Ok(RegistryCache {
            registry: Registry::new(&host, &found, Policy::new(TRIES)),
            found,
            host,
        })
    }

    /// `{host}/{repository}`: the image name the daemon pulls and pushes.
    pub fn name(&self, repository: &str) -> String {
        format!("{}/{repository}", self.host)
    }

    /// The credentials the daemon (or BuildKit's session) is given for the registry.
    pub fn daemon_credentials(&self) -> Option<bollard::auth::DockerCredentials> {
        self.found.credentials.for_daemon(&self.host)
    }

    /// Whether the registry has `{repository}:{tag}`.
    pub async fn has(&self, repository: &str, tag: &str) -> Result<bool, Error> {
        match self
            .registry
            .digest(&self.registry.reference(repository, tag))
            .await
        {
            Ok(_) => Ok(true),
            Err(RegistryError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Pulls `{host}/{repository}:{tag}` through the daemon; `false` when the
    /// registry has no such tag.
    pub async fn pull(
        &self,
        docker: &bollard::Docker,
        repository: &str,
        tag: &str,
    ) -> Result<bool, Error> {
        if !self.has(repository, tag).await? {
            return Ok(false);
        }
        let name = self.name(repository);
        let opts = CreateImageOptionsBuilder::default()
            .from_image(&name)
            .tag(tag)
            .build();
        let mut stream = docker.create_image(
            Some(opts),
            None,
            self.found.credentials.for_daemon(&self.host),
        );
        while let Some(item) = stream.next().await {
            if let Err(e) = item {
                let detail = match e {
                    bollard::errors::Error::DockerStreamError { error } => error,
                    other => other.to_string(),
                };
                return Err(RegistryError::Protocol {
                    registry: self.host.clone(),
                    what: format!("pulling {name}:{tag}"),
                    detail,
                }
                .into());
            }
        }
        Ok(true)
    }

    /// Pushes `{host}/{repository}:{tag}` (already tagged on the daemon).
    pub async fn push(
        &self,
        docker: &bollard::Docker,
        repository: &str,
        tag: &str,
    ) -> Result<(), Error> {
        let reference = self.registry.reference(repository, tag);
        // A wrong password is a typed 401 from the API, not a guess from the daemon's text.
        self.registry.check_access(&reference).await?;
        let name = self.name(repository);
        let opts = PushImageOptionsBuilder::default().tag(tag).build();
        let mut stream = docker.push_image(
            &name,
            Some(opts),
            self.found.credentials.for_daemon(&self.host),
        );
        while let Some(item) = stream.next().await {
            let detail = match item {
                Ok(info) => match info.error_detail.and_then(|d| d.message) {
                    Some(m) => m,
                    None => continue,
                },
                Err(bollard::errors::Error::DockerStreamError { error }) => error,
                Err(e) => e.to_string(),
            };
            return Err(RegistryError::Push {
                reference: format!("{name}:{tag}"),
                detail,
            }
            .into());
        }
        Ok(())
    }
}
