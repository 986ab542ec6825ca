//! `stacktag diff`: what changed between two builds of an image.

use std::path::PathBuf;

use clap::Args;

use super::exit::{IO, OK, USAGE};
use super::json::{Body, DiffDoc};
use super::{Format, Ui};
use crate::diff::{self, changes, WikiDiff};
use crate::error::Error;
use crate::formats::tags::{Platform, DEFAULT_VARIANT};

pub const LONG_ABOUT: &str = "\
What changed between two builds of an image: for apt, pip, conda, R and Julia the packages added,
removed and changed (old -> new version), read from the manifests, and the tags whose value
changed (python-3.12.9 -> python-3.13.1). Sections declared in hierarchy.yaml are compared too:
one whose output is `name version` pairs as packages, any other line by line; a section with no
command output to compare is named as not compared. Two manifest files, or --wiki-dir with --image
for the newest build in the wiki against the one before it. Markdown, or --format json.
It compares two builds of one image, so it takes no IMAGE... and no --all: OLD and NEW are files,
and --image names the one image of --wiki-dir.";

pub const EXAMPLES: &str = "  stacktag diff old/x86_64-default-base-notebook-aaaa.md new/x86_64-default-base-notebook-bbbb.md
  stacktag diff --wiki-dir ../stack.wiki --image base-notebook --format json";

pub const CODES: &[i32] = &[OK, USAGE, IO];

#[derive(Debug, Args)]
#[command(
    after_help = super::help::codes("Exit codes: #OK also when the wiki has no earlier build to compare with (it says so); \
#USAGE two manifests of different images, platforms or variants (without --force), or no build of the \
image in the wiki; #IO a file that cannot be read or is not a build manifest.")
)]
#[command(group(clap::ArgGroup::new("builds").required(true).args(["old", "wiki_dir"])))]
pub struct DiffArgs {
    /// The older build's manifest (.md, from `stacktag hook` or the wiki)
    #[arg(requires = "new", value_name = "OLD")]
    pub old: Option<PathBuf>,
    /// The newer build's manifest
    #[arg(value_name = "NEW")]
    pub new: Option<PathBuf>,
    /// Instead of two files: the wiki checkout, whose newest build of --image is compared
    /// with the one before it
    #[arg(long, value_name = "DIR", conflicts_with = "old", requires = "image")]
    pub wiki_dir: Option<PathBuf>,
    /// Image name (with --wiki-dir)
    #[arg(long, requires = "wiki_dir")]
    pub image: Option<String>,
    /// x86_64 or aarch64 (with --wiki-dir) [default: the platform of the image's newest build]
    #[arg(long, requires = "wiki_dir")]
    pub platform: Option<String>,
    /// Variant (with --wiki-dir)
    #[arg(long, default_value = DEFAULT_VARIANT, requires = "wiki_dir")]
    pub variant: String,
    /// Compare two manifests even if they are of different images, platforms or variants
    #[arg(long)]
    pub force: bool,
    /// Output format: text (the changes in markdown), or one JSON document (docs/json.md)
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub fn run(args: DiffArgs, ui: &Ui) -> Result<(), Error> {
    let changes = match (&args.old, &args.new, &args.wiki_dir) {
        (Some(old), Some(new), _) => diff::files(old, new, args.force)?,
        (_, _, Some(wiki)) => {
            let image = args.image.as_deref().expect("clap requires --image");
            let platform = Platform::parse_option(args.platform.as_deref())?.map(|p| p.to_string());
            let found = diff::wiki(wiki, image, platform.as_deref(), &args.variant, &mut |w| {
                crate::console::warn(format_args!("{w}"))
            })?;
            match found {
                WikiDiff::Changes(c) => *c,
                WikiDiff::NoPrevious { page } => {
                    ui.out(&format!(
                        "No previous build of {image} in {}: {page} is its only build there.\n",
                        wiki.display()
                    ));
                    ui.result(Body::Diff(DiffDoc::NoPrevious {
                        previous: (),
                        newest: page,
                    }));
                    return Ok(());
                }
            }
        }
        _ => unreachable!("clap requires OLD NEW or --wiki-dir"),
    };
    ui.out(&changes::markdown(&changes));
    ui.result(Body::Diff(DiffDoc::Changes(Box::new(changes))));
    Ok(())
}

impl super::Run for DiffArgs {
    fn output(&self) -> &super::Output {
        super::format_only(self.format)
    }

    async fn run(self, cx: &super::Context<'_>) -> Result<(), Error> {
        run(self, cx.ui)
    }
}
