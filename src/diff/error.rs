//! Why two builds cannot be compared.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("{path}: not a build manifest: {message}")]
    BadManifest { path: PathBuf, message: String },

    #[error("refused: {old} is `{old_ref}` and {new} is `{new_ref}`, builds of different images (or platforms, or variants)")]
    DifferentImages {
        old: PathBuf,
        new: PathBuf,
        old_ref: String,
        new_ref: String,
    },

    #[error("the wiki at {wiki} has no build of `{image}` ({what}){known}")]
    NotInWiki {
        wiki: PathBuf,
        image: String,
        what: String,
        /// `; it has builds of: a, b` when it has any.
        known: String,
    },
}
