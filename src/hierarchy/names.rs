//! The naming rules of a stack (Docker's for images and registries, GitHub's
//! for repositories) and the near-miss guess every "unknown" message offers.

use crate::formats::tags::DEFAULT_VARIANT;

/// ` (did you mean `x`?)` for a near miss among `known`, else empty.
pub fn did_you_mean<'k>(word: &str, known: impl Iterator<Item = &'k str>) -> String {
    known
        .map(|k| (strsim::damerau_levenshtein(word, k), k))
        .filter(|(d, k)| *d <= if k.len() <= 4 { 1 } else { 2 } && *d < word.len().max(k.len()))
        .min()
        .map_or_else(String::new, |(_, k)| format!(" (did you mean `{k}`?)"))
}

/// Docker's rule for a repository path component, `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`,
/// less the rare `__`.
pub fn is_image_name(name: &str) -> bool {
    let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    name.split(['.', '_']).all(|part| {
        !part.is_empty() && !part.starts_with('-') && !part.ends_with('-') && part.chars().all(ok)
    })
}

/// A registry host as Docker takes it: `host[:port]`, no scheme or path.
pub fn is_registry(s: &str) -> bool {
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    };
    let host_ok = !host.is_empty()
        && host.split('.').all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.parse::<u16>().is_ok_and(|n| n > 0));
    host_ok && port_ok
}

pub fn is_owner(s: &str) -> bool {
    !s.is_empty() && s.split('/').all(is_image_name)
}

/// GitHub `OWNER/REPO`.
pub fn is_repository(s: &str) -> bool {
    let ok = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    matches!(s.split_once('/'), Some((o, r)) if ok(o) && ok(r))
}

/// A variant besides `default`: it becomes a tag prefix and a folder.
pub fn is_variant(v: &str) -> bool {
    v != DEFAULT_VARIANT
        && v.starts_with(|c: char| c.is_ascii_alphanumeric())
        && v.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.' || c == '-'
        })
}
