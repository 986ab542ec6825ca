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
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

pub use args::{Dirs, Format, ImageName, Naming, Output, PublishAuth, RunArgs, TagsDir};
pub use hook::{ApplyArgs, HookArgs, OneImage};
pub use publish::{ImageRefArgs, MergeArgs, PushArgs};
pub use wiki::WikiArgs;

use crate::error::Error;
use crate::hierarchy::{Hierarchy, Names};
use crate::hook::pipeline::Steps;

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

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build images and their ancestors in dependency order; unchanged ones are reused, not rebuilt
    #[command(long_about = build::LONG_ABOUT, after_long_help = help::after(help::BUILD_CODES, help::BUILD_EXAMPLES))]
    Build(build::BuildArgs),
    /// What changed between two builds of an image: packages per section, and tags
    #[command(long_about = help::DIFF, after_long_help = help::after(help::DIFF_CODES, help::DIFF_EXAMPLES))]
    Diff(diff::DiffArgs),
    /// Which builds hold what: builds whose packages and tags meet constraints, newest first
    #[command(long_about = help::FIND, after_long_help = help::after(help::FIND_CODES, help::FIND_EXAMPLES))]
    Find(find::FindArgs),
    /// Remove the containers left by runs that are no longer alive (every run also does)
    #[command(long_about = help::GC, after_long_help = help::after(help::GC_CODES, help::GC_EXAMPLES))]
    Gc(gc::GcArgs),
    /// Remove the stack's local images no longer needed (not latest, not a parent in use, not in a tags file)
    #[command(long_about = help::PRUNE, after_long_help = help::after(help::PRUNE_CODES, help::PRUNE_EXAMPLES))]
    Prune(prune::PruneArgs),
    /// Tags file, manifest, history line and tags applied: one container per image, images concurrently
    #[command(long_about = help::HOOK, after_long_help = help::after(help::HOOK_CODES, help::HOOK_EXAMPLES))]
    Hook(HookArgs),
    /// Write the tags file of one image (upstream's write_tags_file)
    #[command(long_about = help::TAGS_FILE, after_long_help = help::after(help::HOOK_CODES, help::TAGS_FILE_EXAMPLES))]
    TagsFile(OneImage),
    /// Write the build manifest and history line of one image (upstream's write_manifest)
    #[command(long_about = help::MANIFEST, after_long_help = help::after(help::HOOK_CODES, help::MANIFEST_EXAMPLES))]
    Manifest(OneImage),
    /// Apply the tags of an image's tags file to the image (upstream's apply_tags)
    #[command(long_about = help::APPLY, after_long_help = help::after(help::APPLY_CODES, help::APPLY_EXAMPLES))]
    Apply(ApplyArgs),
    /// Show the taggers and manifests an image gets, and the ancestor each comes from
    #[command(long_about = help::EXPLAIN, after_long_help = help::after(help::NAMES_CODES, help::EXPLAIN_EXAMPLES))]
    Explain {
        /// Image name, as in the hierarchy file
        image: String,
        /// Print only the image's ancestors and itself, root first, one per line
        #[arg(long)]
        chain: bool,
        #[command(flatten)]
        output: Output,
    },
    /// Validate the hierarchy file and print the image tree
    #[command(long_about = help::CHECK, after_long_help = help::after(help::NAMES_CODES, help::CHECK_EXAMPLES))]
    Check {
        /// Print only the image names, parents before children, one per line
        #[arg(long)]
        images: bool,
        #[command(flatten)]
        output: Output,
    },
    /// List the known taggers and manifests (built-in, plugins, declared in the hierarchy file)
    #[command(long_about = help::LIST, after_long_help = help::after(help::NAMES_CODES, help::LIST_EXAMPLES))]
    List {
        #[command(flatten)]
        output: Output,
    },
    /// Add builds (manifests, history lines) to the wiki checkout, and/or render it as HTML
    #[command(long_about = help::WIKI, after_long_help = help::after(help::WIKI_CODES, help::WIKI_EXAMPLES))]
    Wiki(WikiArgs),
    /// Push every tag of an image's tags file to its registry, through the Docker daemon
    #[command(long_about = help::codes(help::PUSH), after_help = help::codes(help::REGISTRY_HELP), after_long_help = help::registry_after(help::PUSH_EXAMPLES))]
    Push(PushArgs),
    /// Put the multi-platform tags: one image index per merged tag, straight into the registry
    #[command(long_about = help::MERGE, after_help = help::codes(help::REGISTRY_HELP), after_long_help = help::registry_after(help::MERGE_EXAMPLES))]
    Merge(MergeArgs),
    /// Print name@sha256:... of a pushed image, read from the registry (for signing)
    #[command(long_about = help::IMAGE_REF, after_help = help::codes(help::REGISTRY_HELP), after_long_help = help::registry_after(help::IMAGE_REF_EXAMPLES))]
    ImageRef(ImageRefArgs),
    /// Attach the SBOM files of an image's build to its pushed platform image (OCI artifacts)
    #[command(long_about = help::ATTACH, after_help = help::codes(help::REGISTRY_HELP), after_long_help = help::registry_after(help::ATTACH_EXAMPLES))]
    Attach(supply::AttachArgs),
    /// Copy tags to another registry: indexes whole, with attestations and SBOM referrers, tags last
    #[command(long_about = help::COPY, after_help = help::codes(help::REGISTRY_HELP), after_long_help = help::registry_ops_after(help::COPY_EXAMPLES))]
    Copy(registry_ops::CopyArgs),
    /// Delete tags, and the manifests (with their referrers) no other tag needs
    #[command(long_about = help::codes(help::DELETE), after_help = help::codes(help::REGISTRY_HELP), after_long_help = help::registry_ops_after(help::DELETE_EXAMPLES))]
    Delete(registry_ops::DeleteArgs),
    /// Keep the newest builds of an image (and what moving tags and the wiki need); delete the rest
    #[command(long_about = help::codes(help::RETAIN), after_help = help::codes(help::REGISTRY_HELP), after_long_help = help::registry_ops_after(help::RETAIN_EXAMPLES))]
    Retain(registry_ops::RetainArgs),
    /// List an image's tags in the registry: digest, platforms, and the build each belongs to
    #[command(long_about = help::TAGS, after_help = help::codes(help::REGISTRY_HELP), after_long_help = help::registry_ops_after(help::TAGS_EXAMPLES))]
    Tags(registry_ops::TagsArgs),
    /// Write each image to an archive (docker-archive, zstd) with its checksum
    #[command(long_about = help::codes(help::SAVE), after_long_help = help::after(help::ARCHIVE_CODES, help::SAVE_EXAMPLES))]
    Save(archive::SaveArgs),
    /// Load archives into the daemon, checked against their checksum and name
    #[command(long_about = help::LOAD, after_long_help = help::after(help::ARCHIVE_CODES, help::LOAD_EXAMPLES))]
    Load(archive::LoadArgs),
    /// Write the stack's CI pipeline (GitHub Actions, GitLab CI) from the hierarchy file, or check it
    #[command(long_about = ci::LONG_ABOUT, after_long_help = help::after(help::CI_CODES, ci::EXAMPLES))]
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

fn format_only(format: Format) -> &'static Output {
    match format {
        Format::Text => &TEXT_ONLY,
        Format::Json => &JSON_ONLY,
    }
}

impl Command {
    /// `--format` and `--metadata-file` of the command.
    pub fn output(&self) -> &Output {
        match self {
            Command::Hook(a) => &a.output,
            Command::TagsFile(a) | Command::Manifest(a) => &a.output,
            Command::Copy(a) => &a.output,
            Command::Delete(a) => &a.output,
            Command::Retain(a) => &a.output,
            Command::Tags(a) => &a.output,
            Command::Apply(a) => &a.output,
            Command::Explain { output, .. }
            | Command::Check { output, .. }
            | Command::List { output } => output,
            Command::Wiki(a) => &a.output,
            Command::Push(a) => &a.output,
            Command::Merge(a) => &a.output,
            Command::ImageRef(a) => &a.output,
            Command::Attach(a) => &a.output,
            Command::Save(a) => &a.output,
            Command::Load(a) => &a.output,
            Command::Ci(a) => a.output(),
            Command::Find(a) => &a.output,
            Command::Build(a) => format_only(a.format),
            Command::Diff(a) => format_only(a.format),
            Command::Prune(_) | Command::Gc(_) => &TEXT_ONLY,
        }
    }

    /// Commands that run taggers need every name of the hierarchy in this
    /// binary; the others accept a plugin binary's names with a warning.
    fn names(&self) -> Names {
        match self {
            Command::Hook(_)
            | Command::TagsFile(_)
            | Command::Manifest(_)
            | Command::Explain { .. }
            | Command::List { .. }
            | Command::Check { images: false, .. } => Names::Known,
            _ => Names::Any,
        }
    }
}

pub async fn run(cli: Cli, ui: &Ui) -> Result<(), Error> {
    // The commands that need no stack: gc cleans up after any, diff reads files.
    // The registry commands read the hierarchy file only for short image names.
    let config = cli.config.as_deref();
    match cli.command {
        Command::Gc(args) => return gc::run(args).await,
        Command::Diff(args) => return diff::run(args, ui),
        Command::Find(args) => return find::run(args, ui).await,
        Command::Copy(args) => return registry_ops::copy(config, args, ui).await,
        Command::Delete(args) => return registry_ops::delete(config, args, ui).await,
        Command::Retain(args) => return registry_ops::retain(config, args, ui).await,
        Command::Tags(args) => return registry_ops::tags(config, args, ui).await,
        _ => {}
    }
    let hierarchy = Hierarchy::load_default(cli.config.as_deref(), cli.command.names())?;
    for w in &hierarchy.warnings {
        ui.warn(w);
    }
    match cli.command {
        Command::Check { images, .. } => {
            // Each Dockerfile's FROM is its `parent:`; a Dockerfile not there is not checked.
            let (registry, owner) = (&hierarchy.registry, &hierarchy.owner);
            let items = crate::build::from::items_of(&hierarchy, registry, owner);
            crate::build::from::check(&hierarchy, registry, owner, &items)?;
            let builder = build::builder_for_check().await;
            ui.out(&stack::check(&hierarchy, images, &builder));
            ui.result(json::Body::Check(stack::check_json(&hierarchy, &builder)));
            Ok(())
        }
        Command::List { .. } => {
            ui.out(&stack::list(&hierarchy));
            ui.result(json::Body::List(stack::list_json(&hierarchy)));
            Ok(())
        }
        Command::Explain { image, chain, .. } => {
            ui.out(&stack::explain(&hierarchy, &image, chain)?);
            ui.result(json::Body::Explain(stack::explain_json(
                &hierarchy, &image,
            )?));
            Ok(())
        }
        Command::Hook(args) => {
            let images = hierarchy.chosen(args.all, &args.images);
            for i in &images {
                hierarchy.resolve(i)?;
            }
            archive::warn_if_dirty(&hierarchy, &images);
            let cache = args.cache.cache();
            let sbom = args.sbom.options(&hierarchy, &args.run.dirs.tags.out_dir);
            hook::execute(
                hierarchy,
                args.run,
                None,
                Steps::HOOK,
                images,
                cache,
                sbom,
                ui,
            )
            .await
        }
        Command::TagsFile(one) => {
            let steps = Steps {
                tags_file: true,
                manifest: false,
                apply: false,
            };
            hook::one_image(hierarchy, one, steps, ui).await
        }
        Command::Manifest(one) => {
            let steps = Steps {
                tags_file: false,
                manifest: true,
                apply: false,
            };
            hook::one_image(hierarchy, one, steps, ui).await
        }
        Command::Apply(args) => hook::apply(hierarchy, args, ui).await,
        Command::Wiki(args) => wiki::run(&hierarchy, &args, ui),
        Command::Push(args) => publish::push(hierarchy, args, ui).await,
        Command::Merge(args) => publish::merge(hierarchy, args, ui).await,
        Command::ImageRef(args) => publish::image_ref(hierarchy, args, ui).await,
        Command::Attach(args) => supply::attach(hierarchy, args, ui).await,
        Command::Build(args) => build::run(hierarchy, args, ui).await,
        Command::Prune(args) => prune::run(hierarchy, args).await,
        Command::Gc(_)
        | Command::Diff(_)
        | Command::Find(_)
        | Command::Copy(_)
        | Command::Delete(_)
        | Command::Retain(_)
        | Command::Tags(_) => unreachable!("run before the hierarchy is loaded"),
        Command::Save(args) => archive::save(hierarchy, args, ui).await,
        Command::Load(args) => archive::load(args, ui).await,
        Command::Ci(args) => ci::run(&hierarchy, args, ui),
    }
}
