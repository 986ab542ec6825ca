//! `stacktag ci`: the generated pipelines checked by the real linters
//! (actionlint, zizmor, GitLab's CI schema), kept honest by `ci check`, and
//! the GitLab one run end to end by gitlab-ci-local against a real registry.
//! The tools come from `make fixtures` (scripts/ci-tools, under ~/.cache/stacktag/ci-tools, or $CI_TOOLS).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use crate::support::{code, docker, ensure_busybox, repo_root, stacktag, text, BUSYBOX};

fn tools() -> PathBuf {
    let home = || PathBuf::from(std::env::var_os("HOME").unwrap_or_default());
    let dir = std::env::var_os("CI_TOOLS")
        .map_or_else(|| home().join(".cache/stacktag/ci-tools"), PathBuf::from);
    assert!(
        dir.join("venv/bin/actionlint").is_file(),
        "{} has no actionlint: run `make fixtures` (scripts/ci-tools) first",
        dir.display()
    );
    dir
}

fn tool(name: &str) -> Command {
    let t = tools();
    let path = match name {
        "gitlab-ci-local" => t.join("node_modules/.bin/gitlab-ci-local"),
        other => t.join("venv/bin").join(other),
    };
    Command::new(path)
}

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({:?}):\n{}\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// `stacktag [--config CONFIG] ci ARGS` in `dir`.
fn ci(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = stacktag("t-ci");
    cmd.current_dir(dir).arg("ci").args(args);
    cmd.output().unwrap()
}

/// Writes both files for the stack in `dir` (its hierarchy.yaml) and lints them.
fn generate_and_lint(dir: &Path, config: Option<&str>) {
    let out_dir = tempfile::tempdir().unwrap();
    let gh = out_dir.path().join("stacktag.yml");
    let gl = out_dir.path().join("gitlab-ci.yml");
    for (engine, file) in [("github", &gh), ("gitlab", &gl)] {
        let mut cmd = stacktag("t-ci");
        cmd.current_dir(dir);
        if let Some(c) = config {
            cmd.args(["--config", c]);
        }
        let out = cmd
            .args(["ci", engine, "--output"])
            .arg(file)
            .output()
            .unwrap();
        ok(&out, &format!("stacktag ci {engine}"));
    }
    let out = tool("actionlint").arg(&gh).output().unwrap();
    ok(&out, "actionlint");
    // No finding of medium severity or above (low ones are reported, not failed).
    let out = tool("zizmor")
        .args(["--offline", "--no-progress", "--min-severity", "medium"])
        .arg(&gh)
        .output()
        .unwrap();
    ok(&out, "zizmor --offline --min-severity medium");
    let out = tool("check-jsonschema")
        .args(["--builtin-schema", "vendor.gitlab-ci"])
        .arg(&gl)
        .output()
        .unwrap();
    ok(&out, "check-jsonschema --builtin-schema vendor.gitlab-ci");
}

#[test]
fn the_demo_stacks_pipelines_pass_actionlint_zizmor_and_gitlabs_schema() {
    generate_and_lint(&repo_root(), None);
}

/// examples/docker-stacks/hierarchy.yaml where it belongs: at the root of a
/// checkout with every image's and variant's Dockerfile (stubs here).
#[test]
fn the_docker_stacks_pipelines_pass_actionlint_zizmor_and_gitlabs_schema() {
    let dir = tempfile::tempdir().unwrap();
    let hierarchy =
        std::fs::read_to_string(repo_root().join("examples/docker-stacks/hierarchy.yaml")).unwrap();
    std::fs::write(dir.path().join("hierarchy.yaml"), &hierarchy).unwrap();
    let files = [
        "docker-stacks-foundation",
        "base-notebook",
        "minimal-notebook",
        "scipy-notebook",
        "r-notebook",
        "julia-notebook",
        "tensorflow-notebook",
        "tensorflow-notebook/cuda",
        "pytorch-notebook",
        "pytorch-notebook/cuda11",
        "pytorch-notebook/cuda12",
        "datascience-notebook",
        "pyspark-notebook",
        "all-spark-notebook",
    ];
    for f in files {
        let d = dir.path().join("images").join(f);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("Dockerfile"), "FROM scratch\n").unwrap();
    }
    generate_and_lint(dir.path(), None);
    // 14 builds on each of two platforms, 2 pushes, 11 merges, 1 wiki.
    let out = ci(dir.path(), &["github", "--output", "-"]);
    ok(&out, "ci github");
    let y = text(&out.stdout);
    assert_eq!(y.matches("\n  build-").count(), 28, "{y}");
    assert!(y.contains("  build-aarch64-cuda12-pytorch-notebook:\n"));
    assert!(y.contains("needs: [build-aarch64-default-scipy-notebook]"));
    assert!(y.contains("runs-on: ubuntu-24.04-arm"));
    assert!(y.contains("  merge-all-spark-notebook:\n"));
    assert!(y.contains("cosign sign --yes"), "sign: true signs");
    assert!(y.contains("secrets.QUAY_ROBOT_TOKEN"));
}

/// A stack of the test's own: a root from busybox, a child, two leaves.
fn busybox_stack(dir: &Path, registry: &str, owner: &str) {
    busybox_stack_on(dir, registry, owner, &["x86_64"]);
}

/// The arm64 busybox of `make fixtures` (scripts/busybox-arm64-image).
const BUSYBOX_ARM64: &str = "stacktag-test/busybox-arm64:latest";

/// [`busybox_stack`] for `platforms`; with aarch64 among them, the root
/// starts from the busybox of the platform it is built for (BuildKit's
/// `TARGETARCH` picks the stage; QEMU runs the arm64 one).
fn busybox_stack_on(dir: &Path, registry: &str, owner: &str, platforms: &[&str]) {
    ensure_busybox();
    let root = if platforms.contains(&"aarch64") {
        assert!(
            Command::new("docker")
                .args(["image", "inspect", BUSYBOX_ARM64])
                .output()
                .is_ok_and(|o| o.status.success()),
            "the fixture {BUSYBOX_ARM64} is missing: run `make fixtures` (scripts/binfmt, scripts/busybox-arm64-image)"
        );
        format!(
            "FROM {BUSYBOX} AS base-amd64\nFROM {BUSYBOX_ARM64} AS base-arm64\nFROM base-$TARGETARCH\n\
             RUN echo root > /root.txt && uname -m > /arch\n"
        )
    } else {
        format!("FROM {BUSYBOX}\nRUN echo root > /root.txt\n")
    };
    let images = [
        ("root", root),
        (
            "mid",
            "ARG REGISTRY\nARG OWNER\nFROM $REGISTRY/$OWNER/root\nRUN echo mid > /mid.txt\n".into(),
        ),
        (
            "leaf-a",
            "ARG REGISTRY\nARG OWNER\nFROM $REGISTRY/$OWNER/mid\nRUN echo a > /a.txt\n".into(),
        ),
        (
            "leaf-b",
            "ARG REGISTRY\nARG OWNER\nFROM $REGISTRY/$OWNER/mid\nRUN echo b > /b.txt\n".into(),
        ),
    ];
    for (name, dockerfile) in &images {
        let d = dir.join("images").join(name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("Dockerfile"), dockerfile).unwrap();
    }
    std::fs::write(
        dir.join("hierarchy.yaml"),
        format!(
            "registry: {registry}\nowner: {owner}\nrepository: stacktag/ci-test\nplatforms: [{}]\n\
             images:\n  root:\n    taggers: [commit_sha]\n  mid:\n    parent: root\n  \
             leaf-a:\n    parent: mid\n  leaf-b:\n    parent: mid\n",
            platforms.join(", ")
        ),
    )
    .unwrap();
}

#[test]
fn ci_check_fails_after_a_new_image_until_the_files_are_written_again() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    busybox_stack(d, "localhost:5000", "ci-check-test");
    let gh = ".github/workflows/stacktag.yml";
    ok(&ci(d, &["github"]), "ci github");
    ok(&ci(d, &["gitlab"]), "ci gitlab");
    assert!(d.join(gh).is_file() && d.join(".gitlab-ci.yml").is_file());
    let out = ci(d, &["check"]);
    ok(&out, "ci check");
    assert!(text(&out.stdout).contains(&format!("{gh}: current")));

    // A new image: both files are stale, the check says so and changes nothing.
    let before = std::fs::read_to_string(d.join(gh)).unwrap();
    let mut h = std::fs::read_to_string(d.join("hierarchy.yaml")).unwrap();
    h += "  leaf-c:\n    parent: mid\n";
    std::fs::write(d.join("hierarchy.yaml"), h).unwrap();
    std::fs::create_dir_all(d.join("images/leaf-c")).unwrap();
    std::fs::write(d.join("images/leaf-c/Dockerfile"), "FROM scratch\n").unwrap();
    let out = ci(d, &["check"]);
    assert_eq!(code(&out), 18, "{}", text(&out.stderr));
    let (diff, err) = (text(&out.stdout), text(&out.stderr));
    assert!(diff.contains("+  build-x86_64-default-leaf-c:"), "{diff}");
    assert!(
        diff.contains("+build-x86_64-default-leaf-c:"),
        "the GitLab file too: {diff}"
    );
    assert!(err.contains(&format!("{gh} is stale")), "{err}");
    assert!(err.contains("stacktag ci github --output"), "{err}");
    assert_eq!(
        std::fs::read_to_string(d.join(gh)).unwrap(),
        before,
        "never rewritten by check"
    );

    ok(&ci(d, &["github"]), "ci github");
    ok(&ci(d, &["gitlab"]), "ci gitlab");
    ok(&ci(d, &["check"]), "ci check after writing again");
}

#[test]
fn ci_check_shows_the_hand_edited_lines_and_its_json_document() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    busybox_stack(d, "localhost:5000", "ci-check-test");
    let out = ci(d, &["gitlab", "--output", "ci.yml", "--format", "json"]);
    let doc = crate::json::document("ci gitlab --format json", &out, "ci");
    assert_eq!(doc["files"][0]["status"], "written");
    assert_eq!(
        doc["files"][0]["jobs"], 10,
        "4 builds, 1 push, 4 merges, 1 wiki"
    );
    let out = ci(d, &["gitlab", "--output", "ci.yml", "--format", "json"]);
    let doc = crate::json::document("ci gitlab again", &out, "ci");
    assert_eq!(doc["files"][0]["status"], "unchanged");
    let file = d.join("ci.yml");
    let edited = std::fs::read_to_string(&file)
        .unwrap()
        .replace("  stage: push\n", "  stage: push\n  when: manual\n");
    std::fs::write(&file, &edited).unwrap();
    let out = ci(d, &["check", "--gitlab", "ci.yml", "--format", "json"]);
    assert_eq!(code(&out), 18);
    let doc = crate::json::document("ci check --format json", &out, "ci");
    assert_eq!(doc["error"]["exit_code"], 18);
    let f = &doc["files"][0];
    assert_eq!(f["status"], "stale");
    assert_eq!(f["engine"], "gitlab");
    let diff = f["diff"].as_str().unwrap();
    assert!(diff.contains("-  when: manual\n"), "{diff}");
    assert!(diff.contains("@@ -"), "{diff}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), edited);
}

#[test]
fn the_committed_demo_ci_files_are_current() {
    let out = ci(
        &repo_root(),
        &[
            "check",
            "--github",
            "examples/ci/github.yml",
            "--gitlab",
            "examples/ci/gitlab-ci.yml",
        ],
    );
    ok(
        &out,
        "stacktag ci check (run `make ci-examples` when the demo stack changed)",
    );
}

/// Each bad `ci:` input: exit 3, the file and the line, nothing written.
#[test]
fn bad_ci_input_names_the_file_and_line() {
    let cases: &[(&str, &str, usize, &str)] = &[
        (
            "ci:\n  runners:\n    x86_64: ubuntu-24.04\n    aarch64: ubuntu-24.04-arm\n",
            "a runner label for aarch64, which the stack does not build",
            8,
            "",
        ),
        (
            "platforms: [x86_64, aarch64]\nci:\n  runners:\n    x86_64: ubuntu-24.04\n",
            "no runner label for aarch64",
            7,
            "",
        ),
        (
            "ci:\n  shedule: \"0 3 * * 1\"\n",
            "unknown key `shedule` in the `ci:` section (did you mean `schedule`?)",
            6,
            "",
        ),
        ("ci:\n  schedule: weekly\n", "is not a cron line", 6, ""),
        (
            "platforms: [x86_64, riscv]\n",
            "unknown platform `riscv`",
            5,
            "",
        ),
        ("", "variant `cuda`: no Dockerfile at", 10, "cuda"),
    ];
    for (extra, message, line, variant) in cases {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("images/a")).unwrap();
        std::fs::write(d.join("images/a/Dockerfile"), "FROM scratch\n").unwrap();
        let variants = if variant.is_empty() {
            String::new()
        } else {
            format!("    variants:\n      - {variant}\n")
        };
        // Lines 1-4 are fixed; `extra` starts at line 5; then the images.
        let text_ = format!(
            "registry: localhost:5000\nowner: t\nrepository: t/t\n# extra\n{extra}images:\n  b:\n    parent: a\n  a:\n{variants}"
        );
        let text_ = text_.replace("# extra\n", "");
        let text_ = format!("# stack\n{text_}");
        std::fs::write(d.join("hierarchy.yaml"), &text_).unwrap();
        std::fs::create_dir_all(d.join("images/b")).unwrap();
        std::fs::write(d.join("images/b/Dockerfile"), "FROM scratch\n").unwrap();
        let out = ci(d, &["github", "--output", "out.yml"]);
        let err = text(&out.stderr);
        assert_eq!(code(&out), 3, "{extra}: {err}");
        assert!(err.contains(message), "{extra}: {err}");
        assert!(
            err.contains(&format!("hierarchy.yaml:{line}:")),
            "{extra}: want line {line}: {err}\n{text_}"
        );
        assert!(!d.join("out.yml").exists(), "nothing written");
    }
}

/// `make dist`'s archive (packed here from the test's binary) runs where
/// there is no Rust: in the demo root image, checksum checked first.
#[test]
fn the_release_archive_runs_in_the_demo_root_image_without_rust() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(repo_root().join("scripts/dist"))
        .arg(env!("CARGO_BIN_EXE_stacktag"))
        .arg(dir.path())
        .current_dir(repo_root())
        .output()
        .unwrap();
    ok(&out, "scripts/dist");
    let archive = PathBuf::from(text(&out.stdout).trim());
    let name = archive.file_name().unwrap().to_str().unwrap().to_string();
    assert!(name.starts_with(&format!("stacktag-{}-", env!("CARGO_PKG_VERSION"))));
    assert!(name.ends_with("-unknown-linux-gnu.tar.gz"), "{name}");
    assert!(dir.path().join(format!("{name}.sha256")).is_file());
    std::fs::write(
        dir.path().join("hierarchy.yaml"),
        "images:\n  a:\n    taggers: [date]\n",
    )
    .unwrap();
    let script = format!(
        "set -e; cd /dist; sha256sum -c --quiet {name}.sha256; \
         command -v cargo rustc >/dev/null && {{ echo rust is here; exit 1; }}; \
         tar -xzf {name} -C /tmp; /tmp/{}/stacktag --version; \
         /tmp/{}/stacktag --config /dist/hierarchy.yaml check --images",
        name.trim_end_matches(".tar.gz"),
        name.trim_end_matches(".tar.gz")
    );
    let out = docker(&[
        "run",
        "--rm",
        "--network",
        "none",
        "-v",
        &format!("{}:/dist:ro", dir.path().display()),
        "stacktag/debian:bookworm",
        "sh",
        "-c",
        &script,
    ]);
    assert!(
        out.contains(&format!("stacktag {}", env!("CARGO_PKG_VERSION"))),
        "{out}"
    );
    assert!(out.trim_end().ends_with('a'), "{out}");
}

/// Job lines of the pipeline's log: `{job} > {output line}`.
fn job_lines<'a>(log: &'a str, job: &str) -> Vec<&'a str> {
    log.lines()
        .filter_map(|l| l.strip_prefix(job))
        .filter_map(|l| l.trim_start().strip_prefix('>'))
        .map(str::trim)
        .collect()
}

/// What the build job of `image` on `platform` did to it: built, pulled or reused.
fn build_action(log: &str, registry: &str, owner: &str, platform: &str, image: &str) -> String {
    let job = format!("build-{platform}-default-{image}");
    let want = format!("{registry}/{owner}/{image}:latest: ");
    job_lines(log, &job)
        .into_iter()
        .find_map(|l| l.strip_prefix(want.as_str()))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no build line of {image} in the log of {job}:\n{log}"))
        .to_string()
}

/// The tags the registry has of each image.
fn registry_tags(port: u16, owner: &str, images: &[&str]) -> Vec<(String, Vec<String>)> {
    images
        .iter()
        .map(|i| {
            let out = Command::new("curl")
                .args(["-sf", "-u", &format!("{}:{}", CI_USER, CI_PASSWORD)])
                .arg(format!("http://127.0.0.1:{port}/v2/{owner}/{i}/tags/list"))
                .output()
                .unwrap();
            ok(&out, "curl tags/list");
            let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let mut tags: Vec<String> = doc["tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_string())
                .collect();
            tags.sort();
            (i.to_string(), tags)
        })
        .collect()
}

/// The index (or manifest) a tag names, as the registry gives it.
fn registry_manifest(port: u16, owner: &str, image: &str, tag: &str) -> serde_json::Value {
    let out = Command::new("curl")
        .args(["-sf", "-u", &format!("{}:{}", CI_USER, CI_PASSWORD)])
        .args([
            "-H",
            "Accept: application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json",
        ])
        .arg(format!("http://127.0.0.1:{port}/v2/{owner}/{image}/manifests/{tag}"))
        .output()
        .unwrap();
    ok(&out, "curl manifests");
    serde_json::from_slice(&out.stdout).unwrap()
}

const CI_USER: &str = "ci-local-test";
const CI_PASSWORD: &str = "pw-ci-local-3f9b";

/// The generated GitLab pipeline of a busybox stack of two platforms, run by
/// gitlab-ci-local (every job in its own copy of the repository, artifacts
/// along `needs:`) against a registry with auth: each image built for
/// x86_64 and, through QEMU, aarch64, pushed, merged into multi-platform
/// tags. Then once more after a commit that changes one leaf's Dockerfile,
/// with the local images gone: only that leaf is built on each platform, the
/// others come from the registry through their `inputs-…` tags, and the same
/// kinds of tags are published.
#[test]
fn the_generated_gitlab_pipeline_runs_end_to_end_on_two_platforms_and_a_leaf_change_rebuilds_only_that_leaf(
) {
    let _ = tools();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let registry = format!("localhost:{port}");
    let owner = "ci-e2e";
    let images = ["root", "mid", "leaf-a", "leaf-b"];
    let platforms = ["x86_64", "aarch64"];
    let stack = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    busybox_stack_on(stack.path(), &registry, owner, &platforms);
    let _cleanup = Cleanup {
        registry: registry.clone(),
        owner,
        state: work.path().join("registry"),
    };
    let run = || {
        let start = Instant::now();
        let out = Command::new(repo_root().join("scripts/ci-local"))
            .arg(env!("CARGO_BIN_EXE_stacktag"))
            .arg(port.to_string())
            .arg(work.path())
            .arg(stack.path())
            .env("REGISTRY_USER", CI_USER)
            .env("REGISTRY_PASSWORD", CI_PASSWORD)
            .env("CI_TOOLS", tools())
            .current_dir(repo_root())
            .output()
            .unwrap();
        let seconds = start.elapsed().as_secs_f64();
        ok(&out, "scripts/ci-local");
        let log = std::fs::read_to_string(work.path().join("pipeline.log")).unwrap();
        (log, text(&out.stderr), seconds)
    };

    let (log1, err1, first) = run();
    assert!(
        err1.contains("every merged tag holds aarch64 x86_64"),
        "{err1}"
    );
    assert!(
        err1.contains("every image has its SBOMs attached on every platform"),
        "{err1}"
    );
    assert!(err1.contains("the wiki has the rows of"), "{err1}");
    for job in [
        "build-x86_64-default-root",
        "build-aarch64-default-leaf-b",
        "push-x86_64",
        "push-aarch64",
        "merge-leaf-b",
        "wiki",
    ] {
        assert!(
            !job_lines(&log1, job).is_empty(),
            "job {job} did not run:\n{log1}"
        );
    }
    let tags1 = registry_tags(port, owner, &images);
    for (image, tags) in &tags1 {
        for want in ["latest", "x86_64-latest", "aarch64-latest"] {
            assert!(tags.contains(&want.to_string()), "{image}: {tags:?}");
        }
        assert_eq!(
            tags.iter().filter(|t| t.starts_with("inputs-")).count(),
            2,
            "{image}: the build cache of each platform pushed: {tags:?}"
        );
        // `latest` is one index of both platforms' images.
        let index = registry_manifest(port, owner, image, "latest");
        let mut archs: Vec<&str> = index["manifests"]
            .as_array()
            .unwrap_or_else(|| panic!("{image}:latest is no index: {index}"))
            .iter()
            .filter_map(|m| m["platform"]["architecture"].as_str())
            .filter(|a| *a != "unknown")
            .collect();
        archs.sort_unstable();
        assert_eq!(archs, ["amd64", "arm64"], "{image}:latest: {index}");
    }

    // One leaf changes; the daemon forgets the stack, so reuse has to come from the registry.
    let leaf = stack.path().join("images/leaf-b/Dockerfile");
    let mut d = std::fs::read_to_string(&leaf).unwrap();
    d += "RUN echo changed > /changed.txt\n";
    std::fs::write(&leaf, d).unwrap();
    remove_local_images(&registry, owner);
    let (log2, _, second) = run();
    for platform in platforms {
        for image in ["root", "mid", "leaf-a"] {
            assert_eq!(
                build_action(&log2, &registry, owner, platform, image),
                "pulled",
                "{platform} {image}:\n{log2}"
            );
        }
        assert_eq!(
            build_action(&log2, &registry, owner, platform, "leaf-b"),
            "built",
            "{platform}:\n{log2}"
        );
    }
    // The same kinds of tags: those named by the commit are new, the rest the same.
    let kinds = |tags: &[(String, Vec<String>)]| -> Vec<(String, usize, Vec<String>)> {
        tags.iter()
            .map(|(i, t)| {
                let stable: Vec<String> = t
                    .iter()
                    .filter(|t| !t.starts_with("inputs-") && !t.contains(char::is_numeric))
                    .cloned()
                    .collect();
                (
                    i.clone(),
                    t.iter().filter(|t| !t.starts_with("inputs-")).count(),
                    stable,
                )
            })
            .collect()
    };
    let tags2 = registry_tags(port, owner, &images);
    let k1 = kinds(&tags1);
    let k2 = kinds(&tags2);
    for ((i, n1, s1), (_, n2, s2)) in k1.iter().zip(&k2) {
        assert_eq!(s1, s2, "{i}");
        assert!(
            *n2 > *n1,
            "{i}: the new commit's tags are added: {n1} then {n2}"
        );
    }
    eprintln!(
        "ci-local (busybox stack, 4 images, x86_64 and aarch64): first run {first:.1}s (every image built), \
         second run {second:.1}s (one leaf built on each platform, 3 pulled)"
    );
}

fn remove_local_images(registry: &str, owner: &str) {
    let refs = docker(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    for r in refs
        .lines()
        .filter(|r| r.starts_with(&format!("{registry}/{owner}/")))
    {
        let _ = Command::new("docker")
            .args(["rmi", "--no-prune", r])
            .output();
    }
}

/// Stops the test's registry and removes its images, pass or fail.
struct Cleanup {
    registry: String,
    owner: &'static str,
    state: PathBuf,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        remove_local_images(&self.registry, self.owner);
        if let Ok(pid) = std::fs::read_to_string(self.state.join("registry.pid")) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}

/// `platforms: [x86_64]`: the one platform pushed, `merge` needs no
/// `--allow-missing-platform` and warns of nothing left out.
#[test]
fn a_single_platform_stack_merges_without_allow_missing_platform() {
    use crate::publish::{Registry, IMAGE, OWNER, PASSWORD, USER};
    let mut r = Registry::start();
    let tags: Vec<String> = ["x86_64-latest", "x86_64-v1"].map(String::from).to_vec();
    r.image("amd64", &format!("single {}", r.port), &tags);
    let tags_dir = r.dir.path().join("single-tags");
    r.tags_file(&tags_dir, "x86_64", &tags);
    let config = r.dir.path().join("single.yaml");
    std::fs::write(
        &config,
        format!(
            "registry: {}\nowner: {OWNER}\nrepository: stacktag/test\nplatforms: [x86_64]\nimages:\n  {IMAGE}:\n    taggers: [date]\n",
            r.host()
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let mut cmd = crate::support::stacktag_config("t-ci-single", &config);
        cmd.args(args)
            .arg("--tags-dir")
            .arg(&tags_dir)
            .env("STACKTAG_REGISTRY_USER", USER)
            .env("STACKTAG_REGISTRY_PASSWORD", PASSWORD)
            .env("DOCKER_CONFIG", r.dir.path());
        cmd.output().unwrap()
    };
    ok(&run(&["push", "--image", IMAGE]), "push");
    let out = run(&["merge", "--image", IMAGE]);
    ok(&out, "merge of a single-platform stack");
    let err = text(&out.stderr);
    assert!(
        !err.contains("left out") && !err.contains("warning"),
        "{err}"
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("{}:latest sha256:", r.name())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{}:v1 sha256:", r.name())),
        "{stdout}"
    );
}

/// What a CI job hands the next: `save`'s archive carries the image's
/// `inputs-…` tag, so after `load` on a daemon that never saw the image,
/// `build` reuses it instead of building it again.
#[test]
fn a_saved_archive_carries_the_inputs_tag_so_the_next_job_reuses_the_image() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (registry, owner) = ("localhost:5000", "ci-handoff");
    busybox_stack(d, registry, owner);
    let _cleanup = Cleanup {
        registry: registry.into(),
        owner,
        state: d.join("no-registry"),
    };
    let run = |args: &[&str]| {
        let mut cmd = stacktag("t-ci-handoff");
        cmd.current_dir(d).args(args);
        let out = cmd.output().unwrap();
        ok(&out, &format!("stacktag {args:?}"));
        text(&out.stdout)
    };
    assert!(run(&["build", "root"]).contains(": built "));
    run(&["save", "--dir", "archives", "--version", "job1", "root"]);
    remove_local_images(registry, owner);
    let loaded = run(&["load", "--dir", "archives", "--format", "json"]);
    assert!(
        loaded.contains(&format!("{registry}/{owner}/root:inputs-")),
        "{loaded}"
    );
    let again = run(&["build", "root"]);
    assert!(again.contains(": reused "), "{again}");
}
