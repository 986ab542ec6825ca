//! A tagger from outside the crate: examples/plugin-tagger depends on the
//! stacktag library, registers its own tagger with inventory, builds its own
//! binary, and that binary tags a demo image.

use std::process::Command;

use crate::support::*;

#[test]
fn plugin_crate_builds_and_tags_a_demo_image() {
    let root = repo_root();
    // Its own target dir: the test run holds the lock on ours.
    let target = root.join("target/example-plugin");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let build = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "--manifest-path",
            "examples/plugin-tagger/Cargo.toml",
        ])
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(build.status.success(), "{}", text(&build.stderr));

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hierarchy.yaml");
    std::fs::write(
        &config,
        "registry: localhost:5000\nowner: stacktag\nimages:\n  docker-stacks-foundation:\n    taggers: [os_version, debian_version]\n",
    )
    .unwrap();
    let run = "t-plugin";
    let out = Command::new(target.join("debug/my-stacktag"))
        .env("STACKTAG_RUN_ID", run)
        .current_dir(&root)
        .arg("--config")
        .arg(&config)
        .args([
            "tags-file",
            "--image",
            "docker-stacks-foundation",
            "--out-dir",
        ])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert_no_containers(run);

    let debian = oracle(
        "localhost:5000/stacktag/docker-stacks-foundation:latest",
        &["cat", "/etc/debian_version"],
    );
    let tags = std::fs::read_to_string(
        dir.path()
            .join("out/tags/x86_64-default-docker-stacks-foundation.txt"),
    )
    .unwrap();
    assert_eq!(
        tags.lines().last().unwrap(),
        format!(
            "localhost:5000/stacktag/docker-stacks-foundation:x86_64-debian-{}",
            debian.trim()
        )
    );

    // The plugin's tagger is listed beside the built-ins.
    let list = Command::new(target.join("debug/my-stacktag"))
        .arg("list")
        .output()
        .unwrap();
    assert!(
        text(&list.stdout).contains("  debian_version "),
        "{}",
        text(&list.stdout)
    );
}

/// `make plugin-template`: a new crate from the example, with stacktag's own
/// Cargo.lock, that builds without a warning (stacktag's code included: a
/// newer rustls than stacktag's lock once made it warn twice).
#[test]
fn the_plugin_template_builds_warning_free_with_stacktags_lock_file() {
    let root = repo_root();
    let dir = tempfile::tempdir().unwrap();
    let krate = dir.path().join("wt-tagger");
    let make = Command::new("make")
        .args(["--no-print-directory", "plugin-template"])
        .arg(format!("DIR={}", krate.display()))
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(make.status.success(), "{}", text(&make.stderr));
    let lock = |p: &std::path::Path| std::fs::read_to_string(p.join("Cargo.lock")).unwrap();
    assert_eq!(lock(&krate), lock(&root), "not stacktag's lock file");
    // A folder with something in it is refused, and left as it was.
    let again = Command::new(root.join("scripts/plugin-template"))
        .arg(&krate)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("is not empty"),
        "{}",
        text(&again.stderr)
    );

    // The example's target dir: stacktag's compiled code is shared with it.
    let target = root.join("target/example-plugin");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let build = Command::new(cargo)
        .args(["build", "--quiet", "--offline", "--manifest-path"])
        .arg(krate.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    let err = text(&build.stderr);
    assert!(build.status.success(), "{err}");
    assert!(!err.contains("warning"), "{err}");
    // Every package both lock files name has the version stacktag's has.
    let versions = |text: &str| -> Vec<(String, String)> {
        text.split("[[package]]")
            .filter_map(|p| {
                let field = |k: &str| {
                    p.lines()
                        .find_map(|l| l.strip_prefix(&format!("{k} = \"")))
                        .map(|v| v.trim_end_matches('"').to_string())
                };
                Some((field("name")?, field("version")?))
            })
            .collect()
    };
    let ours = versions(&lock(&root));
    for (name, version) in versions(&lock(&krate)) {
        if name != "wt-tagger" && name != "stacktag" {
            assert!(
                ours.contains(&(name.clone(), version.clone())),
                "{name} {version} is not in stacktag's Cargo.lock"
            );
        }
    }
    let list = Command::new(target.join("debug/wt-tagger"))
        .arg("list")
        .output()
        .unwrap();
    assert!(
        text(&list.stdout).contains("  debian_version "),
        "{}",
        text(&list.stdout)
    );
}
