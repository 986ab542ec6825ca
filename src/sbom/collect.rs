//! Runs every package tool's command in the image's container (each once,
//! all at the same time, shared with the taggers and manifests through the
//! run-once cache) and reads their output into an [`Inventory`]. Each
//! package manager is listed by one command, which the manifest sections read
//! as well ([`super::listing`]).

use futures_util::future::join_all;

use super::listing;
use super::parse::{self, Failure, OsRelease};
use super::{Inventory, Package, SbomError, Section};
use crate::plugin::command::{Cmd, ExecError};
use crate::plugin::Context;
use crate::plugin::PluginError;

pub const OS_RELEASE: &[&str] = &["cat", "/etc/os-release"];
/// dpkg-query and `apt list --installed`, in one shell ([`listing::APT_SCRIPT`]).
pub const APT: &[&str] = &["sh", "-c", listing::APT_SCRIPT, "sh", parse::DPKG_FORMAT];
/// The dpkg part of [`APT`], as errors name it.
pub const DPKG: &[&str] = &["dpkg-query", "-W", "-f", parse::DPKG_FORMAT];
/// What `pip list --format json` prints, read from the same metadata
/// (`importlib.metadata`, pip's own backend) without pip's start-up, which
/// costs several times more: first distribution of a name on `sys.path`
/// wins, and pip's `python`, `wsgiref`, `argparse` are left out, as pip does.
pub const PIP: &[&str] = &["python", "-c", parse::PIP_SCRIPT];
pub const CONDA: &[&str] = &["conda", "list", "--json"];
/// The library's matrix `## R Packages` shows, then [`parse::R_SCRIPT`]'s lines.
pub const R: &[&str] = &[
    "R",
    "--silent",
    "-e",
    listing::R_LIBRARY,
    "-e",
    parse::R_SCRIPT,
];
pub const JULIA: &[&str] = &["julia", "-e", parse::JULIA_SCRIPT];

/// The command that lists a section's packages.
pub fn command(section: Section) -> &'static [&'static str] {
    match section {
        Section::Apt => APT,
        Section::Pip => PIP,
        Section::Conda => CONDA,
        Section::R => R,
        Section::Julia => JULIA,
    }
}

/// Every section's packages. A tool missing from the image skips its
/// section (said in [`Inventory::skipped`]) unless `required` names it;
/// any other failure, or output that does not parse, is an error.
pub async fn collect(ctx: &Context<'_>, required: &[Section]) -> Result<Inventory, SbomError> {
    let image = ctx.image.image.clone();
    let results = join_all(Section::ALL.map(|s| section(ctx, s))).await;
    let mut inv = Inventory {
        packages: Vec::new(),
        found: Vec::new(),
        skipped: Vec::new(),
    };
    for (s, result) in Section::ALL.into_iter().zip(results) {
        match result {
            Ok(pkgs) => {
                inv.found.push(s);
                inv.packages.extend(pkgs);
            }
            Err(Why::Missing(_)) if !required.contains(&s) => {
                let cmd = program(s);
                inv.skipped.push((
                    s,
                    format!("`{cmd}` is not in the image (`sbom_required: [{s}]` in hierarchy.yaml makes that an error)"),
                ));
            }
            Err(Why::Missing(e)) | Err(Why::Failed(e)) => {
                return Err(SbomError::Command {
                    image,
                    section: s,
                    source: Box::new(e),
                })
            }
            Err(Why::Parse(f)) => {
                return Err(SbomError::Parse {
                    image,
                    section: s,
                    command: Cmd::new(shown(s)).to_string(),
                    line: f.line,
                    column: f.column,
                    message: f.message,
                })
            }
        }
    }
    inv.packages.sort();
    inv.packages.dedup_by(|a, b| a.purl == b.purl);
    Ok(inv)
}

/// The command that lists a section's packages, as messages name it.
fn shown(section: Section) -> &'static [&'static str] {
    match section {
        Section::Apt => DPKG,
        s => command(s),
    }
}

/// The program a section needs.
fn program(section: Section) -> &'static str {
    shown(section)[0]
}

enum Why {
    Missing(PluginError),
    Failed(PluginError),
    Parse(Failure),
}

async fn section(ctx: &Context<'_>, s: Section) -> Result<Vec<Package>, Why> {
    let missing = |e: PluginError| match e {
        PluginError::Exec(ExecError::Missing { .. }) => Why::Missing(e),
        e => Why::Failed(e),
    };
    let out = ctx.run(command(s)).await.map_err(missing)?;
    let text = &out.stdout;
    let parsed = match s {
        Section::Apt => {
            let Some((dpkg, _)) = listing::apt_split(text) else {
                return Err(Why::Parse(Failure::at_line(
                    1,
                    "the shell's `#stacktag#` exit-code lines are missing".into(),
                )));
            };
            let text = dpkg.output(DPKG, &out.stderr).map_err(missing)?;
            // Without os-release the purls still name the package, only not the release.
            let os = match ctx.run(OS_RELEASE).await {
                Ok(o) => OsRelease::parse(&o.stdout),
                Err(_) => OsRelease::default(),
            };
            parse::dpkg(text, &os)
        }
        Section::Pip => parse::pip_json(text),
        Section::Conda => parse::conda_json(text),
        Section::R => match listing::r_split(text) {
            Some((_, lines, first)) => parse::r_tsv(lines).map_err(|f| f.shifted(first - 1)),
            None => Err(Failure::at_line(
                1,
                "no line echoes the package expression; R printed something else".into(),
            )),
        },
        Section::Julia => parse::julia_tsv(text),
    };
    parsed.map_err(Why::Parse)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::fake::FakeRunner;
    use crate::plugin::run::{BuildInfo, ImageInfo};
    use crate::plugin::CommandCache;

    fn data(f: &str) -> String {
        std::fs::read_to_string(format!("{}/tests/data/{f}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    async fn run(runner: FakeRunner, required: &[Section]) -> Result<Inventory, SbomError> {
        let (image, build) = (ImageInfo::example(), BuildInfo::example());
        let cache = CommandCache::default();
        let ctx = Context::new(&image, &build, &runner, &cache);
        collect(&ctx, required).await
    }

    fn debian() -> FakeRunner {
        FakeRunner::default()
            .with(OS_RELEASE, &data("debian-os-release.txt"), "", 0)
            .with(
                APT,
                &listing::apt_output(&data("debian-dpkg-query.tsv"), &data("debian-apt-list.txt")),
                "",
                0,
            )
            .with(PIP, &data("debian-pip-list.json"), "", 0)
    }

    /// Every section's captured output: an image with all five tools.
    fn every_tool() -> FakeRunner {
        debian()
            .with(CONDA, &data("conda-list.json"), "", 0)
            .with(
                R,
                &listing::r_output(
                    &data("debian-r-packages.txt"),
                    &data("r-installed-packages.tsv"),
                ),
                "",
                0,
            )
            .with(JULIA, &data("julia-pkg-dependencies.tsv"), "", 0)
    }

    /// The SPDX and CycloneDX documents of the captured outputs, pinned
    /// byte for byte (`tests/golden/sbom/`): how the packages are
    /// collected may change, the documents may not.
    #[tokio::test]
    async fn documents_of_every_section_are_the_golden_ones() {
        let inv = run(every_tool(), &[]).await.unwrap();
        assert_eq!(inv.found, Section::ALL);
        let (image, build) = (ImageInfo::example(), BuildInfo::example());
        for (name, text) in super::super::documents(&inv, &image, &build) {
            let path = format!("{}/tests/golden/sbom/{name}", env!("CARGO_MANIFEST_DIR"));
            if std::env::var_os("STACKTAG_BLESS").is_some() {
                std::fs::create_dir_all(std::path::Path::new(&path).parent().unwrap()).unwrap();
                std::fs::write(&path, &text).unwrap();
            }
            let want = std::fs::read_to_string(&path).unwrap_or_default();
            assert_eq!(text, want, "{path} differs (STACKTAG_BLESS=1 to accept)");
        }
    }

    #[tokio::test]
    async fn missing_tools_are_skipped_and_named() {
        let inv = run(debian(), &[]).await.unwrap();
        assert_eq!(inv.found, [Section::Apt, Section::Pip]);
        let skipped: Vec<_> = inv.skipped.iter().map(|(s, _)| *s).collect();
        assert_eq!(skipped, [Section::Conda, Section::R, Section::Julia]);
        assert!(
            inv.skipped[0].1.starts_with("`conda` is not in the image"),
            "{:?}",
            inv.skipped
        );
        let sorted = inv.packages.windows(2).all(|w| w[0] <= w[1]);
        assert!(sorted);
    }

    #[tokio::test]
    async fn a_required_tool_that_is_missing_fails() {
        let e = run(debian(), &[Section::Conda])
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(
                "base-notebook: SBOM section `conda`: `conda list --json` is not in the image"
            ),
            "{e}"
        );
    }

    #[tokio::test]
    async fn bad_json_names_image_command_and_position() {
        let runner = debian().with(CONDA, "[\n  {\"name\": \"python\",\n   oops}\n]", "", 0);
        let e = run(runner, &[]).await.unwrap_err().to_string();
        assert!(
            e.starts_with("base-notebook: SBOM section `conda`: `conda list --json` gave output that does not parse at line 3, column 4:"),
            "{e}"
        );
    }
}
