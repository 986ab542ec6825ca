//! The digests a signing step (cosign) needs for one build of an image: every
//! platform tag's and every merged tag's, read from the registry, and for a
//! platform tag that is an index (BuildKit's), the image inside it too.
//! (`image-ref --all --format json` prints them as they are.)

use std::collections::BTreeMap;

use futures_util::stream::{self, StreamExt};
use schemars::JsonSchema;
use serde::Serialize;

use super::client::Registry;
use super::error::RegistryError;
use super::merge::{self, reference};
use super::tags_files::PlatformTags;
use crate::formats::schema;

/// One platform's image, under one or more platform tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PlatformDigest {
    #[schemars(with = "schema::PlatformName")]
    pub platform: String,
    #[schemars(with = "Vec<schema::Tag>")]
    pub tags: Vec<String>,
    /// What the tags point at: the image manifest, or BuildKit's index.
    #[schemars(with = "schema::Digest")]
    pub digest: String,
    /// The image manifest inside, when the tags point at an index.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "schema::Digest")]
    pub image_digest: Option<String>,
}

/// One merged index, under one or more merged tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct MergedDigest {
    #[schemars(with = "Vec<schema::Tag>")]
    pub tags: Vec<String>,
    #[schemars(with = "schema::Digest")]
    pub digest: String,
    /// Each platform's image in it (`linux/amd64` → digest).
    pub platforms: BTreeMap<String, String>,
}

/// Every digest of one build of an image (one variant).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ImageDigests {
    pub image: String,
    pub variant: String,
    /// `{registry}/{owner}/{image}`.
    pub name: String,
    pub platforms: Vec<PlatformDigest>,
    pub merged: Vec<MergedDigest>,
}

impl ImageDigests {
    /// `name@digest` of everything to sign, each once, platform images first.
    pub fn references(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let all = self
            .platforms
            .iter()
            .flat_map(|p| std::iter::once(&p.digest).chain(p.image_digest.as_ref()))
            .chain(self.merged.iter().map(|m| &m.digest));
        for d in all {
            let r = format!("{}@{d}", self.name);
            if !out.contains(&r) {
                out.push(r);
            }
        }
        out
    }
}

struct Read {
    digest: String,
    /// The images of an index (attestations left out): `os/arch[/variant]` → digest.
    images: Vec<(String, String)>,
}

async fn read(registry: &Registry, repository: &str, tag: &str) -> Result<Read, RegistryError> {
    let shown = format!("{}/{repository}:{tag}", registry.host);
    let (body, digest) = registry.tagged_manifest(repository, tag).await?;
    let raw: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| RegistryError::Protocol {
            registry: registry.host.clone(),
            what: format!("reading {shown}"),
            detail: format!("not a manifest: {e}"),
        })?;
    let images = raw["manifests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["annotations"][reference::TYPE].is_null())
        .filter_map(|e| {
            let p = &e["platform"];
            let mut name = format!("{}/{}", p["os"].as_str()?, p["architecture"].as_str()?);
            if let Some(v) = p["variant"].as_str() {
                name += &format!("/{v}");
            }
            Some((name, e["digest"].as_str()?.to_string()))
        })
        .collect();
    Ok(Read { digest, images })
}

/// Reads the digest of every platform tag of `files` and of every merged tag
/// they make. A tag the registry does not have is an error that names it
/// (with all the others missing): a build is signed whole or not at all.
pub async fn collect(
    registry: &Registry,
    repository: &str,
    image: &str,
    variant: &str,
    files: &[PlatformTags],
) -> Result<ImageDigests, RegistryError> {
    let name = format!("{}/{repository}", registry.host);
    let mut wanted: Vec<(Option<String>, String)> = Vec::new();
    for f in files {
        for t in &f.tags {
            wanted.push((Some(f.platform.to_string()), t.clone()));
        }
    }
    for m in merge::plan(files) {
        wanted.push((None, m.merged));
    }
    let found: Vec<Result<Read, RegistryError>> = stream::iter(&wanted)
        .map(|(_, tag)| read(registry, repository, tag))
        .buffered(8)
        .collect()
        .await;
    let mut missing = Vec::new();
    let mut platforms: Vec<PlatformDigest> = Vec::new();
    let mut merged: Vec<MergedDigest> = Vec::new();
    for ((platform, tag), r) in wanted.iter().zip(found) {
        let r = match r {
            Ok(r) => r,
            Err(RegistryError::NotFound { reference }) => {
                missing.push(reference);
                continue;
            }
            Err(e) => return Err(e),
        };
        match platform {
            Some(p) => match platforms
                .iter_mut()
                .find(|x| &x.platform == p && x.digest == r.digest)
            {
                Some(x) => x.tags.push(tag.clone()),
                None => platforms.push(PlatformDigest {
                    platform: p.clone(),
                    tags: vec![tag.clone()],
                    digest: r.digest,
                    image_digest: r.images.first().map(|(_, d)| d.clone()),
                }),
            },
            None => match merged.iter_mut().find(|x| x.digest == r.digest) {
                Some(x) => x.tags.push(tag.clone()),
                None => merged.push(MergedDigest {
                    tags: vec![tag.clone()],
                    digest: r.digest,
                    platforms: r.images.into_iter().collect(),
                }),
            },
        }
    }
    if !missing.is_empty() {
        return Err(RegistryError::NotFound {
            reference: missing.join(", "),
        });
    }
    Ok(ImageDigests {
        image: image.to_string(),
        variant: variant.to_string(),
        name,
        platforms,
        merged,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_each_digest_once() {
        let d = ImageDigests {
            image: "tiny".into(),
            variant: "default".into(),
            name: "r/o/tiny".into(),
            platforms: vec![
                PlatformDigest {
                    platform: "x86_64".into(),
                    tags: vec!["x86_64-latest".into()],
                    digest: "sha256:xi".into(),
                    image_digest: Some("sha256:x".into()),
                },
                PlatformDigest {
                    platform: "aarch64".into(),
                    tags: vec!["aarch64-latest".into()],
                    digest: "sha256:a".into(),
                    image_digest: None,
                },
            ],
            merged: vec![MergedDigest {
                tags: vec!["latest".into()],
                digest: "sha256:m".into(),
                platforms: BTreeMap::new(),
            }],
        };
        assert_eq!(
            d.references(),
            [
                "r/o/tiny@sha256:xi",
                "r/o/tiny@sha256:x",
                "r/o/tiny@sha256:a",
                "r/o/tiny@sha256:m"
            ]
        );
    }
}
