//! `stacktag build` through the daemon's BuildKit: the Dockerfile features
//! it brings, each on a tiny busybox stack of the test's own, checked with
//! the docker CLI; secrets that reach the build and nothing else; what the
//! built-in frontend rejects; the classic builder on request.

use std::process::Command;

use serde_json::Value;

use crate::build::Stack;
use crate::support::*;

const FROM_BUSYBOX: &str = "FROM stacktag-test/busybox:latest\n";

/// Unique per run: a cache mount id, a marker that no earlier run left.
fn nonce() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{}-{nanos}", std::process::id())
}

fn cat(s: &Stack, image: &str, path: &str) -> String {
    oracle(&format!("{}:latest", s.name(image)), &["cat", path])
}

fn log_of(s: &Stack, image: &str) -> String {
    std::fs::read_to_string(
        s.path()
            .join(format!("out/build-logs/x86_64-default-{image}.log")),
    )
    .unwrap()
}

/// Every byte of `docker save` of `reference` (the layers are plain tars in it).
fn saved(reference: &str) -> Vec<u8> {
    let out = Command::new("docker")
        .args(["save", reference])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    out.stdout
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// jupyter/docker-stacks-foundation's pattern: a binary bind-mounted from
/// another stage, never copied into a layer of its own.
#[test]
fn the_foundation_bind_mount_from_a_stage_builds() {
    let n = nonce();
    let s = Stack::new(
        "bk-bind",
        "  foundation: {}\n",
        &[(
            "images/foundation/Dockerfile",
            &format!("FROM stacktag-test/busybox:latest AS tool\nRUN echo wtbuild-tool > /tool.txt # {n}\n\
             FROM stacktag-test/busybox:latest\n\
             RUN --mount=type=bind,from=tool,source=/tool.txt,target=/tmp/tool.txt cp /tmp/tool.txt /copied.txt && echo copied-from-stage # {n}\n"),
        )],
    );
    let plan = s.plan(&["foundation"]);
    assert_eq!(plan["builder"], "buildkit");
    let text_plan = s.build_ok(&["foundation", "--plan"]);
    assert!(
        text_plan.starts_with("plan for linux/amd64 (buildkit builder):"),
        "{text_plan}"
    );
    let out = s.build(&["foundation", "--progress", "plain"]);
    let err = text(&out.stderr);
    assert_eq!(code(&out), 0, "{err}");
    assert_eq!(cat(&s, "foundation", "/copied.txt"), "wtbuild-tool\n");
    assert!(
        oracle(&format!("{}:latest", s.name("foundation")), &["ls", "/tmp"]).is_empty(),
        "the bind mount left a file"
    );
    // One line per Dockerfile step on stderr; the steps and their output in the log.
    assert!(err.contains("foundation: building (buildkit)"), "{err}");
    assert!(
        err.lines().any(
            |l| l.contains("foundation: [stage-1 2/2] RUN --mount=type=bind")
                && l.contains(" DONE ")
        ),
        "{err}"
    );
    let log = log_of(&s, "foundation");
    assert!(
        log.contains("[stage-1 2/2] RUN --mount=type=bind,from=tool"),
        "{log}"
    );
    assert!(
        log.lines()
            .any(|l| l.starts_with('#') && l.ends_with(" copied-from-stage")),
        "{log}"
    );
    assert!(
        log.lines()
            .any(|l| l.starts_with('#') && l.contains(" DONE ")),
        "{log}"
    );

    // --progress quiet: no step lines; the plan's JSON and the build agree.
    s.append("images/foundation/Dockerfile", "LABEL again=1\n");
    let out = s.build(&["foundation", "--progress", "quiet"]);
    let err = text(&out.stderr);
    assert_eq!(code(&out), 0, "{err}");
    assert!(!err.contains("] RUN "), "{err}");
    assert!(err.contains("foundation: built"), "{err}");
}

/// A cache mount's content outlives the build that wrote it.
#[test]
fn a_cache_mount_survives_into_the_next_build() {
    let id = format!("wtbuild-cache-{}", nonce());
    let df = |round: &str| {
        format!(
            "{FROM_BUSYBOX}RUN --mount=type=cache,id={id},target=/cache sh -c 'echo {round} >> /cache/rounds; cp /cache/rounds /seen'\n"
        )
    };
    let s = Stack::new(
        "bk-cache",
        "  cached: {}\n",
        &[("images/cached/Dockerfile", &df("one"))],
    );
    s.build_ok(&["cached"]);
    assert_eq!(cat(&s, "cached", "/seen"), "one\n");
    s.write("images/cached/Dockerfile", &df("two"));
    s.build_ok(&["cached"]);
    assert_eq!(cat(&s, "cached", "/seen"), "one\ntwo\n");
}

/// tmpfs mounts, ARG before FROM, COPY --chmod, and stages that do not
/// depend on each other built at the same time.
#[test]
fn tmpfs_arg_before_from_copy_chmod_and_parallel_stages() {
    let n = nonce();
    let df = &format!("ARG BASE=stacktag-test/busybox:latest\n\
              FROM $BASE AS left\nRUN sleep 2 && echo left > /left # {n}\n\
              FROM $BASE AS right\nRUN sleep 2 && echo right > /right # {n}\n\
              FROM $BASE\n\
              COPY --chmod=750 run.sh /run.sh\n\
              COPY --from=left /left /left\nCOPY --from=right /right /right\n\
              RUN --mount=type=tmpfs,target=/scratch sh -c 'echo x > /scratch/f && grep \" /scratch tmpfs \" /proc/mounts | cut -d\" \" -f3 > /scratch-fs'\n");
    let s = Stack::new(
        "bk-features",
        "  features: {}\n",
        &[
            ("images/features/Dockerfile", df.as_str()),
            ("images/features/run.sh", "#!/bin/sh\necho run\n"),
        ],
    );
    s.build_ok(&["features"]);
    let image = format!("{}:latest", s.name("features"));
    assert_eq!(oracle(&image, &["stat", "-c", "%a", "/run.sh"]), "750\n");
    assert_eq!(cat(&s, "features", "/scratch-fs"), "tmpfs\n");
    assert_eq!(
        oracle(&image, &["ls", "/scratch"]),
        "",
        "tmpfs content kept"
    );
    assert_eq!(cat(&s, "features", "/left"), "left\n");
    assert_eq!(cat(&s, "features", "/right"), "right\n");
    // Both stages' RUN started before either ended.
    let log = log_of(&s, "features");
    let pos = |needle: &str| {
        log.find(needle)
            .unwrap_or_else(|| panic!("no `{needle}` in:\n{log}"))
    };
    let number = |step: &str| -> String {
        let line = log.lines().find(|l| l.contains(step)).unwrap();
        line.split_whitespace().next().unwrap().to_string()
    };
    let (l, r) = (number("[left 2/2] RUN"), number("[right 2/2] RUN"));
    let first_done = pos(&format!("{l} DONE")).min(pos(&format!("{r} DONE")));
    assert!(
        pos("[left 2/2] RUN") < first_done && pos("[right 2/2] RUN") < first_done,
        "the stages ran one after the other:\n{log}"
    );
}

/// A secret reaches its RUN step and nothing else: not the log, not the
/// output, not the inputs, not the history, not a layer. Its id is an input.
#[test]
fn a_secret_reaches_the_build_and_nowhere_else() {
    let n = nonce();
    let value = format!("wtbuild-secret-value-{n}");
    let s = Stack::new(
        "bk-secret",
        "  secretive:\n    secrets: [token]\n  fromenv: {}\n",
        &[
            (
                "images/secretive/Dockerfile",
                &format!(
                    "{FROM_BUSYBOX}RUN --mount=type=secret,id=token,required=true sh -c 'cat /run/secrets/token; echo; sha256sum /run/secrets/token | cut -c1-64 > /sum' # {n}\n"
                ),
            ),
            (
                "images/fromenv/Dockerfile",
                &format!(
                    "{FROM_BUSYBOX}RUN --mount=type=secret,id=envtok,required=true sh -c 'wc -c < /run/secrets/envtok > /len' # {n}\n"
                ),
            ),
        ],
    );
    let file = s.path().join("token.txt");
    std::fs::write(&file, &value).unwrap();
    let secret = format!("id=token,src={}", file.display());
    let out = s
        .cmd(&[
            "secretive",
            "fromenv",
            "--secret",
            &secret,
            "--secret",
            "id=envtok,env=WTBUILD_SECRET",
        ])
        .env("WTBUILD_SECRET", &value)
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(code(&out), 0, "{stderr}");
    use sha2_hex::sha256_hex;
    assert_eq!(
        cat(&s, "secretive", "/sum").trim(),
        sha256_hex(value.as_bytes())
    );
    assert_eq!(cat(&s, "fromenv", "/len").trim(), value.len().to_string());
    // The steps of a build with secrets are logged and shown as any other
    // BuildKit build's; the value the step printed is blotted out.
    let log = log_of(&s, "secretive");
    assert!(
        log.contains("[2/2] RUN --mount=type=secret,id=token,required=true sh -c"),
        "{log}"
    );
    assert!(log.contains(" ***\n"), "the step's output, redacted: {log}");
    assert!(log.contains("exporting to image"), "{log}");
    for image in ["secretive", "fromenv"] {
        let line = stderr
            .lines()
            .find(|l| l.contains(&format!("{image}: [")) && l.contains("] RUN --mount=type=secret"))
            .unwrap_or_else(|| panic!("no step line of {image}: {stderr}"));
        assert!(line.contains("DONE"), "{line}");
    }
    for image in ["secretive", "fromenv"] {
        let reference = format!("{}:latest", s.name(image));
        assert!(!stdout.contains(&value) && !stderr.contains(&value));
        assert!(!log_of(&s, image).contains(&value), "{image}: in the log");
        let history = docker(&["history", "--no-trunc", &reference]);
        assert!(!history.contains(&value), "{image}: in the history");
        let inspect = docker(&["image", "inspect", &reference]);
        assert!(!inspect.contains(&value), "{image}: in the config");
        assert!(!contains(&saved(&reference), &value), "{image}: in a layer");
    }
    // The id counts, the value does not: a new value reuses the image; the
    // same build without the secret its Dockerfile mounts is another one.
    let out = s
        .cmd(&["fromenv", "--plan", "--format", "json"])
        .output()
        .unwrap();
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["images"][0]["action"], "build", "{plan}");
    assert!(
        plan["images"][0]["why"]
            .to_string()
            .contains("secret envtok removed"),
        "{plan}"
    );
    std::fs::write(&file, "another value").unwrap();
    let plan = s
        .cmd(&[
            "secretive",
            "--secret",
            &secret,
            "--plan",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let plan: Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(plan["images"][0]["action"], "reuse", "{plan}");
}

/// Each bad secret stops the run before any build, naming the secret and the fix.
#[test]
fn bad_secrets_stop_the_run_before_any_build() {
    let s = Stack::new(
        "bk-badsecret",
        "  needy:\n    secrets: [token]\n",
        &[(
            "images/needy/Dockerfile",
            &format!("{FROM_BUSYBOX}RUN --mount=type=secret,id=token true\n"),
        )],
    );
    let cases: [(&[&str], i32, &[&str]); 4] = [
        (
            &["needy"],
            3,
            &[
                "needy: needs the secret `token`",
                "--secret id=token,src=FILE",
            ],
        ),
        (
            &["needy", "--secret", "id=token,src=/nonexistent/wtbuild"],
            3,
            &["--secret token: cannot read /nonexistent/wtbuild", "fix:"],
        ),
        (
            &["needy", "--secret", "id=token,env=WTBUILD_UNSET_VARIABLE"],
            3,
            &[
                "the environment variable WTBUILD_UNSET_VARIABLE is not set",
                "fix:",
            ],
        ),
        (&["needy", "--secret", "token"], 2, &["is not KEY=VALUE"]),
    ];
    for (args, want, says) in cases {
        let out = s
            .cmd(args)
            .env_remove("WTBUILD_UNSET_VARIABLE")
            .output()
            .unwrap();
        let err = text(&out.stderr);
        assert_eq!(code(&out), want, "{args:?}: {err}");
        for w in says {
            assert!(err.contains(w), "{args:?}: no `{w}` in {err}");
        }
        assert!(!err.contains("building"), "a build started: {err}");
        assert_eq!(s.tags(), Vec::<String>::new());
    }
    // The classic builder cannot give a secret: said before any build.
    let file = s.path().join("t");
    std::fs::write(&file, "x").unwrap();
    let out = s
        .cmd(&[
            "needy",
            "--builder",
            "classic",
            "--secret",
            &format!("id=token,src={}", file.display()),
        ])
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(code(&out), 3, "{err}");
    assert!(err.contains("needs BuildKit"), "{err}");
}

/// What this daemon's built-in frontend does not know: the error names the
/// Dockerfile line and what would build it; nothing is tagged.
#[test]
fn what_the_built_in_frontend_rejects_names_the_line_and_the_fix() {
    let s = Stack::new(
        "bk-frontend",
        "  front: {}\n",
        &[("images/front/Dockerfile", FROM_BUSYBOX)],
    );
    s.build_ok(&["front"]);
    let before = (s.id("front"), s.tags());
    let cases: [(&str, &[&str]); 3] = [
        (
            "FROM stacktag-test/busybox:latest\nRUN <<EOT\necho hi\nEOT\n",
            &[
                "Dockerfile:2: a heredoc",
                "RUN <<EOT",
                "# syntax=docker/dockerfile:1",
                "Docker Engine 23",
            ],
        ),
        (
            "FROM stacktag-test/busybox:latest\nCOPY --link Dockerfile /d\n",
            &[
                "Dockerfile:2: COPY --link is not known",
                "# syntax=docker/dockerfile:1",
            ],
        ),
        (
            "# syntax=docker/dockerfile:1.4\nFROM stacktag-test/busybox:latest\nRUN true\n",
            &[
                "Dockerfile:1: the frontend image `docker/dockerfile:1.4`",
                "cannot be pulled",
                "remove the line",
            ],
        ),
    ];
    for (df, says) in cases {
        s.write("images/front/Dockerfile", df);
        let out = s.build(&["front"]);
        let err = text(&out.stderr);
        assert_eq!(code(&out), 16, "{err}");
        assert!(err.contains("front: "), "{err}");
        for w in says {
            assert!(err.contains(w), "no `{w}` in {err}");
        }
        assert_eq!(
            (s.id("front"), s.tags()),
            before,
            "latest moved or a tag was left"
        );
    }
}

/// `--builder classic`: the legacy builder, a different image of the same
/// inputs (the builder is an input).
#[test]
fn the_classic_builder_on_request_is_an_input() {
    let s = Stack::new(
        "bk-classic",
        "  plain: {}\n",
        &[(
            "images/plain/Dockerfile",
            &format!("{FROM_BUSYBOX}RUN echo plain > /plain\n"),
        )],
    );
    let plan = s.plan(&["plain", "--builder", "classic"]);
    assert_eq!(plan["builder"], "classic");
    let out = s.build(&["plain", "--builder", "classic"]);
    let err = text(&out.stderr);
    assert_eq!(code(&out), 0, "{err}");
    assert!(err.contains("building (classic)"), "{err}");
    assert!(
        log_of(&s, "plain").contains("Step 2/"),
        "classic output in the log"
    );
    let plan = s.plan(&["plain"]);
    assert_eq!(plan["images"][0]["action"], "build");
    assert!(
        plan["images"][0]["why"]
            .to_string()
            .contains("builder changed"),
        "{plan}"
    );
}

/// The images BuildKit builds carry inline cache metadata: pulled from a
/// registry, they serve as layer cache.
#[test]
fn buildkit_images_carry_inline_cache_metadata() {
    let s = Stack::new(
        "bk-inline",
        "  inline: {}\n",
        &[(
            "images/inline/Dockerfile",
            &format!("{FROM_BUSYBOX}RUN echo inline > /inline\n"),
        )],
    );
    s.build_ok(&["inline"]);
    let saved = saved(&format!("{}:latest", s.name("inline")));
    assert!(
        contains(&saved, "moby.buildkit.cache.v0"),
        "no inline cache metadata"
    );
}

/// Removes the daemon's build cache records of the steps whose command has
/// `marker` (children first: a record in use by another is not pruned),
/// leaving every other test's cache and cache mounts alone.
fn prune_build_cache_of(marker: &str) {
    for _ in 0..5 {
        let records: Vec<Value> = serde_json::from_str(&docker(&[
            "system",
            "df",
            "-v",
            "--format",
            "{{json .BuildCache}}",
        ]))
        .unwrap();
        let ours: Vec<&Value> = records
            .iter()
            .filter(|r| {
                r["Description"]
                    .as_str()
                    .unwrap_or_default()
                    .contains(marker)
            })
            .collect();
        if ours.is_empty() {
            return;
        }
        for r in &ours {
            let id = r["ID"].as_str().unwrap();
            if !ours.iter().any(|o| o["Parent"] == id) {
                let _ = Command::new("docker")
                    .args(["builder", "prune", "-af", "--filter", &format!("id={id}")])
                    .output();
            }
        }
    }
    panic!("the build cache records of {marker} could not be pruned");
}

/// The layer diff IDs of `reference`.
fn layers(reference: &str) -> Vec<String> {
    docker(&["inspect", "-f", "{{join .RootFS.Layers \" \"}}", reference])
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// With the daemon's layer cache gone (`docker builder prune`, a new CI
/// runner), a previous image still serves as layer cache through its inline
/// cache metadata: the image's `latest` kept here, or on a machine with
/// nothing local, its published `x86_64-latest` in the registry
/// (--cache-from-registry). The early step comes from it (CACHED, the same
/// layer); only the changed late step runs.
#[test]
fn a_previous_image_is_the_layer_cache_once_the_build_cache_is_gone() {
    let n = nonce();
    let df = |late: &str| {
        format!("{FROM_BUSYBOX}RUN echo early-{n} > /early\nRUN echo {late}-{n} > /late\n")
    };
    let reg = crate::support::Registry::start();
    let registry = reg.host();
    let s = Stack::new(
        "bk-cachefrom",
        "  late: {}\n",
        &[("images/late/Dockerfile", &df("late-1"))],
    );
    let name = format!("{registry}/{}/late", s.owner);
    let run = |args: &[&str]| {
        let mut all = vec![
            "--registry",
            registry.as_str(),
            "late",
            "--progress",
            "plain",
        ];
        all.extend(args);
        let mut cmd = s.cmd(&all);
        cmd.env("STACKTAG_REGISTRY_USER", crate::support::USER)
            .env("STACKTAG_REGISTRY_PASSWORD", crate::support::PASSWORD)
            .env("DOCKER_CONFIG", s.path().join("no-docker-config"));
        let out = cmd.output().unwrap();
        assert_eq!(code(&out), 0, "{}", text(&out.stderr));
        text(&out.stderr)
    };
    let step = |err: &str, what: &str| {
        err.lines()
            .find(|l| l.contains(&format!("RUN echo {what}")))
            .unwrap_or_else(|| panic!("no line of step {what}: {err}"))
            .to_string()
    };
    let rm_local = || {
        for t in docker(&["images", "--format", "{{.Repository}}:{{.Tag}}", &name]).lines() {
            docker(&["rmi", "-f", t]);
        }
    };
    // Its images are named for the test's registry, which Stack does not remove.
    struct Remove<F: Fn()>(F);
    impl<F: Fn()> Drop for Remove<F> {
        fn drop(&mut self) {
            (self.0)();
        }
    }
    let _remove = Remove(rm_local);
    run(&[]);
    let first = layers(&format!("{name}:latest"));

    // The previous image kept here.
    s.write("images/late/Dockerfile", &df("late-2"));
    prune_build_cache_of(&n);
    let err = run(&[]);
    assert!(
        step(&err, &format!("early-{n}")).ends_with(" CACHED"),
        "{err}"
    );
    assert!(step(&err, "late-2").contains(" DONE "), "{err}");
    let second = layers(&format!("{name}:latest"));
    assert_eq!(second[..2], first[..2], "the early layer was built again");
    assert_ne!(second[2], first[2]);
    assert!(
        log_of(&s, "late").contains(&format!(
            "layer cache also from the inline cache of {name}:latest"
        )),
        "{}",
        log_of(&s, "late")
    );

    // A new machine: nothing local; the registry has the published platform tag.
    let o = Command::new("skopeo")
        .args([
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            "--dest-creds",
            &format!("{}:{}", crate::support::USER, crate::support::PASSWORD),
            &format!("docker-daemon:{name}:latest"),
            &format!("docker://{name}:x86_64-latest"),
        ])
        .output()
        .expect("skopeo (make fixtures installs it)");
    assert!(o.status.success(), "{}", text(&o.stderr));
    rm_local();
    s.write("images/late/Dockerfile", &df("late-3"));
    prune_build_cache_of(&n);
    let err = run(&["--cache-from-registry"]);
    assert!(
        step(&err, &format!("early-{n}")).ends_with(" CACHED"),
        "{err}"
    );
    assert_eq!(layers(&format!("{name}:latest"))[..2], first[..2]);
    prune_build_cache_of(&n);
}

/// Docker's proxy args from the client config and the environment reach
/// every build without an ARG line, and are no input.
#[test]
fn proxies_reach_the_build_and_are_no_input() {
    let s = Stack::new(
        "bk-proxy",
        "  proxied: {}\n",
        &[(
            "images/proxied/Dockerfile",
            &format!("{FROM_BUSYBOX}RUN echo \"$HTTP_PROXY|$http_proxy|$NO_PROXY|$no_proxy\" > /proxies # {}\n", nonce()),
        )],
    );
    let config = s.path().join("docker-config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.json"),
        r#"{"proxies":{"default":{"httpProxy":"http://wtbuild-config:3128","noProxy":"wtbuild.local"}}}"#,
    )
    .unwrap();
    let run = |proxy: &str, args: &[&str]| {
        let mut cmd = s.cmd(args);
        cmd.env("DOCKER_CONFIG", &config)
            .env("HTTP_PROXY", proxy)
            .env_remove("http_proxy")
            .env_remove("NO_PROXY")
            .env_remove("no_proxy");
        cmd.output().unwrap()
    };
    let out = run("http://wtbuild-env:3128", &["proxied"]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    // The environment wins over the client config; each value in both cases.
    assert_eq!(
        cat(&s, "proxied", "/proxies"),
        "http://wtbuild-env:3128|http://wtbuild-env:3128|wtbuild.local|wtbuild.local\n"
    );
    let out = run(
        "http://wtbuild-other:3128",
        &["proxied", "--plan", "--format", "json"],
    );
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        plan["images"][0]["action"], "reuse",
        "a proxy counted as an input: {plan}"
    );
}

mod sha2_hex {
    /// sha256 of `bytes` in hex, by the coreutils tool (an oracle apart from stacktag).
    pub fn sha256_hex(bytes: &[u8]) -> String {
        use std::io::Write;
        let mut child = std::process::Command::new("sha256sum")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(bytes).unwrap();
        let out = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stdout)[..64].to_string()
    }
}

/// `--platform linux/arm64` on this amd64 daemon: built through QEMU
/// (make fixtures registers it), named aarch64, and hooked.
#[test]
fn an_arm64_build_through_qemu_is_named_aarch64_and_hooked() {
    const ARM64: &str = "stacktag-test/busybox-arm64:latest";
    if Command::new("docker")
        .args(["image", "inspect", ARM64])
        .output()
        .map_or(true, |o| !o.status.success())
    {
        panic!("the fixture {ARM64} is missing: run `make fixtures` (scripts/binfmt, scripts/busybox-arm64-image)");
    }
    let s = Stack::new(
        "bk-arm64",
        "  tiny:\n    taggers:\n      - name: machine\n        command: [cat, /arch]\n        pattern: '^(?P<version>[a-z0-9_]+)$'\n        prefix: machine\n    manifests: []\n",
        &[(
            "images/tiny/Dockerfile",
            "ARG BASE=stacktag-test/busybox:latest\nFROM $BASE\nRUN uname -m > /arch\n",
        )],
    );
    let base = format!("BASE={ARM64}");
    let plan = s.plan(&["tiny", "--platform", "linux/arm64", "--build-arg", &base]);
    assert_eq!(plan["platform"], "linux/arm64");
    s.build_ok(&["tiny", "--platform", "linux/arm64", "--build-arg", &base]);
    let reference = format!("{}:latest", s.name("tiny"));
    assert_eq!(
        docker(&[
            "image",
            "inspect",
            "--format",
            "{{.Os}}/{{.Architecture}}",
            &reference
        ])
        .trim(),
        "linux/arm64"
    );
    assert!(s
        .path()
        .join("out/build-logs/aarch64-default-tiny.log")
        .is_file());
    assert_eq!(
        docker(&[
            "run",
            "--rm",
            "--network",
            "none",
            "--platform",
            "linux/arm64",
            &reference,
            "cat",
            "/arch"
        ]),
        "aarch64\n"
    );
    // The hook runs it (through QEMU) and tags it for aarch64.
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@t"])
            .args(args)
            .current_dir(s.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "tiny"]);
    let out = stacktag_config(&s.owner, &s.path().join("hierarchy.yaml"))
        .args(["hook", "tiny", "--out-dir"])
        .arg(s.path().join("out"))
        .current_dir(s.path())
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(
        s.tags()
            .contains(&format!("{}:aarch64-machine-aarch64", s.name("tiny"))),
        "{:?}",
        s.tags()
    );
    assert_no_containers(&s.owner);
}

/// A platform the daemon cannot build stops the run before any build.
#[test]
fn a_platform_the_daemon_cannot_build_is_refused_first() {
    let s = Stack::new(
        "bk-platform",
        "  tiny: {}\n",
        &[("images/tiny/Dockerfile", FROM_BUSYBOX)],
    );
    for (platform, says) in [
        (
            "linux/s390x",
            "stacktag has no tags for the architecture `s390x`",
        ),
        ("windows/amd64", "not a Linux platform"),
        (
            "linux/arm64",
            "the classic builder builds only for the daemon's platform",
        ),
    ] {
        let out = s.build(&["tiny", "--platform", platform, "--builder", "classic"]);
        let err = text(&out.stderr);
        assert_eq!(code(&out), 6, "{platform}: {err}");
        assert!(err.contains(says), "{platform}: {err}");
        assert!(!err.contains("building"), "{err}");
    }
    assert_eq!(s.tags(), Vec::<String>::new());
}

/// A daemon whose configuration turns BuildKit off (a private dockerd):
/// one line says so and what will fail, the build goes through the classic
/// builder, the plan says so.
#[test]
fn a_daemon_without_buildkit_builds_classic_and_says_so() {
    let daemon = crate::private_daemon::PrivateDaemon::start_with_config(Some(
        r#"{"features": {"buildkit": false}}"#,
    ));
    daemon.load(BUSYBOX);
    // No RUN: the private daemon has no network for a build container.
    let s = Stack::new(
        "bk-nobk",
        "  plain: {}\n",
        &[(
            "images/plain/Dockerfile",
            &format!("{FROM_BUSYBOX}LABEL wtbuild.classic={}\n", nonce()),
        )],
    );
    let run = |args: &[&str]| {
        s.cmd(args)
            .env("DOCKER_HOST", daemon.host())
            .output()
            .unwrap()
    };
    let out = run(&["plain", "--plan", "--format", "json"]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["builder"], "classic");
    let out = run(&["plain"]);
    let err = text(&out.stderr);
    assert_eq!(code(&out), 0, "{err}");
    let warning: Vec<&str> = err.lines().filter(|l| l.contains("no BuildKit")).collect();
    assert_eq!(warning.len(), 1, "{err}");
    assert!(
        warning[0].contains("\"features\": {\"buildkit\": false}")
            && warning[0].contains("classic builder")
            && warning[0].contains("RUN --mount"),
        "{err}"
    );
    assert!(err.contains("building (classic)"), "{err}");
    let out = run(&["plain", "--plan"]);
    assert!(
        text(&out.stdout).contains("plan for linux/amd64 (classic builder)"),
        "{}",
        text(&out.stdout)
    );
    let why = "the daemon has no BuildKit: its configuration turns BuildKit off";
    assert!(text(&out.stdout).contains(&format!("\nbuilder: classic ({why}")));
    assert!(
        plan["builder_why"].as_str().unwrap().starts_with(why),
        "{plan}"
    );
    // `check` asks the same daemon.
    let out = stacktag_config(&s.owner, &s.path().join("hierarchy.yaml"))
        .arg("check")
        .env("DOCKER_HOST", daemon.host())
        .env_remove("STACKTAG_BUILDER")
        .output()
        .unwrap();
    assert!(
        text(&out.stdout).contains(&format!("  builder: classic ({why}")),
        "{}",
        text(&out.stdout)
    );
    // BuildKit features asked of it: refused before any build, with the line.
    let before = s.tags();
    s.write(
        "images/plain/Dockerfile",
        &format!("{FROM_BUSYBOX}# a cache\nRUN --mount=type=cache,target=/c \\\n    true\n"),
    );
    let out = run(&["plain"]);
    let err = text(&out.stderr);
    assert_eq!(code(&out), 3, "{err}");
    assert!(
        err.contains("plain: `RUN --mount` of ")
            && err.contains("images/plain/Dockerfile:3 needs BuildKit")
            && err.contains(why)
            && err.contains("fix: build on a daemon with BuildKit"),
        "{err}"
    );
    assert!(!err.contains("building ("), "{err}");
    assert_eq!(s.tags(), before);
}

/// `memory:` and `cpuset:` of an image: the classic builder puts its steps
/// in a cgroup with those limits (read back from inside the step); BuildKit
/// ignores them, and the run says so once per image and key.
#[test]
fn build_limits_bind_classic_steps_and_buildkit_warns_once() {
    let n = nonce();
    let s = Stack::new(
        "bk-limits",
        "  limited:\n    memory: 64m\n    cpuset: \"0\"\n  free: {}\n",
        &[
            (
                "images/limited/Dockerfile",
                &format!("{FROM_BUSYBOX}RUN cat /sys/fs/cgroup/memory/memory.limit_in_bytes > /mem && cat /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes > /memsw && cat /sys/fs/cgroup/cpuset/cpuset.cpus > /cpus # {n}\n"),
            ),
            ("images/free/Dockerfile", &format!("{FROM_BUSYBOX}LABEL wtbuild.free={n}\n")),
        ],
    );
    let out = s.build(&["limited", "free", "--builder", "classic"]);
    let err = text(&out.stderr);
    assert_eq!(code(&out), 0, "{err}");
    assert!(!err.contains("is ignored"), "classic applies them: {err}");
    assert_eq!(cat(&s, "limited", "/mem").trim(), (64u64 << 20).to_string());
    assert_eq!(
        cat(&s, "limited", "/memsw").trim(),
        (64u64 << 20).to_string()
    );
    assert_eq!(cat(&s, "limited", "/cpus").trim(), "0");
    // Through BuildKit: built, unlimited, and one warning per key.
    let out = s.build(&["limited", "free"]);
    let err = text(&out.stderr);
    assert_eq!(code(&out), 0, "{err}");
    for key in ["memory", "cpuset"] {
        let said: Vec<&str> = err
            .lines()
            .filter(|l| l.contains(&format!("`{key}:` of limited is ignored")))
            .collect();
        assert_eq!(said.len(), 1, "{key}: {err}");
        assert!(
            said[0].contains("BuildKit") && said[0].contains("--builder classic"),
            "{err}"
        );
    }
    assert!(!err.contains("of free is ignored"), "{err}");
    assert_ne!(cat(&s, "limited", "/mem").trim(), (64u64 << 20).to_string());
    // A limit that is not one is refused with its line, before any build.
    s.write(
        "hierarchy.yaml",
        &format!("registry: localhost:5000\nowner: {}\nimages:\n  limited:\n    memory: lots\n    cpuset: 0-\n", s.owner),
    );
    let out = s.build(&["limited"]);
    let err = text(&out.stderr);
    assert_eq!(code(&out), 3, "{err}");
    assert!(
        err.contains(":5") && err.contains("memory `lots` is not an amount of memory"),
        "{err}"
    );
    assert!(
        err.contains(":6") && err.contains("cpuset `0-` is not a list of CPUs"),
        "{err}"
    );
    assert_no_containers(&s.owner);
}

/// `check` and `build --plan` say which builder `build` uses and why, in
/// text and JSON: the default, the flag, the environment.
#[test]
fn check_and_the_plan_say_which_builder_and_why() {
    let s = Stack::new(
        "bk-which",
        "  plain: {}\n",
        &[("images/plain/Dockerfile", FROM_BUSYBOX)],
    );
    let check = |env: Option<&str>, json: bool| {
        let mut cmd = stacktag_config(&s.owner, &s.path().join("hierarchy.yaml"));
        cmd.arg("check").env_remove("STACKTAG_BUILDER");
        if json {
            cmd.args(["--format", "json"]);
        }
        if let Some(v) = env {
            cmd.env("STACKTAG_BUILDER", v);
        }
        let out = cmd.output().unwrap();
        assert_eq!(code(&out), 0, "{}", text(&out.stderr));
        text(&out.stdout)
    };
    assert!(
        check(None, false)
            .contains("\n  builder: buildkit (the default: the daemon has BuildKit)\n"),
        "{}",
        check(None, false)
    );
    assert!(
        check(Some("classic"), false).contains("  builder: classic (STACKTAG_BUILDER=classic)\n")
    );
    let doc: Value = serde_json::from_str(&check(None, true)).unwrap();
    assert_eq!(doc["builder"], "buildkit", "{doc}");
    assert_eq!(doc["builder_why"], "the default: the daemon has BuildKit");
    // No daemon: the file is still checked, the builder is unknown.
    let out = stacktag_config(&s.owner, &s.path().join("hierarchy.yaml"))
        .args(["check", "--format", "json"])
        .env("DOCKER_HOST", "unix:///nonexistent/wtbuild.sock")
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["builder"], Value::Null, "{doc}");
    assert!(doc["builder_why"]
        .as_str()
        .unwrap()
        .contains("no Docker daemon answers at unix:///nonexistent/wtbuild.sock"));
    // The plan.
    let plan = |args: &[&str]| {
        text(
            &s.cmd(args)
                .env_remove("STACKTAG_BUILDER")
                .output()
                .unwrap()
                .stdout,
        )
    };
    assert!(plan(&["plain", "--plan"])
        .contains("\nbuilder: buildkit (the default: the daemon has BuildKit)\n"));
    assert!(plan(&["plain", "--plan", "--builder", "classic"])
        .contains("\nbuilder: classic (--builder classic)\n"));
    let doc: Value = serde_json::from_str(&plan(&[
        "plain",
        "--plan",
        "--builder",
        "buildkit",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(doc["builder"], "buildkit");
    assert_eq!(
        doc["builder_why"],
        "--builder buildkit: the daemon has BuildKit"
    );
}

/// A `--mount` the builder rejects: the image, the Dockerfile line and a
/// fix; nothing tagged, no temporary tag.
#[test]
fn a_mount_the_builder_rejects_names_the_line_and_the_fix() {
    let s = Stack::new(
        "bk-badmount",
        "  mounty: {}\n",
        &[(
            "images/mounty/Dockerfile",
            &format!("{FROM_BUSYBOX}RUN --mount=type=nosuch,target=/x true\n"),
        )],
    );
    let out = s.build(&["mounty"]);
    let err = text(&out.stderr);
    assert_eq!(code(&out), 16, "{err}");
    assert!(err.contains("mounty: "), "{err}");
    assert!(err.contains("Dockerfile:2"), "{err}");
    assert!(
        err.contains("RUN --mount=type=nosuch,target=/x true"),
        "{err}"
    );
    assert!(err.contains("fix:"), "{err}");
    assert_eq!(s.tags(), Vec::<String>::new());
    assert_no_containers(&s.owner);
}

/// SIGINT during a build with a secret (the control API path): the build
/// stops (its step's process is gone), exit 130, `latest` not moved, no
/// temporary tag, no container.
#[test]
fn ctrl_c_stops_a_secret_build_and_leaves_nothing() {
    let n = nonce();
    // A sleep no other build runs: its process is the build step's.
    let secs = format!("{}.{}", 3000 + std::process::id() % 1000, n.len() + 11);
    let s = Stack::new(
        "bk-sigint",
        "  slow:\n    secrets: [token]\n",
        &[(
            "images/slow/Dockerfile",
            &format!("{FROM_BUSYBOX}RUN --mount=type=secret,id=token echo before # {n}\n"),
        )],
    );
    let file = s.path().join("token.txt");
    std::fs::write(&file, format!("wtbuild-sigint-{n}")).unwrap();
    let secret = format!("id=token,src={}", file.display());
    s.build_ok(&["slow", "--secret", &secret]);
    let before = (s.id("slow"), s.tags());
    s.append(
        "images/slow/Dockerfile",
        &format!("RUN --mount=type=secret,id=token sh -c 'echo sleeping; sleep {secs}'\n"),
    );
    let mut child = s
        .cmd(&["slow", "--secret", &secret, "--progress", "plain"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let sleeping = || {
        Command::new("pgrep")
            .args(["-f", &format!("sleep {secs}")])
            .output()
            .unwrap()
            .status
            .success()
    };
    let t0 = std::time::Instant::now();
    while !sleeping() {
        assert!(t0.elapsed().as_secs() < 120, "the step never started");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // The step shows in the log (still under its part name) while it runs.
    let part = s.path().join(format!(
        "out/build-logs/x86_64-default-slow.log.{}.part",
        child.id()
    ));
    let t = std::time::Instant::now();
    while !std::fs::read_to_string(&part)
        .unwrap_or_default()
        .contains("sleeping")
    {
        assert!(
            t.elapsed().as_secs() < 10,
            "no step output in {}",
            part.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let t1 = std::time::Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(t1.elapsed().as_secs() < 30, "stacktag did not stop");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(130), "{err}");
    let t2 = std::time::Instant::now();
    while sleeping() {
        assert!(
            t2.elapsed().as_secs() < 20,
            "the build step still runs after the run stopped"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(
        (s.id("slow"), s.tags()),
        before,
        "latest moved or a tag was left"
    );
    assert_no_containers(&s.owner);
}
