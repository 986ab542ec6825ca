//! `push`, `attach`, `merge`, `image-ref`: what the registry now has, as the
//! library reports it ([`Pushed`], [`PlatformImage`], [`ImageDigests`]),
//! with the references the CLI joins from names and digests.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use super::path;
use crate::formats::schema::{Digest, PlatformName, Seconds, Tag};
use crate::registry::digests::ImageDigests;
use crate::registry::merge::{self, Merged, PlatformImage};
use crate::registry::push::Pushed;
use crate::registry::referrers::{Attached, Referrer};

/// push: each tag pushed, and the SBOMs attached.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Push {
    pub image: String,
    pub name: String,
    #[schemars(with = "PlatformName")]
    pub platform: String,
    pub variant: String,
    /// The daemon's image ID of the pushed image.
    #[schemars(with = "Digest")]
    pub image_id: String,
    /// The registry host.
    pub registry: String,
    /// The tags file the tags were read from.
    pub tags_file: String,
    /// Each tag, in tags file order, with the digest the registry has for it.
    #[schemars(length(min = 1))]
    pub pushed: Vec<Pushed>,
    /// With `--attach-sbom`: the SBOM artifacts attached (else empty).
    pub attached: Vec<AttachedDoc>,
    #[schemars(with = "Seconds")]
    pub seconds: f64,
}

/// attach: the SBOM artifacts attached to each platform image.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Attach {
    pub image: String,
    pub name: String,
    pub variant: String,
    pub registry: String,
    pub attached: Vec<AttachedDoc>,
}

/// One SBOM file attached to a platform image: an [`Attached`] with the
/// references of its subject and of itself.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AttachedDoc {
    #[schemars(with = "PlatformName")]
    pub platform: String,
    /// `{name}@{digest}` of the platform image it is about.
    pub subject: String,
    /// `{name}@{digest}` of the artifact.
    pub reference: String,
    #[schemars(with = "Digest")]
    pub digest: String,
    #[schemars(extend("enum" = ["application/spdx+json", "application/vnd.cyclonedx+json"]))]
    pub artifact_type: String,
    pub file: String,
    /// `referrers API`, or `tag sha256-…` (the referrers tag scheme).
    pub found_through: String,
}

impl AttachedDoc {
    pub fn new(name: &str, platform: &str, a: &Attached) -> Self {
        AttachedDoc {
            platform: platform.to_string(),
            subject: format!("{name}@{}", a.subject),
            reference: format!("{name}@{}", a.digest),
            digest: a.digest.clone(),
            artifact_type: a.artifact_type.to_string(),
            file: path(&a.path),
            found_through: a.via.to_string(),
        }
    }
}

/// merge: each merged tag and its image index.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Merge {
    pub image: String,
    pub name: String,
    pub variant: String,
    pub registry: String,
    /// `--dry-run`: checked, nothing put (every `digest` is `null`).
    pub dry_run: bool,
    pub merged: Vec<MergedTag>,
    /// Also printed on stderr.
    pub warnings: Vec<String>,
    #[schemars(with = "Seconds")]
    pub seconds: f64,
}

/// One merged tag and its image index: a [`Merged`], with its reference and
/// the index's media type.
#[derive(Debug, Serialize, JsonSchema)]
pub struct MergedTag {
    #[schemars(with = "Tag")]
    pub tag: String,
    /// `{name}:{tag}`.
    pub reference: String,
    /// The index's digest, read back from the registry; `null` on a dry run.
    #[schemars(with = "Option<Digest>")]
    pub digest: Option<String>,
    /// An OCI index, or a Docker manifest list (`--no-annotations`).
    #[schemars(extend("enum" = [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json"
    ]))]
    pub media_type: String,
    /// Each platform's image in the index, in index order.
    #[schemars(length(min = 1))]
    pub platforms: Vec<PlatformImage>,
    pub annotations: BTreeMap<String, String>,
}

impl MergedTag {
    pub fn new(name: &str, m: &Merged) -> Self {
        let (_, media_type) = merge::index(&m.images, &m.annotations);
        MergedTag {
            tag: m.merged.clone(),
            reference: format!("{name}:{}", m.merged),
            digest: m.digest.clone(),
            media_type: media_type.to_string(),
            platforms: m.images.clone(),
            annotations: m.annotations.clone(),
        }
    }
}

/// image-ref: one tag's digest, every digest of a build (`--all`), or what
/// is attached to a tag (`--referrers`).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum ImageRef {
    /// One tag's digest (`latest`, `{platform}-latest`, `--tag`).
    Tag {
        image: String,
        name: String,
        #[schemars(with = "Tag")]
        tag: String,
        #[schemars(with = "Digest")]
        digest: String,
        /// `{name}@{digest}`: what the text form prints.
        reference: String,
    },
    /// `--all`: every digest of the build to sign.
    All {
        images: Vec<ImageDigests>,
        /// Every `{name}@{digest}` to sign, each once.
        references: Vec<String>,
    },
    /// `--referrers`: what is attached to the tag's image(s).
    Referrers {
        image: String,
        name: String,
        #[schemars(with = "Tag")]
        tag: String,
        referrers: Vec<ReferrerDoc>,
    },
}

impl ImageRef {
    pub fn all(found: &[ImageDigests]) -> Self {
        let mut all = Vec::new();
        for i in found {
            for r in i.references() {
                if !all.contains(&r) {
                    all.push(r);
                }
            }
        }
        ImageRef::All {
            images: found.to_vec(),
            references: all,
        }
    }
}

/// A [`Referrer`], with the references of its subject and of itself.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ReferrerDoc {
    /// `{name}@{digest}` of the image it is attached to.
    pub subject: String,
    /// What the subject is: `the tag`, or the platform of an image in its index.
    pub subject_is: String,
    /// `{name}@{digest}` of the referrer.
    pub reference: String,
    pub artifact_type: Option<String>,
    pub media_type: String,
    pub size: u64,
    pub annotations: BTreeMap<String, String>,
    pub found_through: String,
}

impl ReferrerDoc {
    pub fn new(name: &str, subject_is: &str, r: &Referrer) -> Self {
        ReferrerDoc {
            subject: format!("{name}@{}", r.subject),
            subject_is: subject_is.to_string(),
            reference: format!("{name}@{}", r.descriptor.digest),
            artifact_type: r.descriptor.artifact_type.clone(),
            media_type: r.descriptor.media_type.clone(),
            size: r.descriptor.size,
            annotations: r.descriptor.annotations.clone(),
            found_through: r.via.to_string(),
        }
    }
}
