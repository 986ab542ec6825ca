//! A file that could not be read or written, or is not what it should be.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{path}: {source}", path = .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{path}: {message}", path = .path.display())]
    Bad { path: PathBuf, message: String },
}
