//! `ci github`, `ci gitlab`, `ci check`.

use schemars::JsonSchema;
use serde::Serialize;

/// `ci github`, `ci gitlab`, `ci check`: each file written or checked.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Ci {
    pub files: Vec<CiFile>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CiFile {
    pub path: String,
    /// `github` or `gitlab`.
    #[schemars(extend("enum" = ["github", "gitlab"]))]
    pub engine: &'static str,
    /// `written`, `unchanged`, `printed` (to stdout); `ci check`: `current` or `stale`.
    #[schemars(extend("enum" = ["written", "unchanged", "printed", "current", "stale"]))]
    pub status: &'static str,
    pub jobs: usize,
    /// `ci check` of a stale file: the unified diff, committed to wanted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}
