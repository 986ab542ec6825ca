//! Publishing against a real registry (Debian's docker-registry with an
//! htpasswd file, started on a free loopback port per test by
//! `scripts/registry-up`) and the real Docker daemon. What a test pushes is
//! read back through the registry's own API (oci-client), not through stacktag.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::IDENTITY_TOKEN;
pub(crate) use crate::support::{Registry, IMAGE, OWNER, PASSWORD, USER, WRONG};
use oci_client::Reference;

pub(crate) fn tags(platform: &str, values: &[&str]) -> Vec<String> {
    values.iter().map(|v| format!("{platform}-{v}")).collect()
}

pub(crate) fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

pub(crate) fn assert_ok(o: &Output) -> String {
    let (out, err) = text(o);
    assert!(
        o.status.success(),
        "exit {:?}\nstdout:\n{out}\nstderr:\n{err}",
        o.status.code()
    );
    out
}

pub(crate) fn tags_dir(r: &Registry) -> String {
    r.dir.path().join("tags").display().to_string()
}

/// Both platforms built, tagged and pushed, as two build machines would.
fn two_platforms(r: &mut Registry, values: &[&str]) {
    let x86 = tags("x86_64", values);
    let arm = tags("aarch64", values);
    r.image("amd64", &format!("x86 {}", r.port), &x86);
    r.image("arm64", &format!("arm {}", r.port), &arm);
    let dir = r.dir.path().join("tags");
    r.tags_file(&dir, "x86_64", &x86);
    r.tags_file(&dir, "aarch64", &arm);
    let td = tags_dir(r);
    for p in ["x86_64", "aarch64"] {
        assert_ok(&r.stacktag(&["push", "--image", IMAGE, "--platform", p, "--tags-dir", &td]));
    }
}

#[tokio::test]
async fn push_puts_every_tag_and_the_registry_has_them() {
    let mut r = Registry::start();
    let x86 = tags("x86_64", &["latest", "2026-11-24", "python-3.11"]);
    r.image("amd64", "push test", &x86);
    r.tags_file(&r.dir.path().join("tags"), "x86_64", &x86);

    // No --platform: the only tags file there says x86_64.
    let out = assert_ok(&r.stacktag(&["push", "--image", IMAGE, "--tags-dir", &tags_dir(&r)]));

    let mut want = x86.clone();
    want.sort();
    assert_eq!(r.tags().await, want);
    for t in &x86 {
        let (manifest, digest) = r.manifest(t).await;
        assert_eq!(
            manifest["mediaType"],
            "application/vnd.docker.distribution.manifest.v2+json"
        );
        assert!(
            out.contains(&format!("{}:{t} {digest}\n", r.name())),
            "{out}"
        );
    }
    // image-ref reads the platform image's digest from the registry.
    let (_, digest) = r.manifest("x86_64-latest").await;
    let out = assert_ok(&r.stacktag(&["image-ref", "--image", IMAGE, "--platform", "x86_64"]));
    assert_eq!(out, format!("{}@{digest}\n", r.name()));
}

#[tokio::test]
async fn wrong_password_is_a_clear_error_and_no_secret_is_shown() {
    let mut r = Registry::start();
    let x86 = tags("x86_64", &["latest"]);
    r.image("amd64", "auth test", &x86);
    r.tags_file(&r.dir.path().join("tags"), "x86_64", &x86);
    let td = tags_dir(&r);

    let runs = [
        r.stacktag_with(
            &[
                "push",
                "--image",
                IMAGE,
                "--tags-dir",
                &td,
                "--username",
                USER,
                "--password-stdin",
            ],
            &[],
            Some(&format!("{WRONG}\n")),
        ),
        r.stacktag_with(
            &["merge", "--image", IMAGE, "--tags-dir", &td],
            &[
                ("STACKTAG_REGISTRY_USER", USER),
                ("STACKTAG_REGISTRY_PASSWORD", WRONG),
            ],
            None,
        ),
        r.stacktag_with(&["image-ref", "--image", IMAGE], &[], None),
    ];
    for (o, source) in runs.iter().zip([
        "--password-stdin",
        "STACKTAG_REGISTRY_PASSWORD",
        "anonymous",
    ]) {
        let (out, err) = text(o);
        assert_eq!(o.status.code(), Some(12), "stdout:\n{out}\nstderr:\n{err}");
        assert!(
            err.contains(&format!("registry {} answered 401 Unauthorized", r.host())),
            "{err}"
        );
        assert!(err.contains(source), "{err}");
        assert!(
            err.contains("fix:") && err.contains("docker login"),
            "{err}"
        );
        for secret in [WRONG, PASSWORD] {
            assert!(
                !out.contains(secret) && !err.contains(secret),
                "secret shown:\n{out}\n{err}"
            );
        }
    }
    assert!(r.tags().await.is_empty(), "nothing may be pushed");
}

/// Bearer-token auth, as Docker Hub, GHCR and Quay do it: the registry
/// sends clients to a token server. Push (through the daemon), merge and
/// image-ref (stacktag's own registry client) get their tokens with the same
/// credentials; a wrong password is refused by the token server, clearly.
#[tokio::test]
async fn bearer_token_auth_push_merge_and_image_ref() {
    let mut r = Registry::start_with_token_auth();
    two_platforms(&mut r, &["latest", "python-3.11"]);
    let token = r.token.as_ref().unwrap();
    let after_push = token.issued();
    assert!(after_push > 0, "the pushes asked for tokens");
    assert_eq!(token.refused(), 0);

    assert_ok(&r.stacktag(&["merge", "--image", IMAGE, "--tags-dir", &tags_dir(&r)]));
    assert!(token.issued() > after_push, "merge asked for tokens");
    let (x86, x86_digest) = r.manifest("x86_64-latest").await;
    assert_eq!(
        x86["mediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    let (index, _) = r.manifest("latest").await;
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{index}");
    assert_eq!(entries[0]["digest"], x86_digest.as_str());

    let out = assert_ok(&r.stacktag(&["image-ref", "--image", IMAGE, "--platform", "x86_64"]));
    assert_eq!(out, format!("{}@{x86_digest}\n", r.name()));

    push_and_merge_are_refused(
        &r,
        &[
            ("STACKTAG_REGISTRY_USER", USER),
            ("STACKTAG_REGISTRY_PASSWORD", WRONG),
        ],
        "STACKTAG_REGISTRY_PASSWORD",
    );
    assert!(token.refused() > 0);
}

/// A Docker config holding an identity token (as `docker login` leaves it
/// for an OAuth registry): push hands it to the daemon, merge and image-ref
/// trade it for access tokens (OAuth2 refresh grant) at the token server. A
/// wrong one is refused with exit 12 and never shown.
#[tokio::test]
async fn identity_token_from_the_docker_config() {
    let mut r = Registry::start_with_token_auth();
    let x86 = tags("x86_64", &["latest", "python-3.11"]);
    let arm = tags("aarch64", &["latest", "python-3.11"]);
    r.image("amd64", &format!("x86 id {}", r.port), &x86);
    r.image("arm64", &format!("arm id {}", r.port), &arm);
    let dir = r.dir.path().join("tags");
    r.tags_file(&dir, "x86_64", &x86);
    r.tags_file(&dir, "aarch64", &arm);
    let td = tags_dir(&r);
    let config = |token: &str| {
        let config = r.dir.path().join(format!("docker-config-{}", token.len()));
        std::fs::create_dir_all(&config).unwrap();
        std::fs::write(
            config.join("config.json"),
            serde_json::json!({"auths": {r.host(): {
                "auth": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "<token>:"),
                "identitytoken": token,
            }}})
            .to_string(),
        )
        .unwrap();
        config.display().to_string()
    };
    let good = config(IDENTITY_TOKEN);
    let with =
        |args: &[&str], config: &str| r.stacktag_with(args, &[("DOCKER_CONFIG", config)], None);
    for p in ["x86_64", "aarch64"] {
        assert_ok(&with(
            &["push", "--image", IMAGE, "--platform", p, "--tags-dir", &td],
            &good,
        ));
    }
    assert_ok(&with(
        &["merge", "--image", IMAGE, "--tags-dir", &td],
        &good,
    ));
    let token = r.token.as_ref().unwrap();
    assert!(token.refreshed() > 0, "the identity token was traded");
    assert_eq!(token.refused(), 0);
    let (x86_manifest, x86_digest) = r.manifest("x86_64-latest").await;
    assert_eq!(
        x86_manifest["mediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    let (index, _) = r.manifest("python-3.11").await;
    assert_eq!(index["manifests"][0]["digest"], x86_digest.as_str());
    let out = assert_ok(&with(
        &["image-ref", "--image", IMAGE, "--platform", "x86_64"],
        &good,
    ));
    assert_eq!(out, format!("{}@{x86_digest}\n", r.name()));

    let wrong = config(WRONG);
    push_and_merge_are_refused(&r, &[("DOCKER_CONFIG", &wrong)], "the Docker config");
}

/// Push and merge with credentials the token server refuses: exit 12, the
/// registry and where the credentials came from named, no secret shown.
fn push_and_merge_are_refused(r: &Registry, env: &[(&str, &str)], source: &str) {
    let td = tags_dir(r);
    for args in [
        &[
            "push",
            "--image",
            IMAGE,
            "--platform",
            "x86_64",
            "--tags-dir",
            &td,
        ][..],
        &["merge", "--image", IMAGE, "--tags-dir", &td][..],
    ] {
        let o = r.stacktag_with(args, env, None);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(12), "{args:?}\n{out}\n{err}");
        assert!(err.contains(&r.host()) && err.contains(source), "{err}");
        assert!(err.contains("fix:"), "{err}");
        for secret in [WRONG, PASSWORD, IDENTITY_TOKEN] {
            assert!(!err.contains(secret) && !out.contains(secret), "{err}");
        }
    }
}

#[tokio::test]
async fn merge_puts_one_index_with_each_platform_and_digest() {
    let mut r = Registry::start();
    two_platforms(&mut r, &["latest", "python-3.11"]);

    // Without annotations, Docker manifests merge into a Docker manifest list;
    // with them (the default), into an OCI index with the same entries.
    let plain = assert_ok(&r.stacktag(&[
        "merge",
        "--image",
        IMAGE,
        "--tags-dir",
        &tags_dir(&r),
        "--no-annotations",
    ]));
    let (list, _) = r.manifest("latest").await;
    assert_eq!(
        list["mediaType"],
        "application/vnd.docker.distribution.manifest.list.v2+json"
    );
    assert!(list.get("annotations").is_none(), "{list}");
    let out = assert_ok(&r.stacktag(&["merge", "--image", IMAGE, "--tags-dir", &tags_dir(&r)]));
    assert_eq!(plain.lines().count(), out.lines().count(), "{plain}\n{out}");

    let (x86, x86_digest) = r.manifest("x86_64-latest").await;
    let (_, arm_digest) = r.manifest("aarch64-latest").await;
    assert_ne!(x86_digest, arm_digest);
    for merged in ["latest", "python-3.11"] {
        let (index, digest) = r.manifest(merged).await;
        assert_eq!(
            index["mediaType"],
            "application/vnd.oci.image.index.v1+json"
        );
        assert_eq!(index["manifests"], list["manifests"]);
        assert_eq!(
            index["annotations"]["org.opencontainers.image.title"],
            IMAGE
        );
        let entries = index["manifests"].as_array().unwrap();
        assert_eq!(entries.len(), 2, "{index}");
        assert_eq!(entries[0]["digest"], x86_digest.as_str());
        assert_eq!(entries[0]["platform"]["architecture"], "amd64");
        assert_eq!(entries[0]["platform"]["os"], "linux");
        assert_eq!(entries[0]["mediaType"], x86["mediaType"]);
        assert_eq!(entries[1]["digest"], arm_digest.as_str());
        assert_eq!(entries[1]["platform"]["architecture"], "arm64");
        assert!(
            out.contains(&format!(
                "{}:{merged} {digest} <- x86_64 {x86_digest}, aarch64 {arm_digest}",
                r.name()
            )),
            "{out}"
        );
    }
    // For signing: the multi-platform image's reference.
    let (_, digest) = r.manifest("latest").await;
    let out = assert_ok(&r.stacktag(&["image-ref", "--image", IMAGE]));
    assert_eq!(out, format!("{}@{digest}\n", r.name()));
}

#[tokio::test]
async fn merge_refuses_a_platform_missing_in_the_registry() {
    let mut r = Registry::start();
    let x86 = tags("x86_64", &["latest", "python-3.11"]);
    r.image("amd64", "missing test", &x86);
    let dir = r.dir.path().join("tags");
    r.tags_file(&dir, "x86_64", &x86);
    // The aarch64 build declared its tags but never pushed them.
    r.tags_file(
        &dir,
        "aarch64",
        &tags("aarch64", &["latest", "python-3.11"]),
    );
    let td = tags_dir(&r);
    assert_ok(&r.stacktag(&[
        "push",
        "--image",
        IMAGE,
        "--platform",
        "x86_64",
        "--tags-dir",
        &td,
    ]));

    let o = r.stacktag(&["merge", "--image", IMAGE, "--tags-dir", &td, "--tries", "1"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(13), "{err}");
    assert!(
        err.contains(&format!(
            "{}:aarch64-latest (aarch64, declared in",
            r.name()
        )),
        "{err}"
    );
    assert!(err.contains("aarch64-python-3.11"), "{err}");
    assert!(err.contains("--allow-missing-platform"), "{err}");
    assert_eq!(
        r.tags().await,
        ["x86_64-latest", "x86_64-python-3.11"],
        "no index may be put"
    );

    // Asked for: what is there is merged, with a warning.
    let o = r.stacktag(&[
        "merge",
        "--image",
        IMAGE,
        "--tags-dir",
        &td,
        "--allow-missing-platform",
    ]);
    let (_, err) = text(&o);
    assert_ok(&o);
    assert!(err.contains("warning: left out"), "{err}");
    let (index, _) = r.manifest("latest").await;
    assert_eq!(index["manifests"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn merge_dry_run_writes_nothing() {
    let mut r = Registry::start();
    two_platforms(&mut r, &["latest", "python-3.11"]);
    let before = r.tags().await;

    let out = assert_ok(&r.stacktag(&[
        "merge",
        "--image",
        IMAGE,
        "--tags-dir",
        &tags_dir(&r),
        "--dry-run",
    ]));

    assert!(
        out.contains(&format!("would put {}:latest <- x86_64 sha256:", r.name())),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "would put {}:python-3.11 <- x86_64 sha256:",
            r.name()
        )),
        "{out}"
    );
    assert_eq!(r.tags().await, before);
}

#[tokio::test]
async fn registry_stopped_mid_run_is_a_clear_error_and_a_rerun_completes() {
    let mut r = Registry::start();
    let values: Vec<String> = (0..30).map(|i| format!("t{i}")).collect();
    let values: Vec<&str> = values.iter().map(String::as_str).collect();
    let x86 = tags("x86_64", &values);
    r.image("amd64", "stop test", &x86);
    r.tags_file(&r.dir.path().join("tags"), "x86_64", &x86);
    let td = tags_dir(&r);
    let args = ["push", "--image", IMAGE, "--tags-dir", &td, "--tries", "2"];

    // Stop the registry once the first tag is in.
    let mut cmd = r.command(
        &args,
        &[
            ("STACKTAG_REGISTRY_USER", USER),
            ("STACKTAG_REGISTRY_PASSWORD", PASSWORD),
        ],
    );
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stored = r.state().join(format!(
        "data/docker/registry/v2/repositories/{OWNER}/{IMAGE}/_manifests/tags"
    ));
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::read_dir(&stored).map_or(0, |d| d.count()) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    r.stop();
    let o = child.wait_with_output().unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(11), "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        err.contains(&format!("cannot reach registry {}", r.host())),
        "{err}"
    );
    assert!(err.contains("run the same command again"), "{err}");

    // Merge with the registry down: the same kind of error, nothing else.
    let o = r.stacktag(&["merge", "--image", IMAGE, "--tags-dir", &td, "--tries", "2"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(11), "{err}");
    assert!(
        err.contains(&format!("cannot reach registry {}", r.host()))
            && err.contains("gave up after 2 tries"),
        "{err}"
    );

    r.up();
    assert_ok(&r.stacktag(&args));
    let mut want = x86.clone();
    want.sort();
    assert_eq!(r.tags().await, want);
    let out = assert_ok(&r.stacktag(&[
        "merge",
        "--image",
        IMAGE,
        "--tags-dir",
        &td,
        "--allow-missing-platform",
    ]));
    assert_eq!(out.lines().count(), 30, "{out}");
}

/// Regression (a fresh machine's first `make test`): a registry stopped while it
/// wrote a tag leaves that tag's link file empty, and reads of the tag answer
/// 500 UNKNOWN. The push that rewrites the tag must not read it first.
#[tokio::test]
async fn a_tag_the_registry_left_half_written_is_pushed_again() {
    let mut r = Registry::start();
    let x86 = tags("x86_64", &["latest", "half"]);
    r.image("amd64", "half-written tag", &x86);
    r.tags_file(&r.dir.path().join("tags"), "x86_64", &x86);
    let td = tags_dir(&r);
    let args = ["push", "--image", IMAGE, "--tags-dir", &td, "--tries", "1"];
    assert_ok(&r.stacktag(&args));

    // What a registry killed between creating the file and writing it leaves.
    let link = r.state().join(format!(
        "data/docker/registry/v2/repositories/{OWNER}/{IMAGE}/_manifests/tags/{}/current/link",
        x86[0]
    ));
    std::fs::write(&link, "").unwrap();
    let o = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-u"])
        .arg(format!("{USER}:{PASSWORD}"))
        .arg(format!(
            "http://{}/v2/{OWNER}/{IMAGE}/manifests/{}",
            r.host(),
            x86[0]
        ))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "500",
        "the registry's answer to the broken tag"
    );

    assert_ok(&r.stacktag(&args));
    let digest = std::fs::read_to_string(&link).unwrap();
    assert!(
        digest.starts_with("sha256:"),
        "the push rewrote the tag: {digest:?}"
    );
    let (_, read) = r.manifest(&x86[0]).await;
    assert_eq!(read, digest);
}

#[tokio::test]
async fn credentials_come_from_the_docker_config_after_docker_login() {
    let mut r = Registry::start();
    let x86 = tags("x86_64", &["latest"]);
    r.image("amd64", "docker login test", &x86);
    r.tags_file(&r.dir.path().join("tags"), "x86_64", &x86);
    let config = r.docker_login();

    let config = config.display().to_string();
    let o = r.stacktag_with(
        &["push", "--image", IMAGE, "--tags-dir", &tags_dir(&r)],
        &[("DOCKER_CONFIG", &config)],
        None,
    );
    assert_ok(&o);
    assert_eq!(r.tags().await, x86);
}

#[tokio::test]
async fn merge_refuses_a_platform_tag_that_points_at_another_architecture() {
    let mut r = Registry::start();
    let x86 = tags("x86_64", &["latest"]);
    let arm = tags("aarch64", &["latest"]);
    // The aarch64 tag was put on an amd64 image by mistake.
    r.image(
        "amd64",
        "wrong arch test",
        &[x86.clone(), arm.clone()].concat(),
    );
    let dir = r.dir.path().join("tags");
    r.tags_file(&dir, "x86_64", &x86);
    r.tags_file(&dir, "aarch64", &arm);
    let td = tags_dir(&r);
    // stacktag push refuses that, so the docker CLI pushes it.
    let o = r.stacktag(&[
        "push",
        "--image",
        IMAGE,
        "--platform",
        "aarch64",
        "--tags-dir",
        &td,
    ]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(
        err.contains("is x86_64, but --platform says aarch64"),
        "{err}"
    );
    assert_ok(&r.stacktag(&[
        "push",
        "--image",
        IMAGE,
        "--platform",
        "x86_64",
        "--tags-dir",
        &td,
    ]));
    let config = r.docker_login();
    let pushed = Command::new("docker")
        .args(["push", &format!("{}:aarch64-latest", r.name())])
        .env("DOCKER_CONFIG", &config)
        .output()
        .unwrap();
    assert!(
        pushed.status.success(),
        "{}",
        String::from_utf8_lossy(&pushed.stderr)
    );

    let o = r.stacktag(&["merge", "--image", IMAGE, "--tags-dir", &td]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(13), "{err}");
    assert!(
        err.contains(&format!(
            "{}:aarch64-latest is a linux/amd64 image, but its tag says aarch64",
            r.name()
        )),
        "{err}"
    );
    assert_eq!(r.tags().await, ["aarch64-latest", "x86_64-latest"]);
}

#[tokio::test]
async fn a_registry_back_within_the_tries_is_waited_for() {
    let mut r = Registry::start();
    two_platforms(&mut r, &["latest"]);
    r.stop();
    let child = r
        .command(
            &[
                "merge",
                "--image",
                IMAGE,
                "--tags-dir",
                &tags_dir(&r),
                "--tries",
                "6",
            ],
            &[
                ("STACKTAG_REGISTRY_USER", USER),
                ("STACKTAG_REGISTRY_PASSWORD", PASSWORD),
            ],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    r.up();
    let o = child.wait_with_output().unwrap();
    let (_, err) = text(&o);
    assert_ok(&o);
    assert!(
        err.contains("Connection refused") && err.contains("try 2 in 0.5s"),
        "{err}"
    );
    let (index, _) = r.manifest("latest").await;
    assert_eq!(index["manifests"].as_array().unwrap().len(), 2);
}

#[test]
fn help_names_the_credential_sources_and_exit_codes() {
    for cmd in ["push", "merge", "image-ref"] {
        let o = crate::support::stacktag("t-publish-help")
            .args([cmd, "--help"])
            .output()
            .unwrap();
        let help = assert_ok(&o);
        for needle in [
            "--password-stdin",
            "STACKTAG_REGISTRY_USER",
            "STACKTAG_REGISTRY_PASSWORD",
            "DOCKER_CONFIG",
            "12   the registry refused the credentials",
        ] {
            assert!(
                help.contains(needle),
                "`stacktag {cmd} --help` lacks {needle}:\n{help}"
            );
        }
    }
}

/// push, merge and image-ref take image names and `--all`, as every command
/// that acts on images does (one selection type); `--image` still works,
/// hidden. With several images the JSON document holds one per image.
#[tokio::test]
async fn push_merge_and_image_ref_take_image_names_and_all() {
    const CHILD: &str = "tiny-child";
    let mut r = Registry::start();
    r.children.push(CHILD.to_string());
    let x86 = tags("x86_64", &["latest", "2026-11-24"]);
    let dir = r.dir.path().join("tags");
    r.image("amd64", "several: parent", &x86);
    r.image_of(CHILD, "amd64", "several: child", &x86);
    r.tags_file(&dir, "x86_64", &x86);
    r.tags_file_of(CHILD, &dir, "x86_64", &x86);
    let td = tags_dir(&r);

    // --all with a name is refused by the command line, before any push.
    let out = r.stacktag(&["push", "--all", "--image", IMAGE, "--tags-dir", &td]);
    assert_eq!(crate::support::code(&out), 2, "{:?}", text(&out));
    assert!(r.tags().await.is_empty());

    // --all: every image, parents first, one document each.
    let out = r.stacktag(&["push", "--all", "--tags-dir", &td, "--format", "json"]);
    let doc = crate::json::document("push --all", &out, "push");
    let images = doc["images"].as_array().unwrap();
    let names: Vec<&str> = images
        .iter()
        .map(|d| d["image"].as_str().unwrap())
        .collect();
    assert_eq!(names, [IMAGE, CHILD]);
    for d in images {
        assert_eq!(d["pushed"].as_array().unwrap().len(), 2, "{d}");
    }
    let (c, auth) = r.client();
    let child = Reference::with_tag(r.host(), format!("{OWNER}/{CHILD}"), "x86_64-latest".into());
    let mut listed = c.list_tags(&child, &auth, None, None).await.unwrap().tags;
    listed.sort();
    assert_eq!(listed, ["x86_64-2026-11-24", "x86_64-latest"]);

    // Names as arguments; merge of both (one platform here, so allowed missing).
    let out = r.stacktag(&[
        "merge",
        IMAGE,
        CHILD,
        "--tags-dir",
        &td,
        "--allow-missing-platform",
        "--format",
        "json",
    ]);
    let doc = crate::json::document("merge IMAGE IMAGE", &out, "merge");
    let merged: Vec<&str> = doc["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["image"].as_str().unwrap())
        .collect();
    assert_eq!(merged, [IMAGE, CHILD]);

    // One name: that image's document, as before; --all: a line per image.
    let out = r.stacktag(&["image-ref", CHILD, "--format", "json"]);
    let doc = crate::json::document("image-ref IMAGE", &out, "image-ref");
    assert_eq!(doc["image"], CHILD);
    let out = assert_ok(&r.stacktag(&["image-ref", "--all"]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with(&format!("{}@sha256:", r.name())),
        "{out}"
    );
    assert!(
        lines[1].starts_with(&format!("{}/{OWNER}/{CHILD}@sha256:", r.host())),
        "{out}"
    );
}

/// A registry whose state directory was removed under it (a checkout
/// cleaned by `git clean` or `make clean`) still answers, but refuses every
/// login; `scripts/registry-up` on its port stops it and starts one that
/// takes the login.
#[test]
fn registry_up_replaces_a_registry_whose_state_was_removed() {
    let reg = Registry::start();
    let login = || -> String {
        let out = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-u"])
            .arg(format!("{USER}:{PASSWORD}"))
            .arg(format!("http://{}/v2/", reg.host()))
            .output()
            .expect("curl (make fixtures installs it)");
        String::from_utf8_lossy(&out.stdout).into()
    };
    assert_eq!(login(), "200");
    std::fs::remove_dir_all(reg.state()).unwrap();
    assert_eq!(login(), "400", "the registry without its htpasswd");

    let again = reg.dir.path().join("again");
    struct Stop(std::path::PathBuf);
    impl Drop for Stop {
        fn drop(&mut self) {
            if let Ok(pid) = std::fs::read_to_string(self.0.join("registry.pid")) {
                let _ = Command::new("kill").arg(pid.trim()).status();
            }
        }
    }
    let _stop = Stop(again.clone());
    let out = Command::new(crate::support::repo_root().join("scripts/registry-up"))
        .arg(reg.port.to_string())
        .arg(&again)
        .env("STACKTAG_TEST_USER", USER)
        .env("STACKTAG_TEST_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert_ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("registry-up: stopping registry") && err.contains("config.yml is gone"),
        "{err}"
    );
    assert_eq!(login(), "200");
}
