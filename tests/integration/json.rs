//! `--format json` and `--metadata-file` of every command, run for real: a
//! stack of busybox images of this test's own on the daemon (hook, tags,
//! manifest, apply, explain, check, list, wiki), a registry of its own
//! (push, merge, image-ref in its three modes, attach). Every document is
//! validated against docs/json.schema.json and pinned by
//! tests/golden/json-*.json (timings, digests, ports, commits redacted).

use std::path::Path;
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::{json, Value};

use crate::publish::{assert_ok, tags, tags_dir, Registry, IMAGE};
use crate::support::*;

const TIMESTAMP: &str = "2026-11-22T23:48:58Z";
const OWNER: &str = "t-json";

fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let text = std::fs::read_to_string(repo_root().join("docs/json.schema.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    })
}

/// Panics with every way `doc` breaks the schema.
pub(crate) fn validate(what: &str, doc: &Value) {
    let validator = jsonschema::draft202012::new(schema()).expect("a valid schema");
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("  at {}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: the document breaks docs/json.schema.json:\n{}\n{}",
        errors.join("\n"),
        serde_json::to_string_pretty(doc).unwrap()
    );
}

/// stdout is one JSON document and nothing else; it is valid, and its
/// `command` and `ok` say what ran and how it ended.
pub(crate) fn document(what: &str, out: &Output, command: &str) -> Value {
    let stdout = text(&out.stdout);
    let doc: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "{what}: stdout is not one JSON document ({e}):\n{stdout}\nstderr:\n{}",
            text(&out.stderr)
        )
    });
    assert!(stdout.ends_with("}\n"), "{what}: {stdout}");
    validate(what, &doc);
    assert_eq!(doc["schema"], "stacktag/v1");
    assert_eq!(doc["command"], command, "{what}");
    assert_eq!(doc["ok"], out.status.success(), "{what}");
    if !out.status.success() {
        assert_eq!(doc["error"]["exit_code"], code(out), "{what}");
    }
    doc
}

/// The document as printed (fields in their order), with what changes from
/// run to run replaced: times, sizes, digests and image IDs, commits, and
/// the `from` → `to` strings given (ports, temporary directories).
fn redact(stdout: &str, subs: &[(String, String)]) -> String {
    static RULES: OnceLock<Vec<(regex::Regex, &str)>> = OnceLock::new();
    let rules = RULES.get_or_init(|| {
        [
            (
                r#""(seconds|size|total|container_start|commands|container_remove|files_and_tags)": [0-9.e-]+"#,
                r#""$1": 0"#,
            ),
            (r#""commit": "[0-9a-f]{40}""#, r#""commit": "<commit>""#),
            ("sha256([:-])[0-9a-f]{64}", "sha256${1}<digest>"),
        ]
        .into_iter()
        .map(|(re, to)| (regex::Regex::new(re).unwrap(), to))
        .collect()
    });
    let mut text = stdout.to_string();
    for (re, to) in rules {
        text = re.replace_all(&text, *to).into_owned();
    }
    for (from, to) in subs {
        text = text.replace(from.as_str(), to);
    }
    text
}

fn pin(name: &str, out: &Output, subs: &[(String, String)]) {
    let redacted = redact(&text(&out.stdout), subs);
    serde_json::from_str::<Value>(&redacted).expect("still JSON once redacted");
    golden(&format!("json-{name}.json"), &redacted);
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@t"])
        .args(["-c", "init.defaultBranch=master"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
}

/// The test's images, removed with their tags when dropped.
struct Images(Vec<String>);

impl Images {
    fn build(images: &[(&str, &str)]) -> Images {
        ensure_busybox();
        let mut names = Vec::new();
        for (image, lines) in images {
            let dir = tempfile::tempdir().unwrap();
            let dockerfile = format!("FROM {BUSYBOX}\n{lines}\n");
            std::fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap();
            let name = format!("{DEMO_REGISTRY}/{OWNER}/{image}");
            let tag = format!("{name}:latest");
            docker(&["build", "-q", "-t", &tag, dir.path().to_str().unwrap()]);
            names.push(name);
        }
        Images(names)
    }
}

impl Drop for Images {
    fn drop(&mut self) {
        for name in &self.0 {
            for t in own_tags(name) {
                let _ = Command::new("docker")
                    .args(["rmi", "--no-prune", &t])
                    .output();
            }
        }
    }
}

const STACK: &str = "registry: localhost:5000
owner: t-json
repository: me/json-stack
images:
  jbase:
    taggers:
      - date
      - name: os_release_id
        command: [cat, /etc/os-id]
        pattern: '^(?P<version>[a-z]+-\\d+)$'
        prefix: os
    manifests:
      - name: busybox_applets
        heading: Busybox
        commands: [[busybox, --list]]
  jbad:
    parent: jbase
    taggers:
      - name: nope_version
        command: [cat, /etc/nope]
        pattern: '^(?P<version>\\d+)$'
        prefix: nope
";

/// Every command that works on the hierarchy and the daemon, in a stack
/// repository of the test's own (paths in the documents are relative).
#[test]
fn local_commands_print_one_valid_document_each() {
    let run = "t-json-local";
    let _images = Images::build(&[
        ("jbase", "RUN echo debian-12 > /etc/os-id"),
        ("jbad", "RUN echo debian-12 > /etc/os-id"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hierarchy.yaml"), STACK).unwrap();
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "A stack"]);
    let sha = text(
        &Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(dir.path())
            .output()
            .unwrap()
            .stdout,
    )
    .trim()
    .to_string();
    let subs = vec![(sha[..12].to_string(), "<sha12>".to_string())];
    let st = |args: &[&str]| -> Output {
        stacktag(run)
            .current_dir(dir.path())
            .env("STACKTAG_TIMESTAMP", TIMESTAMP)
            .env_remove("STACKTAG_OUT_DIR")
            .args(args)
            .output()
            .unwrap()
    };

    let out = st(&["check", "--format", "json"]);
    let doc = document("check", &out, "check");
    assert_eq!(doc["images"][1]["parent"], "jbase");
    pin("check", &out, &subs);
    // --images changes the text only.
    let names = document(
        "check --images",
        &st(&["check", "--images", "--format", "json"]),
        "check",
    );
    assert_eq!(names, doc);

    let out = st(&["list", "--format", "json"]);
    let doc = document("list", &out, "list");
    let declared: Vec<&Value> = doc["taggers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["origin"] == "declared")
        .collect();
    assert_eq!(declared.len(), 2, "{doc}");
    assert_eq!(
        declared[0]["declared_at"],
        json!({"file": "hierarchy.yaml", "line": 8})
    );
    pin("list", &out, &subs);

    let out = st(&["explain", "jbad", "--format", "json"]);
    let doc = document("explain", &out, "explain");
    assert_eq!(doc["chain"], json!(["jbase", "jbad"]));
    pin("explain", &out, &subs);

    // A partial run: jbad's tagger fails, jbase is tagged. The document says
    // both, on stdout and in the metadata file alike; exit 5 as in text.
    let out = st(&[
        "hook",
        "jbase",
        "jbad",
        "--format",
        "json",
        "--metadata-file",
        "meta/hook.json",
    ]);
    assert_eq!(code(&out), 5, "{}", text(&out.stderr));
    let doc = document("partial hook", &out, "hook");
    let file = std::fs::read_to_string(dir.path().join("meta/hook.json")).unwrap();
    assert_eq!(file, text(&out.stdout), "the same document in the file");
    assert_eq!(doc["images"].as_array().unwrap().len(), 1, "{doc}");
    assert_eq!(doc["images"][0]["image"], "jbase");
    assert_eq!(doc["error"]["errors"][0]["image"], "jbad");
    assert_eq!(doc["error"]["errors"][0]["exit_code"], 5);
    assert!(
        text(&out.stderr).contains("jbad: tagger `nope_version`"),
        "the log stays on stderr: {}",
        text(&out.stderr)
    );
    pin("hook-partial", &out, &subs);

    let out = st(&["hook", "jbase", "--format", "json"]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let doc = document("hook", &out, "hook");
    let image = &doc["images"][0];
    let jbase = format!("{DEMO_REGISTRY}/{OWNER}/jbase");
    // The image ID, as the docker CLI sees it, and the tags really applied.
    let id = docker(&[
        "image",
        "inspect",
        "--format",
        "{{.Id}}",
        &format!("{jbase}:latest"),
    ]);
    assert_eq!(image["image_id"], id.trim());
    assert_eq!(
        image["tags"],
        json!(["x86_64-latest", "x86_64-2026-11-22", "x86_64-os-debian-12"])
    );
    let mut applied = own_tags(&jbase);
    applied.sort();
    let mut listed: Vec<String> = image["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .chain([format!("{jbase}:latest")])
        .collect();
    listed.sort();
    listed.dedup();
    assert_eq!(applied, listed);
    for f in image["files"].as_array().unwrap() {
        assert!(
            dir.path().join(f["path"].as_str().unwrap()).is_file(),
            "{f}"
        );
    }
    let commands: Vec<&str> = image["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["command"].as_str().unwrap())
        .collect();
    assert_eq!(commands, ["busybox --list", "cat /etc/os-id"]);
    assert_eq!(image["commands"][1]["exit_code"], 0);
    assert!(image["timings"]["total"].as_f64().unwrap() > 0.0);
    pin("hook", &out, &subs);
    assert_no_containers(run);

    for command in ["tags-file", "manifest"] {
        let out = st(&[command, "--image", "jbase", "--format", "json"]);
        let doc = document(command, &out, command);
        assert_eq!(doc["images"][0]["applied"], false);
        pin(command, &out, &subs);
    }

    let out = st(&["apply", "--image", "jbase", "--format", "json"]);
    let doc = document("apply", &out, "apply");
    assert_eq!(doc["images"][0]["image_id"], id.trim());
    pin("apply", &out, &subs);

    // Without --format, the text is unchanged; the file gets the document.
    let out = st(&["hook", "jbase", "--metadata-file", "meta/text.json"]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("jbase ("), "{stdout}");
    assert!(
        stdout.contains(&format!("  {jbase}:x86_64-os-debian-12\n")),
        "{stdout}"
    );
    let file = std::fs::read_to_string(dir.path().join("meta/text.json")).unwrap();
    let from_file: Value = serde_json::from_str(&file).unwrap();
    validate("hook --metadata-file", &from_file);
    assert_eq!(from_file["images"][0]["tags"], image["tags"]);
    let left: Vec<_> = std::fs::read_dir(dir.path().join("meta"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");

    let wiki = dir.path().join("wiki");
    git2::Repository::init(&wiki).unwrap();
    let out = st(&[
        "wiki",
        "--wiki-dir",
        "wiki",
        "--hist-lines-dir",
        "build/stacktag/hist_lines",
        "--manifests-dir",
        "build/stacktag/manifests",
        "--html",
        "site",
        "--format",
        "json",
    ]);
    let doc = document("wiki", &out, "wiki");
    assert_eq!(doc["update"]["rows_added"], 1, "{doc}");
    assert!(dir
        .path()
        .join(doc["site"]["index"].as_str().unwrap())
        .is_file());
    pin("wiki", &out, &subs);

    // Failures before and during parsing are documents too.
    let out = st(&["hook", "nosuch", "--format", "json"]);
    let doc = document("unknown image", &out, "hook");
    assert_eq!(doc["error"]["exit_code"], 3);
    pin("hook-unknown-image", &out, &subs);
    let out = st(&["tags", "--no-such-flag", "--format=json"]);
    assert_eq!(code(&out), 2);
    document("usage", &out, "tags");
    pin("usage", &out, &subs);
    // The whole message: every missing argument, not the line before them.
    let out = st(&["tags-file", "--format=json"]);
    let doc = document("missing argument", &out, "tags-file");
    let message = doc["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("the following required arguments were not provided:\n  <IMAGE>..."),
        "{message}"
    );
}

/// Both platforms of `tiny` built, their tags files written, and SBOM files
/// for HEAD of this checkout (the registry commands' --repo-dir).
fn stage(r: &mut Registry, values: &[&str]) -> String {
    let sha12 = head_sha()[..12].to_string();
    let sbom = r.dir.path().join("sbom");
    std::fs::create_dir_all(&sbom).unwrap();
    for (platform, arch) in [("x86_64", "amd64"), ("aarch64", "arm64")] {
        let t = tags(platform, values);
        r.image(arch, &format!("json {arch}"), &t);
        r.tags_file(&r.dir.path().join("tags"), platform, &t);
        let spdx = json!({"spdxVersion": "SPDX-2.3", "name": format!("{IMAGE} {platform}")});
        std::fs::write(
            sbom.join(format!("{platform}-default-{IMAGE}-{sha12}.spdx.json")),
            serde_json::to_string_pretty(&spdx).unwrap(),
        )
        .unwrap();
    }
    sbom.display().to_string()
}

/// push, merge, image-ref (tag, --all, --referrers) and attach against a
/// registry of the test's own; each digest in the documents is the one the
/// registry serves.
#[tokio::test]
async fn registry_commands_print_one_valid_document_each() {
    let mut r = Registry::start();
    let sbom = stage(&mut r, &["latest", "2026-11-24"]);
    let td = tags_dir(&r);
    let subs = vec![
        (r.host(), "127.0.0.1:<port>".to_string()),
        (r.dir.path().display().to_string(), "<tmp>".to_string()),
        (head_sha()[..12].to_string(), "<sha12>".to_string()),
    ];

    let out = r.stacktag(&[
        "push",
        "--image",
        IMAGE,
        "--platform",
        "x86_64",
        "--tags-dir",
        &td,
        "--format",
        "json",
    ]);
    let doc = document("push", &out, "push");
    for p in doc["pushed"].as_array().unwrap() {
        let (_, digest) = r.manifest(p["tag"].as_str().unwrap()).await;
        assert_eq!(p["digest"], digest.as_str(), "{p}");
    }
    let id = docker(&[
        "image",
        "inspect",
        "--format",
        "{{.Id}}",
        &format!("{}:x86_64-latest", r.name()),
    ]);
    assert_eq!(doc["image_id"], id.trim());
    assert_eq!(doc["attached"], json!([]));
    pin("push", &out, &subs);
    // The other platform with --attach-sbom and the text on stdout.
    let out = assert_ok(&r.stacktag(&[
        "push",
        "--image",
        IMAGE,
        "--platform",
        "aarch64",
        "--tags-dir",
        &td,
        "--attach-sbom",
        "--sbom-dir",
        &sbom,
        "--metadata-file",
        &format!("{td}/push.json"),
    ]));
    assert!(
        out.starts_with(&format!("{}:aarch64-latest sha256:", r.name())),
        "{out}"
    );
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{td}/push.json")).unwrap()).unwrap();
    validate("push --attach-sbom --metadata-file", &file);
    assert_eq!(file["attached"][0]["platform"], "aarch64");
    assert_eq!(
        file["attached"][0]["artifact_type"],
        "application/spdx+json"
    );

    let fixed = [
        "--revision",
        "1ffe43816ba9bd6a5bc0d29c0c8e5e4e16a8d3a2",
        "--timestamp",
        TIMESTAMP,
    ];
    let merge = |extra: &[&str]| {
        let mut args = vec![
            "merge",
            "--image",
            IMAGE,
            "--tags-dir",
            &td,
            "--format",
            "json",
        ];
        args.extend_from_slice(&fixed);
        args.extend_from_slice(extra);
        r.stacktag(&args)
    };
    let out = merge(&["--dry-run"]);
    let doc = document("merge --dry-run", &out, "merge");
    assert_eq!(doc["merged"][0]["digest"], Value::Null);
    pin("merge-dry-run", &out, &subs);
    let out = merge(&[]);
    let doc = document("merge", &out, "merge");
    let merged = doc["merged"].as_array().unwrap();
    assert_eq!(merged.len(), 2);
    for m in merged {
        let (index, digest) = r.manifest(m["tag"].as_str().unwrap()).await;
        assert_eq!(m["digest"], digest.as_str());
        assert_eq!(m["media_type"], index["mediaType"]);
        let entries = index["manifests"].as_array().unwrap();
        let listed: Vec<&Value> = m["platforms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| &p["digest"])
            .collect();
        let put: Vec<&Value> = entries.iter().map(|e| &e["digest"]).collect();
        assert_eq!(listed, put, "the platform entries, in index order");
    }
    pin("merge", &out, &subs);

    let out = r.stacktag(&["image-ref", "--image", IMAGE, "--format", "json"]);
    let doc = document("image-ref", &out, "image-ref");
    let (_, latest) = r.manifest("latest").await;
    assert_eq!(doc["digest"], latest.as_str());
    assert_eq!(doc["reference"], format!("{}@{latest}", r.name()));
    pin("image-ref", &out, &subs);

    let out = r.stacktag(&[
        "image-ref",
        "--all",
        "--digests",
        "--tags-dir",
        &td,
        "--format",
        "json",
    ]);
    let doc = document("image-ref --all --digests", &out, "image-ref");
    assert_eq!(doc["mode"], "all");
    assert_eq!(doc["references"].as_array().unwrap().len(), 3, "{doc}");
    pin("image-ref-all", &out, &subs);

    let out = r.stacktag(&[
        "attach",
        "--image",
        IMAGE,
        "--platform",
        "x86_64",
        "--tags-dir",
        &td,
        "--sbom-dir",
        &sbom,
        "--format",
        "json",
    ]);
    let doc = document("attach", &out, "attach");
    let attached = &doc["attached"][0];
    assert_eq!(
        attached["subject"],
        format!("{}@{}", r.name(), r.manifest("x86_64-latest").await.1)
    );
    pin("attach", &out, &subs);

    let out = r.stacktag(&[
        "image-ref",
        "--image",
        IMAGE,
        "--platform",
        "x86_64",
        "--referrers",
        "--format",
        "json",
    ]);
    let doc = document("image-ref --referrers", &out, "image-ref");
    assert_eq!(doc["referrers"][0]["reference"], attached["reference"]);
    pin("image-ref-referrers", &out, &subs);

    // A tag the registry lacks: exit 13, and still a document.
    let out = r.stacktag(&[
        "image-ref",
        "--image",
        IMAGE,
        "--tag",
        "nosuch",
        "--format",
        "json",
    ]);
    assert_eq!(code(&out), 13);
    document("missing tag", &out, "image-ref");
    pin("image-ref-missing", &out, &subs);
}

/// The schema is a valid 2020-12 schema, and it is strict: a field it does
/// not name, or a missing one, is an error.
#[test]
fn the_schema_refuses_what_it_does_not_describe() {
    jsonschema::meta::validate(schema()).expect("a valid draft 2020-12 schema");
    let validator = jsonschema::draft202012::new(schema()).unwrap();
    let path = repo_root().join("tests/golden/json-explain.json");
    let good: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(validator.is_valid(&good));
    let mut extra = good.clone();
    extra["colour"] = json!("blue");
    assert!(!validator.is_valid(&extra), "an unknown top-level field");
    let mut extra = good.clone();
    extra["taggers"][0]["colour"] = json!("blue");
    assert!(!validator.is_valid(&extra), "an unknown nested field");
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("chain");
    assert!(!validator.is_valid(&missing), "a missing field");
    let mut failed = good;
    failed["ok"] = json!(false);
    assert!(!validator.is_valid(&failed), "not ok without an error");
}

/// Ctrl-C is a failed run like any other: exit 130, and the document says so
/// (on stdout and in the metadata file), with no image done.
#[test]
fn an_interrupted_hook_still_prints_its_document() {
    let owner = "t-json-signal";
    let run = "t-json-signal";
    let _image = TestImage::new(
        owner,
        "RUN printf '#!/bin/sh\\nexec sleep 600\\n' > /bin/python && chmod +x /bin/python",
    );
    let dir = tempfile::tempdir().unwrap();
    let config = hierarchy(dir.path(), owner, "  box:\n    taggers: [python_version]\n");
    let meta = dir.path().join("hook.json");
    let child = stacktag_config(run, &config)
        .args(["hook", "box", "--format", "json", "--metadata-file"])
        .arg(&meta)
        .arg("--out-dir")
        .arg(dir.path().join("out"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while containers_of(run) == 0 {
        assert!(std::time::Instant::now() < deadline, "no container started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 130, "{}", text(&out.stderr));
    let doc = document("interrupted hook", &out, "hook");
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("interrupted by SIGINT"),
        "{doc}"
    );
    assert!(doc.get("images").is_none(), "nothing was done: {doc}");
    assert_eq!(std::fs::read_to_string(&meta).unwrap(), text(&out.stdout));
    assert_no_containers(run);
}
