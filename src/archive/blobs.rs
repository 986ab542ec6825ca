//! The registry layout `stacktag save` writes by default: a plain tar whose
//! layers are already in the form a registry takes them, gzip blobs under
//! `blobs/sha256/{digest}`, beside the image config and the registry
//! manifest that names them. `push --archive` then uploads and compresses
//! nothing; `docker load` (20.10 reads `manifest.json`, whose layer paths
//! point at the gzip blobs, and decompresses them) and Docker 25+ / Podman
//! (`index.json`) load it as any archive.
//!
//! Layers are compressed once, while the daemon's export streams past, in
//! chunks of [`CHUNK`] on every core: each chunk is a gzip member of its own,
//! and a layer is their concatenation (RFC 1952 §2.2: a gzip file is a
//! series of members; Go's gzip reader, which the daemon, containerd and
//! skopeo use, reads them all). The bytes depend only on the layer, so the
//! same layer saved with two images is the same blob, mounted once.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::thread::JoinHandle;

use super::codec::{self, Hashing, HashingReader};

pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// zlib level 1: on the 2-core runners this is written on, level 6 costs
/// three times the CPU for blobs 10% smaller (measured on a 715 MB tar of
/// shared libraries: 28 s against 72 s single-threaded, 264 MB against 238 MB).
pub const LEVEL: u32 = 1;
/// Input per gzip member, compressed by one thread.
pub const CHUNK: usize = 4 << 20;

/// A layer as written: `sha256:` digests of the blob and of the tar inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub digest: String,
    pub size: u64,
    pub diff_id: String,
}

/// The registry manifest of an image (Docker's schema 2, which every
/// registry and Docker 20.10 take): the config, then the gzip layers.
/// `push --archive` builds the manifest it puts with this very function.
pub fn manifest(config: &[u8], id: &str, layers: &[(String, u64)]) -> Vec<u8> {
    let layers: Vec<_> = layers
        .iter()
        .map(|(digest, size)| {
            serde_json::json!({"mediaType": DOCKER_LAYER_GZIP, "size": size, "digest": digest})
        })
        .collect();
    serde_json::to_vec_pretty(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": {"mediaType": DOCKER_CONFIG, "size": config.len(), "digest": id},
        "layers": layers,
    }))
    .expect("JSON")
}

/// Gzip on every core: input cut in [`CHUNK`]s, each compressed by a thread
/// of its own into a gzip member, written out in order.
pub struct ParallelGzip<W: Write> {
    out: W,
    buf: Vec<u8>,
    running: VecDeque<JoinHandle<io::Result<Vec<u8>>>>,
    width: usize,
    members: u64,
}

impl<W: Write> ParallelGzip<W> {
    pub fn new(out: W) -> Self {
        ParallelGzip {
            out,
            buf: Vec::with_capacity(CHUNK),
            running: VecDeque::new(),
            width: std::thread::available_parallelism().map_or(1, |n| n.get()),
            members: 0,
        }
    }

    fn start(&mut self) -> io::Result<()> {
        if self.running.len() >= self.width {
            self.write_oldest()?;
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.running.push_back(std::thread::spawn(move || {
            let mut gz = flate2::write::GzEncoder::new(
                Vec::with_capacity(chunk.len() / 2),
                flate2::Compression::new(LEVEL),
            );
            gz.write_all(&chunk)?;
            gz.finish()
        }));
        self.members += 1;
        Ok(())
    }

    fn write_oldest(&mut self) -> io::Result<()> {
        if let Some(t) = self.running.pop_front() {
            let member = t
                .join()
                .map_err(|_| io::Error::other("a compression thread panicked"))??;
            self.out.write_all(&member)?;
        }
        Ok(())
    }

    /// Compresses what is left (an empty input is one empty member, still
    /// valid gzip) and gives the writer back.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.buf.is_empty() || self.members == 0 {
            self.start()?;
        }
        while !self.running.is_empty() {
            self.write_oldest()?;
        }
        Ok(self.out)
    }
}

impl<W: Write> Write for ParallelGzip<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK {
            self.start()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The tar being written: blobs go in as they are compressed, their names
/// (the digest) set once known, by rewriting the header in place.
pub struct TarOut {
    out: BufWriter<File>,
    written: HashSet<String>,
    /// Layer blobs by the export's entry path.
    pub layers: HashMap<String, Blob>,
}

impl TarOut {
    pub fn new(file: File) -> Self {
        TarOut {
            out: BufWriter::with_capacity(codec::BUF, file),
            written: HashSet::new(),
            layers: HashMap::new(),
        }
    }

    /// Compresses the layer at `entry` of the export into a blob.
    pub fn layer(&mut self, entry: &str, data: &mut dyn Read) -> io::Result<()> {
        let start = self.out.stream_position()?;
        self.out.write_all(&[0; 512])?;
        let mut input = HashingReader::new(data);
        let mut gz = ParallelGzip::new(Hashing::new(&mut self.out));
        codec::copy(&mut input, &mut gz)?;
        let (hex, size, _) = gz.finish()?.finish();
        let (diff_hex, _) = input.finish();
        let blob = Blob {
            digest: format!("sha256:{hex}"),
            size,
            diff_id: format!("sha256:{diff_hex}"),
        };
        if self.written.insert(hex.clone()) {
            pad(&mut self.out, size)?;
            let end = self.out.stream_position()?;
            self.out.seek(SeekFrom::Start(start))?;
            self.out
                .write_all(header(&format!("blobs/sha256/{hex}"), size)?.as_bytes())?;
            self.out.seek(SeekFrom::Start(end))?;
        } else {
            // The same layer twice: one blob.
            self.out.seek(SeekFrom::Start(start))?;
            self.out.get_ref().set_len(start)?;
        }
        self.layers.insert(entry.to_string(), blob);
        Ok(())
    }

    /// A small file, whole.
    pub fn file(&mut self, path: &str, data: &[u8]) -> io::Result<()> {
        self.out
            .write_all(header(path, data.len() as u64)?.as_bytes())?;
        self.out.write_all(data)?;
        pad(&mut self.out, data.len() as u64)
    }

    /// The image's config and manifest, `manifest.json` (Docker 20.10),
    /// `index.json` and `oci-layout` (OCI), the end-of-archive blocks.
    /// Returns the manifest's digest.
    pub fn finish(
        mut self,
        config: &[u8],
        id: &str,
        repo_tags: &[String],
        layers: &[Blob],
    ) -> io::Result<(String, File)> {
        let blob = |digest: &str| format!("blobs/sha256/{}", digest.trim_start_matches("sha256:"));
        self.file(&blob(id), config)?;
        let pairs: Vec<(String, u64)> = layers.iter().map(|b| (b.digest.clone(), b.size)).collect();
        let body = manifest(config, id, &pairs);
        let digest = format!("sha256:{}", codec::sha256_hex(&body));
        self.file(&blob(&digest), &body)?;
        let legacy = serde_json::json!([{
            "Config": blob(id),
            "RepoTags": repo_tags,
            "Layers": layers.iter().map(|b| blob(&b.digest)).collect::<Vec<_>>(),
        }]);
        self.file("manifest.json", &serde_json::to_vec(&legacy).expect("JSON"))?;
        let descriptor = |annotations: serde_json::Value| {
            serde_json::json!({
                "mediaType": DOCKER_MANIFEST,
                "digest": digest,
                "size": body.len(),
                "annotations": annotations,
            })
        };
        let manifests: Vec<_> = if repo_tags.is_empty() {
            vec![descriptor(serde_json::json!({}))]
        } else {
            repo_tags
                .iter()
                .map(|t| {
                    let tag = t.rsplit_once(':').map_or("latest", |(_, t)| t);
                    descriptor(serde_json::json!({
                        "io.containerd.image.name": t,
                        "org.opencontainers.image.ref.name": tag,
                    }))
                })
                .collect()
        };
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": manifests,
        });
        self.file("index.json", &serde_json::to_vec(&index).expect("JSON"))?;
        self.file("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        self.out.write_all(&[0; 1024])?;
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        Ok((digest, file))
    }
}

fn header(path: &str, size: u64) -> io::Result<tar::Header> {
    let mut h = tar::Header::new_ustar();
    h.set_path(path)?;
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    Ok(h)
}

fn pad(out: &mut impl Write, size: u64) -> io::Result<()> {
    let rest = (512 - size % 512) % 512;
    out.write_all(&[0; 512][..rest as usize])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_gzip_members_read_back_whole() {
        let data: Vec<u8> = (0..(CHUNK * 2 + 1000)).map(|i| (i % 251) as u8).collect();
        let mut gz = ParallelGzip::new(Vec::new());
        gz.write_all(&data).unwrap();
        let out = gz.finish().unwrap();
        let mut back = Vec::new();
        flate2::read::MultiGzDecoder::new(&out[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, data);
        // Same input, same bytes: a layer shared by two images is one blob.
        let mut again = ParallelGzip::new(Vec::new());
        again.write_all(&data).unwrap();
        assert_eq!(again.finish().unwrap(), out);
    }

    #[test]
    fn an_empty_layer_is_still_gzip() {
        let out = ParallelGzip::new(Vec::new()).finish().unwrap();
        assert!(out.starts_with(&[0x1f, 0x8b]));
    }

    #[test]
    fn the_tar_reads_back_with_the_blobs_named_by_digest() {
        let file = tempfile::tempfile().unwrap();
        let mut tar = TarOut::new(file);
        tar.layer("a/layer.tar", &mut &b"first layer"[..]).unwrap();
        tar.layer("b/layer.tar", &mut &b"first layer"[..]).unwrap();
        let blob = tar.layers["a/layer.tar"].clone();
        assert_eq!(tar.layers["b/layer.tar"], blob);
        let config = br#"{"rootfs":{"diff_ids":[]}}"#;
        let id = format!("sha256:{}", codec::sha256_hex(config));
        let (digest, mut file) = tar
            .finish(
                config,
                &id,
                &["x/y:latest".into()],
                std::slice::from_ref(&blob),
            )
            .unwrap();
        file.seek(SeekFrom::Start(0)).unwrap();
        let mut names = Vec::new();
        let mut archive = tar::Archive::new(file);
        for e in archive.entries().unwrap() {
            let mut e = e.unwrap();
            let name = e.path().unwrap().to_string_lossy().to_string();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            if name == format!("blobs/sha256/{}", &blob.digest[7..]) {
                assert_eq!(format!("sha256:{}", codec::sha256_hex(&data)), blob.digest);
            }
            if name == format!("blobs/sha256/{}", &digest[7..]) {
                assert_eq!(format!("sha256:{}", codec::sha256_hex(&data)), digest);
            }
            names.push(name);
        }
        assert_eq!(names.len(), 6, "{names:?}"); // one layer blob, not two
        assert!(names.contains(&"manifest.json".to_string()));
        assert!(names.contains(&"index.json".to_string()));
    }
}
