//! Helpers: the binary, the docker CLI as an independent oracle, per-test
//! images and run ids, and the leak check.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::time::Duration;

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

/// Compares `actual` with `tests/golden/{name}`; `STACKTAG_BLESS=1` rewrites it
/// (the one variable for every golden file, unit tests included).
pub fn golden(name: &str, actual: &str) {
    let path = repo_root().join("tests/golden").join(name);
    if std::env::var_os("STACKTAG_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        actual,
        expected,
        "{} differs (STACKTAG_BLESS=1 to accept)",
        path.display()
    );
}
