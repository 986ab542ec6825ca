//! What can be wrong with an image archive, and what to do about it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("{path}: the archive is corrupt or cut short: {detail}\n  fix: save it again (`stacktag save`) or fetch a complete copy; nothing was loaded or pushed")]
    Corrupt { path: PathBuf, detail: String },

    #[error("{path}: checksum mismatch: {sum_file} says sha256 {expected}, the file has {actual}\n  fix: the file changed after it was saved or was copied incompletely; fetch it again or save it again")]
    Checksum {
        path: PathBuf,
        sum_file: PathBuf,
        expected: String,
        actual: String,
    },

    #[error("{path}: no checksum beside it ({sum_file} is missing or not in sha256sum format)\n  fix: keep the .sha256 that `stacktag save` writes together with the archive")]
    NoChecksum { path: PathBuf, sum_file: PathBuf },

    #[error("{path}: {sum_file} is the checksum of {named}, not of this file\n  fix: the archive was renamed; give it back its own name (`stacktag save` names it after the image it holds)")]
    ChecksumOfOther {
        path: PathBuf,
        sum_file: PathBuf,
        named: String,
    },

    #[error("{path}: the name says image ID {id12}..., but the archive holds image {actual}\n  fix: the file was renamed or replaced; save the image again (`stacktag save`)")]
    NameMismatch {
        path: PathBuf,
        id12: String,
        actual: String,
    },

    #[error("{path}: not named as an image archive: expected {{image}}_{{version}}_{{id12}}.tar[.zst|.gz]\n  fix: load or push archives written by `stacktag save` under their own name")]
    BadName { path: PathBuf },

    #[error("{path}: {detail}")]
    Layout { path: PathBuf, detail: String },

    // The fix (save it there) names options: the CLI adds it.
    #[error("no archive of {image} in {dir} (named {image}_{{version}}_{{id12}}.tar[.zst|.gz])")]
    NotInDir { image: String, dir: PathBuf },

    /// The daemon's export holds a layer compressed, which the registry
    /// layout cannot take as it is; the CLI names the layout that can.
    #[error("{path}: the daemon exported layer {layer} compressed, and the registry layout takes layers as tar")]
    CompressedExport { path: PathBuf, layer: String },

    /// The archive or its checksum could not be written (a full disk, a
    /// directory that is not writable); nothing is left under `path`.
    #[error("{path}: cannot be written: {source}\n  fix: free space in {dir}; nothing was left under this name")]
    NotWritten {
        path: PathBuf,
        dir: PathBuf,
        source: std::io::Error,
    },

    #[error("version {version:?} cannot be part of an archive name\n  fix: use letters, digits, `.`, `-` and `+` only")]
    BadVersion { version: String },

    // The fix names an option: the CLI adds it (cli::exit).
    #[error("refusing to publish {image}: {reason}")]
    Dirty { image: String, reason: String },
}

impl ArchiveError {
    pub(crate) fn corrupt(path: impl Into<PathBuf>, detail: impl std::fmt::Display) -> Self {
        ArchiveError::Corrupt {
            path: path.into(),
            detail: detail.to_string(),
        }
    }
}
