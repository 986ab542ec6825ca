//! What one run knows before any container starts: the build (timestamp,
//! commit) shared by every image, and each image's identity.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::formats::tags::{file_stem, image_name, tag_prefix, Platform};
use crate::git::Commit;

/// Taken once per run and used everywhere (date tag, manifest, history line).
#[derive(Debug, Clone)]
pub struct BuildInfo {
    pub timestamp: DateTime<Utc>,
    pub commit: Commit,
    /// GitHub `OWNER/REPO` for links.
    pub repository: String,
}

impl BuildInfo {
    /// `2026-11-22T23:48:58Z`
    pub fn timestamp_str(&self) -> String {
        self.timestamp.to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    /// `2026-11-22`
    pub fn date(&self) -> String {
        self.timestamp.format("%Y-%m-%d").to_string()
    }

    pub fn sha12(&self) -> &str {
        &self.commit.sha[..12.min(self.commit.sha.len())]
    }

    #[cfg(test)]
    pub fn example() -> Self {
        BuildInfo {
            timestamp: DateTime::parse_from_rfc3339("2026-11-22T23:48:58Z")
                .unwrap()
                .to_utc(),
            commit: Commit {
                sha: "1ffe43816ba9bd6a5bc0d29c0c8e5e4e16a8d3a2".into(),
                message: "Add stacktag\n\nWith a body.".into(),
            },
            repository: "jupyter/docker-stacks".into(),
        }
    }
}

/// The image being tagged.
#[derive(Debug, Clone)]
pub struct ImageInfo {
    /// Short name, e.g. `base-notebook`.
    pub image: String,
    pub registry: String,
    pub owner: String,
    pub variant: String,
    pub platform: Platform,
    /// The reference the container is started from (`...:latest`).
    pub source: String,
    /// The daemon's image ID (`sha256:...`) of `source`.
    pub id: String,
    /// Size as the daemon reports it, in bytes.
    pub size: u64,
}

impl ImageInfo {
    /// `{registry}/{owner}/{image}`
    pub fn full_name(&self) -> String {
        image_name(&self.registry, &self.owner, &self.image)
    }

    pub fn prefix(&self) -> String {
        tag_prefix(self.platform, &self.variant)
    }

    pub fn stem(&self) -> String {
        file_stem(self.platform, &self.variant, &self.image)
    }

    #[cfg(test)]
    pub fn example() -> Self {
        ImageInfo {
            image: "base-notebook".into(),
            registry: "quay.io".into(),
            owner: "jupyter".into(),
            variant: "default".into(),
            platform: Platform::X86_64,
            source: "quay.io/jupyter/base-notebook:latest".into(),
            size: 1_050_000_000,
            id: "sha256:4c4a1b2e5f3d9e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a".into(),
        }
    }
}
