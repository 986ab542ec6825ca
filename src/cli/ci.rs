//! `stacktag ci github`, `ci gitlab`, `ci check`: the stack's CI pipeline
//! written from the hierarchy file, and a check that a committed one is
//! what would be written now.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::args::Output;
use super::exit::{CI_STALE, CONFIG, IO, OK, USAGE};
use super::json::{self, Body};
use super::Ui;
use crate::ci::check::{self, CiError, Stale};
use crate::ci::{config_name, Engine, Pipeline};
use crate::error::Error;
use crate::hierarchy::Hierarchy;

pub const LONG_ABOUT: &str = "\
Write the stack's CI pipeline from the hierarchy file: `ci github` a GitHub Actions workflow,
`ci gitlab` a .gitlab-ci.yml; `ci check` fails (exit #CI_STALE, the diff printed) when a committed one
is not what they write now.

The pipeline: a build job per image, variant and platform that needs its parent's job on the same
platform (`stacktag load` of the parent's archive, `build --cache-from-registry`, `hook --sbom`,
`save`); a push job per platform that needs no Docker daemon (`push --archive --attach-sbom`); a
merge job per image once every platform is pushed (`merge`, then `image-ref --digests`: the
digests to sign, signed with cosign when `ci.sign` is true); one wiki job, one writer at a time.
Pull requests build and verify, and push nothing; the default branch publishes (and pushes the `inputs-…`
build cache); a schedule rebuilds what `refresh:` says is stale. Jobs install the release binary
of this stacktag version (checksum checked; `cargo install` when there is none).

From the hierarchy file: `platforms:` (default x86_64) and the `ci:` section, every key optional:
`runners:` (GitHub runs-on per platform [default: ubuntu-24.04, ubuntu-24.04-arm]),
`gitlab_tags:` (GitLab runner tags per platform), `registry_user_secret:` and
`registry_password_secret:` [default: REGISTRY_USER, REGISTRY_PASSWORD], `schedule:` (cron, or
false) [default: \"0 3 * * 1\"], `sign:` [default: false], `branch:` [default: main],
`release_url:` (where jobs download stacktag; {version} and {target} filled in).";

pub const EXAMPLES: &str =
    "  stacktag ci github                        # writes .github/workflows/stacktag.yml
  stacktag ci gitlab --output -             # .gitlab-ci.yml to stdout
  stacktag ci github --output examples/ci/github.yml
  stacktag ci check                         # the files at the default paths that exist
  stacktag ci check --github examples/ci/github.yml --gitlab examples/ci/gitlab-ci.yml";

pub const CODES: &[i32] = &[OK, USAGE, CONFIG, IO, CI_STALE];

#[derive(Debug, Args)]
pub struct CiArgs {
    #[command(subcommand)]
    pub command: CiCommand,
}

#[derive(Debug, Subcommand)]
pub enum CiCommand {
    /// Write the GitHub Actions workflow of the stack
    Github(WriteArgs),
    /// Write the .gitlab-ci.yml of the stack
    Gitlab(WriteArgs),
    #[command(about = super::help::codes("Fail (exit #CI_STALE) and print the diff when a committed CI file is not what `ci` writes now"))]
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct WriteArgs {
    /// File to write (`-`: stdout) [default: .github/workflows/stacktag.yml, .gitlab-ci.yml]
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub format: Output,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A GitHub workflow written by `ci github` [default: .github/workflows/stacktag.yml if it exists]
    #[arg(long, value_name = "FILE")]
    pub github: Option<PathBuf>,
    /// A GitLab file written by `ci gitlab` [default: .gitlab-ci.yml if it exists]
    #[arg(long, value_name = "FILE")]
    pub gitlab: Option<PathBuf>,
    #[command(flatten)]
    pub format: Output,
}

impl super::Run for CiArgs {
    fn output(&self) -> &Output {
        match &self.command {
            CiCommand::Github(a) | CiCommand::Gitlab(a) => &a.format,
            CiCommand::Check(a) => &a.format,
        }
    }

    async fn run(self, cx: &super::Context<'_>) -> Result<(), Error> {
        run(&cx.hierarchy(crate::hierarchy::Names::Any)?, self, cx.ui)
    }
}

pub fn run(h: &Hierarchy, args: CiArgs, ui: &Ui) -> Result<(), Error> {
    match args.command {
        CiCommand::Github(a) => write(h, Engine::Github, a, ui),
        CiCommand::Gitlab(a) => write(h, Engine::Gitlab, a, ui),
        CiCommand::Check(a) => check(h, a, ui),
    }
}

fn pipeline(h: &Hierarchy, engine: Engine) -> Result<Pipeline, Error> {
    Ok(Pipeline::new(h, &config_name(&h.path), engine)?)
}

fn file_json(path: &str, engine: Engine, p: &Pipeline, status: &'static str) -> json::CiFile {
    json::CiFile {
        path: path.to_string(),
        engine: engine.name(),
        status,
        jobs: p.builds.len() + p.ci.platforms.len() + p.merges.len() + 1,
        diff: None,
    }
}

fn write(h: &Hierarchy, engine: Engine, a: WriteArgs, ui: &Ui) -> Result<(), Error> {
    let p = pipeline(h, engine)?;
    let text = engine.render(&p);
    let path = a
        .output
        .unwrap_or_else(|| PathBuf::from(engine.default_path()));
    if path == Path::new("-") {
        // The file is stdout; the JSON document goes to --metadata-file only.
        super::out(&text);
        ui.result(Body::Ci(json::Ci {
            files: vec![file_json("-", engine, &p, "printed")],
        }));
        return Ok(());
    }
    let unchanged = std::fs::read_to_string(&path).is_ok_and(|t| t == text);
    if !unchanged {
        json::write_file(&path, &text)?;
    }
    let status = if unchanged { "unchanged" } else { "written" };
    let doc = file_json(&path.display().to_string(), engine, &p, status);
    ui.out(&format!(
        "{} {status}: {} jobs ({} builds on {}, {} push, {} merge, 1 wiki), {} lines\n",
        path.display(),
        doc.jobs,
        p.builds.len(),
        p.ci.platforms
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" and "),
        p.ci.platforms.len(),
        p.merges.len(),
        text.lines().count()
    ));
    ui.result(Body::Ci(json::Ci { files: vec![doc] }));
    Ok(())
}

fn check(h: &Hierarchy, a: CheckArgs, ui: &Ui) -> Result<(), Error> {
    let mut files: Vec<(PathBuf, Option<Engine>)> = Vec::new();
    if let Some(f) = a.github {
        files.push((f, Some(Engine::Github)));
    }
    if let Some(f) = a.gitlab {
        files.push((f, Some(Engine::Gitlab)));
    }
    if files.is_empty() {
        for e in [Engine::Github, Engine::Gitlab] {
            let p = PathBuf::from(e.default_path());
            if p.is_file() {
                files.push((p, None));
            }
        }
    }
    if files.is_empty() {
        return Err(CiError::Nothing.into());
    }
    let mut docs = Vec::new();
    let mut stale = Vec::new();
    for (path, given) in files {
        let committed = std::fs::read_to_string(&path).map_err(|source| CiError::Read {
            path: path.clone(),
            engine: given.unwrap_or(Engine::Github),
            source,
        })?;
        let engine = match given.or_else(|| check::engine_of(&committed)) {
            Some(e) => e,
            None => return Err(CiError::Unknown { path }.into()),
        };
        let p = pipeline(h, engine)?;
        let wanted = engine.render(&p);
        let mut doc = file_json(&path.display().to_string(), engine, &p, "current");
        match check::compare(&path, &committed, &wanted) {
            None => ui.out(&format!("{}: current\n", path.display())),
            Some((diff, changed)) => {
                ui.out(&diff);
                doc.status = "stale";
                doc.diff = Some(diff.clone());
                stale.push(Stale {
                    path,
                    command: p.command.clone(),
                    changed,
                    diff,
                });
            }
        }
        docs.push(doc);
    }
    ui.result(Body::Ci(json::Ci { files: docs }));
    if stale.is_empty() {
        Ok(())
    } else {
        Err(CiError::Stale { stale }.into())
    }
}
