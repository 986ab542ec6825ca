//! `copy`, `delete`, `retain`, `tags`: the library's [`Copied`], deletion
//! [`Plan`] and [`Done`], with the counts of the run and the names of the
//! repositories.

use std::sync::atomic::Ordering::Relaxed;

use schemars::JsonSchema;
use serde::Serialize;

use crate::formats::schema::{Digest, Seconds, Tag};
use crate::registry::copy::{Copied, Counts};
use crate::registry::delete::{Done, ManifestPlan, Plan, TagPlan};
use crate::registry::retain::Decision;

/// copy: each tag copied, and what the run sent, mounted or found there.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Copy {
    /// Each tag copied (on a failed run, the images that were done).
    pub copied: Vec<Copied>,
    /// Manifests put at the target (indexes, images, attestations, referrers).
    pub manifests_put: usize,
    /// Manifests the target had already.
    pub manifests_present: usize,
    /// Blobs streamed from the source, and their bytes.
    pub blobs_sent: usize,
    pub bytes_sent: u64,
    /// Blobs mounted from another repository of the target registry.
    pub blobs_mounted: usize,
    /// Blobs the target repository had already.
    pub blobs_present: usize,
    /// Referrers (SBOMs, signatures) copied with their subjects.
    pub referrers: usize,
    #[schemars(with = "Seconds")]
    pub seconds: f64,
}

impl Copy {
    /// The run's [`Counts`] as they stand at its end.
    pub fn new(copied: &[Copied], counts: &Counts, seconds: f64) -> Self {
        Copy {
            copied: copied.to_vec(),
            manifests_put: counts.manifests_put.load(Relaxed),
            manifests_present: counts.manifests_present.load(Relaxed),
            blobs_sent: counts.blobs_sent.load(Relaxed),
            bytes_sent: counts.bytes_sent.load(Relaxed),
            blobs_mounted: counts.blobs_mounted.load(Relaxed),
            blobs_present: counts.blobs_present.load(Relaxed),
            referrers: counts.referrers.load(Relaxed),
            seconds,
        }
    }
}

/// delete: the deletion plan of each repository, and what was done.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Delete {
    /// `--dry-run`: the plan only (every `done` is `null`).
    pub dry_run: bool,
    pub repositories: Vec<DeletePlan>,
    #[schemars(with = "Seconds")]
    pub seconds: f64,
}

/// The [`Plan`] for one repository, and what was done ([`Done`]).
#[derive(Debug, Serialize, JsonSchema)]
pub struct DeletePlan {
    /// `{registry}/{owner}/{image}`.
    pub name: String,
    pub tags: Vec<TagPlan>,
    /// Manifests no remaining tag needs: deleted with their referrers.
    pub manifests: Vec<ManifestPlan>,
    /// `null` on a dry run, or when the run stopped before this repository.
    pub done: Option<Done>,
}

impl DeletePlan {
    pub fn new(name: &str, plan: &Plan, done: Option<&Done>) -> Self {
        DeletePlan {
            name: name.to_string(),
            tags: plan.tags.clone(),
            manifests: plan.manifests.clone(),
            done: done.cloned(),
        }
    }
}

/// retain: each image's builds, which are kept and why, and the deletion.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Retain {
    pub dry_run: bool,
    pub keep: usize,
    pub keep_months: Option<u32>,
    pub images: Vec<RetainImage>,
    #[schemars(with = "Seconds")]
    pub seconds: f64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RetainImage {
    pub name: String,
    /// Newest first.
    pub builds: Vec<RetainBuild>,
    pub delete: DeletePlan,
}

/// A [`Decision`] with its build's commit and tags beside it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RetainBuild {
    pub commit: String,
    pub date: Option<String>,
    pub keep: bool,
    /// Why it is kept: `newest N`, `moving tag latest`, `cited by the wiki`, `no date`.
    pub why: Vec<String>,
    pub tags: Vec<String>,
}

impl RetainImage {
    pub fn new(name: &str, decisions: &[Decision], delete: DeletePlan) -> Self {
        RetainImage {
            name: name.to_string(),
            builds: decisions
                .iter()
                .map(|d| RetainBuild {
                    commit: d.build.commit.clone(),
                    date: d.date.clone(),
                    keep: d.keep,
                    why: d.why.clone(),
                    tags: d.build.tags.clone(),
                })
                .collect(),
            delete,
        }
    }
}

/// tags: every tag of a repository, with what it is and the builds it names.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TagList {
    pub name: String,
    pub tags: Vec<TagDoc>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TagDoc {
    #[schemars(with = "Tag")]
    pub tag: String,
    #[schemars(with = "Digest")]
    pub digest: String,
    pub media_type: String,
    /// `linux/amd64`, ... of an index's images; empty for an image manifest.
    pub platforms: Vec<String>,
    /// `commit`, `date`, `moving` or `referrers`.
    #[schemars(extend("enum" = ["commit", "date", "moving", "referrers"]))]
    pub kind: &'static str,
    /// The commits of the builds whose digest this is.
    pub builds: Vec<String>,
}
