//! Reading a docker-archive tar as it streams past: the small JSON files
//! (manifest.json, index.json, the image config, OCI manifests) are kept,
//! layers are handed to a visitor or skipped. Both layouts: the legacy one
//! Docker 20.10 writes (`manifest.json`, `{id}/layer.tar`, `{id}.json`) and
//! the OCI layout of Docker 25+ (`index.json`, `blobs/sha256/{hex}`).

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::codec::sha256_hex;
use super::error::ArchiveError;

/// JSON entries up to this size are kept in memory.
const KEEP_JSON: u64 = 8 << 20;

/// What one pass over the tar found.
#[derive(Debug, Default)]
pub struct Scanned {
    /// Small JSON entries by path.
    pub json: HashMap<String, Vec<u8>>,
    /// Symbolic links (legacy archives link repeated layers), by path.
    pub links: HashMap<String, String>,
    /// Path of the image config, once seen.
    pub config: Option<String>,
    /// Whether the tar was read to its end (and had its end-of-archive blocks).
    pub complete: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `manifest.json` (Docker up to 24).
    Legacy,
    /// `index.json` and `blobs/` (Docker 25+, which writes a `manifest.json` too).
    Oci,
    /// stacktag's own: both indexes, every layer a gzip blob, the registry
    /// manifest in the archive (`blobs.rs`).
    Registry,
}

/// One layer: where it is in the tar, and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layer {
    /// The entry in the tar (symbolic links followed).
    pub path: String,
    /// `sha256:...` of the uncompressed layer (the config's `rootfs.diff_ids`).
    pub diff_id: String,
    /// Set when the layer is stored compressed (OCI layouts may): its media
    /// type and digest, to push it as it is.
    pub stored: Option<(String, String)>,
}

/// The image an archive holds.
#[derive(Debug, Clone)]
pub struct Image {
    pub layout: Layout,
    pub config: Vec<u8>,
    /// `sha256:...` of the config: the image ID.
    pub id: String,
    pub repo_tags: Vec<String>,
    pub layers: Vec<Layer>,
    pub architecture: String,
    pub os: String,
    /// The registry manifest in the archive, when every layer is stored
    /// compressed (the registry layout): what `push --archive` puts as it is.
    pub manifest: Option<Vec<u8>>,
}

impl Image {
    pub fn id12(&self) -> &str {
        let hex = self.id.trim_start_matches("sha256:");
        &hex[..12.min(hex.len())]
    }

    /// The image is the one the archive's file name (`id12`) says it is.
    pub fn check_named(&self, path: &Path, id12: &str) -> Result<(), ArchiveError> {
        if self.id12() == id12 {
            return Ok(());
        }
        Err(ArchiveError::NameMismatch {
            path: path.into(),
            id12: id12.to_string(),
            actual: self.id.clone(),
        })
    }
}

/// Is this entry a layer (handed to the visitor) rather than metadata?
/// Docker 20.10 writes `{id}/layer.tar`, Docker 25+ `blobs/sha256/{hex}`,
/// Podman's export `{hex}.tar` at the top.
fn layer_like(path: &str) -> bool {
    let top_hex_tar = path
        .strip_suffix(".tar")
        .is_some_and(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()));
    top_hex_tar || path.ends_with("/layer.tar") || path.starts_with("blobs/")
}

fn config_like(path: &str, data: &[u8]) -> bool {
    let top_hex_json = path
        .strip_suffix(".json")
        .is_some_and(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()));
    top_hex_json
        || (path.starts_with("blobs/")
            && serde_json::from_slice::<ConfigJson>(data).is_ok_and(|c| c.rootfs.is_some()))
}

/// Keeps the last bytes read, to check the tar ends with its zero blocks.
struct Tail<R> {
    inner: R,
    last: Vec<u8>,
}

impl<R: Read> Read for Tail<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.last.extend_from_slice(&buf[..n]);
        if self.last.len() > 8192 {
            self.last.drain(..self.last.len() - 1024);
        }
        Ok(n)
    }
}

/// Reads the tar from `reader`. Layer entries go to `visit(path, data)`,
/// which may read them or not. With `stop_at_config`, stops as soon as the
/// image config has been read. `path` names the archive in errors.
pub fn scan(
    path: &Path,
    reader: impl Read,
    stop_at_config: bool,
    visit: &mut dyn FnMut(&str, &mut dyn Read) -> io::Result<()>,
) -> Result<Scanned, ArchiveError> {
    let corrupt = |e: io::Error| ArchiveError::corrupt(path, chain(&e));
    let mut tail = Tail {
        inner: reader,
        last: Vec::new(),
    };
    let mut found = Scanned::default();
    {
        let mut archive = tar::Archive::new(&mut tail);
        for entry in archive.entries().map_err(corrupt)? {
            let mut entry = entry.map_err(corrupt)?;
            let name = entry.path().map_err(corrupt)?.to_string_lossy().to_string();
            let name = name.trim_start_matches("./").to_string();
            let kind = entry.header().entry_type();
            if kind.is_symlink() || kind.is_hard_link() {
                if let Some(target) = entry.link_name().map_err(corrupt)? {
                    let target = resolve_link(&name, &target.to_string_lossy(), kind.is_symlink());
                    found.links.insert(name, target);
                }
                continue;
            }
            if !kind.is_file() {
                continue;
            }
            let size = entry.size();
            let json_name = !name.contains('/') && name.ends_with(".json");
            if json_name || (name.starts_with("blobs/") && size <= KEEP_JSON) {
                if size > KEEP_JSON {
                    return Err(ArchiveError::Layout {
                        path: path.into(),
                        detail: format!("{name} is {size} bytes, too big for an image's metadata"),
                    });
                }
                let mut data = Vec::with_capacity(size as usize);
                entry.read_to_end(&mut data).map_err(corrupt)?;
                if json_name || data.first() == Some(&b'{') {
                    if found.config.is_none() && config_like(&name, &data) {
                        found.config = Some(name.clone());
                    }
                    found.json.insert(name, data);
                } else {
                    visit(&name, &mut io::Cursor::new(data)).map_err(corrupt)?;
                }
            } else if layer_like(&name) {
                visit(&name, &mut entry).map_err(corrupt)?;
            }
            if stop_at_config && found.config.is_some() {
                return Ok(found);
            }
        }
    }
    // Read to the end: what follows the end-of-archive blocks, and a stream
    // (zstd, gzip) cut short, both show up here.
    super::codec::copy(&mut tail, &mut io::sink()).map_err(corrupt)?;
    if tail.last.len() < 1024 || tail.last[tail.last.len() - 1024..].iter().any(|b| *b != 0) {
        return Err(ArchiveError::corrupt(
            path,
            "the tar stops without its end-of-archive blocks (the file was cut short)",
        ));
    }
    found.complete = true;
    Ok(found)
}

/// A link's target as a path from the root of the tar.
fn resolve_link(name: &str, target: &str, symbolic: bool) -> String {
    if !symbolic {
        return target.trim_start_matches("./").to_string();
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    parts.pop();
    for p in target.split('/') {
        match p {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            p => parts.push(p),
        }
    }
    parts.join("/")
}

#[derive(Deserialize)]
struct LegacyEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

#[derive(Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    annotations: HashMap<String, String>,
    #[serde(default)]
    platform: Option<PlatformJson>,
}

#[derive(Deserialize)]
struct PlatformJson {
    #[serde(default)]
    os: String,
}

#[derive(Deserialize)]
struct IndexOrManifest {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
}

#[derive(Deserialize)]
pub struct ConfigJson {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub rootfs: Option<RootFs>,
}

#[derive(Deserialize)]
pub struct RootFs {
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

impl Scanned {
    fn get(&self, archive: &Path, name: &str) -> Result<&[u8], ArchiveError> {
        self.json
            .get(name)
            .map(Vec::as_slice)
            .ok_or_else(|| ArchiveError::Layout {
                path: archive.into(),
                detail: format!("{name} is named in the archive's index but is not in the archive"),
            })
    }

    fn follow(&self, name: &str) -> String {
        let mut name = name.trim_start_matches("./").to_string();
        for _ in 0..8 {
            match self.links.get(&name) {
                Some(t) => name = t.clone(),
                None => break,
            }
        }
        name
    }

    /// The image config alone (found before the end, with `stop_at_config`).
    pub fn config_only(&self, archive: &Path) -> Result<(Vec<u8>, ConfigJson), ArchiveError> {
        let name = self.config.as_deref().ok_or_else(|| ArchiveError::Layout {
            path: archive.into(),
            detail: "no image config in the archive".into(),
        })?;
        let data = self.get(archive, name)?.to_vec();
        let parsed = parse_config(archive, &data)?;
        Ok((data, parsed))
    }

    /// The image, from `manifest.json` when there is one (what every daemon
    /// loads), else from the OCI `index.json`.
    pub fn image(&self, archive: &Path) -> Result<Image, ArchiveError> {
        let bad = |detail: String| ArchiveError::Layout {
            path: archive.into(),
            detail,
        };
        let legacy = match self.json.get("manifest.json") {
            Some(m) => {
                let entries: Vec<LegacyEntry> = serde_json::from_slice(m).map_err(|e| {
                    bad(format!(
                        "manifest.json is not a docker-archive manifest: {e}"
                    ))
                })?;
                let [entry] = <[LegacyEntry; 1]>::try_from(entries).map_err(|all| {
                    bad(format!(
                        "manifest.json lists {} images; a stacktag archive holds exactly one",
                        all.len()
                    ))
                })?;
                Some(entry)
            }
            None => None,
        };
        // index.json, when there is one: only it says how the layers are
        // stored. An archive whose index.json cannot be read is still a
        // docker-archive when it has a manifest.json (what every daemon loads).
        let from_index = match self.json.get("index.json") {
            Some(index) => match self.image_from_index(archive, index) {
                Ok(found) => Some(found),
                Err(e) if legacy.is_none() => return Err(e),
                Err(_) => None,
            },
            None => None,
        };
        let (layout, config_path, repo_tags, layer_paths, stored, manifest) =
            match (from_index, legacy) {
                (Some(i), legacy) => {
                    let registry = i.manifest.is_some();
                    let tags = match legacy {
                        Some(l) if i.tags.is_empty() => l.repo_tags.unwrap_or_default(),
                        _ => i.tags,
                    };
                    let layout = if registry { Layout::Registry } else { Layout::Oci };
                    (layout, i.config, tags, i.layers, i.stored, i.manifest)
                }
                (None, Some(entry)) => {
                    let stored = vec![None; entry.layers.len()];
                    (
                        Layout::Legacy,
                        entry.config,
                        entry.repo_tags.unwrap_or_default(),
                        entry.layers,
                        stored,
                        None,
                    )
                }
                (None, None) => return Err(bad(
                    "neither manifest.json nor index.json in the archive: not a docker-archive (docker save) tar".into(),
                )),
            };
        let config = self.get(archive, &self.follow(&config_path))?.to_vec();
        let parsed = parse_config(archive, &config)?;
        let diff_ids = parsed.rootfs.map(|r| r.diff_ids).unwrap_or_default();
        if diff_ids.len() != layer_paths.len() {
            return Err(bad(format!(
                "the image config lists {} layers, the archive's manifest {}",
                diff_ids.len(),
                layer_paths.len()
            )));
        }
        let layers = layer_paths
            .iter()
            .zip(diff_ids)
            .zip(stored)
            .map(|((p, diff_id), stored)| Layer {
                path: self.follow(p),
                diff_id,
                stored,
            })
            .collect();
        Ok(Image {
            layout,
            id: format!("sha256:{}", sha256_hex(&config)),
            config,
            repo_tags,
            layers,
            architecture: parsed.architecture,
            os: parsed.os,
            manifest,
        })
    }

    fn image_from_index(&self, archive: &Path, index: &[u8]) -> Result<FromIndex, ArchiveError> {
        let bad = |detail: String| ArchiveError::Layout {
            path: archive.into(),
            detail,
        };
        let blob = |d: &str| format!("blobs/{}", d.replacen(':', "/", 1));
        let parse = |data: &[u8], what: &str| -> Result<IndexOrManifest, ArchiveError> {
            serde_json::from_slice(data).map_err(|e| bad(format!("{what} is not OCI JSON: {e}")))
        };
        let mut doc = parse(index, "index.json")?;
        let mut raw = index;
        let mut tags = Vec::new();
        for _ in 0..4 {
            if let Some(list) = doc.manifests.take() {
                let images: Vec<&Descriptor> = list
                    .iter()
                    .filter(|d| d.platform.as_ref().is_none_or(|p| p.os != "unknown"))
                    .collect();
                let first = images
                    .first()
                    .ok_or_else(|| bad("index.json lists no image".into()))?;
                if images.iter().any(|d| d.digest != first.digest) {
                    return Err(bad(format!(
                        "the archive holds {} images; a stacktag archive holds exactly one",
                        images.len()
                    )));
                }
                for d in &images {
                    for key in [
                        "io.containerd.image.name",
                        "org.opencontainers.image.ref.name",
                    ] {
                        if let Some(t) = d.annotations.get(key).filter(|t| t.contains(':')) {
                            if !tags.contains(t) {
                                tags.push(t.clone());
                            }
                        }
                    }
                }
                let name = blob(&first.digest);
                raw = self.get(archive, &name)?;
                doc = parse(raw, &name)?;
                continue;
            }
            let config = doc.config.as_ref().ok_or_else(|| {
                bad(format!(
                    "an OCI manifest ({}) has no config",
                    doc.media_type
                ))
            })?;
            let layers = doc.layers.unwrap_or_default();
            let stored = layers
                .iter()
                .map(|l| {
                    let compressed = !(l.media_type.ends_with(".tar")
                        || l.media_type.ends_with("tar.diff")
                        || l.media_type.ends_with("rootfs.diff.tar"));
                    compressed.then(|| (l.media_type.clone(), l.digest.clone()))
                })
                .collect();
            let stored: Vec<Option<(String, String)>> = stored;
            let every_layer_stored = stored.iter().all(Option::is_some);
            return Ok(FromIndex {
                config: blob(&config.digest),
                tags,
                layers: layers.iter().map(|l| blob(&l.digest)).collect(),
                stored,
                manifest: every_layer_stored.then(|| raw.to_vec()),
            });
        }
        Err(bad("index.json nests image indexes too deep".into()))
    }
}

/// The image as `index.json` describes it.
struct FromIndex {
    config: String,
    tags: Vec<String>,
    layers: Vec<String>,
    stored: Vec<Option<(String, String)>>,
    /// The manifest's own bytes, when every layer is stored compressed.
    manifest: Option<Vec<u8>>,
}

fn parse_config(archive: &Path, data: &[u8]) -> Result<ConfigJson, ArchiveError> {
    serde_json::from_slice(data).map_err(|e| ArchiveError::Layout {
        path: archive.into(),
        detail: format!("the image config is not JSON: {e}"),
    })
}

/// An error and its causes on one line.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let s_text = s.to_string();
        if !parts.last().is_some_and(|l| l.contains(&s_text)) {
            parts.push(s_text);
        }
        cur = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_as_each_engine_names_them() {
        let hex = "bae2505b049e7ac43a301f72142cfea4e4d95cdbb005134354c4ae24536e95d3";
        assert!(layer_like(&format!("{hex}.tar"))); // Podman
        assert!(layer_like(&format!("{hex}/layer.tar"))); // Docker 20.10
        assert!(layer_like(&format!("blobs/sha256/{hex}"))); // Docker 25+
        assert!(!layer_like(&format!("{hex}.json")));
        assert!(!layer_like("manifest.json"));
        assert!(!layer_like("abc.tar"));
    }

    #[test]
    fn links_resolve_from_their_folder() {
        assert_eq!(
            resolve_link("b/layer.tar", "../a/layer.tar", true),
            "a/layer.tar"
        );
        assert_eq!(
            resolve_link("b/layer.tar", "a/layer.tar", false),
            "a/layer.tar"
        );
    }

    #[test]
    fn dirty_stream_end_is_cut_short() {
        // A tar without its end blocks.
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(3);
        h.set_cksum();
        b.append_data(&mut h, "x", &b"abc"[..]).unwrap();
        let full = b.into_inner().unwrap();
        let cut = &full[..1024];
        let e = scan(Path::new("a.tar"), cut, false, &mut |_, _| Ok(())).unwrap_err();
        assert!(e.to_string().contains("cut short"), "{e}");
        let ok = scan(Path::new("a.tar"), &full[..], false, &mut |_, _| Ok(())).unwrap();
        assert!(ok.complete);
    }
}
