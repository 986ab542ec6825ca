//! `stacktag build`: the images of the hierarchy built in dependency order
//! through the daemon's build API, content-addressed by an inputs digest
//! (an unchanged image is reused, never rebuilt), verified before `latest`
//! moves. A plan first (what is reused, pulled or built, and why), then its
//! execution.

pub mod buildkit;
pub mod context;
pub mod error;
pub mod from;
pub mod ignore;
pub mod inputs;
pub mod keys;
pub mod log;
pub mod prune;
pub mod record;
pub mod registry_cache;
pub mod run;
pub mod settings;
pub mod status;
pub mod verify;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use error::BuildError;
pub use run::{Action, Builder, Report};
pub use settings::{BuilderKind, Secret, SecretSource, StepLines};

use crate::error::Error;
use crate::formats::tags::{self, DEFAULT_VARIANT};
use crate::hierarchy::Hierarchy;

/// How a run builds; the command line's options.
#[derive(Debug, Clone)]
pub struct Options {
    pub registry: String,
    pub owner: String,
    /// Build the named images from `{context}/{variant}/` (ancestors: default).
    pub variant: String,
    /// Builds at the same time.
    pub jobs: usize,
    /// One build log per image here.
    pub log_dir: PathBuf,
    /// `--build-arg NAME=VALUE`: passed to every image, hashed where the
    /// Dockerfile declares it.
    pub build_args: Vec<(String, String)>,
    /// Pull `inputs-…` from the registry before building.
    pub cache_from_registry: bool,
    /// Push `inputs-…` to the registry after building.
    pub push_cache: bool,
    /// Verify reused and pulled images again.
    pub reverify: bool,
    /// Reuse nothing: build every image, without the daemon's layer cache.
    pub no_cache: bool,
    /// Now, Unix seconds (refresh periods).
    pub now: u64,
    /// The builder asked for (BuildKit unless `--builder classic`).
    pub builder: BuilderKind,
    /// Who asked for it: `--builder classic`, `STACKTAG_BUILDER=classic`,
    /// `the default`.
    pub builder_why: String,
    /// What stderr shows of each Dockerfile step.
    pub steps: StepLines,
    /// `--secret id=NAME,src=FILE|env=VAR`: given to the images that name them.
    pub secrets: Vec<Secret>,
    /// `--platform os/arch`: build for it instead of the daemon's.
    pub platform: Option<String>,
    /// Docker's predefined proxy args (client config, environment, hierarchy
    /// file): passed to every build, never hashed.
    pub proxies: Vec<(String, String)>,
    /// Which inputs made which image (never written by a plan).
    pub records: record::Records,
}

/// One image to build, with everything resolved from the hierarchy file.
#[derive(Debug, Clone)]
pub struct Target {
    pub image: String,
    pub parent: Option<String>,
    /// Depth in the tree: a CI job matrix level.
    pub level: usize,
    /// `default`, or the --variant of a named image.
    pub variant: String,
    pub context: PathBuf,
    /// Relative to the context.
    pub dockerfile: PathBuf,
    /// REGISTRY, OWNER, the image's build_args, then --build-arg (last wins).
    pub args: Vec<(String, String)>,
    /// Declared in the hierarchy file (warned about if the Dockerfile has no ARG).
    pub file_args: Vec<String>,
    pub unhashed: Vec<String>,
    /// Ids of the secrets it reads: its `secrets:`, and those its Dockerfile
    /// mounts that `--secret` gives.
    pub secrets: Vec<String>,
    /// The verify command as written, `{image}` not yet replaced.
    pub verify: Option<String>,
    pub refresh: Option<Duration>,
    /// `memory:` and `cpuset:` (never an input).
    pub limits: keys::Limits,
    /// `{registry}/{owner}/{image}`.
    pub name: String,
    /// Where relative paths and the verify command start: the hierarchy file's directory.
    pub base: PathBuf,
}

impl Target {
    pub fn latest(&self) -> String {
        format!("{}:latest", self.name)
    }
}

/// Every image of `images` and its ancestors, parents before children;
/// refused when a Dockerfile's `FROM` is not the image's `parent:`.
pub fn targets(h: &Hierarchy, images: &[String], opts: &Options) -> Result<Vec<Target>, Error> {
    let mut wanted: Vec<String> = Vec::new();
    for i in images {
        let r = h.resolve(i)?;
        if opts.variant != DEFAULT_VARIANT && !r.variants.contains(&opts.variant) {
            return Err(BuildError::UnknownVariant {
                image: i.clone(),
                variant: opts.variant.clone(),
                known: std::iter::once(DEFAULT_VARIANT.to_string())
                    .chain(r.variants.iter().cloned())
                    .collect::<Vec<_>>()
                    .join(", "),
            }
            .into());
        }
        for c in r.chain {
            if !wanted.contains(&c) {
                wanted.push(c);
            }
        }
    }
    let base = base_dir(&h.path);
    let mut out = Vec::new();
    for spec in h.topological() {
        if !wanted.contains(&spec.name) {
            continue;
        }
        let level = h.resolve(&spec.name)?.chain.len() - 1;
        let mut context = PathBuf::from(&spec.context);
        let mut variant = DEFAULT_VARIANT.to_string();
        if opts.variant != DEFAULT_VARIANT && images.contains(&spec.name) {
            context = context.join(&opts.variant);
            variant = opts.variant.clone();
        }
        let context = base.join(context);
        let mut args = vec![
            ("REGISTRY".to_string(), opts.registry.clone()),
            ("OWNER".to_string(), opts.owner.clone()),
        ];
        for (k, v) in spec.build_args.iter().chain(&opts.build_args) {
            args.retain(|(a, _)| a != k);
            args.push((k.clone(), v.clone()));
        }
        let verify = spec.verify.clone().or_else(|| {
            let test = context.join("test.sh");
            test.is_file().then(|| {
                let shown = test.strip_prefix(&base).unwrap_or(&test);
                format!("{} {{image}}", shown.display())
            })
        });
        out.push(Target {
            image: spec.name.clone(),
            parent: spec.parent.clone(),
            level,
            variant,
            dockerfile: PathBuf::from(&spec.dockerfile),
            context,
            args,
            file_args: spec.build_args.iter().map(|(k, _)| k.clone()).collect(),
            unhashed: spec.unhashed_build_args.clone(),
            secrets: spec.secrets.clone(),
            verify,
            refresh: spec.refresh,
            limits: spec.limits.clone(),
            name: tags::image_name(&opts.registry, &opts.owner, &spec.name),
            base: base.clone(),
        });
    }
    let items: Vec<from::Item> = out
        .iter()
        .map(|t| from::Item {
            image: t.image.clone(),
            parent: t.parent.clone(),
            dockerfile: t.context.join(&t.dockerfile),
            args: t.args.clone(),
        })
        .collect();
    from::check(h, &opts.registry, &opts.owner, &items)?;
    Ok(out)
}

/// The directory of the hierarchy file (`.` for a bare file name).
fn base_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() && !path.starts_with("<") => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `NAME=VALUE` of `--build-arg`.
pub fn parse_build_arg(text: &str) -> Result<(String, String), BuildError> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(BuildError::BadBuildArg(text.to_string())),
    }
}
