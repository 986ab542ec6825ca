//! The library's error: each module's own, wrapped. The CLI maps it to an exit code
//! from its one table (`cli::exit`, docs/exit-codes.md) and adds hints naming options.

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
