//! What can go wrong talking to a registry, with what the user can do about it.
//! No variant ever holds a credential: messages name where credentials came
//! from, never what they are.

use std::fmt;
use std::path::PathBuf;

/// Where the credentials in use came from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialSource {
    /// The user name and password the caller gave (the CLI's `--username`
    /// with `--password-stdin`, which it names in its messages).
    Flags,
    /// `STACKTAG_REGISTRY_USER` / `STACKTAG_REGISTRY_PASSWORD`.
    Env,
    /// The Docker config file (`auths`).
    DockerConfig,
    /// A Docker credential helper named by the Docker config.
    Helper,
    /// No credentials were found: anonymous access.
    Anonymous,
}

impl CredentialSource {
    /// How [`CredentialSource::Flags`] reads in a message.
    pub const GIVEN: &'static str = "the user name and password given";
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CredentialSource::Flags => Self::GIVEN,
            CredentialSource::Env => "STACKTAG_REGISTRY_USER/STACKTAG_REGISTRY_PASSWORD",
            CredentialSource::DockerConfig => {
                "the Docker config (DOCKER_CONFIG or ~/.docker/config.json)"
            }
            CredentialSource::Helper => "the Docker credential helper",
            CredentialSource::Anonymous => "no credentials (anonymous)",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    // The fixes that name options are the CLI's (cli::exit).
    #[error("registry {registry} answered 401 Unauthorized while {what}, using {credentials}")]
    Unauthorized {
        registry: String,
        what: String,
        credentials: CredentialSource,
    },

    #[error("registry {registry} answered 403 Denied while {what}, using {credentials}\n  fix: the account needs push (write) access to that repository; check its permissions on the registry")]
    Denied {
        registry: String,
        what: String,
        credentials: CredentialSource,
    },

    #[error("cannot reach registry {registry} while {what}: {detail} (gave up after {tries} {})\n  fix: check the registry is up (`scripts/registry-up` starts the local one) and run the same command again: it only redoes what is missing", if *.tries == 1 { "try" } else { "tries" })]
    Unreachable {
        registry: String,
        what: String,
        detail: String,
        tries: u32,
    },

    #[error("registry {registry} failed while {what}: HTTP {status}: {detail} (gave up after {tries} {})\n  fix: the registry is in trouble; run the same command again later", if *.tries == 1 { "try" } else { "tries" })]
    Server {
        registry: String,
        what: String,
        status: u16,
        detail: String,
        tries: u32,
    },

    #[error("registry {registry}: {what}: {detail}")]
    Protocol {
        registry: String,
        what: String,
        detail: String,
    },

    #[error("{reference}: not found in the registry")]
    NotFound { reference: String },

    #[error("cannot read the credentials for {registry} from {credentials}: {detail}")]
    Credentials {
        registry: String,
        credentials: CredentialSource,
        detail: String,
    },

    #[error("pushing {reference} failed: {detail}")]
    Push { reference: String, detail: String },

    #[error("no tags file of {image} (variant {variant}) in {dir}: expected {expected}\n  fix: run `stacktag hook {image}` (or `stacktag tags-file`) on each platform's build machine and gather the tags files in one directory")]
    NoTagsFile {
        image: String,
        variant: String,
        dir: PathBuf,
        expected: String,
    },

    #[error("{path}: {message}")]
    BadTagsFile { path: PathBuf, message: String },

    #[error("{dir}: no SBOM of {image} {which}", dir = .dir.display())]
    NoSbom {
        dir: PathBuf,
        image: String,
        /// `({platform}, variant {variant}, commit {sha12}): expected {stem}.spdx.json or ...`.
        which: String,
    },

    #[error("refusing to merge {image}: {} platform image(s) missing in the registry, nothing was written:\n{}", .missing.len(), .missing.iter().map(|m| format!("  - {m}")).collect::<Vec<_>>().join("\n"))]
    MissingPlatform { image: String, missing: Vec<String> },

    #[error("registry {registry} does not allow deletes ({what}: {detail}); nothing was deleted\n  fix: enable them in the registry (distribution: `storage: delete: enabled: true`, or REGISTRY_STORAGE_DELETE_ENABLED=true), or delete through the registry's web interface")]
    DeleteUnsupported {
        registry: String,
        what: String,
        detail: String,
    },

    #[error("registry {registry} refused a delete while {what}, using {credentials}: the credentials may read and push but not delete\n  fix: use an account (or a token scope) with delete access to that repository")]
    DeleteDenied {
        registry: String,
        what: String,
        credentials: CredentialSource,
    },

    /// `fix`: what to do instead; the CLI adds how to do it anyway.
    #[error("refusing to {what}: {why}; nothing was deleted")]
    Refused {
        what: String,
        why: String,
        fix: String,
    },

    #[error("{reference}: the registry has digest {actual} where {expected} was copied\n  fix: the registry rewrote the manifest; copy to a registry that keeps manifests as they are")]
    DigestMismatch {
        reference: String,
        expected: String,
        actual: String,
    },

    #[error("{reference} is a {actual} image, but its tag says {expected}\n  fix: the tag points at the wrong image; re-tag and push it from the right build")]
    WrongPlatform {
        reference: String,
        expected: String,
        actual: String,
    },
}

/// `None` for what the registry does not have (404); other errors as they are.
pub fn optional<T>(r: Result<T, RegistryError>) -> Result<Option<T>, RegistryError> {
    match r {
        Ok(found) => Ok(Some(found)),
        Err(RegistryError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

impl RegistryError {
    /// Worth another try: the network or the registry may be back soon.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            RegistryError::Unreachable { .. } | RegistryError::Server { .. }
        )
    }

    /// The cause alone, for a retry notice.
    pub fn detail(&self) -> String {
        match self {
            RegistryError::Unreachable { detail, .. } => detail.clone(),
            RegistryError::Server { status, detail, .. } => format!("HTTP {status}: {detail}"),
            other => other.to_string(),
        }
    }

    /// Records how many tries were made before giving up.
    pub(crate) fn after_tries(mut self, n: u32) -> Self {
        match &mut self {
            RegistryError::Unreachable { tries, .. } | RegistryError::Server { tries, .. } => {
                *tries = n
            }
            _ => {}
        }
        self
    }
}
