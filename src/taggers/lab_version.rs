//! `jupyter-lab --version` gives `lab-4.4.4`.
use crate::plugin::prelude::*;

pub(crate) const CMD: &[&str] = &["jupyter-lab", "--version"];

pub struct LabVersion;

#[async_trait]
impl Tagger for LabVersion {
    async fn tag_value(&self, ctx: &Context) -> Result<String, PluginError> {
        ctx.versioned("lab", CMD, "a version", pick).await
    }
}

pub(crate) fn pick(out: &str) -> Option<&str> {
    parse::word(out, 0)
}

crate::tagger!(
    "lab_version",
    "`jupyter-lab --version` gives `lab-4.4.4`.",
    LabVersion
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_real_output() {
        assert_eq!(
            pick(include_str!("../../tests/data/jupyter-lab-version.txt")),
            Some("3.4.8")
        );
    }
}
