//! Keeping at most N manifests: GitHub shows at most 5000 pages of a wiki.
//! The newest by build timestamp stay (ties broken by path, as upstream's
//! sort of `(timestamp, path)` does); the rows that link the others stay too.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Upstream's `MAX_NUMBER_OF_MANIFESTS`.
pub const DEFAULT_KEEP: usize = 4500;

/// The manifests to delete so that `keep` remain.
pub fn beyond(manifests: &BTreeMap<PathBuf, String>, keep: usize) -> Vec<PathBuf> {
    let mut all: Vec<(&String, &PathBuf)> = manifests.iter().map(|(p, t)| (t, p)).collect();
    all.sort_by(|a, b| b.cmp(a));
    all.into_iter().skip(keep).map(|(_, p)| p.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_stay() {
        let m: BTreeMap<PathBuf, String> = [
            ("a.md", "2024-01-01T00:00:00Z"),
            ("b.md", "2026-01-01T00:00:00Z"),
            ("c.md", "2025-01-01T00:00:00Z"),
            ("d.md", ""),
        ]
        .into_iter()
        .map(|(p, t)| (PathBuf::from(p), t.to_string()))
        .collect();
        assert_eq!(
            beyond(&m, 2),
            vec![PathBuf::from("a.md"), PathBuf::from("d.md")]
        );
        assert!(beyond(&m, 10).is_empty());
    }
}
