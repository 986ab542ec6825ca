//! `explain`, `check`, `list`: the hierarchy as the CLI shows it.

use schemars::JsonSchema;
use serde::Serialize;

use super::path;
use crate::hierarchy::Hierarchy;

/// A line of the hierarchy file.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Location {
    pub file: String,
    #[schemars(range(min = 1))]
    pub line: usize,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Explain {
    pub image: String,
    pub name: String,
    /// `{name}:latest`, the reference the hook reads.
    pub reference: String,
    pub parent: Option<String>,
    /// Root first, the image last.
    #[schemars(length(min = 1))]
    pub chain: Vec<String>,
    /// The Dockerfile its history line links (default variant).
    pub dockerfile: String,
    /// Networking in its tagging container.
    pub network: bool,
    /// `default` first.
    #[schemars(length(min = 1))]
    pub variants: Vec<String>,
    /// In tag order (after `latest`).
    pub taggers: Vec<Origin>,
    /// In manifest order (after the Build Info header).
    pub manifests: Vec<Origin>,
}

/// A tagger or manifest of an image, and where it comes from.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Origin {
    pub name: String,
    /// The image (itself or an ancestor) whose list names it.
    pub from: String,
    /// Where the hierarchy file declares it, for one declared there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared_at: Option<Location>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Check {
    /// The hierarchy file.
    pub file: String,
    pub registry: String,
    pub owner: String,
    pub repository: String,
    /// The builder `stacktag build` would use: `buildkit` or `classic`;
    /// null when no Docker daemon answered.
    pub builder: Option<crate::build::BuilderKind>,
    /// Why that builder: `the default: the daemon has BuildKit`,
    /// `STACKTAG_BUILDER=classic`, `the daemon has no BuildKit: …`.
    pub builder_why: String,
    /// The keys the file leaves to their defaults.
    #[schemars(with = "Vec<Defaulted>")]
    pub defaults: Vec<String>,
    /// Parents before children.
    pub images: Vec<CheckImage>,
}

/// A key of the hierarchy file that has a default.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // Only its schema is used: the keys are `hierarchy::defaults`'s strings.
enum Defaulted {
    Registry,
    Owner,
    Repository,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CheckImage {
    pub image: String,
    pub parent: Option<String>,
    /// `{registry}/{owner}/{image}:latest`.
    pub reference: String,
    /// `default` first.
    #[schemars(length(min = 1))]
    pub variants: Vec<String>,
    /// Its line in the hierarchy file.
    #[schemars(range(min = 1))]
    pub line: usize,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct List {
    pub taggers: Vec<Known>,
    pub manifests: Vec<Known>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Known {
    pub name: String,
    pub about: String,
    /// `built-in`, `plugin` (compiled into this binary by a plugin crate), or
    /// `declared` (in the hierarchy file).
    #[schemars(extend("enum" = ["built-in", "plugin", "declared"]))]
    pub origin: &'static str,
    /// For a declared one: where, and in which image's entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared_at: Option<Location>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

pub fn location(h: &Hierarchy, line: usize) -> Location {
    Location {
        file: path(&h.path),
        line,
    }
}

pub fn with_default(variants: &[String]) -> Vec<String> {
    std::iter::once(crate::formats::tags::DEFAULT_VARIANT.to_string())
        .chain(variants.iter().cloned())
        .collect()
}
