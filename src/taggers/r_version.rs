//! `R --version` gives `r-4.4.3`.
use crate::plugin::prelude::*;

pub(crate) const CMD: &[&str] = &["R", "--version"];

pub struct RVersion;

#[async_trait]
impl Tagger for RVersion {
    async fn tag_value(&self, ctx: &Context) -> Result<String, PluginError> {
        ctx.versioned("r", CMD, "`R version X.Y.Z`", pick).await
    }
}

pub(crate) fn pick(out: &str) -> Option<&str> {
    parse::line_after(out, "R version ").and_then(|rest| parse::word(rest, 0))
}

crate::tagger!("r_version", "`R --version` gives `r-4.4.3`.", RVersion);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_real_output() {
        assert_eq!(
            pick(include_str!("../../tests/data/debian-r-version.txt")),
            Some("4.2.2")
        );
        assert_eq!(
            pick(include_str!("../../tests/data/r-version.txt")),
            Some("4.4.3")
        );
    }
}
