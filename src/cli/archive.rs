//! `stacktag save`, `stacktag load`, and the checks `push` and
//! `push --archive` make before publishing: the clap arguments and the glue.

use std::path::PathBuf;

use clap::Args;

use super::args::Output;
use super::exit::{ARCHIVE, CONFIG, DOCKER, GIT, IMAGE, IO, OK, USAGE};
use super::{json, ImageName, Ui};
use crate::archive::dirty;
use crate::archive::load::{self, Loaded};
use crate::archive::save::{self, Layers, SaveRequest};
use crate::archive::{ArchiveError, Compression};
use crate::console::size;
use crate::error::Error;
use crate::formats::tags;
use crate::git::Commit;
use crate::hierarchy::Hierarchy;
use crate::hook::session::Session;

pub const SAVE_HELP: &str = "\
Files: DIR/{image}_{version}_{id12}.tar (--layers gzip; with --layers tar .tar.zst, .tar.gz or
.tar) and {file}.sha256 beside it (sha256sum format). With --layers gzip the layers are
compressed once, here, on every core, and the archive holds the registry manifest: push
--archive uploads it as it is, and the image gets the digest save printed. The version is the commit's sha12 (or --version); a build whose context
(the image's `context` in the hierarchy file, default images/{image}, or an ancestor's) has
uncommitted changes gets {version}.dirty, with a warning naming the files. Exit codes: #IMAGE image
not on the daemon, #DOCKER daemon failed, #IO file not written (full disk: nothing is left), #ARCHIVE the
daemon's export is not the image asked for (see `stacktag --help`).";

pub const LOAD_HELP: &str = "\
Each archive is checked against its .sha256, streamed into the daemon, and the load is
refused (cut off before the daemon finishes it) when the archive does not hold the image its
name says ({id12}). Reads Docker 20.10's layout (manifest.json), the OCI layout of
Docker 25+ (index.json), and stacktag's registry layout (save --layers gzip). Exit codes: #ARCHIVE corrupt or cut-short archive, checksum or name
mismatch; #DOCKER the daemon refused it (see `stacktag --help`).";

/// The exit codes of save and load.
pub const CODES: &[i32] = &[OK, USAGE, CONFIG, IMAGE, DOCKER, GIT, IO, ARCHIVE];

pub const SAVE_LONG_ABOUT: &str = "\
Write each image ({registry}/{owner}/{image}:latest) to {dir}/{image}_{version}_{id12}.{ext}: the
daemon's own export, streamed through the compressor (zstd by default, multi-threaded) into a
temporary file renamed into place, with {file}.sha256 beside it (sha256sum format). The version is
the commit's sha12, or {sha12}.dirty when the image's context (its `context` in the hierarchy
file, default images/{image}, beside the file) or an ancestor's has uncommitted changes, or
--version. A full disk is exit #IO, and leaves neither file.";

pub const SAVE_EXAMPLES: &str = "  stacktag save --all --dir build/archives
  stacktag save base-notebook --dir out --compress gzip";

#[derive(Debug, Args)]
#[command(after_help = super::help::codes(SAVE_HELP))]
#[command(
    override_usage = "stacktag save [OPTIONS] --dir <DIR> <IMAGE>...\n       stacktag save [OPTIONS] --dir <DIR> --all"
)]
pub struct SaveArgs {
    #[command(flatten)]
    pub images: super::args::Images,
    /// Directory the archives are written to
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// gzip: each layer a gzip blob as the registry takes it, with the registry manifest (push
    /// --archive only uploads); tar: as the daemon exports them, the whole tar compressed
    /// [default: gzip, or tar with --compress]
    #[arg(long, value_parser = ["gzip", "tar"], value_name = "FORM")]
    pub layers: Option<String>,
    /// With --layers tar: zstd (multi-threaded), gzip or none [default: zstd]
    #[arg(long, value_parser = parse_compression, value_name = "FORMAT")]
    pub compress: Option<Compression>,
    /// Version in the archive names [default: the commit's sha12]
    #[arg(long, value_name = "V")]
    pub version: Option<String>,
    #[command(flatten)]
    pub name: ImageName,
    /// Directory inside the git checkout of the stack
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub repo_dir: PathBuf,
    #[command(flatten)]
    pub output: Output,
}

pub const LOAD_LONG_ABOUT: &str = "\
Load archives made by `stacktag save` into the daemon: the checksum is checked first, the archive
is streamed into the daemon's import, and the loaded image's ID must start with the id12 of the
archive's name, else it is refused. When the daemon has that image already (a CI runner that
built it), the archive is read and checked the same way and its names put on the image: nothing is
imported. With --dir, the newest archive of each image is loaded. Both layouts load: docker-archive (manifest.json, Docker 20.10) and OCI (index.json, Docker 25+).";

pub const LOAD_EXAMPLES: &str =
    "  stacktag load build/archives/base-notebook_1ffe43816ba9_0123456789ab.tar.zst
  stacktag load --dir build/archives base-notebook minimal-notebook";

#[derive(Debug, Args)]
#[command(after_help = super::help::codes(LOAD_HELP))]
pub struct LoadArgs {
    /// Archives to load; with --dir, image names (default: every image with an archive there)
    #[arg(value_name = "FILE|IMAGE")]
    pub targets: Vec<PathBuf>,
    /// Load the newest archive of each image in DIR (highest version, else newest file)
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    #[command(flatten)]
    pub output: Output,
}

/// `push`'s options for archives and dirty builds.
#[derive(Debug, Args, Clone)]
pub struct PublishChecks {
    /// Push this archive (from `stacktag save`) straight into the registry, with no Docker daemon
    /// [IMAGE: from the archive's name]
    #[arg(long, value_name = "FILE", conflicts_with = "all")]
    pub archive: Option<PathBuf>,
    /// Publish a dirty build (uncommitted changes, or a version such as latest, dev, *.dirty)
    #[arg(long)]
    pub allow_dirty: bool,
}

fn parse_compression(s: &str) -> Result<Compression, String> {
    Compression::parse(s).ok_or_else(|| format!("{s:?}: expected zstd, gzip or none"))
}

fn warn(line: &str) {
    crate::console::warn(format_args!("{line}"));
}

fn mb_per_s(bytes: u64, seconds: f64) -> f64 {
    bytes as f64 / 1e6 / seconds.max(1e-6)
}

/// Uncommitted changes in the image's context, or `None` when they cannot
/// be known (the folder is in no git repository): said as a warning.
fn changes(h: &Hierarchy, image: &str) -> Result<Vec<String>, Error> {
    let dirs = dirty::context_dirs(h, image)?;
    match dirty::changed_files(&dirs) {
        Ok(c) => Ok(c),
        Err(Error::Git(crate::git::GitError { path, .. })) => {
            warn(&format!(
                "{image}: cannot tell whether {} is committed (not in a git repository)",
                path.display()
            ));
            Ok(Vec::new())
        }
        Err(e) => Err(e),
    }
}

pub async fn save(h: Hierarchy, args: SaveArgs, ui: &Ui) -> Result<(), Error> {
    let quiet = ui.quiet;
    let images = args.images.chosen(&h)?;
    let (registry, owner) = args.name.registry_owner(&h);
    let base = match &args.version {
        Some(v) => v.clone(),
        None => Commit::head(&args.repo_dir)?.sha[..12].to_string(),
    };
    let layers = match (args.layers.as_deref(), args.compress) {
        (Some("gzip"), Some(_)) => {
            return Err(Error::Usage(
                "--compress compresses the whole tar of --layers tar; the gzip layers of --layers gzip are compressed already".into(),
            ))
        }
        (Some("tar"), _) | (None, Some(_)) => Layers::Tar,
        _ => Layers::Gzip,
    };
    let session = Session::connect().await?;
    let mut text = String::new();
    let mut doc = json::Save {
        archives: Vec::new(),
    };
    for image in &images {
        let changed = changes(&h, image)?;
        let mut version = base.clone();
        if !changed.is_empty() && !dirty::is_dirty_version(&version) {
            version = format!("{version}.dirty");
        }
        if let Some(why) = dirty::reason(Some(&version), &changed) {
            warn(&format!("{image} is a dirty build: {why}"));
        }
        let req = SaveRequest {
            image: image.clone(),
            reference: format!("{}:latest", tags::image_name(&registry, &owner, image)),
            version,
            dir: args.dir.clone(),
            compression: args.compress.unwrap_or(Compression::Zstd),
            layers,
        };
        let saved = save::save(&session.docker, &req).await?;
        if !quiet {
            crate::console::line(format_args!(
                "stacktag: saved {} in {:.2}s: {} ({} tar, {:.0} MB/s){}",
                req.reference,
                saved.seconds,
                size(saved.bytes),
                size(saved.tar_bytes),
                mb_per_s(saved.tar_bytes, saved.seconds),
                saved
                    .manifest
                    .as_ref()
                    .map(|d| format!(", manifest {d}"))
                    .unwrap_or_default()
            ));
        }
        text += &format!("{} {}\n", saved.path.display(), saved.id);
        doc.archives.push(saved);
    }
    ui.out(&text);
    ui.result(json::Body::Save(doc));
    Ok(())
}

pub async fn load(args: LoadArgs, ui: &Ui) -> Result<(), Error> {
    let quiet = ui.quiet;
    let files = match &args.dir {
        Some(dir) => {
            let images: Vec<String> = args
                .targets
                .iter()
                .map(|p| p.to_string_lossy().to_string())
                .collect();
            let found = load::newest(dir, &images)?;
            if found.is_empty() {
                return Err(ArchiveError::NotInDir {
                    image: "any image".into(),
                    dir: dir.clone(),
                }
                .into());
            }
            found
        }
        None if args.targets.is_empty() => {
            return Err(ArchiveError::Layout {
                path: PathBuf::from("stacktag load"),
                detail: "name the archives to load, or --dir DIR".into(),
            }
            .into())
        }
        None => args.targets.clone(),
    };
    let session = Session::connect().await?;
    let mut text = String::new();
    let mut doc = json::Load {
        archives: Vec::new(),
    };
    for f in &files {
        let loaded = load::load(&session.docker, f).await?;
        let Loaded {
            path,
            id,
            tags,
            present,
            layout,
            bytes,
            seconds,
        } = &loaded;
        if !quiet && *present {
            crate::console::line(format_args!(
                "stacktag: {}: the daemon has its image {} already; archive checked and its names put on it in {:.2}s, nothing imported",
                path.display(),
                &id.trim_start_matches("sha256:")[..12],
                seconds,
            ));
        } else if !quiet {
            crate::console::line(format_args!(
                "stacktag: loaded {} in {:.2}s ({}, {:?} layout, {:.0} MB/s of archive)",
                path.display(),
                seconds,
                size(*bytes),
                layout,
                mb_per_s(*bytes, *seconds)
            ));
        }
        text += &format!("{} {id} {}\n", path.display(), tags.join(" "));
        doc.archives.push(loaded);
    }
    ui.out(&text);
    ui.result(json::Body::Load(doc));
    Ok(())
}

/// Refuses a dirty build of `image` unless `--allow-dirty` (then warns).
pub fn check_dirty(
    h: &Hierarchy,
    image: &str,
    version: Option<&str>,
    checks: &PublishChecks,
    look_at_contexts: bool,
) -> Result<(), Error> {
    let changed = if look_at_contexts {
        changes(h, image)?
    } else {
        Vec::new()
    };
    match dirty::reason(version, &changed) {
        None => Ok(()),
        Some(why) if checks.allow_dirty => {
            warn(&format!(
                "{image} is a dirty build (published: --allow-dirty): {why}"
            ));
            Ok(())
        }
        Some(reason) => Err(ArchiveError::Dirty {
            image: image.to_string(),
            reason,
        }
        .into()),
    }
}

/// `hook` warns about a dirty build (it still tags it: the tags say which commit).
pub fn warn_if_dirty(h: &Hierarchy, images: &[String]) {
    for image in images {
        if let Ok(changed) =
            dirty::context_dirs(h, image).and_then(|dirs| dirty::changed_files(&dirs))
        {
            if let Some(why) = dirty::reason(None, &changed) {
                warn(&format!(
                    "{image} is a dirty build: {why}; `stacktag push` will refuse it"
                ));
            }
        }
    }
}

impl super::Run for SaveArgs {
    fn output(&self) -> &Output {
        &self.output
    }

    async fn run(self, cx: &super::Context<'_>) -> Result<(), Error> {
        save(cx.hierarchy(crate::hierarchy::Names::Any)?, self, cx.ui).await
    }
}

impl super::Run for LoadArgs {
    fn output(&self) -> &Output {
        &self.output
    }

    async fn run(self, cx: &super::Context<'_>) -> Result<(), Error> {
        // Archives name their images: a stack's hierarchy file is only checked.
        cx.hierarchy(crate::hierarchy::Names::Any)?;
        load(self, cx.ui).await
    }
}
