//! Is a build dirty? Its version says so (genvid's rule, [`is_dirty_version`]),
//! or the image's context (its folder, or the folder of any ancestor image)
//! has changes git has not committed: modified, added, deleted or untracked
//! files.

use std::path::{Path, PathBuf};

pub use super::name::is_dirty_version;
use crate::error::Error;
use crate::hierarchy::Hierarchy;

/// The folders the image and each of its ancestors are built from: their
/// `context` keys (default `images/{image}`), relative to the folder of the
/// hierarchy file.
pub fn context_dirs(h: &Hierarchy, image: &str) -> Result<Vec<PathBuf>, Error> {
    let base = match h.path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Ok(h.resolve(image)?
        .chain
        .iter()
        .map(|i| base.join(&h.image(i).expect("resolved").context))
        .collect())
}

/// Files under `dirs` with uncommitted changes, relative to the repository
/// root, sorted. A folder outside any git repository is an error (a build
/// nobody can reproduce from a commit is what this check is for).
pub fn changed_files(dirs: &[PathBuf]) -> Result<Vec<String>, Error> {
    let mut changed = Vec::new();
    for dir in dirs {
        let git = crate::git::GitError::at(dir);
        if !dir.exists() {
            continue; // no such folder: nothing in it can be changed
        }
        let repo = git2::Repository::discover(dir).map_err(git)?;
        let Some(root) = repo.workdir() else { continue };
        let root = root.canonicalize().map_err(|e| Error::io(root, e))?;
        let abs = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
        let rel = abs.strip_prefix(&root).unwrap_or(Path::new(""));
        let mut opts = git2::StatusOptions::new();
        opts.include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(false)
            .disable_pathspec_match(false);
        if !rel.as_os_str().is_empty() {
            opts.pathspec(rel.join("*").to_string_lossy().as_ref());
            opts.pathspec(rel.to_string_lossy().as_ref());
        }
        let statuses = repo.statuses(Some(&mut opts)).map_err(git)?;
        for s in statuses.iter() {
            if s.status().is_ignored() || s.status() == git2::Status::CURRENT {
                continue;
            }
            if let Ok(p) = s.path() {
                let p = p.to_string();
                if !changed.contains(&p) {
                    changed.push(p);
                }
            }
        }
    }
    changed.sort();
    Ok(changed)
}

/// Why a build is dirty, for a warning or a refusal; `None` when clean.
pub fn reason(version: Option<&str>, changed: &[String]) -> Option<String> {
    let mut why = Vec::new();
    if let Some(v) = version.filter(|v| is_dirty_version(v)) {
        why.push(format!(
            "its version {v:?} is not a release (latest, dev, *.dirty, *+dirty and X.Y.Z.0 never are)"
        ));
    }
    if !changed.is_empty() {
        const SHOWN: usize = 10;
        let mut list = changed
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if changed.len() > SHOWN {
            list += &format!(" and {} more", changed.len() - SHOWN);
        }
        why.push(format!("its build context has uncommitted changes: {list}"));
    }
    (!why.is_empty()).then(|| why.join("; "))
}
