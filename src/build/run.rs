//! The execution of a build over a tree of images: each image waits for its
//! parent, images that do not depend on each other go at the same time (at
//! most `jobs` builds), and each one is reused, pulled or built, in that
//! order. The same walk without building is the plan.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bollard::models::BuildInfoAux;
use bollard::query_parameters::{
    BuildImageOptionsBuilder, BuilderVersion, RemoveImageOptionsBuilder,
};
use futures_util::future::{BoxFuture, FutureExt, Shared};
use futures_util::StreamExt;
use serde::Serialize;
use tokio::sync::Semaphore;

use super::buildkit::{self, Decoder, End, Event};
use super::context::Context;
use super::error::BuildError;
use super::inputs::{period_start, Extra, Inputs};
use super::log::BuildLog;
use super::record::{instructions_hash, Record};
use super::registry_cache::RegistryCache;
use super::settings::{self, BuilderKind, StepLines};
use super::verify;
use super::{Options, Target};
use crate::error::Error;
use crate::formats::tags::{file_stem, tag_prefix, Platform};
use crate::hook::guard::Critical;
use crate::hook::progress::Progress;
use crate::hook::session::Session;

/// What happens to an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// A local image has these inputs: `latest` points at it, no build.
    Reuse,
    /// The registry has `inputs-…`: pulled, no build.
    Pull,
    Build,
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Action::Reuse => "reuse",
            Action::Pull => "pull",
            Action::Build => "build",
        })
    }
}

/// One image of a run (or of a plan).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[schemars(rename = "BuildImage")]
pub struct Report {
    pub image: String,
    pub level: usize,
    pub parent: Option<String>,
    pub action: Action,
    /// Why: which inputs changed, or why nothing had to be built.
    pub why: Vec<String>,
    /// `sha256:…`; unknown in a plan while the parent is still to be built.
    pub inputs: Option<String>,
    /// `{registry}/{owner}/{image}:latest`.
    pub reference: String,
    /// The image ID `latest` points at after the run (not in a plan of a build).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip)]
    pub verified: bool,
    #[serde(skip)]
    pub seconds: f64,
    #[serde(skip)]
    pub log: Option<PathBuf>,
}

/// Why a build ended without an image.
enum Failure {
    /// The log could not be written.
    Io(BuildError),
    /// The daemon's error, and BuildKit's failing step if it named one.
    Daemon {
        message: String,
        step: Option<buildkit::Failed>,
    },
}

/// A BuildKit session's id: the run's and the image's, and random. A run
/// id is shared by the runs of one CI job (`STACKTAG_RUN_ID`), and a daemon
/// that closes an earlier build's session of the same id forgets the new
/// one with it: the registry's credentials it serves were then missing from
/// the next build's cache import ("no active session").
fn session_id(run_id: &str, image: &str) -> String {
    format!(
        "stacktag-{run_id}-{image}-{}",
        bollard::grpc::BuildRef::random().as_ref()
    )
}

/// An image's result as its children see it, or a failure.
type Outcome = Result<Done, ()>;

/// What a child needs of its parent's run.
#[derive(Debug, Clone)]
struct Done {
    /// The image ID; `None` in a plan when it is still to be built.
    id: Option<String>,
    /// Rebuilt to the image `latest` already was (early cutoff): the
    /// children's inputs are unchanged.
    same: bool,
}

/// Why an image rebuilt to its old image ID is not a change below it.
pub const SAME_IMAGE: &str = "rebuilt, same image: children reused";

pub struct Builder<'a> {
    pub session: &'a Session,
    pub options: &'a Options,
    pub progress: &'a Progress,
    /// `linux/amd64`: the daemon's or --platform's, hashed into every digest.
    pub platform: String,
    /// The builder the builds go through (BuildKit unless asked otherwise
    /// or the daemon has none).
    pub builder: BuilderKind,
    /// Why the builder is not the one asked for: one line for the user.
    pub note: Option<String>,
    /// Why this builder (`check` and `--plan` say it).
    pub why: String,
    pub plan_only: bool,
    /// Temporary tags of builds not yet verified: removed if the run stops.
    pub temp_tags: Arc<Mutex<HashSet<String>>>,
    slots: Semaphore,
    /// With --cache-from-registry or --push-cache.
    registry: Option<RegistryCache>,
}

impl<'a> Builder<'a> {
    /// A builder for the daemon's platform.
    pub async fn new(
        session: &'a Session,
        options: &'a Options,
        progress: &'a Progress,
        plan_only: bool,
    ) -> Result<Builder<'a>, Error> {
        let v = session
            .docker
            .version()
            .await
            .map_err(|e| Error::docker("version", e))?;
        let native = format!(
            "{}/{}",
            v.os.as_deref().unwrap_or("linux"),
            v.arch.as_deref().unwrap_or("amd64")
        );
        let choice =
            buildkit::choose(&session.host, &v, options.builder, &options.builder_why).await;
        let (builder, note) = (choice.builder, choice.note.clone());
        let platform = match &options.platform {
            None => native,
            Some(p) => buildkit::check_platform(p, &native, builder)?,
        };
        let registry = if options.cache_from_registry || options.push_cache {
            Some(RegistryCache::new(&options.registry)?)
        } else {
            None
        };
        Ok(Builder {
            session,
            options,
            progress,
            platform,
            builder,
            note,
            why: choice.why,
            plan_only,
            temp_tags: Arc::default(),
            slots: Semaphore::new(options.jobs.max(1)),
            registry,
        })
    }

    /// Runs (or plans) every target; the reports in target order, and the
    /// errors: failures first, then the images not built because of them.
    pub async fn run(&self, targets: &[Target]) -> (Vec<Report>, Vec<Error>) {
        let parents: HashSet<&str> = targets.iter().filter_map(|t| t.parent.as_deref()).collect();
        let parents = &parents;
        let reports: Mutex<Vec<Report>> = Mutex::default();
        let errors: Mutex<Vec<Error>> = Mutex::default();
        let mut futures: HashMap<&str, Shared<BoxFuture<'_, Outcome>>> = HashMap::new();
        for t in targets {
            let parent = t
                .parent
                .as_deref()
                .and_then(|p| futures.get(p).cloned().map(|f| (p, f)));
            let (reports, errors) = (&reports, &errors);
            let fut = async move {
                let parent_outcome = match parent {
                    Some((name, f)) => match f.await {
                        Ok(done) => Some((name, done)),
                        Err(()) => {
                            errors.lock().expect("poisoned").push(Error::Build(
                                BuildError::ParentFailed {
                                    image: t.image.clone(),
                                    parent: name.to_string(),
                                },
                            ));
                            return Err(());
                        }
                    },
                    None => None,
                };
                match self
                    .one(t, parent_outcome, parents.contains(t.image.as_str()))
                    .await
                {
                    Ok((report, done)) => {
                        reports.lock().expect("poisoned").push(report);
                        Ok(done)
                    }
                    Err(e) => {
                        self.progress.log(&t.image, "failed");
                        errors.lock().expect("poisoned").push(e);
                        Err(())
                    }
                }
            }
            .boxed()
            .shared();
            futures.insert(&t.image, fut);
        }
        futures_util::future::join_all(futures.into_values()).await;
        let mut reports = reports.into_inner().expect("poisoned");
        let order: HashMap<&str, usize> = targets
            .iter()
            .enumerate()
            .map(|(i, t)| (t.image.as_str(), i))
            .collect();
        reports.sort_by_key(|r| order[r.image.as_str()]);
        let mut errors = errors.into_inner().expect("poisoned");
        errors.sort_by_key(|e| matches!(e, Error::Build(BuildError::ParentFailed { .. })));
        (reports, errors)
    }

    /// One image, its parent done (in a plan, perhaps still to be built).
    async fn one(
        &self,
        t: &Target,
        parent: Option<(&str, Done)>,
        has_children: bool,
    ) -> Result<(Report, Done), Error> {
        let started = Instant::now();
        let docker = &self.session.docker;
        let scan = {
            let (image, dir, df) = (t.image.clone(), t.context.clone(), t.dockerfile.clone());
            tokio::task::spawn_blocking(move || Context::scan(&image, &dir, &df))
                .await
                .expect("scan panicked")?
        };
        let declared = scan.declared_args();
        for a in &t.file_args {
            if !declared.contains(a) {
                self.progress.log(
                    &t.image,
                    format!("warning: build arg {a} of the hierarchy file is not declared in {} (no `ARG {a}`): it has no effect", t.context.join(&t.dockerfile).display()),
                );
            }
        }
        let hashed: Vec<(String, String)> = t
            .args
            .iter()
            .filter(|(k, _)| declared.contains(k) && !settings::is_proxy_arg(k))
            .cloned()
            .collect();
        let secrets = self.secrets_of(t, &scan)?;
        // In a plan, a parent still to be built has no ID yet.
        let pending_parent = matches!(parent, Some((_, Done { id: None, .. })));
        let parent_same = matches!(parent, Some((_, Done { same: true, .. })));
        let parent_id = parent.as_ref().map(|(name, done)| {
            (
                *name,
                done.id
                    .clone()
                    .unwrap_or_else(|| "<to be built>".to_string()),
            )
        });
        let inputs = Inputs::compute(
            &scan,
            &Extra {
                args: &hashed,
                platform: &self.platform,
                parent: parent_id.as_ref().map(|(n, id)| (*n, id.as_str())),
                refresh: t
                    .refresh
                    .map(|p| period_start(self.options.now, p.as_secs())),
                builder: self.builder.name(),
                secrets: &secrets,
            },
        );
        // What `latest` is now, and the record of the inputs that made it.
        let latest: Option<(String, Option<Record>)> =
            inspect_labels(docker, &t.latest()).await?.map(|(id, _)| {
                let record = self.options.records.get(&t.name, &id);
                (id, record)
            });
        let record = |id: &str| {
            Record::new(
                &t.name,
                id,
                &inputs,
                &scan.dockerfile_text,
                parent_id.as_ref().map(|(n, p)| (*n, p.as_str())),
            )
        };
        let mut report = Report {
            image: t.image.clone(),
            level: t.level,
            parent: t.parent.clone(),
            action: Action::Build,
            why: Vec::new(),
            inputs: (!pending_parent).then(|| inputs.digest.clone()),
            reference: t.latest(),
            id: None,
            verified: false,
            seconds: 0.0,
            log: None,
        };
        // Reuse: a local image tagged with these inputs.
        let cached_ref = format!("{}:{}", t.name, inputs.tag());
        let cached = if pending_parent || self.options.no_cache {
            None
        } else {
            inspect_labels(docker, &cached_ref).await?
        };
        if let Some((id, _)) = cached {
            report.action = Action::Reuse;
            report.why = match (&latest, &parent) {
                (Some((latest_id, _)), Some((p, _))) if *latest_id == id && parent_same => {
                    vec![format!("parent {p} rebuilt, same image: inputs unchanged")]
                }
                (Some((latest_id, _)), _) if *latest_id == id => vec!["inputs unchanged".into()],
                _ => vec![format!("{cached_ref} has these inputs")],
            };
            report.id = Some(id.clone());
            let done = Done {
                id: Some(id.clone()),
                same: false,
            };
            if self.plan_only {
                return Ok((report, done));
            }
            if self.options.reverify {
                self.verify(t, &id, &cached_ref, None).await?;
                report.verified = t.verify.is_some();
            }
            self.move_latest(t, &id, &inputs).await?;
            self.keep_record(t, &record(&id));
            self.progress.log(
                &t.image,
                format!("reused {} ({})", short_id(&id), report.why[0]),
            );
            report.seconds = started.elapsed().as_secs_f64();
            return Ok((report, done));
        }
        // Pull: the registry has an image tagged with these inputs.
        let repository = format!("{}/{}", self.options.owner, t.image);
        if let (Some(rc), true, false) = (
            self.registry.as_ref(),
            self.options.cache_from_registry && !pending_parent,
            self.options.no_cache,
        ) {
            let from = format!("{}:{}", rc.name(&repository), inputs.tag());
            if self.plan_only {
                if rc.has(&repository, &inputs.tag()).await? {
                    report.action = Action::Pull;
                    report.why = vec![format!("{from} is in the registry")];
                    // Its ID is known only once pulled.
                    return Ok((
                        report,
                        Done {
                            id: None,
                            same: false,
                        },
                    ));
                }
            } else if rc.pull(docker, &repository, &inputs.tag()).await? {
                if let Some((id, _)) = inspect_labels(docker, &cached_ref).await? {
                    report.action = Action::Pull;
                    report.why = vec![format!("{from} is in the registry")];
                    report.id = Some(id.clone());
                    if self.options.reverify {
                        self.verify(t, &id, &cached_ref, None).await?;
                        report.verified = t.verify.is_some();
                    }
                    self.move_latest(t, &id, &inputs).await?;
                    self.keep_record(t, &record(&id));
                    self.progress
                        .log(&t.image, format!("pulled {} from {from}", short_id(&id)));
                    report.seconds = started.elapsed().as_secs_f64();
                    return Ok((
                        report,
                        Done {
                            id: Some(id),
                            same: false,
                        },
                    ));
                }
            }
        }
        report.why = if self.options.no_cache {
            vec!["--no-cache".to_string()]
        } else {
            why_build(&inputs, latest.as_ref(), t, pending_parent)
        };
        if self.plan_only {
            if !self.options.no_cache && comments_only(&inputs, latest.as_ref(), &scan) {
                report.why = vec![format!(
                    "Dockerfile changed in comments only; expected: {}",
                    same_image(has_children)
                )];
            }
            return Ok((
                report,
                Done {
                    id: None,
                    same: false,
                },
            ));
        }
        let cache_from = self.cache_from(t, latest.is_some());
        let id = self
            .build(t, &scan, &inputs, &report.why, &secrets, &cache_from)
            .await?;
        self.keep_record(t, &record(&id));
        let same = matches!(&latest, Some((old, _)) if *old == id);
        if same {
            report.why.push(same_image(has_children).to_string());
            self.progress.log(&t.image, same_image(has_children));
        }
        if let (Some(rc), true) = (self.registry.as_ref(), self.options.push_cache) {
            self.progress.log(
                &t.image,
                format!("pushing {}/{repository}:{}", rc.host, inputs.tag()),
            );
            rc.push(docker, &repository, &inputs.tag()).await?;
        }
        report.id = Some(id.clone());
        report.verified = t.verify.is_some();
        report.log = Some(self.log_path(t));
        report.seconds = started.elapsed().as_secs_f64();
        Ok((report, Done { id: Some(id), same }))
    }

    /// The images whose inline cache metadata (BUILDKIT_INLINE_CACHE) a
    /// BuildKit build of `t` may take layers from: its `latest` here (the
    /// previous build, or the one pulled), and with --cache-from-registry
    /// its last published platform tag (`x86_64-latest`). So the steps
    /// before the first change come from a previous image even when the
    /// layer cache is gone (`docker builder prune`, a new CI runner). A
    /// source that does not exist is skipped by BuildKit. None with
    /// --no-cache or the classic builder (its cache-from is another thing).
    fn cache_from(&self, t: &Target, has_latest: bool) -> Vec<String> {
        if self.builder != BuilderKind::BuildKit || self.options.no_cache {
            return Vec::new();
        }
        let mut refs = Vec::new();
        if has_latest {
            refs.push(t.latest());
        }
        if let (Some(rc), true, Some(p)) = (
            self.registry.as_ref(),
            self.options.cache_from_registry,
            self.tag_platform(),
        ) {
            let repository = format!("{}/{}", self.options.owner, t.image);
            refs.push(format!(
                "{}:{}-latest",
                rc.name(&repository),
                tag_prefix(p, &t.variant)
            ));
        }
        refs
    }

    /// The registry's credentials for BuildKit's session (cache-from
    /// sources in the registry), when --cache-from-registry has any.
    fn registry_credentials(&self) -> Option<HashMap<String, bollard::auth::DockerCredentials>> {
        let rc = self.registry.as_ref()?;
        if !self.options.cache_from_registry {
            return None;
        }
        let c = rc.daemon_credentials()?;
        Some([(rc.host.clone(), c)].into())
    }

    /// Keeps which inputs made the image; a failure to write is a warning
    /// (reuse goes by the `inputs-…` tag, the record only explains).
    fn keep_record(&self, t: &Target, record: &Record) {
        if let Err(e) = self.options.records.put(record) {
            self.progress.log(
                &t.image,
                format!(
                    "warning: cannot keep the record of its inputs in {}: {e}",
                    self.options.records.dir.display()
                ),
            );
        }
    }

    /// The platform of the build (`linux/arm64`) as tags and file names
    /// spell it (`aarch64`).
    fn tag_platform(&self) -> Option<Platform> {
        self.platform
            .rsplit('/')
            .next()
            .and_then(|a| Platform::from_docker_arch(a).ok())
    }

    fn log_path(&self, t: &Target) -> PathBuf {
        self.options.log_dir.join(format!(
            "{}.log",
            file_stem_str(&self.tag_platform(), &t.variant, &t.image)
        ))
    }

    /// The ids of the secrets `t` reads: its `secrets:` (each must be
    /// given by --secret) and those its Dockerfile mounts that --secret gives.
    /// With the classic builder, a secret or a Dockerfile line only BuildKit
    /// builds is refused here, before any build, with the line and the fix.
    fn secrets_of(&self, t: &Target, scan: &Context) -> Result<Vec<String>, Error> {
        let given: Vec<&str> = self.options.secrets.iter().map(|s| s.id.as_str()).collect();
        let mut ids = Vec::new();
        for id in &t.secrets {
            if !given.contains(&id.as_str()) {
                return Err(BuildError::UnknownSecret {
                    image: t.image.clone(),
                    id: id.clone(),
                    given: if given.is_empty() {
                        String::new()
                    } else {
                        format!(" (given: {})", given.join(", "))
                    },
                }
                .into());
            }
            ids.push(id.clone());
        }
        for id in settings::mounted_secrets(&scan.dockerfile_text) {
            if given.contains(&id.as_str()) && !ids.contains(&id) {
                ids.push(id);
            }
        }
        if self.builder == BuilderKind::Classic {
            let what = match (ids.first(), buildkit::buildkit_only(&scan.dockerfile_text)) {
                (Some(id), _) => format!("the secret `{id}`"),
                (None, Some((line, feature))) => format!(
                    "{feature} of {}:{line}",
                    t.context.join(&t.dockerfile).display()
                ),
                (None, None) => return Ok(ids),
            };
            return Err(BuildError::NeedsBuildKit {
                image: t.image.clone(),
                what,
                why: self.why.clone(),
                fallback: self.note.is_some(),
            }
            .into());
        }
        Ok(ids)
    }

    /// Builds `t` to a temporary tag, verifies it, then tags it `inputs-…`
    /// and `latest`. Returns the image ID.
    async fn build(
        &self,
        t: &Target,
        scan: &Context,
        inputs: &Inputs,
        why: &[String],
        secret_ids: &[String],
        cache_from: &[String],
    ) -> Result<String, Error> {
        let docker = &self.session.docker;
        let mut args: HashMap<String, String> = self.options.proxies.iter().cloned().collect();
        args.extend(t.args.iter().cloned());
        let mut hidden = Vec::new();
        for name in &t.unhashed {
            let value = std::env::var(name).map_err(|_| BuildError::MissingSecret {
                image: t.image.clone(),
                name: name.clone(),
            })?;
            if !value.is_empty() {
                hidden.push(value.clone());
            }
            args.insert(name.clone(), value);
        }
        let secrets: Vec<&settings::Secret> = self
            .options
            .secrets
            .iter()
            .filter(|s| secret_ids.contains(&s.id))
            .collect();
        for s in &secrets {
            let value = s.value()?;
            let text = String::from_utf8_lossy(&value);
            // The value as a whole, and each of its lines (a file of several).
            for v in std::iter::once(text.trim()).chain(text.lines().map(str::trim)) {
                if v.len() >= 3 && !hidden.iter().any(|h| h == v) {
                    hidden.push(v.to_string());
                }
            }
        }
        if self.builder == BuilderKind::BuildKit {
            // Layers of this image serve as cache to a build that pulls it.
            args.entry("BUILDKIT_INLINE_CACHE".into())
                .or_insert_with(|| "1".into());
        }
        let _slot = self.slots.acquire().await.expect("never closed");
        self.progress.log(
            &t.image,
            format!("building ({}): {}", self.builder, why.join(", ")),
        );
        if self.builder == BuilderKind::BuildKit {
            // Once per image and key: an image is built once in a run.
            for key in t.limits.keys() {
                self.progress.log(
                    &t.image,
                    format!("warning: `{key}:` of {} is ignored: BuildKit does not limit build steps (moby/buildkit#593); only the classic builder (--builder classic) applies it", t.image),
                );
            }
        }
        let log_path = self.log_path(t);
        let mut log = BuildLog::create(&log_path, hidden)?;
        if !cache_from.is_empty() {
            log.write(&format!(
                "layer cache also from the inline cache of {}\n",
                cache_from.join(", ")
            ))?;
        }
        let tar = {
            let scan = scan.clone();
            tokio::task::spawn_blocking(move || scan.tar())
                .await
                .expect("tar panicked")?
        };
        let temp = format!("{}:stacktag-build-{}", t.name, inputs.short());
        self.temp_tags
            .lock()
            .expect("poisoned")
            .insert(temp.clone());
        let status = self.progress.started(&t.image, "build".into());
        let outcome = if secrets.is_empty() {
            self.stream_build(t, scan, &temp, &args, tar, cache_from, &mut log)
                .await
        } else {
            self.solve_with_secrets(t, scan, &temp, &args, tar, &secrets, cache_from, &mut log)
                .await
        };
        self.progress.finished(status);
        let id = match outcome {
            Ok(id) => id,
            Err(failure) => {
                let error = self.failure(t, scan, failure, &log, &log_path);
                log.finish()?;
                self.drop_temp(&temp).await;
                return Err(error.into());
            }
        };
        let id = match id {
            Some(id) => id,
            None => inspect_labels(docker, &temp)
                .await?
                .map(|(id, _)| id)
                .ok_or_else(|| BuildError::Failed {
                    image: t.image.clone(),
                    message: "the daemon ended the build without an image".into(),
                    log: log_path.clone(),
                    tail: log.tail(15),
                })?,
        };
        self.progress
            .log(&t.image, format!("built {}", short_id(&id)));
        if let Err(e) = self.verify(t, &id, &temp, Some(&mut log)).await {
            log.finish()?;
            self.drop_temp(&temp).await;
            return Err(e);
        }
        log.finish()?;
        self.move_latest(t, &id, inputs).await?;
        self.drop_temp(&temp).await;
        Ok(id)
    }

    /// A build through the daemon's `/build`: the classic builder's output,
    /// or BuildKit's status stream decoded. The image ID, when the daemon
    /// says it.
    #[allow(clippy::too_many_arguments)]
    async fn stream_build(
        &self,
        t: &Target,
        scan: &Context,
        temp: &str,
        args: &HashMap<String, String>,
        tar: Vec<u8>,
        cache_from: &[String],
        log: &mut BuildLog,
    ) -> Result<Option<String>, Failure> {
        let docker = &self.session.docker;
        let mut opts = BuildImageOptionsBuilder::default()
            .dockerfile(&scan.dockerfile)
            .t(temp)
            .rm(true)
            .forcerm(true)
            .nocache(self.options.no_cache)
            .buildargs(args);
        if self.options.platform.is_some() {
            opts = opts.platform(&self.platform);
        }
        if self.builder == BuilderKind::Classic {
            // Swap included: the limit is the memory a step can have.
            if let Some(bytes) = t.limits.memory.and_then(|m| i32::try_from(m).ok()) {
                opts = opts.memory(bytes).memswap(bytes);
            }
            if let Some(cpus) = &t.limits.cpuset {
                opts = opts.cpusetcpus(cpus);
            }
        }
        if self.builder == BuilderKind::BuildKit {
            // One session per build; closed when the stream is dropped (Ctrl-C too).
            let session = session_id(&self.session.run_id, &t.image);
            opts = opts
                .version(BuilderVersion::BuilderBuildKit)
                .session(&session);
            if !cache_from.is_empty() {
                opts = opts.cachefrom(&cache_from.to_vec());
            }
        }
        let mut stream = docker.build_image(
            opts.build(),
            self.registry_credentials(),
            Some(bollard::body_full(tar.into())),
        );
        let mut decoder = Decoder::default();
        let mut steps: HashMap<usize, u64> = HashMap::new();
        let mut id = None;
        let io = |e: BuildError| Failure::Io(e);
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    if let Some(text) = info.stream {
                        log.write(&text).map_err(io)?;
                    }
                    if let Some(text) = info.status {
                        log.write(&format!("{text}\n")).map_err(io)?;
                    }
                    match info.aux {
                        Some(BuildInfoAux::BuildKit(status)) => {
                            let (text, events) = decoder.feed(&status);
                            log.write(&text).map_err(io)?;
                            for e in events {
                                self.show_step(t, e, &mut steps, log);
                            }
                        }
                        Some(BuildInfoAux::Default(image)) => {
                            if let Some(i) = image.id {
                                id = Some(i);
                            }
                        }
                        None => {}
                    }
                }
                Err(e) => {
                    let message = match e {
                        bollard::errors::Error::DockerStreamError { error } => error,
                        e => e.to_string(),
                    };
                    let message = log.redact(&message);
                    log.write(&format!("{message}\n")).map_err(io)?;
                    for (_, s) in steps.drain() {
                        self.progress.finished(s);
                    }
                    return Err(Failure::Daemon {
                        message,
                        step: decoder.failed.take(),
                    });
                }
            }
        }
        for (_, s) in steps.drain() {
            self.progress.finished(s);
        }
        Ok(id)
    }

    /// A BuildKit build that reads secrets: bollard's `/build` session
    /// serves no secrets, so it goes through the daemon's BuildKit control
    /// API (`/grpc`, the Moby driver) with a session that serves them. Its
    /// status stream, asked for by the build's ref on a connection of its
    /// own, is decoded as `/build`'s is.
    #[allow(clippy::too_many_arguments)]
    async fn solve_with_secrets(
        &self,
        t: &Target,
        scan: &Context,
        temp: &str,
        args: &HashMap<String, String>,
        tar: Vec<u8>,
        secrets: &[&settings::Secret],
        cache_from: &[String],
        log: &mut BuildLog,
    ) -> Result<Option<String>, Failure> {
        use bollard::grpc::build::{ImageBuildFrontendOptions, ImageBuildLoadInput, SecretSource};
        use bollard::grpc::driver::Build;
        let mut opts = ImageBuildFrontendOptions::builder()
            .dockerfile(std::path::Path::new(&scan.dockerfile))
            .nocache(self.options.no_cache);
        for (k, v) in args {
            opts = opts.buildarg(k, v);
        }
        for r in cache_from {
            opts = opts.cachefrom(&bollard::moby::buildkit::v1::CacheOptionsEntry {
                r#type: "registry".into(),
                attrs: [("ref".to_string(), r.clone())].into(),
            });
        }
        for s in secrets {
            let source = match &s.source {
                settings::SecretSource::File(p) => {
                    SecretSource::File(std::path::absolute(p).unwrap_or_else(|_| p.clone()))
                }
                settings::SecretSource::Env(v) => SecretSource::Env(v.clone()),
            };
            opts = opts.set_secret(&s.id, &source);
        }
        if self.options.platform.is_some() {
            let mut parts = self.platform.split('/');
            let p = bollard::grpc::build::ImageBuildPlatform {
                os: parts.next().unwrap_or("linux").to_string(),
                architecture: parts.next().unwrap_or_default().to_string(),
                variant: parts.next().map(str::to_string),
            };
            opts = opts.platforms(&p);
        }
        let ids: Vec<&str> = secrets.iter().map(|s| s.id.as_str()).collect();
        log.write(&format!(
            "building through BuildKit's control API with the secrets {} (their values are never logged)\n",
            ids.join(", ")
        ))
        .map_err(Failure::Io)?;
        let build_ref = bollard::grpc::BuildRef::random();
        let status_ref = build_ref.as_ref().to_string();
        // bollard's solve is not Send: it runs on a thread of its own, and
        // stops (its connections closed, the daemon cancels the build) when
        // this future is dropped (Ctrl-C).
        let docker = self.session.docker.clone();
        let name = temp.to_string();
        let credentials = self.registry_credentials();
        let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let mut solve = tokio::task::spawn_blocking(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async move {
                let driver = bollard::grpc::driver::moby::Moby::new(&docker);
                let build = driver.docker_build(
                    &name,
                    opts.build(),
                    ImageBuildLoadInput::Upload(tar.into()),
                    credentials
                        .as_ref()
                        .map(|c| c.iter().map(|(k, v)| (k.as_str(), v.clone())).collect()),
                    Some(build_ref),
                );
                tokio::select! {
                    r = build => r.map_err(|e| e.to_string()),
                    _ = stopped => Err("stopped".to_string()),
                }
            })
        });
        let mut decoder = Decoder::default();
        let mut steps: HashMap<usize, u64> = HashMap::new();
        let io = |e: BuildError| Failure::Io(e);
        let mut status = match super::status::stream(&self.session.host, &status_ref).await {
            Ok(s) => Some(s),
            Err(why) => {
                log.write(&format!("no step output: {why}\n")).map_err(io)?;
                None
            }
        };
        // The status until the solve ends, then what is left of it (BuildKit
        // ends the stream with the build; a short wait at most).
        let mut solved = None;
        let mut grace: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;
        loop {
            let next = async {
                match status.as_mut() {
                    Some(s) => s.message().await,
                    None => std::future::pending().await,
                }
            };
            let waited = async {
                match grace.as_mut() {
                    Some(g) => g.await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                r = &mut solve, if solved.is_none() => {
                    solved = Some(r.unwrap_or_else(|e| Err(e.to_string())));
                    if status.is_none() {
                        break;
                    }
                    grace = Some(Box::pin(tokio::time::sleep(std::time::Duration::from_secs(3))));
                }
                m = next => match m {
                    Ok(Some(msg)) => {
                        let (text, events) = decoder.feed(&msg);
                        log.write(&text).map_err(io)?;
                        for e in events {
                            self.show_step(t, e, &mut steps, log);
                        }
                    }
                    Ok(None) | Err(_) => {
                        status = None;
                        if solved.is_some() {
                            break;
                        }
                    }
                },
                () = waited => break,
            }
        }
        for (_, s) in steps.drain() {
            self.progress.finished(s);
        }
        match solved.expect("the loop ends after the solve") {
            Ok(()) => Ok(None),
            Err(e) => {
                let message = log.redact(&e);
                log.write(&format!("{message}\n")).map_err(Failure::Io)?;
                Err(Failure::Daemon {
                    message,
                    step: decoder.failed.take(),
                })
            }
        }
    }

    /// A step of a BuildKit build on stderr, as `--progress` asks.
    /// (Names are redacted: a step's name can show a build arg's value.)
    fn show_step(
        &self,
        t: &Target,
        event: Event,
        running: &mut HashMap<usize, u64>,
        log: &BuildLog,
    ) {
        match (self.options.steps, event) {
            (StepLines::Quiet, _) => {}
            (StepLines::Tty, Event::Started { key, name }) => {
                running.insert(key, self.progress.started(&t.image, log.redact(&name)));
            }
            (StepLines::Plain, Event::Started { .. }) => {}
            (_, Event::Ended { key, name, end }) => {
                if let Some(s) = running.remove(&key) {
                    self.progress.finished(s);
                }
                let end = match end {
                    End::Error(_) => "ERROR".to_string(),
                    e => e.to_string(),
                };
                self.progress
                    .log(&t.image, format!("{} {end}", log.redact(&name)));
            }
        }
    }

    /// The error of a failed build: the failing step with its exit code and
    /// output, a Dockerfile line the frontend rejected, or the daemon's message.
    fn failure(
        &self,
        t: &Target,
        scan: &Context,
        failure: Failure,
        log: &BuildLog,
        log_path: &std::path::Path,
    ) -> BuildError {
        let (message, step) = match failure {
            Failure::Io(e) => return e,
            Failure::Daemon { message, step } => (message, step),
        };
        if let Some(f) = step {
            let status = match f.exit_code {
                Some(c) => format!("exit code {c}"),
                None => log.redact(&f.error),
            };
            return BuildError::StepFailed {
                image: t.image.clone(),
                step: format!("`{}` failed ({status})", log.redact(&f.name)),
                log: log_path.to_path_buf(),
                tail: if f.tail.is_empty() {
                    "    (no output)".into()
                } else {
                    f.tail
                        .iter()
                        .map(|l| format!("    {}", log.redact(l)))
                        .collect::<Vec<_>>()
                        .join("\n")
                },
            };
        }
        if let Some((line, problem, fix)) =
            buildkit::explain_frontend(&message, &scan.dockerfile_text)
        {
            return BuildError::Frontend {
                image: t.image.clone(),
                at: format!("{}:{line}", t.context.join(&t.dockerfile).display()),
                problem: format!(
                    "{problem}\n    {}",
                    scan.dockerfile_text
                        .lines()
                        .nth(line - 1)
                        .unwrap_or_default()
                ),
                fix,
            };
        }
        BuildError::Failed {
            image: t.image.clone(),
            message: log_safe(&message),
            log: log_path.to_path_buf(),
            tail: log.tail(15),
        }
    }

    /// Runs the verify command of `t` on `reference` (image `id`), if it has one.
    async fn verify(
        &self,
        t: &Target,
        id: &str,
        reference: &str,
        log: Option<&mut BuildLog>,
    ) -> Result<(), Error> {
        let Some(command) = &t.verify else {
            return Ok(());
        };
        let command = command.replace("{image}", reference);
        self.progress.log(&t.image, format!("verify: {command}"));
        let status = self.progress.started(&t.image, command.clone());
        let result = verify::run(&command, &t.base).await;
        self.progress.finished(status);
        let (code, output) = result.map_err(|source| BuildError::Io {
            path: t.base.clone(),
            source,
        })?;
        let mut own_log;
        let log = match log {
            Some(l) => l,
            None => {
                own_log = BuildLog::append(&self.log_path(t))?;
                &mut own_log
            }
        };
        log.write(&format!("--- verify: {command}\n"))?;
        log.write(&output)?;
        if !output.is_empty() && !output.ends_with('\n') {
            log.write("\n")?;
        }
        if code == Some(0) {
            log.write("--- verify passed\n")?;
            return Ok(());
        }
        log.write("--- verify failed\n")?;
        let status = match code {
            Some(127) => "exit code 127: command not found".to_string(),
            Some(126) => "exit code 126: not executable".to_string(),
            Some(c) => format!("exit code {c}"),
            None => "killed by a signal".to_string(),
        };
        let _ = id;
        Err(BuildError::Verify {
            image: t.image.clone(),
            command,
            status,
            log: self.log_path(t),
            tail: indent_tail(&log.redact(&output), 15),
        }
        .into())
    }

    /// Points `inputs-…` and `latest` at `id`, both or neither.
    async fn move_latest(&self, t: &Target, id: &str, inputs: &Inputs) -> Result<(), Error> {
        let _section = Critical::enter()?;
        crate::hook::image::apply_tags(
            &self.session.docker,
            &t.image,
            id,
            &t.name,
            &[inputs.tag(), "latest".to_string()],
        )
        .await
        .map(drop)
    }

    /// Removes a temporary tag (and the image, if nothing else names it).
    pub async fn drop_temp(&self, temp: &str) {
        if let Err(e) = remove_tag(&self.session.docker, temp).await {
            self.progress.log(temp, format!("warning: {e}"));
        }
        self.temp_tags.lock().expect("poisoned").remove(temp);
    }
}

/// Removes `reference`; the layers below stay (the build cache). A tag
/// already gone is fine; a failure is the caller's warning to give.
pub async fn remove_tag(docker: &bollard::Docker, reference: &str) -> Result<(), String> {
    let opts = RemoveImageOptionsBuilder::default().noprune(true).build();
    match docker.remove_image(reference, Some(opts), None).await {
        Ok(_)
        | Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(()),
        Err(e) => Err(format!("could not remove {reference}: {e}")),
    }
}

/// `rebuilt, same image`, and what it means below the image.
fn same_image(has_children: bool) -> &'static str {
    if has_children {
        SAME_IMAGE
    } else {
        "rebuilt, same image"
    }
}

/// Whether the only input that changed since `latest` was built is the
/// Dockerfile, and only in its comments: a rebuild from the layer cache then
/// gives the same image, and the children are reused.
fn comments_only(
    inputs: &Inputs,
    latest: Option<&(String, Option<Record>)>,
    scan: &Context,
) -> bool {
    let Some((_, Some(record))) = latest else {
        return false;
    };
    inputs.changes(&record.parts) == ["Dockerfile changed"]
        && instructions_hash(&scan.dockerfile_text) == record.instructions
}

fn why_build(
    inputs: &Inputs,
    latest: Option<&(String, Option<Record>)>,
    t: &Target,
    pending_parent: bool,
) -> Vec<String> {
    let parent_part = t.parent.as_ref().map(|p| format!("parent {p} changed"));
    let mut why: Vec<String> = match latest {
        None => vec![format!("no image {} yet", t.latest())],
        Some((_, None)) => vec![format!(
            "no record of the inputs of {} (built elsewhere, or by an older stacktag)",
            t.latest()
        )],
        Some((_, Some(record))) => inputs
            .changes(&record.parts)
            .into_iter()
            .filter(|c| !(pending_parent && Some(c) == parent_part.as_ref()))
            .collect(),
    };
    if pending_parent {
        if let Some(p) = &t.parent {
            why.push(format!(
                "parent {p} is rebuilt (reused if it comes out the same image)"
            ));
        }
    }
    if why.is_empty() {
        why.push(format!(
            "no image is tagged {}:{} (removed, or its verify failed)",
            t.name,
            inputs.tag()
        ));
    }
    why
}

/// The hook's file stem; an architecture stacktag has no tags for keeps Docker's name.
fn file_stem_str(platform: &Option<Platform>, variant: &str, image: &str) -> String {
    match platform {
        Some(p) => file_stem(*p, variant, image),
        None => format!("unknown-{variant}-{image}"),
    }
}

pub(crate) fn short_id(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    &hex[..hex.len().min(12)]
}

/// The daemon's error text, one line.
fn log_safe(message: &str) -> String {
    message.trim().to_string()
}

/// The last `n` lines of `text`, indented for an error message.
pub(crate) fn indent_tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The image ID and labels of `reference`; `None` when the daemon has no such image.
pub(crate) async fn inspect_labels(
    docker: &bollard::Docker,
    reference: &str,
) -> Result<Option<(String, HashMap<String, String>)>, Error> {
    match docker.inspect_image(reference).await {
        Ok(i) => Ok(Some((
            i.id.unwrap_or_default(),
            i.config.and_then(|c| c.labels).unwrap_or_default(),
        ))),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(None),
        Err(e) => Err(Error::docker(format!("inspect image {reference}"), e)),
    }
}

#[cfg(test)]
mod tests {
    use super::session_id;

    /// Two builds of one image in runs of one run id (a CI job's) never
    /// share a BuildKit session id.
    #[test]
    fn a_session_id_is_new_for_each_build_of_one_run_and_image() {
        let a = session_id("ci-job-7", "base-notebook");
        let b = session_id("ci-job-7", "base-notebook");
        assert_ne!(a, b);
        assert!(a.starts_with("stacktag-ci-job-7-base-notebook-"), "{a}");
        assert!(
            a.len() > "stacktag-ci-job-7-base-notebook-".len() + 20,
            "{a}"
        );
    }
}
