//! `stacktag push --archive` against a real registry with auth (Debian's
//! docker-registry, htpasswd), with no Docker daemon: `DOCKER_HOST` points at
//! a socket that does not exist. A proxy in front of the registry counts the
//! requests and can kill the registry in the middle of an upload. The
//! docker CLI (`docker pull`) and the registry's API (curl) are the oracles.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::archive::{image_id, ok, to_oci_layout, write_archive, write_sum, Tiny};
use crate::support::{code, repo_root, text};

const USER: &str = "archive-push";
const PASSWORD: &str = "pw-Archive-93b1c0";
const NO_DAEMON: &str = "unix:///nonexistent/stacktag-test-no-daemon.sock";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A registry of one test, behind a counting proxy; stopped on drop.
struct Registry {
    port: u16,
    proxy: u16,
    state: tempfile::TempDir,
    /// Request lines seen by the proxy (`PUT /v2/...`).
    requests: Arc<Mutex<Vec<String>>>,
    /// Kill the registry when the proxy sees this many blob uploads start.
    kill_at_upload: Arc<Mutex<Option<usize>>>,
}

impl Registry {
    fn start() -> Registry {
        let mut r = Registry {
            port: free_port(),
            proxy: 0,
            state: tempfile::tempdir().unwrap(),
            requests: Arc::default(),
            kill_at_upload: Arc::default(),
        };
        r.up();
        r.proxy = proxy(
            r.port,
            r.requests.clone(),
            r.kill_at_upload.clone(),
            r.state.path().join("registry.pid"),
        );
        r
    }

    fn up(&self) {
        let st = Command::new(repo_root().join("scripts/registry-up"))
            .arg(self.port.to_string())
            .arg(self.state.path())
            .env("STACKTAG_TEST_USER", USER)
            .env("STACKTAG_TEST_PASSWORD", PASSWORD)
            .status()
            .unwrap();
        assert!(st.success(), "scripts/registry-up failed");
    }

    fn stop(&self) {
        if let Ok(pid) = std::fs::read_to_string(self.state.path().join("registry.pid")) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_ok() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The registry as clients see it: through the proxy.
    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.proxy)
    }

    fn take_requests(&self) -> Vec<String> {
        std::mem::take(&mut *self.requests.lock().unwrap())
    }

    /// `GET /v2/{repository}/manifests/{tag}` as JSON, through curl.
    fn manifest(&self, repository: &str, tag: &str) -> serde_json::Value {
        let out = Command::new("curl")
            .args(["-sf", "-u", &format!("{USER}:{PASSWORD}")])
            .args([
                "-H",
                "Accept: application/vnd.docker.distribution.manifest.v2+json",
            ])
            .arg(format!(
                "http://127.0.0.1:{}/v2/{repository}/manifests/{tag}",
                self.port
            ))
            .output()
            .unwrap();
        assert!(out.status.success(), "no manifest {repository}:{tag}");
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn tags(&self, repository: &str) -> Vec<String> {
        let out = Command::new("curl")
            .args(["-sf", "-u", &format!("{USER}:{PASSWORD}")])
            .arg(format!(
                "http://127.0.0.1:{}/v2/{repository}/tags/list",
                self.port
            ))
            .output()
            .unwrap();
        if !out.status.success() {
            return Vec::new();
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut tags: Vec<String> = v["tags"]
            .as_array()
            .map(|a| a.iter().map(|t| t.as_str().unwrap().to_string()).collect())
            .unwrap_or_default();
        tags.sort();
        tags
    }

    /// A Docker config of this test with `docker login` done.
    fn docker_config(&self) -> PathBuf {
        let dir = self.state.path().join("docker-config");
        let mut login = Command::new("docker")
            .args([
                "login",
                "--username",
                USER,
                "--password-stdin",
                &self.host(),
            ])
            .env("DOCKER_CONFIG", &dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        login
            .stdin
            .take()
            .unwrap()
            .write_all(PASSWORD.as_bytes())
            .unwrap();
        assert!(login.wait().unwrap().success(), "docker login");
        dir
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A TCP proxy to the registry that records each request line, and kills
/// the registry (by its pid file) when the upload count reaches the switch.
fn proxy(
    upstream: u16,
    requests: Arc<Mutex<Vec<String>>>,
    kill_at_upload: Arc<Mutex<Option<usize>>>,
    pid_file: PathBuf,
) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                continue; // the registry is down: the client sees its connection closed
            };
            let (requests, kill, pid_file) =
                (requests.clone(), kill_at_upload.clone(), pid_file.clone());
            let (mut c_read, mut s_write) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 64 << 10];
                let mut carry = String::new();
                while let Ok(n) = c_read.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let seen = carry.clone() + &String::from_utf8_lossy(&buf[..n]);
                    let mut killed = false;
                    for line in seen.split("\r\n") {
                        for m in ["GET", "HEAD", "PUT", "POST", "PATCH", "DELETE"] {
                            // A request right after a body has no line break before it.
                            let Some(at) = line.find(&format!("{m} /v2/")) else {
                                continue;
                            };
                            let line = &line[at..];
                            if line.ends_with("HTTP/1.1") {
                                let mut all = requests.lock().unwrap();
                                all.push(line.to_string());
                                let uploads = all
                                    .iter()
                                    .filter(|l| {
                                        l.starts_with("PUT ") && l.contains("/blobs/uploads/")
                                    })
                                    .count();
                                let mut k = kill.lock().unwrap();
                                if k.is_some_and(|at| uploads >= at) {
                                    *k = None;
                                    if let Ok(pid) = std::fs::read_to_string(&pid_file) {
                                        let _ =
                                            Command::new("kill").args(["-9", pid.trim()]).status();
                                    }
                                    killed = true;
                                }
                            }
                        }
                    }
                    carry = seen.rsplit_once("\r\n").map_or_else(
                        || {
                            seen.chars()
                                .rev()
                                .take(64)
                                .collect::<String>()
                                .chars()
                                .rev()
                                .collect()
                        },
                        |(_, tail)| tail.chars().take(200).collect(),
                    );
                    if killed {
                        // The request is cut off in the middle, as a dying registry cuts it.
                        let _ = s_write.write_all(&buf[..n / 2]);
                        let _ = s_write.shutdown(std::net::Shutdown::Both);
                        let _ = c_read.shutdown(std::net::Shutdown::Both);
                        break;
                    }
                    if s_write.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = s_write.shutdown(std::net::Shutdown::Write);
            });
            let (mut s_read, mut c_write) = (server, client);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut s_read, &mut c_write);
                let _ = c_write.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    port
}

/// A hierarchy of `images` (name, parent) for registry `host`, owner `owner`, in `dir`.
fn hierarchy(dir: &Path, host: &str, owner: &str, images: &[(&str, Option<&str>)]) -> PathBuf {
    let mut text =
        format!("registry: {host}\nowner: {owner}\nrepository: stacktag/tests\nimages:\n");
    for (name, parent) in images {
        text += &format!("  {name}:\n    taggers: [date]\n");
        if let Some(p) = parent {
            text += &format!("    parent: {p}\n");
        }
    }
    let path = dir.join("hierarchy.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The tags file `stacktag hook` would have written for `image`.
fn tags_file(dir: &Path, host: &str, owner: &str, image: &str, values: &[&str]) -> Vec<String> {
    std::fs::create_dir_all(dir).unwrap();
    let tags: Vec<String> = values.iter().map(|v| format!("x86_64-{v}")).collect();
    let text = tags
        .iter()
        .map(|t| format!("{host}/{owner}/{image}:{t}"))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(dir.join(format!("x86_64-default-{image}.txt")), text).unwrap();
    tags
}

/// `stacktag push --archive` with no daemon and the registry's credentials.
fn push_archive(config: &Path, archive: &Path, tags_dir: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stacktag"))
        .arg("--config")
        .arg(config)
        .args(["push", "--archive"])
        .arg(archive)
        .arg("--tags-dir")
        .arg(tags_dir)
        .args(extra)
        .env("DOCKER_HOST", NO_DAEMON)
        .env("STACKTAG_REGISTRY_USER", USER)
        .env("STACKTAG_REGISTRY_PASSWORD", PASSWORD)
        .env("DOCKER_CONFIG", "/nonexistent/stacktag-test-docker-config")
        .env("XDG_CACHE_HOME", cache_home(config))
        .env_remove("STACKTAG_CONFIG")
        .output()
        .unwrap()
}

/// The test's own cache folder (beside its hierarchy file).
fn cache_home(config: &Path) -> PathBuf {
    config.parent().unwrap().join("cache")
}

fn count(requests: &[String], method: &str, part: &str) -> usize {
    requests
        .iter()
        .filter(|l| l.starts_with(&format!("{method} ")) && l.contains(part))
        .count()
}

/// A tiny image of `layers` layers saved as an archive, a registry of its
/// own, the hierarchy and the tags file (tags `x86_64-{value}`) to push it.
struct OneImage {
    t: Tiny,
    archive: PathBuf,
    r: Registry,
    config: PathBuf,
    tags_dir: PathBuf,
    tags: Vec<String>,
    repository: String,
}

impl OneImage {
    fn new(test: &str, layers: usize, values: &[&str]) -> OneImage {
        let t = Tiny::with_layers(test, layers);
        let archive = t.save(&[]);
        let r = Registry::start();
        let config = hierarchy(t.dir.path(), &r.host(), &t.owner, &[("tiny", None)]);
        let tags_dir = t.dir.path().join("tags");
        let tags = tags_file(&tags_dir, &r.host(), &t.owner, "tiny", values);
        let repository = format!("{}/tiny", t.owner);
        OneImage {
            t,
            archive,
            r,
            config,
            tags_dir,
            tags,
            repository,
        }
    }
}

#[test]
fn push_archive_without_a_daemon_puts_every_tag_and_skips_what_is_there() {
    let OneImage {
        t,
        archive,
        r,
        config,
        tags_dir,
        tags,
        repository,
    } = OneImage::new("pusharchive", 3, &["latest", "2026-11-24", "abc"]);

    let o = push_archive(&config, &archive, &tags_dir, &[]);
    let out = ok(&o);
    let requests = r.take_requests();
    let mut want = tags.clone();
    want.sort();
    assert_eq!(r.tags(&repository), want);
    // The same image: its config digest is the image ID, and the CLI pulls it.
    let m = r.manifest(&repository, &tags[1]);
    assert_eq!(m["config"]["digest"], t.id.as_str());
    assert_eq!(m["layers"].as_array().unwrap().len(), 3);
    assert_eq!(out.lines().count(), 3, "{out}");
    let digest = out
        .lines()
        .next()
        .unwrap()
        .rsplit_once(' ')
        .unwrap()
        .1
        .to_string();
    assert!(out.lines().all(|l| l.ends_with(&digest)), "{out}");
    // 3 layers and the config went up; the tags only after the manifest by digest.
    assert_eq!(
        count(&requests, "PUT", "/blobs/uploads/"),
        4,
        "{requests:#?}"
    );
    let manifest_puts: Vec<&String> = requests
        .iter()
        .filter(|l| l.starts_with("PUT ") && l.contains("/manifests/"))
        .collect();
    assert_eq!(manifest_puts.len(), 4, "{requests:#?}");
    assert!(
        manifest_puts[0].contains(&format!("/manifests/{digest}")),
        "{manifest_puts:?}"
    );
    let last_blob = requests
        .iter()
        .rposition(|l| l.starts_with("PUT ") && l.contains("/blobs/uploads/"))
        .unwrap();
    let first_tag = requests
        .iter()
        .position(|l| l.starts_with("PUT ") && l.contains("/manifests/x86_64-"))
        .unwrap();
    assert!(last_blob < first_tag, "{requests:#?}");

    // docker pull of a pushed tag runs, and gives the archive's image.
    t.remove();
    let docker_config = r.docker_config();
    let reference = format!("{}/{repository}:{}", r.host(), tags[2]);
    let pull = Command::new("docker")
        .args(["pull", &reference])
        .env("DOCKER_CONFIG", &docker_config)
        .output()
        .unwrap();
    assert!(pull.status.success(), "docker pull: {}", text(&pull.stderr));
    assert_eq!(image_id(&reference).as_deref(), Some(t.id.as_str()));
    let _ = Command::new("docker").args(["rmi", &reference]).output();

    // The second push finds everything there: no upload, no manifest put.
    let o = push_archive(&config, &archive, &tags_dir, &[]);
    ok(&o);
    let requests = r.take_requests();
    assert_eq!(
        count(&requests, "POST", "/blobs/uploads/"),
        0,
        "{requests:#?}"
    );
    assert_eq!(count(&requests, "PUT", ""), 0, "{requests:#?}");
    assert!(
        text(&o.stderr).contains("3 layers, 3 already there, 0 mounted, 0 uploaded"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn push_archive_mounts_the_parent_layers_from_the_parent_repository() {
    let base = Tiny::with_layers("pushmount", 2);
    let r = Registry::start();
    let owner = base.owner.clone();
    // The child: the base image and one more layer.
    let ctx = base.dir.path().join("child");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(ctx.join("more"), format!("child of {}\n", base.id)).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        format!("FROM {}\nCOPY more /more\n", base.reference),
    )
    .unwrap();
    let child_ref = format!("localhost:5000/{owner}/child:latest");
    crate::archive::build(&child_ref, &ctx);
    let child_id = image_id(&child_ref).unwrap();

    let dir = base.dir.path();
    let config = hierarchy(
        dir,
        "localhost:5000",
        &owner,
        &[("tiny", None), ("child", Some("tiny"))],
    );
    let out_dir = dir.join("archives");
    let save = Command::new(env!("CARGO_BIN_EXE_stacktag"))
        .arg("--config")
        .arg(&config)
        .args(["save", "--all", "--dir"])
        .arg(&out_dir)
        .output()
        .unwrap();
    let saved = ok(&save);
    let _ = Command::new("docker").args(["rmi", &child_ref]).output();
    let path_of = |image: &str| {
        PathBuf::from(
            saved
                .lines()
                .find(|l| l.contains(&format!("/{image}_")))
                .unwrap()
                .split_once(' ')
                .unwrap()
                .0,
        )
    };
    let config = hierarchy(
        dir,
        &r.host(),
        &owner,
        &[("tiny", None), ("child", Some("tiny"))],
    );
    let tags_dir = dir.join("tags");
    tags_file(&tags_dir, &r.host(), &owner, "tiny", &["latest", "v1"]);
    tags_file(&tags_dir, &r.host(), &owner, "child", &["latest", "v1"]);
    ok(&push_archive(&config, &path_of("tiny"), &tags_dir, &[]));
    r.take_requests();
    let o = push_archive(&config, &path_of("child"), &tags_dir, &[]);
    ok(&o);
    let requests = r.take_requests();
    let mounts: Vec<&String> = requests
        .iter()
        .filter(|l| l.contains("?mount=") || l.contains("&mount="))
        .collect();
    assert_eq!(mounts.len(), 2, "{requests:#?}");
    assert!(
        mounts
            .iter()
            .all(|l| l.contains(&format!("from={owner}%2Ftiny"))),
        "{mounts:?}"
    );
    // Only the child's own layer and its config were sent.
    assert_eq!(
        count(&requests, "PUT", "/blobs/uploads/"),
        2,
        "{requests:#?}"
    );
    assert!(
        text(&o.stderr).contains("3 layers, 0 already there, 2 mounted, 1 uploaded"),
        "{}",
        text(&o.stderr)
    );
    let m = r.manifest(&format!("{owner}/child"), "x86_64-v1");
    assert_eq!(m["config"]["digest"], child_id.as_str());
}

#[test]
fn a_registry_killed_mid_upload_then_a_rerun_completes() {
    let OneImage {
        t,
        archive,
        r,
        config,
        tags_dir,
        tags,
        repository,
    } = OneImage::new("pushkill", 3, &["latest", "v1"]);

    // Killed as the second layer goes up.
    *r.kill_at_upload.lock().unwrap() = Some(2);
    let o = push_archive(&config, &archive, &tags_dir, &["--tries", "2"]);
    let err = text(&o.stderr);
    assert_eq!(code(&o), 11, "{err}");
    assert!(
        err.contains(&format!("cannot reach registry {}", r.host())),
        "{err}"
    );
    assert!(err.contains("run the same command again"), "{err}");
    assert!(!err.contains(PASSWORD), "{err}");
    r.stop();
    r.up();
    // Nothing half published: no tag.
    assert_eq!(r.tags(&repository), Vec::<String>::new());
    r.take_requests();

    let o = push_archive(&config, &archive, &tags_dir, &[]);
    ok(&o);
    let requests = r.take_requests();
    let mut want = tags.clone();
    want.sort();
    assert_eq!(r.tags(&repository), want);
    assert_eq!(
        r.manifest(&repository, "x86_64-v1")["config"]["digest"],
        t.id.as_str()
    );
    // The first layer was in: only the other two and the config went up.
    assert_eq!(
        count(&requests, "PUT", "/blobs/uploads/"),
        3,
        "{requests:#?}"
    );
    assert!(
        text(&o.stderr).contains("3 layers, 1 already there, 0 mounted, 2 uploaded"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn push_archive_reads_an_oci_layout_archive() {
    let t = Tiny::with_layers("pushoci", 2);
    let tar = Command::new("docker")
        .args(["save", &t.reference])
        .output()
        .unwrap()
        .stdout;
    // As Docker 25+ writes it, without the manifest.json of old daemons.
    let oci = to_oci_layout(&tar, false);
    let archive = write_archive(&t.out(), "tiny", "1.2.3", &t.id, &oci);
    let r = Registry::start();
    let config = hierarchy(t.dir.path(), &r.host(), &t.owner, &[("tiny", None)]);
    let tags_dir = t.dir.path().join("tags");
    tags_file(&tags_dir, &r.host(), &t.owner, "tiny", &["latest"]);
    ok(&push_archive(&config, &archive, &tags_dir, &[]));
    let m = r.manifest(&format!("{}/tiny", t.owner), "x86_64-latest");
    assert_eq!(m["config"]["digest"], t.id.as_str());
}

#[test]
fn push_archive_refuses_a_wrong_name_a_tags_file_of_another_image_and_a_dirty_version() {
    let t = Tiny::new("pushrefused");
    let archive = t.save(&[]);
    let config = hierarchy(t.dir.path(), "127.0.0.1:1", &t.owner, &[("tiny", None)]);
    let tags_dir = t.dir.path().join("tags");
    std::fs::create_dir_all(&tags_dir).unwrap();
    // The tags file names another image.
    std::fs::write(
        tags_dir.join("x86_64-default-tiny.txt"),
        format!("127.0.0.1:1/{}/other:x86_64-latest", t.owner),
    )
    .unwrap();
    let o = push_archive(&config, &archive, &tags_dir, &[]);
    assert_eq!(code(&o), 8, "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("is not a tag of"),
        "{}",
        text(&o.stderr)
    );

    // Renamed: the content is another image.
    let renamed = archive.with_file_name(
        archive
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .replace(&t.id[7..19], "0123456789ab"),
    );
    std::fs::copy(&archive, &renamed).unwrap();
    write_sum(&renamed);
    let o = push_archive(&config, &renamed, &tags_dir, &[]);
    assert_eq!(code(&o), 14, "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("the name says image ID 0123456789ab"));

    // A dirty version is never published without --allow-dirty.
    for version in ["latest", "1.2.3.0", "abc.dirty"] {
        let dirty = archive.with_file_name(format!("tiny_{version}_{}.tar", &t.id[7..19]));
        std::fs::copy(&archive, &dirty).unwrap();
        write_sum(&dirty);
        let o = push_archive(&config, &dirty, &tags_dir, &[]);
        let err = text(&o.stderr);
        assert_eq!(code(&o), 15, "{err}");
        assert!(
            err.contains("refusing to publish tiny") && err.contains("--allow-dirty"),
            "{err}"
        );
        // With --allow-dirty it goes on (here to the tags file's error).
        let o = push_archive(&config, &dirty, &tags_dir, &["--allow-dirty"]);
        assert_eq!(code(&o), 8, "{}", text(&o.stderr));
        assert!(text(&o.stderr).contains("dirty build (published: --allow-dirty)"));
    }
}

/// Opens and reads of one file by any process, as the kernel reports them
/// (inotify); closed on drop.
struct Watch(i32);

impl Watch {
    fn file(path: &Path) -> Watch {
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: plain syscalls on a descriptor this struct owns.
        unsafe {
            let fd = libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC);
            assert!(fd >= 0, "inotify_init1");
            let wd = libc::inotify_add_watch(fd, c.as_ptr(), libc::IN_OPEN | libc::IN_ACCESS);
            assert!(wd >= 0, "inotify_add_watch {}", path.display());
            Watch(fd)
        }
    }

    /// How many opens and reads were seen since the last call.
    fn events(&self) -> usize {
        let mut n = 0;
        let mut buf = [0u8; 4096];
        loop {
            // SAFETY: reads into a buffer of the given length.
            let got = unsafe { libc::read(self.0, buf.as_mut_ptr().cast(), buf.len()) };
            if got <= 0 {
                return n;
            }
            let mut at = 0;
            while at < got as usize {
                let len = u32::from_ne_bytes(buf[at + 12..at + 16].try_into().unwrap()) as usize;
                at += 16 + len;
                n += 1;
            }
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        // SAFETY: closes the descriptor this struct owns.
        unsafe { libc::close(self.0) };
    }
}

#[test]
fn a_second_push_of_an_unchanged_archive_does_not_open_it_and_a_changed_one_is_read_again() {
    let OneImage {
        t,
        archive,
        r,
        config,
        tags_dir,
        tags,
        repository,
    } = OneImage::new("pushcached", 3, &["latest", "v1", "abc"]);
    let sum = std::fs::read_to_string(format!("{}.sha256", archive.display())).unwrap();
    let entry = cache_home(&config)
        .join("stacktag/archives")
        .join(format!("{}.json", &sum[..64]));

    // First push: the archive is read whole and verified, the result cached.
    let watch = Watch::file(&archive);
    let o = push_archive(&config, &archive, &tags_dir, &[]);
    ok(&o);
    assert!(watch.events() > 0, "the first push reads the archive");
    assert!(
        text(&o.stderr).contains("(verified, "),
        "{}",
        text(&o.stderr)
    );
    assert!(entry.is_file(), "no cache entry {}", entry.display());
    r.take_requests();

    // Second push: the archive is not even opened; the tags are asked
    // about, nothing is sent, no blob is looked at.
    let o = push_archive(&config, &archive, &tags_dir, &[]);
    let out = ok(&o);
    let err = text(&o.stderr);
    assert_eq!(
        watch.events(),
        0,
        "the second push opened the archive: {err}"
    );
    assert!(
        err.contains("(unchanged since verified, not read)"),
        "{err}"
    );
    assert!(
        err.contains("3 layers, 3 already there, 0 mounted, 0 uploaded"),
        "{err}"
    );
    let requests = r.take_requests();
    assert!(
        requests
            .iter()
            .all(|l| (l.starts_with("HEAD ") || l.starts_with("GET ")) && !l.contains("/blobs/")),
        "{requests:#?}"
    );
    let digest = out.lines().next().unwrap().rsplit_once(' ').unwrap().1;
    for tag in &tags {
        assert!(out.contains(&format!("tiny:{tag} {digest}")), "{out}");
    }

    // A byte changed in place, its modification time set back: the change
    // time gives it away, the archive is read again and refused.
    let good = std::fs::read(&archive).unwrap();
    let mtime = std::fs::metadata(&archive).unwrap().modified().unwrap();
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0xff;
    let put_back = |bytes: &[u8]| {
        let mut f = std::fs::File::options().write(true).open(&archive).unwrap();
        f.write_all(bytes).unwrap();
        f.set_modified(mtime).unwrap();
    };
    put_back(&bad);
    let o = push_archive(&config, &archive, &tags_dir, &[]);
    let err = text(&o.stderr);
    assert_eq!(code(&o), 14, "{err}");
    assert!(err.contains("checksum mismatch"), "{err}");
    assert!(watch.events() > 0);
    assert_eq!(count(&r.take_requests(), "PUT", ""), 0);

    // Put right, and the cache entry spoiled: read again, and cached again.
    put_back(&good);
    std::fs::write(&entry, "{ not an entry").unwrap();
    let o = push_archive(&config, &archive, &tags_dir, &[]);
    ok(&o);
    assert!(
        text(&o.stderr).contains("(verified, "),
        "{}",
        text(&o.stderr)
    );
    let rewritten: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&entry).unwrap()).expect("a cache entry again");
    assert_eq!(rewritten["key"]["sha256"], &sum[..64]);
    let o = push_archive(&config, &archive, &tags_dir, &[]);
    ok(&o);
    assert!(text(&o.stderr).contains("not read"), "{}", text(&o.stderr));
    assert_eq!(
        r.manifest(&repository, "x86_64-v1")["config"]["digest"],
        t.id.as_str()
    );
}

/// The registry layout: the archive's blobs and manifest go up as they
/// are (nothing compressed at push time), and the image in the registry has
/// the digest `save` printed, which skopeo (an independent client) agrees on.
#[test]
fn push_archive_of_the_registry_layout_puts_the_manifest_save_printed() {
    let t = Tiny::with_layers("pushlayout", 2);
    let saved = ok(&t.stacktag(&[
        "save",
        "tiny",
        "--dir",
        t.out().to_str().unwrap(),
        "--format",
        "json",
    ]));
    let doc: serde_json::Value = serde_json::from_str(&saved).unwrap();
    let archive = PathBuf::from(doc["archives"][0]["path"].as_str().unwrap());
    let digest = doc["archives"][0]["manifest_digest"]
        .as_str()
        .unwrap()
        .to_string();
    let r = Registry::start();
    let config = hierarchy(t.dir.path(), &r.host(), &t.owner, &[("tiny", None)]);
    let tags_dir = t.dir.path().join("tags");
    tags_file(&tags_dir, &r.host(), &t.owner, "tiny", &["latest", "v1"]);
    r.take_requests();
    let o = push_archive(&config, &archive, &tags_dir, &[]);
    ok(&o);
    assert!(
        text(&o.stderr).contains("2 layers, 0 already there, 0 mounted, 2 uploaded"),
        "{}",
        text(&o.stderr)
    );
    // Two layers and the config, each uploaded once.
    let requests = r.take_requests();
    assert_eq!(
        count(&requests, "PUT", "/blobs/uploads/"),
        3,
        "{requests:#?}"
    );
    for tag in ["x86_64-latest", "x86_64-v1"] {
        let reference = format!("docker://{}/{}/tiny:{tag}", r.host(), t.owner);
        let creds = format!("{USER}:{PASSWORD}");
        let inspect = |extra: &[&str]| {
            let o = Command::new("skopeo")
                .args(["inspect", "--tls-verify=false", "--creds", &creds])
                .args(extra)
                .arg(&reference)
                .output()
                .expect("skopeo (make fixtures installs it)");
            assert!(o.status.success(), "{}", text(&o.stderr));
            text(&o.stdout)
        };
        let doc: serde_json::Value = serde_json::from_str(&inspect(&[])).unwrap();
        assert_eq!(doc["Digest"], digest.as_str(), "{tag}");
        let raw = inspect(&["--raw"]);
        use sha2::Digest;
        let hex: String = sha2::Sha256::digest(raw.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(format!("sha256:{hex}"), digest);
        let m: serde_json::Value = serde_json::from_str(&raw).unwrap();
        assert_eq!(m["config"]["digest"], t.id.as_str());
    }
}

/// A delete racing a push of the same tag (issue 21, "Bad input"): whatever
/// the interleaving, the tag ends up pushed whole (its manifest and every
/// blob it names are there, the image is one of the two) or deleted whole
/// (the registry answers 404 for it); never a tag pointing to a missing
/// manifest or blob. Both commands end with a documented outcome, no crash.
#[test]
fn a_delete_racing_a_push_of_the_same_tag_leaves_it_whole_or_gone() {
    let a = Tiny::new("pushrace");
    let archive_a = a.save(&[]);
    let b = Tiny::new("pushrace");
    let archive_b = b.save(&[]);
    let r = Registry::start();
    let config = hierarchy(a.dir.path(), &r.host(), &a.owner, &[("tiny", None)]);
    let tags_dir = a.dir.path().join("tags");
    tags_file(&tags_dir, &r.host(), &a.owner, "tiny", &["v1"]);
    let repository = format!("{}/tiny", a.owner);
    let reference = format!("{}/{repository}:x86_64-v1", r.host());
    let curl_ok = |method: &str, path: &str| {
        // -I, not -X HEAD: curl would wait for the body the headers announce.
        let method = if method == "HEAD" { "-I" } else { "-G" };
        Command::new("curl")
            .args(["-sf", "-o", "/dev/null", method])
            .args(["-u", &format!("{USER}:{PASSWORD}")])
            .args([
                "-H",
                "Accept: application/vnd.docker.distribution.manifest.v2+json",
            ])
            .arg(format!(
                "http://127.0.0.1:{}/v2/{repository}/{path}",
                r.port
            ))
            .status()
            .unwrap()
            .success()
    };
    let mut outcomes = Vec::new();
    for delay_ms in [0u64, 5, 20, 50, 100, 200] {
        // The tag on image A; then B pushed to it while it is deleted.
        ok(&push_archive(&config, &archive_a, &tags_dir, &[]));
        let (push, delete) = std::thread::scope(|s| {
            let push = s.spawn(|| push_archive(&config, &archive_b, &tags_dir, &[]));
            std::thread::sleep(Duration::from_millis(delay_ms));
            let delete = Command::new(env!("CARGO_BIN_EXE_stacktag"))
                .args(["delete", &reference, "--force"])
                .env("STACKTAG_REGISTRY_USER", USER)
                .env("STACKTAG_REGISTRY_PASSWORD", PASSWORD)
                .env("DOCKER_CONFIG", "/nonexistent/stacktag-test-docker-config")
                .env_remove("STACKTAG_CONFIG")
                .output()
                .unwrap();
            (push.join().unwrap(), delete)
        });
        for (what, o) in [("push", &push), ("delete", &delete)] {
            let err = text(&o.stderr);
            assert!(
                matches!(code(o), 0 | 11 | 12 | 13),
                "{what} at {delay_ms} ms: exit {:?}: {err}",
                o.status.code()
            );
            assert!(!err.contains("panicked"), "{what}: {err}");
        }
        let tagged = r.tags(&repository).contains(&"x86_64-v1".to_string());
        let fetched = curl_ok("GET", "manifests/x86_64-v1");
        assert_eq!(
            tagged, fetched,
            "listed and fetched disagree at {delay_ms} ms"
        );
        if fetched {
            let m = r.manifest(&repository, "x86_64-v1");
            let config_digest = m["config"]["digest"].as_str().unwrap();
            assert!(
                config_digest == a.id || config_digest == b.id,
                "{config_digest} is neither image"
            );
            let mut blobs = vec![config_digest.to_string()];
            for l in m["layers"].as_array().unwrap() {
                blobs.push(l["digest"].as_str().unwrap().to_string());
            }
            for blob in blobs {
                assert!(
                    curl_ok("HEAD", &format!("blobs/{blob}")),
                    "x86_64-v1 names {blob}, which is missing ({delay_ms} ms)"
                );
            }
            outcomes.push("pushed");
        } else {
            outcomes.push("deleted");
        }
    }
    eprintln!("outcomes by delay: {outcomes:?}");
}
