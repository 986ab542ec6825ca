//! Publishing against a real registry (Debian's docker-registry with an
//! htpasswd file, started on a free loopback port per test by
//! `scripts/registry-up`) and the real Docker daemon. What a test pushes is
//! read back through the registry's own API (oci-client), not through stacktag.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use oci_client::secrets::RegistryAuth;
use oci_client::{Reference, RegistryOperation};

use crate::token_server::TokenServer;

pub(crate) const USER: &str = "publish-test";
pub(crate) const PASSWORD: &str = "pw-Publish-7c1e9a";
pub(crate) const WRONG: &str = "wrong-Hunter2-4d5f";
/// What `docker login` stores for an OAuth registry, instead of a password.
const IDENTITY_TOKEN: &str = "identity-Refresh-9b2e71";
pub(crate) const OWNER: &str = "stacktag-test";
pub(crate) const IMAGE: &str = "tiny";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A registry of this test only; stopped (and its images removed) on drop.
pub(crate) struct Registry {
    pub(crate) port: u16,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) images: Vec<String>,
    /// Bearer-token auth from this server instead of Basic auth.
    pub(crate) token: Option<TokenServer>,
    /// Deletes enabled (distribution's `storage.delete.enabled`).
    pub(crate) deletes: bool,
}

impl Registry {
    pub(crate) fn start() -> Registry {
        Registry::start_with(false)
    }

    /// A registry that wants bearer tokens, from a token server of its own.
    pub(crate) fn start_with_token_auth() -> Registry {
        Registry::start_with(true)
    }

    fn start_with(token_auth: bool) -> Registry {
        Registry::start_configured(token_auth.then_some(None), true)
    }

    /// `token`: bearer tokens from a server of its own granting only these
    /// actions (`Some(None)`: every action asked); `deletes`: whether the
    /// registry allows deletes.
    pub(crate) fn start_configured(token: Option<Option<&[&str]>>, deletes: bool) -> Registry {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let token = token.map(|allowed| {
            TokenServer::start_granting(dir.path(), USER, PASSWORD, IDENTITY_TOKEN, allowed)
        });
        let r = Registry {
            port,
            dir,
            images: Vec::new(),
            token,
            deletes,
        };
        r.up();
        r
    }

    pub(crate) fn state(&self) -> PathBuf {
        self.dir.path().join("registry")
    }

    pub(crate) fn up(&self) {
        let mut cmd = Command::new(root().join("scripts/registry-up"));
        cmd.arg(self.port.to_string())
            .arg(self.state())
            .env("STACKTAG_TEST_USER", USER)
            .env("STACKTAG_TEST_PASSWORD", PASSWORD)
            .env(
                "STACKTAG_TEST_REGISTRY_DELETE",
                if self.deletes { "true" } else { "false" },
            );
        if let Some(t) = &self.token {
            cmd.env("STACKTAG_TEST_TOKEN_REALM", &t.realm)
                .env("STACKTAG_TEST_TOKEN_CERT", &t.cert);
        }
        let st = cmd.status().unwrap();
        assert!(st.success(), "scripts/registry-up failed");
    }

    fn stop(&self) {
        let Ok(pid) = std::fs::read_to_string(self.state().join("registry.pid")) else {
            return;
        };
        let _ = Command::new("kill").arg(pid.trim()).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub(crate) fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub(crate) fn name(&self) -> String {
        format!("{}/{OWNER}/{IMAGE}", self.host())
    }

    /// A tiny image for `arch` (amd64, arm64) under `tags`, made from scratch:
    /// it never runs, so any architecture will do.
    pub(crate) fn image(&mut self, arch: &str, content: &str, tags: &[String]) {
        let ctx = tempfile::tempdir().unwrap();
        std::fs::write(ctx.path().join("hello"), content).unwrap();
        std::fs::write(
            ctx.path().join("Dockerfile"),
            "FROM scratch\nCOPY hello /hello\n",
        )
        .unwrap();
        let mut cmd = Command::new("docker");
        cmd.args(["build", "--quiet", "--platform", &format!("linux/{arch}")])
            .env("DOCKER_BUILDKIT", "0");
        for t in tags {
            let reference = format!("{}:{t}", self.name());
            cmd.args(["-t", &reference]);
            self.images.push(reference);
        }
        cmd.arg(ctx.path());
        let mut out = cmd.output().unwrap();
        // The classic builder commits the COPY step, then looks the new image
        // up; on a daemon shared with concurrent BuildKit builds that lookup has
        // failed (once in a whole run) with "unable to find image". One retry.
        if !out.status.success()
            && String::from_utf8_lossy(&out.stderr).contains("unable to find image")
        {
            out = cmd.output().unwrap();
        }
        assert!(
            out.status.success(),
            "docker build: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The tags file `stacktag hook` would have written.
    pub(crate) fn tags_file(&self, tags_dir: &Path, platform: &str, tags: &[String]) {
        std::fs::create_dir_all(tags_dir).unwrap();
        let text = tags
            .iter()
            .map(|t| format!("{}:{t}", self.name()))
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(
            tags_dir.join(format!("{platform}-default-{IMAGE}.txt")),
            text,
        )
        .unwrap();
    }

    pub(crate) fn hierarchy(&self) -> PathBuf {
        let path = self.dir.path().join("hierarchy.yaml");
        std::fs::write(
            &path,
            format!("registry: {}\nowner: {OWNER}\nrepository: stacktag/test\nimages:\n  {IMAGE}:\n    taggers: [date]\n", self.host()),
        )
        .unwrap();
        path
    }

    /// Runs stacktag with the registry's credentials in the environment.
    pub(crate) fn stacktag(&self, args: &[&str]) -> Output {
        self.stacktag_with(
            args,
            &[
                ("STACKTAG_REGISTRY_USER", USER),
                ("STACKTAG_REGISTRY_PASSWORD", PASSWORD),
            ],
            None,
        )
    }

    pub(crate) fn stacktag_with(
        &self,
        args: &[&str],
        env: &[(&str, &str)],
        stdin: Option<&str>,
    ) -> Output {
        let mut cmd = self.command(args, env);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let Some(text) = stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        child.wait_with_output().unwrap()
    }

    pub(crate) fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = crate::support::stacktag("t-publish");
        cmd.arg("--config")
            .arg(self.hierarchy())
            .args(args)
            .env_remove("STACKTAG_REGISTRY_USER")
            .env_remove("STACKTAG_REGISTRY_PASSWORD")
            .env_remove("STACKTAG_TIMESTAMP")
            // No Docker config of the user's leaks in.
            .env("DOCKER_CONFIG", self.dir.path().join("no-docker-config"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    /// `docker login` into a Docker config of this test only; returns its directory.
    fn docker_login(&self) -> PathBuf {
        let config = self.dir.path().join("docker-config");
        let mut login = Command::new("docker")
            .args([
                "login",
                "--username",
                USER,
                "--password-stdin",
                &self.host(),
            ])
            .env("DOCKER_CONFIG", &config)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            let mut stdin = login.stdin.take().unwrap();
            stdin.write_all(PASSWORD.as_bytes()).unwrap();
        }
        assert!(login.wait().unwrap().success(), "docker login");
        config
    }

    /// The registry's API, as any client sees it.
    pub(crate) fn client(&self) -> (oci_client::Client, RegistryAuth) {
        let config = oci_client::client::ClientConfig {
            protocol: oci_client::client::ClientProtocol::Http,
            ..Default::default()
        };
        stacktag::registry::client::install_tls_provider();
        (
            oci_client::Client::new(config),
            RegistryAuth::Basic(USER.into(), PASSWORD.into()),
        )
    }

    pub(crate) fn reference(&self, tag: &str) -> Reference {
        Reference::with_tag(self.host(), format!("{OWNER}/{IMAGE}"), tag.into())
    }

    pub(crate) async fn tags(&self) -> Vec<String> {
        let (c, auth) = self.client();
        match c
            .list_tags(&self.reference("latest"), &auth, None, None)
            .await
        {
            Ok(t) => {
                let mut t = t.tags;
                t.sort();
                t
            }
            Err(_) => Vec::new(), // the repository does not exist yet
        }
    }

    pub(crate) async fn manifest(&self, tag: &str) -> (serde_json::Value, String) {
        let (c, auth) = self.client();
        c.auth(&self.reference(tag), &auth, RegistryOperation::Pull)
            .await
            .unwrap();
        let (body, digest) = c
            .pull_manifest_raw(
                &self.reference(tag),
                &auth,
                &[
                    "application/vnd.docker.distribution.manifest.v2+json",
                    "application/vnd.docker.distribution.manifest.list.v2+json",
                    "application/vnd.oci.image.manifest.v1+json",
                    "application/vnd.oci.image.index.v1+json",
                ],
            )
            .await
            .unwrap();
        (serde_json::from_slice(&body).unwrap(), digest)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
        if !self.images.is_empty() {
            let _ = Command::new("docker")
                .arg("rmi")
                .args(&self.images)
                .output();
        }
    }
}

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
