//! `python --version` gives `python-3.13.5`.
use crate::plugin::prelude::*;

pub(crate) const CMD: &[&str] = &["python", "--version"];

pub struct PythonVersion;

#[async_trait]
impl Tagger for PythonVersion {
    async fn tag_value(&self, ctx: &Context) -> Result<String, PluginError> {
        ctx.versioned("python", CMD, "`Python X.Y.Z`", pick).await
    }
}

pub(crate) fn pick(out: &str) -> Option<&str> {
    parse::line_after(out, "Python ")
}

crate::tagger!(
    "python_version",
    "`python --version` gives `python-3.13.5`.",
    PythonVersion
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_real_output() {
        assert_eq!(
            pick(include_str!("../../tests/data/debian-python-version.txt")),
            Some("3.11.2")
        );
        assert_eq!(pick("Python 3.13.5\n"), Some("3.13.5"));
        assert_eq!(pick("command not found"), None);
    }
}
