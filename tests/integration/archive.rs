//! Image archives on the real daemon: `stacktag save` and `load`, both
//! archive layouts, and every way an archive can be refused. The docker CLI
//! and `sha256sum` are the oracles.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{self, code, docker, text};

/// A tiny image of one test (FROM scratch, content of its own, so its own
/// image ID), named `localhost:5000/archive-{test}/tiny:latest`; removed on drop.
pub struct Tiny {
    pub owner: String,
    pub reference: String,
    pub id: String,
    pub dir: tempfile::TempDir,
}

impl Tiny {
    pub fn new(test: &str) -> Tiny {
        Tiny::with_layers(test, 1)
    }

    /// `layers` layers, each a file of its own.
    pub fn with_layers(test: &str, layers: usize) -> Tiny {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let files = (0..layers)
            .map(|i| format!("{test} {nanos} layer {i}\n").into_bytes())
            .collect();
        Tiny::with_files(test, files)
    }

    /// One layer of `bytes` bytes that no compressor can shrink.
    pub fn incompressible(test: &str, bytes: usize) -> Tiny {
        let mut x = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1;
        let data = (0..bytes)
            .map(|_| {
                // xorshift64: noise enough for zstd and gzip.
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        Tiny::with_files(test, vec![data])
    }

    /// A layer per file.
    fn with_files(test: &str, files: Vec<Vec<u8>>) -> Tiny {
        let owner = format!("archive-{test}");
        let reference = format!("localhost:5000/{owner}/tiny:latest");
        let dir = tempfile::tempdir().unwrap();
        let ctx = dir.path().join("ctx");
        std::fs::create_dir_all(&ctx).unwrap();
        let mut dockerfile = String::from("FROM scratch\n");
        for (i, data) in files.iter().enumerate() {
            std::fs::write(ctx.join(format!("f{i}")), data).unwrap();
            dockerfile += &format!("COPY f{i} /f{i}\n");
        }
        std::fs::write(ctx.join("Dockerfile"), dockerfile).unwrap();
        build(&reference, &ctx);
        let id = image_id(&reference).expect("built");
        std::fs::write(
            dir.path().join("hierarchy.yaml"),
            format!("registry: localhost:5000\nowner: {owner}\nrepository: stacktag/tests\nimages:\n  tiny:\n    taggers: [date]\n"),
        )
        .unwrap();
        Tiny {
            owner,
            reference,
            id,
            dir,
        }
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("hierarchy.yaml")
    }

    pub fn out(&self) -> PathBuf {
        self.dir.path().join("archives")
    }

    pub fn stacktag(&self, args: &[&str]) -> Output {
        support::stacktag_config(&self.owner, &self.config())
            .args(args)
            .output()
            .unwrap()
    }

    /// Removes the image from the daemon (every name of it).
    pub fn remove(&self) {
        let _ = Command::new("docker")
            .args(["rmi", "--force", &self.id])
            .output();
        assert_eq!(image_id(&self.reference), None);
    }

    /// Saves the image, returns the archive's path.
    pub fn save(&self, extra: &[&str]) -> PathBuf {
        let out_dir = self.out();
        let mut args = vec!["save", "tiny"];
        if !extra.contains(&"--dir") {
            args.extend(["--dir", out_dir.to_str().unwrap()]);
        }
        args.extend(extra);
        let o = self.stacktag(&args);
        let stdout = ok(&o);
        let line = stdout.lines().next().expect("a line per archive");
        let (path, id) = line.split_once(' ').unwrap();
        assert_eq!(id, self.id, "{stdout}");
        PathBuf::from(path)
    }
}

impl Drop for Tiny {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rmi", "--force", &self.id])
            .output();
    }
}

/// `docker build` (classic builder); tried again if an intermediate image
/// vanished (another user of the shared daemon pruned dangling images).
pub fn build(reference: &str, ctx: &Path) {
    let mut last = String::new();
    for _ in 0..3 {
        let out = Command::new("docker")
            .args(["build", "--quiet", "-t", reference])
            .arg(ctx)
            .env("DOCKER_BUILDKIT", "0")
            .output()
            .unwrap();
        if out.status.success() {
            return;
        }
        last = text(&out.stderr);
    }
    panic!("docker build {reference}: {last}");
}

pub fn image_id(reference: &str) -> Option<String> {
    let out = Command::new("docker")
        .args(["image", "inspect", "--format", "{{.Id}}", reference])
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| text(&out.stdout).trim().to_string())
}

pub fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr)
    );
    text(&o.stdout)
}

fn sha256sum_check(archive: &Path) {
    let st = Command::new("sha256sum")
        .arg("-c")
        .arg(format!(
            "{}.sha256",
            archive.file_name().unwrap().to_str().unwrap()
        ))
        .current_dir(archive.parent().unwrap())
        .output()
        .unwrap();
    assert!(st.status.success(), "sha256sum -c: {}", text(&st.stdout));
}

fn file_name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().to_string()
}

#[test]
fn save_then_load_gives_the_same_image_id_in_every_compression() {
    let t = Tiny::new("roundtrip");
    let sha12 = &support::head_sha()[..12];
    let id12 = &t.id[7..19];
    for (flag, ext) in [("zstd", "tar.zst"), ("gzip", "tar.gz"), ("none", "tar")] {
        let archive = t.save(&["--compress", flag]);
        assert_eq!(file_name(&archive), format!("tiny_{sha12}_{id12}.{ext}"));
        sha256sum_check(&archive);
        // The content is the daemon's own export, whatever the compression.
        let tar = match flag {
            "zstd" => {
                Command::new("zstd")
                    .arg("-dcq")
                    .arg(&archive)
                    .output()
                    .unwrap()
                    .stdout
            }
            "gzip" => {
                Command::new("gzip")
                    .arg("-dc")
                    .arg(&archive)
                    .output()
                    .unwrap()
                    .stdout
            }
            _ => std::fs::read(&archive).unwrap(),
        };
        let names = tar_names(&tar);
        assert!(names.contains(&"manifest.json".to_string()), "{names:?}");
        assert!(names.contains(&format!("{}.json", &t.id[7..])), "{names:?}");

        t.remove();
        let o = t.stacktag(&["load", archive.to_str().unwrap()]);
        let out = ok(&o);
        assert_eq!(
            out,
            format!("{} {} {}\n", archive.display(), t.id, t.reference)
        );
        assert_eq!(image_id(&t.reference).as_deref(), Some(t.id.as_str()));
    }
    // Nothing but archives and their checksums in the directory.
    let mut files = support::files_under(&t.out());
    files.sort();
    assert_eq!(files.len(), 6, "{files:?}");
    assert!(files.iter().all(|f| !f.starts_with('.')), "{files:?}");
}

fn tar_names(tar: &[u8]) -> Vec<String> {
    let mut a = tar::Archive::new(tar);
    a.entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().to_string())
        .collect()
}

/// Rewrites a Docker 20.10 archive as Docker 25+ writes it: an OCI image
/// layout (`oci-layout`, `index.json`, `blobs/sha256/`), with a
/// `manifest.json` pointing into `blobs/` for older daemons (`legacy`), or
/// without one.
pub fn to_oci_layout(legacy_tar: &[u8], with_manifest_json: bool) -> Vec<u8> {
    let mut files: std::collections::HashMap<String, Vec<u8>> = Default::default();
    let mut order = Vec::new();
    let mut a = tar::Archive::new(legacy_tar);
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        if !e.header().entry_type().is_file() {
            continue;
        }
        let name = e.path().unwrap().to_string_lossy().to_string();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        order.push(name.clone());
        files.insert(name, data);
    }
    let manifest: serde_json::Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    let entry = &manifest[0];
    let config = &files[entry["Config"].as_str().unwrap()];
    let sha = |d: &[u8]| {
        use sha2::Digest;
        sha2::Sha256::digest(d)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let mut blobs: Vec<(String, Vec<u8>)> = Vec::new();
    let config_hex = sha(config);
    blobs.push((config_hex.clone(), config.clone()));
    let mut layer_descs = Vec::new();
    let mut layer_paths = Vec::new();
    for l in entry["Layers"].as_array().unwrap() {
        let data = &files[l.as_str().unwrap()];
        let hex = sha(data);
        layer_descs.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": format!("sha256:{hex}"),
            "size": data.len(),
        }));
        layer_paths.push(format!("blobs/sha256/{hex}"));
        blobs.push((hex, data.clone()));
    }
    let oci_manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": format!("sha256:{config_hex}"),
            "size": config.len(),
        },
        "layers": layer_descs,
    }))
    .unwrap();
    let manifest_hex = sha(&oci_manifest);
    blobs.push((manifest_hex.clone(), oci_manifest.clone()));
    let tag = entry["RepoTags"][0].as_str().unwrap().to_string();
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": format!("sha256:{manifest_hex}"),
            "size": oci_manifest.len(),
            "annotations": {
                "io.containerd.image.name": tag,
                "org.opencontainers.image.ref.name": tag.rsplit_once(':').unwrap().1,
            },
        }],
    }))
    .unwrap();
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, data).unwrap();
    };
    blobs.sort();
    blobs.dedup_by(|x, y| x.0 == y.0);
    for (hex, data) in &blobs {
        add(&format!("blobs/sha256/{hex}"), data);
    }
    add("index.json", &index);
    if with_manifest_json {
        let legacy = serde_json::to_vec(&serde_json::json!([{
            "Config": format!("blobs/sha256/{config_hex}"),
            "RepoTags": [tag],
            "Layers": layer_paths,
        }]))
        .unwrap();
        add("manifest.json", &legacy);
    }
    add("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
    b.into_inner().unwrap()
}

/// Writes `tar` as a zstd archive named for `id` in `dir`, with its checksum.
pub fn write_archive(dir: &Path, image: &str, version: &str, id: &str, tar: &[u8]) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(format!("{image}_{version}_{}.tar.zst", &id[7..19]));
    std::fs::write(&path, zstd::encode_all(tar, 3).unwrap()).unwrap();
    write_sum(&path);
    path
}

pub fn write_sum(path: &Path) {
    let out = Command::new("sha256sum")
        .arg(path.file_name().unwrap())
        .current_dir(path.parent().unwrap())
        .output()
        .unwrap();
    std::fs::write(format!("{}.sha256", path.display()), out.stdout).unwrap();
}

fn docker_save(reference: &str) -> Vec<u8> {
    let out = Command::new("docker")
        .args(["save", reference])
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
}

#[test]
fn an_oci_layout_archive_as_docker_25_writes_it_loads() {
    let t = Tiny::with_layers("ocilayout", 2);
    let oci = to_oci_layout(&docker_save(&t.reference), true);
    assert!(tar_names(&oci).contains(&"index.json".to_string()));
    let archive = write_archive(&t.out(), "tiny", "1.0.0", &t.id, &oci);
    t.remove();
    let out = ok(&t.stacktag(&["load", archive.to_str().unwrap()]));
    assert_eq!(
        out,
        format!("{} {} {}\n", archive.display(), t.id, t.reference)
    );
    assert_eq!(image_id(&t.reference).as_deref(), Some(t.id.as_str()));
}

fn refused(t: &Tiny, archive: &Path, says: &[&str]) {
    let o = t.stacktag(&["load", archive.to_str().unwrap()]);
    let err = text(&o.stderr);
    assert_eq!(code(&o), 14, "{err}");
    assert!(err.contains(&archive.display().to_string()), "{err}");
    for s in says {
        assert!(err.contains(s), "{s:?} not in: {err}");
    }
    // Nothing was loaded: the image is not back on the daemon.
    assert_eq!(image_id(&t.reference), None, "{err}");
    assert_eq!(image_id(&t.id), None, "{err}");
}

#[test]
fn archives_that_do_not_match_their_checksum_or_name_are_refused() {
    let t = Tiny::new("refused");
    let good = t.save(&["--compress", "zstd"]);
    let bytes = std::fs::read(&good).unwrap();
    t.remove();
    let dir = t.out();

    // A byte changed after the save: the checksum says so.
    let mut flipped = bytes.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0xff;
    std::fs::write(&good, &flipped).unwrap();
    refused(&t, &good, &["checksum mismatch", "fetch it again"]);
    std::fs::write(&good, &bytes).unwrap();

    // No checksum beside it.
    let lonely = dir.join(file_name(&good).replace("tiny_", "lonely_"));
    std::fs::copy(&good, &lonely).unwrap();
    refused(&t, &lonely, &["no checksum beside it"]);

    // Renamed with its checksum: the checksum names the old file.
    let renamed = dir.join(file_name(&good).replace(&t.id[7..19], "0123456789ab"));
    std::fs::copy(&good, &renamed).unwrap();
    std::fs::copy(
        format!("{}.sha256", good.display()),
        format!("{}.sha256", renamed.display()),
    )
    .unwrap();
    refused(&t, &renamed, &["is the checksum of", &file_name(&good)]);

    // Renamed, with a fresh checksum: the content is another image than the name says.
    write_sum(&renamed);
    refused(
        &t,
        &renamed,
        &["the name says image ID 0123456789ab", &t.id],
    );

    // Cut short (zstd), with a checksum of the cut file.
    let cut = dir.join(file_name(&good).replace("tiny_", "cut_"));
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    write_sum(&cut);
    refused(&t, &cut, &["corrupt or cut short"]);

    // A plain tar cut at an entry boundary: no end-of-archive blocks.
    let tar = zstd::decode_all(&bytes[..]).unwrap();
    let mut a = tar::Archive::new(&tar[..]);
    let last = a
        .entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            e.raw_file_position() + e.size().div_ceil(512) * 512
        })
        .max()
        .unwrap();
    let cut_tar = dir.join(format!("cuttar_v_{}.tar", &t.id[7..19]));
    std::fs::write(&cut_tar, &tar[..last as usize]).unwrap();
    write_sum(&cut_tar);
    refused(&t, &cut_tar, &["cut short"]);

    // Not an archive at all.
    let junk = dir.join(format!("junk_v_{}.tar.gz", &t.id[7..19]));
    std::fs::write(&junk, b"\x1f\x8b not really gzip").unwrap();
    write_sum(&junk);
    refused(&t, &junk, &["corrupt or cut short"]);

    // A name stacktag does not write.
    let odd = dir.join("tiny.tar.zst");
    std::fs::copy(&good, &odd).unwrap();
    let o = t.stacktag(&["load", odd.to_str().unwrap()]);
    assert_eq!(code(&o), 14);
    assert!(text(&o.stderr).contains("not named as an image archive"));
}

/// The daemon has the archive's image already (a CI runner that built it,
/// or a job before on the same daemon): the archive is read and checked,
/// its names are put back on that image (here `latest` had moved to
/// another image, as a job of another platform on one daemon moves it), and
/// the daemon imports nothing (no `load` event).
#[test]
fn loading_an_image_the_daemon_has_names_it_and_imports_nothing() {
    let t = Tiny::new("present");
    let archive = t.save(&[]);
    let other = Tiny::new("present-other");
    docker(&["tag", &other.id, &t.reference]);
    assert_eq!(image_id(&t.reference).as_deref(), Some(other.id.as_str()));
    let since = docker(&["system", "info", "--format", "{{.SystemTime}}"]);
    let o = t.stacktag(&["load", archive.to_str().unwrap()]);
    assert_eq!(
        ok(&o),
        format!("{} {} {}\n", archive.display(), t.id, t.reference)
    );
    assert!(
        text(&o.stderr).contains("already; archive checked and its names put on it"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(image_id(&t.reference).as_deref(), Some(t.id.as_str()));
    let until = docker(&["system", "info", "--format", "{{.SystemTime}}"]);
    let loads = docker(&[
        "events",
        "--since",
        since.trim(),
        "--until",
        until.trim(),
        "--filter",
        "type=image",
        "--filter",
        "event=load",
        "--format",
        "{{.Actor.ID}}",
    ]);
    assert!(
        !loads.contains(&t.id[7..19]),
        "the daemon loaded it: {loads}"
    );

    // A damaged archive is refused all the same, before any name moves.
    docker(&["tag", &other.id, &t.reference]);
    let mut bytes = std::fs::read(&archive).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0xff;
    std::fs::write(&archive, bytes).unwrap();
    let o = t.stacktag(&["load", archive.to_str().unwrap()]);
    assert_ne!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(image_id(&t.reference).as_deref(), Some(other.id.as_str()));
}

#[test]
fn load_dir_picks_the_newest_archive_of_each_image() {
    let t = Tiny::new("newest");
    let old = t.save(&["--version", "aaaaaaaaaaaa"]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let new = t.save(&["--version", "bbbbbbbbbbbb"]);
    // Commit versions have no order: the file written last wins.
    let filetime = |p: &Path| {
        std::fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600))
            .unwrap()
    };
    let dir = t.out();
    t.remove();
    let out = ok(&t.stacktag(&["load", "--dir", dir.to_str().unwrap(), "tiny"]));
    assert!(out.starts_with(&format!("{} ", new.display())), "{out}");
    // Make the other one the newer file.
    filetime(&new);
    t.remove();
    let out = ok(&t.stacktag(&["load", "--dir", dir.to_str().unwrap()]));
    assert!(out.starts_with(&format!("{} ", old.display())), "{out}");
    // Only numbered versions: the highest, whatever the file times.
    let numbered = t.dir.path().join("numbered");
    let v9 = t.save(&["--version", "1.9.0", "--dir", numbered.to_str().unwrap()]);
    let v10 = t.save(&["--version", "1.10.0", "--dir", numbered.to_str().unwrap()]);
    filetime(&v10);
    let _ = v9;
    t.remove();
    let out = ok(&t.stacktag(&["load", "--dir", numbered.to_str().unwrap(), "tiny"]));
    assert!(out.starts_with(&format!("{} ", v10.display())), "{out}");
    // An image with no archive there.
    let o = t.stacktag(&["load", "--dir", dir.to_str().unwrap(), "other"]);
    assert_eq!(code(&o), 14);
    assert!(
        text(&o.stderr).contains("no archive of other in"),
        "{}",
        text(&o.stderr)
    );
    let _ = docker(&["image", "inspect", &t.reference]);
}

fn git(repo: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@localhost"])
        .args(args)
        .current_dir(repo)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

/// stacktag with `config`, run in the checkout `repo`.
fn run_in(repo: &Path, config: &Path, owner: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stacktag"))
        .arg("--config")
        .arg(config)
        .args(args)
        .current_dir(repo)
        .env("STACKTAG_RUN_ID", owner)
        .env("DOCKER_CONFIG", "/nonexistent/stacktag-test-docker-config")
        .output()
        .unwrap()
}

#[test]
fn a_dirty_context_is_named_in_the_archive_and_refused_for_push() {
    let t = Tiny::new("ctxcheck");
    // The stack's checkout: a parent image `base` and `tiny`, each a folder.
    let repo = t.dir.path().join("stack");
    for (image, file) in [("base", "Dockerfile"), ("tiny", "Dockerfile")] {
        std::fs::create_dir_all(repo.join("images").join(image)).unwrap();
        std::fs::write(repo.join("images").join(image).join(file), "FROM scratch\n").unwrap();
    }
    std::fs::write(repo.join("README.md"), "stack\n").unwrap();
    let config = repo.join("hierarchy.yaml");
    std::fs::write(
        &config,
        format!("registry: localhost:5000\nowner: {}\nrepository: stacktag/tests\nimages:\n  base:\n    taggers: [date]\n  tiny:\n    parent: base\n    taggers: [date]\n", t.owner),
    )
    .unwrap();
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "stack"]);
    let sha12 = git(&repo, &["rev-parse", "HEAD"])[..12].to_string();
    let out_dir = t.out();
    let run = |args: &[&str]| run_in(&repo, &config, &t.owner, args);
    let save = || run(&["save", "tiny", "--dir", out_dir.to_str().unwrap()]);
    let archive_of = |o: &Output| PathBuf::from(ok(o).split_once(' ').unwrap().0);
    let id12 = &t.id[7..19];

    // Clean: the commit's sha12, no warning.
    let o = save();
    assert_eq!(
        file_name(&archive_of(&o)),
        format!("tiny_{sha12}_{id12}.tar")
    );
    assert!(!text(&o.stderr).contains("dirty"), "{}", text(&o.stderr));
    // A change outside the image contexts does not count.
    std::fs::write(repo.join("README.md"), "changed\n").unwrap();
    assert!(!text(&save().stderr).contains("dirty"));

    let dirty_name = format!("tiny_{sha12}.dirty_{id12}.tar");
    for (change, named) in [
        ("changed", "images/tiny/Dockerfile"),
        ("added", "images/tiny/new.txt"),
        ("parent", "images/base/Dockerfile"),
    ] {
        git(&repo, &["checkout", "-q", "--", "."]);
        let _ = std::fs::remove_file(repo.join("images/tiny/new.txt"));
        match change {
            "changed" => std::fs::write(repo.join(named), "FROM scratch\nLABEL x=1\n").unwrap(),
            "added" => std::fs::write(repo.join(named), "new\n").unwrap(),
            _ => std::fs::write(repo.join(named), "FROM scratch\n# edited\n").unwrap(),
        }
        let o = save();
        let archive = archive_of(&o);
        let err = text(&o.stderr);
        assert_eq!(file_name(&archive), dirty_name, "{change}: {err}");
        assert!(
            err.contains("tiny is a dirty build") && err.contains(named),
            "{change}: {err}"
        );

        // Neither push publishes it.
        let o = run(&["push", "--image", "tiny"]);
        let err = text(&o.stderr);
        assert_eq!(code(&o), 15, "{change}: {err}");
        assert!(
            err.contains("refusing to publish tiny") && err.contains(named),
            "{err}"
        );
        let o = run(&["push", "--archive", archive.to_str().unwrap()]);
        let err = text(&o.stderr);
        assert_eq!(code(&o), 15, "{change}: {err}");
        assert!(
            err.contains(".dirty") && err.contains("--allow-dirty"),
            "{err}"
        );
    }

    // The hook warns (and goes on: the tags say which commit).
    let o = run(&[
        "hook",
        "tiny",
        "--out-dir",
        t.dir.path().join("hook").to_str().unwrap(),
    ]);
    let err = text(&o.stderr);
    assert!(
        err.contains("tiny is a dirty build") && err.contains("`stacktag push` will refuse it"),
        "{err}"
    );
    support::assert_no_containers(&t.owner);
}

/// A small tmpfs of one test; unmounted on drop.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(dir: &Path, size: &str) -> SmallDisk {
        std::fs::create_dir_all(dir).unwrap();
        let o = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "mount a tmpfs (this test runs as root): {}",
            text(&o.stderr)
        );
        SmallDisk(dir.into())
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).output();
    }
}

#[test]
fn a_full_disk_while_saving_names_the_file_and_leaves_nothing() {
    // 3 MB of noise into a 2 MB disk.
    let t = Tiny::incompressible("fulldisk", 3 << 20);
    let disk = t.dir.path().join("disk");
    let _mounted = SmallDisk::mount(&disk, "2m");
    let id12 = &t.id[7..19];
    for (flag, ext) in [
        (["--compress", "zstd"], "tar.zst"),
        (["--compress", "none"], "tar"),
        (["--layers", "gzip"], "tar"),
    ] {
        let dir = disk.to_str().unwrap();
        let mut args = vec!["save", "tiny", "--dir", dir, "--version", "1.0.0"];
        args.extend(flag);
        let o = t.stacktag(&args);
        let flag = flag.join(" ");
        let err = text(&o.stderr);
        assert_eq!(code(&o), 8, "{flag}: {err}");
        let archive = disk.join(format!("tiny_1.0.0_{id12}.{ext}"));
        assert!(
            err.contains(&format!("{}: cannot be written", archive.display()))
                && err.contains("No space left on device")
                && err.contains("fix: free space in"),
            "{flag}: {err}"
        );
        assert!(!err.contains("corrupt"), "{flag}: {err}");
        // Nothing under the final name, no temporary file, no checksum.
        let left: Vec<String> = std::fs::read_dir(&disk)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        assert_eq!(left, Vec::<String>::new(), "{flag}");
    }
    // The same save where there is room works: the failure was the disk.
    let archive = t.save(&["--compress", "none"]);
    assert!(std::fs::metadata(&archive).unwrap().len() > 3 << 20);
}

#[test]
fn a_dirty_context_is_looked_for_where_the_hierarchy_file_says_it_is() {
    let t = Tiny::new("ctxkey");
    // The stack's files in a subfolder of the checkout, its contexts under
    // docker/ (beside the hierarchy file), not images/.
    let repo = t.dir.path().join("checkout");
    let stack = repo.join("stack");
    for dir in ["docker/base", "docker/tiny-image", "images/tiny"] {
        std::fs::create_dir_all(stack.join(dir)).unwrap();
        std::fs::write(stack.join(dir).join("Dockerfile"), "FROM scratch\n").unwrap();
    }
    let config = stack.join("hierarchy.yaml");
    std::fs::write(
        &config,
        format!(
            "registry: localhost:5000\nowner: {}\nrepository: stacktag/tests\nimages:\n  base:\n    context: docker/base\n    taggers: [date]\n  tiny:\n    parent: base\n    context: docker/tiny-image\n    taggers: [date]\n",
            t.owner
        ),
    )
    .unwrap();
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "stack"]);
    let out_dir = t.out();
    // Run from the checkout's root: the contexts are found from the
    // hierarchy file's folder, not from the working directory.
    let run = |args: &[&str]| run_in(&repo, &config, &t.owner, args);
    let save = || run(&["save", "tiny", "--dir", out_dir.to_str().unwrap()]);

    // images/tiny is not tiny's context: a change there does not count.
    std::fs::write(stack.join("images/tiny/Dockerfile"), "FROM scratch\n# x\n").unwrap();
    let o = save();
    ok(&o);
    assert!(!text(&o.stderr).contains("dirty"), "{}", text(&o.stderr));

    for named in [
        "stack/docker/tiny-image/added.txt",
        "stack/docker/base/Dockerfile",
    ] {
        git(&repo, &["checkout", "-q", "--", "."]);
        let _ = std::fs::remove_file(stack.join("docker/tiny-image/added.txt"));
        std::fs::write(repo.join(named), "changed\n").unwrap();
        let o = save();
        let archive = PathBuf::from(ok(&o).split_once(' ').unwrap().0);
        let err = text(&o.stderr);
        assert!(
            file_name(&archive).contains(".dirty_"),
            "{named}: {}",
            archive.display()
        );
        assert!(
            err.contains("tiny is a dirty build") && err.contains(named),
            "{named}: {err}"
        );
        let o = run(&["push", "--image", "tiny"]);
        let err = text(&o.stderr);
        assert_eq!(code(&o), 15, "{named}: {err}");
        assert!(err.contains(named), "{named}: {err}");
    }
}

/// The registry layout (`save`'s default, `--layers gzip`): a plain tar of
/// gzip blobs named by their digests, the config and the registry manifest,
/// `manifest.json` for Docker 20.10 and `index.json` for OCI readers. Read
/// back with the tar and flate2 crates and sha256, loaded by `stacktag load`
/// and by `docker load` itself, both to the image that was saved.
#[test]
fn a_registry_layout_archive_holds_gzip_blobs_by_digest_and_loads_to_the_same_image() {
    let t = Tiny::with_layers("registrylayout", 2);
    let o = t.stacktag(&[
        "save",
        "tiny",
        "--dir",
        t.out().to_str().unwrap(),
        "--format",
        "json",
    ]);
    let doc: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
    crate::json::validate("save", &doc);
    let saved = &doc["archives"][0];
    let archive = PathBuf::from(saved["path"].as_str().unwrap());
    let manifest_digest = saved["manifest_digest"].as_str().unwrap().to_string();
    let sha12 = &support::head_sha()[..12];
    assert_eq!(
        file_name(&archive),
        format!("tiny_{sha12}_{}.tar", &t.id[7..19])
    );
    sha256sum_check(&archive);

    let sha = |d: &[u8]| {
        use sha2::Digest;
        format!("sha256:{}", codec_hex(&sha2::Sha256::digest(d)))
    };
    let mut files = std::collections::HashMap::new();
    let mut a = tar::Archive::new(std::fs::File::open(&archive).unwrap());
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().to_string();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        if let Some(hex) = name.strip_prefix("blobs/sha256/") {
            assert_eq!(sha(&data), format!("sha256:{hex}"), "{name}");
        }
        files.insert(name, data);
    }
    let blob = |digest: &str| &files[&format!("blobs/sha256/{}", &digest[7..])];
    // The manifest the registry will get, and the config, by digest.
    let manifest: serde_json::Value = serde_json::from_slice(blob(&manifest_digest)).unwrap();
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    assert_eq!(manifest["config"]["digest"], t.id.as_str());
    let config: serde_json::Value = serde_json::from_slice(blob(&t.id)).unwrap();
    let diff_ids = config["rootfs"]["diff_ids"].as_array().unwrap();
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2);
    for (layer, diff_id) in layers.iter().zip(diff_ids) {
        assert_eq!(
            layer["mediaType"],
            "application/vnd.docker.image.rootfs.diff.tar.gzip"
        );
        let gz = blob(layer["digest"].as_str().unwrap());
        assert_eq!(layer["size"].as_u64(), Some(gz.len() as u64));
        let mut tar = Vec::new();
        flate2::read::MultiGzDecoder::new(&gz[..])
            .read_to_end(&mut tar)
            .unwrap();
        assert_eq!(sha(&tar), diff_id.as_str().unwrap());
    }
    // Docker 20.10's index names the same blobs; the OCI index the manifest.
    let legacy: serde_json::Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(legacy[0]["Config"], format!("blobs/sha256/{}", &t.id[7..]));
    assert_eq!(legacy[0]["RepoTags"][0], t.reference.as_str());
    for (path, layer) in legacy[0]["Layers"].as_array().unwrap().iter().zip(layers) {
        assert_eq!(
            path.as_str().unwrap(),
            format!("blobs/sha256/{}", &layer["digest"].as_str().unwrap()[7..])
        );
    }
    let index: serde_json::Value = serde_json::from_slice(&files["index.json"]).unwrap();
    assert_eq!(index["manifests"][0]["digest"], manifest_digest.as_str());

    // stacktag load, then docker load (an independent reader): the same image.
    let first = std::fs::read(&archive).unwrap();
    t.remove();
    let out = ok(&t.stacktag(&["load", archive.to_str().unwrap()]));
    assert_eq!(
        out,
        format!("{} {} {}\n", archive.display(), t.id, t.reference)
    );
    assert_eq!(image_id(&t.reference).as_deref(), Some(t.id.as_str()));
    t.remove();
    let o = Command::new("docker")
        .args(["load", "-i"])
        .arg(&archive)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(image_id(&t.reference).as_deref(), Some(t.id.as_str()));

    // Saved again: the same bytes (a layer is the same blob wherever it is saved).
    let again = t.save(&[]);
    assert_eq!(again, archive);
    assert_eq!(std::fs::read(&again).unwrap(), first);
    sha256sum_check(&again);
}

/// The old layout (`--layers tar`: the daemon's export, compressed whole)
/// still saves and loads beside the new one.
#[test]
fn the_layers_as_the_daemon_exports_them_still_save_and_load() {
    let t = Tiny::new("tarlayers");
    let archive = t.save(&["--layers", "tar"]);
    assert!(file_name(&archive).ends_with(".tar.zst"));
    let tar = zstd::decode_all(&std::fs::read(&archive).unwrap()[..]).unwrap();
    let names = tar_names(&tar);
    assert!(names.contains(&format!("{}.json", &t.id[7..])), "{names:?}");
    assert!(!names.contains(&"index.json".to_string()), "{names:?}");
    t.remove();
    ok(&t.stacktag(&["load", archive.to_str().unwrap()]));
    assert_eq!(image_id(&t.reference).as_deref(), Some(t.id.as_str()));
    // --compress belongs to --layers tar.
    let o = t.stacktag(&[
        "save",
        "tiny",
        "--dir",
        t.out().to_str().unwrap(),
        "--layers",
        "gzip",
        "--compress",
        "zstd",
    ]);
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("--layers tar"),
        "{}",
        text(&o.stderr)
    );
}

fn codec_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
