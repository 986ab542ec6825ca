//! Writing the catalog from the wiki, month by month: a month whose builds
//! are as they were (same key) keeps its files; one with a new, replaced
//! or pruned build is made again from its manifests. The files are a
//! function of the wiki's pages alone, so two runs on the same wiki write
//! the same bytes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::spec::{normalize, BUILD, TAG};
use super::version::Scheme;
use super::{shard_file, BuildEntry, MonthEntry, Shard, Top, BUCKETS, BUILDS, FORMAT, NAMES, TOP};
use crate::diff::{self, history, WikiBuild};
use crate::error::Error;
use crate::hook::pipeline::Staged;
use crate::wiki::index::{blob_id, Index};
use crate::wiki::month::Month;

#[derive(Debug, Default)]
pub struct WriteReport {
    pub out: PathBuf,
    pub builds: usize,
    pub months: usize,
    /// Months whose files were made again.
    pub rewritten: Vec<String>,
    /// Builds left out: their manifest could not be read.
    pub skipped: usize,
    pub seconds: f64,
}

impl std::fmt::Display for WriteReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "catalog: {} in {} ({} rewritten{}); {:.2}s",
            crate::hook::progress::counted(self.builds, "build"),
            crate::hook::progress::counted(self.months, "month"),
            self.rewritten.len(),
            if self.skipped > 0 {
                format!(", {} left out: manifest unreadable", self.skipped)
            } else {
                String::new()
            },
            self.seconds
        )
    }
}

/// A build found in the wiki, before its manifest is read.
struct Found {
    image: String,
    platform: String,
    variant: String,
    build: WikiBuild,
    /// Size of the manifest file, in the month's key.
    size: u64,
}

/// Writes (or brings up to date) the catalog of the wiki at `wiki` into `out`.
pub fn write(wiki: &Path, out: &Path, warn: &mut dyn FnMut(String)) -> Result<WriteReport, Error> {
    let started = Instant::now();
    let loaded = Index::load(wiki, &mut |_| {})?;
    let mut months: BTreeMap<Month, Vec<Found>> = BTreeMap::new();
    for ((image, platform, variant), builds) in history(&loaded) {
        for build in builds {
            let Some(month) = Month::of_timestamp(&build.timestamp) else {
                continue;
            };
            let size = std::fs::metadata(wiki.join(&build.manifest)).map_or(0, |m| m.len());
            months.entry(month).or_default().push(Found {
                image: image.clone(),
                platform: platform.clone(),
                variant: variant.clone(),
                build,
                size,
            });
        }
    }
    let old: Option<Top> = std::fs::read(out.join(TOP))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(|t: &Top| t.format == FORMAT && t.buckets == BUCKETS);
    let old_keys: BTreeMap<String, String> = old
        .iter()
        .flat_map(|t| &t.months)
        .map(|m| (m.month.clone(), m.key.clone()))
        .collect();

    let mut staged = Staged::new(&format!("wiki-{}", std::process::id()));
    let mut report = WriteReport {
        out: out.into(),
        ..WriteReport::default()
    };
    let mut top = Top {
        format: FORMAT,
        buckets: BUCKETS,
        ..Top::default()
    };
    let mut names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (month, mut found) in months.into_iter().rev() {
        found.sort_by(|a, b| {
            (&a.build.timestamp, &a.build.page).cmp(&(&b.build.timestamp, &b.build.page))
        });
        let key = month_key(&found);
        let m = month.to_string();
        let kept = old_keys.get(&m) == Some(&key) && out.join(&m).join(NAMES).is_file();
        let (count, month_names) = if kept {
            let path = out.join(&m).join(NAMES);
            let text = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
            let month_names: BTreeMap<String, BTreeSet<String>> =
                serde_json::from_slice(&text).unwrap_or_default();
            let count = old
                .iter()
                .flat_map(|t| &t.months)
                .find(|e| e.month == m)
                .map_or(0, |e| e.builds);
            (count, month_names)
        } else {
            let made = month_files(wiki, &found, warn);
            report.skipped += found.len() - made.builds.len();
            stage(
                &mut staged,
                &out.join(&m).join(BUILDS),
                &to_json(&made.builds),
            )?;
            for b in 0..BUCKETS {
                let shard = made.shards.get(&b).cloned().unwrap_or_default();
                stage(&mut staged, &out.join(shard_file(&m, b)), &to_json(&shard))?;
            }
            stage(
                &mut staged,
                &out.join(&m).join(NAMES),
                &to_json(&made.names),
            )?;
            report.rewritten.push(m.clone());
            (made.builds.len(), made.names)
        };
        for (name, managers) in month_names {
            names.entry(name).or_default().extend(managers);
        }
        top.builds += count;
        top.months.push(MonthEntry {
            month: m,
            builds: count,
            key,
        });
    }
    let mut managers: BTreeSet<String> = names.values().flatten().cloned().collect();
    managers.insert(BUILD.into());
    top.managers = managers.into_iter().collect();
    stage(&mut staged, &out.join(NAMES), &to_json(&names))?;
    stage(&mut staged, &out.join(TOP), &to_json(&top))?;
    staged.commit()?;

    // Months no longer in the wiki (pruned) go.
    let live: BTreeSet<&str> = top.months.iter().map(|m| m.month.as_str()).collect();
    if let Ok(entries) = std::fs::read_dir(out) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            let is_month = name.parse::<Month>().is_ok();
            if is_month && e.path().is_dir() && !live.contains(name.as_str()) {
                std::fs::remove_dir_all(e.path()).map_err(|err| Error::io(e.path(), err))?;
            }
        }
    }
    report.builds = top.builds;
    report.months = top.months.len();
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Stages `text` for `path` unless the file already holds it (an unchanged
/// file keeps its bytes and its mtime, as the wiki's pages do).
fn stage(staged: &mut Staged, path: &Path, text: &str) -> Result<(), Error> {
    if std::fs::read(path).is_ok_and(|old| old == text.as_bytes()) {
        return Ok(());
    }
    staged.add(path, text)
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("catalog values serialize") + "\n"
}

fn month_key(found: &[Found]) -> String {
    let mut text = format!("catalog {FORMAT} {BUCKETS}\n");
    for f in found {
        text += &format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            f.build.page,
            f.build.timestamp,
            f.image,
            f.platform,
            f.variant,
            f.build.tags.join(" "),
            f.build.manifest.display(),
            f.size
        );
    }
    blob_id(&text)
}

struct MonthFiles {
    builds: Vec<BuildEntry>,
    shards: BTreeMap<u32, Shard>,
    names: BTreeMap<String, BTreeSet<String>>,
}

/// The builds of a month and their packages, read from their manifests.
fn month_files(wiki: &Path, found: &[Found], warn: &mut dyn FnMut(String)) -> MonthFiles {
    // name -> manager -> version -> ids
    let mut postings: BTreeMap<String, BTreeMap<String, BTreeMap<String, Vec<u32>>>> =
        BTreeMap::new();
    let mut builds = Vec::new();
    for f in found {
        let path = wiki.join(&f.build.manifest);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                warn(format!(
                    "{}: left out of the catalog, its manifest cannot be read: {e}",
                    f.build.manifest.display()
                ));
                continue;
            }
        };
        let parsed = match diff::parse_manifest(&text) {
            Ok(p) => p,
            Err(e) => {
                warn(format!(
                    "{}: left out of the catalog, not a build manifest: {e}",
                    f.build.manifest.display()
                ));
                continue;
            }
        };
        let id = builds.len() as u32;
        let mut add = |name: &str, manager: &str, version: &str| {
            postings
                .entry(normalize(name))
                .or_default()
                .entry(manager.to_string())
                .or_default()
                .entry(version.to_string())
                .or_default()
                .push(id);
        };
        for (section, packages) in &parsed.sections {
            for (name, version) in packages {
                // `name:arch` is the second architecture of an apt package.
                let name = name.split(':').next().unwrap_or(name);
                add(name, section.name(), version);
            }
        }
        // A declared section of `name version` pairs is a manager of its own,
        // named after its heading (`Ruby gems` is `ruby-gems`).
        for (heading, section) in &parsed.declared {
            if let diff::Declared::Packages(packages) = section {
                let manager = manager_of_heading(heading);
                for (name, version) in packages {
                    add(name, &manager, version);
                }
            }
        }
        let prefix = parsed.prefix().to_string();
        for (name, version) in tagger_values(&f.build.tags, &prefix) {
            add(&name, TAG, &version);
        }
        add("image", BUILD, &f.image);
        add("platform", BUILD, &f.platform);
        add("variant", BUILD, &f.variant);
        let commit = f
            .build
            .page
            .rsplit_once('-')
            .map_or("", |(_, s)| s)
            .to_string();
        builds.push(BuildEntry {
            page: f.build.page.clone(),
            image: f.image.clone(),
            platform: f.platform.clone(),
            variant: f.variant.clone(),
            timestamp: f.build.timestamp.clone(),
            commit,
            name: parsed.full_name.clone(),
            tag: parsed.tag.clone(),
            tags: f.build.tags.clone(),
            digest: digest_in(&text),
            manifest: f.build.manifest.display().to_string(),
        });
    }
    let mut shards: BTreeMap<u32, Shard> = BTreeMap::new();
    let mut names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, managers) in postings {
        let mut entry = BTreeMap::new();
        for (manager, versions) in managers {
            let scheme = Scheme::of_manager(&manager);
            let mut list: Vec<(String, Vec<u32>)> = versions
                .into_iter()
                .map(|(v, mut ids)| {
                    ids.dedup();
                    (v, ids)
                })
                .collect();
            list.sort_by(|a, b| scheme.compare(&a.0, &b.0).then_with(|| a.0.cmp(&b.0)));
            names
                .entry(name.clone())
                .or_default()
                .insert(manager.clone());
            entry.insert(manager, list);
        }
        shards
            .entry(super::bucket(&name, BUCKETS))
            .or_default()
            .insert(name, entry);
    }
    MonthFiles {
        builds,
        shards,
        names,
    }
}

/// The manager name of a declared section: its heading, lowercase, words
/// joined by `-`.
pub fn manager_of_heading(heading: &str) -> String {
    heading
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("-")
}

/// The `sha256:` digest a manifest's Build Info names, if any.
fn digest_in(manifest: &str) -> Option<String> {
    let info = manifest.split("\n## ").nth(1).unwrap_or("");
    let at = info.find("@sha256:")? + 1;
    let hex = info.get(at + 7..at + 7 + 64)?;
    hex.chars()
        .all(|c| c.is_ascii_hexdigit())
        .then(|| format!("sha256:{hex}"))
}

/// Tagger values of a build's tags: `x86_64-python-3.13.5` is `python`
/// `3.13.5`; the commit and date tags say nothing a query asks about. Of
/// `python-3.13` and `python-3.13.5`, the longer is kept.
pub fn tagger_values(tags: &[String], prefix: &str) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for tag in tags {
        let rest = tag
            .strip_prefix(prefix)
            .and_then(|r| r.strip_prefix('-'))
            .unwrap_or(tag);
        let split = rest
            .char_indices()
            .find(|&(i, c)| c == '-' && rest[i + 1..].starts_with(|d: char| d.is_ascii_digit()));
        let Some((i, _)) = split else { continue };
        let (name, version) = (&rest[..i], &rest[i + 1..]);
        if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        let longer = out.get(name).is_none_or(|v| version.len() > v.len());
        if longer {
            out.insert(name.to_string(), version.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagger_values_from_tags() {
        let tags: Vec<String> = [
            "x86_64-1ffe43816ba9",
            "x86_64-2026-11-22",
            "x86_64-ubuntu-24.04",
            "x86_64-python-3.13",
            "x86_64-python-3.13.5",
            "x86_64-r-4.4.3",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let v = tagger_values(&tags, "x86_64");
        assert_eq!(v["python"], "3.13.5");
        assert_eq!(v["ubuntu"], "24.04");
        assert_eq!(v["r"], "4.4.3");
        assert_eq!(v.len(), 3, "{v:?}");
        let v = tagger_values(&["aarch64-cuda12-python-3.12".into()], "aarch64-cuda12");
        assert_eq!(v["python"], "3.12");
    }

    #[test]
    fn a_digest_in_build_info() {
        let d = "a".repeat(64);
        let m = format!(
            "# t\n\n## Build Info\n\n- Docker image digest: `q/o/i@sha256:{d}`\n\n## Apt\n"
        );
        assert_eq!(digest_in(&m), Some(format!("sha256:{d}")));
        assert_eq!(digest_in("# t\n\n## Build Info\n\n- x\n"), None);
    }
}
