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
    Ok(Build {
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
    fn tags_of_a_history_line() {
        let line = "| `2026-11-22T23:48:58Z` | `q/j/b:x86_64-1ffe43816ba9`<br />`q/j/b:x86_64-python-3.13` | [Build manifest](./x) |";
        assert_eq!(
            history_tags(line),
            ["x86_64-1ffe43816ba9", "x86_64-python-3.13"]
        );
    }
}
