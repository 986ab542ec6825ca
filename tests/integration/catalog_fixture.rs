//! A synthetic wiki of many builds whose manifests list packages as the
//! real commands print them (apt, mamba, R), versions moving over time as
//! a stack's do (each package on its own rhythm; python 3.11 -> 3.12,
//! numpy 1.24 -> 2.0, R 4.3 -> 4.4), and the truth of every build kept
//! beside it, so that `find` can be checked against a brute-force scan.
//! Used by tests/integration/find.rs and benches/find.rs.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

pub const REPOSITORY: &str = "jupyter/docker-stacks";
pub const IMAGES: [&str; 3] = ["base-notebook", "scipy-notebook", "r-notebook"];
pub const PLATFORMS: [&str; 2] = ["x86_64", "aarch64"];

/// How many packages each manifest lists (besides the fixed real ones).
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub apt: usize,
    pub conda: usize,
    pub r: usize,
}

/// About the size of upstream's manifests (base-notebook to r-notebook).
pub const REAL: Size = Size {
    apt: 300,
    conda: 350,
    r: 120,
};
/// Smaller, for tests that build thousands of them in a debug build.
pub const SMALL: Size = Size {
    apt: 40,
    conda: 60,
    r: 20,
};

/// What one build holds: `(manager, name)` to version, and its tags.
#[derive(Debug, Clone)]
pub struct Truth {
    pub page: String,
    pub image: String,
    pub platform: String,
    pub timestamp: String,
    pub month: String,
    pub reference: String,
    pub tags: Vec<String>,
    pub packages: BTreeMap<(String, String), String>,
}

fn h(x: u64) -> u64 {
    let mut x = x.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 31;
    x.wrapping_mul(0xBF58_476D_1CE4_E5B9) >> 7
}

fn sha40(seed: u64) -> String {
    let mut s = String::new();
    let mut x = seed;
    while s.len() < 40 {
        x = h(x + 1);
        s.push_str(&format!("{x:016x}"));
    }
    s.truncate(40);
    s
}

/// The stage of package `k` at run `r`: it changes every `period` runs.
fn stage(k: u64, r: u64) -> u64 {
    let period = 20 + h(k) % 200;
    (r + h(k ^ 7) % period) / period
}

fn python(r: u64, runs: u64) -> String {
    if r < runs / 2 {
        format!("3.11.{}", 4 + r * 6 / runs)
    } else {
        format!("3.12.{}", r * 8 / runs)
    }
}

fn numpy(r: u64, runs: u64) -> String {
    match r * 4 / runs {
        0 => format!("1.24.{}", r % 4),
        1 => format!("1.26.{}", r % 5),
        2 => "1.26.4".to_string(),
        _ => format!("2.0.{}", r % 3),
    }
}

fn r_version(r: u64, runs: u64) -> String {
    if r < runs / 3 {
        "4.3.3".into()
    } else {
        format!("4.4.{}", (r * 3 / runs).min(3))
    }
}

fn build_truth(run: u64, runs: u64, image: &str, platform: &str, size: Size, ts: &str) -> Truth {
    let mut p: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut put = |m: &str, n: &str, v: String| {
        p.insert((m.to_string(), n.to_string()), v);
    };
    for k in 0..size.apt as u64 {
        let v = format!("{}.{}.{}-{}", 1 + k % 9, k % 13, k % 7, 1 + stage(k, run));
        put("apt", &format!("libsynth{k}"), v);
    }
    put("apt", "bash", format!("5.2.{}-2", 15 + run * 6 / runs));
    put(
        "apt",
        "libc6",
        format!("2.36-9+deb12u{}", 1 + run * 9 / runs),
    );
    let conda = match image {
        "base-notebook" => size.conda / 2,
        "scipy-notebook" => size.conda,
        _ => size.conda * 4 / 3,
    };
    for k in 0..conda as u64 {
        let v = format!("{}.{}.{}", 1 + k % 5, k % 17, stage(k + 1000, run));
        put("conda", &format!("pysynth-{k}"), v);
    }
    put("conda", "python", python(run, runs));
    put("conda", "pip", format!("24.{}", run * 3 / runs));
    if image != "base-notebook" {
        put("conda", "numpy", numpy(run, runs));
        put(
            "conda",
            "pandas",
            format!("2.{}.{}", run * 3 / runs, run % 3),
        );
    }
    if image == "r-notebook" {
        for k in 0..size.r as u64 {
            put(
                "r",
                &format!("rsynth{k}"),
                format!("{}.{}-{}", k % 4, k % 10, stage(k + 2000, run)),
            );
        }
        put("r", "base", r_version(run, runs));
    }
    let sha = sha40(run + 1);
    let mut tags = vec![
        format!("{platform}-{}", &sha[..12]),
        format!("{platform}-{}", &ts[..10]),
        format!("{platform}-ubuntu-24.04"),
    ];
    let py = python(run, runs);
    tags.push(format!("{platform}-python-{}", &py[..4]));
    tags.push(format!("{platform}-python-{py}"));
    if image == "r-notebook" {
        tags.push(format!("{platform}-r-{}", r_version(run, runs)));
    }
    let page = format!("{platform}-default-{image}-{}", &sha[..12]);
    Truth {
        page,
        image: image.into(),
        platform: platform.into(),
        timestamp: ts.into(),
        month: ts[..7].into(),
        reference: format!("quay.io/jupyter/{image}:{platform}-{}", &sha[..12]),
        tags,
        packages: p,
    }
}

/// The manifest of a build, as `stacktag hook` writes it.
pub fn manifest(t: &Truth) -> String {
    let sha12 = t.reference.rsplit('-').next().unwrap();
    let mut md = format!(
        "# Build manifest for image: {}:{}-{sha12}\n\n## Build Info\n\n- Build timestamp: {}\n- Docker image: `{}`\n- Docker image size: 1.05GB\n- Git commit SHA: [x](https://github.com/{REPOSITORY}/commit/x)\n- Git commit message:\n\n```text\nA change\n```\n",
        t.image, t.platform, t.timestamp, t.reference
    );
    fn of<'a>(
        t: &'a Truth,
        m: &'a str,
    ) -> impl Iterator<Item = (&'a (String, String), &'a String)> + 'a {
        t.packages.iter().filter(move |((mm, _), _)| mm == m)
    }
    md += "\n## Python Packages\n\n`mamba list`:\n\n```text\nList of packages in environment: \"/opt/conda\"\n\n  Name                 Version       Build                 Channel\n────────────────────────────────────────────────────────────────────────\n";
    for ((_, n), v) in of(t, "conda") {
        md += &format!("  {n:<20} {v:<13} pyhd8ed1ab_0          conda-forge\n");
    }
    md += "```\n\n## Apt Packages\n\n`apt list --installed`:\n\n```text\nListing...\n";
    let arch = if t.platform == "x86_64" {
        "amd64"
    } else {
        "arm64"
    };
    for ((_, n), v) in of(t, "apt") {
        md += &format!("{n}/now {v} {arch} [installed,local]\n");
    }
    md += "```\n";
    if of(t, "r").next().is_some() {
        md += "\n## R Packages\n\n`R --silent -e 'installed.packages(.Library)[, c(1,3)]'`:\n\n```text\n> installed.packages(.Library)[, c(1,3)]\n          Package     Version\n";
        for ((_, n), v) in of(t, "r") {
            md += &format!("{n:<9} \"{n}\" \"{v}\"\n");
        }
        md += "```\n";
    }
    md
}

/// The history line of a build.
pub fn line(t: &Truth) -> String {
    let name = t.reference.rsplit_once(':').unwrap().0;
    let tags: Vec<String> = t.tags.iter().map(|g| format!("`{name}:{g}`")).collect();
    format!(
        "| `{}` | {} | [Git diff](https://github.com/{REPOSITORY}/commit/x)<br />[Build manifest](./{}) |",
        t.timestamp,
        tags.join("<br />"),
        t.page
    )
}

/// `runs` runs of every image on every platform, `per_month` runs a month
/// from January 2023: the truth of each build, oldest first.
pub fn builds(runs: u64, per_month: u64, size: Size) -> Vec<Truth> {
    let mut out = Vec::new();
    for r in 0..runs {
        let m = r / per_month;
        let (year, month) = (2023 + m / 12, 1 + m % 12);
        let day = 1 + (r % per_month) * 27 / per_month.max(1);
        for (pi, platform) in PLATFORMS.iter().enumerate() {
            for (ii, image) in IMAGES.iter().enumerate() {
                let ts = format!(
                    "{year}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
                    8 + (r % per_month) % 12,
                    ii * 9 + pi,
                    r % 60
                );
                out.push(build_truth(r, runs, image, platform, size, &ts));
            }
        }
    }
    out
}

/// Writes the builds into `wiki` as upstream's wiki holds them (manifests
/// by month, monthly pages newest row first), as a git checkout.
pub fn write_wiki(wiki: &Path, builds: &[Truth]) {
    if !wiki.join(".git").exists() {
        git2::Repository::init(wiki).unwrap();
    }
    let mut pages: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for t in builds {
        let dir = wiki.join("manifests").join(&t.month[..4]).join(&t.month);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{}.md", t.page)), manifest(t)).unwrap();
        pages.entry(t.month.clone()).or_default().push(line(t));
    }
    for (month, lines) in pages {
        let dir = wiki.join("monthly-files").join(&month[..4]);
        std::fs::create_dir_all(&dir).unwrap();
        let mut text =
            format!("# Images built during {month}\n\n| Date | Image | Links |\n| - | - | - |\n");
        for l in lines.iter().rev() {
            text += l;
            text += "\n";
        }
        std::fs::write(dir.join(format!("{month}.md")), text).unwrap();
    }
}

/// Writes builds as `stacktag hook` leaves them: `{out}/manifests`, `{out}/hist_lines`.
pub fn write_hook_output(out: &Path, builds: &[Truth]) {
    let (m, h) = (out.join("manifests"), out.join("hist_lines"));
    std::fs::create_dir_all(&m).unwrap();
    std::fs::create_dir_all(&h).unwrap();
    for t in builds {
        std::fs::write(m.join(format!("{}.md", t.page)), manifest(t)).unwrap();
        std::fs::write(h.join(format!("{}.txt", t.page)), line(t)).unwrap();
    }
}
