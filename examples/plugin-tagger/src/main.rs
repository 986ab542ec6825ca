//! `my-stacktag`: stacktag plus one tagger of our own. The tagger registers
//! itself with inventory; `stacktag::cli::main` finds it by name like a
//! built-in, so `debian_version` can be used in hierarchy.yaml.

use stacktag::plugin::prelude::*;

/// `debian-12.12`: the contents of /etc/debian_version.
struct DebianVersion;

#[async_trait]
impl Tagger for DebianVersion {
    async fn tag_value(&self, ctx: &Context) -> Result<String, PluginError> {
        ctx.versioned("debian", &["cat", "/etc/debian_version"], "a version", |out| parse::word(out, 0))
            .await
    }
}

stacktag::tagger!("debian_version", "/etc/debian_version gives `debian-12.12`", DebianVersion);

fn main() -> std::process::ExitCode {
    stacktag::cli::main()
}
