//! `.stacktag/`: what stacktag knows about the wiki's pages, kept beside
//! them so that statistics and pruning never re-parse markdown.
//!
//! - `builds.tsv`: each monthly page with the git blob id of its text, and
//!   one row per history line, in page order.
//! - `manifests.tsv`: each manifest page with its build timestamp.
//!
//! A page whose blob id differs from the recorded one (or that has no record:
//! an upstream wiki's first run) is read again from its markdown. A manifest
//! file the index does not list is read for its timestamp once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::error::WikiError;
use super::layout::{self, relative, INDEX_DIR, MANIFESTS_DIR, MONTHLY_DIR};
use super::month::Month;
use super::monthly;
use super::row::{parse_existing, Row};
use crate::error::Error;

pub const BUILDS: &str = "builds.tsv";
pub const MANIFESTS: &str = "manifests.tsv";
const HEADER: &str = "# stacktag wiki index, format 1: written by `stacktag wiki`, rebuilt from the pages when they change\n";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// Git blob id of the page's text when stacktag last wrote or read it.
    pub blob: String,
    /// One per table row, in page order (newest first).
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, Default)]
pub struct Index {
    pub pages: BTreeMap<Month, Page>,
    /// Manifest path relative to the wiki, to its build timestamp.
    pub manifests: BTreeMap<PathBuf, String>,
}

/// The index as found, and the monthly pages' texts read to check it.
pub struct Loaded {
    pub index: Index,
    pub texts: BTreeMap<Month, String>,
    /// Pages read from markdown because the index did not know them as they are.
    pub reindexed: Vec<Month>,
    /// Whether `.stacktag/` existed (false on an upstream wiki's first run).
    pub existed: bool,
}

pub fn blob_id(text: &str) -> String {
    git2::Oid::hash_object(git2::ObjectType::Blob, text.as_bytes())
        .map(|o| o.to_string())
        .unwrap_or_default()
}

impl Index {
    /// Loads the index and brings it in line with the pages on disk.
    pub fn load(wiki: &Path, warn: &mut dyn FnMut(String)) -> Result<Loaded, Error> {
        let dir = wiki.join(INDEX_DIR);
        let builds = read_optional(&dir.join(BUILDS))?;
        let manifests = read_optional(&dir.join(MANIFESTS))?;
        let existed = builds.is_some();
        let mut index = Index::default();
        if let Some(text) = &builds {
            index.pages = parse_builds(text).map_err(|message| WikiError::BadPage {
                path: dir.join(BUILDS),
                message: format!("{message} (delete .stacktag/ to rebuild it from the pages)"),
            })?;
        }
        if let Some(text) = &manifests {
            index.manifests = parse_manifests(text);
        }

        // Monthly pages: trust a record only for the exact text it was made from.
        let mut texts = BTreeMap::new();
        let mut reindexed = Vec::new();
        let mut seen = BTreeMap::new();
        let monthly_dir = wiki.join(MONTHLY_DIR);
        for path in
            layout::files_with_ext(&monthly_dir, ".md").map_err(|e| Error::io(&monthly_dir, e))?
        {
            let Some(month) = path
                .file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.parse::<Month>().ok())
            else {
                warn(format!(
                    "{}: not a monthly page name (YYYY-MM.md), left alone",
                    path.display()
                ));
                continue;
            };
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            let blob = blob_id(&text);
            let known = index.pages.get(&month).is_some_and(|p| p.blob == blob);
            if !known {
                if existed {
                    warn(format!(
                        "{}: changed outside stacktag, its rows are read again from the page",
                        relative(&path, wiki).display()
                    ));
                }
                let rows = monthly::table_rows(&text)
                    .map(|(_, lines)| lines.iter().map(|l| parse_existing(l)).collect())
                    .unwrap_or_default();
                index.pages.insert(month, Page { blob, rows });
                reindexed.push(month);
            }
            seen.insert(month, ());
            texts.insert(month, text);
        }
        index.pages.retain(|m, _| seen.contains_key(m));

        // Manifests: the directory listing is the truth; timestamps come from the index.
        let manifests_dir = wiki.join(MANIFESTS_DIR);
        let on_disk = layout::files_with_ext(&manifests_dir, ".md")
            .map_err(|e| Error::io(&manifests_dir, e))?;
        let mut found = BTreeMap::new();
        for path in on_disk {
            let rel = relative(&path, wiki);
            let ts = match index.manifests.remove(&rel) {
                Some(ts) => ts,
                None => {
                    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
                    match super::input::manifest_timestamp(&text) {
                        Some(ts) => ts.to_string(),
                        None => {
                            warn(format!(
                                "{}: no `Build timestamp:` line; counted as the oldest manifest",
                                rel.display()
                            ));
                            String::new()
                        }
                    }
                }
            };
            found.insert(rel, ts);
        }
        index.manifests = found;
        Ok(Loaded {
            index,
            texts,
            reindexed,
            existed,
        })
    }

    /// The index files' paths (relative to the wiki) and texts.
    pub fn files(&self) -> Vec<(PathBuf, String)> {
        let mut builds = String::from(HEADER);
        builds.push_str("# page\tmonth\tblob\n# row\tmonth\ttimestamp\tplatform\tvariant\timage\tmanifest page\n");
        for (month, page) in self.pages.iter().rev() {
            builds.push_str(&format!("page\t{month}\t{}\n", page.blob));
            for r in &page.rows {
                builds.push_str(&format!(
                    "row\t{month}\t{}\t{}\t{}\t{}\t{}\n",
                    r.timestamp, r.platform, r.variant, r.image, r.page
                ));
            }
        }
        let mut manifests = String::from(HEADER);
        manifests.push_str("# build timestamp\tpath\n");
        let mut by_time: Vec<_> = self.manifests.iter().collect();
        by_time.sort_by(|a, b| (b.1, b.0).cmp(&(a.1, a.0)));
        for (path, ts) in by_time {
            manifests.push_str(&format!("{ts}\t{}\n", path.display()));
        }
        let dir = PathBuf::from(INDEX_DIR);
        vec![(dir.join(BUILDS), builds), (dir.join(MANIFESTS), manifests)]
    }

    /// The manifest recorded under a page name, wherever its month folder is.
    pub fn manifest_named(&self, file_name: &str) -> Vec<(&PathBuf, &String)> {
        self.manifests
            .iter()
            .filter(|(p, _)| p.file_name().and_then(|n| n.to_str()) == Some(file_name))
            .collect()
    }
}

fn read_optional(path: &Path) -> Result<Option<String>, Error> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Reads `.stacktag/builds.tsv` (public for the fuzz targets).
pub fn parse_builds(text: &str) -> Result<BTreeMap<Month, Page>, String> {
    let mut pages: BTreeMap<Month, Page> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let bad = || format!("line {}: not an index record: {line:?}", n + 1);
        let fields: Vec<&str> = line.split('\t').collect();
        let month: Month = fields.get(1).ok_or_else(bad)?.parse().map_err(|_| bad())?;
        match (fields[0], fields.len()) {
            ("page", 3) => {
                pages.entry(month).or_default().blob = fields[2].to_string();
            }
            ("row", 7) => pages.entry(month).or_default().rows.push(Row {
                timestamp: fields[2].into(),
                platform: fields[3].into(),
                variant: fields[4].into(),
                image: fields[5].into(),
                page: fields[6].into(),
            }),
            _ => return Err(bad()),
        }
    }
    Ok(pages)
}

/// Reads `.stacktag/manifests.tsv` (public for the fuzz targets).
pub fn parse_manifests(text: &str) -> BTreeMap<PathBuf, String> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .map(|(ts, path)| (PathBuf::from(path), ts.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_round_trips() {
        let mut index = Index::default();
        let row = parse_existing("| `2026-11-22T23:48:58Z` | `r/o/base-notebook:x86_64-x` | [Build manifest](./x86_64-default-base-notebook-0123456789ab) |");
        index.pages.insert(
            "2026-11".parse().unwrap(),
            Page {
                blob: "abc".into(),
                rows: vec![row.clone(), row],
            },
        );
        index
            .pages
            .insert("2025-01".parse().unwrap(), Page::default());
        index.manifests.insert(
            "manifests/2026/2026-11/x.md".into(),
            "2026-11-22T23:48:58Z".into(),
        );
        let files = index.files();
        let pages = parse_builds(&files[0].1).unwrap();
        assert_eq!(pages, index.pages);
        assert_eq!(parse_manifests(&files[1].1), index.manifests);
        assert!(parse_builds("row\t2026-11\tonly").is_err());
    }
}
