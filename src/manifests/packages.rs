//! `## Apt Packages`, `## Pip Packages`, `## R Packages`: each shows its
//! package manager's one listing of the image, the same output the SBOM
//! reads (`sbom::listing`), so that a hook run lists each manager once. The
//! text is what the command the section names prints (formats.md).

use crate::formats::markdown;
use crate::plugin::command::{Cmd, ExecError};
use crate::plugin::prelude::*;
use crate::sbom::{collect, listing, parse as sbom_parse};

/// `` `{command}`: `` and `text` in a text block; empty text is an error
/// that names the command, as for every section.
fn quoted(command: &[&str], text: &str) -> Result<String, PluginError> {
    let command = Cmd::new(command).to_string();
    let cleaned = markdown::clean_output(text).ok_or_else(|| ExecError::Empty {
        command: command.clone(),
    })?;
    Ok(markdown::quoted(&command, &cleaned))
}

pub struct AptPackages;

#[async_trait]
impl Manifest for AptPackages {
    async fn markdown(&self, ctx: &Context) -> Result<String, PluginError> {
        let out = ctx.run(collect::APT).await?;
        let (_, apt) = listing::apt_split(&out.stdout).ok_or_else(|| {
            ctx.parse_error(
                collect::APT,
                &out.stdout,
                "each program's output followed by its `#stacktag#` exit-code line",
            )
        })?;
        let text = apt.output(listing::APT_LIST, &out.stderr)?;
        Ok(format!(
            "## Apt Packages\n\n{}",
            quoted(listing::APT_LIST, text)?
        ))
    }
}

crate::manifest!(
    "apt_packages",
    "`## Apt Packages`: `apt list --installed` (stdout only: apt's CLI warning is on stderr).",
    AptPackages
);

pub struct PipPackages;

#[async_trait]
impl Manifest for PipPackages {
    async fn markdown(&self, ctx: &Context) -> Result<String, PluginError> {
        let out = ctx.run(collect::PIP).await?;
        let packages = sbom_parse::pip_json(&out.stdout).map_err(|f| {
            ctx.parse_error(
                collect::PIP,
                &out.stdout,
                &format!(
                    "a JSON list of names and versions (line {}, column {}: {})",
                    f.line, f.column, f.message
                ),
            )
        })?;
        Ok(format!(
            "## Pip Packages\n\n{}",
            quoted(&["pip", "list"], &listing::pip_list(&packages))?
        ))
    }
}

crate::manifest!(
    "pip_packages",
    "`## Pip Packages`: `pip list`, for images without conda.",
    PipPackages
);

pub struct RPackages;

#[async_trait]
impl Manifest for RPackages {
    async fn markdown(&self, ctx: &Context) -> Result<String, PluginError> {
        let version = ctx.quoted(&["R", "--version"]).await?;
        let out = ctx.run(collect::R).await?;
        let (shown, ..) = listing::r_split(&out.stdout).ok_or_else(|| {
            ctx.parse_error(
                collect::R,
                &out.stdout,
                "the echo of the second expression, as `R --silent` prints it",
            )
        })?;
        Ok(format!(
            "## R Packages\n\n{version}\n\n{}",
            quoted(listing::R_LIBRARY_COMMAND, &shown)?
        ))
    }
}

crate::manifest!(
    "r_packages",
    "`## R Packages`: `R --version` and the installed packages of the R library.",
    RPackages
);
