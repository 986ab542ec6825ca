//! What changed from one build to the next: packages added, removed and
//! changed per section, and tags whose value changed; as markdown, or (`Serialize`) JSON.

use serde::Serialize;

use super::build::{Build, Declared, Packages};
use crate::sbom::Section;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Side {
    pub image: String,
    pub full_name: String,
    pub tag: String,
    pub timestamp: String,
    /// Where the manifest was read.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Added {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Changed {
    pub name: String,
    pub old: String,
    pub new: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SectionChanges {
    /// `apt`, `pip`, `conda`, `r`, `julia`, or a declared section's heading.
    pub section: String,
    /// `packages` (name and version), or `lines` (a declared section whose
    /// output is not `name version` pairs: each line is a `name`, no version).
    #[schemars(extend("enum" = ["packages", "lines"]))]
    pub kind: &'static str,
    pub added: Vec<Added>,
    pub removed: Vec<Added>,
    pub changed: Vec<Changed>,
}

/// A tag whose value changed; `None` on one side for a tag only the other has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct TagChange {
    pub old: Option<String>,
    pub new: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Changes {
    pub old: Side,
    pub new: Side,
    /// `None` when a build's tags are unknown (no history line found).
    pub tags: Option<Vec<TagChange>>,
    /// Every section either manifest has, in the order apt, pip, conda, r,
    /// julia, then the declared ones by heading.
    pub sections: Vec<SectionChanges>,
    /// Sections of either manifest that could not be compared (no quoted
    /// command output), by heading.
    pub not_compared: Vec<String>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.tags.as_ref().is_none_or(Vec::is_empty)
            && self
                .sections
                .iter()
                .all(|s| s.added.is_empty() && s.removed.is_empty() && s.changed.is_empty())
    }
}

pub fn compare(old: &Build, old_source: &str, new: &Build, new_source: &str) -> Changes {
    let side = |b: &Build, source: &str| Side {
        image: b.image.clone(),
        full_name: b.full_name.clone(),
        tag: b.tag.clone(),
        timestamp: b.timestamp.clone(),
        source: source.to_string(),
    };
    let mut sections = Vec::new();
    for s in Section::ALL {
        let (a, b) = (old.sections.get(&s), new.sections.get(&s));
        if a.is_none() && b.is_none() {
            continue;
        }
        let empty = Default::default();
        let (a, b) = (a.unwrap_or(&empty), b.unwrap_or(&empty));
        sections.push(package_changes(s.name().to_string(), a, b));
    }
    let headings: std::collections::BTreeSet<&String> =
        old.declared.keys().chain(new.declared.keys()).collect();
    for h in headings {
        let (a, b) = (old.declared.get(h), new.declared.get(h));
        sections.push(match (a, b) {
            (Some(Declared::Lines(x)), Some(Declared::Lines(y))) => line_changes(h, x, y),
            (Some(Declared::Lines(x)), None) => line_changes(h, x, &[]),
            (None, Some(Declared::Lines(y))) => line_changes(h, &[], y),
            _ => {
                let empty = Packages::new();
                let as_packages = |d: Option<&Declared>| match d {
                    Some(Declared::Packages(p)) => p.clone(),
                    Some(Declared::Lines(l)) => {
                        l.iter().map(|x| (x.clone(), String::new())).collect()
                    }
                    None => empty.clone(),
                };
                package_changes(h.clone(), &as_packages(a), &as_packages(b))
            }
        });
    }
    let mut not_compared: Vec<String> = old
        .not_compared
        .iter()
        .chain(&new.not_compared)
        .cloned()
        .collect();
    not_compared.sort();
    not_compared.dedup();
    let tags = match (&old.tags, &new.tags) {
        (Some(a), Some(b)) => Some(tag_changes(a, old.prefix(), b, new.prefix())),
        _ => None,
    };
    Changes {
        old: side(old, old_source),
        new: side(new, new_source),
        tags,
        sections,
        not_compared,
    }
}

/// A section of lines: lines only in the new build are added, only in the
/// old one removed.
fn line_changes(heading: &str, old: &[String], new: &[String]) -> SectionChanges {
    let only = |a: &[String], b: &[String]| -> Vec<Added> {
        a.iter()
            .filter(|l| !b.contains(l))
            .map(|l| Added {
                name: l.clone(),
                version: String::new(),
            })
            .collect()
    };
    SectionChanges {
        section: heading.to_string(),
        kind: "lines",
        added: only(new, old),
        removed: only(old, new),
        changed: Vec::new(),
    }
}

fn package_changes(section: String, a: &Packages, b: &Packages) -> SectionChanges {
    let mut c = SectionChanges {
        section,
        kind: "packages",
        added: Vec::new(),
        removed: Vec::new(),
        changed: Vec::new(),
    };
    for (name, v) in b {
        match a.get(name) {
            None => c.added.push(Added {
                name: name.clone(),
                version: v.clone(),
            }),
            Some(old) if old != v => c.changed.push(Changed {
                name: name.clone(),
                old: old.clone(),
                new: v.clone(),
            }),
            Some(_) => {}
        }
    }
    for (name, v) in a {
        if !b.contains_key(name) {
            c.removed.push(Added {
                name: name.clone(),
                version: v.clone(),
            });
        }
    }
    c
}

/// `python` of `python-3.13.1` (the tag after its prefix): the words before
/// the first value-like one (starting with a digit, or a commit's hex).
/// Values with no name (the commit, the date) have an empty key.
fn tag_key(tag: &str) -> String {
    let value = |w: &&str| {
        w.starts_with(|c: char| c.is_ascii_digit())
            || (w.len() >= 7 && w.chars().all(|c| c.is_ascii_hexdigit()))
    };
    tag.split('-')
        .take_while(|w| !value(w))
        .collect::<Vec<_>>()
        .join("-")
}

/// Pairs the tags of the two builds by key, in order (the n-th `python-…`
/// of one with the n-th of the other), and keeps the pairs that differ.
fn tag_changes(
    old: &[String],
    old_prefix: &str,
    new: &[String],
    new_prefix: &str,
) -> Vec<TagChange> {
    let strip = |t: &String, prefix: &str| {
        t.strip_prefix(&format!("{prefix}-"))
            .unwrap_or(t)
            .to_string()
    };
    let old_v: Vec<String> = old.iter().map(|t| strip(t, old_prefix)).collect();
    let new_v: Vec<String> = new.iter().map(|t| strip(t, new_prefix)).collect();
    let mut used = vec![false; new.len()];
    let mut out = Vec::new();
    for (i, o) in old_v.iter().enumerate() {
        let key = tag_key(o);
        let found = new_v
            .iter()
            .enumerate()
            .find(|(j, n)| !used[*j] && tag_key(n) == key)
            .map(|(j, _)| j);
        match found {
            Some(j) => {
                used[j] = true;
                if old[i] != new[j] {
                    out.push(TagChange {
                        old: Some(old[i].clone()),
                        new: Some(new[j].clone()),
                    });
                }
            }
            None => out.push(TagChange {
                old: Some(old[i].clone()),
                new: None,
            }),
        }
    }
    for (j, n) in new.iter().enumerate() {
        if !used[j] {
            out.push(TagChange {
                old: None,
                new: Some(n.clone()),
            });
        }
    }
    out
}

fn code(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!("`{}`", text.replace('`', "'").replace('|', "\\|"))
    }
}

/// The changes as markdown sections, headings at `level` (`##` for the
/// command, `###` under the site's own heading).
pub fn markdown_sections(c: &Changes, level: usize) -> String {
    let h = "#".repeat(level);
    let mut out = Vec::new();
    match &c.tags {
        Some(tags) if !tags.is_empty() => {
            let mut t = format!("{h} Tags\n\n| Old | New |\n| - | - |\n");
            for tc in tags {
                t += &format!(
                    "| {} | {} |\n",
                    code(tc.old.as_deref().unwrap_or("")),
                    code(tc.new.as_deref().unwrap_or(""))
                );
            }
            out.push(t);
        }
        Some(_) => {}
        None => out.push(format!(
            "{h} Tags\n\nNot compared: the history line of a build was not found.\n"
        )),
    }
    for s in &c.sections {
        if s.added.is_empty() && s.removed.is_empty() && s.changed.is_empty() {
            continue;
        }
        let title: &str = match Section::from_name(&s.section) {
            Some(known) => known.title(),
            None => &s.section,
        };
        let mut t = format!(
            "{h} {title}\n\n{} added, {} removed, {} changed\n\n| Package | Change | Old | New |\n| - | - | - | - |\n",
            s.added.len(),
            s.removed.len(),
            s.changed.len()
        );
        let mut rows: Vec<(String, String)> = Vec::new();
        for a in &s.added {
            rows.push((
                a.name.clone(),
                format!("| {} | added | | {} |\n", code(&a.name), code(&a.version)),
            ));
        }
        for r in &s.removed {
            rows.push((
                r.name.clone(),
                format!("| {} | removed | {} | |\n", code(&r.name), code(&r.version)),
            ));
        }
        for ch in &s.changed {
            rows.push((
                ch.name.clone(),
                format!(
                    "| {} | changed | {} | {} |\n",
                    code(&ch.name),
                    code(&ch.old),
                    code(&ch.new)
                ),
            ));
        }
        rows.sort();
        t.extend(rows.into_iter().map(|(_, r)| r));
        out.push(t);
    }
    if c.is_empty() {
        out.push("No package or tag changed.\n".into());
    }
    if !c.not_compared.is_empty() {
        out.push(format!(
            "Not compared (no command output in the section): {}.\n",
            c.not_compared.join(", ")
        ));
    }
    out.join("\n")
}

/// The whole markdown report of `stacktag diff`.
pub fn markdown(c: &Changes) -> String {
    format!(
        "# Changes in {} ({})\n\n- Old: `{}:{}`, built {} ({})\n- New: `{}:{}`, built {} ({})\n\n{}",
        c.new.image,
        c.new.tag.rsplit_once('-').map_or("", |(p, _)| p),
        c.old.full_name,
        c.old.tag,
        c.old.timestamp,
        c.old.source,
        c.new.full_name,
        c.new.tag,
        c.new.timestamp,
        c.new.source,
        markdown_sections(c, 2)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(x: &[&str]) -> Vec<String> {
        x.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn tags_pair_by_name_in_order() {
        let old = v(&[
            "x86_64-1ffe43816ba9",
            "x86_64-2026-11-22",
            "x86_64-python-3.12",
            "x86_64-python-3.12.9",
            "x86_64-r-4.4.1",
        ]);
        let new = v(&[
            "x86_64-fb26f62dbdba",
            "x86_64-2026-11-22",
            "x86_64-python-3.13",
            "x86_64-python-3.13.1",
            "x86_64-julia-1.11.5",
        ]);
        let c = tag_changes(&old, "x86_64", &new, "x86_64");
        let pair = |o: &str, n: &str| TagChange {
            old: (!o.is_empty()).then(|| o.to_string()),
            new: (!n.is_empty()).then(|| n.to_string()),
        };
        assert_eq!(
            c,
            [
                pair("x86_64-1ffe43816ba9", "x86_64-fb26f62dbdba"),
                pair("x86_64-python-3.12", "x86_64-python-3.13"),
                pair("x86_64-python-3.12.9", "x86_64-python-3.13.1"),
                pair("x86_64-r-4.4.1", ""),
                pair("", "x86_64-julia-1.11.5"),
            ]
        );
    }
}
