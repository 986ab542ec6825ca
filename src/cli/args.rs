//! Option groups shared by several commands: image naming, output
//! directories, registry credentials. Each default is decided here, once.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::Args;

use crate::formats::tags::DEFAULT_VARIANT;
use crate::hierarchy::Hierarchy;
use crate::hook::pipeline::OutputDirs;

/// Where every command's files go unless told otherwise (--out-dir).
pub const DEFAULT_OUT_DIR: &str = "build/stacktag";

/// Where the tags files are.
#[derive(Debug, Args, Clone)]
pub struct TagsDir {
    /// Directory for tags/, manifests/ and hist_lines/ (the hook's output)
    #[arg(
        long,
        default_value = DEFAULT_OUT_DIR,
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
    pub fn resolve(&self) -> OutputDirs {
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
    #[arg(long, default_value_t = crate::hook::container::DEFAULT_MAX_OUTPUT, value_name = "BYTES")]
    pub max_output: usize,
    /// Give every container networking (otherwise only images with `network: true`)
    #[arg(long)]
    pub network: bool,
    /// Images processed at once [default: twice the number of cores]
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
}

/// What stdout gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    // diff's text is markdown: `--format markdown` still reads as text.
    #[value(alias = "markdown")]
    Text,
    Json,
}

/// `--format` and `--metadata-file`, on every command.
#[derive(Debug, Args, Clone)]
pub struct Output {
    /// What stdout gets: text for people, or one JSON document, also on failure (docs/json.md)
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also write the JSON document to FILE (whole: a temporary name, then renamed), whatever --format says
    #[arg(long, value_name = "FILE")]
    pub metadata_file: Option<PathBuf>,
}

impl Output {
    /// Whether a JSON document is made at all.
    pub fn wants_json(&self) -> bool {
        self.format == Format::Json || self.metadata_file.is_some()
    }
}
