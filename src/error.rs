//! The library's error: each module's own, wrapped. The CLI maps it to an exit code
//! (`cli::exit`) from the one table here (docs/exit-codes.md) and adds hints naming options.

pub use crate::file::FileError;
pub use crate::formats::tags::UnknownPlatform;
pub use crate::git::GitError;
pub use crate::hierarchy::error::{ConfigError, HierarchyError};
pub use crate::hook::error::{HookError, Stop};
pub use crate::plugin::error::PluginError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Hierarchy(#[from] HierarchyError),
    #[error(transparent)]
    Hook(#[from] HookError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Platform(#[from] UnknownPlatform),
    #[error(transparent)]
    Wiki(#[from] crate::wiki::error::WikiError),
    #[error(transparent)]
    Registry(#[from] crate::registry::error::RegistryError),
    #[error(transparent)]
    Archive(#[from] crate::archive::error::ArchiveError),
    #[error(transparent)]
    Build(#[from] crate::build::error::BuildError),
    #[error(transparent)]
    Sbom(#[from] crate::sbom::SbomError),
    #[error(transparent)]
    Diff(#[from] crate::diff::error::DiffError),
    #[error(transparent)]
    Catalog(#[from] crate::catalog::error::CatalogError),
    #[error(transparent)]
    Ci(#[from] crate::ci::check::CiError),
    /// A command line that asks for something that cannot be (exit 2).
    #[error("{0}")]
    Usage(String),
    /// Several failures, the most severe first.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Several(Vec<Error>),

    /// Some images of a run failed (each with its error); the others were tagged.
    #[error("{}\n{}", .errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"), partial_summary(.tagged, .failed))]
    Partial {
        tagged: Vec<String>,
        failed: Vec<String>,
        errors: Vec<Error>,
    },
}

/// `1 of 3 images not tagged (b); tagged, with their files written: a, c`.
pub fn partial_summary(tagged: &[String], failed: &[String]) -> String {
    let done = match tagged.is_empty() {
        true => "no image was tagged".to_string(),
        false => format!("tagged, with their files written: {}", tagged.join(", ")),
    };
    let (n, all) = (failed.len(), failed.len() + tagged.len());
    format!(
        "{n} of {all} images not tagged ({}); {done}",
        failed.join(", ")
    )
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
        (MISSING_PLATFORM, "merge: a platform image is missing in the registry; image-ref, attach: no such tag there (`--digests`: every one missing is named)"),
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
    pub(crate) fn io(path: impl Into<std::path::PathBuf>, source: std::io::Error) -> Self {
        FileError::Io {
            path: path.into(),
            source,
        }
        .into()
    }

    pub(crate) fn docker(what: impl Into<String>, source: bollard::errors::Error) -> Self {
        HookError::Docker {
            what: what.into(),
            source: Box::new(source),
        }
        .into()
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
