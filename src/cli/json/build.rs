//! `build` and `diff`: the library's [`Report`]s and [`Changes`], with the
//! dependency levels a CI job matrix reads.

use schemars::JsonSchema;
use serde::Serialize;

use crate::build::{Action, BuilderKind, Report};
use crate::diff::changes::Changes;

/// build: the plan (`--plan`), or what the run did, image by image; and the
/// images by dependency level, for a CI job matrix.
#[derive(Debug, Serialize, JsonSchema)]
pub struct BuildRun {
    /// The daemon's platform (`linux/amd64`).
    pub platform: String,
    /// The builder the builds go through.
    pub builder: BuilderKind,
    /// Why that builder: `the default: the daemon has BuildKit`,
    /// `--builder classic`, `the daemon has no BuildKit: …`.
    pub builder_why: String,
    /// Parents before children.
    pub images: Vec<Report>,
    /// The image names by dependency level.
    pub levels: Vec<Vec<String>>,
    /// The same, only the images to build or pull.
    pub build_levels: Vec<Vec<String>>,
}

impl BuildRun {
    pub fn new(platform: &str, (builder, why): &(BuilderKind, String), reports: &[Report]) -> Self {
        let depth = reports.iter().map(|r| r.level + 1).max().unwrap_or(0);
        let levels = |pick: &dyn Fn(&Report) -> bool| -> Vec<Vec<String>> {
            (0..depth)
                .map(|l| {
                    reports
                        .iter()
                        .filter(|r| r.level == l && pick(r))
                        .map(|r| r.image.clone())
                        .collect::<Vec<_>>()
                })
                .filter(|l| !l.is_empty())
                .collect()
        };
        BuildRun {
            platform: platform.to_string(),
            builder: *builder,
            builder_why: why.clone(),
            levels: levels(&|_| true),
            build_levels: levels(&|r| r.action != Action::Reuse),
            images: reports.to_vec(),
        }
    }
}

/// diff: what changed between two builds, or, from a wiki with one build
/// of the image, that there is none before it.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum DiffDoc {
    Changes(Box<Changes>),
    NoPrevious {
        /// Always `null`.
        previous: (),
        /// The page of the only build.
        newest: String,
    },
}
