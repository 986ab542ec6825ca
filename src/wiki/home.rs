//! `Home.md`: the template with, in place of its marker, one table per year
//! (newest first) of each month's builds, images and commits.

use std::collections::BTreeMap;

use super::commits::Commits;
use super::index::Index;
use super::month::Month;
use super::table::{github, Cell};
use crate::formats::tags::DEFAULT_VARIANT;

pub const MARKER: &str = "<!-- YEAR_MONTHLY_TABLES -->";
/// The project's template (`wiki/Home.md`), used unless --home-template is given.
pub const TEMPLATE: &str = include_str!("../../wiki/Home.md");

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Builds of the root image (default variant) on one platform: the
    /// platform with the most of them that month, so that a run building
    /// both platforms counts once.
    pub builds: u64,
    /// Single-platform images: rows of the monthly page.
    pub images: u64,
    pub commits: u64,
}

/// Every monthly page's statistics, from the index.
pub fn stats(index: &Index, root_image: &str, commits: &Commits) -> BTreeMap<Month, Stats> {
    index
        .pages
        .iter()
        .map(|(&month, page)| {
            let mut per_platform: BTreeMap<&str, u64> = BTreeMap::new();
            for r in &page.rows {
                if r.image == root_image && r.variant == DEFAULT_VARIANT {
                    *per_platform.entry(r.platform.as_str()).or_default() += 1;
                }
            }
            let stats = Stats {
                builds: per_platform.values().copied().max().unwrap_or(0),
                images: page.rows.len() as u64,
                commits: commits.in_month(month),
            };
            (month, stats)
        })
        .collect()
}

/// Where the page comes from and where its links point.
pub struct Source<'a> {
    /// GitHub `OWNER/REPO`.
    pub repository: &'a str,
    /// The branch whose commits are counted and linked.
    pub branch: &'a str,
    /// What the page says it is made from (`{TEMPLATE}` in the template).
    pub template: &'a str,
}

/// The template up to its marker, `{REPOSITORY}` and `{TEMPLATE}` filled in,
/// then the tables. `None` when the template has no marker.
pub fn render(template: &str, src: &Source, months: &BTreeMap<Month, Stats>) -> Option<String> {
    let end = template.find(MARKER)? + MARKER.len();
    let (repository, branch) = (src.repository, src.branch);
    let mut page = template[..end]
        .replace("{REPOSITORY}", repository)
        .replace("{TEMPLATE}", src.template);
    let commits_link = |n: u64, since: String, until: String| {
        format!(
            "[{n}](https://github.com/{repository}/commits/{branch}/?since={since}&until={until})"
        )
    };
    let mut years: BTreeMap<i32, Vec<(Month, Stats)>> = BTreeMap::new();
    for (&m, &s) in months {
        years.entry(m.year).or_default().push((m, s));
    }
    for (year, months) in years.iter().rev() {
        let mut total = Stats::default();
        let mut rows = Vec::new();
        for (m, s) in months.iter().rev() {
            total.builds += s.builds;
            total.images += s.images;
            total.commits += s.commits;
            rows.push(vec![
                Cell::Text(format!("[`{m}`](./{m})")),
                Cell::Number(s.builds),
                Cell::Number(s.images),
                Cell::Text(commits_link(
                    s.commits,
                    m.first_day().to_string(),
                    m.last_day().to_string(),
                )),
            ]);
        }
        rows.push(vec![
            Cell::Text("**Total**".into()),
            Cell::Number(total.builds),
            Cell::Number(total.images),
            Cell::Text(commits_link(
                total.commits,
                format!("{year}-01-01"),
                format!("{year}-12-31"),
            )),
        ]);
        page.push_str(&format!("\n\n## {year}\n\n"));
        page.push_str(&github(&["Month", "Builds", "Images", "Commits"], &rows));
    }
    page.push('\n');
    Some(page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wiki::index::Page;
    use crate::wiki::row::Row;

    fn row(platform: &str, image: &str) -> Row {
        Row {
            timestamp: "2026-11-22T23:48:58Z".into(),
            platform: platform.into(),
            variant: "default".into(),
            image: image.into(),
            page: String::new(),
        }
    }

    #[test]
    fn builds_count_the_root_on_one_platform() {
        let mut index = Index::default();
        index.pages.insert(
            "2026-11".parse().unwrap(),
            Page {
                blob: String::new(),
                rows: vec![
                    row("x86_64", "foundation"),
                    row("aarch64", "foundation"),
                    row("x86_64", "base"),
                    row("x86_64", "foundation"),
                ],
            },
        );
        let s = stats(&index, "foundation", &Commits::default());
        let s = s[&"2026-11".parse().unwrap()];
        assert_eq!((s.builds, s.images, s.commits), (2, 4, 0));
    }

    #[test]
    fn tables_per_year_newest_first() {
        let mut months = BTreeMap::new();
        for (m, b) in [("2025-12", 3), ("2026-01", 1), ("2026-02", 12)] {
            months.insert(
                m.parse().unwrap(),
                Stats {
                    builds: b,
                    images: b * 6,
                    commits: 2,
                },
            );
        }
        let src = Source {
            repository: "o/r",
            branch: "main",
            template: "t.md",
        };
        let page = render(
            "# Hi {REPOSITORY} from {TEMPLATE}\n<!-- YEAR_MONTHLY_TABLES -->\nignored\n",
            &src,
            &months,
        )
        .unwrap();
        let expected = "# Hi o/r from t.md\n<!-- YEAR_MONTHLY_TABLES -->

## 2026

| Month                  |   Builds |   Images | Commits                                                                     |
|------------------------|----------|----------|-----------------------------------------------------------------------------|
| [`2026-02`](./2026-02) |       12 |       72 | [2](https://github.com/o/r/commits/main/?since=2026-02-01&until=2026-02-28) |
| [`2026-01`](./2026-01) |        1 |        6 | [2](https://github.com/o/r/commits/main/?since=2026-01-01&until=2026-01-31) |
| **Total**              |       13 |       78 | [4](https://github.com/o/r/commits/main/?since=2026-01-01&until=2026-12-31) |

## 2025

| Month                  |   Builds |   Images | Commits                                                                     |
|------------------------|----------|----------|-----------------------------------------------------------------------------|
| [`2025-12`](./2025-12) |        3 |       18 | [2](https://github.com/o/r/commits/main/?since=2025-12-01&until=2025-12-31) |
| **Total**              |        3 |       18 | [2](https://github.com/o/r/commits/main/?since=2025-01-01&until=2025-12-31) |
";
        assert_eq!(page, expected);
        assert!(render("no marker", &src, &months).is_none());
        let master = Source {
            branch: "master",
            ..src
        };
        let page = render(MARKER, &master, &months).unwrap();
        assert!(page.contains("https://github.com/o/r/commits/master/?since=2026-02-01"));
    }
}
