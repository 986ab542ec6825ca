//! One update of the wiki (formats.md, "Wiki", steps 1 to 4), all or
//! nothing: every input is checked and every page computed before the
//! first file is renamed into place, and only pages whose text changes are
//! written. Running it twice gives the tree of running it once.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::FileError;
use crate::hook::progress::counted;

use super::commits::Commits;
use super::home;
use super::index::{blob_id, Index, Loaded, Page};
use super::input::{self, NewLine, NewManifest};
use super::layout::{self, HOME, MANIFESTS_DIR};
use super::lock::Lock;
use super::month::Month;
use super::monthly::{self, NewRow};
use super::prune;
use super::WikiError;
use crate::error::Error;
use crate::hook::pipeline::Staged;

#[derive(Debug, Clone)]
pub struct Options {
    /// The git checkout of `{repository}.wiki`.
    pub wiki_dir: PathBuf,
    pub hist_lines_dir: PathBuf,
    pub manifests_dir: PathBuf,
    /// GitHub `OWNER/REPO`, for the commit links of Home.md.
    pub repository: String,
    /// Inside the stack's git checkout, for counting commits.
    pub repo_dir: PathBuf,
    /// The image whose builds are counted as the stack's builds.
    pub root_image: String,
    /// Manifests to keep (the newest).
    pub keep: usize,
    /// Home template instead of the project's `wiki/Home.md`.
    pub home_template: Option<PathBuf>,
    /// No manifests or history lines is fine (refresh Home.md and prune only).
    pub allow_no_files: bool,
    /// How long to wait for another update of the same wiki to finish.
    pub wait: Duration,
    /// The branch Home.md's commit links name; default: the repository's default branch.
    pub branch: Option<String>,
}

/// What an update did, relative to the wiki (`wiki --format json` prints it as it is).
#[derive(Debug, Default, serde::Serialize, schemars::JsonSchema)]
#[schemars(rename = "WikiUpdate")]
pub struct Report {
    pub wiki: PathBuf,
    pub manifests_added: Vec<PathBuf>,
    pub manifests_present: usize,
    /// An older build's manifest of the same page name, moved away.
    pub manifests_replaced: Vec<PathBuf>,
    pub rows_added: usize,
    pub rows_present: usize,
    pub pages_written: Vec<PathBuf>,
    pub home_written: bool,
    pub pruned: Vec<PathBuf>,
    pub kept: usize,
    /// Monthly pages whose rows were read from markdown (first run on an
    /// upstream wiki, or pages changed outside stacktag).
    pub reindexed: usize,
    /// The root image named for Home.md's counts, when the wiki holds builds
    /// but none of it (the CLI says which option names it).
    #[serde(skip)]
    #[schemars(skip)]
    pub root_image_absent: Option<String>,
    /// The catalog of every build (`.stacktag/catalog/`), brought up to date.
    #[serde(skip)]
    pub catalog: Option<crate::catalog::WriteReport>,
    #[schemars(with = "crate::formats::schema::Seconds")]
    pub seconds: f64,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "wiki {}: {} added ({} already there), {} added to {} ({} already there), Home.md {}, {} pruned ({} kept){}; {:.2}s",
            self.wiki.display(),
            counted(self.manifests_added.len(), "manifest"),
            self.manifests_present,
            counted(self.rows_added, "row"),
            counted(self.pages_written.len(), "monthly page"),
            self.rows_present,
            if self.home_written { "rewritten" } else { "unchanged" },
            counted(self.pruned.len(), "manifest"),
            self.kept,
            if self.reindexed > 0 {
                format!(", {} indexed from their markdown", counted(self.reindexed, "monthly page"))
            } else {
                String::new()
            },
            self.seconds
        )?;
        if let Some(c) = &self.catalog {
            writeln!(f, "  {c}")?;
        }
        for p in self.pages_written.iter().chain(&self.manifests_added) {
            writeln!(f, "  wrote {}", p.display())?;
        }
        for p in &self.manifests_replaced {
            writeln!(
                f,
                "  replaced {} (an older build of the same page)",
                p.display()
            )?;
        }
        for p in &self.pruned {
            writeln!(f, "  pruned {}", p.display())?;
        }
        Ok(())
    }
}

/// In the name of every temporary file an update writes ([`Staged`]).
const TEMP_MARK: &str = ".stacktag-wiki-";

pub fn update(o: &Options, warn: &mut dyn FnMut(String)) -> Result<Report, Error> {
    let started = Instant::now();
    let wiki = o.wiki_dir.as_path();
    if !wiki.join(".git").exists() {
        let what = if wiki.is_dir() {
            "is not a git checkout"
        } else {
            "does not exist"
        };
        return Err(FileError::Bad {
            path: wiki.into(),
            message: format!(
                "{what}: the wiki is a git repository, and its history keeps what pruning removes\n  \
                 fix: git clone https://github.com/{}.wiki.git {} (or `git init` it for a new wiki)",
                o.repository,
                wiki.display()
            ),
        }.into());
    }
    let template = match &o.home_template {
        Some(p) => std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?,
        None => home::TEMPLATE.to_string(),
    };
    if !template.contains(home::MARKER) {
        let path = o
            .home_template
            .clone()
            .unwrap_or_else(|| "wiki/Home.md".into());
        return Err(WikiError::Template {
            path,
            marker: home::MARKER,
        }
        .into());
    }

    let _lock = Lock::acquire(wiki, o.wait, warn)?;
    sweep_stale_temps(wiki, warn);
    let inputs = input::read(&o.hist_lines_dir, &o.manifests_dir, o.allow_no_files)?;
    let commits = Commits::count(&o.repo_dir)?;
    if commits.shallow {
        warn(format!(
            "{} is a shallow clone: commits before its history starts are not counted (fetch with depth 0)",
            o.repo_dir.display()
        ));
    }
    let Loaded {
        mut index,
        texts,
        reindexed,
        ..
    } = Index::load(wiki, warn)?;
    let mut report = Report {
        wiki: wiki.into(),
        reindexed: reindexed.len(),
        ..Report::default()
    };

    // 1. Manifests, by the month of their build.
    let mut to_write: Vec<(PathBuf, &NewManifest)> = Vec::new();
    let mut remove: Vec<PathBuf> = Vec::new();
    let mut manifests: Vec<&NewManifest> = inputs.manifests.iter().collect();
    manifests.sort_by(|a, b| (&a.timestamp, &a.file_name).cmp(&(&b.timestamp, &b.file_name)));
    for m in manifests {
        let rel = layout::manifest(m.month, &m.file_name);
        let others: Vec<(PathBuf, String)> = index
            .manifest_named(&m.file_name)
            .into_iter()
            .map(|(p, t)| (p.clone(), t.clone()))
            .collect();
        // One page name, one page: GitHub finds pages by name, not folder.
        if let Some((newer, ts)) = others.iter().find(|(_, t)| *t > m.timestamp) {
            warn(format!(
                "{}: the wiki has a newer build of this page ({}, {ts}); kept that one",
                m.source.display(),
                newer.display()
            ));
            continue;
        }
        for (other, _) in others.iter().filter(|(p, _)| *p != rel) {
            index.manifests.remove(other);
            remove.push(other.clone());
            report.manifests_replaced.push(other.clone());
        }
        if same_text(&wiki.join(&rel), &m.text) {
            report.manifests_present += 1;
        } else {
            to_write.push((rel.clone(), m));
        }
        index.manifests.insert(rel, m.timestamp.clone());
    }

    // 2. History lines, into the page of their month.
    let mut by_month: BTreeMap<Month, Vec<&NewLine>> = BTreeMap::new();
    for l in &inputs.lines {
        by_month.entry(l.month).or_default().push(l);
    }
    let mut pages: Vec<(PathBuf, String)> = Vec::new();
    for (month, lines) in by_month {
        let rel = layout::monthly_page(month);
        let old_rows = index
            .pages
            .get(&month)
            .map(|p| p.rows.clone())
            .unwrap_or_default();
        let new: Vec<NewRow> = lines
            .iter()
            .map(|l| NewRow {
                line: &l.line,
                row: &l.row,
            })
            .collect();
        match monthly::insert(
            month,
            texts.get(&month).map(String::as_str),
            &old_rows,
            &new,
        ) {
            Err(message) => {
                return Err(WikiError::BadPage {
                    path: wiki.join(rel),
                    message,
                }
                .into())
            }
            Ok(None) => report.rows_present += lines.len(),
            Ok(Some((page, rows))) => {
                let added = rows.len() - old_rows.len();
                report.rows_added += added;
                report.rows_present += lines.len() - added;
                index.pages.insert(
                    month,
                    Page {
                        blob: blob_id(&page),
                        rows,
                    },
                );
                pages.push((rel, page));
            }
        }
    }

    // A row whose manifest the wiki does not have links nowhere.
    for l in &inputs.lines {
        let file = format!("{}.md", l.row.page);
        if index.manifest_named(&file).is_empty() {
            warn(format!(
                "{}: links the manifest page `{}`, which is neither in {} nor in the wiki",
                l.source.display(),
                l.row.page,
                o.manifests_dir.display()
            ));
        }
    }

    // 3. Home.md, from the index.
    let stats = home::stats(&index, &o.root_image, &commits);
    let rows = index.pages.values().flat_map(|p| &p.rows);
    if rows.clone().next().is_some() && !rows.clone().any(|r| r.image == o.root_image) {
        report.root_image_absent = Some(o.root_image.clone());
    }
    let template_name = match &o.home_template {
        Some(p) => format!("the Home template {}", p.display()),
        None => "stacktag's built-in Home template".to_string(),
    };
    let source = home::Source {
        repository: &o.repository,
        branch: o.branch.as_deref().unwrap_or(&commits.branch),
        template: &template_name,
    };
    let home = home::render(&template, &source, &stats).expect("marker checked");

    // 4. Pruning, counting the manifests just added.
    let pruned = prune::beyond(&index.manifests, o.keep);
    for p in &pruned {
        index.manifests.remove(p);
    }
    report.kept = index.manifests.len();

    // Stage everything, then rename into place: pages, then the index.
    let mut staged = Staged::new(&format!("wiki-{}", std::process::id()));
    for (rel, m) in &to_write {
        if pruned.contains(rel) {
            continue;
        }
        staged.add(&wiki.join(rel), &m.text)?;
        report.manifests_added.push(rel.clone());
    }
    for (rel, page) in &pages {
        staged.add(&wiki.join(rel), page)?;
        report.pages_written.push(rel.clone());
    }
    if !same_text(&wiki.join(HOME), &home) {
        staged.add(&wiki.join(HOME), &home)?;
        report.home_written = true;
    }
    for (rel, text) in index.files() {
        if !same_text(&wiki.join(&rel), &text) {
            staged.add(&wiki.join(&rel), &text)?;
        }
    }
    staged.commit()?;

    for rel in remove.iter().chain(&pruned) {
        let path = wiki.join(rel);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&path, e)),
        }
        remove_empty_parents(wiki, &path);
    }
    report.pruned = pruned
        .into_iter()
        .filter(|p| !to_write.iter().any(|(w, _)| w == p))
        .collect();
    // Derived from the pages just written; still under the lock.
    report.catalog = Some(crate::catalog::write(
        wiki,
        &wiki.join(crate::catalog::WIKI_DIR),
        warn,
    )?);
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// The temporary files of a run that was killed before it renamed them
/// (holding the lock, no other run can be writing any).
fn sweep_stale_temps(wiki: &Path, warn: &mut dyn FnMut(String)) {
    let mut todo = vec![wiki.to_path_buf()];
    while let Some(dir) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            if is_dir && name != ".git" {
                todo.push(e.path());
            } else if !is_dir
                && name.contains(TEMP_MARK)
                && name.ends_with(".tmp")
                && std::fs::remove_file(e.path()).is_ok()
            {
                warn(format!(
                    "removed {}, left by an update that was killed",
                    super::relative(&e.path(), wiki).display()
                ));
            }
        }
    }
}

fn same_text(path: &Path, text: &str) -> bool {
    std::fs::read(path).is_ok_and(|old| old == text.as_bytes())
}

/// Month and year folders emptied by pruning go too.
fn remove_empty_parents(wiki: &Path, file: &Path) {
    let stop = wiki.join(MANIFESTS_DIR);
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == stop || !d.starts_with(&stop) || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}
