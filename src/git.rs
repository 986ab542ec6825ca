//! The commit of the repository that holds the Dockerfiles.

use std::path::{Path, PathBuf};

/// A git repository that cannot be read, with where.
#[derive(Debug, thiserror::Error)]
#[error("git repository at {path}: {}", message(.source), path = .path.display())]
pub struct GitError {
    pub path: PathBuf,
    pub source: git2::Error,
}

impl GitError {
    /// The error of a git2 call on the repository around `path`.
    pub fn at(path: &Path) -> impl Fn(git2::Error) -> GitError + Copy + '_ {
        move |source| GitError {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// git2's message without its `class=…; code=…` suffix, which says nothing to a user.
fn message(e: &git2::Error) -> String {
    let m = e.message();
    match e.code() {
        git2::ErrorCode::NotFound if e.class() == git2::ErrorClass::Repository => {
            format!("not a git repository (nor any parent folder): {m}")
        }
        git2::ErrorCode::UnbornBranch => "the repository has no commit yet".to_string(),
        _ => m.to_string(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// Full 40-character hash.
    pub sha: String,
    /// Full message, trailing whitespace removed.
    pub message: String,
}

impl Commit {
    /// HEAD of the repository that contains `dir`.
    pub fn head(dir: &Path) -> Result<Commit, GitError> {
        let git = GitError::at(dir);
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
