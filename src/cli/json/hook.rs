//! `hook`, `tags-file`, `manifest`, `apply`: the image as the daemon has it,
//! the run's files, commands and timings (the library's own types), and the
//! references the tags make.

use std::path::Path;

use schemars::JsonSchema;
use serde::Serialize;

use super::path;
use crate::formats::schema::{Commit, Digest, PlatformName, Seconds, Tag};
use crate::hook::pipeline::{ImageReport, OutputFile, Timings};
use crate::plugin::command::Ran;
use crate::plugin::run::{BuildInfo, ImageInfo};

/// The image as the daemon has it: [`ImageInfo`] under the names the
/// documents give its fields, with its full name.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Image {
    /// The short name, as in the hierarchy file.
    pub image: String,
    /// `{registry}/{owner}/{image}`.
    pub name: String,
    /// The reference the run read the image from (`{name}:latest`, or `--source`).
    pub reference: String,
    /// The daemon's image ID.
    #[schemars(with = "Digest")]
    pub image_id: String,
    #[schemars(with = "PlatformName")]
    pub platform: String,
    pub variant: String,
}

impl From<&ImageInfo> for Image {
    fn from(i: &ImageInfo) -> Self {
        Image {
            image: i.image.clone(),
            name: i.full_name(),
            reference: i.source.clone(),
            image_id: i.id.clone(),
            platform: i.platform.to_string(),
            variant: i.variant.clone(),
        }
    }
}

fn references(name: &str, tags: &[String]) -> Vec<String> {
    tags.iter().map(|t| format!("{name}:{t}")).collect()
}

/// hook, tags-file, manifest: the build, and each image done (on a partial
/// run, those tagged).
#[derive(Debug, Serialize, JsonSchema)]
pub struct Hook {
    pub build: Build,
    /// The images done (on a partial run: those that were tagged), in the
    /// order they were named.
    pub images: Vec<HookImage>,
}

/// [`BuildInfo`] as the manifests show it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Build {
    /// `2026-11-22T23:48:58Z`, as in the manifests.
    #[schemars(regex(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"))]
    pub timestamp: String,
    /// The full commit hash.
    #[schemars(with = "Commit")]
    pub commit: String,
    /// GitHub `OWNER/REPO`.
    pub repository: String,
}

impl From<&BuildInfo> for Build {
    fn from(b: &BuildInfo) -> Self {
        Build {
            timestamp: b.timestamp_str(),
            commit: b.commit.sha.clone(),
            repository: b.repository.clone(),
        }
    }
}

/// One image of an [`ImageReport`].
#[derive(Debug, Serialize, JsonSchema)]
pub struct HookImage {
    #[serde(flatten)]
    pub image: Image,
    /// Bytes, as the daemon reports it.
    pub size: u64,
    /// `{prefix}-latest` first, then one per tagger.
    #[schemars(with = "Vec<Tag>", length(min = 1))]
    pub tags: Vec<String>,
    /// `{name}:{tag}` of each tag.
    #[schemars(length(min = 1))]
    pub references: Vec<String>,
    /// The tags were applied to the image (`hook`), not only computed
    /// (`tags-file`, `manifest`).
    pub applied: bool,
    pub files: Vec<OutputFile>,
    /// Each distinct command run in the image's container, sorted as it reads.
    pub commands: Vec<Ran>,
    pub timings: HookTimings,
}

/// Seconds: the report's total, and where it went.
#[derive(Debug, Serialize, JsonSchema)]
pub struct HookTimings {
    #[schemars(with = "Seconds")]
    pub total: f64,
    #[serde(flatten)]
    pub parts: Timings,
}

impl From<&ImageReport> for HookImage {
    fn from(r: &ImageReport) -> Self {
        let name = r.info.full_name();
        HookImage {
            image: Image::from(&r.info),
            size: r.info.size,
            references: references(&name, &r.tags),
            tags: r.tags.clone(),
            applied: r.applied,
            files: r.files.clone(),
            commands: r.ran.clone(),
            timings: HookTimings {
                total: r.seconds,
                parts: r.timings,
            },
        }
    }
}

impl Hook {
    pub fn new(build: &BuildInfo, reports: &[ImageReport]) -> Self {
        Hook {
            build: build.into(),
            images: reports.iter().map(HookImage::from).collect(),
        }
    }
}

/// apply: each image whose tags were applied from its tags file.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Apply {
    #[schemars(length(min = 1, max = 1))]
    pub images: Vec<ApplyImage>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ApplyImage {
    #[serde(flatten)]
    pub image: Image,
    #[schemars(with = "Vec<Tag>", length(min = 1))]
    pub tags: Vec<String>,
    #[schemars(length(min = 1))]
    pub references: Vec<String>,
    /// The tags file the tags were read from.
    pub tags_file: String,
    #[schemars(with = "Seconds")]
    pub seconds: f64,
}

impl ApplyImage {
    pub fn new(image: Image, tags: Vec<String>, tags_file: &Path, seconds: f64) -> Self {
        ApplyImage {
            references: references(&image.name, &tags),
            image,
            tags,
            tags_file: path(tags_file),
            seconds,
        }
    }
}
