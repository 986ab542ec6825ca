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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::fake::{tag, FakeRunner};

    #[tokio::test]
    async fn twelve_characters_of_head() {
        assert_eq!(
            tag(&CommitSha, FakeRunner::default()).await.unwrap(),
            "1ffe43816ba9"
        );
    }
}
