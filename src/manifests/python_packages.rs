//! `## Python Packages`: python version, `conda info`, `mamba info`, `mamba list`.
use crate::plugin::prelude::*;

pub struct PythonPackages;

#[async_trait]
impl Manifest for PythonPackages {
    async fn markdown(&self, ctx: &Context) -> Result<String, PluginError> {
        let pieces = [
            "## Python Packages".to_string(),
            ctx.stdout(&["python", "--version"]).await?,
            ctx.quoted(&["conda", "info"]).await?,
            ctx.quoted(&["mamba", "info"]).await?,
            ctx.quoted(&["mamba", "list"]).await?,
        ];
        Ok(pieces.join("\n\n"))
    }
}

crate::manifest!(
    "python_packages",
    "`## Python Packages`: python version, `conda info`, `mamba info`, `mamba list`.",
    PythonPackages
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::fake::{manifest, FakeRunner};

    #[tokio::test]
    async fn real_conda_output_becomes_the_section() {
        let data = |f: &str| {
            std::fs::read_to_string(format!("{}/tests/data/{f}", env!("CARGO_MANIFEST_DIR")))
                .unwrap()
        };
        let runner = FakeRunner::default()
            .with(&["python", "--version"], "Python 3.13.5\n", "", 0)
            .with(&["conda", "info"], &data("conda-info.txt"), "", 0)
            .with(&["mamba", "info"], &data("mamba-info.txt"), "", 0)
            .with(&["mamba", "list"], &data("mamba-list.txt"), "", 0);
        let md = manifest(&PythonPackages, &runner).await.unwrap();
        assert!(
            md.starts_with("## Python Packages\n\nPython 3.13.5\n\n`conda info`:\n\n```text\n"),
            "{md}"
        );
        assert!(
            md.contains("`mamba list`:\n\n```text\nList of packages in environment"),
            "{md}"
        );
        assert!(md.ends_with("\n```"));
    }
}
