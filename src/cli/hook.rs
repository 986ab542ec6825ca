//! `stacktag hook`, `tags`, `manifest` and `apply`: one container per image,
//! its taggers and manifests, the files and the tags.

use std::time::{Duration, Instant};

use chrono::{SubsecRound, Utc};
use clap::Args;

use super::args::{Dirs, Naming, Output, RunArgs};
use super::json::{self, Body};
use super::Ui;
use crate::error::Error;
use crate::error::FileError;
use crate::formats::tags::{self, Platform};
use crate::git::Commit;
use crate::hierarchy::Hierarchy;
use crate::hook::container::Limits;
use crate::hook::guard::{guarded, Critical};
use crate::hook::pipeline::{ImageReport, Job, Steps};
use crate::hook::progress::Progress;
use crate::hook::session::Session;
use crate::plugin::run::BuildInfo;

#[derive(Debug, Args)]
#[command(
    override_usage = "stacktag hook [OPTIONS] <IMAGE>...\n       stacktag hook [OPTIONS] --all"
)]
pub struct HookArgs {
    /// Images to process (names from the hierarchy file)
    #[arg(required_unless_present = "all", value_name = "IMAGE")]
    pub images: Vec<String>,
    /// Process every image of the hierarchy
    #[arg(long, conflicts_with = "images")]
    pub all: bool,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub cache: super::hook_cache::CacheArgs,
    #[command(flatten)]
    pub sbom: super::sbom::SbomArgs,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct OneImage {
    /// Image name, as in the hierarchy file
    #[arg(long)]
    pub image: String,
    /// Reference of the built image [default: {registry}/{owner}/{image}:latest]
    #[arg(long, value_name = "REF")]
    pub source: Option<String>,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Image name, as in the hierarchy file
    #[arg(long)]
    pub image: String,
    /// Reference of the built image [default: {registry}/{owner}/{image}:latest]
    #[arg(long, value_name = "REF")]
    pub source: Option<String>,
    #[command(flatten)]
    pub naming: Naming,
    #[command(flatten)]
    pub dirs: Dirs,
    #[command(flatten)]
    pub output: Output,
}

/// `tags` or `manifest`: one image, some of the hook's steps, no cache or SBOM.
pub async fn one_image(
    hierarchy: Hierarchy,
    one: OneImage,
    steps: Steps,
    ui: &Ui,
) -> Result<(), Error> {
    let images = vec![one.image];
    execute(
        hierarchy, one.run, one.source, steps, images, None, None, ui,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
pub async fn execute(
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

pub async fn apply(hierarchy: Hierarchy, args: ApplyArgs, ui: &Ui) -> Result<(), Error> {
    let start = Instant::now();
    hierarchy.resolve(&args.image)?;
    let (registry, owner) = args.naming.name.registry_owner(&hierarchy);
    let full = tags::image_name(&registry, &owner, &args.image);
    let source = args.source.unwrap_or_else(|| format!("{full}:latest"));
    let given = Platform::parse_option(args.naming.platform.as_deref())?;
    let session = Session::connect().await?;
    let found = crate::hook::image::find(&session.docker, &source, &args.image, given).await?;
    let path = args.dirs.resolve().tags.join(format!(
        "{}.txt",
        tags::file_stem(found.platform, &args.naming.name.variant, &args.image)
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
    let (image, tags) = (args.image.clone(), wanted.clone());
    let doc = json::Image {
        image: args.image.clone(),
        name: full.clone(),
        reference: source.clone(),
        image_id: found.id.clone(),
        platform: found.platform.to_string(),
        variant: args.naming.name.variant.clone(),
    };
    guarded(&session, async move {
        let _section = Critical::enter()?;
        crate::hook::image::apply_tags(&docker, &image, &source, &full, &tags)
            .await
            .map(drop)
    })
    .await?;
    let applied = json::ApplyImage::new(doc, wanted.clone(), &path, start.elapsed().as_secs_f64());
    ui.result(Body::Apply(json::Apply {
        images: vec![applied],
    }));
    ui.out(&format!(
        "{}: {} tags applied from {}\n",
        args.image,
        wanted.len(),
        path.display()
    ));
    Ok(())
}
