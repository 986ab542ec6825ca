//! `hook --sbom` on real images: the documents validate against the official
//! SPDX 2.3 and CycloneDX 1.6 schemas (tests/data/schemas), list exactly the
//! packages dpkg and pip report in the image (asked with the docker CLI),
//! carry purls an independent parser reads, and are byte-identical across
//! runs with the same timestamp.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde_json::Value;

use crate::support::*;

pub const TIMESTAMP: &str = "2026-11-22T23:48:58Z";
/// dpkg and pip on Debian: the demo stack's root Dockerfile, built under a
/// test name of its own (cached by name; the layers are the demo's).
pub const PYTHON_FIXTURE: &str = "stacktag-test/sbom-python:bookworm";

pub fn ensure_python_fixture() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::process::Command::new("docker")
            .args(["image", "inspect", PYTHON_FIXTURE])
            .output()
            .unwrap()
            .status
            .success()
        {
            return;
        }
        // The root Dockerfile needs BuildKit (`RUN --mount`), which the docker
        // CLI here has no buildx for: stacktag builds it, with make's flags,
        // so the demo image `make test` built first is reused, not rebuilt.
        let out = tempfile::tempdir().unwrap();
        let built = stacktag("t-sbom-fixture")
            .args([
                "--quiet",
                "build",
                "docker-stacks-foundation",
                "--registry",
                DEMO_REGISTRY,
                "--owner",
                "stacktag",
                "--build-arg",
                "ROOT_IMAGE=stacktag/debian:bookworm",
                "--out-dir",
            ])
            .arg(out.path())
            .output()
            .unwrap();
        assert!(built.status.success(), "{}", report(&built));
        docker(&[
            "tag",
            &format!("{DEMO_REGISTRY}/stacktag/docker-stacks-foundation:latest"),
            PYTHON_FIXTURE,
        ]);
    });
}

/// `localhost:5000/{owner}/py:latest`: the python fixture, with
/// `dockerfile_lines` added; its tags are removed when dropped.
pub struct PyImage {
    pub name: String,
}

impl PyImage {
    pub fn new(owner: &str, dockerfile_lines: &str) -> PyImage {
        ensure_python_fixture();
        let name = format!("{DEMO_REGISTRY}/{owner}/py");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("Dockerfile"),
            format!("FROM {PYTHON_FIXTURE}\n{dockerfile_lines}\n"),
        )
        .unwrap();
        docker(&[
            "build",
            "-q",
            "-t",
            &format!("{name}:latest"),
            dir.path().to_str().unwrap(),
        ]);
        PyImage { name }
    }

    pub fn latest(&self) -> String {
        format!("{}:latest", self.name)
    }
}

impl Drop for PyImage {
    /// Every tag of the name, on whichever image (a rebuild leaves the
    /// older image with the tags only it had).
    fn drop(&mut self) {
        let all = docker(&["images", "--format", "{{.Repository}}:{{.Tag}}", &self.name]);
        for t in all.lines().filter(|t| !t.ends_with(":<none>")) {
            let _ = std::process::Command::new("docker")
                .args(["rmi", t])
                .output();
        }
    }
}

fn data(path: &str) -> Value {
    let p = repo_root().join("tests/data/schemas").join(path);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

/// Errors of `doc` against the SPDX 2.3 schema.
pub fn spdx_errors(doc: &Value) -> Vec<String> {
    let v = jsonschema::validator_for(&data("spdx-2.3.schema.json")).expect("SPDX schema");
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Errors of `doc` against the CycloneDX 1.6 schema (with the SPDX license
/// list and JSF schemas it refers to).
pub fn cdx_errors(doc: &Value) -> Vec<String> {
    let v = jsonschema::options()
        .with_retriever(Vendored)
        .build(&data("bom-1.6.SNAPSHOT.schema.json"))
        .expect("CycloneDX schema");
    let mut errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    // What the vendored copy relaxed (tests/data/SOURCES.md), checked here.
    if doc["$schema"] != "http://cyclonedx.org/schema/bom-1.6.schema.json" {
        errors.push(format!("$schema is {}", doc["$schema"]));
    }
    if !doc["version"].is_u64() {
        errors.push("no version".into());
    }
    errors
}

/// The schemas bom-1.6 refers to, from tests/data/schemas; nothing is fetched.
struct Vendored;

impl jsonschema::Retrieve for Vendored {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let file = uri.as_str().rsplit('/').next().unwrap_or_default();
        match file {
            "spdx.SNAPSHOT.schema.json" | "jsf-0.82.SNAPSHOT.schema.json" => Ok(data(file)),
            _ => Err(format!("not vendored: {uri}").into()),
        }
    }
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// `(type, name, version)` of every component's purl, parsed by the
/// `packageurl` crate; panics on a purl it rejects.
fn purls(cdx: &Value) -> Vec<(String, String, String)> {
    cdx["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let s = c["purl"].as_str().unwrap();
            let p = packageurl::PackageUrl::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(c["bom-ref"], s);
            assert_eq!(
                c["name"].as_str().unwrap().to_lowercase().replace('_', "-"),
                p.name().to_lowercase()
            );
            (
                p.ty().to_string(),
                p.name().to_string(),
                p.version().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn sbom_paths(out: &Path, stem: &str) -> (PathBuf, PathBuf) {
    let sha12 = &head_sha()[..12];
    (
        out.join(format!("sbom/{stem}-{sha12}.spdx.json")),
        out.join(format!("sbom/{stem}-{sha12}.cdx.json")),
    )
}

#[test]
fn hook_sbom_lists_what_dpkg_and_pip_report_and_validates() {
    let owner = "t-sbom-py";
    let image = PyImage::new(owner, "");
    let dir = tempfile::tempdir().unwrap();
    let config = hierarchy(
        dir.path(),
        owner,
        "  py:\n    taggers: [python_version]\n    manifests: [pip_packages, apt_packages]\n",
    );
    let hook = |out: &str| {
        stacktag_config(owner, &config)
            .args([
                "hook",
                "py",
                "--sbom",
                "--timestamp",
                TIMESTAMP,
                "--out-dir",
            ])
            .arg(dir.path().join(out))
            .output()
            .unwrap()
    };
    let out = hook("one");
    let stderr = text(&out.stderr);
    assert_eq!(code(&out), 0, "{stderr}");
    assert_no_containers(owner);
    for (section, cmd) in [("conda", "conda"), ("r", "R"), ("julia", "julia")] {
        assert!(
            stderr.contains(&format!(
                "warning: py: SBOM section `{section}` skipped: `{cmd}` is not in the image"
            )),
            "{stderr}"
        );
    }
    let (spdx_path, cdx_path) = sbom_paths(&dir.path().join("one"), "x86_64-default-py");
    let (spdx, cdx) = (read_json(&spdx_path), read_json(&cdx_path));
    assert_eq!(spdx_errors(&spdx), Vec::<String>::new());
    assert_eq!(cdx_errors(&cdx), Vec::<String>::new());

    // The image, by its ID.
    let id = docker(&["image", "inspect", "--format", "{{.Id}}", &image.latest()]);
    let id = id.trim();
    assert_eq!(spdx["packages"][0]["versionInfo"], id);
    assert_eq!(cdx["metadata"]["component"]["version"], id);
    assert_eq!(cdx["metadata"]["timestamp"], TIMESTAMP);
    assert_eq!(spdx["creationInfo"]["created"], TIMESTAMP);

    // Exactly what dpkg and pip say, asked apart from stacktag.
    let latest = image.latest();
    let dpkg: BTreeSet<(String, String, String)> = oracle(
        &latest,
        &[
            "dpkg-query",
            "-W",
            "-f",
            "${Package} ${Version} ${db:Status-Status}\n",
        ],
    )
    .lines()
    .filter(|l| l.ends_with(" installed"))
    .map(|l| {
        let f: Vec<&str> = l.split(' ').collect();
        ("deb".to_string(), f[0].to_string(), f[1].to_string())
    })
    .collect();
    let plain_w = oracle(&latest, &["dpkg-query", "-W"]).lines().count();
    assert_eq!(dpkg.len(), plain_w, "no package half removed in this image");
    let pip: BTreeSet<(String, String, String)> = oracle(&latest, &["pip", "list"])
        .lines()
        .skip(2)
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (
                "pypi".to_string(),
                f[0].to_lowercase().replace('_', "-"),
                f[1].to_string(),
            )
        })
        .collect();
    let found = purls(&cdx);
    let of = |ty: &str| -> BTreeSet<(String, String, String)> {
        found.iter().filter(|p| p.0 == ty).cloned().collect()
    };
    assert_eq!(
        of("deb").len(),
        found.iter().filter(|p| p.0 == "deb").count()
    );
    assert_eq!(of("deb"), dpkg);
    assert_eq!(of("pypi"), pip);
    assert!(
        dpkg.len() > 50 && pip.len() >= 3,
        "{} debs, {} pips",
        dpkg.len(),
        pip.len()
    );
    assert_eq!(found.len(), dpkg.len() + pip.len());
    assert_eq!(spdx["packages"].as_array().unwrap().len(), found.len() + 1);
    let libc = cdx["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "libc6")
        .unwrap();
    let purl = libc["purl"].as_str().unwrap();
    assert!(
        purl.starts_with("pkg:deb/debian/libc6@") && purl.ends_with("?arch=amd64&distro=debian-12"),
        "{purl}"
    );

    // Same image, same timestamp: the same bytes.
    let out = hook("two");
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let (spdx2, cdx2) = sbom_paths(&dir.path().join("two"), "x86_64-default-py");
    assert_eq!(
        std::fs::read(&spdx_path).unwrap(),
        std::fs::read(spdx2).unwrap()
    );
    assert_eq!(
        std::fs::read(&cdx_path).unwrap(),
        std::fs::read(cdx2).unwrap()
    );
    assert_no_containers(owner);
}

#[test]
fn sbom_skips_missing_tools_or_fails_when_they_are_required() {
    let owner = "t-sbom-box";
    let image = TestImage::new(owner, "");
    let dir = tempfile::tempdir().unwrap();
    // `sbom: true` in the hierarchy asks for it without --sbom.
    let config = dir.path().join("hierarchy.yaml");
    std::fs::write(
        &config,
        format!("registry: {DEMO_REGISTRY}\nowner: {owner}\nsbom: true\nimages:\n  box:\n    taggers: [os_version]\n"),
    )
    .unwrap();
    let out = stacktag_config(owner, &config)
        .args(["hook", "box", "--timestamp", TIMESTAMP, "--out-dir"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(code(&out), 0, "{stderr}");
    for cmd in ["dpkg-query", "python", "conda", "R", "julia"] {
        assert!(
            stderr.contains(&format!("skipped: `{cmd}` is not in the image")),
            "{stderr}"
        );
    }
    let (spdx, cdx) = sbom_paths(&dir.path().join("out"), "x86_64-default-box");
    let (spdx, cdx) = (read_json(&spdx), read_json(&cdx));
    assert_eq!(spdx_errors(&spdx), Vec::<String>::new());
    assert_eq!(cdx_errors(&cdx), Vec::<String>::new());
    assert_eq!(cdx["components"].as_array().unwrap().len(), 0);
    assert!(spdx["comment"]
        .as_str()
        .unwrap()
        .contains("not in the image: apt, pip, conda, r, julia"));
    for t in image.extra_tags() {
        docker(&["rmi", "--no-prune", &t]);
    }

    // Required: the run fails, naming the image and command; nothing is written or tagged.
    std::fs::write(
        &config,
        format!("registry: {DEMO_REGISTRY}\nowner: {owner}\nimages:\n  box:\n    taggers: [os_version]\n    sbom_required: [apt]\n"),
    )
    .unwrap();
    let out = stacktag_config(owner, &config)
        .args(["hook", "box", "--sbom", "--out-dir"])
        .arg(dir.path().join("failed"))
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(code(&out), 5, "{stderr}");
    assert!(
        stderr.contains("box: SBOM section `apt`: `dpkg-query -W -f '${db:Status-Status}"),
        "{stderr}"
    );
    assert!(stderr.contains("is not in the image"), "{stderr}");
    assert_eq!(
        files_under(&dir.path().join("failed")),
        Vec::<String>::new()
    );
    assert_eq!(image.extra_tags(), Vec::<String>::new());
    assert_no_containers(owner);
}

/// `(type, name, version)` of the deb and pypi packages of `image`, as
/// `dpkg-query -W` and `pip list` print them, run with the docker CLI.
fn dpkg_and_pip(image: &str) -> BTreeSet<(String, String, String)> {
    let mut all: BTreeSet<(String, String, String)> = oracle(
        image,
        &[
            "dpkg-query",
            "-W",
            "-f",
            "${Package} ${Version} ${db:Status-Status}\n",
        ],
    )
    .lines()
    .filter(|l| l.ends_with(" installed"))
    .map(|l| {
        let f: Vec<&str> = l.split(' ').collect();
        ("deb".to_string(), f[0].to_string(), f[1].to_string())
    })
    .collect();
    all.extend(oracle(image, &["pip", "list"]).lines().skip(2).map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (
            "pypi".to_string(),
            f[0].to_lowercase().replace('_', "-"),
            f[1].to_string(),
        )
    }));
    all
}

/// The programs that list a package manager's packages, by manager: the
/// manifests' and the SBOM's, before and after they shared one listing.
const LISTERS: &[(&str, &[&str])] = &[
    ("apt", &["apt list", "dpkg-query", "dpkg -l"]),
    ("pip", &["pip list", "pip freeze", "importlib.metadata"]),
    ("conda", &["conda list", "mamba list"]),
    ("r", &["installed.packages"]),
    ("julia", &["Pkg.status", "Pkg.dependencies"]),
];

/// `hook --all --sbom` over the demo stack (apt, pip and R images): every
/// image's SBOM lists what dpkg and pip report; each package manager is
/// listed by one command in the image's one container (the hook's JSON
/// report names every command it ran), which the SBOM and the manifest
/// sections both read; and each section is byte for byte what its command
/// prints run on its own with the docker CLI.
#[test]
fn every_demo_image_sbom_lists_what_dpkg_and_pip_report() {
    let run = "it-sbom-demo";
    let out = tempfile::tempdir().unwrap();
    let o = stacktag(run)
        .args([
            "hook",
            "--all",
            "--sbom",
            "--format",
            "json",
            "--timestamp",
            TIMESTAMP,
            "--out-dir",
        ])
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_no_containers(run);
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut sections_checked = 0;
    for image in report["images"].as_array().unwrap() {
        let name = image["image"].as_str().unwrap();
        let commands: Vec<&str> = image["commands"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["command"].as_str().unwrap())
            .collect();
        let distinct: BTreeSet<&str> = commands.iter().copied().collect();
        assert_eq!(
            distinct.len(),
            commands.len(),
            "{name}: a command ran twice"
        );
        for (manager, programs) in LISTERS {
            let listing: Vec<&&str> = commands
                .iter()
                .filter(|c| programs.iter().any(|p| c.contains(p)))
                .collect();
            assert!(
                listing.len() <= 1,
                "{name}: {manager} packages listed by {} commands: {listing:#?}",
                listing.len()
            );
        }
        // Each package section, against its command run on its own.
        let manifest = image["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["kind"] == "manifest")
            .unwrap()["path"]
            .as_str()
            .unwrap();
        let manifest = std::fs::read_to_string(manifest).unwrap();
        let reference = format!("{DEMO_REGISTRY}/{DEMO_OWNER}/{name}:latest");
        for (shown, argv) in [
            ("apt list --installed", &["apt", "list", "--installed"][..]),
            ("pip list", &["pip", "list"][..]),
            (
                "R --silent -e 'installed.packages(.Library)[, c(1,3)]'",
                &[
                    "R",
                    "--silent",
                    "-e",
                    "installed.packages(.Library)[, c(1,3)]",
                ][..],
            ),
        ] {
            let heading = format!("`{shown}`:\n\n```text\n");
            let Some(at) = manifest.find(&heading) else {
                continue;
            };
            let body = &manifest[at + heading.len()..];
            let body = &body[..body.find("\n```").unwrap()];
            let printed = oracle(&reference, argv);
            let cleaned: Vec<&str> = printed.lines().map(str::trim_end).collect();
            let cleaned = cleaned.join("\n");
            assert_eq!(body, cleaned.trim_matches('\n'), "{name}: `{shown}`");
            sections_checked += 1;
        }
    }
    // apt and pip in six images, R in one.
    assert!(
        sections_checked >= 13,
        "{sections_checked} sections compared"
    );
    let images = text(
        &stacktag(run)
            .args(["check", "--images"])
            .output()
            .unwrap()
            .stdout,
    );
    assert!(images.lines().count() >= 6, "{images}");
    for image in images.lines() {
        let (spdx, cdx) = sbom_paths(out.path(), &format!("x86_64-default-{image}"));
        let (spdx, cdx) = (read_json(&spdx), read_json(&cdx));
        assert_eq!(spdx_errors(&spdx), Vec::<String>::new(), "{image}");
        assert_eq!(cdx_errors(&cdx), Vec::<String>::new(), "{image}");
        let found: BTreeSet<_> = purls(&cdx)
            .into_iter()
            .filter(|p| p.0 == "deb" || p.0 == "pypi")
            .collect();
        let expected = dpkg_and_pip(&format!("{DEMO_REGISTRY}/{DEMO_OWNER}/{image}:latest"));
        assert_eq!(found, expected, "{image}");
        let cran = purls(&cdx).iter().filter(|p| p.0 == "cran").count();
        assert_eq!(
            cran > 0,
            image == "r-notebook",
            "{image}: {cran} R packages"
        );
    }
}

#[test]
fn package_tool_output_that_is_not_json_names_image_command_and_position() {
    let owner = "t-sbom-badjson";
    // A `python` whose JSON breaks on line 2.
    let image = TestImage::new(
        owner,
        r#"RUN printf '#!/bin/sh\necho "[{\\"name\\": \\"a\\", \\"version\\": \\"1\\"},"\necho " {oops}]"\n' > /bin/python && chmod +x /bin/python"#,
    );
    let dir = tempfile::tempdir().unwrap();
    let config = hierarchy(dir.path(), owner, "  box:\n    taggers: [os_version]\n");
    let out = stacktag_config(owner, &config)
        .args(["hook", "box", "--sbom", "--out-dir"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(code(&out), 5, "{stderr}");
    assert!(
        stderr.contains(
            "box: SBOM section `pip`: `python -c 'import importlib.metadata as m, json, re;"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("gave output that does not parse at line 2, column 3:"),
        "{stderr}"
    );
    assert_eq!(files_under(&dir.path().join("out")), Vec::<String>::new());
    assert_eq!(image.extra_tags(), Vec::<String>::new());
    assert_no_containers(owner);
}
