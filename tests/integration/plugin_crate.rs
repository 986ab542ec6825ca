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
