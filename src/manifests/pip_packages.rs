//! `## Pip Packages`: `pip list`, for images without conda.
use crate::plugin::prelude::*;

pub struct PipPackages;

#[async_trait]
impl Manifest for PipPackages {
    async fn markdown(&self, ctx: &Context) -> Result<String, PluginError> {
        let pieces = [
            "## Pip Packages".to_string(),
            ctx.quoted(&["pip", "list"]).await?,
        ];
        Ok(pieces.join("\n\n"))
    }
}

crate::manifest!(
    "pip_packages",
    "`## Pip Packages`: `pip list`, for images without conda.",
    PipPackages
);
