//! The wiki's own failures; files and git have their own errors.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum WikiError {
    #[error("refused: {} input file(s) do not parse, so nothing was written to the wiki:\n{}\n  fix: run `stacktag hook` again for these images, or remove the files", .0.len(), problems(.0))]
    BadInput(Vec<Problem>),

    #[error("{path}: {message}\n  nothing was written to the wiki\n  fix: repair the page by hand (git diff / git checkout in the wiki), then run again")]
    BadPage { path: PathBuf, message: String },

    #[error("{path}: the Home template has no `{marker}` marker")]
    Template {
        path: PathBuf,
        /// What the page must contain: `home::MARKER`.
        marker: &'static str,
    },

    // The fix names options: the CLI adds it (cli::exit).
    #[error("no {what} in {dir}")]
    NoInput { what: &'static str, dir: PathBuf },

    #[error(
        "the wiki at {wiki} is being updated by another stacktag{holder} (lock {lock}){waited}"
    )]
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
