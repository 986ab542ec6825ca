//! `python-3.13`: major.minor of the same `python --version` (run once).
use crate::plugin::prelude::*;
use crate::taggers::python_version::{pick as full, CMD};

pub struct PythonMajorMinor;

#[async_trait]
impl Tagger for PythonMajorMinor {
    async fn tag_value(&self, ctx: &Context) -> Result<String, PluginError> {
        ctx.versioned("python", CMD, "`Python X.Y`", pick).await
    }
}

fn pick(out: &str) -> Option<&str> {
    let v = full(out)?;
    let second_dot = v.match_indices('.').nth(1).map_or(v.len(), |(i, _)| i);
    Some(&v[..second_dot])
}

crate::tagger!(
    "python_major_minor",
    "`python --version` gives `python-3.13`",
    PythonMajorMinor
);

#[cfg(test)]
mod tests {
    #[test]
    fn reads_real_output() {
        assert_eq!(
            super::pick(include_str!("../../tests/data/debian-python-version.txt")),
            Some("3.11")
        );
        assert_eq!(super::pick("Python 3.13\n"), Some("3.13"));
    }
}
