//! What holds across the whole file once it is read: every parent described,
//! no cycle, every tagger and manifest name known, no declared rule that
//! hides a built-in or is declared twice.

use super::error::Problems;
use super::names::did_you_mean;
use super::resolve::cycle;
use super::{Hierarchy, Missing, Names};
use crate::plugin;

/// Checks `h`; `broken` names declared rules already reported as broken,
/// so they are not called unknown as well.
pub(super) fn validate(h: &mut Hierarchy, names: Names, broken: &[String], p: &mut Problems) {
    let builtin_taggers: Vec<&str> = plugin::taggers().map(|t| t.name).collect();
    let builtin_manifests: Vec<&str> = plugin::manifests().map(|m| m.name).collect();
    for (kind, declared, known) in [
        (
            "tagger",
            h.declared_taggers
                .iter()
                .map(|d| (&d.name, d.line))
                .collect::<Vec<_>>(),
            &builtin_taggers,
        ),
        (
            "manifest",
            h.declared_manifests
                .iter()
                .map(|d| (&d.name, d.line))
                .collect(),
            &builtin_manifests,
        ),
    ] {
        for (i, (name, line)) in declared.iter().enumerate() {
            if known.contains(&name.as_str()) {
                p.push(*line, format!("{kind} `{name}` is declared here but is also a built-in or plugin {kind}: choose another name"));
            } else if declared[..i].iter().any(|(n, _)| n == name) {
                p.push(*line, format!("{kind} `{name}` is declared twice"));
            }
        }
    }
    let all_taggers: Vec<&str> = builtin_taggers
        .iter()
        .copied()
        .chain(h.declared_taggers.iter().map(|d| d.name.as_str()))
        .collect();
    let all_manifests: Vec<&str> = builtin_manifests
        .iter()
        .copied()
        .chain(h.declared_manifests.iter().map(|d| d.name.as_str()))
        .collect();
    let image_names: Vec<&str> = h.images.iter().map(|i| i.name.as_str()).collect();
    let mut missing = Vec::new();
    let mut parents_described = true;
    for img in &h.images {
        if let Some(parent) = &img.parent {
            if !image_names.contains(&parent.as_str()) {
                parents_described = false;
                p.push(
                    img.parent_line,
                    format!(
                        "image `{}` has parent `{parent}`, which is not described in this file{}",
                        img.name,
                        did_you_mean(parent, image_names.iter().copied())
                    ),
                );
            }
        }
        let kinds = img
            .taggers
            .iter()
            .map(|n| ("tagger", n, &all_taggers))
            .chain(
                img.manifests
                    .iter()
                    .map(|n| ("manifest", n, &all_manifests)),
            );
        for ((kind, n, known), (_, line)) in kinds.zip(&img.item_lines) {
            if known.contains(&n.as_str()) || broken.contains(n) {
                continue;
            }
            let near = did_you_mean(n, known.iter().copied());
            if near.is_empty() {
                // A plugin binary's name: only the images that need it fail.
                missing.push(Missing {
                    kind,
                    name: n.clone(),
                    image: img.name.clone(),
                    line: *line,
                });
                continue;
            }
            let mut known_sorted: Vec<&str> = known.to_vec();
            known_sorted.sort_unstable();
            p.push(
                *line,
                format!(
                    "image `{}`: unknown {kind} `{n}`{near}; known {kind}s: {}\n  \
                     (a {kind} from a plugin crate needs the stacktag binary built with that crate)",
                    img.name,
                    known_sorted.join(", ")
                ),
            );
        }
    }
    if !missing.is_empty() {
        let listed: Vec<String> = missing
            .iter()
            .map(|m| {
                format!(
                    "{}:{}: image `{}`: {} `{}`",
                    p.path().display(),
                    m.line,
                    m.image,
                    m.kind,
                    m.name
                )
            })
            .collect();
        let what = match names {
            Names::Known => "the images that need them (and their children) fail, the others run",
            Names::Any => "this command runs no tagger, so it goes on",
        };
        h.warnings.push(format!(
            "not in this stacktag binary ({}): {}; {what}. They come from a plugin crate: \
             tag with the stacktag binary built with it",
            super::resolve::binary_name(),
            listed.join(", ")
        ));
    }
    h.missing = missing;
    // A cycle is only looked for along parents that all exist.
    if parents_described {
        if let Some((line, chain)) = cycle(h) {
            p.push(
                line,
                format!("the parents form a cycle: {}", chain.join(" -> ")),
            );
        }
    }
}
