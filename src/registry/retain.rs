//! `stacktag retain`: which builds of an image stay in the registry. Kept:
//! the newest N builds (by their date tag, else their image's `created`), every
//! build a moving tag (`latest`, `python-3.11`) points to, and every build the
//! wiki's last M months cite. The rest is planned for deletion as
//! `stacktag delete` would delete its tags; a plan that keeps nothing is refused.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{Datelike, NaiveDate};

use super::client::Registry;
use super::error::RegistryError;
use super::list::{Build, Kind, Tag};
use super::merge::reference;

/// The rules of one run.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// The newest builds kept.
    pub keep: usize,
    /// Commits the wiki cites in the months kept (none without a wiki).
    pub cited: BTreeSet<String>,
}

/// One build and what becomes of it (as `retain --format json` lists it).
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Decision {
    #[serde(flatten)]
    pub build: Build,
    /// `2026-11-24`: its date tag, else the day its image was created.
    pub date: Option<String>,
    pub keep: bool,
    /// Why it is kept: `newest N`, `moving tag latest`, `cited by the wiki`,
    /// `no date`; empty for one that goes.
    pub why: Vec<String>,
}

/// The decisions, newest build first. A build with no date is kept (its age
/// cannot be told).
pub fn decide(builds: Vec<(Build, Option<String>)>, rules: &Rules) -> Vec<Decision> {
    let mut all: Vec<Decision> = builds
        .into_iter()
        .map(|(build, date)| Decision {
            build,
            date,
            keep: false,
            why: Vec::new(),
        })
        .collect();
    // Newest first; no date first of all (kept), then by commit for a stable order.
    all.sort_by(|a, b| match (&a.date, &b.date) {
        (None, None) => a.build.commit.cmp(&b.build.commit),
        (None, Some(_)) => std::cmp::Ordering::Less,
        (Some(_), None) => std::cmp::Ordering::Greater,
        (Some(x), Some(y)) => y.cmp(x).then(a.build.commit.cmp(&b.build.commit)),
    });
    for (i, d) in all.iter_mut().enumerate() {
        if d.date.is_none() {
            d.why.push("no date".into());
        } else if i < rules.keep {
            d.why.push(format!("newest {}", rules.keep));
        }
        if !d.build.moving.is_empty() {
            d.why
                .push(format!("moving tag {}", d.build.moving.join(", ")));
        }
        if rules.cited.contains(&d.build.commit) {
            d.why.push("cited by the wiki".into());
        }
        d.keep = !d.why.is_empty();
    }
    all
}

/// The tags to delete: those of the builds that go, but none that a kept
/// build also has (two builds with the same image share its tags).
pub fn tags_to_delete(decisions: &[Decision], all: &[Tag]) -> Vec<String> {
    let kept: BTreeSet<&str> = decisions
        .iter()
        .filter(|d| d.keep)
        .flat_map(|d| d.build.tags.iter().map(String::as_str))
        .collect();
    let mut out: Vec<String> = Vec::new();
    for d in decisions.iter().filter(|d| !d.keep) {
        for t in &d.build.tags {
            if !kept.contains(t.as_str()) && !out.contains(t) {
                out.push(t.clone());
            }
        }
    }
    // The listing's order (by name), so the plan reads the same every run.
    out.sort_by_key(|t| all.iter().position(|x| &x.tag == t));
    out
}

/// Refused: a plan that deletes every build.
pub fn check_not_everything(
    name: &str,
    decisions: &[Decision],
    force: bool,
) -> Result<(), RegistryError> {
    if force || decisions.is_empty() || decisions.iter().any(|d| d.keep) {
        return Ok(());
    }
    Err(RegistryError::Refused {
        what: format!("apply the retention to {name}"),
        why: format!(
            "it would delete every build ({}), keeping none",
            decisions.len()
        ),
        fix: "keep at least one build".into(),
    })
}

/// The commits of `image` whose build manifests the wiki holds for the
/// last `months` months up to `today` (formats.md, "Wiki":
/// `manifests/YYYY/YYYY-MM/{platform}-{variant}-{image}-{sha12}.md`).
pub fn cited(
    wiki: &Path,
    image: &str,
    months: u32,
    today: NaiveDate,
) -> std::io::Result<BTreeSet<String>> {
    let first = {
        let total = today.year() * 12 + today.month0() as i32 - months.saturating_sub(1) as i32;
        (total.div_euclid(12), total.rem_euclid(12) as u32 + 1)
    };
    let dir = wiki.join(crate::wiki::layout::MANIFESTS_DIR);
    let mut out = BTreeSet::new();
    for path in crate::wiki::layout::files_with_ext(&dir, ".md")? {
        let month = path
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
            .and_then(|n| {
                let (y, m) = n.split_once('-')?;
                Some((y.parse::<i32>().ok()?, m.parse::<u32>().ok()?))
            });
        let Some(month) = month else { continue };
        if month < first {
            continue;
        }
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let Some((rest, sha)) = stem.rsplit_once('-') else {
            continue;
        };
        if rest.ends_with(&format!("-{image}")) && sha.len() == 12 {
            out.insert(sha.to_string());
        }
    }
    Ok(out)
}

/// The build's date: its date tag, else the `created` day of its image
/// (read from the registry: the manifest, an index's first image, its config).
pub async fn date_of(
    registry: &Registry,
    repository: &str,
    build: &Build,
    all: &[Tag],
) -> Result<Option<String>, RegistryError> {
    if let Some(d) = &build.date {
        return Ok(Some(d.clone()));
    }
    let Some(tag) = all
        .iter()
        .find(|t| t.kind == Kind::Commit && build.digests.contains(&t.digest))
    else {
        return Ok(None);
    };
    let mut digest = tag.digest.clone();
    for _ in 0..2 {
        let (body, _) = registry
            .manifest(&registry.reference_digest(repository, &digest))
            .await?;
        let raw: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        if let Some(entries) = raw["manifests"].as_array() {
            let Some(first) = entries
                .iter()
                .find(|e| e["annotations"][reference::TYPE].is_null())
                .and_then(|e| e["digest"].as_str())
            else {
                return Ok(None);
            };
            digest = first.to_string();
            continue;
        }
        let Some(config) = raw["config"]["digest"].as_str() else {
            return Ok(None);
        };
        let blob = registry
            .blob(&registry.reference_digest(repository, config), config)
            .await?;
        let c: serde_json::Value = serde_json::from_slice(&blob).unwrap_or_default();
        return Ok(c["created"]
            .as_str()
            .and_then(|s| s.get(..10))
            .map(str::to_string));
    }
    Ok(None)
}

/// The decisions as a map by commit, for lookups.
pub fn by_commit(decisions: &[Decision]) -> BTreeMap<&str, &Decision> {
    decisions
        .iter()
        .map(|d| (d.build.commit.as_str(), d))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(commit: &str, moving: &[&str]) -> Build {
        Build {
            commit: commit.into(),
            digests: BTreeSet::from([format!("sha256:{commit}")]),
            tags: vec![commit.to_string()],
            date: None,
            moving: moving.iter().map(|m| m.to_string()).collect(),
        }
    }

    #[test]
    fn the_newest_the_moving_and_the_cited_stay() {
        let builds = vec![
            (build("a", &[]), Some("2026-11-01".to_string())),
            (build("b", &[]), Some("2026-11-03".to_string())),
            (build("c", &["latest"]), Some("2026-11-02".to_string())),
            (build("d", &[]), Some("2026-10-01".to_string())),
            (build("e", &[]), None),
        ];
        let rules = Rules {
            keep: 2,
            cited: BTreeSet::from(["d".to_string()]),
        };
        let d = decide(builds, &rules);
        let order: Vec<_> = d
            .iter()
            .map(|d| (d.build.commit.as_str(), d.keep))
            .collect();
        assert_eq!(
            order,
            [
                ("e", true),
                ("b", true),
                ("c", true),
                ("a", false),
                ("d", true)
            ]
        );
        assert_eq!(d[2].why, ["moving tag latest"]);
        assert!(check_not_everything("r/o/i", &d, false).is_ok());
        let none = decide(
            vec![(build("a", &[]), Some("2026-11-01".into()))],
            &Rules::default(),
        );
        let e = check_not_everything("r/o/i", &none, false).unwrap_err();
        assert!(e.to_string().contains("every build (1)"), "{e}");
        assert!(check_not_everything("r/o/i", &none, true).is_ok());
    }

    #[test]
    fn the_wiki_cites_the_builds_of_its_last_months() {
        let wiki = tempfile::tempdir().unwrap();
        let put = |month: &str, file: &str| {
            let dir = wiki.path().join("manifests").join(&month[..4]).join(month);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(file), "x").unwrap();
        };
        put("2026-11", "x86_64-default-tiny-aaaaaaaaaaaa.md");
        put("2026-10", "aarch64-default-tiny-bbbbbbbbbbbb.md");
        put("2026-09", "x86_64-default-tiny-cccccccccccc.md");
        put("2026-11", "x86_64-default-other-dddddddddddd.md");
        let today = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let c = cited(wiki.path(), "tiny", 2, today).unwrap();
        assert_eq!(
            c.into_iter().collect::<Vec<_>>(),
            ["aaaaaaaaaaaa", "bbbbbbbbbbbb"]
        );
        let jan = NaiveDate::from_ymd_opt(2027, 1, 5).unwrap();
        assert_eq!(cited(wiki.path(), "tiny", 3, jan).unwrap().len(), 1);
    }
}
