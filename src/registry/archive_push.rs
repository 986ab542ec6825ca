//! `stacktag push --archive`: an image archive (from `stacktag save`) put
//! straight into the registry, with no Docker daemon. Blobs the registry
//! has are skipped (HEAD), blobs an ancestor image's repository has are
//! mounted, the others uploaded. An archive of the registry layout
//! (`archive/blobs.rs`) holds them compressed, with the manifest: they go up
//! as they are, and the manifest too, so the image gets the digest `save`
//! gave. From the daemon's own export, each layer is read from the tar,
//! gzip-compressed and uploaded (digests computed while streaming; the
//! compressed blob waits in a temporary file so a retry can send it again).
//! The config goes up as it is, so the image that lands is the archive's
//! image: its config digest is the image ID. The manifest is put by digest,
//! and only then under each tag.

use std::collections::{HashMap, HashSet};
use std::io::{BufWriter, Read, Write};

use serde::Deserialize;
use tokio::sync::mpsc;

use super::client::{media, Descriptor, Registry};
use super::error::optional;
use super::RegistryError;
use crate::archive::blobs::{self, DOCKER_LAYER_GZIP};
use crate::archive::codec::{self, Hashing, HashingReader};
use crate::archive::head::Head;
use crate::archive::scan::{self, ConfigJson};
use crate::archive::ArchiveError;
use crate::console::size;
use crate::error::Error;

const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// What one push did.
#[derive(Debug, Default)]
pub struct Pushed {
    /// `sha256:...` of the manifest put under every tag.
    pub digest: String,
    pub layers: usize,
    pub skipped: usize,
    pub mounted: usize,
    pub uploaded: usize,
    pub uploaded_bytes: u64,
    /// Tags put now (the others already pointed at the manifest).
    pub tags_put: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct ManifestJson {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Vec<Descriptor>,
}

/// A layer the registry has somewhere: its blob, and the repository.
#[derive(Clone)]
struct Known {
    blob: Descriptor,
    repository: String,
}

/// Pushes the archive's image to `repository` under every tag. `mount_from`:
/// other repositories of the registry that may hold its layers (the
/// ancestor images'), nearest first. `log` gets a line per step.
pub async fn push(
    registry: &Registry,
    head: &Head,
    repository: &str,
    tags: &[String],
    mount_from: &[String],
    mut log: impl FnMut(&str),
) -> Result<Pushed, Error> {
    let first = tags.first().ok_or_else(|| ArchiveError::Layout {
        path: head.path.clone(),
        detail: "no tags to push".into(),
    })?;
    registry
        .check_access(&registry.reference(repository, first))
        .await?;

    // Where each tag points now.
    let mut current: Vec<Option<String>> = Vec::new();
    for tag in tags {
        current.push(optional(
            registry.digest(&registry.reference(repository, tag)).await,
        )?);
    }
    // A manifest of this very image already there: reuse it as it is.
    let mut reuse: Option<(Vec<u8>, String, &'static str)> = None;
    let mut known: HashMap<String, Known> = HashMap::new();
    let mut seen = HashSet::new();
    for (tag, digest) in tags.iter().zip(&current) {
        let Some(digest) = digest else { continue };
        if !seen.insert(digest.clone()) {
            continue;
        }
        let reference = registry.reference(repository, tag);
        let (body, digest) = registry.manifest(&reference).await?;
        let Ok(m) = serde_json::from_slice::<ManifestJson>(&body) else {
            continue;
        };
        if m.config.as_ref().is_some_and(|c| c.digest == head.id)
            && m.layers.len() == head.diff_ids.len()
        {
            let media_type = match m.media_type.as_str() {
                media::OCI_MANIFEST => media::OCI_MANIFEST,
                _ => media::DOCKER_MANIFEST,
            };
            for (diff_id, blob) in head.diff_ids.iter().zip(&m.layers) {
                known.insert(
                    diff_id.clone(),
                    Known {
                        blob: blob.clone(),
                        repository: repository.to_string(),
                    },
                );
            }
            reuse = Some((body.to_vec(), digest, media_type));
            break;
        }
    }
    // Every tag on a manifest of this image already: the registry took that
    // manifest only with every blob it names, so there is nothing to do.
    if let Some((_, digest, _)) = &reuse {
        if current.iter().all(|d| d.as_ref() == Some(digest)) {
            return Ok(Pushed {
                digest: digest.clone(),
                layers: head.diff_ids.len(),
                skipped: head.diff_ids.len(),
                ..Default::default()
            });
        }
    }
    // The ancestors' layers, by what their configs say.
    if reuse.is_none() {
        for from in mount_from {
            let reference = registry.reference(from, first);
            let Some((body, _)) = optional(registry.manifest(&reference).await)? else {
                continue;
            };
            let Ok(m) = serde_json::from_slice::<ManifestJson>(&body) else {
                continue;
            };
            let Some(config) = m.config else { continue };
            let data = registry.blob(&reference, &config.digest).await?;
            let Ok(c) = serde_json::from_slice::<ConfigJson>(&data) else {
                continue;
            };
            let diff_ids = c.rootfs.map(|r| r.diff_ids).unwrap_or_default();
            if diff_ids.len() != m.layers.len() {
                continue;
            }
            for (diff_id, blob) in diff_ids.into_iter().zip(m.layers) {
                known.entry(diff_id).or_insert(Known {
                    blob,
                    repository: from.clone(),
                });
            }
        }
    }

    // The registry layout: the archive's own manifest and blobs, so the
    // digest is the one `save` wrote (unless a manifest of this image is
    // there already, kept as it is).
    let own: Option<(Vec<u8>, ManifestJson)> = match (&reuse, &head.manifest) {
        (None, Some(raw)) => serde_json::from_slice::<ManifestJson>(raw)
            .ok()
            .filter(|m| m.layers.len() == head.diff_ids.len())
            .map(|m| (raw.clone(), m)),
        _ => None,
    };
    let mut pushed = Pushed {
        layers: head.diff_ids.len(),
        ..Default::default()
    };
    // Each layer's blob in this repository, once there.
    let mut blobs: Vec<Option<Descriptor>> = vec![None; head.diff_ids.len()];
    let mut missing: Vec<usize> = Vec::new();
    for (i, diff_id) in head.diff_ids.iter().enumerate() {
        if let Some(pos) = head.diff_ids[..i].iter().position(|d| d == diff_id) {
            blobs[i] = blobs[pos].clone();
            if blobs[i].is_none() {
                missing.push(i);
            }
            continue;
        }
        if let Some((_, m)) = &own {
            let blob = &m.layers[i];
            let k = known.get(diff_id).filter(|k| k.blob.digest == blob.digest);
            if registry.has_blob(repository, &blob.digest).await? {
                pushed.skipped += 1;
                blobs[i] = Some(blob.clone());
            } else if let Some(k) = k.filter(|k| k.repository != repository) {
                if registry
                    .mount_blob(repository, &k.repository, &blob.digest)
                    .await?
                {
                    pushed.mounted += 1;
                    log(&format!(
                        "mounted {} from {} ({})",
                        blob.digest,
                        k.repository,
                        size(blob.size)
                    ));
                    blobs[i] = Some(blob.clone());
                } else {
                    missing.push(i);
                }
            } else {
                missing.push(i);
            }
            continue;
        }
        let Some(k) = known.get(diff_id).filter(|k| usable(&k.blob.media_type)) else {
            missing.push(i);
            continue;
        };
        if registry.has_blob(repository, &k.blob.digest).await? {
            pushed.skipped += 1;
            blobs[i] = Some(k.blob.clone());
        } else if k.repository != repository
            && registry
                .mount_blob(repository, &k.repository, &k.blob.digest)
                .await?
        {
            pushed.mounted += 1;
            log(&format!(
                "mounted {} from {} ({})",
                k.blob.digest,
                k.repository,
                size(k.blob.size)
            ));
            blobs[i] = Some(k.blob.clone());
        } else {
            missing.push(i);
        }
    }

    if !missing.is_empty() {
        upload_missing(
            registry,
            head,
            repository,
            &missing,
            &mut blobs,
            &mut pushed,
            &mut log,
        )
        .await?;
    }

    if !registry.has_blob(repository, &head.id).await? {
        registry
            .push_blob_bytes(repository, &head.id, &head.config)
            .await?;
    }
    let (body, digest, media_type) = match (reuse, own) {
        (Some(found), _) => found,
        (None, Some((body, m))) => {
            let digest = format!("sha256:{}", codec::sha256_hex(&body));
            let media_type = match m.media_type.as_str() {
                media::OCI_MANIFEST => media::OCI_MANIFEST,
                _ => media::DOCKER_MANIFEST,
            };
            (body, digest, media_type)
        }
        (None, None) => {
            let layers: Vec<(String, u64)> = blobs
                .iter()
                .map(|b| {
                    let b = b.as_ref().expect("every layer is in the registry by now");
                    (b.digest.clone(), b.size)
                })
                .collect();
            let body = blobs::manifest(&head.config, &head.id, &layers);
            let digest = format!("sha256:{}", codec::sha256_hex(&body));
            (body, digest, media::DOCKER_MANIFEST)
        }
    };
    // Every blob is there; the manifest goes in by digest, then under each tag.
    if current.iter().any(|d| d.as_deref() != Some(&digest)) {
        registry
            .put(
                &registry.reference_digest(repository, &digest),
                &body,
                media_type,
                "the image manifest",
            )
            .await?;
    }
    for (tag, now) in tags.iter().zip(&current) {
        if now.as_deref() == Some(&digest) {
            continue;
        }
        registry
            .put(
                &registry.reference(repository, tag),
                &body,
                media_type,
                "the image manifest",
            )
            .await?;
        log(&format!("put {}/{repository}:{tag}", registry.host));
        pushed.tags_put.push(tag.clone());
    }
    pushed.digest = digest;
    Ok(pushed)
}

/// Layers stacktag can list in a Docker manifest as they are.
fn usable(media_type: &str) -> bool {
    media_type.is_empty() || media_type == DOCKER_LAYER_GZIP || media_type == OCI_LAYER_GZIP
}

/// A layer compressed into a temporary file, ready to go up.
struct Compressed {
    path: String,
    diff_id: String,
    blob: Descriptor,
    file: tempfile::NamedTempFile,
}

async fn upload_missing(
    registry: &Registry,
    head: &Head,
    repository: &str,
    missing: &[usize],
    blobs: &mut [Option<Descriptor>],
    pushed: &mut Pushed,
    log: &mut impl FnMut(&str),
) -> Result<(), Error> {
    // Entry path -> what it must be.
    let mut wanted: HashMap<String, (String, Option<(String, String)>)> = HashMap::new();
    for &i in missing {
        let l = &head.layers[i];
        wanted.insert(l.path.clone(), (l.diff_id.clone(), l.stored.clone()));
    }
    let expected = wanted.clone();

    // Compress in the blocking thread, upload here: the next layer is
    // compressed while the last one goes up.
    let (tx, mut rx) = mpsc::channel::<Compressed>(1);
    let path = head.path.clone();
    let reader = tokio::task::spawn_blocking(move || -> Result<(), Error> {
        let (reader, _) = codec::open(&path).map_err(|e| Error::io(&path, e))?;
        let mut visit = |entry: &str, data: &mut dyn Read| -> std::io::Result<()> {
            let Some((_, stored)) = wanted.remove(entry) else {
                return Ok(());
            };
            let c = compress(entry, data, stored)?;
            tx.blocking_send(c)
                .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "upload stopped"))
        };
        scan::scan(&path, reader, false, &mut visit)?;
        Ok(())
    });
    let mut by_path: HashMap<String, Descriptor> = HashMap::new();
    let mut failure: Option<Error> = None;
    while let Some(c) = rx.recv().await {
        let (diff_id, stored) = &expected[&c.path];
        if stored.is_none() && &c.diff_id != diff_id {
            failure = Some(
                ArchiveError::corrupt(
                    &head.path,
                    format!(
                        "layer {} is {}, but the image config says {diff_id}",
                        c.path, c.diff_id
                    ),
                )
                .into(),
            );
            break;
        }
        if let Some((_, digest)) = stored {
            if &c.blob.digest != digest {
                failure = Some(
                    ArchiveError::corrupt(
                        &head.path,
                        format!("blob {} has digest {}", c.path, c.blob.digest),
                    )
                    .into(),
                );
                break;
            }
        }
        let result = async {
            if registry.has_blob(repository, &c.blob.digest).await? {
                return Ok::<bool, RegistryError>(false);
            }
            registry
                .push_blob_file(repository, &c.blob.digest, c.blob.size, c.file.path())
                .await?;
            Ok(true)
        }
        .await;
        match result {
            Ok(true) => {
                pushed.uploaded += 1;
                pushed.uploaded_bytes += c.blob.size;
                log(&format!(
                    "uploaded {} ({}) to {repository}",
                    c.blob.digest,
                    size(c.blob.size)
                ));
            }
            Ok(false) => pushed.skipped += 1,
            Err(e) => {
                failure = Some(e.into());
                break;
            }
        }
        by_path.insert(c.path.clone(), c.blob.clone());
    }
    drop(rx);
    let read = reader
        .await
        .map_err(|e| Error::io(&head.path, std::io::Error::other(e)))?;
    if let Some(e) = failure {
        return Err(e);
    }
    read?;
    for &i in missing {
        let blob = by_path.get(&head.layers[i].path).ok_or_else(|| {
            ArchiveError::corrupt(
                &head.path,
                format!("layer {} is not in the archive", head.layers[i].path),
            )
        })?;
        blobs[i] = Some(blob.clone());
    }
    Ok(())
}

/// Gzips a layer into a temporary file, hashing what goes in (the diff ID)
/// and what comes out (the blob digest). A layer stored compressed is
/// copied as it is.
fn compress(
    entry: &str,
    data: &mut dyn Read,
    stored: Option<(String, String)>,
) -> std::io::Result<Compressed> {
    let file = tempfile::Builder::new()
        .prefix("stacktag-blob-")
        .tempfile()?;
    let out = Hashing::new(BufWriter::with_capacity(1 << 20, file.reopen()?));
    let mut input = HashingReader::new(data);
    let out = match &stored {
        Some(_) => {
            let mut out = out;
            codec::copy(&mut input, &mut out)?;
            out
        }
        None => {
            let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::new(6));
            codec::copy(&mut input, &mut gz)?;
            gz.finish()?
        }
    };
    let (hex, bytes, mut buffered) = out.finish();
    buffered.flush()?;
    let (diff_hex, _) = input.finish();
    Ok(Compressed {
        path: entry.to_string(),
        diff_id: format!("sha256:{diff_hex}"),
        blob: Descriptor::new(
            stored.map_or(DOCKER_LAYER_GZIP.to_string(), |(m, _)| m),
            format!("sha256:{hex}"),
            bytes,
        ),
        file,
    })
}
