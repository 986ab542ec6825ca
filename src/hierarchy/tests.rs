use std::time::Duration;

use super::names::is_image_name;
use super::*;

fn parse(text: &str) -> Result<Hierarchy, ConfigError> {
    Hierarchy::parse(text, Path::new("h.yaml"))
}

#[test]
fn children_inherit_root_first_and_rerun() {
    let h = parse(
        "registry: r\nowner: o\nimages:\n  root:\n    taggers: [commit_sha, date]\n    manifests: [apt_packages]\n  child:\n    parent: root\n    taggers: [python_version]\n    manifests: [pip_packages]\n",
    )
    .unwrap();
    let r = h.resolve("child").unwrap();
    assert_eq!(r.chain, ["root", "child"]);
    let names: Vec<_> = r
        .taggers
        .iter()
        .map(|t| (t.name.as_str(), t.from.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("commit_sha", "root"),
            ("date", "root"),
            ("python_version", "child")
        ]
    );
    let m: Vec<_> = r.manifests.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(m, ["apt_packages", "pip_packages"]);
}

#[test]
fn unknown_parent_names_file_and_line() {
    let e = parse("images:\n  a:\n    taggers: [date]\n  b:\n    parent: nope\n").unwrap_err();
    assert_eq!(e.line, 5, "{e}");
    assert!(
        e.to_string()
            .starts_with("h.yaml:5: image `b` has parent `nope`"),
        "{e}"
    );
}

#[test]
fn cycle_is_reported() {
    let e = parse("images:\n  a:\n    parent: b\n  b:\n    parent: a\n").unwrap_err();
    assert!(e.message.contains("cycle: a -> b -> a"), "{e}");
    assert_eq!(e.line, 2);
}

#[test]
fn duplicate_image_points_at_second() {
    let e = parse("images:\n  a: {}\n  b: {}\n  a: {}\n").unwrap_err();
    assert_eq!(e.line, 4, "{e}");
    assert!(
        e.message
            .starts_with("`a` is given twice in this map (first on line 2)"),
        "{e}"
    );
}

#[test]
fn a_tab_is_named_as_a_tab() {
    let e = parse("images:\n  a:\n\ttaggers: [date]\n").unwrap_err();
    assert_eq!(e.line, 3, "{e}");
    assert!(e.message.contains("a tab is used for indentation"), "{e}");
}

#[test]
fn lines_are_the_parsers_not_a_search_of_the_text() {
    // `refresh:` inside the block scalar above is text, not the key.
    let e =
        parse("images:\n  a:\n    verify: |\n      refresh: 1\n    refresh: weekly\n").unwrap_err();
    assert_eq!(e.line, 5, "{e}");
    // The same misspelt name in two images: each at its own line.
    let e =
        parse("images:\n  a:\n    taggers: [datee]\n  b:\n    parent: a\n    taggers: [datee]\n")
            .unwrap_err();
    let lines: Vec<usize> = std::iter::once(e.line)
        .chain(e.more.iter().map(|m| m.line))
        .collect();
    assert_eq!(lines, [3, 6], "{e}");
}

#[test]
fn a_broken_declared_tagger_is_one_problem_not_also_unknown() {
    let e = parse("images:\n  a:\n    taggers:\n      - name: x_version\n        command: [x, --version]\n        pattern: 'x (?P<v>\\d+)'\n        prefix: x\n  b:\n    parent: a\n    taggers: [x_version]\n")
        .unwrap_err();
    assert!(e.more.is_empty(), "{e}");
    assert_eq!(e.line, 6, "{e}");
    assert!(e.message.contains("has no `(?P<version>...)` group"), "{e}");
}

#[test]
fn cycle_is_found_from_the_parents_not_from_messages() {
    // A misspelt tagger elsewhere does not hide the cycle.
    let e =
        parse("images:\n  a:\n    parent: b\n  b:\n    parent: a\n  c:\n    taggers: [datee]\n")
            .unwrap_err();
    assert!(e.to_string().contains("cycle: a -> b -> a"), "{e}");
}

#[test]
fn unknown_tagger_lists_known_ones_and_guesses() {
    let e =
        parse("images:\n  a:\n    taggers:\n      - date\n      - pyhton_version\n").unwrap_err();
    assert_eq!(e.line, 5, "{e}");
    assert!(
        e.message
            .contains("unknown tagger `pyhton_version` (did you mean `python_version`?)"),
        "{e}"
    );
    assert!(e.message.contains("known taggers: commit_sha"), "{e}");
}

#[test]
fn unknown_manifest_and_bad_variant() {
    // A name close to a known one is a typo; one far from all is a plugin's.
    let e = parse("images:\n  a:\n    manifests: [apt_pakages]\n").unwrap_err();
    assert!(
        e.message.contains(
            "unknown manifest `apt_pakages` (did you mean `apt_packages`?); known manifests: apt_packages"
        ),
        "{e}"
    );
    let e = parse("images:\n  a:\n    variants: [CUDA 12]\n").unwrap_err();
    assert!(e.message.contains("bad variant name `CUDA 12`"), "{e}");
    assert_eq!(e.line, 3);
}

#[test]
fn broken_yaml_and_unknown_keys_have_lines() {
    let e = parse("images:\n  a:\n    taggers: [date\n").unwrap_err();
    assert!(e.line >= 3, "{e}");
    let e = parse("images:\n  a:\n    tagers: [date]\n").unwrap_err();
    assert_eq!(e.line, 3, "{e}");
    assert!(
        e.message
            .contains("unknown key `tagers` in image `a` (did you mean `taggers`?)"),
        "{e}"
    );
}

#[test]
fn every_problem_in_one_run() {
    let e = parse(
        "registry: \"ht tp://x\"\nimages:\n  a:\n    tagers: [date]\n  b:\n    parent: aa\n    manifests: [apt_pakages]\n",
    )
    .unwrap_err();
    let text = e.to_string();
    assert_eq!(e.more.len(), 3, "{text}");
    assert!(
        text.starts_with("h.yaml:1: `registry: ht tp://x` is not valid"),
        "{text}"
    );
    assert!(text.contains("h.yaml:4: unknown key `tagers`"), "{text}");
    assert!(text.contains("h.yaml:6: image `b` has parent `aa`, which is not described in this file (did you mean `a`?)"), "{text}");
    assert!(
        text.contains(
            "h.yaml:7: image `b`: unknown manifest `apt_pakages` (did you mean `apt_packages`?)"
        ),
        "{text}"
    );
    assert!(text.ends_with("(4 problems in h.yaml)"), "{text}");
}

#[test]
fn settings_are_checked_where_read() {
    for (text, line, want) in [
        (
            "registry: quay.io/x\n",
            1,
            "`registry: quay.io/x` is not valid",
        ),
        ("owner: Big Org\n", 1, "`owner: Big Org` is not valid"),
        (
            "repository: just-a-name\n",
            1,
            "`repository: just-a-name` is not valid",
        ),
        (
            "command_timeout: -3\n",
            1,
            "`command_timeout` must be a whole number",
        ),
        (
            "command_timeout: soon\n",
            1,
            "`command_timeout` must be a whole number",
        ),
    ] {
        let e = parse(&format!("{text}images:\n  a: {{}}\n")).unwrap_err();
        assert_eq!(e.line, line, "{e}");
        assert!(e.message.starts_with(want), "{e}");
    }
    let h = parse(
        "registry: localhost:5000\nowner: my-org/team\nrepository: me/my.stack\nimages:\n  a: {}\n",
    )
    .unwrap();
    assert_eq!(
        (h.registry.as_str(), h.owner.as_str()),
        ("localhost:5000", "my-org/team")
    );
    assert!(h.defaulted.is_empty());
    let h = parse("images:\n  a: {}\n").unwrap();
    assert_eq!(h.defaulted, ["registry", "owner", "repository"]);
}

#[test]
fn image_names_follow_docker() {
    assert!(is_image_name("base-notebook") && is_image_name("a.b_c") && is_image_name("a--b"));
    let e = parse("images:\n  Base-Notebook: {}\n").unwrap_err();
    assert!(
        e.message
            .contains("`Base-Notebook` is not a valid image name"),
        "{e}"
    );
    assert!(!is_image_name("-x") && !is_image_name("x--") && !is_image_name(""));
}

#[test]
fn declared_tagger_and_manifest() {
    let h = parse(
        "images:\n  a:\n    taggers:\n      - date\n      - name: uv_version\n        command: [uv, --version]\n        pattern: '^uv (?P<version>\\d+\\.\\d+\\.\\d+)'\n        prefix: uv\n    manifests:\n      - name: node_packages\n        heading: Node Packages\n        commands: [[npm, ls, -g, --depth=0]]\n  b:\n    parent: a\n",
    )
    .unwrap();
    let r = h.resolve("b").unwrap();
    let names: Vec<_> = r
        .taggers
        .iter()
        .map(|t| (t.name.as_str(), t.from.as_str()))
        .collect();
    assert_eq!(names, [("date", "a"), ("uv_version", "a")]);
    assert_eq!(r.manifests[0].name, "node_packages");
    let d = &h.declared_taggers[0];
    assert_eq!(
        (d.name.as_str(), d.line, d.image.as_str()),
        ("uv_version", 5, "a")
    );
    assert_eq!(
        d.rule.value("uv 0.5.2 (x86_64)\n").as_deref(),
        Some("uv-0.5.2")
    );
    assert!(h.tagger("uv_version").is_some() && h.manifest("node_packages").is_some());
}

#[test]
fn declared_rules_are_validated_with_lines() {
    let e = parse(
        "images:\n  a:\n    taggers:\n      - name: x_version\n        command: []\n        pattern: '^x (?P<v>\\d+)'\n        prefix: x\n      - name: date\n        command: [date]\n        pattern: '(?P<version>.*)'\n        prefix: d\n      - name: y\n        command: [y]\n        pattern: '(?P<version>[0-9'\n        prefix: 'has space'\n",
    )
    .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("h.yaml:5: image `a`: tagger `x_version`: a command is a non-empty list"),
        "{text}"
    );
    assert!(text.contains("h.yaml:6: image `a`: tagger `x_version`: pattern `^x (?P<v>\\d+)` has no `(?P<version>...)` group"), "{text}");
    assert!(
        text.contains("h.yaml:8: tagger `date` is declared here but is also a built-in"),
        "{text}"
    );
    assert!(
        text.contains("h.yaml:14: image `a`: tagger `y`: bad pattern"),
        "{text}"
    );
    assert!(
        text.contains("h.yaml:15: image `a`: tagger `y`: prefix `has space` cannot start"),
        "{text}"
    );
}

#[test]
fn names_this_binary_lacks_fail_only_the_images_that_need_them() {
    let text = "images:\n  a:\n    taggers: [node_version]\n  b:\n    parent: a\n  c:\n    manifests: [gem_inventory]\n  d: {}\n";
    for names in [Names::Known, Names::Any] {
        let h = Hierarchy::parse_with(text, Path::new("h.yaml"), names).unwrap();
        // One warning for the file, naming each line.
        assert_eq!(h.warnings.len(), 1, "{:?}", h.warnings);
        assert!(
            h.warnings[0].contains(
                "h.yaml:3: image `a`: tagger `node_version`, h.yaml:7: image `c`: manifest `gem_inventory`"
            ),
            "{:?}",
            h.warnings
        );
    }
    let h = parse(text).unwrap();
    let e = h.needs_missing("a").unwrap();
    assert_eq!(e.line, 3);
    assert!(
        e.message.starts_with(
            "image `a` needs tagger `node_version` (line 3), which this stacktag binary"
        ),
        "{e}"
    );
    assert!(
        e.message
            .contains("the plugin crate that registers `node_version`"),
        "{e}"
    );
    // A child inherits the need; an image that has none runs.
    let e = h.needs_missing("b").unwrap();
    assert!(
        e.message
            .contains("needs tagger `node_version` (line 3, from `a`)"),
        "{e}"
    );
    assert!(h
        .needs_missing("c")
        .unwrap()
        .message
        .contains("manifest `gem_inventory`"));
    assert!(h.needs_missing("d").is_none());
    // A near miss is still a typo, not a plugin.
    assert!(parse("images:\n  a:\n    taggers: [pyhton_version]\n").is_err());
}

#[test]
fn dockerfile_paths() {
    let h = parse("images:\n  a: {}\n  b:\n    context: docker/b\n    dockerfile: b.Dockerfile\n")
        .unwrap();
    assert_eq!(
        h.image("a").unwrap().dockerfile_path("default"),
        "images/a/Dockerfile"
    );
    assert_eq!(
        h.image("a").unwrap().dockerfile_path("cuda12"),
        "images/a/cuda12/Dockerfile"
    );
    assert_eq!(
        h.image("b").unwrap().dockerfile_path("default"),
        "docker/b/b.Dockerfile"
    );
    let e = parse("images:\n  a:\n    context: ../outside\n").unwrap_err();
    assert!(
        e.message
            .contains("must be a relative path inside the repository"),
        "{e}"
    );
}

#[test]
fn demo_stack_is_valid() {
    let text = include_str!("../../hierarchy.yaml");
    let h = parse(text).unwrap();
    assert!(h.image("base-notebook").is_some());
    assert!(
        !h.declared_taggers.is_empty(),
        "the demo uses a declared tagger"
    );
}

#[test]
fn build_keys_are_read_and_checked() {
    let h = parse("images:\n  a:\n    context: src/a\n    dockerfile: Dockerfile.x\n    build_args:\n      PY: \"3.12\"\n      N: 3\n    unhashed_build_args: [TOKEN]\n    verify: ./t.sh {image}\n    refresh: 7d\n").unwrap();
    let a = h.image("a").unwrap();
    assert_eq!(
        (a.context.as_str(), a.dockerfile.as_str()),
        ("src/a", "Dockerfile.x")
    );
    assert_eq!(
        a.build_args,
        [("PY".into(), "3.12".into()), ("N".into(), "3".into())]
    );
    assert_eq!(a.unhashed_build_args, ["TOKEN"]);
    assert_eq!(a.verify.as_deref(), Some("./t.sh {image}"));
    assert_eq!(a.refresh, Some(Duration::from_secs(7 * 86_400)));

    let e = parse("images:\n  a:\n    taggers: [date]\n    refresh: weekly\n").unwrap_err();
    assert_eq!(e.line, 4, "{e}");
    assert!(
        e.message.contains("refresh `weekly` is not a period"),
        "{e}"
    );
    let e = parse("images:\n  a:\n    build_args:\n      1X: y\n").unwrap_err();
    assert_eq!(e.line, 4, "{e}");
    assert!(e.message.contains("`1X` is not a build arg name"), "{e}");
    let e = parse("images:\n  a:\n    build_args:\n      X: [1]\n").unwrap_err();
    assert!(
        e.message.contains("build arg `X` must have a string"),
        "{e}"
    );
    let e =
        parse("images:\n  a:\n    build_args: {T: x}\n    unhashed_build_args: [T]\n").unwrap_err();
    assert!(e.message.contains("both in `build_args`"), "{e}");
    let e = parse("images:\n  a:\n    dockerfile: /abs/Dockerfile\n").unwrap_err();
    assert_eq!(e.line, 3, "{e}");
    let e = parse("images:\n  a:\n    verify: \" \"\n").unwrap_err();
    assert!(e.message.contains("`verify` is empty"), "{e}");
}

#[test]
fn sbom_keys() {
    let h = parse("sbom: true\nimages:\n  a:\n    sbom_required: [apt]\n  b:\n    parent: a\n    sbom_required: [pip, apt]\n").unwrap();
    assert!(h.sbom);
    use crate::sbom::Section;
    assert_eq!(
        h.resolve("b").unwrap().sbom_required,
        [Section::Apt, Section::Pip]
    );
    let e = parse("images:\n  a:\n    sbom_required:\n      - deb\n").unwrap_err();
    assert_eq!(e.line, 4, "{e}");
    assert!(e.message.contains("unknown SBOM section `deb` in sbom_required; known sections: apt, pip, conda, r, julia"), "{e}");
}

#[test]
fn build_proxies_and_secrets() {
    let h = parse("proxies:\n  HTTP_PROXY: http://p:3128\nimages:\n  a:\n    secrets: [tok]\n")
        .unwrap();
    assert_eq!(
        h.proxies,
        [("HTTP_PROXY".to_string(), "http://p:3128".to_string())]
    );
    assert_eq!(h.images[0].secrets, ["tok"]);
    let e = parse("proxies:\n  PROXY: x\nimages:\n  a: {}\n").unwrap_err();
    assert!(
        e.to_string()
            .contains("`PROXY` is not one of Docker's proxy args"),
        "{e}"
    );
}
