//! A stack that is not the demo, as a new user meets it: its own git
//! repository, its own hierarchy.yaml with a declared tagger, its own image
//! names (busybox-based, on the real daemon), the wiki and its site.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::*;

const TIMESTAMP: &str = "2026-11-22T23:48:58Z";

/// Images `{DEMO_REGISTRY}/{owner}/{name}:latest` of the test's own, removed
/// with their tags when dropped.
struct OwnImages {
    owner: String,
    names: Vec<String>,
}

impl OwnImages {
    fn build(owner: &str, images: &[(&str, &str)]) -> OwnImages {
        ensure_busybox();
        for (name, lines) in images {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(
                dir.path().join("Dockerfile"),
                format!("FROM {BUSYBOX}\n{lines}\n"),
            )
            .unwrap();
            let tag = format!("{DEMO_REGISTRY}/{owner}/{name}:latest");
            docker(&["build", "-q", "-t", &tag, dir.path().to_str().unwrap()]);
        }
        OwnImages {
            owner: owner.into(),
            names: images.iter().map(|(n, _)| n.to_string()).collect(),
        }
    }

    fn name(&self, image: &str) -> String {
        format!("{DEMO_REGISTRY}/{}/{image}", self.owner)
    }
}

impl Drop for OwnImages {
    fn drop(&mut self) {
        for n in &self.names {
            for t in own_tags(&self.name(n)) {
                let _ = Command::new("docker")
                    .args(["rmi", "--no-prune", &t])
                    .output();
            }
        }
    }
}

/// A git repository on branch `master` with one commit and `hierarchy.yaml`.
fn stack_repo(dir: &Path, hierarchy: &str) {
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "init.defaultBranch=master",
            ])
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
    };
    git(&["init", "-q"]);
    std::fs::write(dir.join("hierarchy.yaml"), hierarchy).unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-qm", "My stack"]);
}

/// `stacktag` run inside the user's repository, no --config.
fn user(run_id: &str, dir: &Path, args: &[&str]) -> Output {
    stacktag(run_id)
        .current_dir(dir)
        .env("STACKTAG_TIMESTAMP", TIMESTAMP)
        .args(args)
        .output()
        .unwrap()
}

fn stack(owner: &str) -> String {
    format!(
        "registry: {DEMO_REGISTRY}\nowner: {owner}\nrepository: me/own-stack\nimages:\n  \
         u2base:\n    taggers: [commit_sha, os_release_id]\n    manifests: [busybox_applets]\n  \
         u2node:\n    parent: u2base\n    dockerfile: node.Dockerfile\n    taggers:\n      \
         - name: node_version\n        command: [cat, /etc/node-version]\n        \
         pattern: '^v(?P<version>\\d+\\.\\d+\\.\\d+)$'\n        prefix: node\n  \
         u2ruby:\n    parent: u2base\n    context: docker/ruby\n"
    )
    .replace(
        "taggers: [commit_sha, os_release_id]\n    manifests: [busybox_applets]",
        "taggers:\n      - commit_sha\n      - name: os_release_id\n        command: [cat, /etc/os-id]\n        pattern: '^(?P<version>[a-z]+-\\d+)$'\n        prefix: os\n    manifests:\n      - name: busybox_applets\n        heading: Busybox\n        commands: [[busybox, --list]]",
    )
}

#[test]
fn no_hierarchy_here_is_an_error_not_the_demo_stack() {
    let empty = tempfile::tempdir().unwrap();
    for args in [&["check"][..], &["hook", "--all"]] {
        let out = user("t-own-none", empty.path(), args);
        assert_eq!(code(&out), 3, "{args:?}: {}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(
            err.contains(&format!("no hierarchy.yaml in {}", empty.path().display())),
            "{err}"
        );
        assert!(err.contains("--config FILE"), "{err}");
        assert!(!text(&out.stdout).contains("docker-stacks-foundation"));
    }
    let out = stacktag("t-own-none")
        .current_dir(empty.path())
        .args(["--config", "nope.yaml", "check"])
        .output()
        .unwrap();
    assert_eq!(
        code(&out),
        8,
        "a missing --config file is a file that cannot be read"
    );
    assert!(text(&out.stderr).contains("cannot read the hierarchy file nope.yaml"));
}

#[test]
fn check_shows_each_reference_and_the_defaults_it_used() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("hierarchy.yaml"),
        "images:\n  u2base: {}\n  u2go:\n    parent: u2base\n",
    )
    .unwrap();
    let out = user("t-own-check", dir.path(), &["check"]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("hierarchy.yaml: 2 images, valid\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  registry: quay.io  (default: not set in the file)\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  repository: jupyter/docker-stacks  (default: not set in the file)\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\n    u2go  quay.io/jupyter/u2go:latest\n"),
        "{stdout}"
    );
    let one = std::fs::write(dir.path().join("hierarchy.yaml"), "images:\n  u2base: {}\n");
    one.unwrap();
    let out = user("t-own-check", dir.path(), &["check"]);
    assert!(text(&out.stdout).starts_with("hierarchy.yaml: 1 image, valid\n"));
}

#[test]
fn all_with_missing_images_does_nothing_and_names_every_one() {
    let owner = "t-own-missing";
    let images = OwnImages::build(owner, &[("u2base", "RUN echo debian-12 > /etc/os-id")]);
    let dir = tempfile::tempdir().unwrap();
    stack_repo(dir.path(), &stack(owner));
    let out = user(
        "t-own-missing",
        dir.path(),
        &["hook", "--all", "--out-dir", "out"],
    );
    assert_eq!(code(&out), 4, "{}", text(&out.stderr));
    let err = text(&out.stderr);
    for missing in ["u2node", "u2ruby"] {
        assert!(
            err.contains(&format!("image {}:latest not found", images.name(missing))),
            "{err}"
        );
    }
    assert!(err.contains("stacktag build u2node"), "{err}");
    assert!(!dir.path().join("out").exists(), "nothing written");
    assert_eq!(
        own_tags(&images.name("u2base")),
        [format!("{}:latest", images.name("u2base"))]
    );
    assert_no_containers("t-own-missing");
}

#[test]
fn a_stack_of_ones_own_is_tagged_and_a_failure_says_what_was_tagged() {
    let owner = "t-own-stack";
    let images = OwnImages::build(
        owner,
        &[
            ("u2base", "RUN echo debian-12 > /etc/os-id"),
            (
                "u2node",
                "RUN echo debian-12 > /etc/os-id && echo v18.20.4 > /etc/node-version",
            ),
            // No /etc/os-id: the tagger it inherits from u2base fails here only.
            ("u2ruby", ""),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    stack_repo(dir.path(), &stack(owner));
    let sha = String::from_utf8(
        Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(dir.path())
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let sha = sha.trim();

    let out = user(
        "t-own-stack",
        dir.path(),
        &["hook", "--all", "--out-dir", "out", "--jobs", "2"],
    );
    assert_eq!(code(&out), 5, "{}", text(&out.stderr));
    let (stdout, err) = (text(&out.stdout), text(&out.stderr));
    // What worked is printed and kept; what failed says why and where.
    assert!(
        stdout.contains(&format!(
            "  {}:x86_64-node-18.20.4\n",
            images.name("u2node")
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "  {}:x86_64-os-debian-12\n",
            images.name("u2base")
        )),
        "{stdout}"
    );
    assert!(
        err.contains("u2ruby: tagger `os_release_id` (inherited from image `u2base`, hierarchy.yaml:8) failed"),
        "{err}"
    );
    assert!(err.contains("`cat /etc/os-id` exited with 1"), "{err}");
    assert!(
        err.ends_with(
            "1 of 3 images not tagged (u2ruby); tagged, with their files written: u2base, u2node\n"
        ),
        "{err}"
    );
    assert!(images.extra_free("u2ruby"), "u2ruby got no tag");
    assert_no_containers("t-own-stack");

    // The files: the declared manifest section, and the Dockerfile links the hierarchy names.
    let out_dir = dir.path().join("out");
    let stem = format!("x86_64-default-u2node-{}", &sha[..12]);
    let manifest = std::fs::read_to_string(out_dir.join(format!("manifests/{stem}.md"))).unwrap();
    assert!(
        manifest.contains("\n## Busybox\n\n`busybox --list`:\n\n```text\n"),
        "{manifest}"
    );
    assert!(manifest.contains(&format!("(https://github.com/me/own-stack/commit/{sha})")));
    let line = std::fs::read_to_string(out_dir.join(format!("hist_lines/{stem}.txt"))).unwrap();
    assert!(line.contains(&format!("[Dockerfile](https://github.com/me/own-stack/blob/{sha}/images/u2node/node.Dockerfile)")), "{line}");
    let tags = std::fs::read_to_string(out_dir.join("tags/x86_64-default-u2node.txt")).unwrap();
    assert_eq!(
        tags,
        [
            "x86_64-latest".to_string(),
            format!("x86_64-{}", &sha[..12]),
            "x86_64-os-debian-12".into(),
            "x86_64-node-18.20.4".into()
        ]
        .map(|t| format!("{}:{t}", images.name("u2node")))
        .join("\n")
    );

    // The wiki: a git checkout is required; links name the stack's branch.
    let wiki = dir.path().join("wiki");
    std::fs::create_dir(&wiki).unwrap();
    let wiki_args = |extra: &[&str]| -> Output {
        let mut args = vec![
            "wiki",
            "--wiki-dir",
            "wiki",
            "--hist-lines-dir",
            "out/hist_lines",
            "--manifests-dir",
            "out/manifests",
        ];
        args.extend_from_slice(extra);
        user("t-own-stack", dir.path(), &args)
    };
    let out = wiki_args(&[]);
    assert_eq!(code(&out), 8, "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("wiki: is not a git checkout"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("git clone https://github.com/me/own-stack.wiki.git"));
    git2::Repository::init(&wiki).unwrap();
    let out = wiki_args(&["--html", "site"]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let home = std::fs::read_to_string(wiki.join("Home.md")).unwrap();
    assert!(
        home.contains("https://github.com/me/own-stack/commits/master/?since=2026-11-01"),
        "{home}"
    );
    assert!(
        home.contains("from stacktag's built-in Home template"),
        "{home}"
    );
    let site = dir.path().join("site");
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(
        index.contains("<nav><a href=\"./index.html\">Home</a> <a class=\"search\" href=\"./search.html\">Search builds</a></nav>"),
        "{index}"
    );
    let page = std::fs::read_to_string(site.join(format!("{stem}.html"))).unwrap();
    assert!(
        page.contains("<a href=\"./2026-11.html\">Builds of 2026-11</a>"),
        "{page}"
    );
    let css = std::fs::read_to_string(site.join("style.css")).unwrap();
    assert!(
        !css.contains("max-height"),
        "package lists scroll with the page"
    );
}

/// A hierarchy that names a plugin's tagger, run by the stock binary: every
/// image that does not need the plugin is tagged, one warning says which do,
/// and only those fail, naming the binary to use.
#[test]
fn the_stock_binary_runs_every_image_that_does_not_need_a_plugin() {
    let owner = "t-own-plugin";
    let images = OwnImages::build(
        owner,
        &[
            ("u2base", "RUN echo debian-12 > /etc/os-id"),
            ("u2node", "RUN echo v20.1.0 > /etc/node-version"),
            ("u2kid", ""),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    stack_repo(
        dir.path(),
        &format!(
            "registry: {DEMO_REGISTRY}\nowner: {owner}\nrepository: me/own-stack\nimages:\n  \
             u2base:\n    taggers: [commit_sha]\n  u2node:\n    parent: u2base\n    \
             taggers: [node_version]\n  u2kid:\n    parent: u2node\n  u2other:\n    parent: u2base\n"
        ),
    );
    // Commands that run no tagger: the warning, once.
    let out = user(owner, dir.path(), &["check", "--images"]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "u2base\nu2node\nu2other\nu2kid\n");
    let err = text(&out.stderr);
    assert_eq!(
        err.matches("not in this stacktag binary").count(),
        1,
        "{err}"
    );
    assert!(
        err.contains("hierarchy.yaml:9: image `u2node`: tagger `node_version`"),
        "{err}"
    );
    // `check` itself passes: the file is valid for a binary that has the plugin.
    let out = user(owner, dir.path(), &["check"]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));

    // The hook: u2base is tagged; u2node and its child u2kid fail, by name.
    let out = user(
        owner,
        dir.path(),
        &["hook", "u2base", "u2node", "u2kid", "--out-dir", "out"],
    );
    let err = text(&out.stderr);
    assert_eq!(code(&out), 3, "{err}");
    assert_eq!(
        err.matches("not in this stacktag binary").count(),
        1,
        "{err}"
    );
    assert!(
        err.contains("image `u2node` needs tagger `node_version` (line 9), which this stacktag binary (stacktag) does not have"),
        "{err}"
    );
    assert!(
        err.contains("image `u2kid` needs tagger `node_version` (line 9, from `u2node`)"),
        "{err}"
    );
    assert!(
        err.contains(
            "the stacktag binary built with the plugin crate that registers `node_version`"
        ),
        "{err}"
    );
    assert!(
        err.contains("2 of 3 images not tagged (u2node, u2kid)"),
        "{err}"
    );
    assert!(dir
        .path()
        .join("out/tags/x86_64-default-u2base.txt")
        .is_file());
    assert!(!dir
        .path()
        .join("out/tags/x86_64-default-u2node.txt")
        .exists());
    assert!(images.extra_free("u2node") && images.extra_free("u2kid"));
    assert_no_containers(owner);
    // One image that needs it, asked alone: its error is the whole story.
    let out = user(
        owner,
        dir.path(),
        &["tags-file", "--image", "u2kid", "--out-dir", "out"],
    );
    assert_eq!(code(&out), 3, "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("image `u2kid` needs tagger `node_version`"));
}

impl OwnImages {
    /// No tag but `latest` on the image.
    fn extra_free(&self, image: &str) -> bool {
        own_tags(&self.name(image)) == [format!("{}:latest", self.name(image))]
    }
}

#[test]
fn outside_a_git_repository_the_error_says_so_plainly() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hierarchy.yaml"), "images:\n  u2base: {}\n").unwrap();
    let out = user("t-own-git", dir.path(), &["hook", "u2base"]);
    assert_eq!(code(&out), 7, "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("not a git repository"), "{err}");
    assert!(!err.contains("class="), "git2's raw codes stay out: {err}");
    assert!(
        err.contains("hierarchy.yaml sets no `repository`"),
        "the default repository is said where links are written: {err}"
    );
}
