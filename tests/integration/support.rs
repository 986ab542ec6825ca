//! Helpers: the binary, the docker CLI as an independent oracle, per-test
//! images and run ids, and the leak check.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use oci_client::secrets::RegistryAuth;
use oci_client::{Reference, RegistryOperation};

use crate::token_server::TokenServer;

pub const BUSYBOX: &str = "stacktag-test/busybox:latest";
pub const DEMO_REGISTRY: &str = "localhost:5000";
pub const DEMO_OWNER: &str = "stacktag";

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `stacktag` with a run id the test can check for leaks. `STACKTAG_TEST_BIN`
/// runs another build instead (to see a regression test fail on old code).
pub fn stacktag(run_id: &str) -> Command {
    let bin = std::env::var_os("STACKTAG_TEST_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_stacktag")),
        PathBuf::from,
    );
    let mut cmd = Command::new(bin);
    cmd.env("STACKTAG_RUN_ID", run_id)
        .env_remove("STACKTAG_CONFIG")
        .current_dir(repo_root());
    cmd
}

/// `stacktag --config CONFIG`, with a run id as [`stacktag`].
pub fn stacktag_config(run_id: &str, config: &Path) -> Command {
    let mut cmd = stacktag(run_id);
    cmd.arg("--config").arg(config);
    cmd
}

/// A finished command's exit status and both streams, for an assertion message.
pub fn report(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs the docker CLI and returns stdout; panics with stderr on failure.
pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("docker CLI");
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Runs `argv` in a fresh container of `image` (networking off): what the
/// image really says, computed apart from stacktag.
pub fn oracle(image: &str, argv: &[&str]) -> String {
    let mut args = vec![
        "run",
        "--rm",
        "--network",
        "none",
        "--entrypoint",
        argv[0],
        image,
    ];
    args.extend(&argv[1..]);
    docker(&args)
}

pub fn repo_tags(reference: &str) -> Vec<String> {
    let out = Command::new("docker")
        .args([
            "image",
            "inspect",
            "--format",
            "{{range .RepoTags}}{{println .}}{{end}}",
            reference,
        ])
        .output()
        .expect("docker CLI");
    text(&out.stdout)
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect()
}

/// The tags of `name` (`{name}:*`) only: images made from one fixture share
/// an ID, so their RepoTags hold other tests' names too.
pub fn own_tags(name: &str) -> Vec<String> {
    let prefix = format!("{name}:");
    repo_tags(&format!("{name}:latest"))
        .into_iter()
        .filter(|t| t.starts_with(&prefix))
        .collect()
}

/// Containers of one run still on the daemon.
pub fn containers_of(run_id: &str) -> usize {
    docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=org.stacktag.run={run_id}"),
    ])
    .lines()
    .count()
}

pub fn assert_no_containers(run_id: &str) {
    assert_eq!(
        containers_of(run_id),
        0,
        "containers of run {run_id} left behind"
    );
}

pub fn ensure_busybox() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let status = Command::new(repo_root().join("scripts/busybox-image"))
            .arg(BUSYBOX)
            .status()
            .expect("script");
        assert!(status.success(), "could not make {BUSYBOX}");
    });
}

/// An image of the test's own (`localhost:5000/{owner}/box`), removed with all
/// its tags when dropped, so tests never see each other's tags.
pub struct TestImage {
    pub name: String,
}

impl TestImage {
    /// The busybox fixture, or an image built from it with `dockerfile_lines` added.
    pub fn new(owner: &str, dockerfile_lines: &str) -> TestImage {
        TestImage::named(owner, "box", dockerfile_lines)
    }

    /// As [`TestImage::new`], named `localhost:5000/{owner}/{image}`.
    pub fn named(owner: &str, image: &str, dockerfile_lines: &str) -> TestImage {
        ensure_busybox();
        let name = format!("{DEMO_REGISTRY}/{owner}/{image}");
        if dockerfile_lines.is_empty() {
            docker(&["tag", BUSYBOX, &format!("{name}:latest")]);
        } else {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(
                dir.path().join("Dockerfile"),
                format!("FROM {BUSYBOX}\n{dockerfile_lines}\n"),
            )
            .unwrap();
            docker(&[
                "build",
                "-q",
                "-t",
                &format!("{name}:latest"),
                dir.path().to_str().unwrap(),
            ]);
        }
        TestImage { name }
    }

    /// `localhost:5000/{owner}/{image}` built from a whole Dockerfile.
    pub fn from_dockerfile(owner: &str, image: &str, dockerfile: &str) -> TestImage {
        ensure_busybox();
        let name = format!("{DEMO_REGISTRY}/{owner}/{image}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap();
        docker(&[
            "build",
            "-q",
            "-t",
            &format!("{name}:latest"),
            dir.path().to_str().unwrap(),
        ]);
        TestImage { name }
    }

    /// This image name's tags other than `latest` (other names may share the image ID).
    pub fn extra_tags(&self) -> Vec<String> {
        own_tags(&self.name)
            .into_iter()
            .filter(|t| !t.ends_with(":latest"))
            .collect()
    }
}

impl Drop for TestImage {
    fn drop(&mut self) {
        for t in own_tags(&self.name) {
            let _ = Command::new("docker")
                .args(["rmi", "--no-prune", &t])
                .output();
        }
    }
}

/// Writes a hierarchy file for test images into `dir`.
pub fn hierarchy(dir: &Path, owner: &str, images: &str) -> PathBuf {
    let path = dir.join("hierarchy.yaml");
    std::fs::write(&path, format!("registry: {DEMO_REGISTRY}\nowner: {owner}\nrepository: stacktag/tests\nimages:\n{images}")).unwrap();
    path
}

/// Every file under `dir`, relative, sorted.
pub fn files_under(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

pub fn head_sha() -> String {
    let out = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(repo_root())
        .output()
        .unwrap();
    text(&out.stdout).trim().to_string()
}

pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

/// A loopback TCP proxy to the daemon's socket, standing in for a remote
/// daemon (`DOCKER_HOST=tcp://127.0.0.1:PORT`). It counts its connections,
/// and holds every "tag an image" request back by `tag_delay` before passing
/// it on, to make the tag step slow enough to land a signal in.
pub fn docker_proxy(tag_delay: Duration) -> (u16, Arc<AtomicUsize>) {
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    let port = serve_loopback(move |tcp| {
        counted.fetch_add(1, Ordering::SeqCst);
        relay(tcp, tag_delay)
    });
    (port, connections)
}

/// Accepts connections on a free loopback port, in a thread of its own, and
/// hands each to `handler` as a task. Returns the port.
fn serve_loopback<F, Fut>(handler: F) -> u16
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                tokio::spawn(handler(tcp));
            }
        });
    });
    port
}

async fn relay(tcp: tokio::net::TcpStream, tag_delay: Duration) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let unix = tokio::net::UnixStream::connect("/var/run/docker.sock")
        .await
        .unwrap();
    let (mut from_client, mut to_client) = tcp.into_split();
    let (mut from_daemon, mut to_daemon) = unix.into_split();
    let up = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match from_client.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let head = String::from_utf8_lossy(&buf[..n.min(512)]);
            if head.starts_with("POST ") && head.contains("/tag?") {
                tokio::time::sleep(tag_delay).await;
            }
            if to_daemon.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = to_daemon.shutdown().await;
    };
    let down = async move {
        let _ = tokio::io::copy(&mut from_daemon, &mut to_client).await;
        let _ = to_client.shutdown().await;
    };
    tokio::join!(up, down);
}

/// A TLS front for the daemon's socket, as a remote daemon on port 2376 is
/// (`dockerd --tlsverify`): it serves `cert`/`key` and accepts only clients
/// with a certificate signed by `client_ca`. Returns its loopback port.
pub fn tls_docker_proxy(cert: &Path, key: &Path, client_ca: &Path) -> u16 {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    use tokio_rustls::rustls;

    stacktag::registry::client::install_tls_provider();
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_file_iter(client_ca).unwrap() {
        roots.add(ca.unwrap()).unwrap();
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
        .build()
        .unwrap();
    let chain = CertificateDer::pem_file_iter(cert)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let config = rustls::ServerConfig::builder()
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, PrivateKeyDer::from_pem_file(key).unwrap())
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    serve_loopback(move |tcp| {
        let acceptor = acceptor.clone();
        async move {
            // A client without a trusted certificate ends here.
            let Ok(mut tls) = acceptor.accept(tcp).await else {
                return;
            };
            let mut unix = tokio::net::UnixStream::connect("/var/run/docker.sock")
                .await
                .unwrap();
            let _ = tokio::io::copy_bidirectional(&mut tls, &mut unix).await;
        }
    })
}

/// Runs the openssl CLI in `dir`; panics with its stderr if it fails.
pub fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl CLI (make test installs it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        text(&out.stderr)
    );
    out.stdout
}

/// A self-signed certificate (RSA, one day) for `cn`, into `dir/{key,cert}`.
pub fn self_signed(dir: &Path, cn: &str, key: &str, cert: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            &format!("/CN={cn}"),
            "-keyout",
            key,
            "-out",
            cert,
        ],
    );
}

pub use crate::golden::{golden, golden_at};

// ---- the registry fixture ----

/// The one registry fixture of the tests: Debian's docker-registry with an
/// htpasswd file (or bearer tokens from a server of its own), started by
/// `scripts/registry-up` on a free loopback port for one test; stopped, and
/// the images it made removed, on drop.
pub(crate) const USER: &str = "publish-test";
pub(crate) const PASSWORD: &str = "pw-Publish-7c1e9a";
pub(crate) const WRONG: &str = "wrong-Hunter2-4d5f";
/// What `docker login` stores for an OAuth registry, instead of a password.
pub(crate) const IDENTITY_TOKEN: &str = "identity-Refresh-9b2e71";
pub(crate) const OWNER: &str = "stacktag-test";
pub(crate) const IMAGE: &str = "tiny";

pub(crate) struct Registry {
    pub(crate) port: u16,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) images: Vec<String>,
    /// Bearer-token auth from this server instead of Basic auth.
    pub(crate) token: Option<TokenServer>,
    /// Deletes enabled (distribution's `storage.delete.enabled`).
    pub(crate) deletes: bool,
    /// Images of the hierarchy file besides IMAGE: children of it.
    pub(crate) children: Vec<String>,
}

impl Registry {
    pub(crate) fn start() -> Registry {
        Registry::start_with(false)
    }

    /// A registry that wants bearer tokens, from a token server of its own.
    pub(crate) fn start_with_token_auth() -> Registry {
        Registry::start_with(true)
    }

    pub(crate) fn start_with(token_auth: bool) -> Registry {
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
            children: Vec::new(),
        };
        r.up();
        r
    }

    pub(crate) fn state(&self) -> PathBuf {
        self.dir.path().join("registry")
    }

    pub(crate) fn up(&self) {
        let mut cmd = Command::new(repo_root().join("scripts/registry-up"));
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

    pub(crate) fn stop(&self) {
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
        self.image_of(IMAGE, arch, content, tags);
    }

    /// [`Registry::image`] of another image of the hierarchy file.
    pub(crate) fn image_of(&mut self, image: &str, arch: &str, content: &str, tags: &[String]) {
        let name = format!("{}/{OWNER}/{image}", self.host());
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
            let reference = format!("{name}:{t}");
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
        self.tags_file_of(IMAGE, tags_dir, platform, tags);
    }

    /// [`Registry::tags_file`] of another image of the hierarchy file.
    pub(crate) fn tags_file_of(
        &self,
        image: &str,
        tags_dir: &Path,
        platform: &str,
        tags: &[String],
    ) {
        std::fs::create_dir_all(tags_dir).unwrap();
        let name = format!("{}/{OWNER}/{image}", self.host());
        let text = tags
            .iter()
            .map(|t| format!("{name}:{t}"))
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(
            tags_dir.join(format!("{platform}-default-{image}.txt")),
            text,
        )
        .unwrap();
    }

    pub(crate) fn hierarchy(&self) -> PathBuf {
        let path = self.dir.path().join("hierarchy.yaml");
        std::fs::write(
            &path,
            format!(
                "registry: {}\nowner: {OWNER}\nrepository: stacktag/test\nimages:\n  {IMAGE}:\n    taggers: [date]\n{}",
                self.host(),
                self.children
                    .iter()
                    .map(|c| format!("  {c}:\n    parent: {IMAGE}\n"))
                    .collect::<String>()
            ),
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
    pub(crate) fn docker_login(&self) -> PathBuf {
        self.docker_login_to(&self.host())
    }

    /// `docker login` to `host` (the registry, or a proxy in front of it).
    pub(crate) fn docker_login_to(&self, host: &str) -> PathBuf {
        let config = self.dir.path().join("docker-config");
        let mut login = Command::new("docker")
            .args(["login", "--username", USER, "--password-stdin", host])
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
