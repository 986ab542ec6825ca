//! `stacktag hook`, `tags`, `manifest` and `apply`: one container per image,
//! its taggers and manifests, the files and the tags.

use std::time::{Duration, Instant};

use chrono::{SubsecRound, Utc};
use clap::Args;

use super::args::{Dirs, Images, Naming, Output, RunArgs};
use super::exit::{COMMAND, CONFIG, DOCKER, GIT, IMAGE, INTERRUPTED, IO, OK, TERMINATED, USAGE};
use super::json::{self, Body};
use super::{Context, Run, Ui};
use crate::error::Error;
use crate::error::FileError;
use crate::formats::tags::{self, Platform};
use crate::git::Commit;
use crate::hierarchy::{Hierarchy, Names};
use crate::hook::container::Limits;
use crate::hook::guard::{guarded, Critical};
use crate::hook::pipeline::{ImageReport, Job, Steps};
use crate::hook::progress::Progress;
use crate::hook::session::Session;
use crate::plugin::run::BuildInfo;

/// The exit codes of hook, tags-file and manifest.
pub const HOOK_CODES: &[i32] = &[
    OK,
    USAGE,
    CONFIG,
    IMAGE,
    COMMAND,
    DOCKER,
    GIT,
    IO,
    INTERRUPTED,
    TERMINATED,
];

pub const HOOK_LONG_ABOUT: &str = "\
Tag images after a build: for each image, start one container from {registry}/{owner}/{image}:latest
(networking off unless `network: true`), run every command its taggers and manifests need (each once,
all at the same time, no shell, stdout and stderr apart), remove the container, then write the files
and apply the tags.

All or nothing per image: when any tagger or manifest of an image fails, that image gets no tag and
no file. Before anything starts, every image named (or every image, with --all) must exist on the
daemon: a missing one stops the run with nothing done, all missing ones named. At the end the run
says which images were tagged and which were not.

Tags: {platform}-latest, then one {platform}-{value} per tagger, root's taggers first
({platform}-{variant}- for a variant), e.g. x86_64-python-3.13.5. The platform is read from the image.

Files, under --out-dir (default build/stacktag; add build/ to your .gitignore):
  tags/{platform}-{variant}-{image}.txt                 full references, one per line
  manifests/{platform}-{variant}-{image}-{sha12}.md     the build manifest (markdown)
  hist_lines/{platform}-{variant}-{image}-{sha12}.txt   the wiki's build history row
Each is written to a temporary name and renamed into place once every tag is applied.

--format json: per image its reference, image ID, platform, variant, tags, files, every command
run (exit code, seconds) and timings; a partial run lists the images that were tagged, beside the
error.";

pub const HOOK_EXAMPLES: &str =
    "  stacktag hook base-notebook              one image (build it first)
  stacktag hook --all --jobs 2             every image, at most 2 at a time
  stacktag hook --all --out-dir out/       files under out/
  stacktag hook --all --metadata-file hook.json    the text, and the JSON document in hook.json
  STACKTAG_TIMESTAMP=2026-11-22T23:48:58Z stacktag hook base-notebook   reproducible files";

#[derive(Debug, Args)]
#[command(
    override_usage = "stacktag hook [OPTIONS] <IMAGE>...\n       stacktag hook [OPTIONS] --all"
)]
pub struct HookArgs {
    #[command(flatten)]
    pub images: Images,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub cache: super::hook_cache::CacheArgs,
    #[command(flatten)]
    pub sbom: super::sbom::SbomArgs,
    #[command(flatten)]
    pub output: Output,
}

pub const TAGS_FILE_LONG_ABOUT: &str = "\
Write the tags file of each image (upstream's write_tags_file): the same container and taggers as
`stacktag hook`, only tags/{platform}-{variant}-{image}.txt is written and nothing is applied.";

pub const TAGS_FILE_EXAMPLES: &str = "  stacktag tags-file base-notebook
  stacktag tags-file base-notebook --variant cuda12 --tags-dir /tmp/tags";

/// `tags-file`.
#[derive(Debug, Args)]
#[command(
    override_usage = "stacktag tags-file [OPTIONS] <IMAGE>...\n       stacktag tags-file [OPTIONS] --all"
)]
pub struct TagsFileArgs {
    #[command(flatten)]
    pub one: OneImage,
}

pub const MANIFEST_LONG_ABOUT: &str = "\
Write the build manifest and history line of each image (upstream's write_manifest): the same
container, taggers and manifests as `stacktag hook`; no tags file, nothing applied.";

pub const MANIFEST_EXAMPLES: &str = "  stacktag manifest base-notebook
  stacktag manifest --all --manifests-dir m/ --hist-lines-dir h/";

/// `manifest`.
#[derive(Debug, Args)]
#[command(
    override_usage = "stacktag manifest [OPTIONS] <IMAGE>...\n       stacktag manifest [OPTIONS] --all"
)]
pub struct ManifestArgs {
    #[command(flatten)]
    pub one: OneImage,
}

#[derive(Debug, Args)]
pub struct OneImage {
    #[command(flatten)]
    pub images: Images,
    /// Reference of the built image [default: {registry}/{owner}/{image}:latest; one IMAGE only]
    #[arg(long, value_name = "REF")]
    pub source: Option<String>,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub output: Output,
}

pub const APPLY_LONG_ABOUT: &str = "\
Apply the tags of an image's tags file (tags/{platform}-{variant}-{image}.txt) to the image
(upstream's apply_tags). Every tag or none: a failure removes the tags already applied.";

pub const APPLY_EXAMPLES: &str = "  stacktag apply base-notebook
  stacktag apply --all
  stacktag apply base-notebook --source my-build:42";

pub const APPLY_CODES: &[i32] = &[
    OK,
    USAGE,
    CONFIG,
    IMAGE,
    DOCKER,
    IO,
    INTERRUPTED,
    TERMINATED,
];

#[derive(Debug, Args)]
#[command(
    override_usage = "stacktag apply [OPTIONS] <IMAGE>...\n       stacktag apply [OPTIONS] --all"
)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub images: Images,
    /// Reference of the built image [default: {registry}/{owner}/{image}:latest; one IMAGE only]
    #[arg(long, value_name = "REF")]
    pub source: Option<String>,
    #[command(flatten)]
    pub naming: Naming,
    #[command(flatten)]
    pub dirs: Dirs,
    #[command(flatten)]
    pub output: Output,
}

impl Run for HookArgs {
    fn output(&self) -> &Output {
        &self.output
    }

    async fn run(self, cx: &Context<'_>) -> Result<(), Error> {
        let hierarchy = cx.hierarchy(Names::Known)?;
        let images = self.images.chosen(&hierarchy)?;
        super::archive::warn_if_dirty(&hierarchy, &images);
        let cache = self.cache.cache();
        let sbom = self.sbom.options(&hierarchy, &self.run.dirs.tags.out_dir);
        execute(
            hierarchy,
            self.run,
            None,
            Steps::HOOK,
            images,
            cache,
            sbom,
            cx.ui,
        )
        .await
    }
}

impl Run for TagsFileArgs {
    fn output(&self) -> &Output {
        &self.one.output
    }

    async fn run(self, cx: &Context<'_>) -> Result<(), Error> {
        let steps = Steps {
            tags_file: true,
            manifest: false,
            apply: false,
        };
        one_image(cx.hierarchy(Names::Known)?, self.one, steps, cx.ui).await
    }
}

impl Run for ManifestArgs {
    fn output(&self) -> &Output {
        &self.one.output
    }

    async fn run(self, cx: &Context<'_>) -> Result<(), Error> {
        let steps = Steps {
            tags_file: false,
            manifest: true,
            apply: false,
        };
        one_image(cx.hierarchy(Names::Known)?, self.one, steps, cx.ui).await
    }
}

impl Run for ApplyArgs {
    fn output(&self) -> &Output {
        &self.output
    }

    async fn run(self, cx: &Context<'_>) -> Result<(), Error> {
        apply(cx.hierarchy(Names::Any)?, self, cx.ui).await
    }
}

/// `tags-file` or `manifest`: some of the hook's steps, no cache or SBOM.
async fn one_image(
    hierarchy: Hierarchy,
    one: OneImage,
    steps: Steps,
    ui: &Ui,
) -> Result<(), Error> {
    let images = one.images.chosen(&hierarchy)?;
    one_source(&images, &one.source)?;
    execute(
        hierarchy, one.run, one.source, steps, images, None, None, ui,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn execute(
    hierarchy: Hierarchy,
    run: RunArgs,
    source: Option<String>,
    steps: Steps,
    images: Vec<String>,
    cache: Option<crate::hook::cache::DiskCache>,
    sbom: Option<crate::sbom::Options>,
    ui: &Ui,
) -> Result<(), Error> {
    if run.repository.is_none() && hierarchy.defaulted.contains(&"repository") {
        ui.warn(format_args!(
            "{} sets no `repository`: the links in manifests and history lines point at \
             github.com/{}; set `repository: OWNER/REPO` there (or pass --repository)",
            hierarchy.path.display(),
            hierarchy.repository
        ));
    }
    let platform = Platform::parse_option(run.naming.platform.as_deref())?;
    let (registry, owner) = run.naming.name.registry_owner(&hierarchy);
    let build = BuildInfo {
        timestamp: run.timestamp.unwrap_or_else(Utc::now).trunc_subsecs(0),
        commit: Commit::head(&run.repo_dir)?,
        repository: run
            .repository
            .clone()
            .unwrap_or_else(|| hierarchy.repository.clone()),
    };
    let session = Session::connect().await?;
    let limits = Limits {
        timeout: run
            .command_timeout
            .map_or(hierarchy.command_timeout, Duration::from_secs),
        max_output: run.max_output,
    };
    let work_session = session.clone();
    let build_info = build.clone();
    let quiet = ui.quiet;
    let result = guarded(&session, async move {
        let progress = Progress::new(quiet);
        let job = Job::new(
            &work_session,
            &hierarchy,
            &build,
            &progress,
            run.dirs.resolve(),
        )
        .naming(registry, owner, run.naming.name.variant.clone())
        .platform(platform)
        .source(source)
        .steps(steps)
        .limits(limits)
        .network(run.network)
        .cache(cache)
        .sbom(sbom)
        .jobs(
            run.jobs
                .map_or_else(crate::hook::pipeline::default_jobs, usize::from),
        );
        job.run_all(&images).await
    })
    .await;
    let outcome = result?;
    print_reports(&outcome.reports, ui);
    ui.result(Body::Hook(json::Hook::new(&build_info, &outcome.reports)));
    outcome.into_result().map(drop)
}

/// What each image got, on stdout.
fn print_reports(reports: &[ImageReport], ui: &Ui) {
    for r in reports {
        let mut text = format!(
            "{} ({:.2}s, {}):\n",
            r.info.image,
            r.seconds,
            crate::hook::progress::counted(r.commands, "command")
        );
        for t in &r.tags {
            text += &format!("  {}:{t}\n", r.info.full_name());
        }
        for f in &r.files {
            text += &format!("  wrote {}\n", f.path.display());
        }
        ui.out(&text);
    }
}

/// `--source` names the image of one IMAGE.
fn one_source(images: &[String], source: &Option<String>) -> Result<(), Error> {
    match (source, images) {
        (Some(_), [_, _, ..]) => Err(Error::Usage(
            "--source is the reference of one image: name one IMAGE with it".into(),
        )),
        _ => Ok(()),
    }
}

async fn apply(hierarchy: Hierarchy, args: ApplyArgs, ui: &Ui) -> Result<(), Error> {
    let images = args.images.chosen(&hierarchy)?;
    one_source(&images, &args.source)?;
    let session = Session::connect().await?;
    let mut doc = json::Apply { images: Vec::new() };
    for image in &images {
        match apply_one(&hierarchy, &session, &args, image, ui).await {
            Ok(applied) => doc.images.push(applied),
            Err(e) => {
                // The images before it are tagged: the document says so.
                ui.result(Body::Apply(doc));
                return Err(e);
            }
        }
    }
    ui.result(Body::Apply(doc));
    Ok(())
}

async fn apply_one(
    hierarchy: &Hierarchy,
    session: &Session,
    args: &ApplyArgs,
    image: &str,
    ui: &Ui,
) -> Result<json::ApplyImage, Error> {
    let start = Instant::now();
    let (registry, owner) = args.naming.name.registry_owner(hierarchy);
    let full = tags::image_name(&registry, &owner, image);
    let source = args
        .source
        .clone()
        .unwrap_or_else(|| format!("{full}:latest"));
    let given = Platform::parse_option(args.naming.platform.as_deref())?;
    let found = crate::hook::image::find(&session.docker, &source, image, given).await?;
    let path = args.dirs.resolve().tags.join(format!(
        "{}.txt",
        tags::file_stem(found.platform, &args.naming.name.variant, image)
    ));
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let mut wanted = Vec::new();
    for (name, tag) in tags::parse_tags_file(&text) {
        if name != full || !tags::is_valid_tag(&tag) {
            return Err(FileError::Bad {
                path,
                message: format!("`{name}:{tag}` is not a tag of {full}"),
            }
            .into());
        }
        wanted.push(tag);
    }
    let docker = session.docker.clone();
    let (owned, tags) = (image.to_string(), wanted.clone());
    let doc = json::Image {
        image: image.to_string(),
        name: full.clone(),
        reference: source.clone(),
        image_id: found.id.clone(),
        platform: found.platform.to_string(),
        variant: args.naming.name.variant.clone(),
    };
    guarded(session, async move {
        let _section = Critical::enter()?;
        crate::hook::image::apply_tags(&docker, &owned, &source, &full, &tags)
            .await
            .map(drop)
    })
    .await?;
    ui.out(&format!(
        "{image}: {} tags applied from {}\n",
        wanted.len(),
        path.display()
    ));
    Ok(json::ApplyImage::new(
        doc,
        wanted,
        &path,
        start.elapsed().as_secs_f64(),
    ))
}
