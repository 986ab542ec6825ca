//! `julia --version` gives `julia-1.11.5`.
use crate::plugin::prelude::*;

pub(crate) const CMD: &[&str] = &["julia", "--version"];

pub struct JuliaVersion;

#[async_trait]
impl Tagger for JuliaVersion {
    async fn tag_value(&self, ctx: &Context) -> Result<String, PluginError> {
        ctx.versioned("julia", CMD, "`julia version X.Y.Z`", pick)
            .await
    }
}

pub(crate) fn pick(out: &str) -> Option<&str> {
    parse::line_after(out, "julia version ")
}

crate::tagger!(
    "julia_version",
    "`julia --version` gives `julia-1.11.5`.",
    JuliaVersion
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_real_output() {
        assert_eq!(
            pick(include_str!("../../tests/data/julia-version.txt")),
            Some("1.11.5")
        );
    }
}
