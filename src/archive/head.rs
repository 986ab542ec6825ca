//! What `push --archive` knows of an archive before it talks to the
//! registry: the image in it (its config, and where each layer is in the
//! tar), from one pass over the whole file that checks everything: the
//! file's sha256 against its `.sha256`, the tar to its end, the image ID
//! against the name.
//!
//! The result is cached in `{cache}/{sha256}.json`, keyed by that checksum,
//! the file's name, size, modification and change times and inode: an
//! archive that has not changed since it was verified is not opened again.
//! An entry that cannot be read or does not match is ignored and written
//! anew; entries unused for 30 days are removed.

use std::fs::File;
use std::io::{self, BufReader, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::checksum;
use super::codec::{self, Decoder, HashingReader};
use super::error::ArchiveError;
use super::name::ArchiveName;
use super::scan::{self, ConfigJson, Image, Layer};
use crate::error::Error;

/// Bumped when an entry's shape or meaning changes: older ones are misses.
const FORMAT: u32 = 2;
/// Entries not used for this long go when another is written.
const KEEP: Duration = Duration::from_secs(30 * 24 * 3600);

/// The image an archive holds, checked against the archive's name and checksum.
#[derive(Debug, Clone)]
pub struct Head {
    pub path: PathBuf,
    pub name: ArchiveName,
    /// The image config as the archive has it: its sha256 is the image ID.
    pub config: Vec<u8>,
    /// `sha256:...`
    pub id: String,
    pub architecture: String,
    /// The config's `rootfs.diff_ids`, one per layer.
    pub diff_ids: Vec<String>,
    /// Where each layer is in the tar, in the same order.
    pub layers: Vec<Layer>,
    /// The registry manifest in the archive (registry layout), put as it is.
    pub manifest: Option<Vec<u8>>,
    pub source: Source,
}

/// How the head was had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// From the cache; the archive was not opened.
    Cache,
    /// From the archive, read whole (`bytes` of the file). `cache_error` says
    /// why the result could not be cached, when it could not.
    Archive {
        bytes: u64,
        cache_error: Option<String>,
    },
}

/// Where the cache is: `$XDG_CACHE_HOME/stacktag/archives`, else
/// `~/.cache/stacktag/archives`; none without either variable.
pub fn cache_dir() -> Option<PathBuf> {
    let absolute = |v: std::ffi::OsString| Some(PathBuf::from(v)).filter(|p| p.is_absolute());
    let base = std::env::var_os("XDG_CACHE_HOME")
        .and_then(absolute)
        .or_else(|| {
            std::env::var_os("HOME")
                .and_then(absolute)
                .map(|h| h.join(".cache"))
        })?;
    Some(base.join("stacktag").join("archives"))
}

/// The archive's head (blocking): from `cache` when the archive is the one
/// verified before, else read whole, verified and cached.
pub fn read(path: &Path, cache: Option<&Path>) -> Result<Head, Error> {
    let name =
        ArchiveName::parse(path).ok_or_else(|| ArchiveError::BadName { path: path.into() })?;
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    let sha256 = checksum::expected(path)?;
    let key = Key {
        file: file_name(path),
        sha256,
        stamp: Stamp::of(&meta),
    };
    let entry_path = cache.map(|dir| dir.join(format!("{}.json", key.sha256)));
    if let Some(head) = entry_path
        .as_deref()
        .and_then(|p| cached(p, path, &name, &key))
    {
        return Ok(head);
    }
    let (image, bytes) = read_verified(path, &key.sha256)?;
    image.check_named(path, &name.id12)?;
    let diff_ids: Vec<String> = image.layers.iter().map(|l| l.diff_id.clone()).collect();
    let cache_error = entry_path.and_then(|p| {
        let entry = Entry {
            format: FORMAT,
            key,
            config: String::from_utf8_lossy(&image.config).into_owned(),
            layers: image.layers.clone(),
            manifest: image
                .manifest
                .as_deref()
                .map(|m| String::from_utf8_lossy(m).into_owned()),
        };
        write_entry(&p, &entry)
            .err()
            .map(|e| format!("{}: {e}", p.display()))
    });
    Ok(Head {
        path: path.into(),
        name,
        config: image.config,
        id: image.id,
        architecture: image.architecture,
        diff_ids,
        layers: image.layers,
        manifest: image.manifest,
        source: Source::Archive { bytes, cache_error },
    })
}

/// One pass over the file: the tar scanned to its end while the file's own
/// bytes are hashed. A file that is not what its `.sha256` says is named as
/// changed (checksum mismatch) before anything else is said about it.
fn read_verified(path: &Path, expected: &str) -> Result<(Image, u64), Error> {
    let io_err = |e| Error::io(path, e);
    let file = File::open(path).map_err(io_err)?;
    let mut decoder = Decoder::new(BufReader::with_capacity(
        codec::BUF,
        HashingReader::new(file),
    ))
    .map_err(io_err)?;
    let scanned = scan::scan(path, &mut decoder, false, &mut |_, _| Ok(()));
    // Whatever follows the compressed stream counts for the checksum too.
    let mut raw = decoder.into_inner();
    codec::copy(&mut raw, &mut io::sink()).map_err(io_err)?;
    let (actual, bytes) = raw.into_inner().finish();
    checksum::compare(path, expected, &actual)?;
    Ok((scanned?.image(path)?, bytes))
}

/// What makes an entry this archive's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Key {
    /// The archive's file name.
    file: String,
    /// From its `.sha256`, which the archive matched when the entry was written.
    sha256: String,
    stamp: Stamp,
}

/// The file as the filesystem knows it: any write changes the change time,
/// which no one can set back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    size: u64,
    modified: (i64, i64),
    changed: (i64, i64),
    device: u64,
    inode: u64,
}

impl Stamp {
    fn of(m: &std::fs::Metadata) -> Stamp {
        Stamp {
            size: m.len(),
            modified: (m.mtime(), m.mtime_nsec()),
            changed: (m.ctime(), m.ctime_nsec()),
            device: m.dev(),
            inode: m.ino(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Entry {
    format: u32,
    key: Key,
    /// The image config (JSON) as the archive has it.
    config: String,
    layers: Vec<Layer>,
    /// The registry manifest (JSON) as the archive has it, if any.
    #[serde(default)]
    manifest: Option<String>,
}

/// The entry at `entry_path`, when it is this archive's and consistent
/// with itself (the config is the image of the name, with these layers).
fn cached(entry_path: &Path, path: &Path, name: &ArchiveName, key: &Key) -> Option<Head> {
    let entry: Entry = serde_json::from_slice(&std::fs::read(entry_path).ok()?).ok()?;
    if entry.format != FORMAT || entry.key != *key {
        return None;
    }
    let config = entry.config.into_bytes();
    let parsed: ConfigJson = serde_json::from_slice(&config).ok()?;
    let id = format!("sha256:{}", codec::sha256_hex(&config));
    let diff_ids = parsed.rootfs.map(|r| r.diff_ids).unwrap_or_default();
    let layers_match = diff_ids.len() == entry.layers.len()
        && diff_ids
            .iter()
            .zip(&entry.layers)
            .all(|(d, l)| *d == l.diff_id);
    if id[7..19] != name.id12 || !layers_match {
        return None;
    }
    // Used: kept from the next clean-up.
    let _ = File::options()
        .append(true)
        .open(entry_path)
        .and_then(|f| f.set_modified(SystemTime::now()));
    Some(Head {
        path: path.into(),
        name: name.clone(),
        config,
        id,
        architecture: parsed.architecture,
        diff_ids,
        layers: entry.layers,
        manifest: entry.manifest.map(String::into_bytes),
        source: Source::Cache,
    })
}

/// Writes the entry (temporary file + rename), then removes entries
/// unused for [`KEEP`].
fn write_entry(entry_path: &Path, entry: &Entry) -> io::Result<()> {
    let dir = entry_path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".entry.")
        .tempfile_in(dir)?;
    temp.write_all(&serde_json::to_vec(entry).map_err(io::Error::other)?)?;
    temp.persist(entry_path).map_err(|e| e.error)?;
    let now = SystemTime::now();
    for old in std::fs::read_dir(dir)?.flatten() {
        let unused = old
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age > KEEP));
        if unused && old.file_name().to_string_lossy().ends_with(".json") {
            let _ = std::fs::remove_file(old.path());
        }
    }
    Ok(())
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default()
}
