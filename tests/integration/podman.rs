//! Podman as the engine: build with reuse and early cutoff, hook with its
//! cache, save and load, through Podman's Docker-compatible API.
//! `make test-podman` starts Debian's podman on a socket of its own
//! (scripts/podman-up, without catatonit, so stacktag's fallback to no init
//! process is what runs) and runs these with DOCKER_HOST at that socket, for
//! stacktag and for the docker CLI oracle alike. Ignored in `make test`,
//! which has Docker only.

use std::process::Command;

use crate::build::Stack;
use crate::support::*;

/// Refuses to pass on Docker: these tests are about Podman.
fn engine_is_podman() {
    let components = docker(&[
        "version",
        "--format",
        "{{range .Server.Components}}{{.Name}};{{end}}",
    ]);
    assert!(
        components.contains("Podman"),
        "not Podman ({components}); run `make test-podman`"
    );
}

const NO_INIT: &str = "has no init process";

#[test]
#[ignore = "needs Podman: make test-podman"]
fn podman_builds_reuses_hooks_saves_and_loads() {
    engine_is_podman();
    let s = Stack::new(
        "podman",
        "  pbase:\n    taggers:\n      - date\n      - name: os_release_id\n        command: [cat, /etc/os-id]\n        pattern: '^(?P<version>[a-z]+-\\d+)$'\n        prefix: os\n  pkid:\n    parent: pbase\n",
        &[
            (
                "images/pbase/Dockerfile",
                &format!("FROM {BUSYBOX}\nRUN echo debian-12 > /etc/os-id\n"),
            ),
            (
                "images/pkid/Dockerfile",
                "ARG REGISTRY\nARG OWNER\nFROM $REGISTRY/$OWNER/pbase\nCOPY kid.txt /kid.txt\n",
            ),
            ("images/pkid/kid.txt", "kid\n"),
        ],
    );
    let config = s.path().join("hierarchy.yaml");

    // Build, then build again: everything reused, no build.
    s.build_ok(&["--all"]);
    let (base, kid) = (s.id("pbase").unwrap(), s.id("pkid").unwrap());
    let out = s.build(&["--all"]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for image in ["pbase", "pkid"] {
        assert!(
            stdout.contains(&format!("{}:latest: reused", s.name(image))),
            "{stdout}"
        );
    }
    assert!(
        !text(&out.stderr).contains("building"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        (s.id("pbase").unwrap(), s.id("pkid").unwrap()),
        (base.clone(), kid.clone())
    );
    // Early cutoff through Podman's builder too: a comment rebuilds the root
    // from its layer cache to the same image, and the child is reused.
    s.append("images/pbase/Dockerfile", "# only a comment\n");
    let stdout = s.build_ok(&["--all"]);
    assert!(
        stdout.contains(": rebuilt, same image: children reused\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{}:latest: reused", s.name("pkid"))),
        "{stdout}"
    );
    assert_eq!(
        (s.id("pbase").unwrap(), s.id("pkid").unwrap()),
        (base, kid.clone())
    );

    // Hook: without catatonit, each container runs with the keep-alive
    // program as PID 1, and the run says so once.
    let hook = |run: &str| {
        stacktag_config(run, &config)
            .args(["hook", "--all", "--out-dir"])
            .arg(s.path().join("out"))
            .args(["--cache-dir"])
            .arg(s.path().join("hook-cache"))
            .output()
            .unwrap()
    };
    let out = hook("wtpodman-hook-1");
    let err = text(&out.stderr);
    assert_eq!(code(&out), 0, "{err}");
    assert_eq!(err.matches(NO_INIT).count(), 1, "{err}");
    assert!(err.contains("catatonit"), "{err}");
    let tags = std::fs::read_to_string(s.path().join("out/tags/x86_64-default-pkid.txt")).unwrap();
    assert!(
        tags.contains(&format!("{}:x86_64-os-debian-12", s.name("pkid"))),
        "{tags}"
    );
    assert_no_containers("wtpodman-hook-1");
    // The hook's cache: the same images again start no container at all.
    let out = hook("wtpodman-hook-2");
    let err = text(&out.stderr);
    assert_eq!(code(&out), 0, "{err}");
    for image in ["pbase", "pkid"] {
        assert!(
            err.contains(&format!(
                "{image}: 1 command, all from the cache: no container started"
            )),
            "{err}"
        );
    }
    assert!(!err.contains(NO_INIT), "{err}");
    assert_eq!(
        std::fs::read_to_string(s.path().join("out/tags/x86_64-default-pkid.txt")).unwrap(),
        tags
    );

    // Save, remove, load: the same image back.
    let archives = s.path().join("archives");
    let out = stacktag_config("wtpodman-save", &config)
        .args(["save", "pkid", "--dir"])
        .arg(&archives)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let (archive, id) = stdout.lines().next().unwrap().split_once(' ').unwrap();
    assert_eq!(id, kid);
    let rmi = Command::new("docker")
        .args(["rmi", "--force", &kid])
        .output()
        .unwrap();
    assert!(rmi.status.success(), "{}", text(&rmi.stderr));
    assert_eq!(s.id("pkid"), None);
    let out = stacktag_config("wtpodman-load", &config)
        .args(["load", archive])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert_eq!(s.id("pkid").as_deref(), Some(kid.as_str()));
}
