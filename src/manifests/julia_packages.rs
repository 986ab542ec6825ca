//! `## Julia Packages`: `versioninfo()` and `Pkg.status()`.
use crate::plugin::prelude::*;

pub struct JuliaPackages;

#[async_trait]
impl Manifest for JuliaPackages {
    async fn markdown(&self, ctx: &Context) -> Result<String, PluginError> {
        let pieces = [
            "## Julia Packages".to_string(),
            ctx.quoted(&["julia", "-E", "using InteractiveUtils; versioninfo()"])
                .await?,
            ctx.quoted(&["julia", "-E", "import Pkg; Pkg.status()"])
                .await?,
        ];
        Ok(pieces.join("\n\n"))
    }
}

crate::manifest!(
    "julia_packages",
    "`## Julia Packages`: `versioninfo()` and `Pkg.status()`.",
    JuliaPackages
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::fake::{manifest, FakeRunner};

    #[tokio::test]
    async fn real_julia_output() {
        let runner = FakeRunner::default()
            .with(
                &["julia", "-E", "using InteractiveUtils; versioninfo()"],
                include_str!("../../tests/data/julia-versioninfo.txt"),
                "",
                0,
            )
            .with(
                &["julia", "-E", "import Pkg; Pkg.status()"],
                include_str!("../../tests/data/julia-pkg-status.txt"),
                "",
                0,
            );
        let md = manifest(&JuliaPackages, runner).await.unwrap();
        assert!(md.starts_with("## Julia Packages\n\n`julia -E 'using InteractiveUtils; versioninfo()'`:\n\n```text\nJulia Version"), "{md}");
        assert!(
            md.contains("`julia -E 'import Pkg; Pkg.status()'`:"),
            "{md}"
        );
    }
}
