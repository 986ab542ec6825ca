//! Commits of the stack's repository per month: the first-parent history of
//! HEAD (the merges into main, not the commits of each branch), by the
//! month of the commit time in UTC, as upstream counts with
//! `TZ=UTC git log --first-parent --since --until`.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::DateTime;

use super::month::Month;
use crate::error::Error;

#[derive(Debug, Default, Clone)]
pub struct Commits {
    pub by_month: BTreeMap<Month, u64>,
    /// A shallow clone's counts stop where its history does.
    pub shallow: bool,
    /// The repository's default branch, for the links to its commits:
    /// `origin/HEAD`'s branch, else the checked-out branch, else `main`.
    pub branch: String,
}

impl Commits {
    /// Walks the first-parent history of HEAD of the repository around `dir`.
    pub fn count(dir: &Path) -> Result<Commits, Error> {
        let git = crate::git::GitError::at(dir);
        let repo = git2::Repository::discover(dir).map_err(git)?;
        let mut walk = repo.revwalk().map_err(git)?;
        walk.push_head().map_err(git)?;
        walk.simplify_first_parent().map_err(git)?;
        let mut by_month = BTreeMap::new();
        for oid in walk {
            let commit = repo.find_commit(oid.map_err(git)?).map_err(git)?;
            let Some(time) = DateTime::from_timestamp(commit.time().seconds(), 0) else {
                continue;
            };
            *by_month
                .entry(Month::of_date(time.date_naive()))
                .or_insert(0) += 1;
        }
        Ok(Commits {
            by_month,
            shallow: repo.is_shallow(),
            branch: default_branch(&repo),
        })
    }

    pub fn in_month(&self, month: Month) -> u64 {
        self.by_month.get(&month).copied().unwrap_or(0)
    }
}

fn default_branch(repo: &git2::Repository) -> String {
    let remote_head = repo
        .find_reference("refs/remotes/origin/HEAD")
        .ok()
        .and_then(|r| r.symbolic_target().ok().flatten().map(str::to_string))
        .and_then(|t| t.strip_prefix("refs/remotes/origin/").map(str::to_string));
    let checked_out = || {
        let head = repo.head().ok()?;
        head.is_branch()
            .then(|| head.shorthand().ok().map(str::to_string))
            .flatten()
    };
    remote_head
        .or_else(checked_out)
        .unwrap_or_else(|| "main".to_string())
}
