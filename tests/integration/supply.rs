//! Supply chain, against a real registry with auth (Debian's docker-registry
//! 2.8, which has no referrers API): platform tags as BuildKit pushes them (an
//! index with the image and its attestation manifest) merged without losing
//! the attestations; OCI annotations on the merged indexes; SBOMs attached as
//! OCI artifacts and found back through the referrers tag scheme; every digest
//! of the stack listed for signing. The BuildKit-style tags are made here
//! through the registry's API (buildx is not available), and everything is
//! read back through that API, not through stacktag.

use std::collections::BTreeMap;
use std::process::Command;

use oci_client::{Reference, RegistryOperation};
use serde_json::{json, Value};
use sha2::Digest;

use crate::publish::{assert_ok, tags, tags_dir, text, Registry, IMAGE, OWNER};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";

fn sha256(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(data)))
}

fn head_commit() -> String {
    let out = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn by_digest(r: &Registry, digest: &str) -> Reference {
    Reference::with_digest(r.host(), format!("{OWNER}/{IMAGE}"), digest.into())
}

/// Uploads a blob; returns its descriptor.
async fn blob(r: &Registry, media_type: &str, data: &[u8]) -> Value {
    let (c, auth) = r.client();
    let reference = r.reference("latest");
    c.auth(&reference, &auth, RegistryOperation::Push)
        .await
        .unwrap();
    let digest = sha256(data);
    c.push_blob(&reference, data.to_vec(), &digest)
        .await
        .unwrap();
    json!({"mediaType": media_type, "digest": digest, "size": data.len()})
}

/// Puts a manifest under its digest and under each of `tags`; returns its descriptor.
async fn put(r: &Registry, media_type: &'static str, manifest: &Value, tags: &[String]) -> Value {
    let (c, auth) = r.client();
    let body = serde_json::to_vec(manifest).unwrap();
    let digest = sha256(&body);
    c.auth(&r.reference("latest"), &auth, RegistryOperation::Push)
        .await
        .unwrap();
    let header = http::HeaderValue::from_static(media_type);
    c.push_manifest_raw(&by_digest(r, &digest), body.clone(), header.clone())
        .await
        .unwrap();
    for t in tags {
        c.push_manifest_raw(&r.reference(t), body.clone(), header.clone())
            .await
            .unwrap();
    }
    json!({"mediaType": media_type, "digest": digest, "size": body.len()})
}

/// A one-file layer (an uncompressed tar, as the tar tool writes it).
fn layer(content: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hello"), content).unwrap();
    let out = Command::new("tar")
        .args([
            "--sort=name",
            "--mtime=@0",
            "--owner=0",
            "--group=0",
            "-cf",
            "-",
            "-C",
        ])
        .arg(dir.path())
        .arg("hello")
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
}

/// One platform as BuildKit pushes it.
struct BuildKit {
    /// The image manifest's entry in the index.
    image: Value,
    /// The attestation manifest's entry in the index.
    attestation: Value,
    index: String,
}

impl BuildKit {
    fn image_digest(&self) -> &str {
        self.image["digest"].as_str().unwrap()
    }
    fn attestation_digest(&self) -> &str {
        self.attestation["digest"].as_str().unwrap()
    }
}

/// A tiny image for `arch` with its provenance attestation (in-toto JSON, as
/// BuildKit makes it), and the index of both under `tags`; `extra` entries
/// are added to the index after them.
async fn buildkit(
    r: &Registry,
    arch: &str,
    variant: Option<&str>,
    created: &str,
    tags: &[String],
    extra: &[Value],
) -> BuildKit {
    let tar = layer(&format!("{arch} {}", r.port));
    let layer_desc = blob(r, "application/vnd.oci.image.layer.v1.tar", &tar).await;
    let mut config = json!({
        "architecture": arch,
        "os": "linux",
        "created": created,
        "config": {"Cmd": ["/hello"]},
        "rootfs": {"type": "layers", "diff_ids": [sha256(&tar)]},
    });
    if let Some(v) = variant {
        config["variant"] = json!(v);
    }
    let config_desc = blob(r, OCI_CONFIG, &serde_json::to_vec(&config).unwrap()).await;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config_desc,
        "layers": [layer_desc],
    });
    let mut image = put(r, OCI_MANIFEST, &manifest, &[]).await;
    let mut platform = json!({"architecture": arch, "os": "linux"});
    if let Some(v) = variant {
        platform["variant"] = json!(v);
    }
    image["platform"] = platform;

    let statement = json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": [{"name": format!("pkg:docker/{OWNER}/{IMAGE}"),
                     "digest": {"sha256": image["digest"].as_str().unwrap().trim_start_matches("sha256:")}}],
        "predicate": {"builder": {"id": ""}, "buildType": "https://mobyproject.org/buildkit@v1"},
    });
    let mut statement_desc = blob(
        r,
        "application/vnd.in-toto+json",
        &serde_json::to_vec(&statement).unwrap(),
    )
    .await;
    statement_desc["annotations"] =
        json!({"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"});
    let att_config = json!({
        "architecture": "unknown",
        "os": "unknown",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [statement_desc["digest"]]},
    });
    let att_config_desc = blob(r, OCI_CONFIG, &serde_json::to_vec(&att_config).unwrap()).await;
    let att_manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": att_config_desc,
        "layers": [statement_desc],
    });
    let mut attestation = put(r, OCI_MANIFEST, &att_manifest, &[]).await;
    attestation["annotations"] = json!({
        "vnd.docker.reference.digest": image["digest"],
        "vnd.docker.reference.type": "attestation-manifest",
    });
    attestation["platform"] = json!({"architecture": "unknown", "os": "unknown"});

    let mut entries = vec![image.clone(), attestation.clone()];
    entries.extend(extra.iter().cloned());
    let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries});
    let index = put(r, OCI_INDEX, &index, tags).await;
    BuildKit {
        image,
        attestation,
        index: index["digest"].as_str().unwrap().to_string(),
    }
}

#[tokio::test]
async fn merge_keeps_buildkit_attestations_and_annotates_the_index() {
    let r = Registry::start();
    let values = ["latest", "python-3.11"];
    let (x86_tags, arm_tags) = (tags("x86_64", &values), tags("aarch64", &values));
    let arm = buildkit(
        &r,
        "arm64",
        Some("v8"),
        "2026-11-21T09:30:00.5Z",
        &arm_tags,
        &[],
    )
    .await;
    // The x86_64 tag's index also holds the arm64 image (a multi-platform
    // build): not this platform's, so left out, with a warning naming it.
    let x86 = buildkit(
        &r,
        "amd64",
        None,
        "2026-11-20T10:00:00Z",
        &x86_tags,
        std::slice::from_ref(&arm.image),
    )
    .await;
    let dir = r.dir.path().join("tags");
    r.tags_file(&dir, "x86_64", &x86_tags);
    r.tags_file(&dir, "aarch64", &arm_tags);
    let td = tags_dir(&r);
    let before = r.tags().await;

    // The dry run lists the attestations and the annotations, writes nothing.
    let o = r.stacktag(&["merge", "--image", IMAGE, "--tags-dir", &td, "--dry-run"]);
    let out = assert_ok(&o);
    let (_, err) = text(&o);
    let sources = format!(
        "x86_64 {} + attestation {}, aarch64 {} + attestation {}",
        x86.image_digest(),
        x86.attestation_digest(),
        arm.image_digest(),
        arm.attestation_digest()
    );
    for merged in values {
        assert!(
            out.contains(&format!("would put {}:{merged} <- {sources}\n", r.name())),
            "{out}"
        );
    }
    assert!(
        out.contains(
            "  annotation org.opencontainers.image.source=https://github.com/stacktag/test\n"
        ),
        "{out}"
    );
    assert!(
        err.contains(&format!(
            "warning: {}:x86_64-latest, x86_64-python-3.11 (index {}) holds what the merged index leaves out: {} (the linux/arm64/v8 image)",
            r.name(),
            x86.index,
            arm.image_digest()
        )),
        "{err}"
    );
    assert_eq!(err.matches("leaves out").count(), 1, "said once: {err}");
    assert_eq!(r.tags().await, before);

    assert_ok(&r.stacktag(&[
        "merge",
        "--image",
        IMAGE,
        "--tags-dir",
        &td,
        "--annotation",
        "com.example.team=supply-chain",
    ]));
    let (index, digest) = r.manifest("latest").await;
    assert_eq!(index["mediaType"], OCI_INDEX);
    let entries = index["manifests"].as_array().unwrap();
    let digests: Vec<&str> = entries
        .iter()
        .map(|e| e["digest"].as_str().unwrap())
        .collect();
    assert_eq!(
        digests,
        [
            x86.image_digest(),
            x86.attestation_digest(),
            arm.image_digest(),
            arm.attestation_digest()
        ],
        "{index}"
    );
    // Each entry as it was in the platform tag's index.
    assert_eq!(entries[0], x86.image);
    assert_eq!(entries[1], x86.attestation);
    assert_eq!(entries[2], arm.image);
    assert_eq!(entries[3], arm.attestation);
    for (att, image) in [(&entries[1], &entries[0]), (&entries[3], &entries[2])] {
        assert_eq!(
            att["annotations"]["vnd.docker.reference.digest"],
            image["digest"]
        );
        assert_eq!(
            att["annotations"]["vnd.docker.reference.type"],
            "attestation-manifest"
        );
        assert_eq!(att["platform"]["os"], "unknown");
    }
    assert_eq!(entries[2]["platform"]["variant"], "v8");
    // The attestation is in the repository, with its in-toto statement.
    let (c, auth) = r.client();
    let (att, _) = c
        .pull_manifest_raw(
            &by_digest(&r, x86.attestation_digest()),
            &auth,
            &[OCI_MANIFEST],
        )
        .await
        .unwrap();
    let att: Value = serde_json::from_slice(&att).unwrap();
    assert_eq!(
        att["layers"][0]["mediaType"],
        "application/vnd.in-toto+json"
    );

    let sha = head_commit();
    let want: BTreeMap<String, String> = [
        ("com.example.team", "supply-chain"),
        // The newest creation time of the platform images, to the second.
        ("org.opencontainers.image.created", "2026-11-21T09:30:00Z"),
        ("org.opencontainers.image.revision", &sha),
        (
            "org.opencontainers.image.source",
            "https://github.com/stacktag/test",
        ),
        ("org.opencontainers.image.title", IMAGE),
        ("org.opencontainers.image.version", &sha[..12]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let got: BTreeMap<String, String> =
        serde_json::from_value(index["annotations"].clone()).unwrap();
    assert_eq!(got, want);
    // Same images, same annotations: one index under every merged tag.
    let (_, other) = r.manifest("python-3.11").await;
    assert_eq!(other, digest);

    // --timestamp (STACKTAG_TIMESTAMP, as the hook reads it) is the build's time.
    assert_ok(&r.stacktag_with(
        &["merge", "--image", IMAGE, "--tags-dir", &td],
        &[
            ("STACKTAG_REGISTRY_USER", crate::publish::USER),
            ("STACKTAG_REGISTRY_PASSWORD", crate::publish::PASSWORD),
            ("STACKTAG_TIMESTAMP", "2026-11-22T23:48:58Z"),
        ],
        None,
    ));
    let (index, _) = r.manifest("latest").await;
    assert_eq!(
        index["annotations"]["org.opencontainers.image.created"],
        "2026-11-22T23:48:58Z"
    );
    assert!(index["annotations"].get("com.example.team").is_none());

    // A key the OCI rules refuse: a usage error naming it; nothing written.
    let tags_before = r.tags().await;
    let (_, latest_before) = r.manifest("latest").await;
    for bad in [
        "org.opencontainers.image.sorce=x",
        "team=x",
        "org.opencontainers.image.created=yesterday",
    ] {
        let o = r.stacktag(&[
            "merge",
            "--image",
            IMAGE,
            "--tags-dir",
            &td,
            "--annotation",
            bad,
        ]);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{bad}: {err}");
        let key = bad.split('=').next().unwrap();
        assert!(err.contains(key), "{err}");
    }
    assert_eq!(r.tags().await, tags_before);
    assert_eq!(r.manifest("latest").await.1, latest_before);
}
