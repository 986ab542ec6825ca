//! `## R Packages`: `R --version` and the installed packages of the R library.
use crate::plugin::prelude::*;

pub struct RPackages;

#[async_trait]
impl Manifest for RPackages {
    async fn markdown(&self, ctx: &Context) -> Result<String, PluginError> {
        let pieces = [
            "## R Packages".to_string(),
            ctx.quoted(&["R", "--version"]).await?,
            ctx.quoted(&[
                "R",
                "--silent",
                "-e",
                "installed.packages(.Library)[, c(1,3)]",
            ])
            .await?,
        ];
        Ok(pieces.join("\n\n"))
    }
}

crate::manifest!(
    "r_packages",
    "`## R Packages`: `R --version` and the installed packages of the R library.",
    RPackages
);
