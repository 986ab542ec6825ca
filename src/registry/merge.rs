//! Upstream's merge step, registry-side: for every merged tag (the platform
//! tag without its leading `{platform}-`), put an image index whose entries are
//! the platform images, read from the registry (manifests and configs only,
//! never a layer). A platform image that should be there and is not stops the
//! merge before anything is written.

use std::collections::HashMap;
use std::path::PathBuf;

use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::client::{media, Registry};
use super::error::RegistryError;
use super::tags_files::PlatformTags;
use crate::tags::{self, Platform};

/// One merged tag and the platform tags it should point at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub merged: String,
    /// One per platform that has a tags file, x86_64 first.
    pub sources: Vec<Source>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub platform: Platform,
    pub tag: String,
    /// The tags file that declares `tag`; `None` when this platform's file
    /// does not (a date tag from another day): then only the registry can have it.
    pub declared_in: Option<PathBuf>,
}

/// The merged tags, in the order the tags files give them, each with one
/// source per platform that was built. The variant is already in the tags
/// (`aarch64-cuda12-latest` merges into `cuda12-latest`).
pub fn plan(files: &[PlatformTags]) -> Vec<Wanted> {
    let mut order: Vec<String> = Vec::new();
    for f in files {
        for t in &f.tags {
            if let Some(m) = tags::merged_tag(t) {
                if !order.iter().any(|o| o == m) {
                    order.push(m.to_string());
                }
            }
        }
    }
    order
        .into_iter()
        .map(|merged| Wanted {
            sources: files
                .iter()
                .map(|f| {
                    let tag = format!("{}-{merged}", f.platform);
                    Source {
                        platform: f.platform,
                        declared_in: f.tags.contains(&tag).then(|| f.path.clone()),
                        tag,
                    }
                })
                .collect(),
            merged,
        })
        .collect()
}

/// A platform image as the registry has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformImage {
    pub platform: Platform,
    pub digest: String,
    pub media_type: String,
    pub size: u64,
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawManifest {
    media_type: Option<String>,
    config: Option<RawDescriptor>,
    manifests: Option<Vec<RawDescriptor>>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct RawDescriptor {
    #[serde(default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    platform: Option<RawPlatform>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
struct RawPlatform {
    architecture: String,
    os: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    variant: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Index<'a> {
    schema_version: u32,
    media_type: &'a str,
    manifests: Vec<RawDescriptor>,
}

/// The image index over `images`: a Docker manifest list when every platform
/// image is a Docker manifest, else an OCI index (what buildx does too).
pub fn index(images: &[PlatformImage]) -> (Vec<u8>, &'static str) {
    let media_type = if images
        .iter()
        .all(|i| i.media_type == media::DOCKER_MANIFEST)
    {
        media::DOCKER_LIST
    } else {
        media::OCI_INDEX
    };
    let body = Index {
        schema_version: 2,
        media_type,
        manifests: images
            .iter()
            .map(|i| RawDescriptor {
                media_type: i.media_type.clone(),
                digest: i.digest.clone(),
                size: i.size,
                platform: Some(RawPlatform {
                    architecture: i.architecture.clone(),
                    os: i.os.clone(),
                    variant: i.variant.clone(),
                }),
            })
            .collect(),
    };
    let text = serde_json::to_vec_pretty(&body).expect("an index always serialises");
    (text, media_type)
}

/// Reads what a platform tag points at: `None` when the registry has no such tag.
async fn resolve(
    registry: &Registry,
    repository: &str,
    source: &Source,
    configs: &Mutex<HashMap<String, RawPlatform>>,
) -> Result<Option<PlatformImage>, RegistryError> {
    let reference = registry.reference(repository, &source.tag);
    let (body, digest) = match registry.manifest(&reference).await {
        Ok(found) => found,
        Err(RegistryError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let shown = format!("{}/{repository}:{}", registry.host, source.tag);
    let protocol = |detail: String| RegistryError::Protocol {
        registry: registry.host.clone(),
        what: format!("reading {shown}"),
        detail,
    };
    let raw: RawManifest =
        serde_json::from_slice(&body).map_err(|e| protocol(format!("not a manifest: {e}")))?;
    let wrong = |actual: &RawPlatform| RegistryError::WrongPlatform {
        reference: shown.clone(),
        expected: source.platform.to_string(),
        actual: format!("{}/{}", actual.os, actual.architecture),
    };
    // Already an index (buildx with attestations): take this platform's entry.
    if let Some(entries) = raw.manifests {
        let entry = entries
            .into_iter()
            .find(|e| {
                e.platform.as_ref().is_some_and(|p| {
                    p.os == "linux" && p.architecture == source.platform.docker_arch()
                })
            })
            .ok_or_else(|| {
                protocol(format!(
                    "an image index without a linux/{} entry",
                    source.platform.docker_arch()
                ))
            })?;
        let p = entry.platform.clone().unwrap_or_default();
        return Ok(Some(PlatformImage {
            platform: source.platform,
            digest: entry.digest,
            media_type: entry.media_type,
            size: entry.size,
            os: p.os,
            architecture: p.architecture,
            variant: p.variant,
        }));
    }
    let config = raw
        .config
        .ok_or_else(|| protocol("a manifest without a config".into()))?;
    let media_type = raw
        .media_type
        .unwrap_or_else(|| media::OCI_MANIFEST.to_string());
    let cached = configs.lock().await.get(&config.digest).cloned();
    let platform = match cached {
        Some(p) => p,
        None => {
            let blob = registry.blob(&reference, &config.digest).await?;
            let p: RawPlatform = serde_json::from_slice(&blob)
                .map_err(|e| protocol(format!("image config {}: {e}", config.digest)))?;
            configs
                .lock()
                .await
                .insert(config.digest.clone(), p.clone());
            p
        }
    };
    if platform.os != "linux"
        || Platform::from_docker_arch(&platform.architecture).ok() != Some(source.platform)
    {
        return Err(wrong(&platform));
    }
    Ok(Some(PlatformImage {
        platform: source.platform,
        digest,
        media_type,
        size: body.len() as u64,
        os: platform.os,
        architecture: platform.architecture,
        variant: platform.variant,
    }))
}

/// One merged tag as put (or, with `--dry-run`, as it would be put).
#[derive(Debug, Clone)]
pub struct Merged {
    pub merged: String,
    pub images: Vec<PlatformImage>,
    /// The index's digest read back from the registry; `None` on a dry run.
    pub digest: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub dry_run: bool,
    pub allow_missing_platform: bool,
    /// Platforms with no tags file at all (where it was looked for): missing too.
    pub absent: Vec<(Platform, PathBuf)>,
}

/// Checks every platform image of every merged tag, then (unless it is a dry
/// run) puts the indexes. Returns what was put, in tags file order, and warnings.
pub async fn merge(
    registry: &Registry,
    repository: &str,
    image: &str,
    files: &[PlatformTags],
    opts: Options,
) -> Result<(Vec<Merged>, Vec<String>), crate::Error> {
    let wanted = plan(files);
    // One request first: a registry that is down or refuses the credentials
    // fails once, not once per tag.
    if let Some(first) = wanted.first().and_then(|w| w.sources.first()) {
        registry
            .check_access(&registry.reference(repository, &first.tag))
            .await?;
    }
    let configs = Mutex::new(HashMap::new());
    let mut unique: Vec<&Source> = Vec::new();
    for s in wanted.iter().flat_map(|w| &w.sources) {
        if !unique.iter().any(|u| u.tag == s.tag) {
            unique.push(s);
        }
    }
    // A few requests at a time: quick on a remote registry, gentle on it too.
    let found: HashMap<String, Option<PlatformImage>> = stream::iter(unique)
        .map(|s| {
            let configs = &configs;
            async move {
                resolve(registry, repository, s, configs)
                    .await
                    .map(|r| (s.tag.clone(), r))
            }
        })
        .buffer_unordered(8)
        .try_collect()
        .await?;

    let name = format!("{}/{repository}", registry.host);
    let mut missing: Vec<String> = opts
        .absent
        .iter()
        .map(|(p, path)| format!("{p}: no tags file ({} does not exist)", path.display()))
        .collect();
    let mut done = Vec::new();
    let mut warnings = Vec::new();
    for w in &wanted {
        let mut images = Vec::new();
        for s in &w.sources {
            match found.get(&s.tag).cloned().flatten() {
                Some(i) => images.push(i),
                None => missing.push(match &s.declared_in {
                    Some(path) => format!(
                        "{name}:{} ({}, declared in {})",
                        s.tag,
                        s.platform,
                        path.display()
                    ),
                    None => format!(
                        "{name}:{} ({}: its tags file has no such tag, and neither has the registry)",
                        s.tag, s.platform
                    ),
                }),
            }
        }
        if images.is_empty() {
            warnings.push(format!(
                "{name}:{}: no platform image, not merged",
                w.merged
            ));
            continue;
        }
        done.push(Merged {
            merged: w.merged.clone(),
            images,
            digest: None,
        });
    }
    if !missing.is_empty() {
        if !opts.allow_missing_platform {
            return Err(RegistryError::MissingPlatform {
                image: image.to_string(),
                missing,
            }
            .into());
        }
        warnings.extend(missing.into_iter().map(|m| format!("left out: {m}")));
    }
    if opts.dry_run {
        return Ok((done, warnings));
    }
    for m in &mut done {
        let (body, media_type) = index(&m.images);
        let reference = registry.reference(repository, &m.merged);
        registry.put_manifest(&reference, &body, media_type).await?;
        m.digest = Some(registry.digest(&reference).await?);
    }
    Ok((done, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(platform: Platform, tags: &[&str]) -> PlatformTags {
        PlatformTags {
            platform,
            path: PathBuf::from(format!("{platform}.txt")),
            tags: tags.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn plan_pairs_platform_tags_in_file_order() {
        let files = [
            file(
                Platform::X86_64,
                &["x86_64-latest", "x86_64-2026-11-24", "x86_64-python-3.11"],
            ),
            file(
                Platform::Aarch64,
                &[
                    "aarch64-latest",
                    "aarch64-2026-11-25",
                    "aarch64-python-3.11",
                ],
            ),
        ];
        let p = plan(&files);
        let merged: Vec<_> = p.iter().map(|w| w.merged.as_str()).collect();
        assert_eq!(
            merged,
            ["latest", "2026-11-24", "python-3.11", "2026-11-25"]
        );
        let day = &p[1];
        assert_eq!(day.sources[0].tag, "x86_64-2026-11-24");
        assert!(day.sources[0].declared_in.is_some());
        assert_eq!(day.sources[1].tag, "aarch64-2026-11-24");
        assert!(day.sources[1].declared_in.is_none());
    }

    #[test]
    fn plan_keeps_the_variant_in_the_merged_tag() {
        let files = [file(Platform::Aarch64, &["aarch64-cuda12-latest"])];
        assert_eq!(plan(&files)[0].merged, "cuda12-latest");
    }

    fn img(platform: Platform, media_type: &str) -> PlatformImage {
        PlatformImage {
            platform,
            digest: format!("sha256:{platform}"),
            media_type: media_type.into(),
            size: 523,
            os: "linux".into(),
            architecture: platform.docker_arch().into(),
            variant: (platform == Platform::Aarch64).then(|| "v8".into()),
        }
    }

    #[test]
    fn index_type_follows_the_platform_manifests() {
        let docker = [
            img(Platform::X86_64, media::DOCKER_MANIFEST),
            img(Platform::Aarch64, media::DOCKER_MANIFEST),
        ];
        let (body, t) = index(&docker);
        assert_eq!(t, media::DOCKER_LIST);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["mediaType"], media::DOCKER_LIST);
        assert_eq!(v["manifests"][1]["platform"]["architecture"], "arm64");
        assert_eq!(v["manifests"][1]["platform"]["variant"], "v8");
        assert!(v["manifests"][0]["platform"].get("variant").is_none());
        let mixed = [
            img(Platform::X86_64, media::OCI_MANIFEST),
            img(Platform::Aarch64, media::DOCKER_MANIFEST),
        ];
        assert_eq!(index(&mixed).1, media::OCI_INDEX);
    }
}
