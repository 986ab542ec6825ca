//! `2026-11-22`: the run's build timestamp, UTC.
use crate::plugin::prelude::*;

pub struct Date;

#[async_trait]
impl Tagger for Date {
    async fn tag_value(&self, ctx: &Context) -> Result<String, PluginError> {
        Ok(ctx.build.date())
    }
}

crate::tagger!("date", "build date (UTC) of this run", Date);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::fake::{tag, FakeRunner};

    #[tokio::test]
    async fn utc_date_of_the_run() {
        assert_eq!(
            tag(&Date, FakeRunner::default()).await.unwrap(),
            "2026-11-22"
        );
    }
}
