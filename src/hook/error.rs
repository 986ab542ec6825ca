//! What can go wrong in a run against the Docker daemon: reaching it, finding
//! an image, its container, its taggers and manifests, applying its tags, a
//! signal. Each names the image and what to do.

use std::fmt;

use crate::plugin::error::PluginError;

#[derive(Debug, thiserror::Error)]
pub enum HookError {
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

    /// The CLI says how to name it or build it.
    #[error("image {image} not found on the Docker daemon")]
    ImageNotFound { image: String, short: String },

    #[error("image {image} is {actual}, but the platform given is {given}")]
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

    #[error("{image}: tagger `{tagger}`{origin} failed: {source}")]
    Tagger {
        image: String,
        tagger: String,
        /// ` (from image `x`, hierarchy.yaml:12)`: where the image gets it.
        origin: String,
        source: Box<PluginError>,
    },

    #[error("{image}: manifest `{manifest}`{origin} failed: {source}")]
    Manifest {
        image: String,
        manifest: String,
        origin: String,
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

    #[error("interrupted by {0}; containers removed, nothing applied for unfinished images")]
    Interrupted(Stop),
}

impl HookError {
    /// The image (short name) the error is about, when it names one.
    pub fn image(&self) -> Option<&str> {
        match self {
            HookError::ImageNotFound { short: image, .. }
            | HookError::ContainerStopped { image, .. }
            | HookError::Tagger { image, .. }
            | HookError::Manifest { image, .. }
            | HookError::BadTag { image, .. }
            | HookError::Apply { image, .. } => Some(image),
            _ => None,
        }
    }
}

/// Why a run stopped before its work was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM.
    Terminate,
    /// A write to stdout or stderr failed (a closed pipe), as SIGPIPE would.
    OutputClosed,
    /// The work's task was cancelled.
    Cancelled,
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stop::Interrupt => "SIGINT",
            Stop::Terminate => "SIGTERM",
            Stop::OutputClosed => "a closed stdout or stderr",
            Stop::Cancelled => "cancellation",
        })
    }
}
