//! Every built-in tagger and manifest, with the fuzz input as the output of
//! every command it runs (stdout, or stderr, or both), through the same
//! `Context` the real run uses: an error or a value, never a panic.
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use stacktag::hook::command::{Cmd, ExecError, Output};
use stacktag::git::Commit;
use stacktag::plugin::{self, CommandCache, Context, Runner};
use stacktag::hook::run::{BuildInfo, ImageInfo};
use stacktag::formats::tags::Platform;

/// Answers every command with the same output.
struct Echo {
    stdout: String,
    stderr: String,
}

#[async_trait::async_trait]
impl Runner for Echo {
    async fn exec(&self, _cmd: &Cmd) -> Result<Output, ExecError> {
        Ok(Output {
            stdout: self.stdout.clone(),
            stderr: self.stderr.clone(),
            exit_code: 0,
        })
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_current_thread().build().unwrap())
}

fuzz_target!(|input: (u8, &str)| {
    let (mode, text) = input;
    let runner = Echo {
        stdout: if mode & 1 == 0 { text.into() } else { String::new() },
        stderr: if mode & 2 == 0 { String::new() } else { text.into() },
    };
    let image = ImageInfo {
        image: "base-notebook".into(),
        registry: "quay.io".into(),
        owner: "jupyter".into(),
        variant: "default".into(),
        platform: Platform::X86_64,
        source: "quay.io/jupyter/base-notebook:latest".into(),
        size: 1,
    };
    let build = BuildInfo {
        timestamp: chrono::DateTime::from_timestamp(1_795_000_000, 0).unwrap(),
        commit: Commit {
            sha: "1ffe43816ba9bd6a5bc0d29c0c8e5e4e16a8d3a2".into(),
            message: "m".into(),
        },
        repository: "jupyter/docker-stacks".into(),
    };
    runtime().block_on(async {
        let cache = CommandCache::default();
        for t in plugin::taggers() {
            let ctx = Context::new(&image, &build, &runner, &cache);
            let _ = t.tagger.tag_value(&ctx).await;
        }
        for m in plugin::manifests() {
            let ctx = Context::new(&image, &build, &runner, &cache);
            let _ = m.manifest.markdown(&ctx).await;
        }
    });
});
