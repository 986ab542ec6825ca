//! The catalog of every build in the wiki (formats.md, "Catalog"): for each
//! build its image, platform, variant, commit, time, tags and digest, and
//! its packages by manager, in static JSON files a browser can query
//! without a server. `stacktag wiki` writes it, `stacktag find` and the
//! site's search page read it.
//!
//! It is sharded by month (a new build rewrites the files of its month
//! only) and, within a month, by a hash of the package name (a query reads
//! one file per month for each name it asks about).

pub mod error;
pub mod query;
pub mod read;
pub mod spec;
pub mod version;
pub mod write;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use error::CatalogError;

pub use query::{find, Answer, Found, Query};
pub use read::Source;
pub use write::{write, WriteReport};

/// The site's search page: its body (inside the site's page frame) and script.
pub const SEARCH_BODY: &str = include_str!("search.html");
pub const SEARCH_JS: &str = include_str!("search.js");

/// The site's `catalog/`: the wiki's catalog copied, then brought up to date.
pub fn publish(
    wiki: &std::path::Path,
    site: &std::path::Path,
    warn: &mut dyn FnMut(String),
) -> Result<WriteReport, crate::Error> {
    let from = wiki.join(WIKI_DIR);
    let to = site.join(SITE_DIR);
    copy_dir(&from, &to)?;
    write(wiki, &to, warn)
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) -> Result<(), crate::Error> {
    let entries = match std::fs::read_dir(from) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(crate::Error::io(from, e)),
    };
    std::fs::create_dir_all(to).map_err(|e| crate::Error::io(to, e))?;
    for e in entries {
        let e = e.map_err(|e| crate::Error::io(from, e))?;
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            copy_dir(&src, &dst)?;
        } else if !e.file_name().to_string_lossy().ends_with(".tmp") {
            std::fs::copy(&src, &dst).map_err(|err| crate::Error::io(&src, err))?;
        }
    }
    Ok(())
}

/// Bump when a file's shape changes; a reader refuses other formats.
pub const FORMAT: u32 = 1;
/// Where the wiki keeps it, and where the site has it.
pub const WIKI_DIR: &str = ".stacktag/catalog";
pub const SITE_DIR: &str = "catalog";
pub const TOP: &str = "catalog.json";
pub const NAMES: &str = "names.json";
pub const BUILDS: &str = "builds.json";
/// Package shards per month.
pub const BUCKETS: u32 = 64;

/// `catalog.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema, Deserialize)]
pub struct Top {
    pub format: u32,
    pub buckets: u32,
    pub builds: usize,
    /// Every manager some build has (apt, pip, ..., tag, build, declared sections).
    pub managers: Vec<String>,
    /// Newest first.
    pub months: Vec<MonthEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema, Deserialize)]
pub struct MonthEntry {
    pub month: String,
    pub builds: usize,
    /// What the month's files were made from (a hash of its builds'
    /// pages, times, tags and manifest sizes); the same key, the same files.
    pub key: String,
}

/// One build of `{month}/builds.json`; its place in the array is its id in
/// the month's package shards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema, Deserialize)]
pub struct BuildEntry {
    pub page: String,
    pub image: String,
    pub platform: String,
    pub variant: String,
    pub timestamp: String,
    /// The 12 hex of the stack's commit.
    pub commit: String,
    /// `{registry}/{owner}/{image}`.
    pub name: String,
    /// The commit's platform tag, which the manifest names.
    pub tag: String,
    /// Every tag of the build (its history line), without `latest`.
    pub tags: Vec<String>,
    /// `sha256:...` when the wiki knows it.
    pub digest: Option<String>,
    /// The manifest, relative to the wiki.
    pub manifest: String,
}

impl BuildEntry {
    /// `name:tag`, or `name@digest` when the digest is known.
    pub fn reference(&self) -> String {
        match &self.digest {
            Some(d) => format!("{}@{d}", self.name),
            None => format!("{}:{}", self.name, self.tag),
        }
    }
}

/// A month's package shard: name to manager to `(version, build ids)`,
/// versions in their manager's order, oldest first.
pub type Shard = BTreeMap<String, BTreeMap<String, Vec<(String, Vec<u32>)>>>;

/// FNV-1a of the normalized name: the shard a name lives in (search.js has
/// the same function).
pub fn bucket(key: &str, buckets: u32) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in key.bytes() {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h % buckets
}

/// `{month}/p-{bucket:02x}.json`
pub fn shard_file(month: &str, bucket: u32) -> String {
    format!("{month}/p-{bucket:02x}.json")
}

/// Where to look: the catalog under a wiki checkout or a site.
pub fn dir_in(root: &std::path::Path) -> Vec<PathBuf> {
    vec![root.to_path_buf(), root.join(SITE_DIR), root.join(WIKI_DIR)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_fnv1a() {
        // The values search.js computes for the same names.
        assert_eq!(bucket("", 1 << 31), 0x811c_9dc5 % (1 << 31));
        assert_eq!(bucket("numpy", BUCKETS), bucket("numpy", BUCKETS));
        assert!(bucket("python", BUCKETS) < BUCKETS);
    }
}
