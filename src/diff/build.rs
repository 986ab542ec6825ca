//! One build as its build manifest (and history line) tell it: which image,
//! when, and the packages of each section, read from the command outputs
//! the manifest quotes.

use std::collections::BTreeMap;

use crate::sbom::Section;

/// The packages of one section: key (name, or `name:arch` for a second
/// architecture) to version.
pub type Packages = BTreeMap<String, String>;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Build {
    /// Short image name of the title, e.g. `base-notebook`.
    pub image: String,
    /// `{registry}/{owner}/{image}` of the `Docker image` line.
    pub full_name: String,
    /// The platform tag of the commit, e.g. `x86_64-1ffe43816ba9`.
    pub tag: String,
    pub timestamp: String,
    pub sections: BTreeMap<Section, Packages>,
    /// Sections declared in hierarchy.yaml (`manifests:` with a `heading`),
    /// by heading, read from the command output they quote.
    pub declared: BTreeMap<String, Declared>,
    /// Headings of sections with nothing to compare (no quoted command output).
    pub not_compared: Vec<String>,
    /// The tags of the build (history line), when known.
    pub tags: Option<Vec<String>>,
}

impl Build {
    /// `x86_64` or `aarch64-cuda12`: the tag without its commit part.
    pub fn prefix(&self) -> &str {
        self.tag.rsplit_once('-').map_or("", |(p, _)| p)
    }

    /// Whether two builds are of one image, platform and variant.
    pub fn same_image(&self, other: &Build) -> bool {
        self.full_name == other.full_name && self.prefix() == other.prefix()
    }
}

/// A declared section: `name version` pairs compare as packages, anything
/// else line by line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Declared {
    Packages(Packages),
    Lines(Vec<String>),
}

/// The headings stacktag's own manifests write (formats.md, "Build manifest").
const BUILT_IN: [&str; 7] = [
    "Build Info",
    "Python Packages",
    "Pip Packages",
    "Apt Packages",
    "R Packages",
    "Julia Packages",
    "Apache Spark",
];

/// The H2 sections of a manifest, `(heading, body)`, fences respected.
fn h2_sections(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut fence: Option<usize> = None;
    for line in text.lines() {
        let ticks = line.chars().take_while(|&c| c == '`').count();
        match fence {
            None if ticks >= 3 => fence = Some(ticks),
            Some(n) if ticks >= n && line.trim_end().len() == ticks => fence = None,
            None => {
                if let Some(h) = line.strip_prefix("## ") {
                    out.push((h.trim().to_string(), String::new()));
                    continue;
                }
            }
            _ => {}
        }
        if let Some((_, body)) = out.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

/// A declared section's quoted output: packages when every line is
/// `name version ...` (a name, then a version starting with a digit).
fn declared(blocks: &[(String, String)]) -> Declared {
    let lines: Vec<&str> = blocks
        .iter()
        .flat_map(|(_, b)| b.lines())
        .filter(|l| !l.trim().is_empty())
        .collect();
    let pair = |l: &&str| {
        let mut f = l.split_whitespace();
        let name = f.next().unwrap_or("");
        let version = f.next().unwrap_or("");
        name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._+-@/".contains(c))
            && version
                .trim_start_matches(['v', '('])
                .starts_with(|c: char| c.is_ascii_digit())
    };
    if !lines.is_empty() && lines.iter().all(pair) {
        Declared::Packages(
            lines
                .iter()
                .map(|l| {
                    let mut f = l.split_whitespace();
                    let name = f.next().unwrap_or("").to_string();
                    let version = f.next().unwrap_or("");
                    let version = version.trim_start_matches('(').trim_end_matches([')', ',']);
                    (name, version.to_string())
                })
                .collect(),
        )
    } else {
        Declared::Lines(lines.iter().map(|l| l.trim_end().to_string()).collect())
    }
}

/// The command whose quoted output lists a section's packages.
fn section_of(command: &str) -> Option<Section> {
    match command {
        "apt list --installed" => Some(Section::Apt),
        "pip list" => Some(Section::Pip),
        "mamba list" | "conda list" => Some(Section::Conda),
        "R --silent -e 'installed.packages(.Library)[, c(1,3)]'" => Some(Section::R),
        "julia -E 'import Pkg; Pkg.status()'" => Some(Section::Julia),
        _ => None,
    }
}

/// Reads a manifest; the error says what is missing.
pub fn parse_manifest(text: &str) -> Result<Build, String> {
    let title = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# Build manifest for image: "))
        .ok_or("does not start with `# Build manifest for image: `")?;
    let (image, tag) = title
        .rsplit_once(':')
        .ok_or("the title names no `image:tag`")?;
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().to_string())
    };
    let timestamp = field("- Build timestamp: ").ok_or("has no `- Build timestamp:` line")?;
    let reference = field("- Docker image: ")
        .map(|v| v.trim_matches('`').to_string())
        .ok_or("has no `- Docker image:` line")?;
    let full_name = reference
        .strip_suffix(&format!(":{tag}"))
        .unwrap_or(&reference)
        .to_string();
    let mut sections = BTreeMap::new();
    for (command, body) in quoted_blocks(text) {
        if let Some(section) = section_of(&command) {
            sections.insert(section, packages(section, &body));
        }
    }
    let mut declared_sections = BTreeMap::new();
    let mut not_compared = Vec::new();
    for (heading, body) in h2_sections(text) {
        if BUILT_IN.contains(&heading.as_str()) {
            continue;
        }
        let blocks = quoted_blocks(&body);
        if blocks.is_empty() {
            not_compared.push(heading);
        } else {
            declared_sections.insert(heading, declared(&blocks));
        }
    }
    Ok(Build {
        declared: declared_sections,
        not_compared,
        image: image.to_string(),
        full_name,
        tag: tag.to_string(),
        timestamp,
        sections,
        tags: None,
    })
}

/// Each `` `cmd`: `` followed by a fenced block, as `(cmd, block text)`.
fn quoted_blocks(text: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let command = lines[i]
            .strip_prefix('`')
            .and_then(|l| l.strip_suffix("`:"));
        let fence = lines.get(i + 2).filter(|_| lines.get(i + 1) == Some(&""));
        match (command, fence) {
            (Some(cmd), Some(open)) if open.starts_with("```") => {
                let ticks = open.len() - open.trim_start_matches('`').len();
                let close = "`".repeat(ticks);
                let mut j = i + 3;
                let mut body = Vec::new();
                while j < lines.len() && lines[j] != close {
                    body.push(lines[j]);
                    j += 1;
                }
                out.push((cmd.to_string(), body.join("\n")));
                i = j + 1;
            }
            _ => i += 1,
        }
    }
    out
}

fn packages(section: Section, body: &str) -> Packages {
    match section {
        Section::Apt => apt(body),
        Section::Pip => columns(body, 2, |l| {
            l.starts_with("Package ") || l.starts_with("---")
        }),
        Section::Conda => columns(body, 2, |l| {
            l.starts_with('#')
                || l.starts_with("List of packages")
                || l.trim_start().starts_with("Name ")
                || l.starts_with('─')
                || l.starts_with("──")
        }),
        Section::R => r_matrix(body),
        Section::Julia => julia_status(body),
    }
}

/// `name/suites version arch [flags]`; a name installed for two
/// architectures is `name:arch` for all but the first.
fn apt(body: &str) -> Packages {
    let mut out = Packages::new();
    for line in body.lines() {
        let Some((name, rest)) = line.split_once('/') else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        if f.len() < 3 || name.contains(' ') {
            continue;
        }
        let key = if out.contains_key(name) {
            format!("{name}:{}", f[2])
        } else {
            name.to_string()
        };
        out.insert(key, f[1].to_string());
    }
    out
}

/// Whitespace columns `name version ...`, skipping header lines.
fn columns(body: &str, min: usize, header: fn(&str) -> bool) -> Packages {
    body.lines()
        .filter(|l| !l.trim().is_empty() && !header(l))
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= min).then(|| (f[0].to_string(), f[1].to_string()))
        })
        .collect()
}

/// R's printed matrix: `base      "base"      "4.2.2"`.
fn r_matrix(body: &str) -> Packages {
    body.lines()
        .filter_map(|l| {
            let quoted: Vec<&str> = l.split('"').skip(1).step_by(2).collect();
            (quoted.len() >= 2).then(|| (quoted[0].to_string(), quoted[1].to_string()))
        })
        .collect()
}

/// `Pkg.status()`: `  [7073ff75] IJulia v1.29.0` (a `⌃` or `⌅` may come first).
fn julia_status(body: &str) -> Packages {
    body.lines()
        .filter_map(|l| {
            let rest = l.split_once("] ")?.1;
            let mut f = rest.split_whitespace();
            let name = f.next()?;
            let version = f.next().unwrap_or("");
            Some((
                name.to_string(),
                version.strip_prefix('v').unwrap_or(version).to_string(),
            ))
        })
        .collect()
}

/// The tags of a history line (the second column's `` `name:tag` ``s), tag only.
pub fn history_tags(line: &str) -> Vec<String> {
    let second = line.trim_start_matches('|').split('|').nth(1).unwrap_or("");
    second
        .split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|r| r.rsplit_once(':').map(|(_, t)| t.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(f: &str) -> String {
        std::fs::read_to_string(format!("{}/tests/data/{f}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    fn manifest(sections: &[(&str, &str)]) -> String {
        let mut md = String::from("# Build manifest for image: base-notebook:x86_64-1ffe43816ba9\n\n## Build Info\n\n- Build timestamp: 2026-11-22T23:48:58Z\n- Docker image: `quay.io/jupyter/base-notebook:x86_64-1ffe43816ba9`\n- Git commit message:\n\n```text\nAdd `x`:\n\n```\n");
        for (cmd, out) in sections {
            md += &format!("\n## S\n\n`{cmd}`:\n\n```text\n{}\n```\n", out.trim_end());
        }
        md
    }

    #[test]
    fn every_section_from_real_output() {
        let r = data("debian-r-packages.txt");
        let md = manifest(&[
            ("apt list --installed", &data("debian-apt-list.txt")),
            ("pip list", &data("debian-pip-list.txt")),
            ("mamba list", &data("mamba-list.txt")),
            ("R --silent -e 'installed.packages(.Library)[, c(1,3)]'", &r),
            (
                "julia -E 'import Pkg; Pkg.status()'",
                &data("julia-pkg-status.txt"),
            ),
        ]);
        let b = parse_manifest(&md).unwrap();
        assert_eq!(b.image, "base-notebook");
        assert_eq!(b.full_name, "quay.io/jupyter/base-notebook");
        assert_eq!(b.prefix(), "x86_64");
        assert_eq!(b.timestamp, "2026-11-22T23:48:58Z");
        let s = |x| &b.sections[&x];
        assert_eq!(s(Section::Apt)["apt"], "2.6.1");
        assert_eq!(
            s(Section::Apt).len(),
            data("debian-apt-list.txt").lines().count() - 1
        );
        assert_eq!(s(Section::Pip).len(), 3);
        assert_eq!(s(Section::Pip)["wheel"], "0.38.4");
        assert_eq!(s(Section::Conda)["bzip2"], "1.0.8");
        assert_eq!(s(Section::Conda)["Jinja2"], "3.1.6");
        assert!(!s(Section::Conda).contains_key("Name"));
        assert_eq!(s(Section::R)["base"], "4.2.2");
        assert_eq!(s(Section::R).len(), 14);
        assert_eq!(s(Section::Julia)["Revise"], "3.8.1");
        assert_eq!(s(Section::Julia).len(), 7);
    }

    #[test]
    fn declared_sections_are_read_as_packages_or_lines() {
        let mut md = manifest(&[("apt list --installed", &data("debian-apt-list.txt"))]);
        md += "\n## Ruby gems\n\n`gem list`:\n\n```text\nrails (7.1.3)\nrake (13.1.0)\n```\n";
        md += "\n## npm packages\n\n`npm ls -g --depth=0`:\n\n```text\n/usr/lib\n└── yarn@1.22.19\n```\n";
        md += "\n## Notes\n\nWritten by hand, no command.\n";
        let b = parse_manifest(&md).unwrap();
        let Declared::Packages(gems) = &b.declared["Ruby gems"] else {
            panic!("{:?}", b.declared)
        };
        assert_eq!(gems["rails"], "7.1.3");
        assert_eq!(
            b.declared["npm packages"],
            Declared::Lines(vec!["/usr/lib".into(), "└── yarn@1.22.19".into()])
        );
        assert_eq!(b.not_compared, ["Notes"]);
        assert!(!b.declared.contains_key("Apt Packages"));
    }

    #[test]
    fn tags_of_a_history_line() {
        let line = "| `2026-11-22T23:48:58Z` | `q/j/b:x86_64-1ffe43816ba9`<br />`q/j/b:x86_64-python-3.13` | [Build manifest](./x) |";
        assert_eq!(
            history_tags(line),
            ["x86_64-1ffe43816ba9", "x86_64-python-3.13"]
        );
    }
}
