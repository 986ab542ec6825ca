//! What can go wrong in `stacktag build`, each naming the image and the fix.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{image}: no build context at {dir}\n  fix: create it with a Dockerfile, or set `context:` for the image in the hierarchy file")]
    NoContext { image: String, dir: PathBuf },

    #[error("{image}: cannot read the Dockerfile {path}: {why}\n  fix: add it, or set `dockerfile:` (relative to the context) for the image in the hierarchy file")]
    NoDockerfile {
        image: String,
        path: PathBuf,
        why: String,
    },

    #[error("{image}: {path}: {message}\n  fix: correct the pattern (the syntax of the docker CLI's .dockerignore)")]
    BadIgnore {
        image: String,
        path: PathBuf,
        message: String,
    },

    #[error("{image}: has no variant `{variant}` (its variants: {known})\n  fix: build it without --variant, or add the variant to its `variants:`")]
    UnknownVariant {
        image: String,
        variant: String,
        known: String,
    },

    #[error("{image}: the unhashed build arg {name} is not set in the environment\n  fix: export {name} before the build (its value is passed to the build, never hashed or logged)")]
    MissingSecret { image: String, name: String },

    #[error("--build-arg {0:?} is not NAME=VALUE")]
    BadBuildArg(String),

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{image}: the build failed: {message}\n  last lines of {log}:\n{tail}\n  `latest` was not moved")]
    Failed {
        image: String,
        message: String,
        log: PathBuf,
        tail: String,
    },

    #[error("{image}: verify `{command}` failed ({status}); `latest` was not moved and its children were not built\n  last lines of its output (all of it in {log}):\n{tail}")]
    Verify {
        image: String,
        command: String,
        status: String,
        log: PathBuf,
        tail: String,
    },

    #[error("{image}: not built: its parent {parent} failed")]
    ParentFailed { image: String, parent: String },

    #[error("{image}: Docker: {what}: {source}")]
    Docker {
        image: String,
        what: String,
        source: Box<bollard::errors::Error>,
    },
}
