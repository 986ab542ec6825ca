//! `ubuntu-24.04`, `debian-12`: `ID` and `VERSION_ID` of `/etc/os-release`.
use crate::plugin::prelude::*;

const CMD: &[&str] = &["cat", "/etc/os-release"];

pub struct OsVersion;

#[async_trait]
impl Tagger for OsVersion {
    async fn tag_value(&self, ctx: &Context) -> Result<String, PluginError> {
        let out = ctx.stdout(CMD).await?;
        let field = |key| parse::line_after(&out, key).map(|v| v.trim_matches('"').to_string());
        match (field("ID="), field("VERSION_ID=")) {
            (Some(id), Some(version)) => Ok(format!("{id}-{version}")),
            _ => Err(ctx.parse_error(CMD, &out, "`ID=` and `VERSION_ID=` lines")),
        }
    }
}

crate::tagger!(
    "os_version",
    "`ID-VERSION_ID` of /etc/os-release, e.g. ubuntu-24.04",
    OsVersion
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::fake::{tag, FakeRunner};

    #[tokio::test]
    async fn real_os_release_files() {
        let ubuntu = FakeRunner::default().with(
            CMD,
            include_str!("../../tests/data/os-release-ubuntu.txt"),
            "",
            0,
        );
        assert_eq!(tag(&OsVersion, &ubuntu).await.unwrap(), "ubuntu-24.04");
        let debian = FakeRunner::default().with(
            CMD,
            include_str!("../../tests/data/debian-os-release.txt"),
            "",
            0,
        );
        assert_eq!(tag(&OsVersion, &debian).await.unwrap(), "debian-12");
        let busybox = FakeRunner::default().with(CMD, "NAME=Busybox\n", "", 0);
        assert!(tag(&OsVersion, &busybox)
            .await
            .unwrap_err()
            .to_string()
            .contains("VERSION_ID"));
    }
}
