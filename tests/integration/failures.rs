//! Bad input and failing images: a clear error, and nothing half done (no
//! container, no tag, no file). Library-level tests use taggers registered
//! here, through the same `inventory` path a plugin crate uses.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use stacktag::git::Commit;
use stacktag::hierarchy::Hierarchy;
use stacktag::hook::container::Limits;
use stacktag::hook::guard::guarded;
use stacktag::hook::pipeline::{ImageReport, Job, OutputDirs};
use stacktag::hook::progress::Progress;
use stacktag::hook::session::Session;
use stacktag::plugin::prelude::*;
use stacktag::plugin::run::BuildInfo;

use crate::support::*;

/// Test tagger: the trimmed stdout of a command is the tag value.
struct Run(&'static [&'static str]);

#[async_trait]
impl Tagger for Run {
    async fn tag_value(&self, ctx: &Context) -> Result<String, PluginError> {
        ctx.stdout(self.0).await
    }
}

struct Interfaces;

#[async_trait]
impl Tagger for Interfaces {
    async fn tag_value(&self, ctx: &Context) -> Result<String, PluginError> {
        Ok(ctx
            .stdout(&["ls", "/sys/class/net"])
            .await?
            .split_whitespace()
            .collect::<Vec<_>>()
            .join("_"))
    }
}

struct Panics;

#[async_trait]
impl Tagger for Panics {
    async fn tag_value(&self, ctx: &Context) -> Result<String, PluginError> {
        ctx.stdout(&["true"]).await.ok();
        panic!("tagger bug");
    }
}

stacktag::tagger!("test_fail", "test: exits 1", Run(&["false"]));
stacktag::tagger!("test_hang", "test: never ends", Run(&["sleep", "600"]));
stacktag::tagger!(
    "test_missing",
    "test: no such program",
    Run(&["no-such-program", "--version"])
);
stacktag::tagger!(
    "test_bad_value",
    "test: a value Docker rejects",
    Run(&["echo", "has space"])
);
stacktag::tagger!("test_flood", "test: endless output", Run(&["yes"]));
stacktag::tagger!("test_interfaces", "test: network interfaces", Interfaces);
stacktag::tagger!("test_panic", "test: panics", Panics);

/// Runs the hook through the library on `images` of a test hierarchy.
pub(crate) async fn hook(
    run_id: &str,
    dir: &Path,
    config: &Path,
    images: &[&str],
    limits: Limits,
) -> Result<Vec<ImageReport>, stacktag::Error> {
    let hierarchy = Hierarchy::load(config, stacktag::hierarchy::Names::Known).unwrap();
    let build = BuildInfo {
        timestamp: DateTime::parse_from_rfc3339("2026-11-22T23:48:58Z")
            .unwrap()
            .with_timezone(&Utc),
        commit: Commit::head(&repo_root()).unwrap(),
        repository: hierarchy.repository.clone(),
    };
    let mut session = Session::connect().await.unwrap();
    session.run_id = run_id.to_string();
    let progress = Progress::new(true);
    let dirs = OutputDirs {
        tags: dir.join("tags"),
        manifests: dir.join("manifests"),
        hist_lines: dir.join("hist_lines"),
    };
    let job = Job::new(&session, &hierarchy, &build, &progress, dirs).limits(limits);
    let images: Vec<String> = images.iter().map(|s| s.to_string()).collect();
    job.run_all(&images).await?.into_result()
}

pub(crate) fn limits(timeout_secs: u64) -> Limits {
    Limits {
        timeout: Duration::from_secs(timeout_secs),
        ..Limits::default()
    }
}

/// Runs a one-image hook that must fail, checks nothing was left, returns the error text.
async fn failing(owner: &str, taggers: &str, limits: Limits) -> (String, i32) {
    let image = TestImage::new(owner, "");
    let dir = tempfile::tempdir().unwrap();
    let config = hierarchy(
        dir.path(),
        owner,
        &format!("  box:\n    taggers: [{taggers}]\n    manifests: [apt_packages]\n"),
    );
    let out = dir.path().join("out");
    let err = hook(owner, &out, &config, &["box"], limits)
        .await
        .unwrap_err();
    assert_no_containers(owner);
    assert_eq!(image.extra_tags(), Vec::<String>::new(), "no tag applied");
    assert_eq!(files_under(&out), Vec::<String>::new(), "no file written");
    (
        stacktag::cli::exit::message(&err),
        stacktag::cli::exit::exit_code(&err),
    )
}

#[tokio::test]
async fn failing_command_applies_nothing() {
    let (msg, code) = failing("t-fail", "os_version, test_fail", limits(60)).await;
    assert!(
        msg.starts_with("box: tagger `test_fail` (")
            && msg.contains(" failed: `false` exited with 1"),
        "{msg}"
    );
    assert_eq!(code, 5);
}

#[tokio::test]
async fn hanging_command_times_out_and_is_stopped() {
    let (msg, code) = failing("t-hang", "test_hang, os_version", limits(2)).await;
    assert!(
        msg.contains("failed: `sleep 600` did not finish within 2s"),
        "{msg}"
    );
    assert_eq!(code, 5);
}

#[tokio::test]
async fn missing_command_is_named_with_a_fix() {
    let (msg, _) = failing("t-missing", "test_missing", limits(60)).await;
    assert!(
        msg.contains("`no-such-program --version` is not in the image"),
        "{msg}"
    );
    assert!(msg.contains("fix: install it in the image"), "{msg}");
}

#[tokio::test]
async fn value_docker_rejects_names_tagger_command_and_output() {
    let (msg, code) = failing("t-badvalue", "os_version, test_bad_value", limits(60)).await;
    assert!(
        msg.contains("tagger `test_bad_value` gave \"x86_64-has space\", which Docker rejects"),
        "{msg}"
    );
    assert!(
        msg.contains("from `echo 'has space'`, whose output was:\nhas space"),
        "{msg}"
    );
    assert_eq!(code, 5);
}

#[tokio::test]
async fn endless_output_is_cut_at_the_cap() {
    let small = Limits {
        timeout: Duration::from_secs(60),
        max_output: 1 << 20,
    };
    let (msg, _) = failing("t-flood", "test_flood", small).await;
    assert!(msg.contains("`yes` wrote more than 1048576 bytes"), "{msg}");
}

#[tokio::test]
async fn a_manifest_with_empty_output_fails_the_image() {
    // busybox has no `apt`: the manifest's command is missing, so nothing is applied.
    let (msg, _) = failing("t-manifest", "os_version", limits(60)).await;
    assert!(
        msg.contains("failed: `apt list --installed` is not in the image"),
        "{msg}"
    );
}

#[tokio::test]
async fn one_failing_image_does_not_stop_the_others() {
    let owner = "t-mixed";
    let image = TestImage::new(owner, "");
    let other = format!("{DEMO_REGISTRY}/{owner}/bad:latest");
    docker(&["tag", BUSYBOX, &other]);
    let dir = tempfile::tempdir().unwrap();
    let config = hierarchy(
        dir.path(),
        owner,
        "  box:\n    taggers: [os_version]\n  bad:\n    parent: box\n    taggers: [test_fail]\n",
    );
    let out = dir.path().join("out");
    let err = hook(owner, &out, &config, &["box", "bad"], limits(60))
        .await
        .unwrap_err();
    assert!(
        err.to_string().starts_with("bad: tagger `test_fail` ("),
        "{err}"
    );
    assert_no_containers(owner);
    let box_tags = image.extra_tags();
    assert_eq!(
        box_tags.len(),
        2,
        "box: latest and os_version: {box_tags:?}"
    );
    assert_eq!(
        own_tags(other.trim_end_matches(":latest")),
        std::slice::from_ref(&other),
        "bad: nothing applied"
    );
    let sha12 = &head_sha()[..12];
    assert_eq!(
        files_under(&out),
        [
            format!("hist_lines/x86_64-default-box-{sha12}.txt"),
            format!("manifests/x86_64-default-box-{sha12}.md"),
            "tags/x86_64-default-box.txt".to_string(),
        ],
        "box's files only"
    );
    docker(&["rmi", "--no-prune", &other]);
}

#[tokio::test]
async fn network_is_off_unless_the_image_asks() {
    let owner = "t-network";
    let image = TestImage::new(owner, "");
    let online = format!("{DEMO_REGISTRY}/{owner}/online:latest");
    docker(&["tag", BUSYBOX, &online]);
    let dir = tempfile::tempdir().unwrap();
    let config = hierarchy(
        dir.path(),
        owner,
        "  box:\n    taggers: [test_interfaces]\n  online:\n    taggers: [test_interfaces]\n    network: true\n",
    );
    let reports = hook(
        owner,
        &dir.path().join("out"),
        &config,
        &["box", "online"],
        limits(60),
    )
    .await
    .unwrap();
    assert_no_containers(owner);
    let tags = |name: &str| {
        reports
            .iter()
            .find(|r| r.info.image == name)
            .unwrap()
            .tags
            .clone()
    };
    assert_eq!(tags("box"), ["x86_64-latest", "x86_64-lo"]);
    assert!(tags("online")[1].contains("eth0"), "{:?}", tags("online"));
    drop(image);
    for t in own_tags(online.trim_end_matches(":latest")) {
        docker(&["rmi", "--no-prune", &t]);
    }
}

#[tokio::test]
async fn panic_in_a_tagger_still_removes_the_container() {
    let owner = "t-panic";
    let image = TestImage::new(owner, "");
    let dir = tempfile::tempdir().unwrap();
    let config = hierarchy(dir.path(), owner, "  box:\n    taggers: [test_panic]\n");
    let out = dir.path().join("out");
    let mut session = Session::connect().await.unwrap();
    session.run_id = owner.into();
    let work = {
        let (out, config) = (out.clone(), config.clone());
        async move { hook(owner, &out, &config, &["box"], limits(60)).await }
    };
    let result = std::panic::AssertUnwindSafe(guarded(&session, work))
        .catch_unwind()
        .await;
    assert!(result.is_err(), "the panic goes on after cleanup");
    assert_no_containers(owner);
    assert_eq!(image.extra_tags(), Vec::<String>::new());
}

// ---- through the binary: messages and exit codes ----

#[test]
fn missing_image_exit_4_names_image_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let config = hierarchy(dir.path(), "t-noimage", "  box:\n    taggers: [date]\n");
    let out = stacktag_config("t-noimage", &config)
        .args(["hook", "box"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 4);
    let err = text(&out.stderr);
    assert!(
        err.contains("image localhost:5000/t-noimage/box:latest not found on the Docker daemon"),
        "{err}"
    );
    assert!(
        err.contains("fix: build it first (`stacktag build box`"),
        "{err}"
    );
}

#[test]
fn broken_hierarchy_exit_3_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("h.yaml");
    std::fs::write(
        &config,
        "images:\n  box:\n    taggers: [date\n  other: {}\n",
    )
    .unwrap();
    let out = stacktag_config("t-broken", &config)
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(code(&out), 3);
    let err = text(&out.stderr);
    assert!(
        err.starts_with(&format!("stacktag: error: {}:", config.display())),
        "{err}"
    );
    assert!(err.contains("not valid YAML"), "{err}");
}

#[test]
fn unknown_tagger_exit_3_lists_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let config = hierarchy(
        dir.path(),
        "t-unknown",
        "  box:\n    taggers:\n      - date\n      - pyhton_version\n",
    );
    let out = stacktag_config("t-unknown", &config)
        .args(["hook", "box"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 3);
    let err = text(&out.stderr);
    assert!(err.contains("hierarchy.yaml:8: image `box`: unknown tagger `pyhton_version` (did you mean `python_version`?); known taggers: commit_sha, conda_version, date"), "{err}");
}

#[test]
fn cycle_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let config = hierarchy(
        dir.path(),
        "t-cycle",
        "  a:\n    parent: b\n  b:\n    parent: a\n",
    );
    let out = stacktag_config("t-cycle", &config)
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(code(&out), 3);
    assert!(
        text(&out.stderr).contains("the parents form a cycle: a -> b -> a"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn platform_that_disagrees_with_the_image_exit_4() {
    let image = TestImage::new("t-platform", "");
    let dir = tempfile::tempdir().unwrap();
    let config = hierarchy(dir.path(), "t-platform", "  box:\n    taggers: [date]\n");
    let out = stacktag_config("t-platform", &config)
        .args([
            "tags-file",
            "--image",
            "box",
            "--platform",
            "arm64",
            "--out-dir",
        ])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(code(&out), 4, "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("is x86_64, but --platform says aarch64"),
        "{}",
        text(&out.stderr)
    );
    assert_no_containers("t-platform");
    drop(image);
}

#[test]
fn unreachable_daemon_exit_6_says_how_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let config = hierarchy(dir.path(), "t-nodaemon", "  box:\n    taggers: [date]\n");
    let out = stacktag_config("t-nodaemon", &config)
        .env("DOCKER_HOST", "tcp://127.0.0.1:9")
        .args(["hook", "box"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 6, "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("tcp://127.0.0.1:9"), "{err}");
    assert!(err.contains("point DOCKER_HOST at one"), "{err}");
}

/// SIGTERM and Ctrl-C while a command hangs: the container goes, nothing is applied.
#[test]
fn signals_mid_run_remove_the_container() {
    let owner = "t-signal";
    let image = TestImage::new(
        owner,
        "RUN printf '#!/bin/sh\\nexec sleep 600\\n' > /bin/python && chmod +x /bin/python",
    );
    let dir = tempfile::tempdir().unwrap();
    let config = hierarchy(dir.path(), owner, "  box:\n    taggers: [python_version]\n");
    for (signal, expected) in [("-TERM", 143), ("-INT", 130)] {
        let child = hook_box(owner, &config, dir.path()).spawn().unwrap();
        wait_for("the container to start", || containers_of(owner) > 0);
        std::thread::sleep(Duration::from_millis(500));
        std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(code(&out), expected, "{signal}: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("interrupted by SIG"),
            "{}",
            text(&out.stderr)
        );
        assert_no_containers(owner);
        assert_eq!(image.extra_tags(), Vec::<String>::new());
        assert_eq!(files_under(&dir.path().join("out")), Vec::<String>::new());
    }
}

/// A signal that lands while the tags are being applied waits for the whole
/// tag set (and the files) instead of leaving part of it: the proxy to the
/// daemon holds each tag request back, and SIGINT comes after the first tag.
#[test]
fn signal_during_apply_finishes_the_tag_set() {
    let owner = "t-signal-apply";
    let image = TestImage::new(owner, "");
    let (port, _) = docker_proxy(Duration::from_millis(1500));
    let dir = tempfile::tempdir().unwrap();
    let config = hierarchy(
        dir.path(),
        owner,
        "  box:\n    taggers: [date, os_version]\n",
    );
    let child = hook_box(owner, &config, dir.path())
        .env("DOCKER_HOST", format!("tcp://127.0.0.1:{port}"))
        .spawn()
        .unwrap();
    wait_for("a tag to be applied", || !image.extra_tags().is_empty());
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(code(&out), 130, "{err}");
    assert!(err.contains("finishing the tags being applied"), "{err}");
    // All three tags (latest, date, os), and the files that list them.
    let tags = image.extra_tags();
    assert_eq!(tags.len(), 3, "{tags:?}");
    let written = std::fs::read_to_string(dir.path().join("out/tags/x86_64-default-box.txt"))
        .expect("tags file moved into place");
    for t in &tags {
        assert!(written.lines().any(|l| l == t), "{t} not in {written}");
    }
    assert_eq!(files_under(&dir.path().join("out")).len(), 3);
    assert_no_containers(owner);
}

/// `stacktag hook box` of a test hierarchy, files under `dir/out`, stderr kept.
fn hook_box(owner: &str, config: &Path, dir: &Path) -> std::process::Command {
    let mut cmd = stacktag_config(owner, config);
    cmd.args(["hook", "box", "--out-dir"])
        .arg(dir.join("out"))
        .stderr(std::process::Stdio::piped());
    cmd
}

/// Polls `done` every 50 ms for up to a minute.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "waited a minute for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
