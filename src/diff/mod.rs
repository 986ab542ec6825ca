//! `stacktag diff`: what changed between two builds of an image, from two
//! manifest files or from the wiki (its newest build against the one
//! before), per package section and in the tags. The HTML site shows the
//! same on each manifest page.

pub mod build;
pub mod changes;
pub mod error;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::wiki::index::{Index, Loaded};

pub use build::{parse_manifest, Build, Declared};
pub use changes::{compare, Changes};
pub use error::DiffError;

/// A manifest read from a file, with the tags of its history line when
/// that is found beside it (`../hist_lines/{same name}.txt`, as `hook` writes).
pub fn read_build(path: &Path) -> Result<Build, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut build = parse_manifest(&text).map_err(|message| DiffError::BadManifest {
        path: path.to_path_buf(),
        message,
    })?;
    let line = path
        .parent()
        .and_then(Path::parent)
        .zip(path.file_stem())
        .map(|(dir, stem)| dir.join("hist_lines").join(stem).with_extension("txt"))
        .and_then(|p| std::fs::read_to_string(p).ok());
    build.tags = line.map(|l| build::history_tags(&l));
    Ok(build)
}

/// `stacktag diff OLD NEW`.
pub fn files(old: &Path, new: &Path, force: bool) -> Result<Changes, Error> {
    let (a, b) = (read_build(old)?, read_build(new)?);
    if !force && !a.same_image(&b) {
        return Err(DiffError::DifferentImages {
            old: old.to_path_buf(),
            new: new.to_path_buf(),
            old_ref: format!("{}:{}", a.full_name, a.tag),
            new_ref: format!("{}:{}", b.full_name, b.tag),
        }
        .into());
    }
    Ok(compare(
        &a,
        &old.display().to_string(),
        &b,
        &new.display().to_string(),
    ))
}

/// One build the wiki knows: its row, and where its manifest is.
#[derive(Debug, Clone)]
pub struct WikiBuild {
    pub timestamp: String,
    pub page: String,
    /// Relative to the wiki.
    pub manifest: PathBuf,
    pub tags: Vec<String>,
}

/// `(image, platform, variant)`.
pub type Key = (String, String, String);

/// Every build in the wiki whose manifest is still there, per image,
/// platform and variant, newest first (a page rebuilt counts once, newest).
pub fn history(loaded: &Loaded) -> BTreeMap<Key, Vec<WikiBuild>> {
    let index: &Index = &loaded.index;
    let mut manifests: BTreeMap<String, PathBuf> = BTreeMap::new();
    for path in index.manifests.keys() {
        if let Some(name) = path.file_stem().and_then(|n| n.to_str()) {
            manifests.insert(name.to_string(), path.clone());
        }
    }
    let mut out: BTreeMap<Key, Vec<WikiBuild>> = BTreeMap::new();
    for (month, page) in &index.pages {
        let text = loaded.texts.get(month).map_or("", String::as_str);
        for row in &page.rows {
            let Some(manifest) = manifests.get(&row.page) else {
                continue;
            };
            let link = format!("[Build manifest](./{})", row.page);
            let line = text
                .lines()
                .find(|l| l.contains(&link) && l.contains(&row.timestamp))
                .unwrap_or("");
            out.entry((row.image.clone(), row.platform.clone(), row.variant.clone()))
                .or_default()
                .push(WikiBuild {
                    timestamp: row.timestamp.clone(),
                    page: row.page.clone(),
                    manifest: manifest.clone(),
                    tags: build::history_tags(line),
                });
        }
    }
    for builds in out.values_mut() {
        builds.sort_by(|a, b| (&b.timestamp, &b.page).cmp(&(&a.timestamp, &a.page)));
        let mut seen = std::collections::HashSet::new();
        builds.retain(|b| seen.insert(b.page.clone()));
    }
    out
}

/// Reads a wiki build's manifest, with its tags.
pub fn read_wiki_build(wiki: &Path, b: &WikiBuild) -> Result<Build, Error> {
    let path = wiki.join(&b.manifest);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let mut build = parse_manifest(&text).map_err(|message| DiffError::BadManifest {
        path: path.clone(),
        message,
    })?;
    build.tags = Some(b.tags.clone());
    Ok(build)
}

/// What `diff --wiki-dir` found.
pub enum WikiDiff {
    Changes(Box<Changes>),
    /// The newest build has no earlier one in the wiki.
    NoPrevious {
        page: String,
    },
}

/// The newest build of `image` in the wiki against the one before it.
/// Without `platform`, the platform of the image's newest build.
pub fn wiki(
    wiki: &Path,
    image: &str,
    platform: Option<&str>,
    variant: &str,
    warn: &mut dyn FnMut(String),
) -> Result<WikiDiff, Error> {
    let loaded = Index::load(wiki, warn)?;
    let all = history(&loaded);
    let candidates: Vec<(&Key, &Vec<WikiBuild>)> = all
        .iter()
        .filter(|(k, _)| k.0 == image && k.2 == variant && platform.is_none_or(|p| k.1 == p))
        .collect();
    let Some((_, builds)) = candidates
        .iter()
        .max_by_key(|(_, b)| b.first().map(|b| b.timestamp.clone()))
    else {
        let mut images: Vec<&str> = all.keys().map(|k| k.0.as_str()).collect();
        images.dedup();
        return Err(DiffError::NotInWiki {
            wiki: wiki.to_path_buf(),
            image: image.to_string(),
            what: format!("platform {}, variant {variant}", platform.unwrap_or("any")),
            known: if images.is_empty() {
                String::new()
            } else {
                format!("; it has builds of: {}", images.join(", "))
            },
        }
        .into());
    };
    let newest = &builds[0];
    let Some(previous) = builds.get(1) else {
        return Ok(WikiDiff::NoPrevious {
            page: newest.page.clone(),
        });
    };
    let (old, new) = (
        read_wiki_build(wiki, previous)?,
        read_wiki_build(wiki, newest)?,
    );
    let source = |b: &WikiBuild| b.manifest.display().to_string();
    Ok(WikiDiff::Changes(Box::new(compare(
        &old,
        &source(previous),
        &new,
        &source(newest),
    ))))
}

/// The heading of the section the HTML site adds to each manifest page.
pub const SITE_HEADING: &str = "Changes since the previous build";

/// For each manifest page of the wiki, the markdown of its "Changes since
/// the previous build" section (of the same image, platform and variant).
/// Builds are read one group at a time, two manifests at once.
pub fn site_sections(wiki: &Path) -> Result<BTreeMap<String, String>, Error> {
    let loaded = Index::load(wiki, &mut |_| {})?;
    let mut out = BTreeMap::new();
    for builds in history(&loaded).into_values() {
        let mut previous: Option<(&WikiBuild, Result<Build, String>)> = None;
        // Oldest first, so each manifest is read once.
        for b in builds.iter().rev() {
            let read = read_wiki_build(wiki, b).map_err(|e| e.to_string());
            let body = match (&previous, &read) {
                (None, _) => {
                    "No earlier build of this image, platform and variant is in the wiki.\n"
                        .to_string()
                }
                (Some((prev, Ok(old))), Ok(new)) => {
                    let c = compare(old, &prev.page, new, &b.page);
                    format!(
                        "Compared with [{page}](./{page}) (built {ts}).\n\n{}",
                        changes::markdown_sections(&c, 3),
                        page = prev.page,
                        ts = prev.timestamp
                    )
                }
                (Some((_, Err(e))), _) | (_, Err(e)) => format!("Not compared: {e}\n"),
            };
            out.insert(b.page.clone(), format!("## {SITE_HEADING}\n\n{body}"));
            previous = Some((b, read));
        }
    }
    Ok(out)
}
