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
