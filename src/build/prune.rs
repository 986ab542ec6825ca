//! `stacktag prune` (docker-pkg's prune): the local images of the stack's
//! repositories that are no longer needed. Kept: each image's current
//! `latest`; an older parent a current child was built from (found in the
//! child's build record, [`super::record`]); any image holding a tag listed in the tags
//! files; the `--keep N` newest builds per image. Containers are never
//! touched: an image a container uses is left, with a warning.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use bollard::query_parameters::{ListImagesOptionsBuilder, RemoveImageOptionsBuilder};

pub use super::record::Records;
use crate::error::Error;
use crate::formats::tags;
use crate::hierarchy::Hierarchy;

/// One image ID of one repository, and why it goes or stays.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub image: String,
    pub id: String,
    /// Its tags in this repository (`name:tag`).
    pub tags: Vec<String>,
    /// Nanoseconds since the epoch.
    pub created: i64,
    /// `None`: to remove.
    pub kept: Option<Kept>,
}

/// Why an image stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// It is the image's `latest`.
    Latest,
    /// It holds a tag a tags file lists.
    InTagsFile,
    /// One of the newest builds the caller asked to keep.
    Newest,
    /// A kept child was built from it.
    Parent,
}

/// Every image of the stack's repositories, each with whether it is kept.
pub async fn plan(
    docker: &bollard::Docker,
    h: &Hierarchy,
    registry: &str,
    owner: &str,
    tags_dir: &Path,
    keep: usize,
    records: &Records,
) -> Result<Vec<Candidate>, Error> {
    let listed = listed_tags(tags_dir)?;
    let mut all: Vec<Candidate> = Vec::new();
    let mut latest: HashMap<String, String> = HashMap::new();
    for spec in h.topological() {
        let name = tags::image_name(registry, owner, &spec.name);
        let filters = HashMap::from([("reference", vec![name.clone()])]);
        let opts = ListImagesOptionsBuilder::default()
            .filters(&filters)
            .build();
        let images = docker
            .list_images(Some(opts))
            .await
            .map_err(|e| Error::docker(format!("list the images of {name}"), e))?;
        let mut mine: Vec<Candidate> = images
            .into_iter()
            .map(|i| Candidate {
                image: spec.name.clone(),
                tags: i
                    .repo_tags
                    .iter()
                    .filter(|t| t.rsplit_once(':').is_some_and(|(n, _)| n == name))
                    .cloned()
                    .collect(),
                id: i.id,
                created: i.created.saturating_mul(1_000_000_000),
                kept: None,
            })
            .collect();
        // The list's times are whole seconds; the inspect's have nanoseconds.
        for c in mine.iter_mut() {
            if let Some(t) = docker
                .inspect_image(&c.id)
                .await
                .ok()
                .and_then(|i| i.created)
            {
                c.created = t.timestamp_nanos_opt().unwrap_or(c.created);
            }
        }
        mine.sort_by_key(|c| std::cmp::Reverse(c.created));
        for (n, c) in mine.iter_mut().enumerate() {
            if c.tags.iter().any(|t| t.ends_with(":latest")) {
                c.kept = Some(Kept::Latest);
                latest.insert(spec.name.clone(), c.id.clone());
            } else if c.tags.iter().any(|t| listed.contains(t)) {
                c.kept = Some(Kept::InTagsFile);
            } else if n < keep {
                c.kept = Some(Kept::Newest);
            }
        }
        all.extend(mine);
    }
    // Parents in use: the build record of every kept child names its parent's ID.
    let in_use: HashSet<(String, String)> = all
        .iter()
        .filter(|c| c.kept.is_some())
        .filter_map(|c| {
            records
                .get(&tags::image_name(registry, owner, &c.image), &c.id)
                .and_then(|r| r.parent)
        })
        .collect();
    for c in all.iter_mut().filter(|c| c.kept.is_none()) {
        if in_use.contains(&(c.image.clone(), c.id.clone())) {
            c.kept = Some(Kept::Parent);
        }
    }
    Ok(all)
}

/// Removes the candidates not kept (their tags in the stack's repository;
/// the last tag takes the image). Returns the ones removed, and a warning
/// for each tag the daemon kept.
pub async fn remove(docker: &bollard::Docker, plan: &[Candidate]) -> (Vec<Candidate>, Vec<String>) {
    let mut removed = Vec::new();
    let mut warnings = Vec::new();
    for c in plan.iter().filter(|c| c.kept.is_none()) {
        let refs: Vec<String> = if c.tags.is_empty() {
            vec![c.id.clone()]
        } else {
            c.tags.clone()
        };
        let mut ok = true;
        for r in &refs {
            // Never forced: an image a container uses stays.
            let opts = RemoveImageOptionsBuilder::default().build();
            if let Err(e) = docker.remove_image(r, Some(opts), None).await {
                warnings.push(format!("{r} kept: {e}"));
                ok = false;
            }
        }
        if ok {
            removed.push(c.clone());
        }
    }
    (removed, warnings)
}

/// Every `name:tag` of the tags files in `dir`.
fn listed_tags(dir: &Path) -> Result<HashSet<String>, Error> {
    let mut out = HashSet::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(Error::io(dir, e)),
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "txt") {
            let text = std::fs::read_to_string(&p).map_err(|err| Error::io(&p, err))?;
            for (name, tag) in tags::parse_tags_file(&text) {
                out.insert(format!("{name}:{tag}"));
            }
        }
    }
    Ok(out)
}
