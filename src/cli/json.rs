//! The JSON documents of `--format json` and `--metadata-file`, all in this
//! one file: an API (docs/json.md describes it, docs/json.schema.json pins
//! it, tests/golden/json-*.json show it). Every document is one object:
//!
//! ```json
//! {"schema": "stacktag/v1", "command": "hook", "ok": true, ...the command's fields...}
//! ```
//!
//! with an `error` object (`message`, `exit_code`) when the run failed. A
//! change that removes or renames a field, or changes what one means, is a
//! new schema version; adding a field is not.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::exit::{exit_code, message};
use crate::error::Error;
use crate::hierarchy::Hierarchy;
use crate::hook::pipeline::ImageReport;
use crate::plugin::run::{BuildInfo, ImageInfo};
use crate::registry::digests::ImageDigests;
use crate::registry::merge::{self, Merged};
use crate::registry::referrers::{Attached, Referrer};

/// The version of the documents' shape.
pub const SCHEMA: &str = "stacktag/v1";

/// What every command prints with `--format json`.
#[derive(Debug, Serialize)]
pub struct Document {
    pub schema: &'static str,
    /// The subcommand (`hook`, `image-ref`, ...); `stacktag` when the command
    /// line named none that is known.
    pub command: String,
    /// No `error`.
    pub ok: bool,
    /// The command's own fields; on a failed run, only what was done before
    /// the failure (a partial hook run: the images that were tagged).
    #[serde(flatten)]
    pub body: Option<Body>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDoc>,
}

impl Document {
    pub fn new(command: &str, body: Option<Body>, error: Option<ErrorDoc>) -> Self {
        Document {
            schema: SCHEMA,
            command: command.to_string(),
            ok: error.is_none(),
            body,
            error,
        }
    }

    /// Pretty-printed, with a final newline.
    pub fn to_text(&self) -> String {
        serde_json::to_string_pretty(self).expect("a document always serialises") + "\n"
    }
}

/// Why a run failed: the message printed on stderr, and the exit code.
#[derive(Debug, Serialize)]
pub struct ErrorDoc {
    pub message: String,
    pub exit_code: i32,
    /// Each failure, when there were several (images of a hook run, missing
    /// images): the image it is about, when it is about one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorItem>,
}

#[derive(Debug, Serialize)]
pub struct ErrorItem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    pub message: String,
    pub exit_code: i32,
}

impl ErrorDoc {
    pub fn of(e: &Error) -> Self {
        let item = |image: Option<&String>, e: &Error| ErrorItem {
            image: image
                .map(String::as_str)
                .or_else(|| image_of(e))
                .map(str::to_string),
            message: message(e),
            exit_code: exit_code(e),
        };
        let errors = match e {
            Error::Several(all) => all.iter().map(|e| item(None, e)).collect(),
            Error::Partial { failed, errors, .. } => failed
                .iter()
                .zip(errors)
                .map(|(image, e)| item(Some(image), e))
                .collect(),
            _ => Vec::new(),
        };
        ErrorDoc {
            message: message(e),
            exit_code: exit_code(e),
            errors,
        }
    }
}

/// The image (short name) an error is about, when it names one.
fn image_of(e: &Error) -> Option<&str> {
    match e {
        Error::Hook(h) => h.image(),
        _ => None,
    }
}

/// The fields of each command.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Body {
    /// `hook`, `tags`, `manifest`.
    Hook(Hook),
    Apply(Apply),
    Push(Push),
    Merge(Merge),
    ImageRef(ImageRef),
    Attach(Attach),
    Explain(Explain),
    Check(Check),
    List(List),
    Wiki(Wiki),
    Save(Save),
    Load(Load),
    Ci(Ci),
    Copy(Copy),
    Delete(Delete),
    Retain(Retain),
    Tags(TagList),
    /// `find`: the answer, as `stacktag find` prints it (docs/json.md).
    Find(crate::catalog::Answer),
    /// A command of one image's document (push, merge, image-ref, attach)
    /// given several images, or --all: each image's, in the order done.
    Several {
        images: Vec<Body>,
    },
}

/// `ci github`, `ci gitlab`, `ci check`: each file written or checked.
#[derive(Debug, Serialize)]
pub struct Ci {
    pub files: Vec<CiFile>,
}

#[derive(Debug, Serialize)]
pub struct CiFile {
    pub path: String,
    /// `github` or `gitlab`.
    pub engine: &'static str,
    /// `written`, `unchanged`, `printed` (to stdout); `ci check`: `current` or `stale`.
    pub status: &'static str,
    pub jobs: usize,
    /// `ci check` of a stale file: the unified diff, committed to wanted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

/// The image as the daemon has it.
#[derive(Debug, Serialize)]
pub struct Image {
    /// The short name, as in the hierarchy file.
    pub image: String,
    /// `{registry}/{owner}/{image}`.
    pub name: String,
    /// The reference the run read the image from (`{name}:latest`, or `--source`).
    pub reference: String,
    /// The daemon's image ID.
    pub image_id: String,
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

fn path(p: &Path) -> String {
    p.display().to_string()
}

// ---- hook, tags, manifest ----

#[derive(Debug, Serialize)]
pub struct Hook {
    pub build: Build,
    /// The images done (on a partial run: those that were tagged), in the
    /// order they were named.
    pub images: Vec<HookImage>,
}

#[derive(Debug, Serialize)]
pub struct Build {
    /// `2026-11-22T23:48:58Z`, as in the manifests.
    pub timestamp: String,
    /// The full commit hash.
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

#[derive(Debug, Serialize)]
pub struct HookImage {
    #[serde(flatten)]
    pub image: Image,
    /// Bytes, as the daemon reports it.
    pub size: u64,
    /// `{prefix}-latest` first, then one per tagger.
    pub tags: Vec<String>,
    /// `{name}:{tag}` of each tag.
    pub references: Vec<String>,
    /// The tags were applied to the image (`hook`), not only computed
    /// (`tags`, `manifest`).
    pub applied: bool,
    pub files: Vec<File>,
    /// Each distinct command run in the image's container, sorted as it reads.
    pub commands: Vec<CommandRun>,
    pub timings: Timings,
}

#[derive(Debug, Serialize)]
pub struct File {
    /// `tags_file`, `manifest` or `history_line`.
    pub kind: &'static str,
    pub path: String,
}

#[derive(Debug, Serialize)]
pub struct CommandRun {
    /// As a shell would read it.
    pub command: String,
    pub argv: Vec<String>,
    /// `null` when it did not finish (see `error`).
    pub exit_code: Option<i64>,
    pub seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Seconds.
#[derive(Debug, Serialize)]
pub struct Timings {
    pub total: f64,
    pub container_start: f64,
    pub commands: f64,
    pub container_remove: f64,
    pub files_and_tags: f64,
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
            files: r
                .files
                .iter()
                .map(|f| File {
                    kind: f.kind.as_str(),
                    path: path(&f.path),
                })
                .collect(),
            commands: r
                .ran
                .iter()
                .map(|c| CommandRun {
                    command: c.command.to_string(),
                    argv: c.command.0.clone(),
                    exit_code: c.exit_code,
                    seconds: c.seconds,
                    error: c.error.clone(),
                })
                .collect(),
            timings: Timings {
                total: r.seconds,
                container_start: r.timings.container_start,
                commands: r.timings.commands,
                container_remove: r.timings.container_remove,
                files_and_tags: r.timings.files_and_tags,
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

// ---- apply ----

#[derive(Debug, Serialize)]
pub struct Apply {
    pub images: Vec<ApplyImage>,
}

#[derive(Debug, Serialize)]
pub struct ApplyImage {
    #[serde(flatten)]
    pub image: Image,
    pub tags: Vec<String>,
    pub references: Vec<String>,
    /// The tags file the tags were read from.
    pub tags_file: String,
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

// ---- push, attach ----

#[derive(Debug, Serialize)]
pub struct Push {
    pub image: String,
    pub name: String,
    pub platform: String,
    pub variant: String,
    /// The daemon's image ID of the pushed image.
    pub image_id: String,
    /// The registry host.
    pub registry: String,
    /// The tags file the tags were read from.
    pub tags_file: String,
    /// Each tag, in tags file order, with the digest the registry has for it.
    pub pushed: Vec<Pushed>,
    /// With `--attach-sbom`: the SBOM artifacts attached (else empty).
    pub attached: Vec<AttachedDoc>,
    pub seconds: f64,
}

#[derive(Debug, Serialize)]
pub struct Pushed {
    pub tag: String,
    /// `{name}:{tag}`.
    pub reference: String,
    pub digest: String,
}

impl Pushed {
    pub fn new(name: &str, p: &crate::registry::push::Pushed) -> Self {
        Pushed {
            tag: p.tag.clone(),
            reference: format!("{name}:{}", p.tag),
            digest: p.digest.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Attach {
    pub image: String,
    pub name: String,
    pub variant: String,
    pub registry: String,
    pub attached: Vec<AttachedDoc>,
}

/// One SBOM file attached to a platform image.
#[derive(Debug, Serialize)]
pub struct AttachedDoc {
    pub platform: String,
    /// `{name}@{digest}` of the platform image it is about.
    pub subject: String,
    /// `{name}@{digest}` of the artifact.
    pub reference: String,
    pub digest: String,
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

// ---- merge ----

#[derive(Debug, Serialize)]
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
    pub seconds: f64,
}

/// One merged tag and its image index.
#[derive(Debug, Serialize)]
pub struct MergedTag {
    pub tag: String,
    /// `{name}:{tag}`.
    pub reference: String,
    /// The index's digest, read back from the registry; `null` on a dry run.
    pub digest: Option<String>,
    /// An OCI index, or a Docker manifest list (`--no-annotations`).
    pub media_type: String,
    /// Each platform's image in the index, in index order.
    pub platforms: Vec<MergedPlatform>,
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
pub struct MergedPlatform {
    /// `x86_64`, `aarch64`.
    pub platform: String,
    pub os: String,
    pub architecture: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    pub digest: String,
    pub media_type: String,
    pub size: u64,
    /// Digests of the attestation manifests (BuildKit's) that follow it in the index.
    pub attestations: Vec<String>,
}

impl MergedTag {
    pub fn new(name: &str, m: &Merged) -> Self {
        let (_, media_type) = merge::index(&m.images, &m.annotations);
        MergedTag {
            tag: m.merged.clone(),
            reference: format!("{name}:{}", m.merged),
            digest: m.digest.clone(),
            media_type: media_type.to_string(),
            platforms: m
                .images
                .iter()
                .map(|i| MergedPlatform {
                    platform: i.platform.to_string(),
                    os: i.os.clone(),
                    architecture: i.architecture.clone(),
                    variant: i.variant.clone(),
                    digest: i.digest.clone(),
                    media_type: i.media_type.clone(),
                    size: i.size,
                    attestations: i.attestations.iter().map(|a| a.digest.clone()).collect(),
                })
                .collect(),
            annotations: m.annotations.clone(),
        }
    }
}

// ---- image-ref ----

#[derive(Debug, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum ImageRef {
    /// One tag's digest (`latest`, `{platform}-latest`, `--tag`).
    Tag {
        image: String,
        name: String,
        tag: String,
        digest: String,
        /// `{name}@{digest}`: what the text form prints.
        reference: String,
    },
    /// `--digests`: every digest of the build to sign.
    All {
        images: Vec<BuildDigests>,
        /// Every `{name}@{digest}` to sign, each once.
        references: Vec<String>,
    },
    /// `--referrers`: what is attached to the tag's image(s).
    Referrers {
        image: String,
        name: String,
        tag: String,
        referrers: Vec<ReferrerDoc>,
    },
}

/// Every digest of one build of an image (one variant).
#[derive(Debug, Serialize)]
pub struct BuildDigests {
    pub image: String,
    pub variant: String,
    pub name: String,
    pub platforms: Vec<PlatformDigest>,
    pub merged: Vec<MergedDigest>,
}

#[derive(Debug, Serialize)]
pub struct PlatformDigest {
    pub platform: String,
    pub tags: Vec<String>,
    /// What the tags point at: the image manifest, or BuildKit's index.
    pub digest: String,
    /// The image manifest inside, when the tags point at an index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_digest: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct MergedDigest {
    pub tags: Vec<String>,
    pub digest: String,
    /// `linux/amd64` → the image's digest.
    pub platforms: BTreeMap<String, String>,
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
            images: found
                .iter()
                .map(|d| BuildDigests {
                    image: d.image.clone(),
                    variant: d.variant.clone(),
                    name: d.name.clone(),
                    platforms: d
                        .platforms
                        .iter()
                        .map(|p| PlatformDigest {
                            platform: p.platform.clone(),
                            tags: p.tags.clone(),
                            digest: p.digest.clone(),
                            image_digest: p.image_digest.clone(),
                        })
                        .collect(),
                    merged: d
                        .merged
                        .iter()
                        .map(|m| MergedDigest {
                            tags: m.tags.clone(),
                            digest: m.digest.clone(),
                            platforms: m.platforms.clone(),
                        })
                        .collect(),
                })
                .collect(),
            references: all,
        }
    }
}

#[derive(Debug, Serialize)]
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

// ---- explain, check, list ----

/// A line of the hierarchy file.
#[derive(Debug, Serialize)]
pub struct Location {
    pub file: String,
    pub line: usize,
}

#[derive(Debug, Serialize)]
pub struct Explain {
    pub image: String,
    pub name: String,
    /// `{name}:latest`, the reference the hook reads.
    pub reference: String,
    pub parent: Option<String>,
    /// Root first, the image last.
    pub chain: Vec<String>,
    /// The Dockerfile its history line links (default variant).
    pub dockerfile: String,
    /// Networking in its tagging container.
    pub network: bool,
    /// `default` first.
    pub variants: Vec<String>,
    /// In tag order (after `latest`).
    pub taggers: Vec<Origin>,
    /// In manifest order (after the Build Info header).
    pub manifests: Vec<Origin>,
}

/// A tagger or manifest of an image, and where it comes from.
#[derive(Debug, Serialize)]
pub struct Origin {
    pub name: String,
    /// The image (itself or an ancestor) whose list names it.
    pub from: String,
    /// Where the hierarchy file declares it, for one declared there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared_at: Option<Location>,
}

#[derive(Debug, Serialize)]
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
    pub defaults: Vec<String>,
    /// Parents before children.
    pub images: Vec<CheckImage>,
}

#[derive(Debug, Serialize)]
pub struct CheckImage {
    pub image: String,
    pub parent: Option<String>,
    /// `{registry}/{owner}/{image}:latest`.
    pub reference: String,
    /// `default` first.
    pub variants: Vec<String>,
    /// Its line in the hierarchy file.
    pub line: usize,
}

#[derive(Debug, Serialize)]
pub struct List {
    pub taggers: Vec<Known>,
    pub manifests: Vec<Known>,
}

#[derive(Debug, Serialize)]
pub struct Known {
    pub name: String,
    pub about: String,
    /// `built-in`, `plugin` (compiled into this binary by a plugin crate), or
    /// `declared` (in the hierarchy file).
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

// ---- wiki ----

#[derive(Debug, Serialize)]
pub struct Wiki {
    /// The update (with --hist-lines-dir and --manifests-dir), else `null`.
    pub update: Option<WikiUpdate>,
    /// The site (with --html), else `null`.
    pub site: Option<WikiSite>,
}

#[derive(Debug, Serialize)]
pub struct WikiUpdate {
    pub wiki: String,
    /// Paths inside the wiki.
    pub manifests_added: Vec<String>,
    pub manifests_present: usize,
    /// An older build's manifest of the same page name, moved away.
    pub manifests_replaced: Vec<String>,
    pub rows_added: usize,
    pub rows_present: usize,
    pub pages_written: Vec<String>,
    pub home_written: bool,
    pub pruned: Vec<String>,
    pub kept: usize,
    /// Monthly pages read from their markdown.
    pub reindexed: usize,
    pub seconds: f64,
}

impl From<&crate::wiki::update::Report> for WikiUpdate {
    fn from(r: &crate::wiki::update::Report) -> Self {
        let paths = |v: &[std::path::PathBuf]| v.iter().map(|p| path(p)).collect();
        WikiUpdate {
            wiki: path(&r.wiki),
            manifests_added: paths(&r.manifests_added),
            manifests_present: r.manifests_present,
            manifests_replaced: paths(&r.manifests_replaced),
            rows_added: r.rows_added,
            rows_present: r.rows_present,
            pages_written: paths(&r.pages_written),
            home_written: r.home_written,
            pruned: paths(&r.pruned),
            kept: r.kept,
            reindexed: r.reindexed,
            seconds: r.seconds,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct WikiSite {
    pub out: String,
    /// `{out}/index.html`.
    pub index: String,
    pub pages: usize,
    /// Relative links to pages the wiki does not have.
    pub broken_links: usize,
    pub seconds: f64,
}

impl From<&crate::wiki::site::SiteReport> for WikiSite {
    fn from(r: &crate::wiki::site::SiteReport) -> Self {
        WikiSite {
            out: path(&r.out),
            index: path(&r.out.join("index.html")),
            pages: r.pages,
            broken_links: r.broken_links,
            seconds: r.seconds,
        }
    }
}

// ---- the file ----

/// Writes `text` to `file` whole: to a temporary name beside it, then renamed.
pub fn write_file(file: &Path, text: &str) -> Result<(), Error> {
    let dir = file.parent().filter(|d| !d.as_os_str().is_empty());
    let mut tmp = file.as_os_str().to_owned();
    tmp.push(format!(".stacktag-{}.tmp", std::process::id()));
    let tmp = std::path::PathBuf::from(tmp);
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let written = std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, file));
    written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(file, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_run_has_an_error_and_no_ok() {
        let e = Error::Several(vec![
            crate::error::HookError::ImageNotFound {
                image: "r/o/a:latest".into(),
                short: "a".into(),
            }
            .into(),
            crate::error::UnknownPlatform("mips".into()).into(),
        ]);
        let doc = Document::new("hook", None, Some(ErrorDoc::of(&e)));
        let v: serde_json::Value = serde_json::from_str(&doc.to_text()).unwrap();
        assert_eq!(v["schema"], SCHEMA);
        assert_eq!(v["ok"], false);
        assert_eq!(v["error"]["exit_code"], 4);
        assert_eq!(v["error"]["errors"][0]["image"], "a");
        assert_eq!(v["error"]["errors"][1]["exit_code"], 3);
        assert!(v["error"]["errors"][1].get("image").is_none());
        assert!(v.get("images").is_none());
    }

    #[test]
    fn the_file_is_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sub/meta.json");
        write_file(&file, "{}\n").unwrap();
        write_file(&file, "{\"a\": 1}\n").unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "{\"a\": 1}\n");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["meta.json"], "no temporary file left");
    }
}

/// `save`: one archive per image.
#[derive(Debug, Serialize)]
pub struct Save {
    pub archives: Vec<SavedArchive>,
}

#[derive(Debug, Serialize)]
pub struct SavedArchive {
    pub image: String,
    /// The reference that was saved (`{name}:latest`).
    pub reference: String,
    pub image_id: String,
    /// `{sha12}`, `{sha12}.dirty` or `--version`.
    pub version: String,
    pub path: String,
    /// The `.sha256` beside it.
    pub checksum_file: String,
    /// The registry manifest in the archive (`--layers gzip`).
    pub manifest_digest: Option<String>,
    pub bytes: u64,
    pub seconds: f64,
}

/// `load`: one image per archive.
#[derive(Debug, Serialize)]
pub struct Load {
    pub archives: Vec<LoadedArchive>,
}

#[derive(Debug, Serialize)]
pub struct LoadedArchive {
    pub path: String,
    pub image_id: String,
    /// The references the archive named, as loaded.
    pub tags: Vec<String>,
    pub bytes: u64,
    pub seconds: f64,
}

// ---- copy ----

#[derive(Debug, Serialize)]
pub struct Copy {
    /// Each tag copied (on a failed run, the images that were done).
    pub copied: Vec<CopiedTag>,
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
    pub seconds: f64,
}

#[derive(Debug, Serialize)]
pub struct CopiedTag {
    /// `{registry}/{owner}/{image}:{tag}` at the source.
    pub source: String,
    pub target: String,
    /// The source's digest.
    pub digest: String,
    /// The target's digest, read back after the copy: equal to `digest`.
    pub verified: String,
    /// `false`: the target's tag pointed at the digest already.
    pub tag_written: bool,
}

impl Copy {
    pub fn new(
        copied: &[crate::registry::copy::Copied],
        counts: &crate::registry::copy::Counts,
        seconds: f64,
    ) -> Self {
        use std::sync::atomic::Ordering::Relaxed;
        Copy {
            copied: copied
                .iter()
                .map(|c| CopiedTag {
                    source: c.source.clone(),
                    target: c.target.clone(),
                    digest: c.digest.clone(),
                    verified: c.verified.clone(),
                    tag_written: c.tag_written,
                })
                .collect(),
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

// ---- delete, retain ----

#[derive(Debug, Serialize)]
pub struct Delete {
    /// `--dry-run`: the plan only (every `done` is `null`).
    pub dry_run: bool,
    pub repositories: Vec<DeletePlan>,
    pub seconds: f64,
}

/// The plan for one repository, and what was done.
#[derive(Debug, Serialize)]
pub struct DeletePlan {
    /// `{registry}/{owner}/{image}`.
    pub name: String,
    pub tags: Vec<DeleteTag>,
    /// Manifests no remaining tag needs: deleted with their referrers.
    pub manifests: Vec<DeleteManifest>,
    /// `null` on a dry run, or when the run stopped before this repository.
    pub done: Option<DeleteDone>,
}

#[derive(Debug, Serialize)]
pub struct DeleteTag {
    pub tag: String,
    pub digest: String,
    /// `untag` (another tag needs the manifest) or `with_manifest`.
    pub action: &'static str,
}

#[derive(Debug, Serialize)]
pub struct DeleteManifest {
    pub digest: String,
    /// `the tag's manifest`, `linux/amd64`, `attestation`.
    pub what: String,
}

#[derive(Debug, Serialize)]
pub struct DeleteDone {
    pub tags: Vec<String>,
    pub manifests: Vec<String>,
    pub referrers: Vec<String>,
    /// Tags that pointed elsewhere when their turn came: left as they are.
    pub moved: Vec<String>,
}

impl DeletePlan {
    pub fn new(
        name: &str,
        plan: &crate::registry::delete::Plan,
        done: Option<&crate::registry::delete::Done>,
    ) -> Self {
        use crate::registry::delete::Action;
        DeletePlan {
            name: name.to_string(),
            tags: plan
                .tags
                .iter()
                .map(|t| DeleteTag {
                    tag: t.tag.clone(),
                    digest: t.digest.clone(),
                    action: match t.action {
                        Action::Untag => "untag",
                        Action::WithManifest => "with_manifest",
                    },
                })
                .collect(),
            manifests: plan
                .manifests
                .iter()
                .map(|m| DeleteManifest {
                    digest: m.digest.clone(),
                    what: m.what.clone(),
                })
                .collect(),
            done: done.map(|d| DeleteDone {
                tags: d.tags.clone(),
                manifests: d.manifests.clone(),
                referrers: d.referrers.clone(),
                moved: d.moved.clone(),
            }),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Retain {
    pub dry_run: bool,
    pub keep: usize,
    pub keep_months: Option<u32>,
    pub images: Vec<RetainImage>,
    pub seconds: f64,
}

#[derive(Debug, Serialize)]
pub struct RetainImage {
    pub name: String,
    /// Newest first.
    pub builds: Vec<RetainBuild>,
    pub delete: DeletePlan,
}

#[derive(Debug, Serialize)]
pub struct RetainBuild {
    pub commit: String,
    pub date: Option<String>,
    pub keep: bool,
    /// Why it is kept: `newest N`, `moving tag latest`, `cited by the wiki`, `no date`.
    pub why: Vec<String>,
    pub tags: Vec<String>,
}

impl RetainImage {
    pub fn new(
        name: &str,
        decisions: &[crate::registry::retain::Decision],
        delete: DeletePlan,
    ) -> Self {
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

// ---- tags ----

#[derive(Debug, Serialize)]
pub struct TagList {
    pub name: String,
    pub tags: Vec<TagDoc>,
}

#[derive(Debug, Serialize)]
pub struct TagDoc {
    pub tag: String,
    pub digest: String,
    pub media_type: String,
    /// `linux/amd64`, ... of an index's images; empty for an image manifest.
    pub platforms: Vec<String>,
    /// `commit`, `date`, `moving` or `referrers`.
    pub kind: &'static str,
    /// The commits of the builds whose digest this is.
    pub builds: Vec<String>,
}
