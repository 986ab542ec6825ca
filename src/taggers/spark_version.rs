//! `spark-4.0.0`: the `version X` of the `spark-submit --version` banner,
//! which Spark prints on stderr.
use crate::plugin::prelude::*;

const CMD: &[&str] = &["spark-submit", "--version"];

pub struct SparkVersion;

#[async_trait]
impl Tagger for SparkVersion {
    async fn tag_value(&self, ctx: &Context) -> Result<String, PluginError> {
        let out = ctx.run(CMD).await?;
        let text = format!("{}\n{}", out.stdout, out.stderr);
        pick(&text)
            .map(|v| format!("spark-{v}"))
            .ok_or_else(|| ctx.parse_error(CMD, &text, "a banner line ending in `version X.Y.Z`"))
    }
}

fn pick(text: &str) -> Option<&str> {
    let line = text
        .lines()
        .find(|l| l.contains("/___/") && l.contains(" version "))?;
    parse::version(line.rsplit(' ').next()?)
}

crate::tagger!(
    "spark_version",
    "`spark-submit --version` banner gives `spark-4.0.0`",
    SparkVersion
);

#[cfg(test)]
mod tests {
    #[test]
    fn reads_real_banner() {
        assert_eq!(
            super::pick(include_str!("../../tests/data/spark-submit-version.txt")),
            Some("4.0.0")
        );
        assert_eq!(super::pick("Welcome to Spark\n"), None);
    }
}
