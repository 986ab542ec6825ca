//! OCI annotations on the merged indexes (image-spec `annotations.md`): the
//! pre-defined `org.opencontainers.image.*` keys stacktag fills in, and the
//! rules a key given with `--annotation` must follow.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};

pub const SOURCE: &str = "org.opencontainers.image.source";
pub const REVISION: &str = "org.opencontainers.image.revision";
pub const CREATED: &str = "org.opencontainers.image.created";
pub const VERSION: &str = "org.opencontainers.image.version";
pub const TITLE: &str = "org.opencontainers.image.title";

/// The keys the image spec defines; the rest of `org.opencontainers.` is
/// reserved, so another key there is a typo.
const PREDEFINED: &[&str] = &[
    "created",
    "authors",
    "url",
    "documentation",
    "source",
    "version",
    "revision",
    "vendor",
    "licenses",
    "ref.name",
    "title",
    "description",
    "base.digest",
    "base.name",
];

const RESERVED: &str = "org.opencontainers.";

/// A key as the spec wants it: namespaced in reverse domain notation
/// (`com.example.key`, `vnd.docker.reference.type`, `in-toto.io/predicate-type`),
/// and, in the reserved `org.opencontainers.` namespace, one of its keys.
pub fn check_key(key: &str) -> Result<(), String> {
    let part_ok = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '/')
            && p.starts_with(|c: char| c.is_ascii_alphanumeric())
            && p.ends_with(|c: char| c.is_ascii_alphanumeric())
    };
    let parts: Vec<&str> = key.split('.').collect();
    if parts.len() < 2 || !parts.iter().all(|p| part_ok(p)) {
        return Err(format!(
            "`{key}` is not a valid OCI annotation key: use reverse domain notation, \
             e.g. com.example.team (letters, digits, `-`, `_`, `/`, parts separated by `.`)"
        ));
    }
    if let Some(rest) = key.strip_prefix(RESERVED) {
        let own = rest.strip_prefix("image.").unwrap_or("");
        if !PREDEFINED.contains(&own) {
            return Err(format!(
                "`{key}` is in the reserved org.opencontainers namespace but is not one of its keys \
                 (org.opencontainers.image.{{{}}})",
                PREDEFINED.join(",")
            ));
        }
    }
    Ok(())
}

/// `KEY=VALUE` of `--annotation`: the key checked, and `created` a date-time.
pub fn parse(given: &str) -> Result<(String, String), String> {
    let (key, value) = given
        .split_once('=')
        .ok_or_else(|| format!("`{given}` is not KEY=VALUE"))?;
    check_key(key)?;
    if key == CREATED && timestamp(value).is_none() {
        return Err(format!(
            "{CREATED} must be an RFC 3339 date-time such as 2026-11-22T23:48:58Z, not `{value}`"
        ));
    }
    Ok((key.to_string(), value.to_string()))
}

/// An RFC 3339 date-time as the build timestamp is written: UTC, seconds, `Z`.
pub fn timestamp(text: &str) -> Option<String> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| format_time(t.to_utc()))
}

pub fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// What stacktag knows of a build, for the pre-defined keys.
#[derive(Debug, Clone, Default)]
pub struct Build {
    /// GitHub `OWNER/REPO`.
    pub repository: String,
    /// Full commit hash.
    pub revision: Option<String>,
    /// The build timestamp, when given; else the images' own creation time.
    pub created: Option<DateTime<Utc>>,
    /// The image's name in the hierarchy.
    pub title: String,
}

/// The pre-defined annotations of a build, then `extra` (which wins on the same key).
pub fn for_build(build: &Build, extra: &[(String, String)]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if !build.repository.is_empty() {
        out.insert(
            SOURCE.to_string(),
            format!("https://github.com/{}", build.repository),
        );
    }
    if let Some(sha) = &build.revision {
        out.insert(REVISION.to_string(), sha.clone());
        // The stacks' version of a build is its commit tag: the first 12 hex.
        out.insert(VERSION.to_string(), sha[..12.min(sha.len())].to_string());
    }
    if let Some(t) = build.created {
        out.insert(CREATED.to_string(), format_time(t));
    }
    out.insert(TITLE.to_string(), build.title.clone());
    for (k, v) in extra {
        out.insert(k.clone(), v.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_image_spec() {
        for ok in [
            "org.opencontainers.image.source",
            "org.opencontainers.image.ref.name",
            "com.example.team",
            "vnd.docker.reference.type",
            "in-toto.io/predicate-type",
            "io.github.owner_name.key-2",
        ] {
            assert_eq!(check_key(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "nodots",
            "com..example",
            ".com.example",
            "com.example.",
            "com.exa mple",
            "com.exämple",
            "org.opencontainers.image.sorce",
            "org.opencontainers.foo",
        ] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
        assert!(check_key("org.opencontainers.image.sorce")
            .unwrap_err()
            .contains("reserved"));
    }

    #[test]
    fn annotation_arguments_are_key_value() {
        assert_eq!(
            parse("com.example.team=data=science"),
            Ok(("com.example.team".into(), "data=science".into()))
        );
        assert!(parse("com.example.team").unwrap_err().contains("KEY=VALUE"));
        assert!(parse("org.opencontainers.image.created=yesterday").is_err());
        assert_eq!(
            parse("org.opencontainers.image.created=2026-11-22T23:48:58.5+01:00")
                .unwrap()
                .0,
            CREATED
        );
    }

    #[test]
    fn build_annotations_and_overrides() {
        let build = Build {
            repository: "jupyter/docker-stacks".into(),
            revision: Some("1ffe43816ba9bd6a5bc0d29c0c8e5e4e16a8d3a2".into()),
            created: timestamp("2026-11-22T23:48:58.123456789Z")
                .map(|t| DateTime::parse_from_rfc3339(&t).unwrap().to_utc()),
            title: "base-notebook".into(),
        };
        let a = for_build(&build, &[(VERSION.into(), "2026.11".into())]);
        assert_eq!(a[SOURCE], "https://github.com/jupyter/docker-stacks");
        assert_eq!(a[REVISION], "1ffe43816ba9bd6a5bc0d29c0c8e5e4e16a8d3a2");
        assert_eq!(a[CREATED], "2026-11-22T23:48:58Z");
        assert_eq!(a[TITLE], "base-notebook");
        assert_eq!(a[VERSION], "2026.11");
    }
}
