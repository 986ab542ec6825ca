//! One run over one or more images: identify each image, start its one
//! container, run every tagger and manifest concurrently (each command once),
//! remove the container, then write the files and apply the tags, all or
//! nothing per image. Images are processed concurrently.

use std::path::{Path, PathBuf};
use std::time::Instant;

use futures_util::future::join_all;

use crate::container::{Container, Limits};
use crate::error::{Error, PluginError};
use crate::guard::Critical;
use crate::hierarchy::{Hierarchy, Inherited, Resolved};
use crate::history::HistoryLine;
use crate::image;
use crate::manifests::build_info;
use crate::plugin::{self, CommandCache, Context, Runner};
use crate::progress::Progress;
use crate::run::{BuildInfo, ImageInfo};
use crate::sbom::{self, Inventory};
use crate::session::Session;
use crate::tags::{self, is_valid_tag, Platform};

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
    pub session: &'a Session,
    pub hierarchy: &'a Hierarchy,
    pub build: &'a BuildInfo,
    pub progress: &'a Progress,
    pub registry: String,
    pub owner: String,
    pub variant: String,
    /// Checked against the image's own architecture when given.
    pub platform: Option<Platform>,
    /// The reference to tag; default `{registry}/{owner}/{image}:latest`.
    pub source: Option<String>,
    pub dirs: OutputDirs,
    pub steps: Steps,
    pub limits: Limits,
    /// Networking for every image's container, whatever hierarchy.yaml says.
    pub network: bool,
    /// Also write each image's SBOM (SPDX and CycloneDX) into this directory.
    pub sbom: Option<sbom::Options>,
}

/// What one image's run produced.
#[derive(Debug)]
pub struct ImageReport {
    pub info: ImageInfo,
    /// `{prefix}-latest` first, then one per tagger.
    pub tags: Vec<String>,
    pub files: Vec<PathBuf>,
    pub commands: usize,
    pub seconds: f64,
}

impl Job<'_> {
    /// Runs every image concurrently; each image is all or nothing, and the
    /// failures of all images are reported together.
    pub async fn run_all(&self, images: &[String]) -> Result<Vec<ImageReport>, Error> {
        let results = join_all(images.iter().map(|i| self.run_image(i))).await;
        let (ok, errors): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
        let mut errors: Vec<Error> = errors.into_iter().filter_map(Result::err).collect();
        match errors.len() {
            0 => Ok(ok.into_iter().filter_map(Result::ok).collect()),
            1 => Err(errors.remove(0)),
            _ => Err(Error::Several(errors)),
        }
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
            size: found.size,
            id: found.id,
        })
    }

    pub async fn run_image(&self, image: &str) -> Result<ImageReport, Error> {
        let started = Instant::now();
        let resolved = self.hierarchy.resolve(image)?;
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
            }
            .into());
        }
        let info = self.identify(image).await?;
        let network = self.network || resolved.network;
        let key = format!("{image}-{}", info.variant);
        let container =
            Container::start(self.session, &info.source, &key, network, self.limits).await?;
        self.progress.log(
            image,
            format_args!(
                "container started from {} ({}, network {}); {} taggers, {} manifests",
                info.source,
                info.platform,
                if network { "on" } else { "off" },
                resolved.taggers.len(),
                if self.steps.manifest {
                    resolved.manifests.len()
                } else {
                    0
                },
            ),
        );
        let cache = CommandCache::default();
        let watched = self.progress.watch(image, &container);
        let computed = self.compute(&resolved, &info, &watched, &cache).await;
        container.remove().await;
        let (values, sections, inventory) = computed?;
        let commands = cache.len();
        self.progress.log(
            image,
            format_args!("{commands} commands ran, container removed"),
        );

        let prefix = info.prefix();
        let mut all_tags = vec![format!("{prefix}-latest")];
        all_tags.extend(values.iter().map(|v| format!("{prefix}-{v}")));
        if let Some(inv) = &inventory {
            for (section, why) in &inv.skipped {
                eprintln!("stacktag: warning: {image}: SBOM section `{section}` skipped: {why}");
            }
            self.progress.log(
                image,
                format_args!(
                    "SBOM: {} packages ({})",
                    inv.packages.len(),
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
            files,
            commands,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// Every tagger and manifest of the image, and the SBOM's commands,
    /// concurrently. Returns the tag values (validated), the manifest
    /// sections in hierarchy order, and the SBOM's packages.
    async fn compute(
        &self,
        resolved: &Resolved,
        info: &ImageInfo,
        runner: &dyn Runner,
        cache: &CommandCache,
    ) -> Result<(Vec<String>, Vec<String>, Option<Inventory>), Error> {
        let image = info.image.as_str();
        let taggers = join_all(resolved.taggers.iter().map(|t| async move {
            let entry = plugin::tagger(&t.name).expect("validated");
            let ctx = Context::new(info, self.build, runner, cache);
            let value = entry.tagger.tag_value(&ctx).await;
            (t, value, ctx.last_command())
        }));
        let manifests = async {
            if !self.steps.manifest {
                return Vec::new();
            }
            join_all(resolved.manifests.iter().map(|m| async move {
                let entry = plugin::manifest(&m.name).expect("validated");
                let ctx = Context::new(info, self.build, runner, cache);
                (m, entry.manifest.markdown(&ctx).await)
            }))
            .await
        };
        let inventory = async {
            self.sbom.as_ref()?;
            let ctx = Context::new(info, self.build, runner, cache);
            Some(sbom::collect(&ctx, &resolved.sbom_required).await)
        };
        let (taggers, manifests, inventory) = tokio::join!(taggers, manifests, inventory);

        let mut errors = Vec::new();
        let mut values = Vec::new();
        for (t, value, last) in taggers {
            match value {
                Ok(v) if is_valid_tag(&format!("{}-{v}", info.prefix())) => values.push(v),
                Ok(v) => errors.push(bad_tag(image, t, &format!("{}-{v}", info.prefix()), last)),
                Err(source) => errors.push(tagger_error(image, t, source)),
            }
        }
        let mut sections = Vec::new();
        for (m, piece) in manifests {
            match piece {
                Ok(p) => sections.push(p),
                Err(source) => errors.push(Error::Manifest {
                    image: image.into(),
                    manifest: m.name.clone(),
                    source: Box::new(source),
                }),
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

    /// Stages every file, applies the tags, then moves the files into place.
    /// A failure at any point leaves neither files nor tags behind.
    async fn write_and_apply(
        &self,
        info: &ImageInfo,
        all_tags: &[String],
        sections: Vec<String>,
        inventory: Option<&Inventory>,
    ) -> Result<Vec<PathBuf>, Error> {
        let full = info.full_name();
        let stem = info.stem();
        let mut staged = Staged::new(&self.session.run_id);
        if self.steps.tags_file {
            let path = self.dirs.tags.join(format!("{stem}.txt"));
            staged.add(&path, &tags::tags_file_content(&full, all_tags))?;
        }
        if self.steps.manifest {
            let page = format!("{stem}-{}", self.build.sha12());
            let doc = build_info::document(build_info::header(info, self.build), sections);
            staged.add(&self.dirs.manifests.join(format!("{page}.md")), &doc)?;
            let line = HistoryLine {
                timestamp: &self.build.timestamp_str(),
                full_image: &full,
                tags: &all_tags[1..],
                repository: &self.build.repository,
                sha: &self.build.commit.sha,
                image: &info.image,
                variant: &info.variant,
                manifest_page: &page,
            }
            .render();
            staged.add(&self.dirs.hist_lines.join(format!("{page}.txt")), &line)?;
        }
        if let (Some(opts), Some(inv)) = (&self.sbom, inventory) {
            for (name, text) in sbom::documents(inv, info, self.build) {
                staged.add(&opts.dir.join(name), &text)?;
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
            Ok(files) => Ok(files),
            Err(e) => {
                if let Some(applied) = applied {
                    applied.rollback(&self.session.docker).await;
                }
                Err(e)
            }
        }
    }
}

fn tagger_error(image: &str, t: &Inherited, source: PluginError) -> Error {
    Error::Tagger {
        image: image.into(),
        tagger: t.name.clone(),
        source: Box::new(source),
    }
}

fn bad_tag(image: &str, t: &Inherited, tag: &str, last: Option<(String, String)>) -> Error {
    let origin = last.map_or_else(String::new, |(cmd, out)| {
        format!("\n  from `{cmd}`, whose output was:\n{out}")
    });
    Error::BadTag {
        image: image.into(),
        tagger: t.name.clone(),
        tag: tag.into(),
        origin,
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
        std::fs::write(&tmp, content).map_err(|e| Error::io(&tmp, e))?;
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
