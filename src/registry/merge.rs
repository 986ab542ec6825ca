//! Upstream's merge step, registry-side: for every merged tag (the platform
//! tag without its leading `{platform}-`), put an image index whose entries are
//! the platform images, read from the registry (manifests and configs only,
//! never a layer). A platform image that should be there and is not stops the
//! merge before anything is written.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::client::{media, Registry};
use super::error::{optional, RegistryError};
use super::tags_files::PlatformTags;
use crate::formats::schema;
use crate::formats::tags::{self, Platform};

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

/// The annotations BuildKit puts on an attestation manifest's entry in an
/// image index: what it is, and the image it is about.
pub mod reference {
    pub const TYPE: &str = "vnd.docker.reference.type";
    pub const DIGEST: &str = "vnd.docker.reference.digest";
    pub const ATTESTATION: &str = "attestation-manifest";
}

/// A platform image as the registry has it (as `merge --format json` lists
/// it in each merged tag).
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct PlatformImage {
    pub platform: Platform,
    pub os: String,
    pub architecture: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub variant: Option<String>,
    #[schemars(with = "schema::Digest")]
    pub digest: String,
    pub media_type: String,
    pub size: u64,
    /// Attestation manifests (provenance, SBOM) that came with the image in the
    /// platform tag's index; they go next to it in the merged index.
    /// Their digests, in a JSON document.
    pub attestations: Vec<Attestation>,
    /// The entry that goes into the merged index: made from the image's config
    /// for a plain manifest, kept as it was when the platform tag is an index.
    #[serde(skip)]
    pub descriptor: serde_json::Value,
    /// `created` of the image's config, as `2026-11-22T23:48:58Z`.
    #[serde(skip)]
    pub created: Option<String>,
}

/// An attestation manifest's entry, kept as it was in the platform tag's index.
#[derive(Debug, Clone, PartialEq)]
pub struct Attestation {
    pub digest: String,
    pub descriptor: serde_json::Value,
}

/// In a JSON document: its digest.
impl Serialize for Attestation {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.digest.serialize(s)
    }
}

impl schemars::JsonSchema for Attestation {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Attestation".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        generator.subschema_for::<schema::Digest>()
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawManifest {
    media_type: Option<String>,
    config: Option<RawDescriptor>,
    manifests: Option<Vec<serde_json::Value>>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
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
    #[serde(default, skip_serializing)]
    annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
struct RawPlatform {
    architecture: String,
    os: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    variant: Option<String>,
}

/// The parts of an image config merge reads.
#[derive(Debug, Clone, Default, Deserialize)]
struct RawConfig {
    #[serde(flatten)]
    platform: RawPlatform,
    #[serde(default)]
    created: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Index<'a> {
    schema_version: u32,
    media_type: &'a str,
    manifests: Vec<serde_json::Value>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: &'a BTreeMap<String, String>,
}

/// The image index over `images`, each followed by its attestation manifests
/// (as `docker buildx imagetools create` lays them out). A Docker manifest list
/// when every platform image is a Docker manifest and there is nothing else to
/// carry; an OCI index as soon as an entry or the annotations need one (a
/// Docker manifest list has no annotations, and BuildKit's attestations are OCI).
pub fn index(
    images: &[PlatformImage],
    annotations: &BTreeMap<String, String>,
) -> (Vec<u8>, &'static str) {
    let docker = annotations.is_empty()
        && images
            .iter()
            .all(|i| i.media_type == media::DOCKER_MANIFEST && i.attestations.is_empty());
    let media_type = if docker {
        media::DOCKER_LIST
    } else {
        media::OCI_INDEX
    };
    let body = Index {
        schema_version: 2,
        media_type,
        manifests: images
            .iter()
            .flat_map(|i| {
                std::iter::once(i.descriptor.clone())
                    .chain(i.attestations.iter().map(|a| a.descriptor.clone()))
            })
            .collect(),
        annotations,
    };
    let text = serde_json::to_vec_pretty(&body).expect("an index always serialises");
    (text, media_type)
}

/// What a platform tag points at, read from the registry: `None` when there is
/// no such tag. For a platform tag that is an index, also its digest and what
/// was left out of it, each named, for the warnings.
async fn resolve(
    registry: &Registry,
    repository: &str,
    source: &Source,
    configs: &Mutex<HashMap<String, RawConfig>>,
) -> Result<Option<(PlatformImage, Option<LeftOut>)>, RegistryError> {
    let reference = registry.reference(repository, &source.tag);
    let Some((body, digest)) = optional(registry.manifest(&reference).await)? else {
        return Ok(None);
    };
    let shown = format!("{}/{repository}:{}", registry.host, source.tag);
    let protocol = |what: &str, detail: String| RegistryError::Protocol {
        registry: registry.host.clone(),
        what: format!("reading {what}"),
        detail,
    };
    let raw: RawManifest = serde_json::from_slice(&body)
        .map_err(|e| protocol(&shown, format!("not a manifest: {e}")))?;
    let Some(entries) = raw.manifests else {
        // A plain image manifest: the entry is made from it and its config.
        let media_type = raw
            .media_type
            .unwrap_or_else(|| media::OCI_MANIFEST.to_string());
        let config = image_config(registry, repository, &shown, raw.config, configs).await?;
        let image = platform_image(
            source,
            &shown,
            digest,
            media_type,
            body.len() as u64,
            config,
        )?;
        return Ok(Some((image, None)));
    };

    // An index (BuildKit's: the image and its attestation manifests): keep
    // this platform's image and what is attached to it; name all else.
    let mut left_out = Vec::new();
    let mut parsed = Vec::new();
    for value in entries {
        let entry: RawDescriptor = serde_json::from_value(value.clone()).map_err(|e| {
            protocol(
                &shown,
                format!("an index entry that is not a descriptor: {e}"),
            )
        })?;
        parsed.push((entry, value));
    }
    let is_ours = |e: &RawDescriptor| {
        e.platform
            .as_ref()
            .is_some_and(|p| p.os == "linux" && p.architecture == source.platform.docker_arch())
            && !e.annotations.contains_key(reference::TYPE)
    };
    let Some(at) = parsed.iter().position(|(e, _)| is_ours(e)) else {
        return Err(protocol(
            &shown,
            format!(
                "an image index without a linux/{} image",
                source.platform.docker_arch()
            ),
        ));
    };
    let (entry, descriptor) = parsed.remove(at);
    let mut attestations = Vec::new();
    for (e, value) in parsed {
        let about = e.annotations.get(reference::DIGEST);
        let kind = e.annotations.get(reference::TYPE);
        if kind.map(String::as_str) == Some(reference::ATTESTATION) && about == Some(&entry.digest)
        {
            attestations.push(Attestation {
                digest: e.digest,
                descriptor: value,
            });
            continue;
        }
        let what = match (kind, about, &e.platform) {
            (Some(kind), Some(about), _) => format!("a {kind} about {about}, not this image"),
            (Some(kind), None, _) => format!("a {kind} that names no image"),
            (None, _, Some(p)) => format!(
                "the {}/{}{} image",
                p.os,
                p.architecture,
                p.variant
                    .as_deref()
                    .map(|v| format!("/{v}"))
                    .unwrap_or_default()
            ),
            (None, _, None) => format!("a {} with no platform", e.media_type),
        };
        left_out.push(format!("{} ({what})", e.digest));
    }
    if !raw.annotations.is_empty() {
        left_out.push(format!(
            "the index's own annotations ({})",
            raw.annotations
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    // The image's own manifest and config: the platform is checked there, not
    // only trusted from the index entry.
    let entry_ref = registry.reference_digest(repository, &entry.digest);
    let (image_body, _) = registry.manifest(&entry_ref).await?;
    let image_shown = format!("{}/{repository}@{}", registry.host, entry.digest);
    let image: RawManifest = serde_json::from_slice(&image_body)
        .map_err(|e| protocol(&image_shown, format!("not a manifest: {e}")))?;
    let config = image_config(registry, repository, &image_shown, image.config, configs).await?;
    let mut image = platform_image(
        source,
        &shown,
        entry.digest,
        entry.media_type,
        entry.size,
        config,
    )?;
    image.descriptor = descriptor;
    image.attestations = attestations;
    let left_out = (!left_out.is_empty()).then_some(LeftOut {
        index: digest,
        what: left_out,
    });
    Ok(Some((image, left_out)))
}

/// What a platform tag's index held that the merged index does not take.
#[derive(Debug, Clone)]
struct LeftOut {
    index: String,
    what: Vec<String>,
}

/// The config of an image manifest (read once per config digest).
async fn image_config(
    registry: &Registry,
    repository: &str,
    shown: &str,
    config: Option<RawDescriptor>,
    configs: &Mutex<HashMap<String, RawConfig>>,
) -> Result<RawConfig, RegistryError> {
    let protocol = |detail: String| RegistryError::Protocol {
        registry: registry.host.clone(),
        what: format!("reading {shown}"),
        detail,
    };
    let config = config.ok_or_else(|| protocol("a manifest without a config".into()))?;
    if let Some(c) = configs.lock().await.get(&config.digest) {
        return Ok(c.clone());
    }
    let reference = registry.reference_digest(repository, &config.digest);
    let blob = registry.blob(&reference, &config.digest).await?;
    let c: RawConfig = serde_json::from_slice(&blob)
        .map_err(|e| protocol(format!("image config {}: {e}", config.digest)))?;
    configs.lock().await.insert(config.digest, c.clone());
    Ok(c)
}

/// The platform image, once its config says it is the platform its tag says.
fn platform_image(
    source: &Source,
    shown: &str,
    digest: String,
    media_type: String,
    size: u64,
    config: RawConfig,
) -> Result<PlatformImage, RegistryError> {
    let p = config.platform;
    if p.os != "linux" || Platform::from_docker_arch(&p.architecture).ok() != Some(source.platform)
    {
        return Err(RegistryError::WrongPlatform {
            reference: shown.to_string(),
            expected: source.platform.to_string(),
            actual: format!("{}/{}", p.os, p.architecture),
        });
    }
    let descriptor = serde_json::to_value(RawDescriptor {
        media_type: media_type.clone(),
        digest: digest.clone(),
        size,
        platform: Some(p.clone()),
        annotations: BTreeMap::new(),
    })
    .expect("a descriptor always serialises");
    Ok(PlatformImage {
        platform: source.platform,
        digest,
        media_type,
        size,
        os: p.os,
        architecture: p.architecture,
        variant: p.variant,
        descriptor,
        attestations: Vec::new(),
        created: config
            .created
            .as_deref()
            .and_then(super::annotations::timestamp),
    })
}

/// One merged tag as put (or, with `--dry-run`, as it would be put).
#[derive(Debug, Clone)]
pub struct Merged {
    pub merged: String,
    pub images: Vec<PlatformImage>,
    /// The index's digest read back from the registry; `None` on a dry run.
    pub digest: Option<String>,
    /// The annotations of the index.
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub dry_run: bool,
    pub allow_missing_platform: bool,
    /// Platforms with no tags file at all (where it was looked for): missing too.
    pub absent: Vec<(Platform, PathBuf)>,
    /// Put on every index (`org.opencontainers.image.*` and `--annotation`s);
    /// none: the index is what it was before annotations (a Docker manifest
    /// list over Docker manifests).
    pub annotations: BTreeMap<String, String>,
    /// Without a `created` annotation given: the newest `created` of the
    /// index's platform images.
    pub created_from_images: bool,
}

/// The platform tags, each once, in plan order.
fn unique_order(wanted: &[Wanted]) -> Vec<&str> {
    let mut tags: Vec<&str> = Vec::new();
    for s in wanted.iter().flat_map(|w| &w.sources) {
        if !tags.contains(&s.tag.as_str()) {
            tags.push(&s.tag);
        }
    }
    tags
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
    let found: HashMap<String, Option<(PlatformImage, Option<LeftOut>)>> = stream::iter(unique)
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
    // What an index of BuildKit held and the merged index does not take: said
    // once per index, with every platform tag that points at it.
    let mut left_out: Vec<(LeftOut, Vec<&str>)> = Vec::new();
    for s in &unique_order(&wanted) {
        if let Some(Some((_, Some(l)))) = found.get(*s) {
            match left_out.iter_mut().find(|(o, _)| o.index == l.index) {
                Some((_, tags)) => tags.push(s),
                None => left_out.push((l.clone(), vec![s])),
            }
        }
    }
    for (l, tags) in left_out {
        warnings.push(format!(
            "{name}:{} (index {}) holds what the merged index leaves out: {}",
            tags.join(", "),
            l.index,
            l.what.join("; ")
        ));
    }
    for w in &wanted {
        let mut images = Vec::new();
        for s in &w.sources {
            match found.get(&s.tag).cloned().flatten() {
                Some((i, _)) => images.push(i),
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
        let mut annotations = opts.annotations.clone();
        if opts.created_from_images && !annotations.contains_key(super::annotations::CREATED) {
            if let Some(newest) = images.iter().filter_map(|i| i.created.clone()).max() {
                annotations.insert(super::annotations::CREATED.to_string(), newest);
            }
        }
        done.push(Merged {
            merged: w.merged.clone(),
            images,
            digest: None,
            annotations,
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
        let (body, media_type) = index(&m.images, &m.annotations);
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
        let variant = (platform == Platform::Aarch64).then(|| "v8".to_string());
        let digest = format!("sha256:{platform}");
        PlatformImage {
            platform,
            digest: digest.clone(),
            media_type: media_type.into(),
            size: 523,
            os: "linux".into(),
            architecture: platform.docker_arch().into(),
            variant: variant.clone(),
            descriptor: serde_json::to_value(RawDescriptor {
                media_type: media_type.into(),
                digest,
                size: 523,
                platform: Some(RawPlatform {
                    architecture: platform.docker_arch().into(),
                    os: "linux".into(),
                    variant,
                }),
                annotations: BTreeMap::new(),
            })
            .unwrap(),
            attestations: Vec::new(),
            created: None,
        }
    }

    #[test]
    fn index_type_follows_the_platform_manifests() {
        let none = BTreeMap::new();
        let docker = [
            img(Platform::X86_64, media::DOCKER_MANIFEST),
            img(Platform::Aarch64, media::DOCKER_MANIFEST),
        ];
        let (body, t) = index(&docker, &none);
        assert_eq!(t, media::DOCKER_LIST);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["mediaType"], media::DOCKER_LIST);
        assert_eq!(v["manifests"][1]["platform"]["architecture"], "arm64");
        assert_eq!(v["manifests"][1]["platform"]["variant"], "v8");
        assert!(v["manifests"][0]["platform"].get("variant").is_none());
        assert!(v.get("annotations").is_none());
        let mixed = [
            img(Platform::X86_64, media::OCI_MANIFEST),
            img(Platform::Aarch64, media::DOCKER_MANIFEST),
        ];
        assert_eq!(index(&mixed, &none).1, media::OCI_INDEX);
        // A Docker manifest list cannot carry annotations.
        let a = BTreeMap::from([("com.example.k".to_string(), "v".to_string())]);
        let (body, t) = index(&docker, &a);
        assert_eq!(t, media::OCI_INDEX);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["annotations"]["com.example.k"], "v");
    }

    #[test]
    fn attestations_go_next_to_their_image() {
        let mut x86 = img(Platform::X86_64, media::DOCKER_MANIFEST);
        let att = serde_json::json!({
            "mediaType": media::OCI_MANIFEST,
            "digest": "sha256:att",
            "size": 1,
            "platform": {"architecture": "unknown", "os": "unknown"},
            "annotations": {reference::TYPE: reference::ATTESTATION, reference::DIGEST: "sha256:x86_64"},
        });
        x86.attestations.push(Attestation {
            digest: "sha256:att".into(),
            descriptor: att.clone(),
        });
        let arm = img(Platform::Aarch64, media::DOCKER_MANIFEST);
        let (body, t) = index(&[x86, arm], &BTreeMap::new());
        assert_eq!(t, media::OCI_INDEX);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let digests: Vec<_> = v["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["digest"].as_str().unwrap())
            .collect();
        assert_eq!(digests, ["sha256:x86_64", "sha256:att", "sha256:aarch64"]);
        assert_eq!(v["manifests"][1], att);
    }
}
