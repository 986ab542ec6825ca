//! The command line as a user meets it: the manual, validation, explain.

use crate::support::*;

/// `--help` is the manual: the top level's and every command's text is
/// pinned, and each command's says what it does, its exit codes and examples.
#[test]
fn help_is_the_manual() {
    let top = stacktag("t-help")
        .arg("--help")
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    assert_eq!(code(&top), 0);
    golden("help.txt", &text(&top.stdout));
    let commands: Vec<String> = text(&top.stdout)
        .split("Commands:\n")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|l| l.starts_with("  "))
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|c| c != "help")
        .collect();
    assert!(commands.len() >= 11, "{commands:?}");
    for c in commands {
        let out = stacktag("t-help")
            .args(["help", &c])
            .env("COLUMNS", "100")
            .output()
            .unwrap();
        assert_eq!(code(&out), 0, "help {c}");
        let manual = text(&out.stdout);
        for part in [
            "Usage: stacktag ",
            "Exit codes:\n  0    success\n",
            "Examples:\n  stacktag ",
        ] {
            assert!(
                manual.contains(part),
                "`stacktag help {c}` lacks {part:?}:\n{manual}"
            );
        }
        golden(&format!("help-{c}.txt"), &manual);
    }
}

#[test]
fn bad_command_line_exit_2() {
    let out = stacktag("t-usage")
        .args(["hook", "--no-such-flag"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert!(text(&out.stderr).contains("--no-such-flag"));
}

#[test]
fn check_validates_the_upstream_tree() {
    let out = stacktag("t-check")
        .args(["check", "--config", "examples/docker-stacks/hierarchy.yaml"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("examples/docker-stacks/hierarchy.yaml: 11 images, valid\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\n          pytorch-notebook (variants: cuda11, cuda12)  quay.io/jupyter/pytorch-notebook:latest\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "\n            all-spark-notebook  quay.io/jupyter/all-spark-notebook:latest\n"
        ),
        "{stdout}"
    );
}

#[test]
fn explain_shows_where_each_tagger_comes_from() {
    let out = stacktag("t-explain")
        .args(["explain", "r-notebook"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(
            "chain: docker-stacks-foundation -> base-notebook -> minimal-notebook -> r-notebook\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("    commit_sha           from docker-stacks-foundation\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("    r_version            from r-notebook\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("    r_packages           from r-notebook\n"),
        "{stdout}"
    );
    let chain = stacktag("t-explain")
        .args(["explain", "--chain", "r-notebook"])
        .output()
        .unwrap();
    assert_eq!(
        text(&chain.stdout),
        "docker-stacks-foundation\nbase-notebook\nminimal-notebook\nr-notebook\n"
    );
}

#[test]
fn list_has_every_built_in() {
    // A stack of its own: the list is the binary's built-ins and what this file declares.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hierarchy.yaml");
    std::fs::write(
        &config,
        "images:\n  box:\n    taggers:\n      - name: box_version\n        command: [busybox, --help]\n        pattern: 'BusyBox v(?P<version>[0-9.]+)'\n        prefix: busybox\n",
    )
    .unwrap();
    let out = stacktag_config("t-list", &config)
        .arg("list")
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let names: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        names,
        [
            "commit_sha",
            "conda_version",
            "date",
            "hub_version",
            "java_version",
            "julia_version",
            "lab_version",
            "mamba_version",
            "notebook_version",
            "os_version",
            "python_major_minor",
            "python_version",
            "pytorch_version",
            "r_version",
            "spark_version",
            "tensorflow_version",
            "box_version",
            "apt_packages",
            "julia_packages",
            "pip_packages",
            "python_packages",
            "r_packages",
            "spark_info",
        ]
    );
}

/// One mistake, one message: a declared tagger whose pattern has no
/// `version` group is said once (no "unknown tagger" and plugin hint for the
/// image that uses it), and a tab used as indentation is named as a tab.
#[test]
fn a_hierarchy_mistake_is_one_message() {
    let dir = tempfile::tempdir().unwrap();
    let run = |yaml: &str| {
        let path = dir.path().join("hierarchy.yaml");
        std::fs::write(&path, yaml).unwrap();
        let out = stacktag_config("t-one-message", &path)
            .arg("check")
            .output()
            .unwrap();
        assert_eq!(code(&out), 3, "{}", report(&out));
        assert!(out.stdout.is_empty(), "{}", report(&out));
        text(&out.stderr)
    };
    let err = run("images:\n  a:\n    taggers:\n      - name: x_version\n        command: [x, --version]\n        pattern: 'x (?P<v>\\d+)'\n        prefix: x\n  b:\n    parent: a\n    taggers: [x_version]\n");
    assert_eq!(
        err,
        format!(
            "stacktag: error: {}:6: image `a`: tagger `x_version`: pattern `x (?P<v>\\d+)` has no `(?P<version>...)` group: name the part that is the version\n",
            dir.path().join("hierarchy.yaml").display()
        )
    );
    let err = run("images:\n  a:\n\ttaggers: [date]\n");
    assert_eq!(
        err,
        format!(
            "stacktag: error: {}:3: a tab is used for indentation: YAML indents with spaces only\n",
            dir.path().join("hierarchy.yaml").display()
        )
    );
}
