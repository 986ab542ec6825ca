//! `stacktag build` on the real daemon, with tiny stacks of the tests' own:
//! a hierarchy file in a temporary directory with its own `images/` folders,
//! every image FROM the busybox fixture. The docker CLI is the oracle.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::*;

/// A stack of the test's own; its images (every tag of
/// `localhost:5000/{owner}/*`) are removed when it is dropped.
pub struct Stack {
    pub dir: tempfile::TempDir,
    pub owner: String,
}

impl Stack {
    /// `hierarchy` is the `images:` section; `files` are (path, text) under the stack.
    pub fn new(owner: &str, hierarchy_images: &str, files: &[(&str, &str)]) -> Stack {
        ensure_busybox();
        let s = Stack {
            dir: tempfile::tempdir().unwrap(),
            owner: format!("wtbuild-{owner}"),
        };
        s.remove_images();
        s.write(
            "hierarchy.yaml",
            &format!(
                "registry: {DEMO_REGISTRY}\nowner: {}\nimages:\n{hierarchy_images}",
                s.owner
            ),
        );
        for (p, t) in files {
            s.write(p, t);
        }
        s
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    pub fn append(&self, rel: &str, text: &str) {
        let p = self.path().join(rel);
        let old = std::fs::read_to_string(&p).unwrap();
        std::fs::write(p, old + text).unwrap();
    }

    pub fn name(&self, image: &str) -> String {
        format!("{DEMO_REGISTRY}/{}/{image}", self.owner)
    }

    /// `stacktag build ARGS` in the stack's directory.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = stacktag_config(&self.owner, &self.path().join("hierarchy.yaml"));
        cmd.arg("build")
            .args(args)
            .arg("--out-dir")
            .arg(self.path().join("out"))
            .env("XDG_CACHE_HOME", self.cache())
            .current_dir(self.path());
        cmd
    }

    /// The stack's own XDG_CACHE_HOME: its build records.
    pub fn cache(&self) -> PathBuf {
        self.path().join("cache")
    }

    pub fn build(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Builds and insists it worked.
    pub fn build_ok(&self, args: &[&str]) -> String {
        let out = self.build(args);
        assert_eq!(code(&out), 0, "build {args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    }

    /// `--plan --format json` of `args`.
    pub fn plan(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["--plan", "--format", "json"]);
        let doc: Value = serde_json::from_str(&self.build_ok(&all)).unwrap();
        crate::json::validate("build --plan --format json", &doc);
        doc
    }

    /// Image name to the plan's action for it.
    pub fn actions(&self, args: &[&str]) -> Vec<(String, String)> {
        let plan = self.plan(args);
        plan["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["image"].as_str().unwrap().to_string(),
                    i["action"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// The image ID of `image:latest`, if any.
    pub fn id(&self, image: &str) -> Option<String> {
        image_id(&format!("{}:latest", self.name(image)))
    }

    /// Every tag of the stack's repositories.
    pub fn tags(&self) -> Vec<String> {
        let prefix = format!("{DEMO_REGISTRY}/{}/", self.owner);
        let mut v: Vec<String> = docker(&["images", "--format", "{{.Repository}}:{{.Tag}}"])
            .lines()
            .filter(|l| l.starts_with(&prefix))
            .map(str::to_string)
            .collect();
        v.sort();
        v
    }

    fn remove_images(&self) {
        for t in self.tags() {
            let _ = Command::new("docker").args(["rmi", "-f", &t]).output();
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.remove_images();
    }
}

pub fn image_id(reference: &str) -> Option<String> {
    let out = Command::new("docker")
        .args(["image", "inspect", "--format", "{{.Id}}", reference])
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| text(&out.stdout).trim().to_string())
}

/// Build processes whose command line contains `marker`: containers on
/// the daemon (any state, the classic builder's), and processes on this
/// machine (BuildKit runs its steps without a Docker container).
fn containers_running(marker: &str) -> usize {
    let containers = docker(&["ps", "-a", "--no-trunc", "--format", "{{.Command}}"])
        .lines()
        .filter(|l| l.contains(marker))
        .count();
    let me = std::process::id().to_string();
    let processes = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .chars()
                .all(|c| c.is_ascii_digit())
        })
        .filter(|e| e.file_name().to_string_lossy() != me)
        .filter(|e| {
            std::fs::read(e.path().join("cmdline")).is_ok_and(|c| {
                let c = String::from_utf8_lossy(&c);
                // The step's shell, not a test's own command line naming it.
                c.contains(marker) && c.starts_with("/bin/sh")
            })
        })
        .count();
    containers + processes
}

/// The seconds of the progress line `[  1.23s] {image}: {what}...`.
fn at(stderr: &str, image: &str, what: &str) -> f64 {
    let needle = format!("] {image}: {what}");
    let line = stderr
        .lines()
        .find(|l| l.contains(&needle))
        .unwrap_or_else(|| panic!("no `{needle}` in:\n{stderr}"));
    line.trim_start_matches('[')
        .split('s')
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

const FROM_BUSYBOX: &str = "FROM stacktag-test/busybox:latest\n";
const FROM_PARENT: &str = "ARG REGISTRY\nARG OWNER\nARG PARENT\nFROM $REGISTRY/$OWNER/$PARENT\n";

/// base -> (kid-a, kid-b), and a separate root `other`.
fn tree(owner: &str, kid_step: &str) -> Stack {
    let kid = format!("{FROM_PARENT}COPY file.txt /kid.txt\n{kid_step}");
    // A base of this run only: the daemon's layer cache would give it the ID
    // of an earlier run's, whose children it could then reuse.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let nonce = format!(
        "LABEL org.stacktag.test.run={}-{nanos}\n",
        std::process::id()
    );
    Stack::new(
        owner,
        "  base:\n    build_args: {GREETING: hello}\n  kid-a:\n    parent: base\n    build_args: {PARENT: base}\n  kid-b:\n    parent: base\n    build_args: {PARENT: base}\n  other: {}\n",
        &[
            (
                "images/base/Dockerfile",
                &format!("{FROM_BUSYBOX}{nonce}ARG GREETING\nRUN echo $GREETING > /greeting\n"),
            ),
            ("images/kid-a/Dockerfile", &kid),
            ("images/kid-a/file.txt", "a\n"),
            ("images/kid-b/Dockerfile", &kid),
            ("images/kid-b/file.txt", "b\n"),
            ("images/other/Dockerfile", &format!("{FROM_BUSYBOX}COPY . /ctx/\n")),
            ("images/other/keep.txt", "keep\n"),
        ],
    )
}

#[test]
fn parents_first_and_independent_children_at_the_same_time() {
    let s = tree("order", "RUN sleep 2\n");
    let out = s.build(&["kid-a", "kid-b", "--jobs", "2"]);
    let err = text(&out.stderr);
    assert_eq!(code(&out), 0, "{err}");
    // The children start after their parent is built, and overlap.
    let base_done = at(&err, "base", "built");
    let (a_start, b_start) = (at(&err, "kid-a", "building"), at(&err, "kid-b", "building"));
    let (a_done, b_done) = (at(&err, "kid-a", "built"), at(&err, "kid-b", "built"));
    assert!(a_start >= base_done && b_start >= base_done, "{err}");
    assert!(
        a_start < b_done && b_start < a_done,
        "not concurrent:\n{err}"
    );
    // `other` was not asked for; each child is FROM the base built in this run.
    assert_eq!(s.id("other"), None);
    let layers = |reference: &str| {
        docker(&[
            "image",
            "inspect",
            "--format",
            "{{json .RootFS.Layers}}",
            reference,
        ])
    };
    let base = layers(&format!("{}:latest", s.name("base")));
    let base = base.trim().trim_end_matches(']');
    for kid in ["kid-a", "kid-b"] {
        let own = layers(&format!("{}:latest", s.name(kid)));
        assert!(
            own.starts_with(base),
            "{kid} not FROM base: {own} vs {base}"
        );
        assert!(s
            .path()
            .join(format!("out/build-logs/x86_64-default-{kid}.log"))
            .is_file());
    }
    // The inputs tag beside latest, and the digest never in the image.
    let inputs = s.plan(&["kid-a"])["images"][1]["inputs"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        inputs.starts_with("sha256:") && inputs.len() == 71,
        "{inputs}"
    );
    let short = &inputs[7..23];
    assert!(s
        .tags()
        .contains(&format!("{}:inputs-{short}", s.name("kid-a"))));
    let labels = docker(&[
        "image",
        "inspect",
        "--format",
        "{{json .Config.Labels}}",
        &format!("{}:latest", s.name("kid-a")),
    ]);
    assert!(!labels.contains("org.stacktag.inputs"), "{labels}");
    assert!(
        !s.tags().iter().any(|t| t.contains("stacktag-build-")),
        "{:?}",
        s.tags()
    );

    // One job: the second child waits for the first.
    s.write("images/kid-a/file.txt", "a2\n");
    s.write("images/kid-b/file.txt", "b2\n");
    let out = s.build(&["kid-a", "kid-b", "--jobs", "1"]);
    let err = text(&out.stderr);
    assert_eq!(code(&out), 0, "{err}");
    let (a_start, b_start) = (at(&err, "kid-a", "building"), at(&err, "kid-b", "building"));
    let (a_done, b_done) = (at(&err, "kid-a", "built"), at(&err, "kid-b", "built"));
    assert!(
        a_start >= b_done || b_start >= a_done,
        "overlapped with --jobs 1:\n{err}"
    );
}

#[test]
fn the_digest_changes_when_and_only_when_an_input_changes() {
    let s = tree("digest", "");
    s.write("images/other/.dockerignore", "*.log\n");
    s.write("images/other/debug.log", "1\n");
    s.build_ok(&["--all"]);
    let all_reuse = |s: &Stack, args: &[&str]| {
        let actions = s.actions(args);
        assert!(actions.iter().all(|(_, a)| a == "reuse"), "{actions:?}");
    };
    all_reuse(&s, &["--all"]);
    let plan = |args: &[&str]| -> Vec<(String, String, String)> {
        s.plan(args)["images"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["action"] != "reuse")
            .map(|i| {
                (
                    i["image"].as_str().unwrap().to_string(),
                    i["action"].as_str().unwrap().to_string(),
                    i["why"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|w| w.as_str().unwrap())
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            })
            .collect()
    };
    let build = |image: &str, why: &str| (image.to_string(), "build".to_string(), why.to_string());

    // A file .dockerignore leaves out: nothing.
    s.write("images/other/debug.log", "2\n");
    assert_eq!(plan(&["--all"]), []);
    // A context file: that image only.
    s.write("images/other/keep.txt", "changed\n");
    assert_eq!(
        plan(&["--all"]),
        [build("other", "context file keep.txt changed")]
    );
    s.write("images/other/keep.txt", "keep\n");
    // A new file, and a changed mode.
    s.write("images/other/new.txt", "n\n");
    assert_eq!(
        plan(&["--all"]),
        [build("other", "context file new.txt added")]
    );
    std::fs::remove_file(s.path().join("images/other/new.txt")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    let keep = s.path().join("images/other/keep.txt");
    std::fs::set_permissions(&keep, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(
        plan(&["--all"]),
        [build("other", "context file keep.txt changed")]
    );
    std::fs::set_permissions(&keep, std::fs::Permissions::from_mode(0o644)).unwrap();
    // .dockerignore itself.
    s.write("images/other/.dockerignore", "*.log\n*.tmp\n");
    assert_eq!(
        plan(&["--all"]),
        [build("other", "context file .dockerignore changed")]
    );
    s.write("images/other/.dockerignore", "*.log\n");
    // The Dockerfile.
    s.append("images/kid-a/Dockerfile", "ENV X=1\n");
    assert_eq!(plan(&["--all"]), [build("kid-a", "Dockerfile changed")]);
    s.write(
        "images/kid-a/Dockerfile",
        &format!("{FROM_PARENT}COPY file.txt /kid.txt\n"),
    );
    all_reuse(&s, &["--all"]);
    // A hashed build arg up the tree: the base and exactly its descendants.
    s.write(
        "hierarchy.yaml",
        &std::fs::read_to_string(s.path().join("hierarchy.yaml"))
            .unwrap()
            .replace("GREETING: hello", "GREETING: bye"),
    );
    assert_eq!(
        plan(&["--all"]),
        [
            build("base", "build arg GREETING changed"),
            build(
                "kid-a",
                "parent base is rebuilt (reused if it comes out the same image)"
            ),
            build(
                "kid-b",
                "parent base is rebuilt (reused if it comes out the same image)"
            ),
        ]
    );
    // --build-arg: hashed where the Dockerfile declares it, not elsewhere.
    s.write(
        "hierarchy.yaml",
        &std::fs::read_to_string(s.path().join("hierarchy.yaml"))
            .unwrap()
            .replace("GREETING: bye", "GREETING: hello"),
    );
    all_reuse(&s, &["--all", "--build-arg", "UNDECLARED=1"]);
    assert_eq!(
        plan(&["other", "--build-arg", "GREETING=x"]),
        [],
        "other does not declare GREETING"
    );
    // A refresh period is an input of its own.
    s.write(
        "hierarchy.yaml",
        &std::fs::read_to_string(s.path().join("hierarchy.yaml"))
            .unwrap()
            .replace("  other: {}", "  other:\n    refresh: 7d"),
    );
    assert_eq!(plan(&["other"]), [build("other", "refresh period added")]);

    // What was built is what the plan said: only base's descendants move.
    s.write(
        "hierarchy.yaml",
        &std::fs::read_to_string(s.path().join("hierarchy.yaml"))
            .unwrap()
            .replace("    refresh: 7d", "    taggers: []")
            .replace("GREETING: hello", "GREETING: bye"),
    );
    let before: Vec<_> = ["base", "kid-a", "kid-b", "other"]
        .iter()
        .map(|i| s.id(i).unwrap())
        .collect();
    let out = s.build_ok(&["--all"]);
    let after: Vec<_> = ["base", "kid-a", "kid-b", "other"]
        .iter()
        .map(|i| s.id(i).unwrap())
        .collect();
    assert_ne!(before[0], after[0], "{out}");
    assert_ne!(before[1], after[1], "{out}");
    assert_ne!(before[2], after[2], "{out}");
    assert_eq!(before[3], after[3], "{out}");
    assert!(
        out.contains(&format!("{}:latest: reused", s.name("other"))),
        "{out}"
    );
}

#[test]
fn unhashed_build_args_are_passed_never_hashed_never_logged() {
    let s = Stack::new(
        "secret",
        "  box:\n    unhashed_build_args: [WTBUILD_TOKEN]\n",
        &[(
            "images/box/Dockerfile",
            &format!("{FROM_BUSYBOX}ARG WTBUILD_TOKEN\nRUN echo \"token=$WTBUILD_TOKEN\" && test -n \"$WTBUILD_TOKEN\"\n"),
        )],
    );
    let missing = s.build(&["box"]);
    assert_eq!(code(&missing), 3, "{}", text(&missing.stderr));
    assert!(
        text(&missing.stderr).contains("WTBUILD_TOKEN is not set"),
        "{}",
        text(&missing.stderr)
    );
    let out = s
        .cmd(&["box"])
        .env("WTBUILD_TOKEN", "Tok-9f8e7d")
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let log =
        std::fs::read_to_string(s.path().join("out/build-logs/x86_64-default-box.log")).unwrap();
    assert!(log.contains("token=***"), "{log}");
    assert!(!log.contains("Tok-9f8e7d"));
    assert!(!text(&out.stderr).contains("Tok-9f8e7d"));
    // Another value: the same inputs, reused.
    let out = s
        .cmd(&["box"])
        .env("WTBUILD_TOKEN", "Other-123")
        .output()
        .unwrap();
    assert!(
        text(&out.stdout).contains("reused"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn an_image_with_these_inputs_is_reused_and_latest_moves_back_to_it() {
    let s = Stack::new(
        "reuse",
        "  box: {}\n",
        &[
            (
                "images/box/Dockerfile",
                &format!("{FROM_BUSYBOX}COPY v.txt /v.txt\n"),
            ),
            ("images/box/v.txt", "1\n"),
        ],
    );
    s.build_ok(&["box"]);
    let first = s.id("box").unwrap();
    s.write("images/box/v.txt", "2\n");
    s.build_ok(&["box"]);
    let second = s.id("box").unwrap();
    assert_ne!(first, second);
    s.write("images/box/v.txt", "1\n");
    let plan = s.plan(&["box"]);
    assert_eq!(plan["images"][0]["action"], "reuse", "{plan}");
    assert!(
        plan["images"][0]["why"][0]
            .as_str()
            .unwrap()
            .contains(":inputs-"),
        "{plan}"
    );
    let started = Instant::now();
    let out = s.build_ok(&["box"]);
    assert!(out.contains("reused"), "{out}");
    assert_eq!(
        s.id("box").unwrap(),
        first,
        "latest moved back without a build"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_failing_run_shows_the_log_tail_and_latest_stays() {
    let s = tree("fail", "");
    s.build_ok(&["kid-a"]);
    let (base, kid) = (s.id("base").unwrap(), s.id("kid-a").unwrap());
    let tags = s.tags();
    s.append(
        "images/base/Dockerfile",
        "RUN echo wtbuild-fail-marker-before && sleep 1 && exit 7\n",
    );
    let out = s.build(&["kid-a"]);
    let err = text(&out.stderr);
    assert_eq!(code(&out), 16, "{err}");
    // The failing step by its name, its exit code and its last output.
    assert!(
        err.contains("base: the step `[3/3] RUN echo wtbuild-fail-marker-before && sleep 1 && exit 7` failed (exit code 7)"),
        "{err}"
    );
    assert!(err.contains("(exit code 7)"), "{err}");
    assert!(
        err.contains("    wtbuild-fail-marker-before"),
        "log tail in the error: {err}"
    );
    assert!(err.contains("x86_64-default-base.log"), "{err}");
    assert!(
        err.contains("kid-a: not built: its parent base failed"),
        "{err}"
    );
    assert_eq!(s.id("base").unwrap(), base, "latest moved");
    assert_eq!(s.id("kid-a").unwrap(), kid);
    assert_eq!(s.tags(), tags, "tags changed");
    assert_eq!(containers_running("wtbuild-fail-marker"), 0);

    // A Dockerfile syntax error is a build failure too.
    s.write(
        "images/base/Dockerfile",
        &format!("{FROM_BUSYBOX}RUNN echo\n"),
    );
    let out = s.build(&["base"]);
    assert_eq!(code(&out), 16, "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("unknown instruction: RUNN"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(s.id("base").unwrap(), base);
}

#[test]
fn missing_context_or_dockerfile_is_a_clear_error() {
    let s = Stack::new(
        "missing",
        "  box: {}\n  other:\n    context: elsewhere\n",
        &[],
    );
    let out = s.build(&["box"]);
    assert_eq!(code(&out), 3, "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("box: no build context at"), "{err}");
    assert!(err.contains("images/box"), "{err}");
    s.write("images/box/README", "no Dockerfile here\n");
    let out = s.build(&["box"]);
    assert_eq!(code(&out), 3, "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("box: cannot read the Dockerfile"),
        "{}",
        text(&out.stderr)
    );
    let out = s.build(&["nope"]);
    assert_eq!(code(&out), 3);
    assert!(text(&out.stderr).contains("no image `nope`"));
    // A bad key of the hierarchy file: file and line.
    s.append("hierarchy.yaml", "    refresh: soon\n");
    let out = s.build(&["box"]);
    assert_eq!(code(&out), 3);
    assert!(
        text(&out.stderr).contains("hierarchy.yaml:7: image `other`: refresh `soon`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn the_json_plan_groups_images_in_dependency_levels() {
    let s = tree("plan", "");
    s.build_ok(&["base"]);
    s.write("images/kid-b/file.txt", "b2\n");
    let plan = s.plan(&["--all"]);
    assert_eq!(plan["platform"], "linux/amd64");
    assert_eq!(
        plan["levels"],
        serde_json::json!([["base", "other"], ["kid-a", "kid-b"]])
    );
    assert_eq!(
        plan["build_levels"],
        serde_json::json!([["other"], ["kid-a", "kid-b"]])
    );
    let images = plan["images"].as_array().unwrap();
    let base = &images[0];
    assert_eq!(base["image"], "base");
    assert_eq!(base["action"], "reuse");
    assert_eq!(base["level"], 0);
    assert_eq!(base["parent"], Value::Null);
    assert_eq!(base["reference"], format!("{}:latest", s.name("base")));
    assert!(base["inputs"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(base["id"].as_str(), s.id("base").as_deref());
    let kid = images.iter().find(|i| i["image"] == "kid-a").unwrap();
    assert_eq!(kid["action"], "build");
    assert_eq!(kid["parent"], "base");
    assert_eq!(kid["level"], 1);
    assert_eq!(
        kid["why"][0],
        format!("no image {}:latest yet", s.name("kid-a"))
    );
    // The text plan says the same.
    let out = s.build_ok(&["--all", "--plan"]);
    assert!(
        out.starts_with("plan for linux/amd64 (buildkit builder): 4 images, 3 to build or pull\n"),
        "{out}"
    );
    assert!(out.contains("  reuse  base   inputs unchanged\n"), "{out}");
    // A plan builds nothing.
    assert_eq!(s.id("kid-a"), None);
}

/// Ctrl-C mid-build: exit 130, the daemon's build container gone, no tag.
#[test]
fn ctrl_c_stops_the_build_and_leaves_no_container() {
    let s = Stack::new(
        "signal",
        "  box: {}\n",
        &[(
            "images/box/Dockerfile",
            // `&& true`: the shell stays (its last command is not exec'd), with the marker.
            &format!("{FROM_BUSYBOX}RUN echo wtbuild-signal-marker && sleep 60 && true\n"),
        )],
    );
    let child = s.cmd(&["box"]).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while containers_running("wtbuild-signal-marker") == 0 {
        assert!(
            Instant::now() < deadline,
            "the build container never started"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 130, "{}", text(&out.stderr));
    // The daemon stops the build when the request goes away, and forcerm removes the container.
    let deadline = Instant::now() + Duration::from_secs(30);
    while containers_running("wtbuild-signal-marker") > 0 {
        assert!(
            Instant::now() < deadline,
            "a build container outlived the run"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(s.tags(), Vec::<String>::new());
    let logs: Vec<PathBuf> = std::fs::read_dir(s.path().join("out/build-logs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(
        logs.iter().all(|l| l.extension().unwrap() == "log"),
        "{logs:?}"
    );
}

/// The verify gate: run after the build, before the children; a failure
/// stops the branch, keeps `latest` and leaves no tag.
#[test]
fn verify_gates_latest_and_the_children() {
    let s = tree("verify", "");
    // The default verify: {context}/test.sh {image}, from the hierarchy file's
    // directory; kept out of the context, so that changing it is no new build.
    s.write("images/base/.dockerignore", "test.sh\n");
    s.write(
        "images/base/test.sh",
        "#!/bin/sh\necho \"verifying $1\"\ndocker run --rm --network none \"$1\" cat /greeting\n",
    );
    std::fs::set_permissions(
        s.path().join("images/base/test.sh"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let out = s.build(&["kid-a"]);
    let err = text(&out.stderr);
    assert_eq!(code(&out), 0, "{err}");
    assert!(
        at(&err, "base", "verify: images/base/test.sh") < at(&err, "kid-a", "building"),
        "{err}"
    );
    assert!(text(&out.stdout).contains(&format!("{}:latest: built", s.name("base"))));
    assert!(
        text(&out.stdout).contains(", verified"),
        "{}",
        text(&out.stdout)
    );
    let log =
        std::fs::read_to_string(s.path().join("out/build-logs/x86_64-default-base.log")).unwrap();
    assert!(log.contains("--- verify: images/base/test.sh"), "{log}");
    assert!(
        log.contains(&format!("verifying {}:stacktag-build-", s.name("base"))),
        "{log}"
    );
    assert!(log.contains("hello\n--- verify passed"), "{log}");
    let (base, kid) = (s.id("base").unwrap(), s.id("kid-a").unwrap());
    let tags = s.tags();

    // A change, and a verify that fails: exit 17, the branch stops, nothing moves.
    s.write(
        "hierarchy.yaml",
        &std::fs::read_to_string(s.path().join("hierarchy.yaml"))
            .unwrap()
            .replace("GREETING: hello", "GREETING: broken"),
    );
    s.write(
        "images/base/test.sh",
        "#!/bin/sh\ngot=$(docker run --rm --network none \"$1\" cat /greeting)\necho \"greeting is $got\" >&2\n[ \"$got\" = hello ] || exit 4\n",
    );
    let out = s.build(&["kid-a", "kid-b"]);
    let err = text(&out.stderr);
    assert_eq!(code(&out), 17, "{err}");
    assert!(err.contains("base: verify `images/base/test.sh"), "{err}");
    assert!(err.contains("failed (exit code 4)"), "{err}");
    assert!(err.contains("    greeting is broken"), "output tail: {err}");
    assert!(
        err.contains("kid-a: not built: its parent base failed"),
        "{err}"
    );
    assert!(
        err.contains("kid-b: not built: its parent base failed"),
        "{err}"
    );
    assert_eq!(s.id("base").unwrap(), base, "latest moved");
    assert_eq!(s.id("kid-a").unwrap(), kid);
    assert_eq!(s.tags(), tags, "a tag was left");
    // The failed image is not reused next time: it is built (and verified) again.
    assert_eq!(
        s.actions(&["base"]),
        [("base".to_string(), "build".to_string())]
    );

    // A verify command that does not exist.
    s.write(
        "hierarchy.yaml",
        &std::fs::read_to_string(s.path().join("hierarchy.yaml"))
            .unwrap()
            .replace(
                "  other: {}",
                "  other:\n    verify: ./no-such-check {image}",
            ),
    );
    let out = s.build(&["other"]);
    assert_eq!(code(&out), 17, "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("exit code 127: command not found"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(s.id("other"), None);

    // Reused images are verified again only with --reverify.
    s.write(
        "hierarchy.yaml",
        &std::fs::read_to_string(s.path().join("hierarchy.yaml"))
            .unwrap()
            .replace("GREETING: broken", "GREETING: hello"),
    );
    let out = s.build(&["base"]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("verify:"),
        "{}",
        text(&out.stderr)
    );
    s.write(
        "images/base/test.sh",
        "#!/bin/sh\necho reverified; exit 9\n",
    );
    let out = s.build(&["base", "--reverify"]);
    assert_eq!(code(&out), 17, "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("    reverified"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(s.id("base").unwrap(), base);
}

/// A registry with basic auth on a free loopback port, stopped on drop.
struct AuthRegistry {
    port: u16,
    dir: tempfile::TempDir,
}

const REG_USER: &str = "wtbuild-user";
const REG_PASSWORD: &str = "pw-Wtbuild-51c3";

impl AuthRegistry {
    fn start() -> AuthRegistry {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let st = Command::new(repo_root().join("scripts/registry-up"))
            .arg(port.to_string())
            .arg(dir.path().join("registry"))
            .env("STACKTAG_TEST_USER", REG_USER)
            .env("STACKTAG_TEST_PASSWORD", REG_PASSWORD)
            .status()
            .unwrap();
        assert!(st.success(), "scripts/registry-up failed");
        AuthRegistry { port, dir }
    }
}

impl Drop for AuthRegistry {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.dir.path().join("registry/registry.pid")) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}

/// `--push-cache` puts `inputs-…` in the registry; with the local images gone,
/// `--cache-from-registry` pulls instead of building. Credentials refused: exit 12.
#[test]
fn the_registry_is_a_cache_of_builds() {
    let reg = AuthRegistry::start();
    let s = Stack::new(
        "regcache",
        "  box: {}\n",
        &[
            (
                "images/box/Dockerfile",
                &format!("{FROM_BUSYBOX}COPY v.txt /v.txt\n"),
            ),
            ("images/box/v.txt", "1\n"),
        ],
    );
    let registry = format!("127.0.0.1:{}", reg.port);
    let name = format!("{registry}/{}/box", s.owner);
    let with_auth = |cmd: &mut Command, password: &str| {
        cmd.env("STACKTAG_REGISTRY_USER", REG_USER)
            .env("STACKTAG_REGISTRY_PASSWORD", password)
            .env("DOCKER_CONFIG", s.path().join("no-docker-config"));
    };
    let rm_local = || {
        for t in docker(&["images", "--format", "{{.Repository}}:{{.Tag}}", &name]).lines() {
            docker(&["rmi", "-f", t]);
        }
    };
    let run = |args: &[&str], password: &str| {
        let mut all = vec!["--registry", registry.as_str()];
        all.extend(args);
        let mut cmd = s.cmd(&all);
        with_auth(&mut cmd, password);
        cmd.output().unwrap()
    };

    let out = run(&["box", "--push-cache"], REG_PASSWORD);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let built = image_id(&format!("{name}:latest")).unwrap();
    let tag = text(&out.stderr)
        .lines()
        .find_map(|l| {
            l.split(&format!("pushing {name}:"))
                .nth(1)
                .map(str::to_string)
        })
        .unwrap_or_else(|| panic!("no push line: {}", text(&out.stderr)));
    assert!(tag.starts_with("inputs-"), "{tag}");
    rm_local();

    // The plan asks the registry; the build pulls.
    let out = run(&["box", "--cache-from-registry", "--plan"], REG_PASSWORD);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(&format!("pull   box  {name}:{tag} is in the registry")),
        "{}",
        text(&out.stdout)
    );
    let out = run(&["box", "--cache-from-registry"], REG_PASSWORD);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(&format!("{name}:latest: pulled")),
        "{}",
        text(&out.stdout)
    );
    assert!(
        !text(&out.stderr).contains("building"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        image_id(&format!("{name}:latest")).unwrap(),
        built,
        "the same image"
    );

    // Another input: not in the registry, so built.
    s.write("images/box/v.txt", "2\n");
    let out = run(&["box", "--cache-from-registry"], REG_PASSWORD);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(": built "),
        "{}",
        text(&out.stdout)
    );

    // Wrong password: exit 12, named, never printed; latest not moved.
    s.write("images/box/v.txt", "3\n");
    let before = image_id(&format!("{name}:latest"));
    let out = run(&["box", "--cache-from-registry"], "Wrong-Hunter2-77");
    let err = text(&out.stderr);
    assert_eq!(code(&out), 12, "{err}");
    assert!(
        err.contains("401") && err.contains("STACKTAG_REGISTRY_USER"),
        "{err}"
    );
    assert!(!err.contains("Wrong-Hunter2-77") && !text(&out.stdout).contains("Wrong-Hunter2-77"));
    assert_eq!(image_id(&format!("{name}:latest")), before);
    rm_local();
}

/// prune: dry run lists, a real run removes only what nothing needs.
#[test]
fn prune_removes_only_what_is_not_in_use() {
    let s = tree("prune", "");
    // No RUN step: nothing here needs the daemon's network.
    s.write(
        "images/base/Dockerfile",
        &format!("{FROM_BUSYBOX}ARG GREETING\nLABEL greeting=$GREETING\n"),
    );
    let prune = |args: &[&str]| {
        let out = stacktag_config(&s.owner, &s.path().join("hierarchy.yaml"))
            .arg("prune")
            .args(args)
            .arg("--out-dir")
            .arg(s.path().join("out"))
            .env("XDG_CACHE_HOME", s.cache())
            .output()
            .unwrap();
        assert_eq!(code(&out), 0, "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let greet = |word: &str| {
        let h = std::fs::read_to_string(s.path().join("hierarchy.yaml")).unwrap();
        let old = h
            .split("GREETING: ")
            .nth(1)
            .unwrap()
            .split('}')
            .next()
            .unwrap()
            .to_string();
        s.write(
            "hierarchy.yaml",
            &h.replace(&format!("GREETING: {old}"), &format!("GREETING: {word}")),
        );
    };
    // base v1 with kid-a FROM it; then base v2 and v3 alone: kid-a still needs v1.
    s.build_ok(&["kid-a"]);
    let v1 = s.id("base").unwrap();
    greet("two");
    s.build_ok(&["base"]);
    let v2 = s.id("base").unwrap();
    greet("three");
    s.build_ok(&["base"]);
    let v3 = s.id("base").unwrap();
    // `other`: o1 named in a tags file, o2 nothing, o3 latest.
    let mut others = Vec::new();
    for v in ["1", "2", "3"] {
        s.write("images/other/keep.txt", v);
        s.build_ok(&["other"]);
        others.push(s.id("other").unwrap());
    }
    docker(&[
        "tag",
        &others[0],
        &format!("{}:x86_64-pinned", s.name("other")),
    ]);
    s.write(
        "out/tags/x86_64-default-other.txt",
        &format!("{0}:x86_64-latest\n{0}:x86_64-pinned", s.name("other")),
    );
    let short = |id: &str| id[7..19].to_string();

    let dry = prune(&["--dry-run"]);
    let line = |id: &str| {
        dry.lines()
            .find(|l| l.contains(&short(id)))
            .unwrap_or_else(|| panic!("{id} not in\n{dry}"))
            .to_string()
    };
    assert!(
        line(&v1).starts_with("keep") && line(&v1).contains("parent of a current image"),
        "{dry}"
    );
    assert!(line(&v2).starts_with("remove"), "{dry}");
    assert!(
        line(&v3).starts_with("keep") && line(&v3).contains("(latest)"),
        "{dry}"
    );
    assert!(line(&others[0]).contains("in a tags file"), "{dry}");
    assert!(line(&others[1]).starts_with("remove"), "{dry}");
    assert!(line(&others[2]).starts_with("keep"), "{dry}");
    assert!(image_id(&v2).is_some(), "a dry run removed something");
    // --keep 2 keeps the newer of the two.
    let kept = prune(&["--dry-run", "--keep", "2"]);
    assert!(
        kept.lines()
            .any(|l| l.contains(&short(&others[1])) && l.contains("--keep")),
        "{kept}"
    );

    let out = prune(&[]);
    assert!(
        out.contains(&short(&v2)) && out.contains(&short(&others[1])),
        "{out}"
    );
    assert_eq!(out.lines().count(), 2, "{out}");
    assert_eq!(image_id(&v2), None);
    assert_eq!(image_id(&others[1]), None);
    for id in [&v1, &v3, &others[0], &others[2]] {
        assert!(image_id(id).is_some(), "{id} removed");
    }
    // What is current is still reused: nothing to build.
    let actions = s.actions(&["base", "other"]);
    assert!(actions.iter().all(|(_, a)| a == "reuse"), "{actions:?}");
}

/// --variant V builds the named image from `{context}/V/`, its ancestors as they are.
#[test]
fn a_variant_builds_from_its_own_folder() {
    let s = Stack::new(
        "variant",
        "  base: {}\n  box:\n    parent: base\n    variants: [v2]\n    build_args: {PARENT: base}\n",
        &[
            ("images/base/Dockerfile", &format!("{FROM_BUSYBOX}LABEL which=base\n")),
            ("images/box/Dockerfile", &format!("{FROM_PARENT}LABEL which=default\n")),
            ("images/box/v2/Dockerfile", &format!("{FROM_PARENT}LABEL which=v2\n")),
        ],
    );
    let label = |image: &str| {
        docker(&[
            "image",
            "inspect",
            "--format",
            "{{index .Config.Labels \"which\"}}",
            &format!("{}:latest", s.name(image)),
        ])
        .trim()
        .to_string()
    };
    s.build_ok(&["box", "--variant", "v2"]);
    assert_eq!(label("box"), "v2");
    assert_eq!(label("base"), "base");
    assert!(s.path().join("out/build-logs/x86_64-v2-box.log").is_file());
    assert!(s
        .path()
        .join("out/build-logs/x86_64-default-base.log")
        .is_file());
    s.build_ok(&["box"]);
    assert_eq!(label("box"), "default");
    let out = s.build(&["box", "--variant", "nope"]);
    assert_eq!(code(&out), 3, "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("box: has no variant `nope` (its variants: default, v2)"),
        "{}",
        text(&out.stderr)
    );
}

/// The names the daemon tagged between `since` and now (`docker events`):
/// a build call tags its temporary `…:stacktag-build-…` reference.
fn tagged_since(since: &str) -> Vec<String> {
    let until = format!(
        "{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 1
    );
    docker(&[
        "events",
        "--since",
        since,
        "--until",
        &until,
        "--filter",
        "type=image",
        "--filter",
        "event=tag",
        "--format",
        "{{.Actor.Attributes.name}}",
    ])
    .lines()
    .map(str::to_string)
    .collect()
}

fn now_secs() -> String {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string()
}

/// Early cutoff (Bazel's, Nix's): a comment in the root's Dockerfile rebuilds
/// the root from the layer cache to the same image ID, so its children's
/// inputs do not change and they are reused, with no build call.
#[test]
fn a_parent_rebuilt_to_the_same_image_rebuilds_nothing_below_it() {
    let s = tree("cutoff", "RUN echo wtbuild-cutoff-kid > /kid-built\n");
    s.build_ok(&["--all"]);
    let ids = |s: &Stack| -> Vec<String> {
        ["base", "kid-a", "kid-b", "other"]
            .iter()
            .map(|i| s.id(i).unwrap())
            .collect()
    };
    let before = ids(&s);
    s.append(
        "images/base/Dockerfile",
        "# Only a comment: the same image.\n",
    );

    // The plan says what it expects, and which inputs changed.
    let plan = s.build_ok(&["--all", "--plan"]);
    assert!(
        plan.contains(
            "  build  base   Dockerfile changed in comments only; expected: rebuilt, same image: children reused\n"
        ),
        "{plan}"
    );
    assert!(
        plan.contains(
            "  build  kid-a  parent base is rebuilt (reused if it comes out the same image)\n"
        ),
        "{plan}"
    );
    assert!(
        plan.contains("  reuse  other  inputs unchanged\n"),
        "{plan}"
    );

    // The run: the root rebuilt to the same ID, each child reused.
    std::thread::sleep(Duration::from_millis(1100));
    let since = now_secs();
    let out = s.build(&["--all", "--format", "json"]);
    let err = text(&out.stderr);
    assert_eq!(code(&out), 0, "{err}");
    let doc = crate::json::document("build --format json", &out, "build");
    let image = |name: &str| {
        doc["images"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["image"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(image("base")["action"], "build", "{doc}");
    assert_eq!(
        image("base")["why"],
        serde_json::json!(["Dockerfile changed", "rebuilt, same image: children reused"]),
        "{doc}"
    );
    for kid in ["kid-a", "kid-b"] {
        assert_eq!(image(kid)["action"], "reuse", "{doc}");
        assert_eq!(
            image(kid)["why"],
            serde_json::json!(["parent base rebuilt, same image: inputs unchanged"]),
            "{doc}"
        );
    }
    assert_eq!(ids(&s), before, "an image moved:\n{err}");
    assert!(
        err.contains("base: rebuilt, same image: children reused"),
        "{err}"
    );
    // The daemon's side: one build call (the root's temporary tag), none below it.
    let tagged = tagged_since(&since);
    let built: Vec<&String> = tagged
        .iter()
        .filter(|t| t.contains(&s.owner) && t.contains(":stacktag-build-"))
        .collect();
    assert_eq!(built.len(), 1, "{tagged:?}");
    assert!(built[0].starts_with(&s.name("base")), "{built:?}");
    for kid in ["kid-a", "kid-b"] {
        assert!(!err.contains(&format!("{kid}: building")), "{err}");
    }
    assert_eq!(containers_running("wtbuild-cutoff-kid"), 0);

    // The text summary says it too; a re-run reuses everything.
    s.append("images/base/Dockerfile", "# Another comment.\n");
    let summary = s.build_ok(&["--all"]);
    assert!(
        summary.contains(": rebuilt, same image: children reused\n"),
        "{summary}"
    );
    assert!(
        summary.contains(&format!(
            "{}:latest: reused {} ",
            s.name("kid-a"),
            &before[1][7..19]
        )),
        "{summary}"
    );
    let actions = s.actions(&["--all"]);
    assert!(actions.iter().all(|(_, a)| a == "reuse"), "{actions:?}");

    // A change that does alter the root still reaches every child.
    s.append("images/base/Dockerfile", "ENV WTBUILD_CUTOFF=1\n");
    s.build_ok(&["--all"]);
    let after = ids(&s);
    assert!(
        after[0] != before[0] && after[1] != before[1] && after[2] != before[2],
        "{before:?} {after:?}"
    );
    assert_eq!(after[3], before[3]);
}

/// The Dockerfile and the hierarchy file must agree: `check`, `build --plan`
/// and `build` refuse a final FROM that is not the declared parent, and a
/// root whose FROM is an image of the stack, before anything is built.
#[test]
fn a_from_that_is_not_the_parent_is_refused_before_any_build() {
    let s = Stack::new(
        "fromchk",
        "  base: {}\n  node:\n    parent: base\n  ruby:\n    parent: node\n",
        &[
            ("images/base/Dockerfile", FROM_BUSYBOX),
            (
                "images/node/Dockerfile",
                "ARG REGISTRY\nARG OWNER\nFROM $REGISTRY/$OWNER/base\nRUN echo node > /node\n",
            ),
            (
                "images/ruby/Dockerfile",
                "# ruby\nARG REGISTRY\nARG OWNER\nFROM $REGISTRY/$OWNER/base\nRUN echo wtbuild-fromchk-marker\n",
            ),
        ],
    );
    let hierarchy = s.path().join("hierarchy.yaml");
    let check = || {
        stacktag_config(&s.owner, &hierarchy)
            .arg("check")
            .output()
            .unwrap()
    };
    let refused = |out: &Output, want: &[&str]| {
        let err = text(&out.stderr);
        assert_eq!(code(out), 3, "{err}");
        for w in want {
            assert!(err.contains(w), "`{w}` not in:\n{err}");
        }
    };
    let ruby_df = s.path().join("images/ruby/Dockerfile");
    let h = hierarchy.display().to_string();

    // A wrong `parent:` (line 8 of the hierarchy; the FROM is line 4).
    let wrong = [
        format!("{}:4: image `ruby`: FROM $REGISTRY/$OWNER/base (that is {}) is the stack's image `base`, but {h}:8 declares `parent: node`", ruby_df.display(), s.name("base")),
        format!("fix: make the final FROM `ARG REGISTRY`, `ARG OWNER`, then `FROM $REGISTRY/$OWNER/node`, or declare `parent: base` in {h}:8"),
    ];
    let wrong: Vec<&str> = wrong.iter().map(String::as_str).collect();
    refused(&check(), &wrong);
    let started = Instant::now();
    refused(&s.build(&["ruby", "--plan"]), &wrong);
    refused(&s.build(&["ruby"]), &wrong);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(s.tags(), Vec::<String>::new(), "something was built");
    assert_eq!(containers_running("wtbuild-fromchk-marker"), 0);
    // An image that does not need ruby still builds.
    s.build_ok(&["node"]);

    // A missing `parent:`: ruby would be a second root, built from a stale base.
    s.write(
        "hierarchy.yaml",
        &std::fs::read_to_string(&hierarchy)
            .unwrap()
            .replace("  ruby:\n    parent: node\n", "  ruby: {}\n"),
    );
    let missing = [
        format!(
            "{}:4: image `ruby`: FROM $REGISTRY/$OWNER/base",
            ruby_df.display()
        ),
        format!("but {h}:7 gives `ruby` no `parent:`"),
        format!("fix: add `parent: base` under `ruby:` in {h}:7"),
    ];
    let missing: Vec<&str> = missing.iter().map(String::as_str).collect();
    refused(&check(), &missing);
    refused(&s.build(&["ruby", "--plan"]), &missing);

    // A FROM through an ARG default, with a `parent:` it does not name.
    s.write(
        "hierarchy.yaml",
        &std::fs::read_to_string(&hierarchy)
            .unwrap()
            .replace("  ruby: {}\n", "  ruby:\n    parent: base\n"),
    );
    s.write(
        "images/ruby/Dockerfile",
        "ARG REGISTRY=elsewhere.io\nARG OWNER=nobody\nARG BASE_IMAGE=$REGISTRY/$OWNER/node\nFROM ${BASE_IMAGE}\n",
    );
    let through_arg = [
        format!("{}:4: image `ruby`: FROM ${{BASE_IMAGE}} (that is {}) is the stack's image `node`, but {h}:8 declares `parent: base`", ruby_df.display(), s.name("node")),
    ];
    let through_arg: Vec<&str> = through_arg.iter().map(String::as_str).collect();
    refused(&check(), &through_arg);
    // A FROM that is no image of the stack at all, for an image with a parent.
    s.write("images/ruby/Dockerfile", FROM_BUSYBOX);
    refused(
        &check(),
        &[&format!(
            "image `ruby`: FROM {BUSYBOX} is not its parent `base` ({})",
            s.name("base")
        )],
    );

    // Multi-stage: only the final stage counts, and a stage name is not an image.
    s.write(
        "images/ruby/Dockerfile",
        &format!("ARG REGISTRY\nARG OWNER\nFROM {BUSYBOX} AS tool\nRUN echo tool > /tool\nFROM $REGISTRY/$OWNER/base AS final\nCOPY --from=tool /tool /tool\nFROM final\n"),
    );
    let out = check();
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    s.build_ok(&["ruby"]);
    // BuildKit records no parent image: ruby's layers start with base's.
    let layers = |image: &str| {
        docker(&[
            "image",
            "inspect",
            "--format",
            "{{json .RootFS.Layers}}",
            &format!("{}:latest", s.name(image)),
        ])
    };
    let base = layers("base");
    assert!(
        layers("ruby").starts_with(base.trim().trim_end_matches(']')),
        "ruby not FROM base"
    );
}
