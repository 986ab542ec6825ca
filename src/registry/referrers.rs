//! SBOMs attached to a pushed image as OCI artifacts (image-spec 1.1): an image
//! manifest with an `artifactType`, the empty config, the SBOM file as its one
//! layer, and the platform image's manifest as its `subject`. Registries with
//! the referrers API index it themselves; for those without (Debian's
//! docker-registry 2.8, GHCR), the referrers tag scheme of distribution-spec
//! 1.1: an index tagged `sha256-{hex}` listing the subject's referrers,
//! updated (read, add, put), never overwritten.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::Digest;

use super::client::{media, Descriptor, Registry};
use super::error::RegistryError;
use super::merge::reference;
use crate::error::Error;
use crate::error::FileError;
use crate::formats::tags::{self, Platform};

pub const EMPTY_CONFIG: &str = "application/vnd.oci.empty.v1+json";
/// The empty JSON object, the config of an artifact that has none.
const EMPTY: &[u8] = b"{}";
const TITLE: &str = "org.opencontainers.image.title";

/// The SBOM formats `stacktag hook --sbom` writes (formats.md, "SBOM files").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SbomKind {
    Spdx,
    CycloneDx,
}

impl SbomKind {
    pub const ALL: [SbomKind; 2] = [SbomKind::Spdx, SbomKind::CycloneDx];

    pub fn extension(self) -> &'static str {
        match self {
            SbomKind::Spdx => "spdx.json",
            SbomKind::CycloneDx => "cdx.json",
        }
    }

    /// The artifact type, and the media type of the layer.
    pub fn artifact_type(self) -> &'static str {
        match self {
            SbomKind::Spdx => "application/spdx+json",
            SbomKind::CycloneDx => "application/vnd.cyclonedx+json",
        }
    }

    /// Why `doc` is not an SBOM of this kind, if it is not.
    fn check(self, doc: &serde_json::Value) -> Option<String> {
        match self {
            SbomKind::Spdx => match doc.get("spdxVersion").and_then(|v| v.as_str()) {
                Some(v) if v.starts_with("SPDX-") => None,
                _ => Some("not an SPDX JSON document (no `spdxVersion: SPDX-…`)".into()),
            },
            SbomKind::CycloneDx => match doc.get("bomFormat").and_then(|v| v.as_str()) {
                Some("CycloneDX") => None,
                _ => Some("not a CycloneDX JSON document (no `bomFormat: CycloneDX`)".into()),
            },
        }
    }
}

/// One SBOM file, read and checked.
#[derive(Debug, Clone)]
pub struct SbomFile {
    pub path: PathBuf,
    pub kind: SbomKind,
    pub bytes: Vec<u8>,
}

/// The SBOM files of one build of an image on one platform:
/// `{dir}/{platform}-{variant}-{image}-{sha12}.spdx.json` and `.cdx.json`.
/// Either may be missing, not both; each present one must be the JSON it says.
pub fn sbom_files(
    dir: &Path,
    platform: Platform,
    variant: &str,
    image: &str,
    sha12: &str,
) -> Result<Vec<SbomFile>, Error> {
    let stem = format!("{}-{sha12}", tags::file_stem(platform, variant, image));
    let mut found = Vec::new();
    for kind in SbomKind::ALL {
        let path = dir.join(format!("{stem}.{}", kind.extension()));
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io(path, e)),
        };
        let bad = |message: String| FileError::Bad {
            path: path.clone(),
            message,
        };
        let doc: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| bad(format!("not JSON: {e}; nothing was attached")))?;
        if let Some(why) = kind.check(&doc) {
            return Err(bad(format!("{why}; nothing was attached")).into());
        }
        found.push(SbomFile { path, kind, bytes });
    }
    if found.is_empty() {
        return Err(RegistryError::NoSbom {
            dir: dir.to_path_buf(),
            image: image.to_string(),
            which: format!(
                "({platform}, variant {variant}, commit {sha12}): expected {stem}.spdx.json or {stem}.cdx.json"
            ),
        }
        .into());
    }
    Ok(found)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactManifest<'a> {
    schema_version: u32,
    media_type: &'a str,
    artifact_type: &'a str,
    config: Descriptor,
    layers: Vec<Descriptor>,
    subject: &'a Descriptor,
    annotations: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReferrersIndex {
    schema_version: u32,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

fn digest_of(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(data)))
}

/// The tag of the referrers tag scheme: `sha256:abc…` → `sha256-abc…`.
pub fn referrers_tag(subject: &str) -> String {
    subject.replace(':', "-")
}

/// Where a referrer was found, or put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// The registry's referrers API.
    Api,
    /// The referrers tag scheme, under this tag.
    Tag(String),
}

impl std::fmt::Display for Via {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Via::Api => f.write_str("referrers API"),
            Via::Tag(t) => write!(f, "tag {t}"),
        }
    }
}

/// The platform image that `tag` names: its manifest's descriptor. For a
/// tag that is an index (BuildKit's), its `platform` image entry.
pub async fn platform_subject(
    registry: &Registry,
    repository: &str,
    tag: &str,
    platform: Platform,
) -> Result<Descriptor, RegistryError> {
    let shown = format!("{}/{repository}:{tag}", registry.host);
    let (body, digest) = registry.tagged_manifest(repository, tag).await?;
    let protocol = |detail: String| RegistryError::Protocol {
        registry: registry.host.clone(),
        what: format!("reading {shown}"),
        detail,
    };
    let raw: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| protocol(format!("not a manifest: {e}")))?;
    let media_type = raw["mediaType"].as_str().unwrap_or(media::OCI_MANIFEST);
    let Some(entries) = raw["manifests"].as_array() else {
        return Ok(Descriptor {
            media_type: media_type.to_string(),
            digest,
            size: body.len() as u64,
            artifact_type: None,
            annotations: BTreeMap::new(),
        });
    };
    entries
        .iter()
        .find(|e| {
            e["platform"]["os"] == "linux"
                && e["platform"]["architecture"] == platform.docker_arch()
                && e["annotations"][reference::TYPE].is_null()
        })
        .and_then(|e| serde_json::from_value::<Descriptor>(e.clone()).ok())
        .map(|d| Descriptor {
            annotations: BTreeMap::new(),
            artifact_type: None,
            ..d
        })
        .ok_or_else(|| {
            protocol(format!(
                "an image index without a linux/{} image",
                platform.docker_arch()
            ))
        })
}

/// One SBOM attached.
#[derive(Debug, Clone)]
pub struct Attached {
    pub path: PathBuf,
    pub artifact_type: &'static str,
    pub subject: String,
    pub digest: String,
    pub via: Via,
}

/// Pushes each file as an artifact whose subject is `subject`, and makes it
/// findable: through the referrers API when the registry lists it there,
/// else in the referrers tag (read, added to, put). Running it again with the
/// same files changes nothing (the artifacts are byte-for-byte the same).
pub async fn attach(
    registry: &Registry,
    repository: &str,
    subject: &Descriptor,
    files: &[SbomFile],
) -> Result<Vec<Attached>, Error> {
    let subject_ref = registry.reference_digest(repository, &subject.digest);
    let empty = digest_of(EMPTY);
    registry.push_blob(&subject_ref, EMPTY, &empty).await?;
    let mut pushed = Vec::new();
    for f in files {
        let layer_digest = digest_of(&f.bytes);
        registry
            .push_blob(&subject_ref, &f.bytes, &layer_digest)
            .await?;
        let title = f
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let manifest = ArtifactManifest {
            schema_version: 2,
            media_type: media::OCI_MANIFEST,
            artifact_type: f.kind.artifact_type(),
            config: Descriptor {
                media_type: EMPTY_CONFIG.into(),
                digest: empty.clone(),
                size: EMPTY.len() as u64,
                artifact_type: None,
                annotations: BTreeMap::new(),
            },
            layers: vec![Descriptor {
                media_type: f.kind.artifact_type().into(),
                digest: layer_digest,
                size: f.bytes.len() as u64,
                artifact_type: None,
                annotations: BTreeMap::from([(TITLE.to_string(), title.clone())]),
            }],
            subject,
            annotations: BTreeMap::from([(TITLE.to_string(), title)]),
        };
        let body = serde_json::to_vec_pretty(&manifest).expect("a manifest always serialises");
        let digest = digest_of(&body);
        registry
            .put(
                &registry.reference_digest(repository, &digest),
                &body,
                media::OCI_MANIFEST,
                "the SBOM artifact",
            )
            .await?;
        pushed.push((
            f,
            Descriptor {
                media_type: media::OCI_MANIFEST.into(),
                digest,
                size: body.len() as u64,
                artifact_type: Some(f.kind.artifact_type().into()),
                annotations: manifest.annotations.clone(),
            },
        ));
    }

    // Listed by the registry already (its referrers API, or our tag from an
    // earlier run)? Else into the referrers tag.
    let (in_tag, _) = tag_index(registry, repository, &subject.digest).await?;
    let listed = registry.referrers(&subject_ref).await?;
    let tag = referrers_tag(&subject.digest);
    let mut add = Vec::new();
    let mut out = Vec::new();
    for (f, d) in &pushed {
        let via = if in_tag.iter().any(|m| m.digest == d.digest) {
            Via::Tag(tag.clone())
        } else if listed.iter().any(|m| m.digest == d.digest) {
            Via::Api
        } else {
            add.push(d.clone());
            Via::Tag(tag.clone())
        };
        out.push(Attached {
            path: f.path.clone(),
            artifact_type: f.kind.artifact_type(),
            subject: subject.digest.clone(),
            digest: d.digest.clone(),
            via,
        });
    }
    if !add.is_empty() {
        add_to_tag(registry, repository, &subject.digest, &add).await?;
    }
    Ok(out)
}

/// Makes each referrer of `subject` (already in the registry) findable: those
/// the referrers API or the referrers tag lists already are left; the others
/// are added to the referrers tag. Returns how many were added.
pub async fn make_findable(
    registry: &Registry,
    repository: &str,
    subject: &str,
    referrers: &[Descriptor],
) -> Result<usize, RegistryError> {
    let (in_tag, _) = tag_index(registry, repository, subject).await?;
    let listed = registry
        .referrers(&registry.reference_digest(repository, subject))
        .await?;
    let add: Vec<Descriptor> = referrers
        .iter()
        .filter(|d| {
            !in_tag.iter().any(|m| m.digest == d.digest)
                && !listed.iter().any(|m| m.digest == d.digest)
        })
        .cloned()
        .collect();
    if !add.is_empty() {
        add_to_tag(registry, repository, subject, &add).await?;
    }
    Ok(add.len())
}

/// Deletes the referrers tag of `subject`, when there is one (after the
/// referrers themselves are gone). `true` when there was one.
pub async fn delete_tag(
    registry: &Registry,
    repository: &str,
    subject: &str,
) -> Result<bool, RegistryError> {
    let tag = referrers_tag(subject);
    let Some(digest) =
        super::error::optional(registry.digest(&registry.reference(repository, &tag)).await)?
    else {
        return Ok(false);
    };
    match registry.delete_manifest(repository, &digest).await {
        Ok(()) | Err(RegistryError::NotFound { .. }) => Ok(true),
        Err(e) => Err(e),
    }
}

/// The referrers tag's index of `subject`: its entries, and whether it exists.
async fn tag_index(
    registry: &Registry,
    repository: &str,
    subject: &str,
) -> Result<(Vec<Descriptor>, bool), RegistryError> {
    let tag = referrers_tag(subject);
    match registry
        .manifest(&registry.reference(repository, &tag))
        .await
    {
        Ok((body, _)) => {
            let index: ReferrersIndex =
                serde_json::from_slice(&body).map_err(|e| RegistryError::Protocol {
                    registry: registry.host.clone(),
                    what: format!("reading the referrers tag {repository}:{tag}"),
                    detail: format!("not an image index: {e}"),
                })?;
            Ok((index.manifests, true))
        }
        Err(RegistryError::NotFound { .. }) => Ok((Vec::new(), false)),
        Err(e) => Err(e),
    }
}

/// Read, add, put: what is already in the referrers tag stays (other tools'
/// signatures and attestations), and an entry already there is not added again.
async fn add_to_tag(
    registry: &Registry,
    repository: &str,
    subject: &str,
    add: &[Descriptor],
) -> Result<(), RegistryError> {
    let (mut manifests, _) = tag_index(registry, repository, subject).await?;
    for d in add {
        if !manifests.iter().any(|m| m.digest == d.digest) {
            manifests.push(d.clone());
        }
    }
    let index = ReferrersIndex {
        schema_version: 2,
        media_type: Some(media::OCI_INDEX.into()),
        manifests,
    };
    let body = serde_json::to_vec_pretty(&index).expect("an index always serialises");
    registry
        .put(
            &registry.reference(repository, &referrers_tag(subject)),
            &body,
            media::OCI_INDEX,
            "the referrers index",
        )
        .await
}

/// One referrer of a subject, as listed.
#[derive(Debug, Clone)]
pub struct Referrer {
    pub subject: String,
    pub descriptor: Descriptor,
    pub via: Via,
}

/// Everything attached to `subject`: what the referrers API lists (or, on a
/// registry without one, oci-client's read of the tag) and what the
/// referrers tag lists, each once.
pub async fn list(
    registry: &Registry,
    repository: &str,
    subject: &str,
) -> Result<Vec<Referrer>, RegistryError> {
    let (in_tag, _) = tag_index(registry, repository, subject).await?;
    let listed = registry
        .referrers(&registry.reference_digest(repository, subject))
        .await?;
    let tag = referrers_tag(subject);
    let mut out: Vec<Referrer> = in_tag
        .into_iter()
        .map(|descriptor| Referrer {
            subject: subject.to_string(),
            descriptor,
            via: Via::Tag(tag.clone()),
        })
        .collect();
    for e in listed {
        if !out.iter().any(|r| r.descriptor.digest == e.digest) {
            out.push(Referrer {
                subject: subject.to_string(),
                descriptor: Descriptor {
                    media_type: e.media_type,
                    digest: e.digest,
                    size: e.size.max(0) as u64,
                    artifact_type: e.artifact_type,
                    annotations: e.annotations.unwrap_or_default(),
                },
                via: Via::Api,
            });
        }
    }
    Ok(out)
}

/// The subjects a tag stands for: the manifest it names, and for an index
/// also each image in it (not the attestations: they are about those images).
pub async fn subjects_of(
    registry: &Registry,
    repository: &str,
    tag: &str,
) -> Result<Vec<(String, String)>, RegistryError> {
    let (body, digest) = registry.tagged_manifest(repository, tag).await?;
    let raw: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let mut out = vec![(digest, "the tag".to_string())];
    for e in raw["manifests"].as_array().into_iter().flatten() {
        if !e["annotations"][reference::TYPE].is_null() {
            continue;
        }
        if let Some(d) = e["digest"].as_str() {
            let p = &e["platform"];
            let name = match (p["os"].as_str(), p["architecture"].as_str()) {
                (Some(os), Some(arch)) => format!("{os}/{arch}"),
                _ => "an entry".to_string(),
            };
            out.push((d.to_string(), name));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sbom_files_are_found_by_name_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let p = Platform::X86_64;
        let e = sbom_files(dir.path(), p, "default", "base-notebook", "1ffe43816ba9").unwrap_err();
        assert!(
            e.to_string()
                .contains("x86_64-default-base-notebook-1ffe43816ba9.spdx.json"),
            "{e}"
        );
        let spdx = dir
            .path()
            .join("x86_64-default-base-notebook-1ffe43816ba9.spdx.json");
        std::fs::write(&spdx, r#"{"spdxVersion":"SPDX-2.3"}"#).unwrap();
        let found = sbom_files(dir.path(), p, "default", "base-notebook", "1ffe43816ba9").unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, SbomKind::Spdx);
        let cdx = dir
            .path()
            .join("x86_64-default-base-notebook-1ffe43816ba9.cdx.json");
        std::fs::write(&cdx, r#"{"spdxVersion":"SPDX-2.3"}"#).unwrap();
        let e = sbom_files(dir.path(), p, "default", "base-notebook", "1ffe43816ba9").unwrap_err();
        assert!(e.to_string().contains("not a CycloneDX"), "{e}");
        std::fs::write(&cdx, "{").unwrap();
        let e = sbom_files(dir.path(), p, "default", "base-notebook", "1ffe43816ba9").unwrap_err();
        assert!(e.to_string().contains("not JSON"), "{e}");
    }

    #[test]
    fn the_referrers_tag_is_the_digest_with_a_dash() {
        assert_eq!(referrers_tag("sha256:abc123"), "sha256-abc123");
    }
}
