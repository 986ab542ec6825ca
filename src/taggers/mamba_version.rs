//! `mamba --version` gives `mamba-2.3.0` (mamba 1.x printed `mamba X` first).
use crate::plugin::prelude::*;

pub(crate) const CMD: &[&str] = &["mamba", "--version"];

pub struct MambaVersion;

#[async_trait]
impl Tagger for MambaVersion {
    async fn tag_value(&self, ctx: &Context) -> Result<String, PluginError> {
        ctx.versioned("mamba", CMD, "a version on the first line", pick)
            .await
    }
}

pub(crate) fn pick(out: &str) -> Option<&str> {
    let first = out.lines().next()?.trim();
    Some(first.strip_prefix("mamba ").unwrap_or(first).trim())
}

crate::tagger!(
    "mamba_version",
    "`mamba --version` gives `mamba-2.3.0` (mamba 1.x printed `mamba X` first).",
    MambaVersion
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_real_output() {
        assert_eq!(
            pick(include_str!("../../tests/data/mamba-version.txt")),
            Some("2.1.1")
        );
        assert_eq!(
            pick(include_str!("../../tests/data/mamba-version-1x.txt")),
            Some("1.5.12")
        );
    }
}
