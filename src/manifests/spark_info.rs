//! `## Apache Spark`: the `spark-submit --version` banner (Spark prints it on stderr).
use crate::plugin::prelude::*;

pub struct SparkInfo;

#[async_trait]
impl Manifest for SparkInfo {
    async fn markdown(&self, ctx: &Context) -> Result<String, PluginError> {
        let pieces = [
            "## Apache Spark".to_string(),
            ctx.quoted_stream(&["/usr/local/spark/bin/spark-submit", "--version"], true)
                .await?,
        ];
        Ok(pieces.join("\n\n"))
    }
}

crate::manifest!(
    "spark_info",
    "`## Apache Spark`: the `spark-submit --version` banner (Spark prints it on stderr).",
    SparkInfo
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::fake::{manifest, FakeRunner};

    #[tokio::test]
    async fn banner_from_stderr() {
        let banner = include_str!("../../tests/data/spark-submit-version.txt");
        let runner = FakeRunner::default().with(
            &["/usr/local/spark/bin/spark-submit", "--version"],
            "",
            banner,
            0,
        );
        let md = manifest(&SparkInfo, runner).await.unwrap();
        assert!(
            md.starts_with(
                "## Apache Spark\n\n`/usr/local/spark/bin/spark-submit --version`:\n\n```text\n"
            ),
            "{md}"
        );
        assert!(md.contains("version 4.0.0"), "{md}");
    }
}
