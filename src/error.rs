//! Typed errors of the library. Each carries what the user needs to act:
//! the image, the command, the file and line. The binary maps them to exit
//! codes (see [`Error::exit_code`] and the README).

use std::path::PathBuf;

use crate::command::ExecError;

/// A problem in a hierarchy file, with where it is.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{path}:{line}: {message}")]
pub struct ConfigError {
    pub path: PathBuf,
    /// 1-based; 0 when the problem has no single line (an empty file).
    pub line: usize,
    pub message: String,
}

/// Why a tagger or manifest could not produce its value.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PluginError {
    #[error(transparent)]
    Exec(#[from] ExecError),
    #[error("could not find {expected} in the output of `{command}`:\n{output}")]
    Parse {
        command: String,
        expected: String,
        output: String,
    },
    #[error("{0}")]
    Other(String),
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),

    #[error("cannot reach the Docker daemon ({host}): {source}\n  fix: {fix}")]
    Connect {
        host: String,
        source: Box<bollard::errors::Error>,
        fix: &'static str,
    },

    #[error("Docker: {what}: {source}")]
    Docker {
        what: String,
        source: Box<bollard::errors::Error>,
    },

    #[error("image {image} not found on the Docker daemon\n  fix: build it first (`make build/{short}`) or pass the right --registry/--owner")]
    ImageNotFound { image: String, short: String },

    #[error("image {image} is {actual}, but --platform says {given}\n  fix: drop --platform (it is read from the image) or tag the right image")]
    PlatformMismatch {
        image: String,
        actual: String,
        given: String,
    },

    #[error("the container of {image} stopped right after it started: stacktag keeps it alive with `sleep infinity`, which this image's `sleep` does not run\n  fix: give the image a sleep that accepts `infinity` (coreutils or busybox)")]
    ContainerExited { image: String },

    #[error("unsupported platform {0:?}: stacktag knows x86_64 (amd64) and aarch64 (arm64)")]
    UnknownPlatform(String),

    #[error("{image}: tagger `{tagger}` failed: {source}")]
    Tagger {
        image: String,
        tagger: String,
        source: Box<PluginError>,
    },

    #[error("{image}: manifest `{manifest}` failed: {source}")]
    Manifest {
        image: String,
        manifest: String,
        source: Box<PluginError>,
    },

    #[error("{image}: tagger `{tagger}` gave {tag:?}, which Docker rejects as a tag (allowed: [A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}){origin}")]
    BadTag {
        image: String,
        tagger: String,
        tag: String,
        /// ` from `cmd` whose output was: ...`, when a command was involved.
        origin: String,
    },

    #[error("{image}: tagging failed; no tag was applied and none is left behind: {source}")]
    Apply {
        image: String,
        source: Box<bollard::errors::Error>,
    },

    #[error("git repository at {path}: {source}\n  fix: run stacktag inside the stack's git checkout or pass --repo-dir")]
    Git { path: PathBuf, source: git2::Error },

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{path}: {message}")]
    BadFile { path: PathBuf, message: String },

    #[error("interrupted by {0}; containers removed, nothing applied for unfinished images")]
    Interrupted(&'static str),

    #[error(transparent)]
    Wiki(#[from] crate::wiki::WikiError),

    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),

    #[error(transparent)]
    Sbom(#[from] crate::sbom::SbomError),

    #[error(transparent)]
    Diff(#[from] crate::diff::DiffError),

    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Several(Vec<Error>),
}

/// Documented exit codes (README, "Exit codes").
pub mod exit {
    pub const OK: i32 = 0;
    pub const INTERNAL: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const CONFIG: i32 = 3;
    pub const IMAGE: i32 = 4;
    pub const COMMAND: i32 = 5;
    pub const DOCKER: i32 = 6;
    pub const GIT: i32 = 7;
    pub const IO: i32 = 8;
    pub const WIKI_FORMAT: i32 = 9;
    pub const WIKI_LOCKED: i32 = 10;
    pub const REGISTRY: i32 = 11;
    pub const REGISTRY_AUTH: i32 = 12;
    pub const MISSING_PLATFORM: i32 = 13;
    pub const INTERRUPTED: i32 = 130;
    pub const TERMINATED: i32 = 143;
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) | Error::UnknownPlatform(_) => exit::CONFIG,
            Error::ImageNotFound { .. } | Error::PlatformMismatch { .. } => exit::IMAGE,
            Error::Tagger { .. } | Error::Manifest { .. } | Error::BadTag { .. } => exit::COMMAND,
            Error::Sbom(_) => exit::COMMAND,
            Error::Diff(e) => e.exit_code(),
            Error::Connect { .. } | Error::Docker { .. } | Error::Apply { .. } => exit::DOCKER,
            Error::ContainerExited { .. } => exit::IMAGE,
            Error::Git { .. } => exit::GIT,
            Error::Io { .. } | Error::BadFile { .. } => exit::IO,
            Error::Wiki(e) => e.exit_code(),
            Error::Registry(e) => {
                use crate::registry::RegistryError as R;
                match e {
                    R::Unauthorized { .. } | R::Denied { .. } | R::Credentials { .. } => {
                        exit::REGISTRY_AUTH
                    }
                    R::MissingPlatform { .. } | R::NotFound { .. } | R::WrongPlatform { .. } => {
                        exit::MISSING_PLATFORM
                    }
                    R::NoTagsFile { .. } | R::BadTagsFile { .. } => exit::IO,
                    R::Unreachable { .. }
                    | R::Server { .. }
                    | R::Protocol { .. }
                    | R::Push { .. } => exit::REGISTRY,
                }
            }
            Error::Interrupted("SIGTERM") => exit::TERMINATED,
            Error::Interrupted(_) => exit::INTERRUPTED,
            // The most severe one wins: the first failure's code.
            Error::Several(all) => all.first().map_or(exit::INTERNAL, Error::exit_code),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn docker(what: impl Into<String>, source: bollard::errors::Error) -> Self {
        Error::Docker {
            what: what.into(),
            source: Box::new(source),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
