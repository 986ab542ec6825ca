//! copy, delete, retain and tags against real registries: Debian's
//! docker-registry with htpasswd, one with bearer tokens from the test token
//! server (one whose tokens may read and push but not delete), and one with
//! deletes disabled. The images are made through the registry's API, as
//! BuildKit pushes them (supply.rs), and what stacktag did is read back
//! through that API and through skopeo, an independent client.

use std::process::Command;

use oci_client::{Reference, RegistryOperation};
use serde_json::{json, Value};

use crate::publish::{assert_ok, text, Registry, IMAGE, OWNER, PASSWORD, USER};
use crate::supply::{
    blob, buildkit, manifest_at, put, referrers_tag, sha256, OCI_INDEX, OCI_MANIFEST,
};

const EMPTY: &str = "application/vnd.oci.empty.v1+json";
const SPDX: &str = "application/spdx+json";

fn by_digest(r: &Registry, digest: &str) -> Reference {
    Reference::with_digest(r.host(), format!("{OWNER}/{IMAGE}"), digest.into())
}

/// Whether the registry has a manifest with this digest.
async fn has_manifest(r: &Registry, digest: &str) -> bool {
    let (c, auth) = r.client();
    c.auth(&r.reference("latest"), &auth, RegistryOperation::Pull)
        .await
        .unwrap();
    c.fetch_manifest_digest(&by_digest(r, digest), &auth)
        .await
        .is_ok()
}

/// The digest a tag points to, if the tag is there.
async fn tag_digest(r: &Registry, tag: &str) -> Option<String> {
    let (c, auth) = r.client();
    c.auth(&r.reference("latest"), &auth, RegistryOperation::Pull)
        .await
        .unwrap();
    c.fetch_manifest_digest(&r.reference(tag), &auth).await.ok()
}

/// An SBOM attached to `subject` (an image's descriptor) as `stacktag
/// attach` attaches one on a registry without the referrers API: the
/// artifact, and the referrers tag listing it. Returns the artifact's digest.
async fn attach_sbom(r: &Registry, subject: &Value) -> String {
    let empty = blob(r, EMPTY, b"{}").await;
    let doc = format!(r#"{{"spdxVersion":"SPDX-2.3","name":"{}"}}"#, r.port);
    let layer = blob(r, SPDX, doc.as_bytes()).await;
    let mut bare = subject.clone();
    bare.as_object_mut().unwrap().remove("platform");
    let artifact = put(
        r,
        OCI_MANIFEST,
        &json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": SPDX,
                "config": empty, "layers": [layer], "subject": bare}),
        &[],
    )
    .await;
    let mut entry = artifact.clone();
    entry["artifactType"] = json!(SPDX);
    let tag = subject["digest"].as_str().unwrap().replace(':', "-");
    put(
        r,
        OCI_INDEX,
        &json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [entry]}),
        &[tag],
    )
    .await;
    artifact["digest"].as_str().unwrap().to_string()
}

/// One build as stacktag publishes it: both platforms as BuildKit pushes
/// them (`{platform}-{commit}`), merged into one index under `tags` (with
/// the commit tag), an SBOM on the x86_64 image. Returns (index digest,
/// x86_64 image descriptor, SBOM digest, every manifest digest of the build).
async fn build(
    r: &Registry,
    commit: &str,
    day: &str,
    tags: &[&str],
) -> (String, Value, String, Vec<String>) {
    let created = format!("{day}T10:00:00Z");
    let x86 = buildkit(
        r,
        "amd64",
        None,
        &created,
        &[format!("x86_64-{commit}")],
        &[],
    )
    .await;
    let arm = buildkit(
        r,
        "arm64",
        Some("v8"),
        &created,
        &[format!("aarch64-{commit}")],
        &[],
    )
    .await;
    let mut all_tags = vec![commit.to_string(), day.to_string()];
    all_tags.extend(tags.iter().map(|t| t.to_string()));
    let index = put(
        r,
        OCI_INDEX,
        &json!({"schemaVersion": 2, "mediaType": OCI_INDEX,
                "manifests": [x86.image.clone(), x86.attestation.clone(), arm.image.clone(), arm.attestation.clone()]}),
        &all_tags,
    )
    .await;
    let sbom = attach_sbom(r, &x86.image).await;
    let digests = vec![
        index["digest"].as_str().unwrap().to_string(),
        x86.index.clone(),
        x86.image_digest().to_string(),
        x86.attestation_digest().to_string(),
        arm.index.clone(),
        arm.image_digest().to_string(),
        arm.attestation_digest().to_string(),
        sbom.clone(),
    ];
    (
        index["digest"].as_str().unwrap().to_string(),
        x86.image.clone(),
        sbom,
        digests,
    )
}

/// The JSON document of a run, checked against docs/json.schema.json.
fn json_of(out: &str) -> Value {
    let doc: Value = serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"));
    crate::json::validate("registry command", &doc);
    doc
}

fn skopeo(args: &[&str]) -> std::process::Output {
    Command::new("skopeo")
        .args(args)
        .output()
        .expect("skopeo (make fixtures installs it)")
}

#[tokio::test]
async fn copy_keeps_an_index_its_attestations_and_sboms_digest_for_digest() {
    let src = Registry::start();
    // Bearer tokens that may read and push, not delete.
    let dst = Registry::start_configured(Some(Some(&["pull", "push"])), true);
    let commit = "a1b2c3d4e5f6";
    let (index, x86_image, sbom, digests) = build(&src, commit, "2026-11-24", &["latest"]).await;
    let from = format!("{}:latest", src.name());
    let o = src.stacktag(&["copy", &from, &dst.name(), "--format", "json"]);
    let doc = json_of(&assert_ok(&o));
    assert_eq!(doc["command"], "copy");
    assert_eq!(doc["copied"][0]["digest"], index.as_str());
    assert_eq!(doc["copied"][0]["verified"], index.as_str());
    assert_eq!(doc["copied"][0]["tag_written"], true);
    assert!(doc["blobs_sent"].as_u64().unwrap() >= 6, "{doc}");
    assert_eq!(doc["referrers"], 1, "{doc}");
    // Read back through the target registry's own API: every manifest of
    // the build, the same digests, the SBOM findable through the tag scheme.
    assert_eq!(
        tag_digest(&dst, "latest").await.as_deref(),
        Some(index.as_str())
    );
    for d in &digests[..4] {
        if d != &digests[1] {
            assert!(has_manifest(&dst, d).await, "{d} not copied");
        }
    }
    let listed = referrers_tag(&dst, x86_image["digest"].as_str().unwrap()).await;
    assert_eq!(listed[0]["digest"], sbom.as_str());
    assert_eq!(manifest_at(&dst, &sbom).await["artifactType"], SPDX);

    // An independent client: skopeo reads the index whole and copies it out.
    let creds = format!("{USER}:{PASSWORD}");
    let at = format!("docker://{}:latest", dst.name());
    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--creds",
        &creds,
        &at,
    ]);
    assert!(
        raw.status.success(),
        "{}",
        String::from_utf8_lossy(&raw.stderr)
    );
    assert_eq!(sha256(&raw.stdout), index);
    let out = tempfile::tempdir().unwrap();
    let dir = format!("dir:{}", out.path().join("copy").display());
    let cp = skopeo(&[
        "copy",
        "--all",
        "--preserve-digests",
        "--src-tls-verify=false",
        "--src-creds",
        &creds,
        &at,
        &dir,
    ]);
    assert!(
        cp.status.success(),
        "{}",
        String::from_utf8_lossy(&cp.stderr)
    );
    let copied = std::fs::read(out.path().join("copy/manifest.json")).unwrap();
    assert_eq!(sha256(&copied), index);

    // The rest of the build's tags, by its commit: nothing sent again.
    let o = src.stacktag(&[
        "copy",
        "--build",
        &commit[..8],
        &src.name(),
        &dst.name(),
        "--format",
        "json",
    ]);
    let doc = json_of(&assert_ok(&o));
    let mut tags: Vec<&str> = doc["copied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["source"].as_str().unwrap().rsplit(':').next().unwrap())
        .collect();
    tags.sort();
    let want = [
        "2026-11-24".to_string(),
        commit.to_string(),
        format!("aarch64-{commit}"),
        "latest".into(),
        format!("x86_64-{commit}"),
    ];
    assert_eq!(tags, want);
    assert_eq!(doc["blobs_sent"], 0, "{doc}");
    // Only the platform tags' own indexes were not there yet.
    assert_eq!(doc["manifests_put"], 2, "{doc}");
    assert_eq!(
        tag_digest(&dst, &format!("x86_64-{commit}")).await,
        tag_digest(&src, &format!("x86_64-{commit}")).await
    );

    // A token that may push but not delete: refused before anything goes.
    let o = dst.stacktag(&["delete", &format!("{}:2026-11-24", dst.name()), "--force"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(12), "{err}");
    assert!(err.contains("not delete"), "{err}");
    assert_eq!(
        tag_digest(&dst, "2026-11-24").await.as_deref(),
        Some(index.as_str())
    );

    // A source that does not exist: nothing is copied.
    let o = src.stacktag(&["copy", &format!("{}:no-such-tag", src.name()), &dst.name()]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(13), "{err}");
    assert!(err.contains("no-such-tag"), "{err}");
}

/// A layer of random bytes (the registry does not look inside).
fn noise(n: usize, seed: u8) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9 ^ u32::from(seed);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

#[tokio::test]
async fn a_copy_cut_short_leaves_no_tag_and_a_rerun_sends_only_what_is_missing() {
    let src = Registry::start();
    let dst = Registry::start();
    let mut layers = Vec::new();
    for i in 0..16u8 {
        layers.push(
            blob(
                &src,
                "application/vnd.oci.image.layer.v1.tar",
                &noise(4 << 20, i),
            )
            .await,
        );
    }
    let config = blob(
        &src,
        "application/vnd.oci.image.config.v1+json",
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#,
    )
    .await;
    let image = put(
        &src,
        OCI_MANIFEST,
        &json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": layers}),
        &["big".to_string()],
    )
    .await;

    // The target dies as soon as a first blob is in its repository.
    let blobs = dst.state().join(format!(
        "data/docker/registry/v2/repositories/{OWNER}/{IMAGE}/_layers/sha256"
    ));
    let pid: i32 = std::fs::read_to_string(dst.state().join("registry.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let watcher = std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while std::time::Instant::now() < deadline {
            // A blob is in the repository once its link file is written: the
            // file exists (empty) a moment before its digest is in it.
            let written = |link: std::path::PathBuf| {
                std::fs::read_to_string(link).is_ok_and(|l| l.starts_with("sha256:"))
            };
            let linked = std::fs::read_dir(&blobs)
                .map(|d| d.flatten().any(|e| written(e.path().join("link"))))
                .unwrap_or(false);
            if linked {
                // SAFETY: a plain kill(2) of the registry this test started.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                return;
            }
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
    });
    let from = format!("{}:big", src.name());
    let o = src.stacktag(&["copy", &from, &dst.name(), "--tries", "1"]);
    watcher.join().unwrap();
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(11), "{err}");
    dst.up();
    assert_eq!(
        tag_digest(&dst, "big").await,
        None,
        "a tag on a half-copied image"
    );

    let o = src.stacktag(&["copy", &from, &dst.name(), "--format", "json"]);
    let doc = json_of(&assert_ok(&o));
    assert!(doc["blobs_present"].as_u64().unwrap() >= 1, "{doc}");
    assert!(doc["blobs_sent"].as_u64().unwrap() < 17, "{doc}");
    assert_eq!(
        tag_digest(&dst, "big").await.as_deref(),
        image["digest"].as_str()
    );
}

#[tokio::test]
async fn delete_takes_a_shared_manifest_only_with_its_last_tag() {
    let r = Registry::start();
    let old = "0ld0ld0ld0ld".replace('l', "1");
    let new = "e1e2e3e4e5e6";
    let (old_index, old_x86, old_sbom, old_digests) = build(&r, &old, "2026-11-01", &[]).await;
    let (new_index, _, _, _) = build(&r, new, "2026-11-02", &["latest"]).await;
    let name = r.name();

    // The tags, with the build each belongs to.
    let out = assert_ok(&r.stacktag(&["tags", &name]));
    let line = out.lines().find(|l| l.starts_with("latest ")).unwrap();
    assert!(
        line.contains(&new_index) && line.contains("x86_64,aarch64") && line.ends_with(new),
        "{out}"
    );
    let doc =
        json_of(&assert_ok(&r.stacktag(&[
            "tags", &name, "--build", &old, "--format", "json",
        ])));
    let tags: Vec<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tag"].as_str().unwrap())
        .collect();
    let (x86_tag, arm_tag) = (format!("x86_64-{old}"), format!("aarch64-{old}"));
    assert_eq!(
        tags,
        [
            old.as_str(),
            "2026-11-01",
            arm_tag.as_str(),
            x86_tag.as_str()
        ]
    );
    assert_eq!(doc["tags"][1]["kind"], "date");

    // Two tags, one digest: the first goes alone.
    let o = r.stacktag(&["delete", &format!("{name}:2026-11-01"), "--format", "json"]);
    let doc = json_of(&assert_ok(&o));
    assert_eq!(doc["repositories"][0]["tags"][0]["action"], "untag");
    assert_eq!(tag_digest(&r, "2026-11-01").await, None);
    assert_eq!(
        tag_digest(&r, &old).await.as_deref(),
        Some(old_index.as_str())
    );

    // The merged tag alone: its index goes; the platform tags still need their images.
    assert_ok(&r.stacktag(&["delete", &format!("{name}:{old}")]));
    assert!(!has_manifest(&r, &old_index).await);
    assert!(has_manifest(&r, &old_digests[2]).await);
    assert!(has_manifest(&r, &old_sbom).await);

    // The rest of the build: every manifest, the SBOM and its referrers tag go.
    let o = r.stacktag(&[
        "delete", "--image", &name, "--build", &old, "--format", "json",
    ]);
    let doc = json_of(&assert_ok(&o));
    assert_eq!(
        doc["repositories"][0]["done"]["referrers"][0],
        old_sbom.as_str(),
        "{doc}"
    );
    for d in &old_digests {
        assert!(!has_manifest(&r, d).await, "{d} outlived its build");
    }
    let referrers = old_x86["digest"].as_str().unwrap().replace(':', "-");
    assert_eq!(tag_digest(&r, &referrers).await, None);
    // The other build is whole.
    assert_eq!(
        tag_digest(&r, "latest").await.as_deref(),
        Some(new_index.as_str())
    );
    assert!(tag_digest(&r, &format!("x86_64-{new}")).await.is_some());

    // What latest points to: refused, nothing deleted; the plan with --force.
    let o = r.stacktag(&["delete", &format!("{name}:{new}")]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(19), "{err}");
    assert!(err.contains("latest") && err.contains("--force"), "{err}");
    let o = r.stacktag(&["delete", &format!("{name}:{new}"), "--force", "--dry-run"]);
    let out = assert_ok(&o);
    assert!(out.contains(&format!("delete {name}:{new}")), "{out}");
    assert_eq!(
        tag_digest(&r, new).await.as_deref(),
        Some(new_index.as_str())
    );
}

#[tokio::test]
async fn delete_on_a_registry_without_deletes_changes_nothing() {
    let r = Registry::start_configured(None, false);
    let (index, _, _, _) = build(&r, "cafecafecafe", "2026-11-01", &[]).await;
    let before = r.tags().await;
    for tag in ["2026-11-01", "cafecafecafe"] {
        let o = r.stacktag(&["delete", &format!("{}:{tag}", r.name())]);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(20), "{err}");
        assert!(
            err.contains("does not allow deletes") && err.contains("nothing was deleted"),
            "{err}"
        );
    }
    assert_eq!(r.tags().await, before);
    assert_eq!(
        tag_digest(&r, "2026-11-01").await.as_deref(),
        Some(index.as_str())
    );
}

/// Builds of one single-platform image, each a manifest of its own.
async fn synthetic_builds(r: &Registry, n: usize) -> Vec<(String, String)> {
    let config = blob(
        r,
        "application/vnd.oci.image.config.v1+json",
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#,
    )
    .await;
    let mut out = Vec::new();
    for i in 0..n {
        let commit = format!("{:012x}", 0xb00000000000u64 + i as u64);
        let day = format!("2026-10-{:02}", i + 1);
        put(
            r,
            OCI_MANIFEST,
            &json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": [],
                    "annotations": {"org.opencontainers.image.revision": commit}}),
            &[commit.clone(), day.clone()],
        )
        .await;
        out.push((commit, day));
    }
    out
}

#[tokio::test]
async fn retain_keeps_the_newest_the_moving_and_the_cited_of_30_builds() {
    let r = Registry::start();
    let builds = synthetic_builds(&r, 30).await;
    let name = r.name();

    // Keeping nothing is refused.
    let o = r.stacktag(&["retain", &name, "--keep", "0"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(19), "{err}");
    assert!(err.contains("every build (30)"), "{err}");
    assert_eq!(r.tags().await.len(), 60);

    // latest on an old build; the wiki cites another one this month.
    let (c, auth) = r.client();
    c.auth(&r.reference("latest"), &auth, RegistryOperation::Push)
        .await
        .unwrap();
    let (body, _) = c
        .pull_manifest_raw(&r.reference(&builds[4].0), &auth, &[OCI_MANIFEST])
        .await
        .unwrap();
    c.push_manifest_raw(
        &r.reference("latest"),
        body,
        http::HeaderValue::from_static(OCI_MANIFEST),
    )
    .await
    .unwrap();
    let wiki = tempfile::tempdir().unwrap();
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let dir = wiki.path().join("manifests").join(&month[..4]).join(&month);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("x86_64-default-{IMAGE}-{}.md", builds[9].0)),
        "# x",
    )
    .unwrap();
    let w = wiki.path().display().to_string();

    let args = [
        "retain",
        name.as_str(),
        "--keep",
        "5",
        "--wiki-dir",
        w.as_str(),
        "--keep-months",
        "1",
    ];
    let mut dry = args.to_vec();
    dry.extend(["--dry-run", "--format", "json"]);
    let doc = json_of(&assert_ok(&r.stacktag(&dry)));
    let image = &doc["images"][0];
    assert_eq!(image["builds"].as_array().unwrap().len(), 30);
    let kept: Vec<&str> = image["builds"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["keep"] == true)
        .map(|b| b["commit"].as_str().unwrap())
        .collect();
    let mut want: Vec<&str> = builds[25..].iter().rev().map(|(c, _)| c.as_str()).collect();
    want.extend([builds[9].0.as_str(), builds[4].0.as_str()]);
    want.sort_by_key(|c| std::cmp::Reverse(builds.iter().position(|(b, _)| b.as_str() == *c)));
    assert_eq!(kept, want);
    assert!(image["delete"]["done"].is_null());
    assert_eq!(r.tags().await.len(), 61);

    assert_ok(&r.stacktag(&args));
    let mut left = r.tags().await;
    left.retain(|t| !t.starts_with("2026-"));
    let mut want: Vec<String> = want.iter().map(|c| c.to_string()).collect();
    want.push("latest".into());
    want.sort();
    assert_eq!(left, want);
    assert!(tag_digest(&r, &builds[0].1).await.is_none());
    assert!(tag_digest(&r, &builds[29].1).await.is_some());
}

#[tokio::test]
async fn a_target_that_refuses_the_push_gets_nothing_tagged() {
    let src = Registry::start();
    // Tokens that may only read.
    let dst = Registry::start_configured(Some(Some(&["pull"])), true);
    build(&src, "f00df00df00d", "2026-11-03", &[]).await;
    let from = format!("{}:f00df00df00d", src.name());
    let o = src.stacktag(&["copy", &from, &dst.name(), "--format", "json"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(12), "{err}");
    assert!(err.contains(&dst.host()), "{err}");
    let doc = json_of(&out);
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["copied"], json!([]));
    assert!(dst.tags().await.is_empty());
}
