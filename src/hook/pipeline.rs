//! One run over one or more images: identify each image, start its one
//! container, run every tagger and manifest concurrently (each command once),
//! remove the container, then write the files and apply the tags, all or
//! nothing per image. Images are processed concurrently.

use std::path::{Path, PathBuf};
use std::time::Instant;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;
use futures_util::future::join_all;
use futures_util::{stream, StreamExt};

use crate::error::Error;
use crate::error::HookError;
use crate::formats::history::HistoryLine;
use crate::formats::schema::Seconds;
use crate::formats::tags::{self, is_valid_tag, Platform};
use crate::hierarchy::{Hierarchy, Inherited, Resolved};
use crate::hook::cache::DiskCache;
use crate::hook::container::{Container, Limits};
use crate::hook::guard::Critical;
use crate::hook::image;
use crate::hook::progress::{counted, Progress};
use crate::hook::session::Session;
use crate::manifests::build_info;
use crate::plugin::command::{Cmd, ExecError, Output, Ran};
use crate::plugin::run::{BuildInfo, ImageInfo};
use crate::plugin::PluginError;
use crate::plugin::{CommandCache, Context, Runner};
use crate::sbom::{self, Inventory};

/// Where the files go (formats.md names the files inside).
#[derive(Debug, Clone)]
pub struct OutputDirs {
    pub tags: PathBuf,
    pub manifests: PathBuf,
    pub hist_lines: PathBuf,
}

/// Which parts of the work a command asks for.
#[derive(Debug, Clone, Copy)]
pub struct Steps {
    pub tags_file: bool,
    pub manifest: bool,
    pub apply: bool,
}

impl Steps {
    pub const HOOK: Steps = Steps {
        tags_file: true,
        manifest: true,
        apply: true,
    };
}

pub struct Job<'a> {
    session: &'a Session,
    hierarchy: &'a Hierarchy,
    build: &'a BuildInfo,
    progress: &'a Progress,
    registry: String,
    owner: String,
    variant: String,
    /// Checked against the image's own architecture when given.
    platform: Option<Platform>,
    /// The reference to tag; default `{registry}/{owner}/{image}:latest`.
    source: Option<String>,
    dirs: OutputDirs,
    steps: Steps,
    limits: Limits,
    /// Networking for every image's container, whatever hierarchy.yaml says.
    network: bool,
    /// Images processed at once.
    jobs: usize,
    /// Command outputs kept by image ID; `None`: every command runs.
    cache: Option<DiskCache>,
    /// Also write each image's SBOM (SPDX and CycloneDX) into this directory.
    sbom: Option<sbom::Options>,
}

/// What a run over several images produced: the reports of those tagged,
/// and each image that failed with its error.
#[derive(Debug)]
pub struct Outcome {
    pub reports: Vec<ImageReport>,
    pub failures: Vec<(String, Error)>,
    /// How many images were asked for.
    pub asked: usize,
}

impl Outcome {
    /// The reports, or the error that tells the whole story: the one image
    /// asked for, an interruption, or every failure with what was tagged.
    pub fn into_result(mut self) -> Result<Vec<ImageReport>, Error> {
        let interrupted = |e: &Error| matches!(e, Error::Hook(HookError::Interrupted(_)));
        match self.failures.len() {
            0 => Ok(self.reports),
            1 if self.asked == 1 => Err(self.failures.remove(0).1),
            _ if self.failures.iter().any(|(_, e)| interrupted(e)) => Err(self
                .failures
                .into_iter()
                .map(|(_, e)| e)
                .find(interrupted)
                .expect("found")),
            _ => {
                let (failed, errors) = self.failures.into_iter().unzip();
                Err(Error::Partial {
                    tagged: self.reports.iter().map(|r| r.info.image.clone()).collect(),
                    failed,
                    errors,
                })
            }
        }
    }
}

/// What one image's run produced.
#[derive(Debug)]
pub struct ImageReport {
    pub info: ImageInfo,
    /// `{prefix}-latest` first, then one per tagger.
    pub tags: Vec<String>,
    /// Whether the tags were applied to the image (the hook and `apply`
    /// steps), or only computed (`tags`, `manifest`).
    pub applied: bool,
    /// In this order: tags file, manifest, history line (those the steps asked for).
    pub files: Vec<OutputFile>,
    pub commands: usize,
    /// Each distinct command, sorted as it reads.
    pub ran: Vec<Ran>,
    pub seconds: f64,
    pub timings: Timings,
}

/// A file a run wrote, and which of the hook's files it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct OutputFile {
    pub kind: FileKind,
    pub path: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    TagsFile,
    Manifest,
    HistoryLine,
    /// An SBOM document (`.spdx.json`, `.cdx.json`).
    Sbom,
}

impl FileKind {
    /// `tags_file`, `manifest`, `history_line`, `sbom`.
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::TagsFile => "tags_file",
            FileKind::Manifest => "manifest",
            FileKind::HistoryLine => "history_line",
            FileKind::Sbom => "sbom",
        }
    }
}

/// Where one image's time went, in seconds (the parts add up to about the
/// report's `seconds`).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct Timings {
    /// Creating and starting the container.
    #[schemars(with = "Seconds")]
    pub container_start: f64,
    /// Every tagger and manifest, their commands running concurrently.
    #[schemars(with = "Seconds")]
    pub commands: f64,
    /// Removing the container.
    #[schemars(with = "Seconds")]
    pub container_remove: f64,
    /// Writing the files and applying the tags.
    #[schemars(with = "Seconds")]
    pub files_and_tags: f64,
}

/// The images processed at once by default: the commands are mostly
/// CPU-bound interpreters starting up, so a few per core.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get() * 2)
}

impl<'a> Job<'a> {
    /// A hook run with the hierarchy's defaults: its registry and owner, the
    /// default variant, every step, its command timeout, the files under
    /// `dirs`; change any of them with the setters below.
    pub fn new(
        session: &'a Session,
        hierarchy: &'a Hierarchy,
        build: &'a BuildInfo,
        progress: &'a Progress,
        dirs: OutputDirs,
    ) -> Self {
        Job {
            session,
            hierarchy,
            build,
            progress,
            registry: hierarchy.registry.clone(),
            owner: hierarchy.owner.clone(),
            variant: tags::DEFAULT_VARIANT.to_string(),
            platform: None,
            source: None,
            dirs,
            steps: Steps::HOOK,
            limits: Limits {
                timeout: hierarchy.command_timeout,
                max_output: crate::hook::container::DEFAULT_MAX_OUTPUT,
            },
            network: false,
            jobs: default_jobs(),
            cache: None,
            sbom: None,
        }
    }

    pub fn naming(mut self, registry: String, owner: String, variant: String) -> Self {
        (self.registry, self.owner, self.variant) = (registry, owner, variant);
        self
    }

    pub fn platform(mut self, platform: Option<Platform>) -> Self {
        self.platform = platform;
        self
    }

    pub fn source(mut self, source: Option<String>) -> Self {
        self.source = source;
        self
    }

    pub fn steps(mut self, steps: Steps) -> Self {
        self.steps = steps;
        self
    }

    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    pub fn network(mut self, network: bool) -> Self {
        self.network = network;
        self
    }

    /// Keep command outputs by (image ID, command) in `cache`, so a re-run on
    /// an unchanged image starts no container.
    pub fn cache(mut self, cache: Option<DiskCache>) -> Self {
        self.cache = cache;
        self
    }

    /// Also write each image's SBOMs, from the same container.
    pub fn sbom(mut self, sbom: Option<sbom::Options>) -> Self {
        self.sbom = sbom;
        self
    }

    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs.max(1);
        self
    }

    /// Checks that every image exists (and matches --platform) before any
    /// container starts, then runs them, `jobs` at a time. Each image is all
    /// or nothing; the images that failed are reported with those that were
    /// tagged.
    pub async fn run_all(&self, images: &[String]) -> Result<Outcome, Error> {
        let found = join_all(images.iter().map(|i| self.identify(i))).await;
        let (infos, missing): (Vec<_>, Vec<_>) = found.into_iter().partition(Result::is_ok);
        let mut missing: Vec<Error> = missing.into_iter().filter_map(Result::err).collect();
        match missing.len() {
            0 => {}
            1 => return Err(missing.remove(0)),
            _ => return Err(Error::Several(missing)),
        }
        let infos = infos.into_iter().filter_map(Result::ok);
        let results: Vec<_> = stream::iter(infos.map(|info| self.run_image(info)))
            .buffered(self.jobs)
            .collect()
            .await;
        // A daemon that went away fails every image, each its own way: say it once.
        if results.iter().any(Result::is_err) && self.session.daemon_gone().await {
            return Err(HookError::DaemonGone {
                host: self.session.host.clone(),
            }
            .into());
        }
        let mut reports = Vec::new();
        let mut failures = Vec::new();
        for (image, r) in images.iter().zip(results) {
            match r {
                Ok(report) => reports.push(report),
                Err(e) => failures.push((image.clone(), e)),
            }
        }
        Ok(Outcome {
            reports,
            failures,
            asked: images.len(),
        })
    }

    /// Finds the image on the daemon and what it is.
    pub async fn identify(&self, image: &str) -> Result<ImageInfo, Error> {
        let full = tags::image_name(&self.registry, &self.owner, image);
        let source = self
            .source
            .clone()
            .unwrap_or_else(|| format!("{full}:latest"));
        let found = image::find(&self.session.docker, &source, image, self.platform).await?;
        Ok(ImageInfo {
            image: image.to_string(),
            registry: self.registry.clone(),
            owner: self.owner.clone(),
            variant: self.variant.clone(),
            platform: found.platform,
            source,
            id: found.id,
            size: found.size,
        })
    }

    /// One image, found by [`Job::identify`].
    pub async fn run_image(&self, info: ImageInfo) -> Result<ImageReport, Error> {
        let started = Instant::now();
        let image = info.image.as_str();
        let resolved = self.hierarchy.resolve(image)?;
        // A plugin binary's tagger: this image fails, before any container.
        if let Some(e) = self.hierarchy.needs_missing(image) {
            return Err(e.into());
        }
        if self.variant != tags::DEFAULT_VARIANT && !resolved.variants.contains(&self.variant) {
            return Err(crate::error::ConfigError {
                path: self.hierarchy.path.clone(),
                line: self.hierarchy.image(image).map_or(0, |i| i.line),
                message: format!(
                    "image `{image}` has no variant `{}`; its variants: default{}",
                    self.variant,
                    resolved
                        .variants
                        .iter()
                        .map(|v| format!(", {v}"))
                        .collect::<String>()
                ),
                more: Vec::new(),
            }
            .into());
        }
        let network = self.network || resolved.network;
        let mut timings = Timings::default();
        let lazy = Lazy {
            job: self,
            info: &info,
            network,
            plugins: (
                resolved.taggers.len(),
                if self.steps.manifest {
                    resolved.manifests.len()
                } else {
                    0
                },
            ),
            container: tokio::sync::OnceCell::new(),
            start_error: Mutex::new(None),
            start_seconds: Mutex::new(0.0),
            from_cache: AtomicUsize::new(0),
        };
        let cache = CommandCache::default();
        let lap = Instant::now();
        let computed = self.compute(&resolved, &info, &lazy, &cache).await;
        timings.container_start = *lazy.start_seconds.lock().expect("poisoned");
        timings.commands = lap.elapsed().as_secs_f64() - timings.container_start;
        let commands = cache.len();
        let cached = lazy.from_cache.load(Ordering::SeqCst);
        let container_started = lazy.container.get().is_some_and(Option::is_some);
        let start_error = lazy.start_error.lock().expect("poisoned").take();
        let lap = Instant::now();
        if let Some(Some(container)) = lazy.container.into_inner() {
            container.remove().await;
        }
        timings.container_remove = lap.elapsed().as_secs_f64();
        if let Some(e) = start_error {
            return Err(e);
        }
        let (values, sections, inventory) = computed?;
        if container_started {
            self.progress.log(
                image,
                format_args!(
                    "{} ran ({cached} from the cache), container removed",
                    counted(commands, "command")
                ),
            );
        } else {
            self.progress.log(
                image,
                format_args!(
                    "{}, all from the cache: no container started",
                    counted(commands, "command")
                ),
            );
        }

        let prefix = info.prefix();
        let mut all_tags = vec![format!("{prefix}-latest")];
        all_tags.extend(values.iter().map(|v| format!("{prefix}-{v}")));
        let lap = Instant::now();
        if let Some(inv) = &inventory {
            for (section, why) in &inv.skipped {
                crate::console::warn(format_args!(
                    "{image}: SBOM section `{section}` skipped: {why}"
                ));
            }
            self.progress.log(
                image,
                format_args!(
                    "SBOM: {} ({})",
                    counted(inv.packages.len(), "package"),
                    inv.found
                        .iter()
                        .map(|s| s.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        let files = self
            .write_and_apply(&info, &all_tags, sections, inventory.as_ref())
            .await?;
        timings.files_and_tags = lap.elapsed().as_secs_f64();
        self.progress.log(
            image,
            format_args!(
                "{} tags{}",
                all_tags.len(),
                if self.steps.apply { " applied" } else { "" }
            ),
        );
        Ok(ImageReport {
            info,
            tags: all_tags,
            applied: self.steps.apply,
            files,
            commands,
            ran: cache.ran(),
            seconds: started.elapsed().as_secs_f64(),
            timings,
        })
    }

    /// Every tagger and manifest of the image, concurrently. Returns the tag
    /// values (validated) and the manifest sections, in hierarchy order.
    async fn compute(
        &self,
        resolved: &Resolved,
        info: &ImageInfo,
        runner: &dyn Runner,
        cache: &CommandCache,
    ) -> Result<(Vec<String>, Vec<String>, Option<Inventory>), Error> {
        let image = info.image.as_str();
        let taggers = join_all(resolved.taggers.iter().map(|t| async move {
            let tagger = self.hierarchy.tagger(&t.name).expect("validated");
            let ctx = Context::new(info, self.build, runner, cache);
            let value = tagger.tag_value(&ctx).await;
            (t, value, ctx.last_command())
        }));
        let manifests = async {
            if !self.steps.manifest {
                return Vec::new();
            }
            join_all(resolved.manifests.iter().map(|m| async move {
                let manifest = self.hierarchy.manifest(&m.name).expect("validated");
                let ctx = Context::new(info, self.build, runner, cache);
                (m, manifest.markdown(&ctx).await)
            }))
            .await
        };
        let inventory = async {
            self.sbom.as_ref()?;
            let ctx = Context::new(info, self.build, runner, cache);
            Some(sbom::collect(&ctx, &resolved.sbom_required).await)
        };
        let (taggers, manifests, inventory) = tokio::join!(taggers, manifests, inventory);

        // When the container stopped, that is the one error, whichever
        // commands it made fail and however they failed.
        let stopped = taggers
            .iter()
            .filter_map(|(_, value, _)| value.as_ref().err())
            .chain(
                manifests
                    .iter()
                    .filter_map(|(_, piece)| piece.as_ref().err()),
            )
            .find_map(|e| match e {
                PluginError::Exec(ExecError::ContainerStopped { state, .. }) => Some(state),
                _ => None,
            });
        if let Some(state) = stopped {
            return Err(HookError::ContainerStopped {
                image: info.source.clone(),
                when: "while its commands ran",
                state: state.clone(),
            }
            .into());
        }

        let mut errors = Vec::new();
        let mut values = Vec::new();
        for (t, value, last) in taggers {
            match value {
                Ok(v) if is_valid_tag(&format!("{}-{v}", info.prefix())) => values.push(v),
                Ok(v) => errors.push(bad_tag(image, t, &format!("{}-{v}", info.prefix()), last)),
                Err(source) => errors.push(
                    HookError::Tagger {
                        image: image.into(),
                        tagger: t.name.clone(),
                        origin: self.origin(image, t),
                        source: Box::new(source),
                    }
                    .into(),
                ),
            }
        }
        let mut sections = Vec::new();
        for (m, piece) in manifests {
            match piece {
                Ok(p) => sections.push(p),
                Err(source) => errors.push(
                    HookError::Manifest {
                        image: image.into(),
                        manifest: m.name.clone(),
                        origin: self.origin(image, m),
                        source: Box::new(source),
                    }
                    .into(),
                ),
            }
        }
        let inventory = match inventory {
            Some(Ok(inv)) => Some(inv),
            Some(Err(e)) => {
                errors.push(e.into());
                None
            }
            None => None,
        };
        match errors.len() {
            0 => Ok((values, sections, inventory)),
            1 => Err(errors.remove(0)),
            _ => Err(Error::Several(errors)),
        }
    }

    /// ` (from image `base`, hierarchy.yaml:12)` for a tagger or manifest an
    /// image inherits; ` (hierarchy.yaml:12)` for one of its own list.
    fn origin(&self, image: &str, item: &Inherited) -> String {
        let line = self.hierarchy.image(&item.from).map_or(0, |i| {
            i.item_lines
                .iter()
                .find(|(n, _)| *n == item.name)
                .map_or(i.line, |(_, l)| *l)
        });
        let at = format!("{}:{line}", self.hierarchy.path.display());
        if item.from == image {
            format!(" ({at})")
        } else {
            format!(" (inherited from image `{}`, {at})", item.from)
        }
    }

    /// Stages every file, applies the tags, then moves the files into place.
    /// A failure at any point leaves neither files nor tags behind.
    async fn write_and_apply(
        &self,
        info: &ImageInfo,
        all_tags: &[String],
        sections: Vec<String>,
        inventory: Option<&Inventory>,
    ) -> Result<Vec<OutputFile>, Error> {
        let full = info.full_name();
        let stem = info.stem();
        let mut staged = Staged::new(&self.session.run_id);
        let mut kinds = Vec::new();
        if self.steps.tags_file {
            let path = self.dirs.tags.join(format!("{stem}.txt"));
            staged.add(&path, &tags::tags_file_content(&full, all_tags))?;
            kinds.push(FileKind::TagsFile);
        }
        if self.steps.manifest {
            let page = format!("{stem}-{}", self.build.sha12());
            let doc = build_info::document(build_info::header(info, self.build), sections);
            staged.add(&self.dirs.manifests.join(format!("{page}.md")), &doc)?;
            kinds.push(FileKind::Manifest);
            let dockerfile = self
                .hierarchy
                .image(&info.image)
                .expect("resolved")
                .dockerfile_path(&info.variant);
            let line = HistoryLine {
                timestamp: &self.build.timestamp_str(),
                full_image: &full,
                tags: &all_tags[1..],
                repository: &self.build.repository,
                sha: &self.build.commit.sha,
                dockerfile: &dockerfile,
                manifest_page: &page,
            }
            .render();
            staged.add(&self.dirs.hist_lines.join(format!("{page}.txt")), &line)?;
            kinds.push(FileKind::HistoryLine);
        }
        if let (Some(opts), Some(inv)) = (&self.sbom, inventory) {
            for (name, text) in sbom::documents(inv, info, self.build) {
                staged.add(&opts.dir.join(name), &text)?;
                kinds.push(FileKind::Sbom);
            }
        }
        // From here to the end the daemon and the files change: a signal
        // waits for this section instead of cutting it in half.
        let _section = Critical::enter()?;
        let applied = if self.steps.apply {
            Some(
                image::apply_tags(
                    &self.session.docker,
                    &info.image,
                    &info.source,
                    &full,
                    all_tags,
                )
                .await?,
            )
        } else {
            None
        };
        match staged.commit() {
            Ok(files) => Ok(kinds
                .into_iter()
                .zip(files)
                .map(|(kind, path)| OutputFile { kind, path })
                .collect()),
            Err(e) => {
                if let Some(applied) = applied {
                    applied.rollback(&self.session.docker).await;
                }
                Err(e)
            }
        }
    }
}

fn bad_tag(image: &str, t: &Inherited, tag: &str, last: Option<(String, String)>) -> Error {
    let origin = last.map_or_else(String::new, |(cmd, out)| {
        format!("\n  from `{cmd}`, whose output was:\n{out}")
    });
    HookError::BadTag {
        image: image.into(),
        tagger: t.name.clone(),
        tag: tag.into(),
        origin,
    }
    .into()
}

/// The image's container, started on the first command the cache does not
/// have: a re-run on an unchanged image starts none.
struct Lazy<'a> {
    job: &'a Job<'a>,
    info: &'a ImageInfo,
    network: bool,
    /// Taggers and manifests, for the log line.
    plugins: (usize, usize),
    container: tokio::sync::OnceCell<Option<Container>>,
    /// Why the container could not start: the image's error, before any plugin's.
    start_error: Mutex<Option<Error>>,
    start_seconds: Mutex<f64>,
    from_cache: AtomicUsize,
}

impl Lazy<'_> {
    async fn container(&self) -> Option<&Container> {
        let job = self.job;
        let info = self.info;
        self.container
            .get_or_init(|| async {
                let key = format!("{}-{}", info.image, info.variant);
                let started = Instant::now();
                let result = Container::start(
                    job.session,
                    &info.source,
                    info.platform,
                    &key,
                    self.network,
                    job.limits,
                )
                .await;
                *self.start_seconds.lock().expect("poisoned") = started.elapsed().as_secs_f64();
                match result {
                    Ok(c) => {
                        job.progress.log(
                            &info.image,
                            format_args!(
                                "container started from {} ({}, network {}); {}, {}",
                                info.source,
                                info.platform,
                                if self.network { "on" } else { "off" },
                                counted(self.plugins.0, "tagger"),
                                counted(self.plugins.1, "manifest"),
                            ),
                        );
                        Some(c)
                    }
                    Err(e) => {
                        *self.start_error.lock().expect("poisoned") = Some(e);
                        None
                    }
                }
            })
            .await
            .as_ref()
    }
}

#[async_trait]
impl Runner for Lazy<'_> {
    async fn exec(&self, cmd: &Cmd) -> Result<Output, ExecError> {
        let cache = self.job.cache.as_ref();
        let id = self.info.id.as_str();
        if let Some(out) = cache.and_then(|c| c.get(id, self.network, cmd)) {
            self.from_cache.fetch_add(1, Ordering::SeqCst);
            return Ok(out);
        }
        let Some(container) = self.container().await else {
            return Err(ExecError::Docker {
                command: cmd.to_string(),
                message: "the container could not be started".into(),
            });
        };
        let out = self
            .job
            .progress
            .watch(&self.info.image, container)
            .exec(cmd)
            .await?;
        // Only a success is kept: a failure may be the run's, not the image's.
        if out.exit_code == 0 {
            if let Some(c) = cache {
                if let Err(e) = c.put(id, self.network, cmd, &out) {
                    self.job
                        .progress
                        .log(&self.info.image, format!("warning: {e}"));
                }
            }
        }
        Ok(out)
    }
}

/// Files written beside their final path and renamed into place together.
/// Dropped without [`Staged::commit`], it deletes what it wrote.
pub struct Staged {
    suffix: String,
    files: Vec<(PathBuf, PathBuf)>,
}

impl Staged {
    pub fn new(run_id: &str) -> Self {
        Staged {
            suffix: format!(".stacktag-{run_id}.tmp"),
            files: Vec::new(),
        }
    }

    pub fn add(&mut self, path: &Path, content: &str) -> Result<(), Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(&self.suffix);
        let tmp = PathBuf::from(tmp);
        if let Err(e) = std::fs::write(&tmp, content) {
            // A full disk leaves part of it: nothing half written stays.
            let _ = std::fs::remove_file(&tmp);
            return Err(Error::io(path, e));
        }
        self.files.push((tmp, path.to_path_buf()));
        Ok(())
    }

    pub fn commit(mut self) -> Result<Vec<PathBuf>, Error> {
        let files = std::mem::take(&mut self.files);
        let mut done = Vec::new();
        for (tmp, path) in files {
            std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
            done.push(path);
        }
        Ok(done)
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        for (tmp, _) in &self.files {
            let _ = std::fs::remove_file(tmp);
        }
    }
}
