//! `pip show torch` gives `pytorch-2.7.1` (the local part after `+` dropped).
use crate::plugin::prelude::*;

pub(crate) const CMD: &[&str] = &["pip", "show", "torch"];

pub struct PytorchVersion;

#[async_trait]
impl Tagger for PytorchVersion {
    async fn tag_value(&self, ctx: &Context) -> Result<String, PluginError> {
        ctx.versioned("pytorch", CMD, "a `Version:` line", pick)
            .await
    }
}

pub(crate) fn pick(out: &str) -> Option<&str> {
    parse::line_after(out, "Version:").map(|v| v.split('+').next().unwrap_or(v))
}

crate::tagger!(
    "pytorch_version",
    "`pip show torch` gives `pytorch-2.7.1` (the local part after `+` dropped).",
    PytorchVersion
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_real_output() {
        assert_eq!(
            pick(include_str!("../../tests/data/pip-show-torch.txt")),
            Some("2.7.0")
        );
        assert_eq!(pick("Name: torch\nVersion: 2.7.1+cu126\n"), Some("2.7.1"));
    }
}
