//! `jupyterhub --version` gives `hub-5.3.0`.
use crate::plugin::prelude::*;

pub(crate) const CMD: &[&str] = &["jupyterhub", "--version"];

pub struct HubVersion;

#[async_trait]
impl Tagger for HubVersion {
    async fn tag_value(&self, ctx: &Context) -> Result<String, PluginError> {
        ctx.versioned("hub", CMD, "a version", pick).await
    }
}

pub(crate) fn pick(out: &str) -> Option<&str> {
    parse::word(out, 0)
}

crate::tagger!(
    "hub_version",
    "`jupyterhub --version` gives `hub-5.3.0`.",
    HubVersion
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_real_output() {
        assert_eq!(
            pick(include_str!(
                "../../tests/data/debian-jupyterhub-version.txt"
            )),
            Some("3.0.0")
        );
    }
}
