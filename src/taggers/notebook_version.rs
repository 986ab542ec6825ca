//! `jupyter-notebook --version` gives `notebook-7.4.4`.
use crate::plugin::prelude::*;

pub(crate) const CMD: &[&str] = &["jupyter-notebook", "--version"];

pub struct NotebookVersion;

#[async_trait]
impl Tagger for NotebookVersion {
    async fn tag_value(&self, ctx: &Context) -> Result<String, PluginError> {
        ctx.versioned("notebook", CMD, "a version", pick).await
    }
}

pub(crate) fn pick(out: &str) -> Option<&str> {
    parse::word(out, 0)
}

crate::tagger!(
    "notebook_version",
    "`jupyter-notebook --version` gives `notebook-7.4.4`.",
    NotebookVersion
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_real_output() {
        assert_eq!(
            pick(include_str!("../../tests/data/debian-notebook-version.txt")),
            Some("6.4.12")
        );
        assert_eq!(pick("7.4.4\n"), Some("7.4.4"));
    }
}
