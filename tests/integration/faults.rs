//! Faults and hostile input (issue 11): closed pipes, version output with
//! extra words, bad settings, images without `sleep`, a daemon that dies,
//! runs that race, a disk that fills. Each test names the case it pins.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::*;

/// A script at `path` in a busybox test image: `#!/bin/sh` and `body`.
fn script(path: &str, body: &str) -> String {
    let text = format!("#!/bin/sh\\n{body}\\n").replace('\'', r"'\''");
    format!("RUN printf '{text}' > {path} && chmod +x {path}")
}

/// Tags of `image` besides `latest`, files under `out`, and containers of
/// `owner`: all must be empty after a run that failed.
fn assert_nothing_left(owner: &str, image: &TestImage, out: &Path) {
    assert_no_containers(owner);
    assert_eq!(image.extra_tags(), Vec::<String>::new(), "no tag applied");
    assert_eq!(files_under(out), Vec::<String>::new(), "no file written");
}

// ---- 3. version output with extra words ----

/// `6.4 beta` was tagged `notebook-6.4`: the word after the version was dropped.
#[test]
fn version_followed_by_a_word_is_refused_naming_tagger_command_and_output() {
    let owner = "f-beta";
    let image = TestImage::new(owner, &script("/bin/jupyter-notebook", "echo 6.4 beta"));
    let dir = tempfile::tempdir().unwrap();
    let config = hierarchy(
        dir.path(),
        owner,
        "  box:\n    taggers: [date, notebook_version]\n",
    );
    let out = stacktag_config(owner, &config)
        .args(["hook", "box", "--out-dir"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(code(&out), 5, "{err}");
    // The built-in rule's pattern ends at the line's end: the whole line must be the version.
    assert!(
        err.contains("box: tagger `notebook_version` (")
            && err.contains("in the output of `jupyter-notebook --version`:\n6.4 beta\n"),
        "{err}"
    );
    assert_nothing_left(owner, &image, &dir.path().join("out"));
}

// ---- 5. settings checked where they are read ----

/// `registry: "ht tp://x"` passed `stacktag check` and went on to the daemon.
#[test]
fn bad_registry_owner_repository_or_timeout_exit_3_with_file_and_line() {
    let owner = "f-settings";
    let image = TestImage::new(owner, "");
    let dir = tempfile::tempdir().unwrap();
    let images = "images:\n  box:\n    taggers: [date]\n";
    let cases = [
        (
            format!("registry: \"ht tp://x\"\nowner: {owner}\n"),
            1,
            "`registry: ht tp://x` is not valid: want a registry host",
        ),
        (
            format!("registry: localhost:5000\nowner: {owner}/Box\n"),
            2,
            "is not valid: want an owner (organisation) path",
        ),
        (
            format!(
                "registry: localhost:5000\nowner: {owner}\nrepository: https://github.com/a/b\n"
            ),
            3,
            "is not valid: want GitHub `OWNER/REPO`",
        ),
        (
            format!("registry: localhost:5000\nowner: {owner}\ncommand_timeout: 0\n"),
            3,
            "`command_timeout` must be a whole number of seconds from 1 to 86400",
        ),
    ];
    for (settings, line, want) in cases {
        let config = dir.path().join("hierarchy.yaml");
        std::fs::write(&config, format!("{settings}{images}")).unwrap();
        let out = stacktag_config(owner, &config)
            .args(["hook", "box", "--out-dir"])
            .arg(dir.path().join("out"))
            .output()
            .unwrap();
        let err = text(&out.stderr);
        assert_eq!(code(&out), 3, "{settings}: {err}");
        assert!(
            err.starts_with(&format!("stacktag: error: {}:{line}: ", config.display())),
            "{settings}: {err}"
        );
        assert!(err.contains(want), "{settings}: {err}");
        assert_nothing_left(owner, &image, &dir.path().join("out"));
    }
}

// ---- 4. a closed pipe is not a crash ----

/// `stacktag hook ... 2>&1 | head -2` exited 101 (a panic): the error line
/// went to a closed stderr. Now a closed stderr ends the run as a signal
/// does, at once: containers removed, exit 141, no panic.
#[test]
fn closed_stderr_ends_the_run_as_a_signal_would() {
    let owner = "f-pipe";
    // `box` logs its progress after 1 s; `slow` hangs until the timeout.
    let fast = TestImage::new(owner, &script("/bin/python", "sleep 1; echo Python 3.11.2"));
    let slow = TestImage::named(owner, "slow", &script("/bin/python", "exec sleep 600"));
    let dir = tempfile::tempdir().unwrap();
    let config = hierarchy(
        dir.path(),
        owner,
        "  box:\n    taggers: [python_version]\n  slow:\n    taggers: [python_version]\n",
    );
    let out = dir.path().join("out");
    let mut child = stacktag_config(owner, &config)
        .args([
            "hook",
            "box",
            "slow",
            "--command-timeout",
            "30",
            "--out-dir",
        ])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    assert!(first.contains("container started"), "{first}");
    // The reader leaves, as `head` does.
    drop(stderr);
    let started = Instant::now();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(141), "{status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the run went on to the timeout: {:?}",
        started.elapsed()
    );
    assert_no_containers(owner);
    assert_eq!(
        slow.extra_tags(),
        Vec::<String>::new(),
        "slow: nothing applied"
    );
    // `box` may have been applying its tags when the pipe closed: all or nothing.
    let tags = fast.extra_tags();
    let files = files_under(&out);
    assert!(
        (tags.is_empty() && files.is_empty()) || (tags.len() == 2 && files.len() == 3),
        "box half applied: {tags:?} {files:?}"
    );

    // An error message for a stderr that is already closed: not a panic.
    let mut child = stacktag_config(owner, &config)
        .args(["hook", "nope"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(3), "unknown image: {status:?}");
}

// ---- 2. images without a usable `sleep` ----

/// Test tagger: the trimmed stdout of a command is the tag value.
struct Run(&'static [&'static str]);

#[stacktag::async_trait]
impl stacktag::plugin::Tagger for Run {
    async fn tag_value(
        &self,
        ctx: &stacktag::plugin::Context,
    ) -> Result<String, stacktag::error::PluginError> {
        ctx.stdout(self.0).await
    }
}

stacktag::tagger!(
    "test_stop_container",
    "test: kills the container's keep-alive, then waits",
    Run(&["sh", "-c", "killall keep-alive; sleep 5; echo 1"])
);
stacktag::tagger!(
    "test_slow_echo",
    "test: answers after 2 s",
    Run(&["sh", "-c", "sleep 2; echo 2"])
);
stacktag::tagger!(
    "test_missing_after_stop",
    "test: a program the image lacks",
    Run(&["python", "--version"])
);

/// `stacktag hook box` with `date` and `os_version` on an image whose
/// `cat /etc/os-release` works: it must tag it like any other.
fn hook_tags_an_image_without_sleep(owner: &str, image: &TestImage) {
    let dir = tempfile::tempdir().unwrap();
    let config = hierarchy(
        dir.path(),
        owner,
        "  box:\n    taggers: [date, os_version]\n",
    );
    let out = stacktag_config(owner, &config)
        .args([
            "hook",
            "box",
            "--timestamp",
            "2026-11-22T23:48:58Z",
            "--out-dir",
        ])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(code(&out), 0, "{err}");
    let version = docker(&[
        "run",
        "--rm",
        "--entrypoint",
        "cat",
        BUSYBOX,
        "/etc/os-release",
    ]);
    let version = version
        .lines()
        .find_map(|l| l.strip_prefix("VERSION_ID="))
        .unwrap();
    let mut tags = image.extra_tags();
    tags.sort();
    assert_eq!(
        tags,
        [
            format!("{}:x86_64-2026-11-22", image.name),
            format!("{}:x86_64-busybox-{version}", image.name),
            format!("{}:x86_64-latest", image.name),
        ]
    );
    assert_eq!(files_under(&dir.path().join("out")).len(), 3);
    assert_no_containers(owner);
}

/// An image `FROM scratch` holding one static binary (busybox, named `cat`)
/// and /etc/os-release: no shell, no `sleep`, nothing else. It stopped at
/// once (exit 4) or failed with a false "not in the image" (exit 5).
#[test]
fn an_image_from_scratch_with_one_static_binary_is_tagged() {
    let owner = "f-scratch";
    let image = TestImage::from_dockerfile(
        owner,
        "box",
        &format!(
            "FROM {BUSYBOX} AS bb\nFROM scratch\nCOPY --from=bb /bin/busybox /bin/cat\nCOPY --from=bb /etc/os-release /etc/os-release\n"
        ),
    );
    // What the image holds: no sleep, no shell.
    let ls = docker(&[
        "image",
        "inspect",
        "--format",
        "{{.RootFS.Layers}}",
        &format!("{}:latest", image.name),
    ]);
    assert_eq!(ls.matches("sha256:").count(), 2, "{ls}");
    hook_tags_an_image_without_sleep(owner, &image);
}

/// The busybox image with `sleep` removed.
#[test]
fn an_image_whose_sleep_was_removed_is_tagged() {
    let owner = "f-nosleep";
    let image = TestImage::new(owner, "RUN rm /bin/sleep");
    let probe = std::process::Command::new("docker")
        .args([
            "run",
            "--rm",
            "--entrypoint",
            "sleep",
            &format!("{}:latest", image.name),
            "0",
        ])
        .output()
        .unwrap();
    assert!(!probe.status.success(), "sleep is still in the image");
    hook_tags_an_image_without_sleep(owner, &image);
}

/// A container that stops while its commands run gave, depending on the
/// timing, `409 ... is not running`, a false "not in the image (126)", or
/// an exit code: now always the one error that says the container stopped.
#[tokio::test]
async fn a_container_that_stops_mid_run_is_always_the_same_true_error() {
    let owner = "f-stopped";
    let image = TestImage::new(owner, "");
    let dir = tempfile::tempdir().unwrap();
    let config = hierarchy(
        dir.path(),
        owner,
        "  box:\n    taggers: [test_stop_container, test_slow_echo, test_missing_after_stop, os_version]\n    manifests: [apt_packages]\n",
    );
    let out = dir.path().join("out");
    for _ in 0..3 {
        let err =
            crate::failures::hook(owner, &out, &config, &["box"], crate::failures::limits(60))
                .await
                .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("the container of localhost:5000/f-stopped/box:latest stopped while its commands ran (exited, exit code "),
            "{msg}"
        );
        assert!(!msg.contains("not in the image"), "{msg}");
        assert_eq!(stacktag::cli::exit::exit_code(&err), 4, "{msg}");
        assert_nothing_left(owner, &image, &out);
    }
}

// ---- 1. a daemon that dies, a run killed with SIGKILL ----

/// Polls `done` every 50 ms for up to a minute.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "waited a minute for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The daemon killed while a command runs gave exit 5 and one cryptic
/// `hyper legacy client` line per tagger, and the run's container stayed
/// on the daemon forever. Now: one message, exit 6, and the next run (or
/// `stacktag gc`) removes the container once the daemon is back.
#[test]
fn a_daemon_that_dies_mid_run_is_one_message_and_its_containers_go_later() {
    let owner = "f-daemon";
    let image = TestImage::new(owner, &script("/bin/python", "exec sleep 600"));
    let mut daemon = crate::private_daemon::PrivateDaemon::start();
    daemon.load(&format!("{}:latest", image.name));
    let dir = tempfile::tempdir().unwrap();
    let config = hierarchy(
        dir.path(),
        owner,
        "  box:\n    taggers: [python_version, date]\n    manifests: [apt_packages]\n",
    );
    let child = stacktag_config(owner, &config)
        .env("DOCKER_HOST", daemon.host())
        .args(["hook", "box", "--out-dir"])
        .arg(dir.path().join("out"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let run = format!("label=org.stacktag.run={owner}");
    let ours = |d: &crate::private_daemon::PrivateDaemon| {
        d.docker(&["ps", "-aq", "--filter", &run]).lines().count()
    };
    wait_until("the container to start", || ours(&daemon) > 0);
    std::thread::sleep(Duration::from_millis(500));
    daemon.kill();
    let out = child.wait_with_output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(code(&out), 6, "{err}");
    assert!(
        err.contains("stacktag: error: the Docker daemon went away during the run ("),
        "{err}"
    );
    assert_eq!(
        err.matches("stacktag: error").count(),
        1,
        "one message: {err}"
    );
    assert!(!err.contains("failed"), "{err}");
    assert!(!err.contains("warning"), "{err}");
    assert_eq!(files_under(&dir.path().join("out")), Vec::<String>::new());

    // Back: the run's container is still there, as the run could not remove it.
    daemon.restart();
    assert_eq!(ours(&daemon), 1, "the dead run's container");
    let dry = stacktag(owner)
        .env("DOCKER_HOST", daemon.host())
        .args(["gc", "--dry-run"])
        .output()
        .unwrap();
    let listed = text(&dry.stdout);
    assert_eq!(code(&dry), 0, "{}", text(&dry.stderr));
    assert!(
        listed.contains(&format!(
            "would remove stacktag-{owner}-box-default (run {owner}, pid "
        )),
        "{listed}"
    );
    assert_eq!(ours(&daemon), 1, "a dry run removes nothing");
    let gc = stacktag(owner)
        .env("DOCKER_HOST", daemon.host())
        .arg("gc")
        .output()
        .unwrap();
    let said = text(&gc.stdout);
    assert_eq!(code(&gc), 0, "{}", text(&gc.stderr));
    assert!(
        said.contains("1 removed, 0 of runs alive now kept"),
        "{said}"
    );
    assert_eq!(ours(&daemon), 0);
    // Nothing was applied.
    let tags = daemon.docker(&["images", "--format", "{{.Tag}}", &image.name]);
    assert_eq!(tags.trim(), "latest");
}

/// A run killed with SIGKILL cannot remove its container; the next run that
/// talks to the daemon does, and leaves a live run's container alone. On a
/// daemon of the test's own: any run on the shared daemon (the other tests')
/// would collect the dead run's container first.
#[test]
fn a_run_killed_with_sigkill_leaves_nothing_after_the_next_run() {
    let owner = "f-sigkill";
    let image = TestImage::new(owner, &script("/bin/python", "exec sleep 600"));
    let quick = TestImage::named(owner, "quick", "");
    let daemon = crate::private_daemon::PrivateDaemon::start();
    daemon.load(&format!("{}:latest", image.name));
    daemon.load(&format!("{}:latest", quick.name));
    let containers_of = |run: &str| {
        daemon
            .docker(&[
                "ps",
                "-aq",
                "--filter",
                &format!("label=org.stacktag.run={run}"),
            ])
            .lines()
            .count()
    };
    let dir = tempfile::tempdir().unwrap();
    let config = hierarchy(
        dir.path(),
        owner,
        "  box:\n    taggers: [python_version]\n  quick:\n    taggers: [date]\n",
    );
    let hook = |run: &str, image: &str| {
        let mut cmd = stacktag_config(run, &config);
        cmd.env("DOCKER_HOST", daemon.host())
            .args(["hook", image, "--out-dir"])
            .arg(dir.path().join(run))
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        cmd
    };
    let (killed, alive) = ("f-sigkill-killed", "f-sigkill-alive");
    /// Killed if the test fails before it ends the run itself.
    struct Live(std::process::Child);
    impl Drop for Live {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut live = Live(hook(alive, "box").spawn().unwrap());
    let mut victim = hook(killed, "box").spawn().unwrap();
    wait_until("both containers", || {
        containers_of(killed) == 1 && containers_of(alive) == 1
    });
    victim.kill().unwrap();
    victim.wait().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(containers_of(killed), 1, "SIGKILL leaves the container");

    let next = hook("f-sigkill-next", "quick").output().unwrap();
    let err = text(&next.stderr);
    assert_eq!(code(&next), 0, "{err}");
    assert!(
        err.contains(&format!(
            "stacktag: removed 1 container(s) left by runs no longer alive: stacktag-{killed}-box-default (run {killed}, pid {}",
            victim.id()
        )),
        "{err}"
    );
    assert_eq!(containers_of(killed), 0, "removed by the next run");
    assert_eq!(containers_of(alive), 1, "a live run's container is kept");

    // The live run ends as usual on SIGTERM, removing its own.
    unsafe { libc::kill(live.0.id() as i32, libc::SIGTERM) };
    assert_eq!(live.0.wait().unwrap().code(), Some(143));
    assert_eq!(containers_of(alive), 0, "the live run removed its own");
    drop((image, quick));
}

// ---- runs that race, a disk that fills ----

/// Two hooks of the same image at once, with different build dates: each
/// applies its whole tag set, and the tags file is one run's, never a mix.
#[test]
fn two_hooks_of_one_image_at_once_end_whole() {
    let owner = "f-race";
    let image = TestImage::new(owner, "");
    let dir = tempfile::tempdir().unwrap();
    let config = hierarchy(
        dir.path(),
        owner,
        "  box:\n    taggers: [date, os_version]\n",
    );
    let out = dir.path().join("out");
    for round in 0..3 {
        let runs: Vec<_> = ["2026-11-22T23:48:58Z", "2027-01-05T01:02:03Z"]
            .iter()
            .enumerate()
            .map(|(i, ts)| {
                stacktag_config(&format!("{owner}-{round}-{i}"), &config)
                    .args(["hook", "box", "--timestamp", ts, "--out-dir"])
                    .arg(&out)
                    .stderr(Stdio::piped())
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut sets = Vec::new();
        for run in runs {
            let done = run.wait_with_output().unwrap();
            assert_eq!(code(&done), 0, "{}", text(&done.stderr));
            let set: Vec<String> = text(&done.stdout)
                .lines()
                .filter_map(|l| {
                    l.trim()
                        .strip_prefix("localhost:5000/")
                        .map(|t| format!("localhost:5000/{t}"))
                })
                .collect();
            assert_eq!(set.len(), 3, "{set:?}");
            sets.push(set);
        }
        let file = std::fs::read_to_string(out.join("tags/x86_64-default-box.txt")).unwrap();
        let file: Vec<String> = file.lines().map(str::to_string).collect();
        assert!(
            sets.contains(&file),
            "round {round}: tags file {file:?} is neither {sets:?}"
        );
        let on_image = own_tags(&image.name);
        for t in sets.iter().flatten() {
            assert!(on_image.contains(t), "{t} missing: {on_image:?}");
        }
        // No temporary file left beside the final ones.
        assert!(
            files_under(&out).iter().all(|f| !f.contains(".tmp")),
            "{:?}",
            files_under(&out)
        );
        assert_no_containers(&format!("{owner}-{round}-0"));
        assert_no_containers(&format!("{owner}-{round}-1"));
    }
}

/// A tmpfs of the test's own, unmounted when dropped.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn new(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success(), "mount tmpfs (the tests run as root)");
        Tmpfs(dir)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.0.path())
            .status();
    }
}

/// The output directory fills up while the files are written: a clear
/// error naming the file, exit 8, and nothing left: no file under its final
/// name, no half-written temporary file, no tag applied.
#[test]
fn a_disk_that_fills_while_writing_leaves_no_file_and_no_tag() {
    let owner = "f-diskfull";
    let image = TestImage::new(owner, "");
    let dir = tempfile::tempdir().unwrap();
    let config = hierarchy(
        dir.path(),
        owner,
        "  box:\n    taggers: [date, os_version]\n",
    );
    // One page: the tags file fits, the manifest does not.
    let disk = Tmpfs::new("4k");
    let out = disk.0.path().join("out");
    let run = stacktag_config(owner, &config)
        .args(["hook", "box", "--out-dir"])
        .arg(&out)
        .output()
        .unwrap();
    let err = text(&run.stderr);
    assert_eq!(code(&run), 8, "{err}");
    let sha12 = &head_sha()[..12];
    assert!(
        err.contains(&format!(
            "stacktag: error: {}/manifests/x86_64-default-box-{sha12}.md: No space left on device",
            out.display()
        )),
        "{err}"
    );
    assert_nothing_left(owner, &image, &out);
}
