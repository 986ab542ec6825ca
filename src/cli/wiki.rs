//! `stacktag wiki`: update the wiki checkout, render it, or both.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use super::args::Output;
use super::exit::{CONFIG, GIT, IO, OK, USAGE, WIKI_FORMAT, WIKI_LOCKED};
use super::json::{self, Body};
use super::Ui;
use crate::error::Error;
use crate::error::FileError;
use crate::hierarchy::Hierarchy;
use crate::wiki::{lock, site, update, Options};

pub const LONG_ABOUT: &str = "\
Add builds to the stack's wiki (a git checkout of {repository}.wiki), as upstream's update_wiki:
each manifest to manifests/YYYY/YYYY-MM/, each history line into monthly-files/YYYY/YYYY-MM.md
(newest first, never twice), Home.md rewritten from the template, at most --keep manifests kept.
Every input is checked before anything is written; pages are written whole (temporary file, then
rename). With --html, render the wiki as a static site. Commit and push the checkout yourself.";

pub const EXAMPLES: &str =
    "  stacktag wiki --wiki-dir ../stack.wiki --hist-lines-dir build/stacktag/hist_lines \\
      --manifests-dir build/stacktag/manifests
  stacktag wiki --wiki-dir ../stack.wiki --html build/wiki-html";

pub const CODES: &[i32] = &[OK, USAGE, CONFIG, GIT, IO, WIKI_FORMAT, WIKI_LOCKED];

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
    /// Branch of the stack repository that Home.md's commit links name [default: the repository's
    /// default branch (origin/HEAD), else the checked-out one]
    #[arg(long)]
    pub branch: Option<String>,
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
    #[command(flatten)]
    pub output: Output,
}

/// `stacktag wiki`: update the wiki, render it, or both.
pub fn run(hierarchy: &Hierarchy, args: &WikiArgs, ui: &Ui) -> Result<(), Error> {
    let say = |text: String| {
        if !ui.quiet {
            ui.out(&format!("{}\n", text.trim_end()));
        }
    };
    let mut doc = json::Wiki {
        update: None,
        site: None,
    };
    if let (Some(hist_lines), Some(manifests)) = (&args.hist_lines_dir, &args.manifests_dir) {
        let root = match &args.root_image {
            Some(r) => r.clone(),
            None => hierarchy
                .images
                .iter()
                .find(|i| i.parent.is_none())
                .map(|i| i.name.clone())
                .unwrap_or_default(),
        };
        let options = Options {
            wiki_dir: args.wiki_dir.clone(),
            hist_lines_dir: hist_lines.clone(),
            manifests_dir: manifests.clone(),
            repository: args.repository.clone().unwrap_or_else(|| {
                if hierarchy.defaulted.contains(&"repository") {
                    ui.warn(format_args!(
                        "{} sets no `repository`: Home.md's links point at github.com/{}; \
                             set `repository: OWNER/REPO` there (or pass --repository)",
                        hierarchy.path.display(),
                        hierarchy.repository
                    ));
                }
                hierarchy.repository.clone()
            }),
            repo_dir: args.repo_dir.clone(),
            root_image: root,
            keep: args.keep,
            home_template: args.home_template.clone(),
            allow_no_files: args.allow_no_files,
            wait: Duration::from_secs(args.wait),
            branch: args.branch.clone(),
        };
        let report = update(&options, &mut |w| ui.warn(w))?;
        if let Some(root) = &report.root_image_absent {
            ui.warn(format_args!(
                "no build of the root image `{root}` in the wiki: Home.md counts 0 builds (see --root-image)"
            ));
        }
        say(report.to_string());
        doc.update = Some(report);
    }
    if let Some(out) = &args.html {
        match render(args, out, ui) {
            Ok(report) => {
                say(report.to_string());
                doc.site = Some(report);
            }
            Err(e) => {
                // The update before it is done: the document says so.
                ui.result(Body::Wiki(doc));
                return Err(e);
            }
        }
    }
    ui.result(Body::Wiki(doc));
    Ok(())
}

fn render(args: &WikiArgs, out: &Path, ui: &Ui) -> Result<site::SiteReport, Error> {
    if !args.wiki_dir.is_dir() {
        return Err(FileError::Bad {
            path: args.wiki_dir.clone(),
            message: "no wiki here to render".into(),
        }
        .into());
    }
    // Not while an update rewrites the pages.
    let _lock = lock::Lock::acquire(&args.wiki_dir, Duration::from_secs(args.wait), &mut |w| {
        ui.warn(w)
    })?;
    site::render(&args.wiki_dir, out, &mut |w| ui.warn(w))
}

impl super::Run for WikiArgs {
    fn output(&self) -> &Output {
        &self.output
    }

    async fn run(self, cx: &super::Context<'_>) -> Result<(), Error> {
        run(&cx.hierarchy(crate::hierarchy::Names::Any)?, &self, cx.ui)
    }
}
