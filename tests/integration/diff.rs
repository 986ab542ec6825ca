//! `stacktag diff` on two real builds of one image that differ by one apt
//! package added and one pip package upgraded: from the two manifest files
//! the hook wrote, and from the wiki those builds went into; and the site's
//! "Changes since the previous build" section, in headless chromium.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use crate::sbom::PyImage;
use crate::support::*;

/// A local pip package `stacktag-probe` of `version`, built and installed
/// offline (no index) with the image's own setuptools.
fn probe(version: &str) -> String {
    format!(
        "RUN mkdir -p /tmp/probe && printf 'from setuptools import setup\\nsetup(name=\"stacktag-probe\", version=\"{version}\", py_modules=[])\\n' > /tmp/probe/setup.py && pip install -q --no-index --no-build-isolation --break-system-packages /tmp/probe && rm -rf /tmp/probe"
    )
}

const LESS: &str = "RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends less && rm -rf /var/lib/apt/lists/*";

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@localhost"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (code(&out), text(&out.stdout), text(&out.stderr))
}

#[test]
fn diff_of_two_real_builds_gives_exactly_what_changed() {
    let owner = "t-diff";
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = hierarchy(
        d,
        owner,
        "  py:\n    taggers: [commit_sha, date, python_version]\n    manifests: [pip_packages, apt_packages]\n",
    );
    let repo = d.join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    let wiki = d.join("wiki");
    std::fs::create_dir(&wiki).unwrap();
    git(&wiki, &["init", "-q"]);

    // Build one, hooked at commit one, into the wiki.
    let hook = |out: &str, ts: &str| {
        git(&repo, &["commit", "-q", "--allow-empty", "-m", out]);
        let sha = git(&repo, &["rev-parse", "HEAD"]).trim().to_string();
        let (c, _, err) = run(stacktag_config(owner, &config)
            .args(["hook", "py", "--timestamp", ts, "--repo-dir"])
            .arg(&repo)
            .arg("--out-dir")
            .arg(d.join(out)));
        assert_eq!(c, 0, "{err}");
        let (c, _, err) = run(stacktag_config(owner, &config)
            .args(["wiki", "--repository", "stacktag/tests", "--wiki-dir"])
            .arg(&wiki)
            .arg("--hist-lines-dir")
            .arg(d.join(out).join("hist_lines"))
            .arg("--manifests-dir")
            .arg(d.join(out).join("manifests"))
            .arg("--repo-dir")
            .arg(&repo));
        assert_eq!(c, 0, "{err}");
        format!("x86_64-default-py-{}", &sha[..12])
    };
    let one = PyImage::new(owner, &probe("1.0"));
    let page1 = hook("one", "2026-11-22T10:00:00Z");

    // Only one build in the wiki: said, exit 0.
    let (c, stdout, err) = run(stacktag(owner)
        .args(["diff", "--image", "py", "--wiki-dir"])
        .arg(&wiki));
    assert_eq!(c, 0, "{err}");
    assert_eq!(
        stdout,
        format!(
            "No previous build of py in {}: {page1} is its only build there.\n",
            wiki.display()
        )
    );
    // The same in the one JSON document every command prints.
    let out = stacktag(owner)
        .args(["diff", "--image", "py", "--format", "json", "--wiki-dir"])
        .arg(&wiki)
        .output()
        .unwrap();
    let doc = crate::json::document("diff, one build", &out, "diff");
    assert_eq!(doc["previous"], Value::Null, "{doc}");
    assert_eq!(doc["newest"], json!(page1), "{doc}");

    // Build two: one more apt package, the pip package upgraded.
    let two = PyImage::new(
        owner,
        &format!("{}\n{LESS}\n{}", probe("1.0"), probe("2.0")),
    );
    let page2 = hook("two", "2026-11-23T10:00:00Z");
    let latest = two.latest();
    let less = oracle(&latest, &["dpkg-query", "-W", "-f", "${Version}", "less"]);
    let probe_versions = oracle(&latest, &["pip", "list"]);
    assert!(
        probe_versions.contains("stacktag-probe 2.0"),
        "{probe_versions}"
    );

    let m1 = d.join(format!("one/manifests/{page1}.md"));
    let m2 = d.join(format!("two/manifests/{page2}.md"));
    let (c, stdout, err) = run(stacktag(owner)
        .arg("diff")
        .arg(&m1)
        .arg(&m2)
        .args(["--format", "json"]));
    assert_eq!(c, 0, "{err}");
    let got: Value = serde_json::from_str(&stdout).unwrap();
    crate::json::validate("diff --format json", &got);
    assert_eq!(
        (&got["command"], &got["ok"]),
        (&json!("diff"), &json!(true))
    );
    let sha = |p: &str| p.rsplit('-').next().unwrap().to_string();
    let expected_tags = json!([
        { "old": format!("x86_64-{}", sha(&page1)), "new": format!("x86_64-{}", sha(&page2)) },
        { "old": "x86_64-2026-11-22", "new": "x86_64-2026-11-23" },
    ]);
    let expected_sections = json!([
        { "section": "apt", "kind": "packages", "added": [{ "name": "less", "version": less }], "removed": [], "changed": [] },
        { "section": "pip", "kind": "packages", "added": [], "removed": [], "changed": [{ "name": "stacktag-probe", "old": "1.0", "new": "2.0" }] },
    ]);
    assert_eq!(got["tags"], expected_tags, "{stdout}");
    assert_eq!(got["sections"], expected_sections, "{stdout}");
    assert_eq!(got["old"]["timestamp"], "2026-11-22T10:00:00Z");
    assert_eq!(got["new"]["tag"], format!("x86_64-{}", sha(&page2)));

    // Markdown, the default.
    let (c, md, _) = run(stacktag(owner).arg("diff").arg(&m1).arg(&m2));
    assert_eq!(c, 0);
    assert!(md.starts_with("# Changes in py (x86_64)\n"), "{md}");
    assert!(md.contains(&format!("## Apt\n\n1 added, 0 removed, 0 changed\n\n| Package | Change | Old | New |\n| - | - | - | - |\n| `less` | added | | `{less}` |\n")), "{md}");
    assert!(
        md.contains("| `stacktag-probe` | changed | `1.0` | `2.0` |\n"),
        "{md}"
    );
    assert!(
        md.contains("| `x86_64-2026-11-22` | `x86_64-2026-11-23` |\n"),
        "{md}"
    );

    // The wiki: its newest build against the one before, the same rows.
    let (c, stdout, err) = run(stacktag(owner)
        .args([
            "diff",
            "--image",
            "py",
            "--platform",
            "x86_64",
            "--format",
            "json",
            "--wiki-dir",
        ])
        .arg(&wiki));
    assert_eq!(c, 0, "{err}");
    let from_wiki: Value = serde_json::from_str(&stdout).unwrap();
    crate::json::validate("diff --wiki-dir --format json", &from_wiki);
    assert_eq!(from_wiki["tags"], expected_tags, "{stdout}");
    assert_eq!(from_wiki["sections"], expected_sections, "{stdout}");

    // Two different images: refused, unless --force.
    let other = tempfile::tempdir().unwrap();
    let foreign = other.path().join("other.md");
    std::fs::write(
        &foreign,
        std::fs::read_to_string(&m1).unwrap().replace(
            &format!("{DEMO_REGISTRY}/{owner}/py"),
            &format!("{DEMO_REGISTRY}/{owner}/other"),
        ),
    )
    .unwrap();
    let (c, _, err) = run(stacktag(owner).arg("diff").arg(&foreign).arg(&m2));
    assert_eq!(c, 2, "{err}");
    assert!(err.contains("refused:") && err.contains("--force"), "{err}");
    let out = stacktag(owner)
        .args(["diff", "--format", "json"])
        .arg(&foreign)
        .arg(&m2)
        .output()
        .unwrap();
    let doc = crate::json::document("diff refused", &out, "diff");
    assert!(doc.get("sections").is_none(), "{doc}");
    let (c, stdout, err) = run(stacktag(owner)
        .arg("diff")
        .arg("--force")
        .arg(&foreign)
        .arg(&m2));
    assert_eq!(c, 0, "{err}");
    assert!(stdout.contains("| `less` | added |"), "{stdout}");

    // A file that is not a manifest: named.
    let (c, _, err) = run(stacktag(owner).arg("diff").arg(&config).arg(&m2));
    assert_eq!(c, 8, "{err}");
    assert!(
        err.contains("hierarchy.yaml: not a build manifest"),
        "{err}"
    );

    // The site: each manifest page says what changed since the previous build.
    let site = d.join("site");
    let (c, _, err) = run(stacktag(owner)
        .args(["wiki", "--wiki-dir"])
        .arg(&wiki)
        .arg("--html")
        .arg(&site));
    assert_eq!(c, 0, "{err}");
    let html = std::fs::read_to_string(site.join(format!("{page2}.html"))).unwrap();
    assert!(
        html.contains("<section id=\"changes\">\n<h2>Changes since the previous build</h2>"),
        "{html}"
    );
    assert!(html.contains("<td><code>less</code></td>"), "{html}");
    let first = std::fs::read_to_string(site.join(format!("{page1}.html"))).unwrap();
    assert!(
        first.contains("No earlier build of this image, platform and variant is in the wiki."),
        "{first}"
    );

    match crate::wiki::chromium() {
        Some(chromium) => {
            let profile = tempfile::tempdir().unwrap();
            let url = format!("file://{}", site.join(format!("{page2}.html")).display());
            let dom = crate::wiki::browse(&chromium, profile.path(), &["--dump-dom".into(), url]);
            let at = dom
                .find("Changes since the previous build")
                .expect("the section is in the page chromium shows");
            let section = &dom[at..];
            assert!(section.contains("<code>stacktag-probe</code>"), "{dom}");
            assert!(
                section.contains(&format!("href=\"./{page1}.html\"")),
                "links the previous build: {dom}"
            );
        }
        None => panic!("chromium is not installed: run `make chromium`"),
    }
    drop(one);
    assert_no_containers(owner);
}

/// Sections declared in hierarchy.yaml are compared too: one of `name
/// version` pairs as packages, one of other lines line by line; and the
/// catalog has the pairs under the section's own manager. Two real hook
/// runs of a busybox image whose declared commands print different things.
#[test]
fn diff_compares_declared_sections_and_find_finds_their_packages() {
    let owner = "t-diff-declared";
    let d = tempfile::tempdir().unwrap();
    let d = d.path();
    let _image = TestImage::named(owner, "gems", "");
    let repo = d.join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    git(&repo, &["commit", "-q", "--allow-empty", "-m", "one"]);
    let wiki = d.join("wiki");
    std::fs::create_dir(&wiki).unwrap();
    git(&wiki, &["init", "-q"]);
    let hook = |out: &str, gems: &str, applets: &str, ts: &str| {
        let cfg = d.join(out);
        std::fs::create_dir_all(&cfg).unwrap();
        let config = hierarchy(
            &cfg,
            owner,
            &format!(
                "  gems:\n    taggers: [commit_sha]\n    manifests:\n      - name: ruby_gems\n        heading: Ruby gems\n        commands: [[printf, '{gems}']]\n      - name: applets\n        heading: Applets\n        commands: [[printf, '{applets}']]\n"
            ),
        );
        let (c, _, err) = run(stacktag_config(owner, &config)
            .args(["hook", "gems", "--timestamp", ts, "--repo-dir"])
            .arg(&repo)
            .arg("--out-dir")
            .arg(d.join(out)));
        assert_eq!(c, 0, "{err}");
        let (c, _, err) = run(stacktag_config(owner, &config)
            .args(["wiki", "--repository", "stacktag/tests", "--wiki-dir"])
            .arg(&wiki)
            .arg("--hist-lines-dir")
            .arg(d.join(out).join("hist_lines"))
            .arg("--manifests-dir")
            .arg(d.join(out).join("manifests"))
            .arg("--repo-dir")
            .arg(&repo));
        assert_eq!(c, 0, "{err}");
        std::fs::read_dir(d.join(out).join("manifests"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path()
    };
    let m1 = hook(
        "one",
        "rails 7.1.3\\nrake 13.1.0\\n",
        "ls\\ncat\\n",
        "2026-11-22T10:00:00Z",
    );
    git(&repo, &["commit", "-q", "--allow-empty", "-m", "two"]);
    let m2 = hook(
        "two",
        "rails 7.2.0\\nrack 3.0.9\\n",
        "ls\\nvi\\n",
        "2026-11-23T10:00:00Z",
    );
    let md = std::fs::read_to_string(&m2).unwrap();
    assert!(md.contains("## Ruby gems\n\n`printf"), "{md}");

    let (c, stdout, err) = run(stacktag(owner)
        .arg("diff")
        .arg(&m1)
        .arg(&m2)
        .args(["--format", "json"]));
    assert_eq!(c, 0, "{err}");
    let got: Value = serde_json::from_str(&stdout).unwrap();
    let declared: Vec<&Value> = got["sections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["section"] == "Ruby gems" || s["section"] == "Applets")
        .collect();
    assert_eq!(
        json!(declared),
        json!([
            { "section": "Applets", "kind": "lines", "added": [{ "name": "vi", "version": "" }], "removed": [{ "name": "cat", "version": "" }], "changed": [] },
            { "section": "Ruby gems", "kind": "packages", "added": [{ "name": "rack", "version": "3.0.9" }], "removed": [{ "name": "rake", "version": "13.1.0" }], "changed": [{ "name": "rails", "old": "7.1.3", "new": "7.2.0" }] },
        ]),
        "{stdout}"
    );
    assert_eq!(got["not_compared"], json!([]));
    let (_, md, _) = run(stacktag(owner).arg("diff").arg(&m1).arg(&m2));
    assert!(
        md.contains("## Ruby gems\n\n1 added, 1 removed, 1 changed\n"),
        "{md}"
    );

    // The catalog: the gems under their section's manager.
    let (c, stdout, err) = run(stacktag(owner)
        .args([
            "find",
            "ruby-gems:rails>=7.2",
            "--format",
            "json",
            "--catalog",
        ])
        .arg(&wiki));
    assert_eq!(c, 0, "{err}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["total"], 1, "{stdout}");
    assert_eq!(doc["builds"][0]["matched"][0]["version"], "7.2.0");
    assert_eq!(doc["builds"][0]["timestamp"], "2026-11-23T10:00:00Z");
}
