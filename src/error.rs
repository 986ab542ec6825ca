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
    #[error("`{command}` printed `{line}`: the version is followed by `{extra}` on its line, and a tag made of the version alone would hide that, so none is made; the output was:\n{output}\n  fix: make the command print the version alone, or give the tagger a rule that expects the extra words")]
    MoreThanVersion {
        command: String,
        line: String,
        extra: String,
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

    #[error("the Docker daemon went away during the run ({host} does not answer); nothing was applied for the images not finished, and their containers are removed by the next stacktag run (or `stacktag gc`) once the daemon is back\n  fix: start the daemon again (`scripts/docker-up`) and run the same command")]
    DaemonGone { host: String },

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

    #[error("the container of {image} stopped {when} ({state}); stacktag keeps it alive with its own keep-alive program, so something else stopped it: `docker stop`/`docker kill`, the kernel (out of memory), or one of its commands\n  fix: run the hook again; if it stops again, look at `docker events` while it runs")]
    ContainerStopped {
        image: String,
        /// `right after it started`, `while its commands ran`.
        when: &'static str,
        state: String,
    },

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
    /// stdout or stderr was closed (a pipe whose reader left), as SIGPIPE would.
    pub const CLOSED_OUTPUT: i32 = 141;
    pub const TERMINATED: i32 = 143;
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) | Error::UnknownPlatform(_) => exit::CONFIG,
            Error::ImageNotFound { .. } | Error::PlatformMismatch { .. } => exit::IMAGE,
            Error::Tagger { .. } | Error::Manifest { .. } | Error::BadTag { .. } => exit::COMMAND,
            Error::Connect { .. }
            | Error::Docker { .. }
            | Error::Apply { .. }
            | Error::DaemonGone { .. } => exit::DOCKER,
            Error::ContainerStopped { .. } => exit::IMAGE,
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
            Error::Interrupted(crate::guard::CLOSED_OUTPUT) => exit::CLOSED_OUTPUT,
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
