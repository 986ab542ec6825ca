//! `stacktag build`: its options and the glue to [`crate::build`].

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use clap::{Args, ValueEnum};

use super::exit::{
    BUILD, CONFIG, DOCKER, INTERRUPTED, IO, OK, REGISTRY, REGISTRY_AUTH, USAGE, VERIFY,
};
use super::json::{Body, BuildRun};
use super::{Format, ImageName, Ui};
use crate::build::{self, Action, Builder, BuilderKind, Options, Report, Secret, StepLines};
use crate::error::{ConfigError, Error};
use crate::formats::tags::Platform;
use crate::hierarchy::Hierarchy;
use crate::hook::guard::guarded;
use crate::hook::progress::Progress;
use crate::hook::session::Session;

pub const LONG_ABOUT: &str = "\
Build images and their ancestors in dependency order, images that do not depend on each other at
the same time; an image whose inputs did not change is reused, not rebuilt.

Builds go through the daemon's BuildKit (RUN --mount bind/cache/tmpfs/secret, COPY --chmod,
stages at the same time); --builder classic, or a daemon without BuildKit (then a warning says
so), uses the legacy builder. Each step's output is in the image's log; stderr shows one line per
step as --progress says. Docker's proxy args (HTTP_PROXY, ... from the docker client config's
`proxies`, the environment, the hierarchy file's `proxies:`) reach every build, never hashed.

Per image (keys of the hierarchy file): the context `context:` [default: images/{image}, or
images/{image}/{variant} with --variant], the Dockerfile `dockerfile:` relative to it [default:
Dockerfile], `build_args:` (REGISTRY and OWNER are always passed), `unhashed_build_args:` (names
of environment variables: passed, never hashed, never logged), `secrets:` (ids of --secret it
needs), `verify:` [default: {context}/test.sh {image} when that file exists], `refresh:` (12h,
7d, 2w), `memory:` (512m) and `cpuset:` (0-1): limits of each build step, applied by the classic
builder (BuildKit ignores them: a warning says so once per image and key).

Each image's inputs digest (Dockerfile, the context files .dockerignore keeps, the build args
its Dockerfile declares, the platform, the builder, the ids of its secrets, the parent's image
ID, the refresh period) names it by the tag `inputs-{16 hex}`, never inside the image. An image whose inputs are tagged already is
reused (no build); else, with --cache-from-registry, that tag is pulled; else it is built,
verified, and only then tagged `inputs-…` and `latest`. A parent rebuilt to the image it already
was (a comment changed) leaves its children's inputs unchanged: they are reused (`rebuilt, same
image: children reused`). Each Dockerfile's final FROM must be its `parent:` (checked before any
build). Logs: OUT_DIR/build-logs/{platform}-{variant}-{image}.log. `latest` of an image that
failed is never moved.";

pub const EXAMPLES: &str =
    "  stacktag build --all --plan                  what would be reused, pulled or built, and why
  stacktag build --all --plan --format json    the plan by dependency level, for a CI matrix
  stacktag build base-notebook                 it and its ancestors; unchanged ones are reused
  stacktag build --all --cache-from-registry --push-cache
  stacktag build base --secret id=tok,src=tok.txt  for RUN --mount=type=secret,id=tok
  stacktag build --all --platform linux/arm64  for arm64 through QEMU (scripts/binfmt)";

pub const CODES: &[i32] = &[
    OK,
    USAGE,
    CONFIG,
    DOCKER,
    IO,
    REGISTRY,
    REGISTRY_AUTH,
    BUILD,
    VERIFY,
    INTERRUPTED,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BuilderArg {
    /// The daemon's BuildKit (a daemon without it: classic, with a warning)
    Buildkit,
    /// The legacy builder: no RUN --mount, secrets, COPY --chmod or other platforms
    Classic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressArg {
    /// Tty on a terminal, else plain
    Auto,
    /// One line per Dockerfile step when it ends (CACHED, or DONE and its time)
    Plain,
    /// Those lines, and the running step of each build on the status line
    Tty,
    /// No step lines; the steps are in the build logs
    Quiet,
}

#[derive(Debug, Args)]
#[command(
    override_usage = "stacktag build [OPTIONS] <IMAGE>...\n       stacktag build [OPTIONS] --all"
)]
pub struct BuildArgs {
    #[command(flatten)]
    pub images: super::args::Images,
    #[command(flatten)]
    pub name: ImageName,
    /// Builds at the same time [default: the number of cores]
    #[arg(long, short, value_name = "N")]
    pub jobs: Option<usize>,
    /// A build arg for every image, NAME=VALUE (repeatable; hashed where the Dockerfile declares it)
    #[arg(long = "build-arg", value_name = "NAME=VALUE")]
    pub build_args: Vec<String>,
    /// Print what would be reused, pulled or built, and why; build nothing
    #[arg(long)]
    pub plan: bool,
    /// Output of --plan, or of the run: text, or json (dependency levels, for a CI job matrix)
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Pull an image tagged inputs-{16 hex} from the registry instead of building it
    #[arg(long)]
    pub cache_from_registry: bool,
    /// Push the inputs-{16 hex} tag of each image built to the registry
    #[arg(long)]
    pub push_cache: bool,
    /// Run the verify command of reused and pulled images too
    #[arg(long)]
    pub reverify: bool,
    /// Reuse nothing: build every image, without the daemon's layer cache
    #[arg(long)]
    pub no_cache: bool,
    /// The daemon's builder: buildkit, or classic (a different image: part of the inputs)
    #[arg(long, value_enum, default_value = "buildkit", env = "STACKTAG_BUILDER")]
    pub builder: BuilderArg,
    /// What stderr shows of each Dockerfile step (buildx's names)
    #[arg(long, value_enum, default_value = "auto")]
    pub progress: ProgressArg,
    /// A secret for `RUN --mount=type=secret`: id=NAME,src=FILE or id=NAME,env=VARIABLE (repeatable; never logged or hashed, its id is)
    #[arg(long = "secret", value_name = "id=NAME,src=FILE")]
    pub secrets: Vec<String>,
    /// Build for this platform instead of the daemon's, e.g. linux/arm64 (BuildKit; QEMU through binfmt_misc)
    #[arg(long, value_name = "OS/ARCH")]
    pub platform: Option<String>,
    /// Directory of the build logs (OUT_DIR/build-logs)
    #[arg(
        long,
        default_value = super::args::DEFAULT_OUT_DIR,
        env = "STACKTAG_OUT_DIR",
        value_name = "DIR"
    )]
    pub out_dir: PathBuf,
}

pub async fn run(hierarchy: Hierarchy, args: BuildArgs, ui: &Ui) -> Result<(), Error> {
    let quiet = ui.quiet;
    let images = args.images.chosen(&hierarchy)?;
    let (registry, owner) = args.name.registry_owner(&hierarchy);
    let build_args = args
        .build_args
        .iter()
        .map(|a| build::parse_build_arg(a))
        .collect::<Result<Vec<_>, _>>()?;
    let options = Options {
        registry,
        owner,
        variant: args.name.variant.clone(),
        jobs: args
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
        log_dir: args.out_dir.join("build-logs"),
        build_args,
        cache_from_registry: args.cache_from_registry,
        push_cache: args.push_cache,
        reverify: args.reverify,
        no_cache: args.no_cache,
        now: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        builder: match args.builder {
            BuilderArg::Buildkit => BuilderKind::BuildKit,
            BuilderArg::Classic => BuilderKind::Classic,
        },
        builder_why: asked_by(args.builder),
        steps: match args.progress {
            ProgressArg::Plain => StepLines::Plain,
            ProgressArg::Tty => StepLines::Tty,
            ProgressArg::Quiet => StepLines::Quiet,
            ProgressArg::Auto if std::io::IsTerminal::is_terminal(&std::io::stderr()) => {
                StepLines::Tty
            }
            ProgressArg::Auto => StepLines::Plain,
        },
        secrets: args
            .secrets
            .iter()
            .map(|s| Secret::parse(s))
            .collect::<Result<Vec<_>, _>>()?,
        platform: args.platform.clone(),
        proxies: build::settings::proxies(&hierarchy.proxies),
        records: build::record::Records {
            dir: build::record::Records::default_dir(),
        },
    };
    // A secret that cannot be read stops the run before any build.
    for s in &options.secrets {
        s.value()?;
    }
    let targets = build::targets(&hierarchy, &images, &options)?;
    let session = Session::connect().await?;
    let temp_tags: Arc<Mutex<HashSet<String>>> = Arc::default();
    let plan = args.plan;
    let stack = (hierarchy.platforms.clone(), hierarchy.path.clone());
    let work = {
        let (session, temp_tags) = (session.clone(), temp_tags.clone());
        async move {
            let progress = Progress::new(quiet || plan);
            let mut builder = Builder::new(&session, &options, &progress, plan).await?;
            not_for_this_daemon(&stack, &builder.platform)?;
            if let (Some(note), false) = (&builder.note, quiet) {
                crate::console::warn(format_args!("{note}"));
            }
            builder.temp_tags = temp_tags;
            let (reports, errors) = builder.run(&targets).await;
            let chosen = (builder.builder, builder.why.clone());
            Ok((builder.platform.clone(), chosen, reports, errors))
        }
    };
    let outcome = guarded(&session, work).await;
    // A run stopped between build and verify leaves no unverified tag.
    let left: Vec<String> = temp_tags.lock().expect("poisoned").drain().collect();
    for t in left {
        if let Err(e) = build::run::remove_tag(&session.docker, &t).await {
            crate::console::warn(format_args!("{e}"));
        }
    }
    let (platform, kind, reports, mut errors) = outcome?;
    ui.out(&if plan {
        plan_text(&platform, &kind, &reports)
    } else {
        summary(&reports)
    });
    ui.result(Body::Build(BuildRun::new(&platform, &kind, &reports)));
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        _ => Err(Error::Several(errors)),
    }
}

/// A stack whose `platforms:` leaves out the daemon's is not built on it.
fn not_for_this_daemon(
    (platforms, path): &(Option<(Vec<Platform>, usize)>, PathBuf),
    daemon: &str,
) -> Result<(), Error> {
    let Some((platforms, line)) = platforms else {
        return Ok(());
    };
    let arch = daemon.rsplit('/').next().unwrap_or(daemon);
    match arch.parse::<Platform>() {
        Ok(p) if !platforms.contains(&p) => Err(ConfigError {
            path: path.clone(),
            line: *line,
            message: format!(
                "this Docker daemon builds {p} ({daemon}), which the stack's `platforms:` leaves out ({})\n  fix: build on a daemon of one of those platforms, or add {p} to `platforms:`",
                platforms.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            ),
            more: Vec::new(),
        }
        .into()),
        _ => Ok(()),
    }
}

/// The builder `stacktag build` would use and why, for `check`: the
/// daemon is asked, with a deadline; a daemon that does not answer is no
/// error here (the file is still checked), the builder is then unknown.
pub async fn builder_for_check() -> (Option<BuilderKind>, String) {
    let asked = match std::env::var("STACKTAG_BUILDER").ok().as_deref() {
        Some("classic") => (BuilderKind::Classic, "STACKTAG_BUILDER=classic".to_string()),
        Some(other) if !other.is_empty() => {
            (BuilderKind::BuildKit, format!("STACKTAG_BUILDER={other}"))
        }
        _ => (BuilderKind::BuildKit, "the default".to_string()),
    };
    let host =
        std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
    let ask = async {
        let session = Session::open().await.ok()?;
        let v = session.docker.version().await.ok()?;
        Some(build::buildkit::choose(&session.host, &v, asked.0, &asked.1).await)
    };
    match tokio::time::timeout(std::time::Duration::from_secs(10), ask).await {
        Ok(Some(c)) => (Some(c.builder), c.why),
        _ => (None, format!("no Docker daemon answers at {host}")),
    }
}

/// Who asked for the builder: the flag, the environment, or nobody.
pub fn asked_by(builder: BuilderArg) -> String {
    let name = match builder {
        BuilderArg::Buildkit => "buildkit",
        BuilderArg::Classic => "classic",
    };
    let flag = std::env::args_os().any(|a| a.to_string_lossy().starts_with("--builder"));
    if flag {
        format!("--builder {name}")
    } else if std::env::var_os("STACKTAG_BUILDER").is_some() {
        format!("STACKTAG_BUILDER={name}")
    } else {
        "the default".into()
    }
}

fn plan_text(platform: &str, (builder, why): &(BuilderKind, String), reports: &[Report]) -> String {
    let width = reports.iter().map(|r| r.image.len()).max().unwrap_or(0);
    let builds = reports.iter().filter(|r| r.action != Action::Reuse).count();
    let mut text = format!(
        "plan for {platform} ({builder} builder): {} images, {builds} to build or pull\nbuilder: {builder} ({why})\n",
        reports.len()
    );
    for r in reports {
        text += &format!(
            "  {:<5}  {:<width$}  {}\n",
            r.action.to_string(),
            r.image,
            r.why.join("; ")
        );
    }
    text
}

fn summary(reports: &[Report]) -> String {
    let mut text = String::new();
    for r in reports {
        let id = r.id.as_deref().map_or("", build::run::short_id);
        let verb = match r.action {
            Action::Reuse => "reused",
            Action::Pull => "pulled",
            Action::Build => "built",
        };
        // Said of an image rebuilt to the image it was: why nothing below it moved.
        let same = r
            .why
            .iter()
            .find(|w| w.starts_with("rebuilt, same image") || w.contains(" rebuilt, same image"))
            .map_or(String::new(), |w| format!(": {w}"));
        text += &format!(
            "{}: {verb} {id}{} ({:.2}s){same}\n",
            r.reference,
            if r.verified { ", verified" } else { "" },
            r.seconds
        );
        if let Some(log) = &r.log {
            text += &format!("  log: {}\n", log.display());
        }
    }
    text
}

impl super::Run for BuildArgs {
    fn output(&self) -> &super::Output {
        super::format_only(self.format)
    }

    async fn run(self, cx: &super::Context<'_>) -> Result<(), Error> {
        let hierarchy = cx.hierarchy(crate::hierarchy::Names::Any)?;
        run(hierarchy, self, cx.ui).await
    }
}
