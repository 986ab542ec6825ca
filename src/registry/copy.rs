//! `stacktag copy`: tags from one registry (or repository) to another, as
//! crane copies them: a manifest is copied after everything it names (an
//! index after its platform images and BuildKit's attestation manifests, an
//! image after its config and layers), the referrers of each manifest (SBOMs)
//! after it, and the tags last, so a copy cut short leaves no tag on a
//! half-copied image, and running it again sends only what is missing.
//!
//! Manifests are copied byte for byte, so the digests at the target are the
//! source's. Blobs go from registry to registry as a stream (never through
//! a daemon or the disk); the target's blobs are skipped; on one registry
//! they are mounted, and a blob already copied into another repository of
//! the target is mounted from there.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use futures_util::stream::{self, StreamExt, TryStreamExt};
use tokio::sync::Mutex;

use super::client::{media, Descriptor, Registry};
use super::error::{optional, RegistryError};
use super::referrers;

/// One side of a copy: a registry and a repository in it.
#[derive(Clone, Copy)]
pub struct Place<'a> {
    pub registry: &'a Registry,
    pub repository: &'a str,
}

impl Place<'_> {
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry.host, self.repository)
    }
}

/// What a copy run did, counted over every tag (as `copy --format json`
/// gives it).
#[derive(Debug, Default, serde::Serialize, schemars::JsonSchema)]
pub struct Counts {
    /// Manifests put at the target (indexes, images, attestations, referrers).
    pub manifests_put: AtomicUsize,
    /// Manifests the target had already.
    pub manifests_present: AtomicUsize,
    /// Blobs streamed from the source, and their bytes.
    pub blobs_sent: AtomicUsize,
    pub bytes_sent: AtomicU64,
    /// Blobs mounted from another repository of the target registry.
    pub blobs_mounted: AtomicUsize,
    /// Blobs the target repository had already.
    pub blobs_present: AtomicUsize,
    /// Referrers (SBOMs, signatures) copied with their subjects.
    pub referrers: AtomicUsize,
}

impl Counts {
    /// The counts as they stand now, apart from the run that goes on counting.
    pub fn now(&self) -> Counts {
        let (n, b) = (
            |a: &AtomicUsize| AtomicUsize::new(a.load(Ordering::Relaxed)),
            |a: &AtomicU64| AtomicU64::new(a.load(Ordering::Relaxed)),
        );
        Counts {
            manifests_put: n(&self.manifests_put),
            manifests_present: n(&self.manifests_present),
            blobs_sent: n(&self.blobs_sent),
            bytes_sent: b(&self.bytes_sent),
            blobs_mounted: n(&self.blobs_mounted),
            blobs_present: n(&self.blobs_present),
            referrers: n(&self.referrers),
        }
    }
}

/// The state shared by the copies of one run: which manifests are done, and
/// which target repository already holds a blob (to mount it from there).
#[derive(Default)]
pub struct Run {
    pub counts: Counts,
    done: Mutex<HashSet<(String, String)>>,
    blobs: Mutex<HashMap<String, Arc<Mutex<Option<String>>>>>,
}

/// One tag to copy, as read from the source.
#[derive(Debug, Clone)]
pub struct Source {
    pub tag: String,
    pub digest: String,
    pub body: bytes::Bytes,
}

/// One tag as copied (as `copy --format json` lists it).
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Copied {
    /// `{registry}/{owner}/{image}:{tag}` at the source.
    pub source: String,
    pub target: String,
    /// The source's digest.
    #[schemars(with = "crate::formats::schema::Digest")]
    pub digest: String,
    /// The digest the target has under the tag, read back: equal to `digest`.
    #[schemars(with = "crate::formats::schema::Digest")]
    pub verified: String,
    /// `false` when the target's tag already pointed at the digest.
    pub tag_written: bool,
}

/// The source's manifest under each tag (a missing one is an error naming
/// every tag missing: nothing is copied then).
pub async fn read_sources(from: Place<'_>, tags: &[String]) -> Result<Vec<Source>, RegistryError> {
    let read: Vec<Result<Source, RegistryError>> = stream::iter(tags)
        .map(|tag| async move {
            let (body, digest) = from.registry.tagged_manifest(from.repository, tag).await?;
            Ok(Source {
                tag: tag.clone(),
                digest,
                body,
            })
        })
        .buffered(8)
        .collect()
        .await;
    let mut missing = Vec::new();
    let mut out = Vec::new();
    for r in read {
        match r {
            Ok(s) => out.push(s),
            Err(RegistryError::NotFound { reference }) => missing.push(reference),
            Err(e) => return Err(e),
        }
    }
    if !missing.is_empty() {
        return Err(RegistryError::NotFound {
            reference: missing.join(", "),
        });
    }
    Ok(out)
}

/// Copies each source's manifest tree (each digest once), then writes the
/// tags, then reads each back to check the digest.
pub async fn copy_tags(
    run: &Run,
    from: Place<'_>,
    to: Place<'_>,
    sources: &[Source],
    log: &(dyn Fn(&str) + Sync),
) -> Result<Vec<Copied>, RegistryError> {
    let mut unique: BTreeMap<&str, &Source> = BTreeMap::new();
    for s in sources {
        unique.entry(&s.digest).or_insert(s);
    }
    stream::iter(unique.values())
        .map(|s| copy_manifest(run, from, to, &s.digest, &s.body, log))
        .buffer_unordered(4)
        .try_collect::<Vec<()>>()
        .await?;
    let mut out = Vec::new();
    for s in sources {
        let reference = to.registry.reference(to.repository, &s.tag);
        let now = optional(to.registry.digest(&reference).await)?;
        let written = now.as_deref() != Some(&s.digest);
        if written {
            to.registry
                .put(&reference, &s.body, &media_type(&s.body), "the manifest")
                .await?;
            log(&format!("put {}:{}", to.name(), s.tag));
        }
        let verified = to.registry.digest(&reference).await?;
        if verified != s.digest {
            return Err(RegistryError::DigestMismatch {
                reference: format!("{}:{}", to.name(), s.tag),
                expected: s.digest.clone(),
                actual: verified,
            });
        }
        out.push(Copied {
            source: format!("{}:{}", from.name(), s.tag),
            target: format!("{}:{}", to.name(), s.tag),
            digest: s.digest.clone(),
            verified,
            tag_written: written,
        });
    }
    Ok(out)
}

/// The media type a manifest says it is (an index or an image manifest
/// without one: the OCI types).
pub fn media_type(body: &[u8]) -> String {
    let raw: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    match raw["mediaType"].as_str() {
        Some(m) => m.to_string(),
        None if raw["manifests"].is_array() => media::OCI_INDEX.to_string(),
        None => media::OCI_MANIFEST.to_string(),
    }
}

/// What a manifest names: the manifests of an index, or the config and
/// layers of an image.
fn named(body: &[u8]) -> (Vec<Descriptor>, Vec<Descriptor>) {
    let raw: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let list = |v: &serde_json::Value| -> Vec<Descriptor> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| serde_json::from_value::<Descriptor>(e.clone()).ok())
            .collect()
    };
    let manifests = list(&raw["manifests"]);
    let mut blobs: Vec<Descriptor> = raw
        .get("config")
        .and_then(|c| serde_json::from_value::<Descriptor>(c.clone()).ok())
        .into_iter()
        .collect();
    blobs.extend(list(&raw["layers"]));
    (manifests, blobs)
}

/// Copies one manifest and everything below it, then its referrers; the
/// manifest goes in by digest (tags are the caller's). A manifest the target
/// has is complete there (a registry takes a manifest only with what it
/// names), so only its referrers are looked at.
fn copy_manifest<'a>(
    run: &'a Run,
    from: Place<'a>,
    to: Place<'a>,
    digest: &'a str,
    body: &'a [u8],
    log: &'a (dyn Fn(&str) + Sync),
) -> futures_util::future::LocalBoxFuture<'a, Result<(), RegistryError>> {
    Box::pin(async move {
        let key = (to.name(), digest.to_string());
        if run.done.lock().await.contains(&key) {
            return Ok(());
        }
        let target_ref = to.registry.reference_digest(to.repository, digest);
        let present = optional(to.registry.digest(&target_ref).await)?.is_some();
        if present {
            run.counts.manifests_present.fetch_add(1, Ordering::Relaxed);
        } else {
            let (manifests, blobs) = named(body);
            stream::iter(&blobs)
                .map(|b| copy_blob(run, from, to, b, log))
                .buffer_unordered(4)
                .try_collect::<Vec<()>>()
                .await?;
            stream::iter(&manifests)
                .map(|m| async move {
                    let (child, _) = from
                        .registry
                        .manifest(&from.registry.reference_digest(from.repository, &m.digest))
                        .await?;
                    copy_manifest(run, from, to, &m.digest, &child, log).await
                })
                .buffer_unordered(4)
                .try_collect::<Vec<()>>()
                .await?;
            to.registry
                .put(&target_ref, body, &media_type(body), "the manifest")
                .await?;
            run.counts.manifests_put.fetch_add(1, Ordering::Relaxed);
        }
        copy_referrers(run, from, to, digest, log).await?;
        run.done.lock().await.insert(key);
        Ok(())
    })
}

/// The referrers of `subject` at the source, copied and made findable at the
/// target: by its referrers API when it lists them, else in its referrers tag.
async fn copy_referrers(
    run: &Run,
    from: Place<'_>,
    to: Place<'_>,
    subject: &str,
    log: &(dyn Fn(&str) + Sync),
) -> Result<(), RegistryError> {
    let found = referrers::list(from.registry, from.repository, subject).await?;
    if found.is_empty() {
        return Ok(());
    }
    let mut descriptors = Vec::new();
    for r in &found {
        let d = &r.descriptor;
        let (body, _) = from
            .registry
            .manifest(&from.registry.reference_digest(from.repository, &d.digest))
            .await?;
        copy_manifest(run, from, to, &d.digest, &body, log).await?;
        descriptors.push(d.clone());
    }
    let added = referrers::make_findable(to.registry, to.repository, subject, &descriptors).await?;
    run.counts
        .referrers
        .fetch_add(descriptors.len(), Ordering::Relaxed);
    if added > 0 {
        log(&format!(
            "{} referrer(s) of {subject} listed in {}:{}",
            added,
            to.name(),
            referrers::referrers_tag(subject)
        ));
    }
    Ok(())
}

/// One blob into the target repository: skipped when there, mounted when
/// the registry has it in a repository the run knows, streamed otherwise.
/// One copy of a blob at a time: a second image that needs it waits, then
/// mounts it.
async fn copy_blob(
    run: &Run,
    from: Place<'_>,
    to: Place<'_>,
    blob: &Descriptor,
    log: &(dyn Fn(&str) + Sync),
) -> Result<(), RegistryError> {
    let slot = run
        .blobs
        .lock()
        .await
        .entry(format!("{}@{}", to.registry.host, blob.digest))
        .or_default()
        .clone();
    let mut holder = slot.lock().await;
    let counts = &run.counts;
    if to.registry.has_blob(to.repository, &blob.digest).await? {
        counts.blobs_present.fetch_add(1, Ordering::Relaxed);
        holder.get_or_insert_with(|| to.repository.to_string());
        return Ok(());
    }
    let mut mount_from: Vec<String> = holder.iter().cloned().collect();
    if from.registry.host == to.registry.host {
        mount_from.push(from.repository.to_string());
    }
    for repository in mount_from.iter().filter(|r| *r != to.repository) {
        if to
            .registry
            .mount_blob(to.repository, repository, &blob.digest)
            .await?
        {
            counts.blobs_mounted.fetch_add(1, Ordering::Relaxed);
            *holder = Some(to.repository.to_string());
            return Ok(());
        }
    }
    to.registry
        .copy_blob_from(from.registry, from.repository, to.repository, blob)
        .await?;
    counts.blobs_sent.fetch_add(1, Ordering::Relaxed);
    counts.bytes_sent.fetch_add(blob.size, Ordering::Relaxed);
    log(&format!(
        "copied {} ({}) to {}",
        blob.digest,
        crate::console::size(blob.size),
        to.name()
    ));
    *holder = Some(to.repository.to_string());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_names_its_manifests_or_its_blobs() {
        let index = br#"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:a","size":1}]}"#;
        let (m, b) = named(index);
        assert_eq!((m.len(), b.len()), (1, 0));
        assert_eq!(media_type(index), media::OCI_INDEX);
        let image = br#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"c","digest":"sha256:c","size":2},"layers":[{"mediaType":"l","digest":"sha256:l","size":3}]}"#;
        let (m, b) = named(image);
        assert_eq!(m.len(), 0);
        assert_eq!(
            b.iter().map(|d| d.digest.as_str()).collect::<Vec<_>>(),
            ["sha256:c", "sha256:l"]
        );
        assert_eq!(media_type(image), media::DOCKER_MANIFEST);
    }
}
