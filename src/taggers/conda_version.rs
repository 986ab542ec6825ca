//! `conda --version` gives `conda-25.5.1`.
use crate::plugin::prelude::*;

pub(crate) const CMD: &[&str] = &["conda", "--version"];

pub struct CondaVersion;

#[async_trait]
impl Tagger for CondaVersion {
    async fn tag_value(&self, ctx: &Context) -> Result<String, PluginError> {
        ctx.versioned("conda", CMD, "`conda X.Y.Z`", pick).await
    }
}

pub(crate) fn pick(out: &str) -> Option<&str> {
    parse::line_after(out, "conda ")
}

crate::tagger!(
    "conda_version",
    "`conda --version` gives `conda-25.5.1`.",
    CondaVersion
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_real_output() {
        assert_eq!(
            pick(include_str!("../../tests/data/conda-version.txt")),
            Some("25.3.0")
        );
    }
}
