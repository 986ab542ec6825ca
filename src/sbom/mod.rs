//! SBOMs of an image (formats.md, "SBOM files"): the packages of every
//! package tool found in the image, gathered in the tagging container by
//! commands that run once and concurrently with the taggers and manifests,
//! written as SPDX 2.3 and CycloneDX 1.6 JSON.
//!
//! - [`collect`] runs the commands (through the run-once [`Context`](crate::plugin::Context));
//! - [`parse`] reads their structured output;
//! - [`purl`] names each package;
//! - [`spdx`] and [`cyclonedx`] write the documents, sorted, with the build
//!   timestamp as creation time, so the same image and timestamp give the
//!   same bytes.

pub mod collect;
pub mod cyclonedx;
pub mod listing;
pub mod parse;
pub mod purl;
pub mod spdx;

use std::fmt;
use std::path::PathBuf;

use crate::plugin::run::{BuildInfo, ImageInfo};
use crate::plugin::PluginError;

pub use collect::collect;

/// A package tool whose packages an SBOM lists; also the diff's sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Section {
    Apt,
    Pip,
    Conda,
    R,
    Julia,
}

impl Section {
    pub const ALL: [Section; 5] = [
        Section::Apt,
        Section::Pip,
        Section::Conda,
        Section::R,
        Section::Julia,
    ];

    /// The name hierarchy.yaml and the JSON output use.
    pub fn name(self) -> &'static str {
        match self {
            Section::Apt => "apt",
            Section::Pip => "pip",
            Section::Conda => "conda",
            Section::R => "r",
            Section::Julia => "julia",
        }
    }

    /// As a heading says it.
    pub fn title(self) -> &'static str {
        match self {
            Section::Apt => "Apt",
            Section::Pip => "Pip",
            Section::Conda => "Conda",
            Section::R => "R",
            Section::Julia => "Julia",
        }
    }

    pub fn from_name(name: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.name() == name)
    }

    pub fn names() -> String {
        Section::ALL.map(Section::name).join(", ")
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Package {
    pub section: Section,
    pub name: String,
    /// Empty when the tool gives none (Julia's standard libraries).
    pub version: String,
    pub purl: String,
    /// What else the tool says, as `(key, value)`, sorted by key:
    /// `arch`, `source` (apt), `channel`, `build` (conda), `license` (R), `uuid` (Julia).
    pub details: Vec<(&'static str, String)>,
}

impl Package {
    pub fn detail(&self, key: &str) -> Option<&str> {
        self.details
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Everything an image's SBOM says.
#[derive(Debug, Clone)]
pub struct Inventory {
    /// Sorted by section, name, version, then purl; no purl twice.
    pub packages: Vec<Package>,
    /// The sections found, and those skipped with why.
    pub found: Vec<Section>,
    pub skipped: Vec<(Section, String)>,
}

/// What `hook --sbom` (or `sbom: true`) asks for.
#[derive(Debug, Clone)]
pub struct Options {
    pub dir: PathBuf,
}

/// The two files of one image's SBOM: `(file name, content)`.
pub fn documents(
    inventory: &Inventory,
    image: &ImageInfo,
    build: &BuildInfo,
) -> Vec<(String, String)> {
    let stem = format!("{}-{}", image.stem(), build.sha12());
    vec![
        (
            format!("{stem}.spdx.json"),
            spdx::document(inventory, image, build),
        ),
        (
            format!("{stem}.cdx.json"),
            cyclonedx::document(inventory, image, build),
        ),
    ]
}

/// Why an image's SBOM could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    #[error("{image}: SBOM section `{section}`: {source}")]
    Command {
        image: String,
        section: Section,
        source: Box<PluginError>,
    },
    #[error("{image}: SBOM section `{section}`: `{command}` gave output that does not parse at line {line}, column {column}: {message}\n  fix: run the command in the image to see its output; if the tool prints something else there, remove `{section}` from sbom_required or fix the image")]
    Parse {
        image: String,
        section: Section,
        command: String,
        line: usize,
        column: usize,
        message: String,
    },
}

/// The image as a package URL: `pkg:oci/{name}@sha256:…?repository_url=…`.
pub(crate) fn image_purl(image: &ImageInfo) -> String {
    purl::Purl::new("oci", None, &image.image, Some(&image.id))
        .qualifier("repository_url", &image.full_name())
        .qualifier("arch", image.platform.docker_arch())
        .to_string()
}

/// The image's reference in the documents: `{full}:{prefix}-{sha12}`.
pub(crate) fn image_ref(image: &ImageInfo, build: &BuildInfo) -> String {
    format!("{}:{}-{}", image.full_name(), image.prefix(), build.sha12())
}

/// A UUID made from `seed` (sha256, RFC 4122 version 8 bits), so that the
/// same image and build give the same serial number.
pub(crate) fn stable_uuid(seed: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut b: [u8; 16] = Sha256::digest(seed.as_bytes())[..16]
        .try_into()
        .expect("16 bytes");
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_is_stable_and_well_formed() {
        let a = stable_uuid("x");
        assert_eq!(a, stable_uuid("x"));
        assert_ne!(a, stable_uuid("y"));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "8");
    }
}
