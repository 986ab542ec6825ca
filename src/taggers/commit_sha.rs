//! `1ffe43816ba9`: the stack repository's HEAD, 12 characters (host git).
use crate::plugin::prelude::*;

pub struct CommitSha;

#[async_trait]
impl Tagger for CommitSha {
    async fn tag_value(&self, ctx: &Context) -> Result<String, PluginError> {
        Ok(ctx.build.sha12().to_string())
    }
}

crate::tagger!(
    "commit_sha",
    "git commit of the stack repository, 12 characters",
    CommitSha
);
