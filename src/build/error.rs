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

    /// The fix names the option that asked for it: the CLI adds it.
    #[error("{image}: has no variant `{variant}` (its variants: {known})")]
    UnknownVariant {
        image: String,
        variant: String,
        known: String,
    },

    #[error("{image}: the unhashed build arg {name} is not set in the environment\n  fix: export {name} before the build (its value is passed to the build, never hashed or logged)")]
    MissingSecret { image: String, name: String },

    /// A build arg given to the run (the CLI's `--build-arg`) that is not
    /// `NAME=VALUE`; the CLI names the option.
    #[error("build arg {0:?} is not NAME=VALUE")]
    BadBuildArg(String),

    /// A secret given to the run (the CLI's `--secret`) that does not
    /// parse; the CLI names the option (as for the three below).
    #[error("secret {text:?}: {why}\n  fix: write it as id=NAME,src=FILE or id=NAME,env=VARIABLE")]
    BadSecret { text: String, why: String },

    #[error("secret {id}: cannot read {path}: {why}\n  fix: give a file that exists and can be read, or take the secret from a variable: id={id},env=VARIABLE")]
    SecretFile {
        id: String,
        path: PathBuf,
        why: String,
    },

    #[error("secret {id}: the environment variable {var} is not set\n  fix: export {var} before the build, or read the secret from a file: id={id},src=FILE")]
    SecretEnv { id: String, var: String },

    /// The fix names the option that gives secrets: the CLI adds it.
    #[error("{image}: needs the secret `{id}` (its `secrets:` in the hierarchy file), and none of the run's secrets gives it{given}")]
    UnknownSecret {
        image: String,
        id: String,
        given: String,
    },

    /// `fallback`: the daemon has no BuildKit (the fix is another daemon);
    /// otherwise the classic builder was asked for, and the CLI says how
    /// not to ask for it.
    #[error("{image}: {what} needs BuildKit, and this build goes through the classic builder ({why}){}", if *.fallback { "\n  fix: build on a daemon with BuildKit (Docker 18.09 or newer on Linux, without \"features\": {\"buildkit\": false} in its daemon.json), or write the Dockerfile without it" } else { "" })]
    NeedsBuildKit {
        image: String,
        what: String,
        why: String,
        fallback: bool,
    },

    /// The platform the run builds for (the CLI's `--platform`), refused
    /// before any build; the CLI names the option.
    #[error("platform {platform}: {why}\n  fix: {fix}")]
    Platform {
        platform: String,
        why: String,
        fix: String,
    },

    /// A platform other than the daemon's, asked of the classic builder;
    /// the CLI says how to build with BuildKit instead.
    #[error(
        "platform {platform}: the classic builder builds only for the daemon's platform ({native})"
    )]
    ClassicPlatform { platform: String, native: String },

    /// `at`: the Dockerfile's path and line, `images/base/Dockerfile:2`;
    /// `problem`: what is wrong, then the line itself.
    #[error("{image}: {at}: {problem}\n  fix: {fix}\n  `latest` was not moved")]
    Frontend {
        image: String,
        at: String,
        problem: String,
        fix: String,
    },

    /// `step`: its name and how it ended, "`[2/3] RUN make` failed (exit code 2)".
    #[error("{image}: the step {step}\n  last lines of its output (all of the build in {log}):\n{tail}\n  `latest` was not moved")]
    StepFailed {
        image: String,
        step: String,
        log: PathBuf,
        tail: String,
    },

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
