//! The command line as a user meets it: the manual, validation, explain.

use crate::support::*;

/// `--help` is the manual: its text is pinned. UPDATE_GOLDEN=1 rewrites it.
fn golden(name: &str, actual: &str) {
    let path = repo_root().join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        actual,
        expected,
        "{} differs (UPDATE_GOLDEN=1 to accept)",
        path.display()
    );
}

#[test]
fn help_is_the_manual() {
    for (args, file) in [
        (&["--help"][..], "help.txt"),
        (&["help", "hook"][..], "help-hook.txt"),
        (&["help", "wiki"][..], "help-wiki.txt"),
        (&["help", "build"][..], "help-build.txt"),
    ] {
        let out = stacktag("t-help")
            .args(args)
            .env("COLUMNS", "100")
            .output()
            .unwrap();
        assert_eq!(code(&out), 0);
        golden(file, &text(&out.stdout));
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
        stdout.contains("\n        pytorch-notebook (variants: cuda11, cuda12)\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\n          all-spark-notebook\n"),
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
    let out = stacktag("t-list").arg("list").output().unwrap();
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
            "apt_packages",
            "julia_packages",
            "pip_packages",
            "python_packages",
            "r_packages",
            "spark_info",
        ]
    );
}
