//! `tensorflow-2.19.0`: `pip show tensorflow`, else `pip show tensorflow-cpu`.
use crate::plugin::prelude::*;

const GPU: &[&str] = &["pip", "show", "tensorflow"];
const CPU: &[&str] = &["pip", "show", "tensorflow-cpu"];

pub struct TensorflowVersion;

#[async_trait]
impl Tagger for TensorflowVersion {
    async fn tag_value(&self, ctx: &Context) -> Result<String, PluginError> {
        let version = |out: &str| {
            parse::line_after(out, "Version:")
                .and_then(parse::version)
                .map(str::to_string)
        };
        match ctx.stdout(GPU).await {
            Ok(out) => version(&out).ok_or_else(|| ctx.parse_error(GPU, &out, "a `Version:` line")),
            Err(_) => {
                let out = ctx.stdout(CPU).await?;
                version(&out).ok_or_else(|| ctx.parse_error(CPU, &out, "a `Version:` line"))
            }
        }
        .map(|v| format!("tensorflow-{v}"))
    }
}

crate::tagger!(
    "tensorflow_version",
    "`pip show tensorflow` (or tensorflow-cpu) gives `tensorflow-2.19.0`",
    TensorflowVersion
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::fake::{tag, FakeRunner};

    const SHOW: &str = include_str!("../../tests/data/pip-show-tensorflow.txt");

    #[tokio::test]
    async fn reads_real_output_and_falls_back_to_cpu() {
        let gpu = FakeRunner::default().with(GPU, SHOW, "", 0);
        assert_eq!(
            tag(&TensorflowVersion, &gpu).await.unwrap(),
            "tensorflow-2.18.0"
        );
        let missing = "WARNING: Package(s) not found: tensorflow";
        let cpu = FakeRunner::default().with(GPU, "", missing, 1).with(
            CPU,
            &SHOW.replace("Name: tensorflow", "Name: tensorflow-cpu"),
            "",
            0,
        );
        assert_eq!(
            tag(&TensorflowVersion, &cpu).await.unwrap(),
            "tensorflow-2.18.0"
        );
        let neither = FakeRunner::default()
            .with(GPU, "", missing, 1)
            .with(CPU, "", missing, 1);
        assert!(tag(&TensorflowVersion, &neither)
            .await
            .unwrap_err()
            .to_string()
            .contains("pip show tensorflow-cpu"));
    }
}
