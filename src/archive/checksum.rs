//! `{archive}.sha256` beside each archive, in `sha256sum` format
//! (`{hex}  {file name}`), so `sha256sum -c` checks it too.

use std::path::{Path, PathBuf};

use super::codec::sha256_file;
use super::error::ArchiveError;
use crate::error::Error;

pub fn sum_path(archive: &Path) -> PathBuf {
    let mut name = archive.as_os_str().to_owned();
    name.push(".sha256");
    PathBuf::from(name)
}

pub fn line(hex: &str, archive: &Path) -> String {
    let file = archive.file_name().map_or_else(
        || archive.display().to_string(),
        |f| f.to_string_lossy().to_string(),
    );
    format!("{hex}  {file}\n")
}

/// Checks the archive against its `.sha256`: the sum, and that the sum is
/// of a file of this name.
pub fn verify(archive: &Path) -> Result<(), Error> {
    let expected = expected(archive)?;
    let actual = sha256_file(archive).map_err(|e| Error::io(archive, e))?;
    compare(archive, &expected, &actual)
}

/// The sha256 the `.sha256` beside `archive` gives, lowercase, once it is
/// known to be the checksum of a file of this name.
pub fn expected(archive: &Path) -> Result<String, Error> {
    let sum_file = sum_path(archive);
    let missing = || ArchiveError::NoChecksum {
        path: archive.into(),
        sum_file: sum_file.clone(),
    };
    let text = match std::fs::read_to_string(&sum_file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(missing().into()),
        Err(e) => return Err(Error::io(&sum_file, e)),
    };
    let first = text.lines().next().unwrap_or("");
    let (expected, named) = first.split_once(' ').ok_or_else(missing)?;
    let named = named.trim_start_matches([' ', '*']);
    if expected.len() != 64 || !expected.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(missing().into());
    }
    let own = archive
        .file_name()
        .map(|f| f.to_string_lossy().to_string())
        .unwrap_or_default();
    if Path::new(named)
        .file_name()
        .map(|f| f.to_string_lossy().to_string())
        != Some(own)
    {
        return Err(ArchiveError::ChecksumOfOther {
            path: archive.into(),
            sum_file,
            named: named.to_string(),
        }
        .into());
    }
    Ok(expected.to_lowercase())
}

/// The file's sha256 (`actual`, computed by the caller) against `expected`.
pub fn compare(archive: &Path, expected: &str, actual: &str) -> Result<(), Error> {
    if actual.eq_ignore_ascii_case(expected) {
        return Ok(());
    }
    Err(ArchiveError::Checksum {
        path: archive.into(),
        sum_file: sum_path(archive),
        expected: expected.to_lowercase(),
        actual: actual.to_string(),
    }
    .into())
}
