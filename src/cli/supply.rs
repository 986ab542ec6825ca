//! The supply-chain options: OCI annotations on merged indexes, SBOMs attached
//! to pushed images (`attach`, `push --attach-sbom`), and the digests to sign
//! (`image-ref --all`, `image-ref --referrers`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::Args;

use crate::error::Error;
use crate::git::Commit;
use crate::hierarchy::Hierarchy;
use crate::registry::annotations::{self, Build};

/// OCI annotations on every merged index.
#[derive(Debug, Args, Clone)]
pub struct Annotate {
    /// Add an annotation to every index (repeatable); a pre-defined key replaces stacktag's value
    #[arg(long = "annotation", value_name = "KEY=VALUE", value_parser = annotations::parse)]
    pub annotation: Vec<(String, String)>,
    /// No annotations: over Docker manifests the index is then a Docker manifest list
    #[arg(long, conflicts_with_all = ["annotation", "revision", "timestamp"])]
    pub no_annotations: bool,
    /// GitHub OWNER/REPO for org.opencontainers.image.source [default: from the hierarchy file]
    #[arg(long)]
    pub repository: Option<String>,
    /// Commit for org.opencontainers.image.revision [default: HEAD of the git checkout at --repo-dir]
    #[arg(long, value_name = "SHA", value_parser = parse_revision)]
    pub revision: Option<String>,
    /// Directory inside the git checkout of the stack
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub repo_dir: PathBuf,
    /// Build timestamp for org.opencontainers.image.created [default: the newest creation time of the platform images]
    #[arg(long, env = "STACKTAG_TIMESTAMP")]
    pub timestamp: Option<DateTime<Utc>>,
}

fn parse_revision(given: &str) -> Result<String, String> {
    if given.len() >= 7 && given.len() <= 64 && given.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(given.to_ascii_lowercase())
    } else {
        Err(format!(
            "`{given}` is not a git commit hash (7 to 64 hex digits)"
        ))
    }
}

impl Annotate {
    /// The annotations of every index of `image`, and whether `created` is
    /// to be taken from the images (no timestamp given).
    pub fn resolve(
        &self,
        h: &Hierarchy,
        image: &str,
    ) -> Result<(BTreeMap<String, String>, bool), Error> {
        if self.no_annotations {
            return Ok((BTreeMap::new(), false));
        }
        let revision = match &self.revision {
            Some(r) => r.clone(),
            None => Commit::head(&self.repo_dir)?.sha,
        };
        let build = Build {
            repository: self
                .repository
                .clone()
                .unwrap_or_else(|| h.repository.clone()),
            revision: Some(revision),
            created: self.timestamp,
            title: image.to_string(),
        };
        Ok((
            annotations::for_build(&build, &self.annotation),
            self.timestamp.is_none(),
        ))
    }
}
