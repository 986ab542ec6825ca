//! The command line: clap definitions, and the few lines that turn each
//! subcommand into library calls. `--help` is the manual.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use clap::{Args, Parser, Subcommand};

use crate::container::Limits;
use crate::error::{exit, ConfigError, Error};
use crate::git::Commit;
use crate::guard::{guarded, Critical};
use crate::hierarchy::Hierarchy;
use crate::pipeline::{Job, OutputDirs, Steps};
use crate::plugin;
use crate::progress::Progress;
use crate::run::BuildInfo;
use crate::session::Session;
use crate::tags::{self, Platform, DEFAULT_VARIANT};

mod diff;
mod sbom;

const ABOUT: &str =
    "Tag a stack of Docker images from what runs inside them, and write their build manifests";

const LONG_ABOUT: &str = "\
Tag a stack of Docker images from what runs inside them, and write their build manifests.

After a stack is built, stacktag starts each image once (one container, networking off,
its entrypoint replaced by `sleep infinity`), runs the commands its taggers and manifests
need (each command once, all at the same time, no shell), removes the container, and then,
only if every tagger and manifest of the image succeeded, writes the files and applies the tags.

The stack is described by a hierarchy file (--config, else ./hierarchy.yaml, else the demo
stack built into stacktag): each image names its parent, taggers, manifests and variants,
and gets its ancestors' taggers and manifests, root first.

Files (under --out-dir, default build/stacktag, or the single-directory options):
  tags/{platform}-{variant}-{image}.txt                 full references, one per line
  manifests/{platform}-{variant}-{image}-{sha12}.md     the build manifest (markdown)
  hist_lines/{platform}-{variant}-{image}-{sha12}.txt   the wiki's build history row
  sbom/{platform}-{variant}-{image}-{sha12}.spdx.json   with --sbom: SPDX 2.3 SBOM (and .cdx.json:
                                                        CycloneDX 1.6)

The commit is HEAD of the git repository around --repo-dir (default: the current directory).
The daemon is found like the docker CLI finds it: DOCKER_HOST (unix:// or tcp://), else
/var/run/docker.sock; with DOCKER_TLS_VERIFY=1, over TLS with ca.pem, cert.pem and key.pem from
DOCKER_CERT_PATH (default ~/.docker). ssh:// is not supported: tunnel the socket instead.";

const EXIT_CODES: &str = "\
Exit codes:
  0    success
  1    internal error (a bug: please report it)
  2    bad command line
  3    bad hierarchy file, unknown image, tagger or manifest
  4    image not found on the daemon, or --platform disagrees with it
  5    a command in the container failed, hung, or gave output no tag can be made of
  6    the Docker daemon is unreachable or refused a request
  7    git: no repository or no commit at --repo-dir
  8    a file could not be read or written
  9    wiki: an input manifest or history line, a wiki page or the Home template is not
       in the expected format (nothing was written)
  10   wiki: another `stacktag wiki` is updating the same wiki (see --wait)
  11   the registry is unreachable or failed (after retries), or refused a request
  12   the registry refused the credentials (401/403), or they could not be read
  13   merge: a platform image is missing in the registry; image-ref: no such tag there
  130  interrupted (Ctrl-C); 143 terminated (SIGTERM). Containers are removed either way;
       an image whose tags were being applied gets all of them (and its files) first.

Examples:
  stacktag hook base-notebook                 tag, manifest and history line, in one go
  stacktag hook --all                         every image of the stack, concurrently
  stacktag explain r-notebook                 what runs on an image, and where it comes from
  stacktag check --config my/hierarchy.yaml   validate a hierarchy file
  stacktag wiki --wiki-dir ../stack.wiki --hist-lines-dir build/stacktag/hist_lines \\
      --manifests-dir build/stacktag/manifests --html build/wiki-html
                                              add the builds to the wiki, then render it";

const REGISTRY_HELP: &str = "\
Credentials, first found wins: --username with --password-stdin; STACKTAG_REGISTRY_USER and
STACKTAG_REGISTRY_PASSWORD; the Docker config (DOCKER_CONFIG or ~/.docker/config.json, credential
helpers and identity tokens included); else anonymous. Loopback registries (localhost, 127.*) are spoken to in plain
HTTP, others in HTTPS. Exit codes: 11 registry unreachable or failing, 12 credentials refused,
13 platform image or tag missing in the registry (see `stacktag --help`).";

#[derive(Debug, Parser)]
#[command(name = "stacktag", version, max_term_width = 100, about = ABOUT, long_about = LONG_ABOUT, after_long_help = EXIT_CODES)]
pub struct Cli {
    /// Hierarchy file [default: ./hierarchy.yaml, else the built-in demo stack]
    #[arg(long, global = true, env = "STACKTAG_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Print no progress (step lines; on a terminal, the status line of running commands)
    #[arg(short, long, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Tags file, manifest, history line and tags applied: one container per image, images concurrently
    Hook(HookArgs),
    /// Write the tags file of one image (upstream's write_tags_file)
    Tags(OneImage),
    /// Write the build manifest and history line of one image (upstream's write_manifest)
    Manifest(OneImage),
    /// Apply the tags of an image's tags file to the image (upstream's apply_tags)
    Apply(ApplyArgs),
    /// Show the taggers and manifests an image gets, and the ancestor each comes from
    Explain {
        /// Image name, as in the hierarchy file
        image: String,
        /// Print only the image's ancestors and itself, root first, one per line
        #[arg(long)]
        chain: bool,
    },
    /// Validate the hierarchy file and print the image tree
    Check {
        /// Print only the image names, parents before children, one per line
        #[arg(long)]
        images: bool,
    },
    /// List the known taggers and manifests (built-in and plugins)
    List,
    /// Add builds (manifests, history lines) to the wiki checkout, and/or render it as HTML
    Wiki(WikiArgs),
    /// Push every tag of an image's tags file to its registry, through the Docker daemon
    #[command(after_help = REGISTRY_HELP)]
    Push(PushArgs),
    /// Put the multi-platform tags: one image index per merged tag, straight into the registry
    #[command(after_help = REGISTRY_HELP)]
    Merge(MergeArgs),
    /// Print name@sha256:... of a pushed image, read from the registry (for signing)
    #[command(after_help = REGISTRY_HELP)]
    ImageRef(ImageRefArgs),
    /// What changed between two builds of an image: packages per section, and tags
    Diff(diff::DiffArgs),
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("action").required(true).multiple(true).args(["hist_lines_dir", "html"])))]
pub struct WikiArgs {
    /// Git checkout of the wiki ({repository}.wiki)
    #[arg(long, value_name = "DIR")]
    pub wiki_dir: PathBuf,
    /// History lines to add (*.txt, from `stacktag hook`)
    #[arg(long, value_name = "DIR", requires = "manifests_dir")]
    pub hist_lines_dir: Option<PathBuf>,
    /// Manifests to add (*.md, from `stacktag hook`)
    #[arg(long, value_name = "DIR", requires = "hist_lines_dir")]
    pub manifests_dir: Option<PathBuf>,
    /// GitHub OWNER/REPO of the stack, for Home.md's links [default: from the hierarchy file]
    #[arg(long)]
    pub repository: Option<String>,
    /// Directory inside the stack's git checkout (full history), whose commits Home.md counts
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub repo_dir: PathBuf,
    /// Image whose builds Home.md counts as the stack's builds [default: the root of the hierarchy]
    #[arg(long, value_name = "IMAGE")]
    pub root_image: Option<String>,
    /// Manifests to keep, the newest (GitHub shows at most 5000 wiki pages)
    #[arg(long, default_value_t = crate::wiki::prune::DEFAULT_KEEP, value_name = "N")]
    pub keep: usize,
    /// Home.md template with a `<!-- YEAR_MONTHLY_TABLES -->` marker [default: stacktag's wiki/Home.md]
    #[arg(long, value_name = "FILE")]
    pub home_template: Option<PathBuf>,
    /// Accept empty input directories (only Home.md is refreshed and manifests pruned)
    #[arg(long)]
    pub allow_no_files: bool,
    /// Seconds to wait for another `stacktag wiki` on the same wiki to finish (0: fail at once)
    #[arg(long, default_value_t = 0, value_name = "SECONDS")]
    pub wait: u64,
    /// Render the wiki (after the update, if any) as a static HTML site into DIR
    #[arg(long, value_name = "DIR")]
    pub html: Option<PathBuf>,
}

/// Where the tags files are.
#[derive(Debug, Args, Clone)]
pub struct TagsDir {
    /// Directory for tags/, manifests/ and hist_lines/ (the hook's output)
    #[arg(
        long,
        default_value = "build/stacktag",
        env = "STACKTAG_OUT_DIR",
        value_name = "DIR"
    )]
    pub out_dir: PathBuf,
    /// Tags files directory [default: OUT_DIR/tags]
    #[arg(long, value_name = "DIR")]
    pub tags_dir: Option<PathBuf>,
}

impl TagsDir {
    pub fn dir(&self) -> PathBuf {
        self.tags_dir
            .clone()
            .unwrap_or_else(|| self.out_dir.join("tags"))
    }
}

/// Registry credentials, first found wins: these flags, then STACKTAG_REGISTRY_USER and
/// STACKTAG_REGISTRY_PASSWORD, then the Docker config (DOCKER_CONFIG, ~/.docker/config.json,
/// credential helpers).
#[derive(Debug, Args, Clone)]
pub struct PublishAuth {
    /// Registry user name (the password is read from stdin)
    #[arg(long, requires = "password_stdin")]
    pub username: Option<String>,
    /// Read the registry password from stdin
    #[arg(long, requires = "username")]
    pub password_stdin: bool,
    /// Tries per registry request; connection failures, timeouts and 5xx are retried with backoff
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub tries: u32,
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// Image name, as in the hierarchy file
    #[arg(long)]
    pub image: String,
    #[command(flatten)]
    pub naming: Naming,
    #[command(flatten)]
    pub tags: TagsDir,
    #[command(flatten)]
    pub auth: PublishAuth,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Image name, as in the hierarchy file
    #[arg(long)]
    pub image: String,
    #[command(flatten)]
    pub name: ImageName,
    #[command(flatten)]
    pub tags: TagsDir,
    /// Check the registry and print what would be put; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Merge what is there when a platform image is missing, instead of refusing
    #[arg(long)]
    pub allow_missing_platform: bool,
    #[command(flatten)]
    pub auth: PublishAuth,
}

#[derive(Debug, Args)]
pub struct ImageRefArgs {
    /// Image name, as in the hierarchy file
    #[arg(long)]
    pub image: String,
    #[command(flatten)]
    pub name: ImageName,
    /// The platform image ({platform}-latest) instead of the multi-platform one (latest)
    #[arg(long)]
    pub platform: Option<String>,
    /// Any tag instead of latest
    #[arg(long, conflicts_with = "platform")]
    pub tag: Option<String>,
    #[command(flatten)]
    pub auth: PublishAuth,
}

#[derive(Debug, Args)]
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
    pub sbom: sbom::SbomArgs,
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
}

/// Registry, owner and variant of the image names; defaults from the hierarchy file.
#[derive(Debug, Args, Clone)]
pub struct ImageName {
    /// Registry of the image names [default: from the hierarchy file]
    #[arg(long)]
    pub registry: Option<String>,
    /// Owner (organisation) of the image names [default: from the hierarchy file]
    #[arg(long)]
    pub owner: Option<String>,
    /// Variant of the image, e.g. cuda12
    #[arg(long, default_value = DEFAULT_VARIANT)]
    pub variant: String,
}

impl ImageName {
    /// The registry and owner given, else the hierarchy file's.
    pub fn registry_owner(&self, h: &Hierarchy) -> (String, String) {
        (
            self.registry.clone().unwrap_or_else(|| h.registry.clone()),
            self.owner.clone().unwrap_or_else(|| h.owner.clone()),
        )
    }
}

/// Image naming and platform; defaults from the hierarchy file.
#[derive(Debug, Args, Clone)]
pub struct Naming {
    #[command(flatten)]
    pub name: ImageName,
    /// x86_64 or aarch64 (arm64); read from the image, an error if it disagrees
    #[arg(long)]
    pub platform: Option<String>,
}

/// Where the hook's files go: tags/, manifests/ and hist_lines/ under OUT_DIR.
#[derive(Debug, Args, Clone)]
pub struct Dirs {
    #[command(flatten)]
    pub tags: TagsDir,
    /// Build manifests directory [default: OUT_DIR/manifests]
    #[arg(long, value_name = "DIR")]
    pub manifests_dir: Option<PathBuf>,
    /// History lines directory [default: OUT_DIR/hist_lines]
    #[arg(long, value_name = "DIR")]
    pub hist_lines_dir: Option<PathBuf>,
}

impl Dirs {
    fn resolve(&self) -> OutputDirs {
        let or = |d: &Option<PathBuf>, sub: &str| {
            d.clone().unwrap_or_else(|| self.tags.out_dir.join(sub))
        };
        OutputDirs {
            tags: self.tags.dir(),
            manifests: or(&self.manifests_dir, "manifests"),
            hist_lines: or(&self.hist_lines_dir, "hist_lines"),
        }
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub naming: Naming,
    #[command(flatten)]
    pub dirs: Dirs,
    /// GitHub OWNER/REPO of the Dockerfiles, for links [default: from the hierarchy file]
    #[arg(long)]
    pub repository: Option<String>,
    /// Directory inside the git checkout of the stack
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub repo_dir: PathBuf,
    /// Build timestamp to use instead of now, e.g. 2026-11-22T23:48:58Z (reproducible builds)
    #[arg(long, env = "STACKTAG_TIMESTAMP")]
    pub timestamp: Option<DateTime<Utc>>,
    /// Seconds a command may run [default: command_timeout from the hierarchy file, else 300]
    #[arg(long, value_name = "SECONDS")]
    pub command_timeout: Option<u64>,
    /// Bytes of output a command may write
    #[arg(long, default_value_t = 64 << 20, value_name = "BYTES")]
    pub max_output: usize,
    /// Give every container networking (otherwise only images with `network: true`)
    #[arg(long)]
    pub network: bool,
}

/// Parses the command line, runs, prints any error, and returns the exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { exit::USAGE as u8 } else { 0 });
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("stacktag: error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::INTERNAL as u8);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stacktag: error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

/// Writes to stdout; a closed pipe (`stacktag list | head`) is not an error.
pub(crate) fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush());
}

pub async fn run(cli: Cli) -> Result<(), Error> {
    let hierarchy = Hierarchy::load_default(cli.config.as_deref())?;
    match cli.command {
        Command::Check { images: true } => {
            out(&hierarchy
                .topological()
                .iter()
                .map(|i| format!("{}\n", i.name))
                .collect::<String>());
            Ok(())
        }
        Command::Check { images: false } => {
            out(&format!(
                "{}: {} images, valid\n{}",
                hierarchy.path.display(),
                hierarchy.images.len(),
                tree(&hierarchy)
            ));
            Ok(())
        }
        Command::List => {
            out(&list());
            Ok(())
        }
        Command::Explain { image, chain: true } => {
            out(&hierarchy
                .resolve(&image)?
                .chain
                .iter()
                .map(|i| format!("{i}\n"))
                .collect::<String>());
            Ok(())
        }
        Command::Explain {
            image,
            chain: false,
        } => {
            out(&explain(&hierarchy, &image)?);
            Ok(())
        }
        Command::Hook(args) => {
            let images = if args.all {
                hierarchy
                    .topological()
                    .iter()
                    .map(|i| i.name.clone())
                    .collect()
            } else {
                args.images.clone()
            };
            for i in &images {
                hierarchy.resolve(i)?;
            }
            let sbom = args.sbom.options(&hierarchy, &args.run.dirs.tags.out_dir);
            execute(
                hierarchy,
                args.run,
                None,
                Steps::HOOK,
                images,
                cli.quiet,
                sbom,
            )
            .await
        }
        Command::Tags(one) => {
            let steps = Steps {
                tags_file: true,
                manifest: false,
                apply: false,
            };
            execute(
                hierarchy,
                one.run,
                one.source,
                steps,
                vec![one.image],
                cli.quiet,
                None,
            )
            .await
        }
        Command::Manifest(one) => {
            let steps = Steps {
                tags_file: false,
                manifest: true,
                apply: false,
            };
            execute(
                hierarchy,
                one.run,
                one.source,
                steps,
                vec![one.image],
                cli.quiet,
                None,
            )
            .await
        }
        Command::Apply(args) => apply(hierarchy, args).await,
        Command::Wiki(args) => crate::wiki::run(&hierarchy, &args, cli.quiet),
        Command::Push(args) => crate::registry::commands::push(hierarchy, args, cli.quiet).await,
        Command::Merge(args) => crate::registry::commands::merge(hierarchy, args, cli.quiet).await,
        Command::ImageRef(args) => crate::registry::commands::image_ref(hierarchy, args).await,
        Command::Diff(args) => diff::run(args),
    }
}

async fn execute(
    hierarchy: Hierarchy,
    run: RunArgs,
    source: Option<String>,
    steps: Steps,
    images: Vec<String>,
    quiet: bool,
    sbom: Option<crate::sbom::Options>,
) -> Result<(), Error> {
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
    let reports = guarded(&session, async move {
        let progress = Progress::new(quiet);
        let job = Job {
            session: &work_session,
            hierarchy: &hierarchy,
            build: &build,
            progress: &progress,
            registry,
            owner,
            variant: run.naming.name.variant.clone(),
            platform,
            source,
            dirs: run.dirs.resolve(),
            steps,
            limits,
            network: run.network,
            sbom,
        };
        job.run_all(&images).await
    })
    .await?;
    for r in reports {
        let mut text = format!(
            "{} ({:.2}s, {} commands):\n",
            r.info.image, r.seconds, r.commands
        );
        for t in &r.tags {
            text += &format!("  {}:{t}\n", r.info.full_name());
        }
        for f in &r.files {
            text += &format!("  wrote {}\n", f.display());
        }
        out(&text);
    }
    Ok(())
}

async fn apply(hierarchy: Hierarchy, args: ApplyArgs) -> Result<(), Error> {
    hierarchy.resolve(&args.image)?;
    let (registry, owner) = args.naming.name.registry_owner(&hierarchy);
    let full = tags::image_name(&registry, &owner, &args.image);
    let source = args.source.unwrap_or_else(|| format!("{full}:latest"));
    let given = Platform::parse_option(args.naming.platform.as_deref())?;
    let session = Session::connect().await?;
    let found = crate::image::find(&session.docker, &source, &args.image, given).await?;
    let path = args.dirs.resolve().tags.join(format!(
        "{}.txt",
        tags::file_stem(found.platform, &args.naming.name.variant, &args.image)
    ));
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let mut wanted = Vec::new();
    for (name, tag) in tags::parse_tags_file(&text) {
        if name != full || !tags::is_valid_tag(&tag) {
            return Err(Error::BadFile {
                path,
                message: format!("`{name}:{tag}` is not a tag of {full}"),
            });
        }
        wanted.push(tag);
    }
    let docker = session.docker.clone();
    let (image, tags) = (args.image.clone(), wanted.clone());
    guarded(&session, async move {
        let _section = Critical::enter()?;
        crate::image::apply_tags(&docker, &image, &source, &full, &tags)
            .await
            .map(drop)
    })
    .await?;
    out(&format!(
        "{}: {} tags applied from {}\n",
        args.image,
        wanted.len(),
        path.display()
    ));
    Ok(())
}

fn list() -> String {
    let mut taggers: Vec<_> = plugin::taggers().collect();
    taggers.sort_by_key(|t| t.name);
    let mut manifests: Vec<_> = plugin::manifests().collect();
    manifests.sort_by_key(|m| m.name);
    let mut text = String::from("taggers:\n");
    for t in taggers {
        text += &format!("  {:<20} {}\n", t.name, t.about);
    }
    text += "manifests:\n";
    for m in manifests {
        text += &format!("  {:<20} {}\n", m.name, m.about);
    }
    text
}

fn explain(h: &Hierarchy, image: &str) -> Result<String, ConfigError> {
    let r = h.resolve(image)?;
    let mut text = format!("{image}\n  chain: {}\n", r.chain.join(" -> "));
    text += &format!("  network: {}\n", if r.network { "on" } else { "off" });
    text += &format!(
        "  variants: default{}\n",
        r.variants
            .iter()
            .map(|v| format!(", {v}"))
            .collect::<String>()
    );
    text += "  taggers (in tag order, after `latest`):\n";
    for t in &r.taggers {
        text += &format!("    {:<20} from {}\n", t.name, t.from);
    }
    text += "  manifests (after the Build Info header):\n";
    for m in &r.manifests {
        text += &format!("    {:<20} from {}\n", m.name, m.from);
    }
    Ok(text)
}

fn tree(h: &Hierarchy) -> String {
    fn walk(
        h: &Hierarchy,
        name: &str,
        depth: usize,
        kids: &std::collections::HashMap<&str, Vec<&str>>,
        text: &mut String,
    ) {
        let spec = h.image(name).expect("listed");
        let variants = if spec.variants.is_empty() {
            String::new()
        } else {
            format!(" (variants: {})", spec.variants.join(", "))
        };
        text.push_str(&format!("{}{name}{variants}\n", "  ".repeat(depth)));
        for k in kids.get(name).into_iter().flatten() {
            walk(h, k, depth + 1, kids, text);
        }
    }
    let kids = h.children();
    let mut text = String::new();
    for root in h.images.iter().filter(|i| i.parent.is_none()) {
        walk(h, &root.name, 0, &kids, &mut text);
    }
    text
}
