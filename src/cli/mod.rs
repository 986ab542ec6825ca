//! The command line: clap definitions, one small file per command group,
//! and the only place that prints for the user. `--help` is the manual.
//! The library never imports this module.

mod archive;
mod args;
mod build;
mod ci;
mod diff;
pub mod exit;
mod find;
mod gc;
mod help;
mod hook;
mod hook_cache;
pub mod json;
mod prune;
mod publish;
mod registry_ops;
mod sbom;
mod stack;
mod supply;
mod wiki;

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

pub use args::{Dirs, Format, ImageName, Images, Naming, Output, PublishAuth, RunArgs, TagsDir};
pub use publish::ImageRefArgs;

use crate::error::Error;
use crate::hierarchy::{Hierarchy, Names};

/// Declares the `Command` enum and its two dispatches (`output`, `run`) from
/// one list, so that a new command is one arm here and its own file.
macro_rules! commands {
    ($( $(#[$meta:meta])* $variant:ident($args:ty), )*) => {
        #[derive(Debug, Subcommand)]
        pub enum Command {
            $( $(#[$meta])* $variant($args), )*
        }

        impl Command {
            /// `--format` and `--metadata-file` of the command.
            pub fn output(&self) -> &Output {
                match self {
                    $( Command::$variant(a) => a.output(), )*
                }
            }

            async fn run(self, cx: &Context<'_>) -> Result<(), Error> {
                match self {
                    $( Command::$variant(a) => a.run(cx).await, )*
                }
            }
        }
    };
}

/// What a command is to the rest of the CLI: its output options and its run.
/// Each command's `Args` type implements it in the command's own file.
pub(crate) trait Run {
    /// `--format` and `--metadata-file`; a command with no document of the
    /// common shape prints text.
    fn output(&self) -> &Output {
        &TEXT_ONLY
    }

    /// Does the work; results and messages go through `cx.ui`.
    async fn run(self, cx: &Context<'_>) -> Result<(), Error>;
}

/// What every command's run is given: the `--config` file and the Ui.
pub struct Context<'a> {
    pub config: Option<&'a Path>,
    pub ui: &'a Ui,
}

impl Context<'_> {
    /// The hierarchy file, its warnings said. Commands that run taggers ask
    /// for `Names::Known` (every name in this binary); the others accept a
    /// plugin binary's names with a warning.
    pub fn hierarchy(&self, names: Names) -> Result<Hierarchy, Error> {
        let hierarchy = Hierarchy::load_default(self.config, names)?;
        for w in &hierarchy.warnings {
            self.ui.warn(w);
        }
        Ok(hierarchy)
    }
}

#[derive(Debug, Parser)]
#[command(name = "stacktag", version, max_term_width = 100, about = help::ABOUT, long_about = help::LONG_ABOUT, after_long_help = help::after_long_help())]
pub struct Cli {
    /// Hierarchy file [default: ./hierarchy.yaml]
    #[arg(long, global = true, env = "STACKTAG_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Print no progress (step lines; on a terminal, the status line of running commands)
    #[arg(short, long, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

// Each command: its one-line help, its manual (long help, exit codes,
// examples, written in the command's own file) and its `Args` type, which is
// all `mod.rs` knows of it; what it does is the type's `Run` in that file.
commands! {
    /// Build images and their ancestors in dependency order; unchanged ones are reused, not rebuilt
    #[command(long_about = build::LONG_ABOUT, after_long_help = help::after(build::CODES, build::EXAMPLES))]
    Build(build::BuildArgs),
    /// What changed between two builds of an image: packages per section, and tags
    #[command(long_about = diff::LONG_ABOUT, after_long_help = help::after(diff::CODES, diff::EXAMPLES))]
    Diff(diff::DiffArgs),
    /// Which builds hold what: builds whose packages and tags meet constraints, newest first
    #[command(long_about = find::LONG_ABOUT, after_long_help = help::after(find::CODES, find::EXAMPLES))]
    Find(find::FindArgs),
    /// Remove the containers left by runs that are no longer alive (every run also does)
    #[command(long_about = gc::LONG_ABOUT, after_long_help = help::after(gc::CODES, gc::EXAMPLES))]
    Gc(gc::GcArgs),
    /// Remove the stack's local images no longer needed (not latest, not a parent in use, not in a tags file)
    #[command(long_about = prune::LONG_ABOUT, after_long_help = help::after(prune::CODES, prune::EXAMPLES))]
    Prune(prune::PruneArgs),
    /// Tags file, manifest, history line and tags applied: one container per image, images concurrently
    #[command(long_about = hook::HOOK_LONG_ABOUT, after_long_help = help::after(hook::HOOK_CODES, hook::HOOK_EXAMPLES))]
    Hook(hook::HookArgs),
    /// Write the tags file of one image (upstream's write_tags_file)
    #[command(long_about = hook::TAGS_FILE_LONG_ABOUT, after_long_help = help::after(hook::HOOK_CODES, hook::TAGS_FILE_EXAMPLES))]
    TagsFile(hook::TagsFileArgs),
    /// Write the build manifest and history line of one image (upstream's write_manifest)
    #[command(long_about = hook::MANIFEST_LONG_ABOUT, after_long_help = help::after(hook::HOOK_CODES, hook::MANIFEST_EXAMPLES))]
    Manifest(hook::ManifestArgs),
    /// Apply the tags of an image's tags file to the image (upstream's apply_tags)
    #[command(long_about = hook::APPLY_LONG_ABOUT, after_long_help = help::after(hook::APPLY_CODES, hook::APPLY_EXAMPLES))]
    Apply(hook::ApplyArgs),
    /// Show the taggers and manifests an image gets, and the ancestor each comes from
    #[command(long_about = stack::EXPLAIN_LONG_ABOUT, after_long_help = help::after(stack::CODES, stack::EXPLAIN_EXAMPLES))]
    Explain(stack::ExplainArgs),
    /// Validate the hierarchy file and print the image tree
    #[command(long_about = stack::CHECK_LONG_ABOUT, after_long_help = help::after(stack::CODES, stack::CHECK_EXAMPLES))]
    Check(stack::CheckArgs),
    /// List the known taggers and manifests (built-in, plugins, declared in the hierarchy file)
    #[command(long_about = stack::LIST_LONG_ABOUT, after_long_help = help::after(stack::CODES, stack::LIST_EXAMPLES))]
    List(stack::ListArgs),
    /// Add builds (manifests, history lines) to the wiki checkout, and/or render it as HTML
    #[command(long_about = wiki::LONG_ABOUT, after_long_help = help::after(wiki::CODES, wiki::EXAMPLES))]
    Wiki(wiki::WikiArgs),
    /// Push every tag of an image's tags file to its registry, through the Docker daemon
    #[command(long_about = help::codes(publish::PUSH_LONG_ABOUT), after_help = help::codes(help::REGISTRY_HELP), after_long_help = help::registry_after(publish::PUSH_EXAMPLES))]
    Push(publish::PushArgs),
    /// Put the multi-platform tags: one image index per merged tag, straight into the registry
    #[command(long_about = publish::MERGE_LONG_ABOUT, after_help = help::codes(help::REGISTRY_HELP), after_long_help = help::registry_after(publish::MERGE_EXAMPLES))]
    Merge(publish::MergeArgs),
    /// Print name@sha256:... of a pushed image, read from the registry (for signing)
    #[command(long_about = publish::IMAGE_REF_LONG_ABOUT, after_help = help::codes(help::REGISTRY_HELP), after_long_help = help::registry_after(publish::IMAGE_REF_EXAMPLES))]
    ImageRef(publish::ImageRefArgs),
    /// Attach the SBOM files of an image's build to its pushed platform image (OCI artifacts)
    #[command(long_about = supply::ATTACH_LONG_ABOUT, after_help = help::codes(help::REGISTRY_HELP), after_long_help = help::registry_after(supply::ATTACH_EXAMPLES))]
    Attach(supply::AttachArgs),
    /// Copy tags to another registry: indexes whole, with attestations and SBOM referrers, tags last
    #[command(long_about = registry_ops::COPY_LONG_ABOUT, after_help = help::codes(help::REGISTRY_HELP), after_long_help = registry_ops::after_long_help(registry_ops::COPY_EXAMPLES))]
    Copy(registry_ops::CopyArgs),
    /// Delete tags, and the manifests (with their referrers) no other tag needs
    #[command(long_about = help::codes(registry_ops::DELETE_LONG_ABOUT), after_help = help::codes(help::REGISTRY_HELP), after_long_help = registry_ops::after_long_help(registry_ops::DELETE_EXAMPLES))]
    Delete(registry_ops::DeleteArgs),
    /// Keep the newest builds of an image (and what moving tags and the wiki need); delete the rest
    #[command(long_about = help::codes(registry_ops::RETAIN_LONG_ABOUT), after_help = help::codes(help::REGISTRY_HELP), after_long_help = registry_ops::after_long_help(registry_ops::RETAIN_EXAMPLES))]
    Retain(registry_ops::RetainArgs),
    /// List an image's tags in the registry: digest, platforms, and the build each belongs to
    #[command(long_about = registry_ops::TAGS_LONG_ABOUT, after_help = help::codes(help::REGISTRY_HELP), after_long_help = registry_ops::after_long_help(registry_ops::TAGS_EXAMPLES))]
    Tags(registry_ops::TagsArgs),
    /// Write each image to an archive (docker-archive, zstd) with its checksum
    #[command(long_about = help::codes(archive::SAVE_LONG_ABOUT), after_long_help = help::after(archive::CODES, archive::SAVE_EXAMPLES))]
    Save(archive::SaveArgs),
    /// Load archives into the daemon, checked against their checksum and name
    #[command(long_about = archive::LOAD_LONG_ABOUT, after_long_help = help::after(archive::CODES, archive::LOAD_EXAMPLES))]
    Load(archive::LoadArgs),
    /// Write the stack's CI pipeline (GitHub Actions, GitLab CI) from the hierarchy file, or check it
    #[command(long_about = help::codes(ci::LONG_ABOUT), after_long_help = help::after(ci::CODES, ci::EXAMPLES))]
    Ci(ci::CiArgs),
}

/// How the run speaks to the user: warnings and progress on stderr (none
/// with --quiet), results on stdout: text, or the command's JSON document,
/// which the command hands over with [`Ui::result`].
pub struct Ui {
    pub quiet: bool,
    pub format: Format,
    body: Mutex<Option<json::Body>>,
}

impl Ui {
    pub fn new(quiet: bool, format: Format) -> Self {
        Ui {
            quiet,
            format,
            body: Mutex::new(None),
        }
    }

    /// Text for stdout: printed unless the output is JSON.
    pub fn out(&self, text: &str) {
        if self.format == Format::Text {
            out(text);
        }
    }

    /// What the command did, for its JSON document; on a failed run, what
    /// was done before the failure.
    pub fn result(&self, body: json::Body) {
        *self.body.lock().expect("poisoned") = Some(body);
    }

    /// The documents of a command made one image at a time: the one
    /// image's, or with several images (or --all) `images[]`, one each.
    pub fn results(&self, one: bool, mut docs: Vec<json::Body>) {
        let body = match (one, docs.len()) {
            (_, 0) => return,
            (true, _) => docs.remove(0),
            (false, _) => json::Body::Several { images: docs },
        };
        self.result(body);
    }

    fn take_result(&self) -> Option<json::Body> {
        self.body.lock().expect("poisoned").take()
    }

    pub fn warn(&self, message: impl Display) {
        if !self.quiet {
            crate::console::warn(format_args!("{message}"));
        }
    }

    /// A progress or summary line on stderr.
    pub fn say(&self, line: impl Display) {
        if !self.quiet {
            crate::console::line(format_args!("{line}"));
        }
    }
}

/// Parses the command line, runs, prints any error (and the JSON document
/// when asked for one), and returns the exit code.
pub fn main() -> ExitCode {
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|m| Ok((Cli::from_arg_matches(&m)?, m)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            let _ = e.print();
            if !e.use_stderr() {
                return ExitCode::SUCCESS;
            }
            let args: Vec<String> = std::env::args().skip(1).collect();
            let (command, output) = usage_output(&args);
            let error = json::ErrorDoc {
                message: usage_message(&e.to_string()),
                exit_code: exit::USAGE,
                errors: Vec::new(),
            };
            return finish(&command, &output, None, Some(error));
        }
    };
    // The subcommand's name as clap knows it (as typed, e.g. `image-ref`).
    let command = matches.subcommand_name().unwrap_or("stacktag").to_string();
    let output = cli.command.output().clone();
    let ui = Ui::new(cli.quiet, output.format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let message = format!("cannot start the async runtime: {e}");
            crate::console::line(format_args!("stacktag: error: {message}"));
            let error = json::ErrorDoc {
                message,
                exit_code: exit::INTERNAL,
                errors: Vec::new(),
            };
            return finish(&command, &output, None, Some(error));
        }
    };
    let error = match runtime.block_on(run(cli, &ui)) {
        Ok(()) => None,
        Err(e) => {
            crate::console::line(format_args!("stacktag: error: {}", exit::message(&e)));
            Some(json::ErrorDoc::of(&e))
        }
    };
    finish(&command, &output, ui.take_result(), error)
}

/// Prints the JSON document and writes the metadata file, as asked; the
/// exit code of the run (8 if it succeeded but the file could not be written).
fn finish(
    command: &str,
    output: &Output,
    body: Option<json::Body>,
    error: Option<json::ErrorDoc>,
) -> ExitCode {
    let mut code = error.as_ref().map_or(exit::OK, |e| e.exit_code);
    if output.wants_json() {
        let text = json::Document::new(command, body, error).to_text();
        if output.format == Format::Json {
            out(&text);
        }
        if let Some(file) = &output.metadata_file {
            if let Err(e) = json::write_file(file, &text) {
                crate::console::line(format_args!("stacktag: error: the metadata file: {e}"));
                if code == exit::OK {
                    code = exit::exit_code(&e);
                }
            }
        }
    }
    ExitCode::from(code as u8)
}

/// clap's whole message (every missing argument, the usage line), without
/// its `error: ` prefix and the `--help` tip that only a terminal needs.
fn usage_message(text: &str) -> String {
    let text = text.strip_prefix("error: ").unwrap_or(text);
    let text = text
        .trim_end()
        .strip_suffix("For more information, try '--help'.")
        .unwrap_or(text);
    text.trim_end().to_string()
}

/// A command line clap refused still gets its JSON document when it asks
/// for one: the subcommand and the output options, read as they were given.
fn usage_output(args: &[String]) -> (String, Output) {
    let mut output = Output {
        format: Format::Text,
        metadata_file: None,
    };
    let mut command = "stacktag".to_string();
    let mut it = args.iter().peekable();
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (a.as_str(), None),
        };
        let mut value = || inline.clone().or_else(|| it.next().cloned());
        match flag {
            "--format" if value().as_deref() == Some("json") => output.format = Format::Json,
            "--metadata-file" => output.metadata_file = value().map(PathBuf::from),
            _ if command == "stacktag"
                && Cli::command()
                    .get_subcommands()
                    .any(|s| s.get_name() == flag) =>
            {
                command = flag.to_string();
            }
            _ => {}
        }
    }
    (command, output)
}

/// Writes to stdout; a closed pipe (`stacktag list | head`) is not an error.
pub(crate) fn out(text: &str) {
    crate::console::out(text);
}

/// The output options of commands that print text only.
static TEXT_ONLY: Output = Output {
    format: Format::Text,
    metadata_file: None,
};

/// `--format json` of the commands that take no `--metadata-file` (build, diff).
static JSON_ONLY: Output = Output {
    format: Format::Json,
    metadata_file: None,
};

/// The output options of a command whose only one is `--format`.
fn format_only(format: Format) -> &'static Output {
    match format {
        Format::Text => &TEXT_ONLY,
        Format::Json => &JSON_ONLY,
    }
}

/// The whole run of a parsed command line.
pub async fn run(cli: Cli, ui: &Ui) -> Result<(), Error> {
    let cx = Context {
        config: cli.config.as_deref(),
        ui,
    };
    cli.command.run(&cx).await
}
