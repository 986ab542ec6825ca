//! The commit of the repository that holds the Dockerfiles.

use std::path::Path;

use crate::error::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// Full 40-character hash.
    pub sha: String,
    /// Full message, trailing whitespace removed.
    pub message: String,
}

impl Commit {
    /// HEAD of the repository that contains `dir`.
    pub fn head(dir: &Path) -> Result<Commit, Error> {
        let git = |source| Error::Git {
            path: dir.to_path_buf(),
            source,
        };
        let repo = git2::Repository::discover(dir).map_err(git)?;
        let commit = repo.head().and_then(|h| h.peel_to_commit()).map_err(git)?;
        Ok(Commit {
            sha: commit.id().to_string(),
            message: String::from_utf8_lossy(commit.message_bytes())
                .trim_end()
                .to_string(),
        })
    }
}
