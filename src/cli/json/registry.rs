//! `copy`, `delete`, `retain`, `tags`: the library's [`Copied`] and
//! [`Counts`], deletion [`Plan`] and [`Done`], retain's [`Decision`]s and the
//! [`list::Tag`]s, with the names of the repositories and the builds a tag
//! belongs to.

use schemars::JsonSchema;
use serde::Serialize;

use crate::formats::schema::Seconds;
use crate::registry::copy::{Copied, Counts};
use crate::registry::delete::{Done, Plan};
use crate::registry::list;
use crate::registry::retain::Decision;

/// copy: each tag copied, and what the run sent, mounted or found there.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Copy {
    /// Each tag copied (on a failed run, the images that were done).
    pub copied: Vec<Copied>,
    #[serde(flatten)]
    pub counts: Counts,
    #[schemars(with = "Seconds")]
    pub seconds: f64,
}

impl Copy {
    /// The run's [`Counts`] as they stand at its end.
    pub fn new(copied: &[Copied], counts: &Counts, seconds: f64) -> Self {
        Copy {
            copied: copied.to_vec(),
            counts: counts.now(),
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
    #[serde(flatten)]
    pub plan: Plan,
    /// `null` on a dry run, or when the run stopped before this repository.
    pub done: Option<Done>,
}

impl DeletePlan {
    pub fn new(name: &str, plan: &Plan, done: Option<&Done>) -> Self {
        DeletePlan {
            name: name.to_string(),
            plan: plan.clone(),
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
    pub builds: Vec<Decision>,
    pub delete: DeletePlan,
}

impl RetainImage {
    pub fn new(name: &str, decisions: &[Decision], delete: DeletePlan) -> Self {
        RetainImage {
            name: name.to_string(),
            builds: decisions.to_vec(),
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

/// A [`list::Tag`] with the builds it names.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TagDoc {
    #[serde(flatten)]
    pub tag: list::Tag,
    /// The commits of the builds whose digest this is.
    pub builds: Vec<String>,
}
