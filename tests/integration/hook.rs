//! The main job on the demo stack, through the binary, checked against what
//! the images themselves say (the docker CLI is the oracle).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use comrak::nodes::NodeValue;
use comrak::{parse_document, Arena, Options};

use crate::support::*;

const TIMESTAMP: &str = "2026-11-22T23:48:58Z";

/// (level, text) of each heading.
type Headings = Vec<(u8, String)>;
/// (info string, text) of each code block.
type Blocks = Vec<(String, String)>;

/// Headings and code blocks of a markdown file.
fn structure(md: &str) -> (Headings, Blocks) {
    let arena = Arena::new();
    let root = parse_document(&arena, md, &Options::default());
    let (mut headings, mut blocks) = (Vec::new(), Vec::new());
    for node in root.descendants() {
        match &node.data.borrow().value {
            NodeValue::Heading(h) => {
                let text: String = node
                    .descendants()
                    .filter_map(|n| match &n.data.borrow().value {
                        NodeValue::Text(t) => Some(t.to_string()),
                        NodeValue::Code(c) => Some(c.literal.clone()),
                        _ => None,
                    })
                    .collect();
                headings.push((h.level, text));
            }
            NodeValue::CodeBlock(c) => blocks.push((c.info.clone(), c.literal.clone())),
            _ => {}
        }
    }
    (headings, blocks)
}

fn demo(image: &str) -> String {
    format!("{DEMO_REGISTRY}/{DEMO_OWNER}/{image}")
}

#[test]
fn hook_tags_base_notebook_and_writes_upstream_files() {
    let run = "it-hook-base";
    let out_dir = tempfile::tempdir().unwrap();
    let out = stacktag(run)
        .args([
            "hook",
            "base-notebook",
            "--timestamp",
            TIMESTAMP,
            "--out-dir",
        ])
        .arg(out_dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "stderr: {}", text(&out.stderr));
    assert_no_containers(run);

    // What the image says, asked apart from stacktag.
    let image = demo("base-notebook");
    let latest = format!("{image}:latest");
    let python = oracle(&latest, &["python", "--version"]);
    let python = python.trim().strip_prefix("Python ").unwrap();
    let major_minor = python.rsplit_once('.').unwrap().0;
    let os = oracle(&latest, &["cat", "/etc/os-release"]);
    let field = |k: &str| {
        os.lines()
            .find_map(|l| l.strip_prefix(k))
            .unwrap()
            .trim_matches('"')
            .to_string()
    };
    let notebook = oracle(&latest, &["jupyter-notebook", "--version"]);
    let hub = oracle(&latest, &["jupyterhub", "--version"]);
    let sha = head_sha();
    let sha12 = &sha[..12];

    let tags: Vec<String> = [
        "latest".to_string(),
        sha12.to_string(),
        "2026-11-22".into(),
        format!("{}-{}", field("ID="), field("VERSION_ID=")),
        format!("python-{major_minor}"),
        format!("python-{python}"),
        format!("notebook-{}", notebook.trim()),
        format!("hub-{}", hub.trim()),
    ]
    .iter()
    .map(|v| format!("x86_64-{v}"))
    .collect();

    // Tags file: full references, \n-joined, no trailing newline.
    let tags_file =
        std::fs::read_to_string(out_dir.path().join("tags/x86_64-default-base-notebook.txt"))
            .unwrap();
    let expected: Vec<String> = tags.iter().map(|t| format!("{image}:{t}")).collect();
    assert_eq!(tags_file, expected.join("\n"));

    // Applied, and visible to the daemon.
    let applied = repo_tags(&latest);
    for t in &expected {
        assert!(applied.contains(t), "{t} not in {applied:?}");
    }

    // History line, byte for byte.
    let page = format!("x86_64-default-base-notebook-{sha12}");
    let line =
        std::fs::read_to_string(out_dir.path().join(format!("hist_lines/{page}.txt"))).unwrap();
    let images: Vec<String> = tags[1..].iter().map(|t| format!("`{image}:{t}`")).collect();
    let gh = "https://github.com/stacktag/demo-stack";
    assert_eq!(
        line,
        format!(
            "| `{TIMESTAMP}` | {} | [Git diff]({gh}/commit/{sha})<br />[Dockerfile]({gh}/blob/{sha}/images/base-notebook/Dockerfile)<br />[Build manifest](./{page}) |",
            images.join("<br />")
        )
    );

    // Manifest: structure and real package lines.
    let md = std::fs::read_to_string(out_dir.path().join(format!("manifests/{page}.md"))).unwrap();
    assert!(
        md.ends_with("```\n") && !md.ends_with("\n\n"),
        "ends with one newline"
    );
    let (headings, blocks) = structure(&md);
    assert_eq!(
        headings,
        [
            (
                1,
                format!("Build manifest for image: base-notebook:x86_64-{sha12}")
            ),
            (2, "Build Info".into()),
            (2, "Pip Packages".into()),
            (2, "Apt Packages".into()),
        ]
    );
    let size = docker(&["image", "ls", "--format", "{{.Size}}", &latest]);
    assert!(
        md.contains(&format!("- Docker image size: {}\n", size.trim())),
        "size as docker prints it: {size}"
    );
    assert!(md.contains(&format!("- Docker image: `{image}:x86_64-{sha12}`\n")));
    assert!(md.contains(&format!("- Build timestamp: {TIMESTAMP}\n")));
    let block = |info: &str, needle: &str| {
        blocks
            .iter()
            .any(|(i, b)| i == info && b.lines().any(|l| l.starts_with(needle)))
    };
    assert!(block("text", "jupyterhub "), "pip list shows jupyterhub");
    assert!(
        block("text", "jupyter-notebook/"),
        "apt list shows jupyter-notebook"
    );
    assert!(block("text", "python3/"), "apt list shows python3");
    assert!(
        !md.contains("WARNING: apt does not have a stable CLI"),
        "apt's stderr stays out"
    );
    let commit_message = blocks.iter().find(|(i, _)| i == "text").unwrap();
    let git_message = Command::new("git")
        .args(["log", "-1", "--format=%B"])
        .current_dir(repo_root())
        .output()
        .unwrap();
    assert_eq!(
        commit_message.1.trim_end(),
        text(&git_message.stdout).trim_end()
    );
}

#[test]
fn hook_runs_the_whole_r_chain_with_each_command_once() {
    let run = "it-hook-r";
    let out_dir = tempfile::tempdir().unwrap();
    let out = stacktag(run)
        .args(["hook", "r-notebook", "--out-dir"])
        .arg(out_dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "stderr: {}", text(&out.stderr));
    assert_no_containers(run);
    let stdout = text(&out.stdout);
    // 8 taggers + 3 manifests need 8 distinct commands (python --version is shared).
    assert!(stdout.starts_with("r-notebook ("), "{stdout}");
    assert!(
        stdout.lines().next().unwrap().ends_with(", 8 commands):"),
        "{stdout}"
    );
    let r = oracle(
        &format!("{}:latest", demo("r-notebook")),
        &["R", "--version"],
    );
    let r_version = r.split_whitespace().nth(2).unwrap();
    assert!(
        stdout.contains(&format!(":x86_64-r-{r_version}\n")),
        "{stdout}"
    );

    let md_path = std::fs::read_dir(out_dir.path().join("manifests"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let md = std::fs::read_to_string(md_path).unwrap();
    let (headings, blocks) = structure(&md);
    let h2: Vec<&str> = headings
        .iter()
        .filter(|h| h.0 == 2)
        .map(|h| h.1.as_str())
        .collect();
    assert_eq!(
        h2,
        ["Build Info", "Pip Packages", "Apt Packages", "R Packages"]
    );
    assert!(md.contains("`R --silent -e 'installed.packages(.Library)[, c(1,3)]'`:\n\n```text\n"));
    assert!(
        blocks.iter().any(|(_, b)| b
            .lines()
            .any(|l| l.starts_with("stats ") && l.contains(r_version))),
        "R's own packages listed"
    );
}

#[test]
fn tags_manifest_apply_steps_match_upstream_flow() {
    let run = "it-steps";
    let out_dir = tempfile::tempdir().unwrap();
    let dir = out_dir.path().to_str().unwrap();
    let common = [
        "--image",
        "java-notebook",
        "--timestamp",
        TIMESTAMP,
        "--out-dir",
        dir,
    ];
    let tags = stacktag(run)
        .arg("tags-file")
        .args(common)
        .output()
        .unwrap();
    assert_eq!(code(&tags), 0, "{}", text(&tags.stderr));
    let manifest = stacktag(run).arg("manifest").args(common).output().unwrap();
    assert_eq!(code(&manifest), 0, "{}", text(&manifest.stderr));
    let sha12 = &head_sha()[..12];
    assert_eq!(
        files_under(out_dir.path()),
        [
            format!("hist_lines/x86_64-default-java-notebook-{sha12}.txt"),
            format!("manifests/x86_64-default-java-notebook-{sha12}.md"),
            "tags/x86_64-default-java-notebook.txt".to_string(),
        ]
    );
    let java = oracle(
        &format!("{}:latest", demo("java-notebook")),
        &["java", "--version"],
    );
    let java = java.split_whitespace().nth(1).unwrap();
    let tags_file =
        std::fs::read_to_string(out_dir.path().join("tags/x86_64-default-java-notebook.txt"))
            .unwrap();
    assert!(
        tags_file.ends_with(&format!(":x86_64-java-{java}")),
        "{tags_file}"
    );
    assert!(!tags_file.ends_with('\n'));

    let apply = stacktag(run)
        .args(["apply", "--image", "java-notebook", "--out-dir", dir])
        .output()
        .unwrap();
    assert_eq!(code(&apply), 0, "{}", text(&apply.stderr));
    let applied = repo_tags(&format!("{}:latest", demo("java-notebook")));
    for t in tags_file.lines() {
        assert!(applied.contains(&t.to_string()), "{t}");
    }
    assert_no_containers(run);
}

#[test]
fn variant_goes_into_tags_and_file_names() {
    let owner = "t-variant";
    let _image = TestImage::new(owner, "");
    let dir = tempfile::tempdir().unwrap();
    let config = hierarchy(
        dir.path(),
        owner,
        "  box:\n    taggers: [os_version]\n    variants: [cuda12]\n",
    );
    let run = |variant: &str| {
        stacktag_config(owner, &config)
            .args(["hook", "box", "--variant", variant, "--out-dir"])
            .arg(dir.path().join("out"))
            .output()
            .unwrap()
    };
    let out = run("cuda12");
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let tags = std::fs::read_to_string(dir.path().join("out/tags/x86_64-cuda12-box.txt")).unwrap();
    let name = format!("{DEMO_REGISTRY}/{owner}/box");
    let os = oracle(&format!("{name}:latest"), &["cat", "/etc/os-release"]);
    let version = os
        .lines()
        .find_map(|l| l.strip_prefix("VERSION_ID="))
        .unwrap();
    assert_eq!(
        tags,
        format!("{name}:x86_64-cuda12-latest\n{name}:x86_64-cuda12-busybox-{version}")
    );
    let page = format!("x86_64-cuda12-box-{}", &head_sha()[..12]);
    let line =
        std::fs::read_to_string(dir.path().join(format!("out/hist_lines/{page}.txt"))).unwrap();
    assert!(line.contains("/images/box/cuda12/Dockerfile)"), "{line}");

    let out = run("cuda13");
    assert_eq!(code(&out), 3);
    assert!(
        text(&out.stderr)
            .contains("image `box` has no variant `cuda13`; its variants: default, cuda12"),
        "{}",
        text(&out.stderr)
    );
    assert_no_containers(owner);
}

/// DOCKER_HOST=tcp:// works like the docker CLI: a loopback TCP proxy to the
/// daemon's socket stands in for a remote daemon, and counts its connections.
#[test]
fn docker_host_tcp_is_honoured() {
    use std::sync::atomic::Ordering;

    let owner = "t-tcp";
    let _image = TestImage::new(owner, "");
    let (port, connections) = docker_proxy(Duration::ZERO);

    let dir = tempfile::tempdir().unwrap();
    let config = hierarchy(dir.path(), owner, "  box:\n    taggers: [os_version]\n");
    let out = stacktag_config(owner, &config)
        .env("DOCKER_HOST", format!("tcp://127.0.0.1:{port}"))
        .args(["tags-file", "--image", "box", "--out-dir"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(
        connections.load(Ordering::SeqCst) > 0,
        "stacktag went through DOCKER_HOST"
    );
    let tags = std::fs::read_to_string(dir.path().join("out/tags/x86_64-default-box.txt")).unwrap();
    assert!(
        tags.lines().last().unwrap().contains(":x86_64-busybox-"),
        "{tags}"
    );
    assert_no_containers(owner);
}

/// DOCKER_HOST=tcp:// with DOCKER_TLS_VERIFY, as for a remote daemon on port
/// 2376: a TLS front (rustls) for the daemon's socket requires a client
/// certificate from the test's CA. With the right DOCKER_CERT_PATH the
/// run works; with a client certificate of another CA it fails with exit 6
/// and says what to check.
#[test]
fn docker_host_tcp_with_tls_verify_is_honoured() {
    let owner = "t-tls";
    let _image = TestImage::new(owner, "");
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("certs");
    let other = dir.path().join("other-certs");
    let server = tls_certificates(&good, "127.0.0.1");
    tls_certificates(&other, "127.0.0.1");
    let port = tls_docker_proxy(&server.0, &server.1, &good.join("ca.pem"));
    let config = hierarchy(dir.path(), owner, "  box:\n    taggers: [os_version]\n");
    let run = |cert_path: &Path| {
        stacktag_config(owner, &config)
            .env("DOCKER_HOST", format!("tcp://127.0.0.1:{port}"))
            .env("DOCKER_TLS_VERIFY", "1")
            .env("DOCKER_CERT_PATH", cert_path)
            .args(["tags-file", "--image", "box", "--out-dir"])
            .arg(dir.path().join("out"))
            .output()
            .unwrap()
    };
    let refused = run(&other);
    let out = run(&good);

    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let tags = std::fs::read_to_string(dir.path().join("out/tags/x86_64-default-box.txt")).unwrap();
    assert!(tags.contains(":x86_64-busybox-"), "{tags}");
    let err = text(&refused.stderr);
    assert_eq!(code(&refused), 6, "{err}");
    assert!(err.contains(&format!("tcp://127.0.0.1:{port}")), "{err}");
    assert!(err.contains("DOCKER_CERT_PATH"), "{err}");
    assert_no_containers(owner);
}

/// A CA, a server certificate for `ip` and a client certificate, made with
/// the openssl CLI: `dir/{ca,cert,key}.pem` as the docker CLI wants them;
/// returns the server's (certificate, key).
fn tls_certificates(dir: &Path, ip: &str) -> (PathBuf, PathBuf) {
    std::fs::create_dir_all(dir).unwrap();
    let openssl = |args: &[&str]| openssl(dir, args);
    self_signed(dir, "test-ca", "ca-key.pem", "ca.pem");
    for (name, cn, ext) in [
        (
            "server",
            ip,
            format!("subjectAltName=IP:{ip}\nextendedKeyUsage=serverAuth\n"),
        ),
        (
            "client",
            "client",
            "extendedKeyUsage=clientAuth\n".to_string(),
        ),
    ] {
        std::fs::write(dir.join(format!("{name}.ext")), ext).unwrap();
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            &format!("/CN={cn}"),
            "-keyout",
            &format!("{name}-key.pem"),
            "-out",
            &format!("{name}.csr"),
        ]);
        openssl(&[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            &format!("{name}.ext"),
            "-out",
            &format!("{name}.pem"),
        ]);
    }
    std::fs::copy(dir.join("client.pem"), dir.join("cert.pem")).unwrap();
    std::fs::copy(dir.join("client-key.pem"), dir.join("key.pem")).unwrap();
    (dir.join("server.pem"), dir.join("server-key.pem"))
}

/// On a terminal (a pty made by util-linux `script`), a status line shows
/// the command running now, with its time; the log lines stay as they are.
#[test]
fn on_a_terminal_a_status_line_shows_the_running_command() {
    let owner = "t-tty";
    let image = TestImage::new(
        owner,
        "RUN printf '#!/bin/sh\\nsleep 1.5\\necho Python 3.11.2\\n' > /bin/python && chmod +x /bin/python",
    );
    let dir = tempfile::tempdir().unwrap();
    let config = hierarchy(dir.path(), owner, "  box:\n    taggers: [python_version]\n");
    let line = format!(
        "'{}' --config '{}' hook box --out-dir '{}'",
        env!("CARGO_BIN_EXE_stacktag"),
        config.display(),
        dir.path().join("out").display()
    );
    let out = Command::new("script")
        .args(["--quiet", "--return", "--command", &line, "/dev/null"])
        .env("STACKTAG_RUN_ID", owner)
        .env_remove("STACKTAG_CONFIG")
        .current_dir(repo_root())
        .output()
        .unwrap();
    let screen = text(&out.stdout);
    assert_eq!(code(&out), 0, "{screen}");
    assert!(
        screen.contains("running 1: box `python --version`"),
        "{screen}"
    );
    assert!(
        screen.contains("\x1b[1mbox\x1b[0m: 2 tags applied"),
        "{screen}"
    );
    assert_eq!(image.extra_tags().len(), 2);
    assert_no_containers(owner);
}
