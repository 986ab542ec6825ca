//! `stacktag load`: checks an archive's checksum, streams it into the
//! daemon's import API (`POST /images/load`) while reading it, and lets the
//! daemon finish only when the archive holds the image its name says.

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::codec::{self, Tee};
use super::error::ArchiveError;
use super::name::{compare_versions, ArchiveName};
use super::pipe::{self, Forward};
use super::{checksum, scan};
use crate::error::Error;

/// One archive loaded (as `load --format json` lists it).
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct Loaded {
    pub path: PathBuf,
    #[serde(rename = "image_id")]
    #[schemars(with = "crate::formats::schema::Digest")]
    pub id: String,
    /// The references the daemon gave the image (the archive's RepoTags), as loaded.
    pub tags: Vec<String>,
    /// The daemon had the image already: the archive was read and checked,
    /// its names put on that image, and nothing imported.
    #[serde(skip)]
    pub present: bool,
    #[serde(skip)]
    pub layout: scan::Layout,
    pub bytes: u64,
    #[schemars(with = "crate::formats::schema::Seconds")]
    pub seconds: f64,
}

pub async fn load(docker: &bollard::Docker, path: &Path) -> Result<Loaded, Error> {
    let start = Instant::now();
    let name =
        ArchiveName::parse(path).ok_or_else(|| ArchiveError::BadName { path: path.into() })?;
    let bytes = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .len();
    {
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || checksum::verify(&path))
            .await
            .map_err(|e| Error::io(path_of(&name), std::io::Error::other(e)))??;
    }

    if let Some(loaded) = name_present(docker, path, &name).await? {
        return Ok(Loaded {
            bytes,
            seconds: start.elapsed().as_secs_f64(),
            ..loaded
        });
    }

    let (tx, rx) = mpsc::channel(pipe::DEPTH);
    let (archive, id12) = (path.to_path_buf(), name.id12.clone());
    let reader = tokio::task::spawn_blocking(move || read_checked(&archive, &id12, tx));
    let opts = bollard::query_parameters::ImportImageOptionsBuilder::default()
        .quiet(true)
        .build();
    let mut progress = Box::pin(docker.import_image_stream(opts, pipe::stream(rx), None));
    let mut loaded = Vec::new();
    let mut daemon_error = None;
    while let Some(item) = progress.next().await {
        match item {
            Ok(info) => {
                let text = info.stream.unwrap_or_default();
                for line in text.lines() {
                    if let Some(r) = line
                        .strip_prefix("Loaded image: ")
                        .or_else(|| line.strip_prefix("Loaded image ID: "))
                    {
                        // Docker says one name a line; Podman all of them in one
                        // line, separated by commas.
                        loaded.extend(
                            r.split(',')
                                .map(str::trim)
                                .filter(|n| !n.is_empty())
                                .map(String::from),
                        );
                    }
                }
            }
            Err(e) => {
                daemon_error = Some(e);
                break;
            }
        }
    }
    // Dropped before waiting for the reader: it may be blocked sending to it.
    drop(progress);
    let checked = reader
        .await
        .map_err(|e| Error::io(path, std::io::Error::other(e)))?;
    // The archive's own fault first: the daemon's error is then only its echo.
    let image = checked?;
    if let Some(e) = daemon_error {
        return Err(Error::docker(format!("load {}", path.display()), e));
    }
    // What the daemon now has under the archive's names must be that image.
    let mut tags = Vec::new();
    for r in &loaded {
        let got = crate::hook::image::inspect(docker, r).await?;
        let id = got.map(|i| i.id).unwrap_or_default();
        if id != image.id {
            return Err(ArchiveError::NameMismatch {
                path: path.into(),
                id12: name.id12.clone(),
                actual: format!("{id} (as the daemon loaded it under {r})"),
            }
            .into());
        }
        if !r.starts_with("sha256:") {
            tags.push(r.clone());
        }
    }
    if loaded.is_empty()
        && crate::hook::image::inspect(docker, &image.id)
            .await?
            .is_none()
    {
        return Err(ArchiveError::Layout {
            path: path.into(),
            detail: format!(
                "the daemon loaded the archive but has no image {}",
                image.id
            ),
        }
        .into());
    }
    Ok(Loaded {
        path: path.into(),
        id: image.id,
        tags,
        present: false,
        layout: image.layout,
        bytes,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// When the daemon has the archive's image already (a CI runner that built
/// it, or loaded it in an earlier job): the archive is read through and
/// checked as for a load (the tar to its end, the image ID its name says),
/// then its names are put on that image. The image ID is the digest of a
/// config that lists every layer's digest, so the daemon's image is the
/// archive's, and importing every layer again would change nothing but the
/// time spent. `None`: the daemon lacks it, load it.
async fn name_present(
    docker: &bollard::Docker,
    path: &Path,
    name: &ArchiveName,
) -> Result<Option<Loaded>, Error> {
    // An ID prefix as Docker takes it; any answer but that image means: load.
    let have = match docker.inspect_image(&name.id12).await {
        Ok(i) => i.id.unwrap_or_default(),
        Err(_) => return Ok(None),
    };
    if !have
        .trim_start_matches("sha256:")
        .starts_with(name.id12.as_str())
    {
        return Ok(None);
    }
    let archive = path.to_path_buf();
    let image = tokio::task::spawn_blocking(move || -> Result<scan::Image, Error> {
        let (decoded, _) = codec::open(&archive).map_err(|e| Error::io(&archive, e))?;
        let scanned = scan::scan(&archive, decoded, false, &mut |_, _| Ok(()))?;
        Ok(scanned.image(&archive)?)
    })
    .await
    .map_err(|e| Error::io(path, std::io::Error::other(e)))??;
    image.check_named(path, &name.id12)?;
    if image.id != have {
        return Ok(None);
    }
    for reference in &image.repo_tags {
        let (repo, tag) = match reference.rsplit_once(':') {
            Some((r, t)) if !t.contains('/') => (r, t),
            _ => (reference.as_str(), "latest"),
        };
        let opts = bollard::query_parameters::TagImageOptionsBuilder::default()
            .repo(repo)
            .tag(tag)
            .build();
        docker
            .tag_image(&image.id, Some(opts))
            .await
            .map_err(|e| Error::docker(format!("tag {} as {reference}", image.id), e))?;
    }
    Ok(Some(Loaded {
        path: path.into(),
        id: image.id,
        tags: image.repo_tags,
        present: true,
        layout: image.layout,
        bytes: 0,
        seconds: 0.0,
    }))
}

fn path_of(name: &ArchiveName) -> PathBuf {
    PathBuf::from(name.to_string())
}

/// The blocking half: decompress, scan and forward; the end of the tar goes
/// to the daemon only once the image ID matches the name.
fn read_checked(
    path: &Path,
    id12: &str,
    tx: mpsc::Sender<pipe::Chunk>,
) -> Result<scan::Image, Error> {
    let mut forward = Some(Forward::new(tx));
    let outcome = (|| {
        let (decoded, _) = codec::open(path).map_err(|e| Error::io(path, e))?;
        let mut tee = Tee::new(decoded, forward.as_mut().expect("set"));
        let scanned = scan::scan(path, &mut tee, false, &mut |_, _| Ok(()))?;
        let image = scanned.image(path)?;
        image.check_named(path, id12)?;
        Ok(image)
    })();
    let forward = forward.take().expect("set");
    match &outcome {
        Ok(_) => {
            // A daemon that stopped reading has said why on its side.
            let _ = forward.finish(Ok(()));
        }
        Err(e) => {
            let _ = forward.finish(Err(format!("stacktag refused the archive: {e}")));
        }
    }
    outcome
}

/// The newest archive of each image in `dir` (of `images`, or of every image
/// there): when every archive of the image has a numbered version
/// (`1.10.2`), the highest (then the one written last); else the one written
/// last.
pub fn newest(dir: &Path, images: &[String]) -> Result<Vec<PathBuf>, Error> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut all: Vec<(ArchiveName, SystemTime, PathBuf)> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let Some(name) = ArchiveName::parse(&path) else {
            continue;
        };
        if !images.is_empty() && !images.contains(&name.image) {
            continue;
        }
        let mtime = entry
            .metadata()
            .and_then(|m| m.modified())
            .map_err(|e| Error::io(&path, e))?;
        all.push((name, mtime, path));
    }
    let mut names: Vec<String> = all.iter().map(|(n, _, _)| n.image.clone()).collect();
    names.sort();
    names.dedup();
    for image in images {
        if !names.contains(image) {
            return Err(ArchiveError::NotInDir {
                image: image.clone(),
                dir: dir.into(),
            }
            .into());
        }
    }
    let mut paths = Vec::new();
    for image in &names {
        let mine: Vec<&(ArchiveName, SystemTime, PathBuf)> =
            all.iter().filter(|(n, _, _)| &n.image == image).collect();
        let numbered = mine
            .iter()
            .all(|(n, _, _)| compare_versions(&n.version, &n.version).is_some());
        let best = mine
            .into_iter()
            .max_by(|a, b| {
                let by_version = if numbered {
                    compare_versions(&a.0.version, &b.0.version)
                        .unwrap_or(std::cmp::Ordering::Equal)
                } else {
                    std::cmp::Ordering::Equal
                };
                by_version.then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2))
            })
            .expect("at least one");
        paths.push(best.2.clone());
    }
    Ok(paths)
}
