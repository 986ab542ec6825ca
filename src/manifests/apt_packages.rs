//! `## Apt Packages`: `apt list --installed` (stdout only: apt's CLI warning is on stderr).
use crate::plugin::prelude::*;

pub struct AptPackages;

#[async_trait]
impl Manifest for AptPackages {
    async fn markdown(&self, ctx: &Context) -> Result<String, PluginError> {
        let pieces = [
            "## Apt Packages".to_string(),
            ctx.quoted(&["apt", "list", "--installed"]).await?,
        ];
        Ok(pieces.join("\n\n"))
    }
}

crate::manifest!(
    "apt_packages",
    "`## Apt Packages`: `apt list --installed` (stdout only: apt's CLI warning is on stderr).",
    AptPackages
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::fake::{manifest, FakeRunner};

    #[tokio::test]
    async fn stderr_warning_stays_out() {
        let out = include_str!("../../tests/data/debian-apt-list.txt");
        let warning =
            "\nWARNING: apt does not have a stable CLI interface. Use with caution in scripts.\n\n";
        let runner = FakeRunner::default().with(&["apt", "list", "--installed"], out, warning, 0);
        let md = manifest(&AptPackages, runner).await.unwrap();
        assert!(
            md.starts_with("## Apt Packages\n\n`apt list --installed`:\n\n```text\nListing...\n"),
            "{md}"
        );
        assert!(!md.contains("WARNING"));
    }
}
