//! `stacktag save`: the daemon's export of an image (`GET /images/{name}/get`),
//! streamed through the compressor into a temporary file in the target
//! directory, checked on the way (it must hold the image that was asked
//! for), then renamed into place with its `.sha256` beside it.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::blobs::TarOut;
use super::codec::{self, Encoder, Hashing, HashingReader, Tee};
use super::error::ArchiveError;
use super::name::{ArchiveName, Compression};
use super::pipe::{self, ChannelReader};
use super::{checksum, scan};
use crate::error::Error;
use crate::error::HookError;
use crate::formats::schema;

pub struct SaveRequest {
    /// Short name, as in the hierarchy (`base-notebook`): the archive's `{image}`.
    pub image: String,
    /// The reference on the daemon (`localhost:5000/stacktag/base-notebook:latest`).
    pub reference: String,
    pub version: String,
    pub dir: PathBuf,
    pub compression: Compression,
    /// The layers as the registry takes them (the registry layout), else as
    /// the daemon exports them, the whole tar compressed with `compression`.
    pub layers: Layers,
}

/// How `save` stores the layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layers {
    /// gzip blobs named by digest, with the registry manifest (`blobs.rs`):
    /// `push --archive` only uploads. The tar itself is not compressed again.
    Gzip,
    /// As the daemon exports them (`docker save`).
    Tar,
}

/// One archive written, as `save --format json` lists it.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct Saved {
    /// The short name, as in the hierarchy (the archive's `{image}`).
    pub image: String,
    /// The reference that was saved (`{name}:latest`).
    pub reference: String,
    #[serde(rename = "image_id")]
    #[schemars(with = "schema::Digest")]
    pub id: String,
    /// `{sha12}`, `{sha12}.dirty`, or the version asked for.
    pub version: String,
    pub path: PathBuf,
    /// The `.sha256` beside it.
    #[serde(rename = "checksum_file")]
    pub checksum: PathBuf,
    /// The registry manifest in the archive (the registry layout): the
    /// digest `push --archive` gives the image.
    #[serde(rename = "manifest_digest")]
    #[schemars(with = "Option<schema::Digest>")]
    pub manifest: Option<String>,
    /// Size of the archive file.
    pub bytes: u64,
    /// Size of the tar the daemon exported.
    #[serde(skip)]
    pub tar_bytes: u64,
    #[schemars(with = "schema::Seconds")]
    pub seconds: f64,
}

pub async fn save(docker: &bollard::Docker, req: &SaveRequest) -> Result<Saved, Error> {
    let start = Instant::now();
    if !super::name::valid_version(&req.version) {
        return Err(ArchiveError::BadVersion {
            version: req.version.clone(),
        }
        .into());
    }
    let found = crate::hook::image::inspect(docker, &req.reference)
        .await?
        .ok_or_else(|| HookError::ImageNotFound {
            image: req.reference.clone(),
            short: req.image.clone(),
        })?;
    let name = ArchiveName {
        image: req.image.clone(),
        version: req.version.clone(),
        id12: found.id.trim_start_matches("sha256:")[..12].to_string(),
        compression: match req.layers {
            Layers::Gzip => Compression::None,
            Layers::Tar => req.compression,
        },
    };
    std::fs::create_dir_all(&req.dir).map_err(|e| Error::io(&req.dir, e))?;
    let path = req.dir.join(name.to_string());
    let temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".partial")
        .tempfile_in(&req.dir)
        .map_err(|e| not_written(&path, e))?;

    let (tx, rx) = mpsc::channel(pipe::DEPTH);
    let file = temp
        .as_file()
        .try_clone()
        .map_err(|e| Error::io(temp.path(), e))?;
    let (compression, archive) = (req.compression, path.clone());
    let layers = req.layers;
    let writer = tokio::task::spawn_blocking(move || match layers {
        Layers::Gzip => write_registry(&archive, rx, file),
        Layers::Tar => write_archive(&archive, rx, file, compression),
    });

    // The image's `inputs-…` tags travel with it: loaded in another CI job,
    // `stacktag build` reuses it instead of building it again.
    let mut refs = vec![req.reference.clone()];
    if let (Some((name, _)), Ok(i)) = (
        req.reference.rsplit_once(':'),
        docker.inspect_image(&req.reference).await,
    ) {
        let cache = format!("{name}:inputs-");
        refs.extend(
            i.repo_tags
                .unwrap_or_default()
                .into_iter()
                .filter(|t| t.starts_with(&cache)),
        );
    }
    let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
    let mut export = std::pin::pin!(docker.export_images(&refs));
    let mut daemon_error = None;
    while let Some(item) = export.next().await {
        match item {
            Ok(bytes) => {
                if tx.send(Ok(bytes)).await.is_err() {
                    break; // the writer failed; its error says why
                }
            }
            Err(e) => {
                let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                daemon_error = Some(e);
                break;
            }
        }
    }
    drop(tx);
    let written = writer
        .await
        .map_err(|e| Error::io(&path, std::io::Error::other(e)))?;
    if let Some(e) = daemon_error {
        return Err(Error::docker(format!("export image {}", req.reference), e));
    }
    let (hex, bytes, tar_bytes, image, manifest) = written?;
    if image.id != found.id {
        return Err(ArchiveError::Layout {
            path: path.clone(),
            detail: format!(
                "the daemon exported image {} for {}, which is {} (was it re-tagged during the save?); nothing was written",
                image.id, req.reference, found.id
            ),
        }
        .into());
    }
    // Both files complete before either takes its name; a failure on the
    // way leaves neither (the temporary files are removed when dropped).
    let sum = checksum::sum_path(&path);
    let mut sum_temp = tempfile::Builder::new()
        .prefix(".sha256.")
        .tempfile_in(&req.dir)
        .map_err(|e| not_written(&sum, e))?;
    sum_temp
        .write_all(checksum::line(&hex, &path).as_bytes())
        .and_then(|_| sum_temp.as_file().sync_all())
        .map_err(|e| not_written(&sum, e))?;
    publishable(temp.as_file(), &path)?;
    publishable(sum_temp.as_file(), &sum)?;
    temp.persist(&path)
        .map_err(|e| not_written(&path, e.error))?;
    if let Err(e) = sum_temp.persist(&sum) {
        let _ = std::fs::remove_file(&path);
        return Err(not_written(&sum, e.error));
    }
    Ok(Saved {
        image: req.image.clone(),
        reference: req.reference.clone(),
        id: found.id,
        version: req.version.clone(),
        path,
        checksum: sum,
        bytes,
        tar_bytes,
        manifest,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The blocking half: tar in from the channel, read by the scanner and,
/// through the tee, compressed into the file. Returns the file's sha256 and
/// size, the tar's size, and the image found in it.
type Written = (String, u64, u64, scan::Image, Option<String>);

fn write_archive(
    path: &Path,
    rx: mpsc::Receiver<pipe::Chunk>,
    file: std::fs::File,
    compression: Compression,
) -> Result<Written, Error> {
    let write_err = |e: std::io::Error| not_written(path, e);
    let encoder = Encoder::new(
        compression,
        Hashing::new(BufWriter::with_capacity(1 << 20, file)),
    )
    .map_err(write_err)?;
    let mut counted = 0u64;
    let mut tee = Tee::new(
        Counting {
            inner: ChannelReader::new(rx),
            n: &mut counted,
        },
        encoder,
    );
    let scanned = scan::scan(path, &mut tee, false, &mut |_, _| Ok(()));
    if let Some(e) = tee.write_error.take() {
        return Err(write_err(e));
    }
    let image = scanned?.image(path)?;
    let Tee {
        inner,
        out: encoder,
        ..
    } = tee;
    drop(inner);
    let hashing = encoder.finish().map_err(write_err)?;
    let (hex, bytes, buffered) = hashing.finish();
    let file = buffered
        .into_inner()
        .map_err(|e| write_err(e.into_error()))?;
    file.sync_all().map_err(write_err)?;
    Ok((hex, bytes, counted, image, None))
}

/// The registry layout (`blobs.rs`): each layer gzip-compressed into the
/// file as the export streams past, its uncompressed digest checked
/// against the config's diff ID; then the config, the manifest and the
/// indexes. The file's sha256 is read back at the end (headers are
/// rewritten in place, so it cannot be hashed on the way).
fn write_registry(
    path: &Path,
    rx: mpsc::Receiver<pipe::Chunk>,
    file: std::fs::File,
) -> Result<Written, Error> {
    let write_err = |e: std::io::Error| not_written(path, e);
    let mut out = TarOut::new(file);
    let mut counted = 0u64;
    let mut write_error = None;
    let scanned = scan::scan(
        path,
        Counting {
            inner: ChannelReader::new(rx),
            n: &mut counted,
        },
        false,
        &mut |entry, data| {
            // A failed write is the disk's fault, not the export's: kept apart.
            let mut reading = Reading {
                inner: data,
                failed: false,
            };
            out.layer(entry, &mut reading).inspect_err(|e| {
                if !reading.failed {
                    write_error = Some(std::io::Error::new(e.kind(), e.to_string()));
                }
            })
        },
    );
    if let Some(e) = write_error {
        return Err(write_err(e));
    }
    let image = scanned?.image(path)?;
    let mut layers = Vec::new();
    for l in &image.layers {
        let corrupt = |detail: String| Error::from(ArchiveError::corrupt(path, detail));
        if l.stored.is_some() {
            return Err(ArchiveError::CompressedExport {
                path: path.into(),
                layer: l.path.clone(),
            }
            .into());
        }
        let blob = out
            .layers
            .get(&l.path)
            .ok_or_else(|| corrupt(format!("layer {} is not in the daemon's export", l.path)))?;
        if blob.diff_id != l.diff_id {
            return Err(corrupt(format!(
                "layer {} is {}, but the image config says {}",
                l.path, blob.diff_id, l.diff_id
            )));
        }
        layers.push(blob.clone());
    }
    let (manifest, file) = out
        .finish(&image.config, &image.id, &image.repo_tags, &layers)
        .map_err(write_err)?;
    file.sync_all().map_err(write_err)?;
    let mut hashing = HashingReader::new(&file);
    std::io::Seek::rewind(&mut &file).map_err(write_err)?;
    codec::copy(&mut hashing, &mut std::io::sink()).map_err(write_err)?;
    let (hex, bytes) = hashing.finish();
    Ok((hex, bytes, counted, image, Some(manifest)))
}

/// The archive (or its checksum) could not be written: a full disk, a
/// directory that is not writable. Nothing is left under `path`.
fn not_written(path: &Path, e: std::io::Error) -> Error {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    ArchiveError::NotWritten {
        path: path.into(),
        dir: dir.into(),
        source: e,
    }
    .into()
}

/// Remembers whether reading failed.
struct Reading<R> {
    inner: R,
    failed: bool,
}

impl<R: std::io::Read> std::io::Read for Reading<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf).inspect_err(|_| self.failed = true)
    }
}

struct Counting<'a, R> {
    inner: R,
    n: &'a mut u64,
}

impl<R: std::io::Read> std::io::Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        *self.n += n as u64;
        Ok(n)
    }
}

/// Temporary files are private (0600); the archive is for others to read.
fn publishable(file: &std::fs::File, path: &Path) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o644))
        .map_err(|e| Error::io(path, e))
}
