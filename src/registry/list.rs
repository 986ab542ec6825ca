//! What a repository holds: every tag with its digest, media type and
//! platforms (`stacktag tags IMAGE`), and the builds stacktag made, told
//! apart by their commit tags. The one reading of a repository that copy
//! (`--build`), delete and retain plan from.
//!
//! A stacktag build is named by its commit tag, the stack's commit in 12 hex
//! characters (`1ffe43816ba9`, `x86_64-1ffe43816ba9`, `cuda12-1ffe43816ba9`):
//! every tag whose digest is one of those tags' digests belongs to that build.
//! Date tags (`2026-11-24`) name a day; every other tag (`latest`,
//! `python-3.11`, ...) is a moving tag: the next build takes it over.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::stream::{self, StreamExt, TryStreamExt};

use super::client::{media, Registry};
use super::error::RegistryError;
use super::merge::reference;
use crate::formats::schema;
use crate::formats::tags::Platform;

/// One tag as the registry has it (as `tags --format json` lists it,
/// without what an index names).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Tag {
    #[schemars(with = "schema::Tag")]
    pub tag: String,
    #[schemars(with = "schema::Digest")]
    pub digest: String,
    pub media_type: String,
    /// `linux/amd64`, ... of an index's images; empty for an image manifest.
    // Attestations are left out; an image manifest's platform is in its
    // config, not worth a request per tag.
    pub platforms: Vec<String>,
    /// The manifests an index names (images and attestations).
    #[serde(skip)]
    pub children: Vec<String>,
    /// What each of `children` is: `linux/amd64`, `attestation`.
    #[serde(skip)]
    pub children_what: Vec<String>,
    /// `commit`, `date`, `moving` or `referrers`.
    #[schemars(with = "String", extend("enum" = ["commit", "date", "moving", "referrers"]))]
    pub kind: Kind,
}

/// What a tag is, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A build's commit (12 hex characters), with any platform or variant prefix.
    Commit,
    /// A day (`YYYY-MM-DD`).
    Date,
    /// The referrers tag scheme's index of a digest (`sha256-{hex}`).
    Referrers,
    /// Anything else: `latest`, `python-3.11`; the next build takes it over.
    Moving,
}

impl Kind {
    pub fn of(tag: &str) -> Kind {
        let last = tag.rsplit('-').next().unwrap_or(tag);
        if tag.starts_with("sha256-") && tag.len() == 7 + 64 {
            Kind::Referrers
        } else if last.len() == 12 && last.bytes().all(|b| b.is_ascii_hexdigit()) {
            Kind::Commit
        } else if date_suffix(tag).is_some() {
            Kind::Date
        } else {
            Kind::Moving
        }
    }
}

/// The commit a commit tag names.
pub fn commit_of(tag: &str) -> Option<&str> {
    (Kind::of(tag) == Kind::Commit).then(|| tag.rsplit('-').next().unwrap_or(tag))
}

/// `2026-11-24` of `x86_64-2026-11-24`.
fn date_suffix(tag: &str) -> Option<&str> {
    let d = tag.get(tag.len().checked_sub(10)?..)?;
    let b = d.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let ok = digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10);
    let whole = tag.len() == 10 || tag.as_bytes()[tag.len() - 11] == b'-';
    (ok && whole).then_some(d)
}

/// Every tag of a repository, read from the registry (a manifest per tag, a
/// few at a time), sorted by name.
pub async fn tags(registry: &Registry, repository: &str) -> Result<Vec<Tag>, RegistryError> {
    let names = match registry.tags(repository).await {
        Ok(t) => t,
        Err(RegistryError::NotFound { .. }) => Vec::new(),
        Err(e) => return Err(e),
    };
    let mut found: Vec<Tag> = stream::iter(names)
        .map(|tag| async move {
            match registry.tagged_manifest(repository, &tag).await {
                Ok((body, digest)) => Ok(Some(describe(tag, digest, &body))),
                // Deleted between the listing and the read.
                Err(RegistryError::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        })
        .buffer_unordered(8)
        .try_filter_map(|t| async move { Ok(t) })
        .try_collect()
        .await?;
    found.sort_by(|a, b| a.tag.cmp(&b.tag));
    Ok(found)
}

/// A tag's entry made from its manifest.
pub fn describe(tag: String, digest: String, body: &[u8]) -> Tag {
    let raw: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let entries = raw["manifests"].as_array();
    let media_type = raw["mediaType"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| {
            if entries.is_some() {
                media::OCI_INDEX
            } else {
                media::OCI_MANIFEST
            }
            .to_string()
        });
    let mut platforms = Vec::new();
    let mut children = Vec::new();
    let mut children_what = Vec::new();
    for e in entries.into_iter().flatten() {
        let Some(d) = e["digest"].as_str() else {
            continue;
        };
        children.push(d.to_string());
        if !e["annotations"][reference::TYPE].is_null() {
            children_what.push("attestation".to_string());
            continue;
        }
        let p = &e["platform"];
        let name = match (p["os"].as_str(), p["architecture"].as_str()) {
            (Some(os), Some(arch)) => {
                let mut name = format!("{os}/{arch}");
                if let Some(v) = p["variant"].as_str() {
                    name += &format!("/{v}");
                }
                platforms.push(name.clone());
                name
            }
            _ => "an entry with no platform".to_string(),
        };
        children_what.push(name);
    }
    Tag {
        kind: Kind::of(&tag),
        tag,
        digest,
        media_type,
        platforms,
        children,
        children_what,
    }
}

/// One build: a commit, the digests its commit tags name, and every tag on
/// them (`retain --format json` gives its commit and tags).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Build {
    pub commit: String,
    #[serde(skip)]
    pub digests: BTreeSet<String>,
    pub tags: Vec<String>,
    /// The newest date tag among its tags, when it has one.
    #[serde(skip)]
    pub date: Option<String>,
    /// Moving tags on its digests: it is what `latest` (say) is now.
    #[serde(skip)]
    pub moving: Vec<String>,
}

/// The builds of a repository, by commit.
pub fn builds(tags: &[Tag]) -> BTreeMap<String, Build> {
    let mut out: BTreeMap<String, Build> = BTreeMap::new();
    for t in tags {
        if let Some(c) = commit_of(&t.tag) {
            let b = out.entry(c.to_string()).or_insert_with(|| Build {
                commit: c.to_string(),
                digests: BTreeSet::new(),
                tags: Vec::new(),
                date: None,
                moving: Vec::new(),
            });
            b.digests.insert(t.digest.clone());
        }
    }
    for b in out.values_mut() {
        for t in tags.iter().filter(|t| b.digests.contains(&t.digest)) {
            b.tags.push(t.tag.clone());
            match t.kind {
                Kind::Moving => b.moving.push(t.tag.clone()),
                Kind::Date => {
                    let d = date_suffix(&t.tag).map(str::to_string);
                    if d > b.date {
                        b.date = d;
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// The commits whose build has `digest` (usually one).
pub fn builds_of<'a>(builds: &'a BTreeMap<String, Build>, digest: &str) -> Vec<&'a str> {
    builds
        .values()
        .filter(|b| b.digests.contains(digest))
        .map(|b| b.commit.as_str())
        .collect()
}

/// The tags of the build whose commit starts with `sha` (7 to 40 hex
/// characters, as `git` prints it); an error naming the builds there are.
pub fn build_tags<'a>(
    builds: &'a BTreeMap<String, Build>,
    name: &str,
    sha: &str,
) -> Result<&'a Build, RegistryError> {
    let sha = sha.to_ascii_lowercase();
    let found: Vec<&Build> = builds
        .values()
        .filter(|b| sha.starts_with(&b.commit) || b.commit.starts_with(&sha))
        .filter(|_| sha.len() >= 7)
        .collect();
    match found.as_slice() {
        [one] => Ok(one),
        _ => Err(RegistryError::NotFound {
            reference: format!(
                "{name}: build {sha} ({} the registry has: {})",
                if found.is_empty() {
                    "no such build; those"
                } else {
                    "more than one build matches; those"
                },
                if builds.is_empty() {
                    "none".to_string()
                } else {
                    builds.keys().cloned().collect::<Vec<_>>().join(", ")
                }
            ),
        }),
    }
}

/// `x86_64` of `linux/amd64`, for display next to stacktag's own names.
pub fn platform_name(docker: &str) -> String {
    docker
        .strip_prefix("linux/")
        .and_then(|a| Platform::from_docker_arch(a.split('/').next().unwrap_or(a)).ok())
        .map_or_else(|| docker.to_string(), |p| p.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(name: &str, digest: &str) -> Tag {
        Tag {
            tag: name.into(),
            digest: digest.into(),
            media_type: media::OCI_INDEX.into(),
            platforms: Vec::new(),
            children: Vec::new(),
            children_what: Vec::new(),
            kind: Kind::of(name),
        }
    }

    #[test]
    fn tags_are_sorted_by_their_names() {
        assert_eq!(Kind::of("1ffe43816ba9"), Kind::Commit);
        assert_eq!(Kind::of("x86_64-1ffe43816ba9"), Kind::Commit);
        assert_eq!(Kind::of("aarch64-cuda12-1ffe43816ba9"), Kind::Commit);
        assert_eq!(Kind::of("2026-11-24"), Kind::Date);
        assert_eq!(Kind::of("x86_64-2026-11-24"), Kind::Date);
        assert_eq!(Kind::of("latest"), Kind::Moving);
        assert_eq!(Kind::of("python-3.11"), Kind::Moving);
        assert_eq!(Kind::of("ubuntu-22.04"), Kind::Moving);
        assert_eq!(Kind::of("12026-11-24"), Kind::Moving);
        assert_eq!(
            Kind::of(&format!("sha256-{}", "a".repeat(64))),
            Kind::Referrers
        );
        assert_eq!(commit_of("x86_64-1ffe43816ba9"), Some("1ffe43816ba9"));
        assert_eq!(commit_of("latest"), None);
    }

    #[test]
    fn a_build_is_every_tag_on_its_commit_tags_digests() {
        let tags = [
            tag("1ffe43816ba9", "sha256:a"),
            tag("2026-11-24", "sha256:a"),
            tag("latest", "sha256:a"),
            tag("x86_64-1ffe43816ba9", "sha256:ax"),
            tag("x86_64-latest", "sha256:ax"),
            tag("0123456789ab", "sha256:b"),
            tag("2026-11-23", "sha256:b"),
            tag("python-3.11", "sha256:c"),
        ];
        let b = builds(&tags);
        assert_eq!(b.len(), 2);
        let new = &b["1ffe43816ba9"];
        assert_eq!(new.date.as_deref(), Some("2026-11-24"));
        assert_eq!(new.moving, ["latest", "x86_64-latest"]);
        assert_eq!(new.tags.len(), 5);
        let old = &b["0123456789ab"];
        assert!(old.moving.is_empty());
        assert_eq!(builds_of(&b, "sha256:c"), Vec::<&str>::new());
        assert_eq!(
            build_tags(&b, "r/o/i", "1ffe43816ba9cafe").unwrap().commit,
            "1ffe43816ba9"
        );
        let e = build_tags(&b, "r/o/i", "fffffff").unwrap_err();
        assert!(e.to_string().contains("0123456789ab, 1ffe43816ba9"), "{e}");
    }
}
