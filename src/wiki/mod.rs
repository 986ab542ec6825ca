//! The wiki of every build (formats.md, "Wiki"): manifests copied by month,
//! history lines inserted into monthly pages, `Home.md` statistics, pruning,
//! and a static HTML site of it all.
//!
//! What stacktag knows about the wiki's pages it keeps beside them, in
//! `.stacktag/` ([`index`]), so that statistics never come from re-parsing
//! markdown. A wiki kept for years by the upstream Python script has no
//! index: it is built once from the pages, and rebuilt for any page that
//! changed outside stacktag.

pub mod commits;
pub mod home;
pub mod index;
pub mod input;
pub mod layout;
pub mod lock;
pub mod month;
pub mod monthly;
pub mod prune;
pub mod row;
pub mod site;
pub mod table;
pub mod update;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::WikiArgs;
use crate::error::{exit, Error};
use crate::hierarchy::Hierarchy;

pub use update::{update, Options, Report};

/// The wiki's own failures; files and git have their own [`Error`] variants.
#[derive(Debug, thiserror::Error)]
pub enum WikiError {
    #[error("refused: {} input file(s) do not parse, so nothing was written to the wiki:\n{}\n  fix: run `stacktag hook` again for these images, or remove the files", .0.len(), problems(.0))]
    BadInput(Vec<Problem>),

    #[error("{path}: {message}\n  nothing was written to the wiki\n  fix: repair the page by hand (git diff / git checkout in the wiki), then run again")]
    BadPage { path: PathBuf, message: String },

    #[error("{path}: the Home template has no `{marker}` marker", marker = home::MARKER)]
    Template { path: PathBuf },

    #[error("no {what} in {dir}\n  fix: run `stacktag hook` first, or pass --allow-no-files to only refresh Home.md and prune")]
    NoInput { what: &'static str, dir: PathBuf },

    #[error("the wiki at {wiki} is being updated by another stacktag{holder} (lock {lock}){waited}\n  fix: wait for it to finish, or pass --wait SECONDS")]
    Locked {
        wiki: PathBuf,
        lock: PathBuf,
        /// ` (pid 123)` when the holder wrote its pid.
        holder: String,
        /// `; waited 30s` when --wait was given.
        waited: String,
    },
}

/// One input file that does not parse, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: PathBuf,
    pub reason: String,
}

fn problems(all: &[Problem]) -> String {
    all.iter()
        .map(|p| format!("  {}: {}", p.path.display(), p.reason))
        .collect::<Vec<_>>()
        .join("\n")
}

impl WikiError {
    pub fn exit_code(&self) -> i32 {
        match self {
            WikiError::Locked { .. } => exit::WIKI_LOCKED,
            _ => exit::WIKI_FORMAT,
        }
    }
}

/// `stacktag wiki`: update the wiki, render it, or both.
pub fn run(hierarchy: &Hierarchy, args: &WikiArgs, quiet: bool) -> Result<(), Error> {
    let say = |text: String| {
        if !quiet {
            out(&text);
        }
    };
    if let (Some(hist_lines), Some(manifests)) = (&args.hist_lines_dir, &args.manifests_dir) {
        let root = match &args.root_image {
            Some(r) => r.clone(),
            None => hierarchy
                .images
                .iter()
                .find(|i| i.parent.is_none())
                .map(|i| i.name.clone())
                .unwrap_or_default(),
        };
        let options = Options {
            wiki_dir: args.wiki_dir.clone(),
            hist_lines_dir: hist_lines.clone(),
            manifests_dir: manifests.clone(),
            repository: args
                .repository
                .clone()
                .unwrap_or_else(|| hierarchy.repository.clone()),
            repo_dir: args.repo_dir.clone(),
            root_image: root,
            keep: args.keep,
            home_template: args.home_template.clone(),
            allow_no_files: args.allow_no_files,
            wait: Duration::from_secs(args.wait),
        };
        let report = update(&options, &mut |w| crate::console::warn(format_args!("{w}")))?;
        say(report.to_string());
    }
    if let Some(out) = &args.html {
        if !args.wiki_dir.is_dir() {
            return Err(Error::BadFile {
                path: args.wiki_dir.clone(),
                message: "no wiki here to render".into(),
            });
        }
        // Not while an update rewrites the pages.
        let _lock =
            lock::Lock::acquire(&args.wiki_dir, Duration::from_secs(args.wait), &mut |w| {
                crate::console::warn(format_args!("{w}"))
            })?;
        let report = site::render(&args.wiki_dir, out)?;
        say(report.to_string());
    }
    Ok(())
}

/// Writes to stdout; a closed pipe is not an error.
fn out(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{}", text.trim_end());
}

/// `path` relative to `base`, for messages and the index.
pub(crate) fn relative(path: &Path, base: &Path) -> PathBuf {
    path.strip_prefix(base).unwrap_or(path).to_path_buf()
}
