//! A wiki as upstream's `update_wiki.py` keeps it, years of it, made by the
//! tests: monthly pages with rows inserted the way upstream inserts them
//! (each at the top, a run's files in name order), manifests by month,
//! page names in both of upstream's shapes (`{platform}-{image}-{sha}`
//! before 2024, `{platform}-{variant}-{image}-{sha}` after), and Home.md
//! counted with upstream's rule (lines with `/base-notebook` and without
//! `aarch64`; `Build manifest` links). No `.stacktag/` index.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use stacktag::wiki::commits::Commits;
use stacktag::wiki::home::{self, Stats};
use stacktag::wiki::month::Month;

pub const REPOSITORY: &str = "jupyter/docker-stacks";
pub const IMAGES: [&str; 3] = [
    "docker-stacks-foundation",
    "base-notebook",
    "minimal-notebook",
];
pub const PLATFORMS: [&str; 2] = ["x86_64", "aarch64"];

/// A deterministic 40-hex sha for a run.
pub fn sha40(seed: u64) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut s = String::new();
    while s.len() < 40 {
        x ^= x >> 29;
        x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x ^= x >> 32;
        s.push_str(&format!("{x:016x}"));
    }
    s.truncate(40);
    s
}

pub struct Build {
    pub timestamp: String,
    pub image: String,
    pub platform: String,
    pub variant: String,
    pub sha: String,
    /// The manifest's page name.
    pub page: String,
}

impl Build {
    pub fn new(timestamp: &str, image: &str, platform: &str, sha: &str, old_names: bool) -> Build {
        let page = if old_names {
            format!("{platform}-{image}-{}", &sha[..12])
        } else {
            format!("{platform}-default-{image}-{}", &sha[..12])
        };
        Build {
            timestamp: timestamp.into(),
            image: image.into(),
            platform: platform.into(),
            variant: "default".into(),
            sha: sha.into(),
            page,
        }
    }

    pub fn line(&self) -> String {
        let (i, p, s, r) = (&self.image, &self.platform, &self.sha, REPOSITORY);
        format!(
            "| `{}` | `quay.io/jupyter/{i}:{p}-{}`<br />`quay.io/jupyter/{i}:{p}-python-3.12` | [Git diff](https://github.com/{r}/commit/{s})<br />[Dockerfile](https://github.com/{r}/blob/{s}/images/{i}/Dockerfile)<br />[Build manifest](./{}) |",
            self.timestamp,
            &s[..12],
            self.page
        )
    }

    pub fn manifest(&self) -> String {
        let (i, p, s) = (&self.image, &self.platform, &self.sha);
        format!(
            "# Build manifest for image: {i}:{p}-{}\n\n## Build Info\n\n- Build timestamp: {}\n- Docker image: `quay.io/jupyter/{i}:{p}-{}`\n- Docker image size: 1.05GB\n- Git commit SHA: [{s}](https://github.com/{REPOSITORY}/commit/{s})\n- Git commit message:\n\n```text\nA change\n```\n\n## Apt Packages\n\n`apt list --installed`:\n\n```text\nadduser/now 3.137ubuntu1 all [installed,local]\nbash/now 5.2.21-2ubuntu4 amd64 [installed,local]\n```\n",
            &s[..12],
            self.timestamp,
            &s[..12]
        )
    }

    pub fn month(&self) -> Month {
        Month::of_timestamp(&self.timestamp).unwrap()
    }
}

/// The builds of one run: every image on every platform, one timestamp per
/// image as upstream's jobs have.
pub fn run(month: Month, day: u32, seed: u64, old_names: bool) -> Vec<Build> {
    let sha = sha40(seed);
    let mut builds = Vec::new();
    for (pi, platform) in PLATFORMS.iter().enumerate() {
        for (ii, image) in IMAGES.iter().enumerate() {
            let ts = format!(
                "{month}-{day:02}T{:02}:{:02}:{:02}Z",
                10 + pi,
                ii * 7,
                (seed % 60)
            );
            builds.push(Build::new(&ts, image, platform, &sha, old_names));
        }
    }
    builds
}

/// The months of the fixture and how many runs each had.
pub fn history(months: &[(&str, u32)]) -> Vec<Vec<Build>> {
    let mut runs = Vec::new();
    let mut seed = 1;
    for (m, count) in months {
        let month: Month = m.parse().unwrap();
        for r in 0..*count {
            seed += 1;
            runs.push(run(month, 1 + r * 2, seed, month.year < 2024));
        }
    }
    runs
}

/// Writes the wiki as upstream would have left it after these runs, in order.
pub fn write_upstream_wiki(wiki: &Path, runs: &[Vec<Build>], stack_repo: &Path) {
    let mut pages: BTreeMap<Month, String> = BTreeMap::new();
    for run in runs {
        let mut builds: Vec<&Build> = run.iter().collect();
        builds.sort_by(|a, b| a.page.cmp(&b.page));
        for b in builds {
            let path = wiki
                .join("manifests")
                .join(b.month().year.to_string())
                .join(b.month().to_string())
                .join(format!("{}.md", b.page));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, b.manifest()).unwrap();
            let header = format!(
                "# Images built during {}\n\n| Date | Image | Links |\n| - | - | - |\n",
                b.month()
            );
            let page = pages.entry(b.month()).or_insert_with(|| header.clone());
            *page = page.replacen(&header, &format!("{header}{}\n", b.line()), 1);
        }
    }
    let commits = Commits::count(stack_repo).unwrap();
    let mut stats = BTreeMap::new();
    for (month, text) in &pages {
        let path = wiki
            .join("monthly-files")
            .join(month.year.to_string())
            .join(format!("{month}.md"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        stats.insert(
            *month,
            Stats {
                builds: text
                    .split('\n')
                    .filter(|l| l.contains("/base-notebook") && !l.contains("aarch64"))
                    .count() as u64,
                images: text.matches("Build manifest").count() as u64,
                commits: commits.in_month(*month),
            },
        );
    }
    let source = home::Source {
        repository: REPOSITORY,
        branch: "main",
        template: "stacktag's built-in Home template",
    };
    let homepage = home::render(home::TEMPLATE, &source, &stats).unwrap();
    std::fs::write(wiki.join("Home.md"), homepage).unwrap();
}

/// Writes a run's files as `stacktag hook` does: `{out}/manifests`, `{out}/hist_lines`.
pub fn write_hook_output(out: &Path, builds: &[Build]) -> (PathBuf, PathBuf) {
    let (m, h) = (out.join("manifests"), out.join("hist_lines"));
    std::fs::create_dir_all(&m).unwrap();
    std::fs::create_dir_all(&h).unwrap();
    for b in builds {
        std::fs::write(m.join(format!("{}.md", b.page)), b.manifest()).unwrap();
        std::fs::write(h.join(format!("{}.txt", b.page)), b.line()).unwrap();
    }
    (h, m)
}

/// A stack repository whose first-parent history has commits at `times`
/// (unix seconds, oldest first), plus a merged side branch whose own
/// commit must not be counted.
pub fn stack_repo(dir: &Path, times: &[i64]) {
    let repo = git2::Repository::init(dir).unwrap();
    let tree_id = repo.index().unwrap().write_tree().unwrap();
    let tree = repo.find_tree(tree_id).unwrap();
    let mut parent: Option<git2::Oid> = None;
    for (n, t) in times.iter().enumerate() {
        let sig = git2::Signature::new("t", "t@example.com", &git2::Time::new(*t, 0)).unwrap();
        let parents: Vec<git2::Commit> = parent
            .iter()
            .map(|p| repo.find_commit(*p).unwrap())
            .collect();
        let refs: Vec<&git2::Commit> = parents.iter().collect();
        let mut id = repo
            .commit(None, &sig, &sig, &format!("commit {n}"), &tree, &refs)
            .unwrap();
        if n == times.len() / 2 && parent.is_some() {
            // A side branch off the previous commit, merged here.
            let side = repo.commit(None, &sig, &sig, "side", &tree, &refs).unwrap();
            let main = repo.find_commit(id).unwrap();
            let side = repo.find_commit(side).unwrap();
            id = repo
                .commit(None, &sig, &sig, "merge", &tree, &[&main, &side])
                .unwrap();
        }
        parent = Some(id);
    }
    if let Some(p) = parent {
        repo.reference("refs/heads/main", p, true, "fixture")
            .unwrap();
        repo.set_head("refs/heads/main").unwrap();
    }
}

/// Every file under `dir` but `.git`, with its bytes: the wiki's tree.
pub fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_name() == ".git" {
                continue;
            }
            if e.file_type().unwrap().is_dir() {
                todo.push(e.path());
            } else {
                out.insert(
                    e.path().strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(e.path()).unwrap(),
                );
            }
        }
    }
    out
}

/// Modification times of every file under `dir` but `.git`.
pub fn mtimes(dir: &Path) -> BTreeMap<PathBuf, std::time::SystemTime> {
    tree(dir)
        .keys()
        .map(|p| {
            (
                p.clone(),
                std::fs::metadata(dir.join(p)).unwrap().modified().unwrap(),
            )
        })
        .collect()
}

/// Unix time of a UTC date and time.
pub fn unix(date: &str) -> i64 {
    chrono::NaiveDateTime::parse_from_str(date, "%Y-%m-%dT%H:%M:%SZ")
        .unwrap()
        .and_utc()
        .timestamp()
}

/// `stacktag wiki` adding `inputs` (a hook output directory) to `wiki`.
pub fn update(wiki: &Path, inputs: &Path, repo: &Path, extra: &[&str]) -> Output {
    let (w, h, m, r) = (
        wiki.display().to_string(),
        inputs.join("hist_lines").display().to_string(),
        inputs.join("manifests").display().to_string(),
        repo.display().to_string(),
    );
    let mut args = vec![
        "wiki",
        "--wiki-dir",
        &w,
        "--hist-lines-dir",
        &h,
        "--manifests-dir",
        &m,
        "--repo-dir",
        &r,
    ];
    args.extend_from_slice(extra);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stacktag"))
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("STACKTAG_CONFIG")
        .env("STACKTAG_RUN_ID", "t-wiki")
        .output();
    out.unwrap()
}

pub fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A stack repository with a few commits in the fixture's months.
pub fn fixture_repo(dir: &Path) {
    let times: Vec<i64> = [
        "2023-01-03T10:00:00Z",
        "2023-01-20T10:00:00Z",
        "2023-03-31T23:59:59Z",
        "2024-05-01T00:00:00Z",
        "2024-05-09T12:00:00Z",
        "2025-02-14T08:00:00Z",
        "2025-06-30T23:00:00Z",
        "2026-11-02T09:00:00Z",
        "2026-11-20T09:00:00Z",
    ]
    .iter()
    .map(|d| unix(d))
    .collect();
    stack_repo(dir, &times);
}
