//! `java --version` gives `java-17.0.15`.
use crate::plugin::prelude::*;

pub(crate) const CMD: &[&str] = &["java", "--version"];

pub struct JavaVersion;

#[async_trait]
impl Tagger for JavaVersion {
    async fn tag_value(&self, ctx: &Context) -> Result<String, PluginError> {
        ctx.versioned("java", CMD, "`openjdk X.Y.Z` on the first line", pick)
            .await
    }
}

pub(crate) fn pick(out: &str) -> Option<&str> {
    parse::word(out, 1)
}

crate::tagger!(
    "java_version",
    "`java --version` gives `java-17.0.15`.",
    JavaVersion
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_real_output() {
        assert_eq!(
            pick(include_str!("../../tests/data/debian-java-version.txt")),
            Some("17.0.19")
        );
    }
}
