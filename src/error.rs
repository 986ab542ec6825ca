//! Typed errors of the library. Each carries what the user needs to act:
//! the image, the command, the file and line. The binary maps them to exit
//! codes (see [`Error::exit_code`] and docs/exit-codes.md).

use std::path::PathBuf;

use crate::hook::command::ExecError;

pub use crate::hierarchy::ConfigError;

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

    #[error("no {file} in {dir}: stacktag reads the stack from the hierarchy file and does not guess\n  fix: run stacktag in the stack's directory, or pass --config FILE (or set STACKTAG_CONFIG)", file = crate::hierarchy::defaults::FILE, dir = .dir.display())]
    NoHierarchy { dir: PathBuf },

    #[error("cannot read the hierarchy file {path}: {source}\n  fix: check the path given to --config (or STACKTAG_CONFIG)", path = .path.display())]
    Hierarchy {
        path: PathBuf,
        source: std::io::Error,
    },

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

    #[error("image {image} not found on the Docker daemon\n  fix: build it first (`stacktag build {short}`, or `docker build -t {image} <its folder>`), or name it as it is with --registry/--owner (or `registry:`/`owner:` in the hierarchy file)")]
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

    #[error("git repository at {path}: {}\n  fix: run stacktag inside the stack's git checkout (with a commit), or pass --repo-dir", git_message(.source), path = .path.display())]
    Git { path: PathBuf, source: git2::Error },

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{path}: {message}")]
    BadFile { path: PathBuf, message: String },

    #[error("{0}")]
    Usage(String),

    #[error("interrupted by {0}; containers removed, nothing applied for unfinished images")]
    Interrupted(&'static str),

    #[error(transparent)]
    Wiki(#[from] crate::wiki::WikiError),

    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),

    #[error(transparent)]
    Archive(#[from] crate::archive::ArchiveError),

    #[error(transparent)]
    Build(#[from] crate::build::BuildError),

    #[error(transparent)]
    Sbom(#[from] crate::sbom::SbomError),

    #[error(transparent)]
    Diff(#[from] crate::diff::DiffError),

    #[error(transparent)]
    Ci(#[from] crate::ci::check::CiError),

    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),

    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Several(Vec<Error>),

    /// Some images of a run failed; the others were tagged.
    #[error("{}\n{} of {} images not tagged ({}); {}", .errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"), .failed.len(), .failed.len() + .tagged.len(), .failed.join(", "), tagged_list(.tagged))]
    Partial {
        tagged: Vec<crate::hook::pipeline::ImageReport>,
        failed: Vec<String>,
        errors: Vec<Error>,
    },
}

/// Documented exit codes (docs/exit-codes.md).
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
    pub const ARCHIVE: i32 = 14;
    pub const DIRTY: i32 = 15;
    pub const BUILD: i32 = 16;
    pub const VERIFY: i32 = 17;
    pub const CI_STALE: i32 = 18;
    pub const REFUSED: i32 = 19;
    pub const DELETE_UNSUPPORTED: i32 = 20;
    pub const CATALOG: i32 = 21;
    pub const INTERRUPTED: i32 = 130;
    /// stdout or stderr was closed (a pipe whose reader left), as SIGPIPE would.
    pub const CLOSED_OUTPUT: i32 = 141;
    pub const TERMINATED: i32 = 143;

    /// Every code and what it means: the one list. `--help` is made from it,
    /// and a test checks docs/exit-codes.md against it.
    pub const TABLE: &[(i32, &str)] = &[
        (OK, "success"),
        (INTERNAL, "internal error (a bug: please report it)"),
        (USAGE, "bad command line"),
        (CONFIG, "bad or missing hierarchy file; unknown image, tagger or manifest"),
        (IMAGE, "image not found on the daemon, or --platform disagrees with it"),
        (COMMAND, "a command in the container failed, hung, or gave output no tag can be made of"),
        (DOCKER, "the Docker daemon is unreachable, refused a request, or went away during the run"),
        (GIT, "git: no repository or no commit at --repo-dir"),
        (IO, "a file could not be read or written"),
        (WIKI_FORMAT, "wiki: an input manifest or history line, a wiki page or the Home template is not in the expected format (nothing was written)"),
        (WIKI_LOCKED, "wiki: another `stacktag wiki` is updating the same wiki (see --wait)"),
        (REGISTRY, "the registry is unreachable or failed (after retries), or refused a request"),
        (REGISTRY_AUTH, "the registry refused the credentials (401/403), or they could not be read"),
        (MISSING_PLATFORM, "merge: a platform image is missing in the registry; image-ref, attach: no such tag there (`--all`: every one missing is named)"),
        (ARCHIVE, "an image archive is corrupt or cut short, or does not match its checksum or its name"),
        (DIRTY, "push: a dirty build (uncommitted changes, or a version like latest, dev, *.dirty) refused without --allow-dirty"),
        (BUILD, "build: an image failed to build (its log's last lines are shown); `latest` is where it was"),
        (VERIFY, "build: an image's verify command failed; its branch is not built further and `latest` is where it was"),
        (CI_STALE, "ci check: a committed CI file is not what `stacktag ci` writes now (the diff is printed)"),
        (REFUSED, "delete, retain: refused without --force (a tag a moving tag such as latest points to, or every build); nothing was deleted"),
        (DELETE_UNSUPPORTED, "delete, retain: the registry does not allow deletes (405 UNSUPPORTED); nothing was deleted"),
        (CATALOG, "find: the catalog is missing (the wiki has none yet, or the path or URL holds none) or corrupt (a file missing or not what its format says)"),
        (INTERRUPTED, "interrupted (Ctrl-C). Containers are removed; an image whose tags were being applied gets all of them (and its files) first, the others nothing"),
        (TERMINATED, "terminated (SIGTERM), as for Ctrl-C"),
        (CLOSED_OUTPUT, "stdout or stderr was closed (piped into `head`, say): the run stopped as on Ctrl-C, quietly, containers removed"),
    ];
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) | Error::UnknownPlatform(_) => exit::CONFIG,
            Error::ImageNotFound { .. } | Error::PlatformMismatch { .. } => exit::IMAGE,
            Error::Tagger { .. } | Error::Manifest { .. } | Error::BadTag { .. } => exit::COMMAND,
            Error::Sbom(_) => exit::COMMAND,
            Error::Diff(e) => e.exit_code(),
            Error::Ci(crate::ci::check::CiError::Stale { .. }) => exit::CI_STALE,
            Error::Ci(_) => exit::IO,
            Error::Catalog(e) => e.exit_code(),
            Error::Connect { .. }
            | Error::Docker { .. }
            | Error::Apply { .. }
            | Error::DaemonGone { .. } => exit::DOCKER,
            Error::ContainerStopped { .. } => exit::IMAGE,
            Error::Git { .. } => exit::GIT,
            Error::Io { .. } | Error::BadFile { .. } | Error::Hierarchy { .. } => exit::IO,
            Error::NoHierarchy { .. } => exit::CONFIG,
            Error::Usage(_) => exit::USAGE,
            Error::Wiki(e) => e.exit_code(),
            Error::Build(e) => e.exit_code(),
            Error::Registry(e) => {
                use crate::registry::RegistryError as R;
                match e {
                    R::Unauthorized { .. }
                    | R::Denied { .. }
                    | R::DeleteDenied { .. }
                    | R::Credentials { .. } => exit::REGISTRY_AUTH,
                    R::Refused { .. } => exit::REFUSED,
                    R::DeleteUnsupported { .. } => exit::DELETE_UNSUPPORTED,
                    R::MissingPlatform { .. } | R::NotFound { .. } | R::WrongPlatform { .. } => {
                        exit::MISSING_PLATFORM
                    }
                    R::NoTagsFile { .. } | R::BadTagsFile { .. } => exit::IO,
                    R::Unreachable { .. }
                    | R::Server { .. }
                    | R::Protocol { .. }
                    | R::DigestMismatch { .. }
                    | R::Push { .. } => exit::REGISTRY,
                }
            }
            Error::Archive(crate::archive::ArchiveError::Dirty { .. }) => exit::DIRTY,
            Error::Archive(crate::archive::ArchiveError::BadVersion { .. }) => exit::USAGE,
            Error::Archive(_) => exit::ARCHIVE,
            Error::Interrupted("SIGTERM") => exit::TERMINATED,
            Error::Interrupted(crate::hook::guard::CLOSED_OUTPUT) => exit::CLOSED_OUTPUT,
            Error::Interrupted(_) => exit::INTERRUPTED,
            // The most severe one wins: the first failure's code.
            Error::Several(all) | Error::Partial { errors: all, .. } => {
                all.first().map_or(exit::INTERNAL, Error::exit_code)
            }
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

/// git2's message without its `class=…; code=…` suffix, which says nothing to a user.
fn git_message(e: &git2::Error) -> String {
    let m = e.message();
    match e.code() {
        git2::ErrorCode::NotFound if e.class() == git2::ErrorClass::Repository => {
            format!("not a git repository (nor any parent folder): {m}")
        }
        git2::ErrorCode::UnbornBranch => "the repository has no commit yet".to_string(),
        _ => m.to_string(),
    }
}

fn tagged_list(tagged: &[crate::hook::pipeline::ImageReport]) -> String {
    if tagged.is_empty() {
        return "no image was tagged".into();
    }
    let names: Vec<&str> = tagged.iter().map(|r| r.info.image.as_str()).collect();
    format!("tagged, with their files written: {}", names.join(", "))
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
