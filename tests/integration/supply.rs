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

pub(crate) const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub(crate) const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub(crate) const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";

pub(crate) fn sha256(data: &[u8]) -> String {
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
pub(crate) async fn blob(r: &Registry, media_type: &str, data: &[u8]) -> Value {
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
pub(crate) async fn put(
    r: &Registry,
    media_type: &'static str,
    manifest: &Value,
    tags: &[String],
) -> Value {
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
pub(crate) fn layer(content: &str) -> Vec<u8> {
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
pub(crate) struct BuildKit {
    /// The image manifest's entry in the index.
    pub(crate) image: Value,
    /// The attestation manifest's entry in the index.
    pub(crate) attestation: Value,
    pub(crate) index: String,
}

impl BuildKit {
    pub(crate) fn image_digest(&self) -> &str {
        self.image["digest"].as_str().unwrap()
    }
    pub(crate) fn attestation_digest(&self) -> &str {
        self.attestation["digest"].as_str().unwrap()
    }
}

/// A tiny image for `arch` with its provenance attestation (in-toto JSON, as
/// BuildKit makes it), and the index of both under `tags`; `extra` entries
/// are added to the index after them.
pub(crate) async fn buildkit(
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

fn spdx(image: &str, arch: &str) -> String {
    serde_json::to_string_pretty(&json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": image,
        "documentNamespace": format!("https://stacktag.example/spdx/{image}-{arch}"),
        "creationInfo": {"created": "2026-11-22T23:48:58Z", "creators": ["Tool: stacktag"]},
        "packages": [{
            "SPDXID": "SPDXRef-Package-deb-busybox",
            "name": "busybox",
            "versionInfo": "1:1.35.0-4+b3",
            "downloadLocation": "NOASSERTION",
            "externalRefs": [{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": format!("pkg:deb/debian/busybox@1%3A1.35.0-4%2Bb3?arch={arch}&distro=debian-12"),
            }],
        }],
    }))
    .unwrap()
}

fn cyclonedx(arch: &str) -> String {
    serde_json::to_string_pretty(&json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {"timestamp": "2026-11-22T23:48:58Z"},
        "components": [{
            "type": "library",
            "name": "busybox",
            "version": "1:1.35.0-4+b3",
            "purl": format!("pkg:deb/debian/busybox@1%3A1.35.0-4%2Bb3?arch={arch}&distro=debian-12"),
        }],
    }))
    .unwrap()
}

/// Reads a manifest by digest, as any client would.
pub(crate) async fn manifest_at(r: &Registry, digest: &str) -> Value {
    let (c, auth) = r.client();
    c.auth(&r.reference("latest"), &auth, RegistryOperation::Pull)
        .await
        .unwrap();
    let (body, got) = c
        .pull_manifest_raw(&by_digest(r, digest), &auth, &[OCI_MANIFEST, OCI_INDEX])
        .await
        .unwrap();
    assert_eq!(got, digest);
    serde_json::from_slice(&body).unwrap()
}

async fn blob_at(r: &Registry, digest: &str) -> Vec<u8> {
    let (c, auth) = r.client();
    c.auth(&r.reference("latest"), &auth, RegistryOperation::Pull)
        .await
        .unwrap();
    let mut out = Vec::new();
    c.pull_blob(&by_digest(r, digest), digest, &mut out)
        .await
        .unwrap();
    out
}

/// The referrers tag of `subject`, read as the OCI 1.1 tag scheme says.
pub(crate) async fn referrers_tag(r: &Registry, subject: &str) -> Vec<Value> {
    let (index, _) = r.manifest(&subject.replace(':', "-")).await;
    assert_eq!(index["mediaType"], OCI_INDEX);
    index["manifests"].as_array().unwrap().clone()
}

#[tokio::test]
async fn sboms_are_attached_and_found_back_through_the_referrers_tag() {
    let mut r = Registry::start();
    let values = ["latest", "python-3.11"];
    let (x86_tags, arm_tags) = (tags("x86_64", &values), tags("aarch64", &values));
    // x86_64 as BuildKit pushes it (an index); aarch64 a plain Docker manifest.
    let x86 = buildkit(&r, "amd64", None, "2026-11-20T10:00:00Z", &x86_tags, &[]).await;
    r.image("arm64", &format!("arm sbom {}", r.port), &arm_tags);
    let dir = r.dir.path().join("tags");
    r.tags_file(&dir, "x86_64", &x86_tags);
    r.tags_file(&dir, "aarch64", &arm_tags);
    let td = tags_dir(&r);
    let sha12 = &head_commit()[..12];
    let sbom_dir = r.dir.path().join("sbom");
    std::fs::create_dir_all(&sbom_dir).unwrap();
    let sd = sbom_dir.display().to_string();
    let x86_spdx = sbom_dir.join(format!("x86_64-default-{IMAGE}-{sha12}.spdx.json"));
    let x86_cdx = sbom_dir.join(format!("x86_64-default-{IMAGE}-{sha12}.cdx.json"));
    let arm_spdx = sbom_dir.join(format!("aarch64-default-{IMAGE}-{sha12}.spdx.json"));
    std::fs::write(&x86_spdx, spdx(IMAGE, "amd64")).unwrap();
    std::fs::write(&x86_cdx, cyclonedx("amd64")).unwrap();

    // push --attach-sbom with no SBOM of that build: refused before any push.
    let o = r.stacktag(&[
        "push",
        "--image",
        IMAGE,
        "--platform",
        "aarch64",
        "--tags-dir",
        &td,
        "--attach-sbom",
        "--sbom-dir",
        &sd,
    ]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(8), "{err}");
    assert!(
        err.contains(&format!("aarch64-default-{IMAGE}-{sha12}.spdx.json")) && err.contains("fix:"),
        "{err}"
    );
    assert!(!r.tags().await.contains(&"aarch64-latest".to_string()));

    // Someone (cosign, oras) has already put a referrer into the tag.
    let subject = x86.image.clone();
    let subject_digest = x86.image_digest().to_string();
    let sig_layer = blob(
        &r,
        "application/vnd.dev.cosign.simplesigning.v1+json",
        b"{\"critical\":{}}",
    )
    .await;
    let empty = blob(&r, "application/vnd.oci.empty.v1+json", b"{}").await;
    let mut bare_subject = subject.clone();
    bare_subject.as_object_mut().unwrap().remove("platform");
    let sig = put(
        &r,
        OCI_MANIFEST,
        &json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": "application/vnd.dev.cosign.artifact.sig.v1+json",
            "config": empty,
            "layers": [sig_layer],
            "subject": bare_subject,
        }),
        &[],
    )
    .await;
    let mut sig_entry = sig.clone();
    sig_entry["artifactType"] = json!("application/vnd.dev.cosign.artifact.sig.v1+json");
    let tag = subject_digest.replace(':', "-");
    put(
        &r,
        OCI_INDEX,
        &json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [sig_entry]}),
        std::slice::from_ref(&tag),
    )
    .await;

    let out = assert_ok(&r.stacktag(&[
        "attach",
        "--image",
        IMAGE,
        "--platform",
        "x86_64",
        "--tags-dir",
        &td,
        "--sbom-dir",
        &sd,
    ]));
    assert_eq!(out.lines().count(), 2, "{out}");
    for line in out.lines() {
        assert!(
            line.starts_with(&format!("{}@{subject_digest} <- application/", r.name()))
                && line.ends_with(&format!("; tag {tag})")),
            "{out}"
        );
    }
    let entries = referrers_tag(&r, &subject_digest).await;
    assert_eq!(entries.len(), 3, "read, added to, put: {entries:?}");
    assert_eq!(entries[0], sig_entry, "what was there stays");
    for (entry, (path, artifact_type)) in entries[1..].iter().zip([
        (&x86_spdx, "application/spdx+json"),
        (&x86_cdx, "application/vnd.cyclonedx+json"),
    ]) {
        assert_eq!(entry["artifactType"], artifact_type);
        assert_eq!(entry["mediaType"], OCI_MANIFEST);
        let artifact = manifest_at(&r, entry["digest"].as_str().unwrap()).await;
        assert_eq!(artifact["artifactType"], artifact_type);
        assert_eq!(
            artifact["config"]["mediaType"],
            "application/vnd.oci.empty.v1+json"
        );
        assert_eq!(artifact["subject"]["digest"], subject_digest.as_str());
        assert_eq!(artifact["subject"]["mediaType"], subject["mediaType"]);
        assert_eq!(artifact["subject"]["size"], subject["size"]);
        assert_eq!(artifact["layers"].as_array().unwrap().len(), 1);
        assert_eq!(artifact["layers"][0]["mediaType"], artifact_type);
        let bytes = blob_at(&r, artifact["layers"][0]["digest"].as_str().unwrap()).await;
        assert_eq!(bytes, std::fs::read(path).unwrap(), "{}", path.display());
    }

    // Again: nothing changes (the same artifacts, already listed).
    let again = assert_ok(&r.stacktag(&[
        "attach",
        "--image",
        IMAGE,
        "--platform",
        "x86_64",
        "--tags-dir",
        &td,
        "--sbom-dir",
        &sd,
    ]));
    assert_eq!(again, out);
    assert_eq!(referrers_tag(&r, &subject_digest).await, entries);

    // A broken SBOM is refused, naming the file; nothing is written.
    let tags_before = r.tags().await;
    std::fs::write(&x86_cdx, "{\"bomFormat\": \"CycloneDX\"").unwrap();
    let o = r.stacktag(&[
        "attach",
        "--image",
        IMAGE,
        "--platform",
        "x86_64",
        "--tags-dir",
        &td,
        "--sbom-dir",
        &sd,
    ]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(8), "{err}");
    assert!(
        err.contains(&x86_cdx.display().to_string()) && err.contains("not JSON"),
        "{err}"
    );
    assert_eq!(r.tags().await, tags_before);
    assert_eq!(referrers_tag(&r, &subject_digest).await, entries);

    // push --attach-sbom: the platform tags, then the SBOM on the plain manifest.
    std::fs::write(&arm_spdx, spdx(IMAGE, "arm64")).unwrap();
    let out = assert_ok(&r.stacktag(&[
        "push",
        "--image",
        IMAGE,
        "--platform",
        "aarch64",
        "--tags-dir",
        &td,
        "--attach-sbom",
        "--sbom-dir",
        &sd,
    ]));
    let (_, arm_digest) = r.manifest("aarch64-latest").await;
    assert!(
        out.contains(&format!(
            "{}@{arm_digest} <- application/spdx+json {}@sha256:",
            r.name(),
            r.name()
        )),
        "{out}"
    );
    let arm_entries = referrers_tag(&r, &arm_digest).await;
    assert_eq!(arm_entries.len(), 1);
    let artifact = manifest_at(&r, arm_entries[0]["digest"].as_str().unwrap()).await;
    assert_eq!(artifact["subject"]["digest"], arm_digest.as_str());
    assert_eq!(
        artifact["subject"]["mediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    let bytes = blob_at(&r, artifact["layers"][0]["digest"].as_str().unwrap()).await;
    assert_eq!(bytes, std::fs::read(&arm_spdx).unwrap());

    // image-ref --referrers lists what is attached, and where it was found.
    let out = assert_ok(&r.stacktag(&[
        "image-ref",
        "--image",
        IMAGE,
        "--platform",
        "x86_64",
        "--referrers",
    ]));
    assert_eq!(out.lines().count(), 3, "{out}");
    for e in &entries {
        assert!(
            out.contains(&format!(
                "{}@{subject_digest} (linux/amd64) <- {} {}@{} (tag {tag})\n",
                r.name(),
                e["artifactType"].as_str().unwrap(),
                r.name(),
                e["digest"].as_str().unwrap()
            )),
            "{out}"
        );
    }
    let out = assert_ok(&r.stacktag(&[
        "image-ref",
        "--image",
        IMAGE,
        "--platform",
        "aarch64",
        "--referrers",
        "--format",
        "json",
    ]));
    let doc: Value = serde_json::from_str(&out).unwrap();
    let listed = doc["referrers"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{out}");
    assert_eq!(listed[0]["artifact_type"], "application/spdx+json");
    assert_eq!(
        listed[0]["reference"],
        format!(
            "{}@{}",
            r.name(),
            arm_entries[0]["digest"].as_str().unwrap()
        )
    );
}

#[tokio::test]
async fn image_ref_all_lists_every_digest_the_registry_holds_for_the_stack() {
    let mut r = Registry::start();
    let values = ["latest", "2026-11-24", "python-3.11"];
    let (x86_tags, arm_tags) = (tags("x86_64", &values), tags("aarch64", &values));
    let x86 = buildkit(&r, "amd64", None, "2026-11-20T10:00:00Z", &x86_tags, &[]).await;
    r.image("arm64", &format!("arm all {}", r.port), &arm_tags);
    let dir = r.dir.path().join("tags");
    r.tags_file(&dir, "x86_64", &x86_tags);
    r.tags_file(&dir, "aarch64", &arm_tags);
    let td = tags_dir(&r);
    assert_ok(&r.stacktag(&[
        "push",
        "--image",
        IMAGE,
        "--platform",
        "aarch64",
        "--tags-dir",
        &td,
    ]));

    // Before the merge the merged tags are missing: named, exit 13.
    let o = r.stacktag(&["image-ref", "--all", "--digests", "--tags-dir", &td]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(13), "{err}");
    assert!(err.contains(&format!("{}:latest", r.name())), "{err}");
    assert!(err.contains(&format!("{}:python-3.11", r.name())), "{err}");

    assert_ok(&r.stacktag(&["merge", "--image", IMAGE, "--tags-dir", &td]));

    // What the registry holds, read through its API: every tag's digest, and
    // the image inside each platform tag that is an index.
    let mut want: Vec<String> = Vec::new();
    for t in r.tags().await {
        let (m, digest) = r.manifest(&t).await;
        want.push(format!("{}@{digest}", r.name()));
        if t.starts_with("x86_64-") || t.starts_with("aarch64-") {
            for e in m["manifests"].as_array().into_iter().flatten() {
                if e["annotations"]["vnd.docker.reference.type"].is_null() {
                    want.push(format!("{}@{}", r.name(), e["digest"].as_str().unwrap()));
                }
            }
        }
    }
    want.sort();
    want.dedup();
    assert_eq!(
        want.len(),
        4,
        "x86 index, x86 image, arm image, merged index: {want:?}"
    );

    let out = assert_ok(&r.stacktag(&[
        "image-ref",
        "--all",
        "--digests",
        "--tags-dir",
        &td,
        "--format",
        "json",
    ]));
    let doc: Value = serde_json::from_str(&out).unwrap();
    let mut got: Vec<String> = doc["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    got.sort();
    assert_eq!(got, want);
    let image = &doc["images"][0];
    assert_eq!(image["image"], IMAGE);
    assert_eq!(image["name"], r.name());
    let platforms = image["platforms"].as_array().unwrap();
    assert_eq!(platforms.len(), 2, "{out}");
    assert_eq!(platforms[0]["platform"], "x86_64");
    assert_eq!(platforms[0]["digest"], x86.index.as_str());
    assert_eq!(platforms[0]["image_digest"], x86.image_digest());
    assert_eq!(platforms[0]["tags"].as_array().unwrap().len(), 3);
    let (_, arm_digest) = r.manifest("aarch64-latest").await;
    assert_eq!(platforms[1]["digest"], arm_digest.as_str());
    assert!(platforms[1].get("image_digest").is_none());
    let merged = image["merged"].as_array().unwrap();
    assert_eq!(merged.len(), 1, "one index for every merged tag: {out}");
    let (_, latest) = r.manifest("latest").await;
    assert_eq!(merged[0]["digest"], latest.as_str());
    assert_eq!(
        merged[0]["tags"],
        json!(["latest", "2026-11-24", "python-3.11"])
    );
    assert_eq!(merged[0]["platforms"]["linux/amd64"], x86.image_digest());
    assert_eq!(merged[0]["platforms"]["linux/arm64"], arm_digest.as_str());
    // Attestations are not signed: they are what is attached to the images.
    assert!(!out.contains(x86.attestation_digest()));

    // The text form: one reference to sign per line, first column.
    let out = assert_ok(&r.stacktag(&["image-ref", "--all", "--digests", "--tags-dir", &td]));
    let mut refs: Vec<String> = out
        .lines()
        .map(|l| l.split(' ').next().unwrap().to_string())
        .collect();
    refs.sort();
    assert_eq!(refs, want, "{out}");
    assert!(
        out.contains(&format!(
            "{}@{latest} merged latest,2026-11-24,python-3.11\n",
            r.name()
        )),
        "{out}"
    );
    // An image name narrows it to one image of the stack.
    let one = assert_ok(&r.stacktag(&["image-ref", "--digests", IMAGE, "--tags-dir", &td]));
    assert_eq!(one, out);
    let o = r.stacktag(&["image-ref", "--digests", "nope", "--tags-dir", &td]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o).1);
}

/// Bearer tokens (as Docker Hub, GHCR, Quay): the blobs, the artifacts and the
/// referrers tag are put with tokens from the token server; credentials it
/// refuses are exit 12, named by where they came from, never shown.
#[tokio::test]
async fn attach_with_bearer_tokens_and_refused_credentials() {
    use crate::publish::{PASSWORD, USER, WRONG};
    let mut r = Registry::start_with_token_auth();
    let arm_tags = tags("aarch64", &["latest"]);
    r.image("arm64", &format!("arm token {}", r.port), &arm_tags);
    r.tags_file(&r.dir.path().join("tags"), "aarch64", &arm_tags);
    let td = tags_dir(&r);
    let sha12 = &head_commit()[..12];
    let sbom_dir = r.dir.path().join("sbom");
    std::fs::create_dir_all(&sbom_dir).unwrap();
    let cdx = sbom_dir.join(format!("aarch64-default-{IMAGE}-{sha12}.cdx.json"));
    std::fs::write(&cdx, cyclonedx("arm64")).unwrap();
    let sd = sbom_dir.display().to_string();
    assert_ok(&r.stacktag(&["push", "--image", IMAGE, "--tags-dir", &td]));

    let o = r.stacktag_with(
        &[
            "attach",
            "--image",
            IMAGE,
            "--tags-dir",
            &td,
            "--sbom-dir",
            &sd,
        ],
        &[
            ("STACKTAG_REGISTRY_USER", USER),
            ("STACKTAG_REGISTRY_PASSWORD", WRONG),
        ],
        None,
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(12), "{err}");
    assert!(
        err.contains("STACKTAG_REGISTRY_PASSWORD") && err.contains("fix:"),
        "{err}"
    );
    for secret in [WRONG, PASSWORD] {
        assert!(!out.contains(secret) && !err.contains(secret), "{err}");
    }

    let issued = r.token.as_ref().unwrap().issued();
    let out = assert_ok(&r.stacktag(&[
        "attach",
        "--image",
        IMAGE,
        "--tags-dir",
        &td,
        "--sbom-dir",
        &sd,
    ]));
    assert!(r.token.as_ref().unwrap().issued() > issued);
    let (_, digest) = r.manifest("aarch64-latest").await;
    assert!(
        out.starts_with(&format!(
            "{}@{digest} <- application/vnd.cyclonedx+json",
            r.name()
        )),
        "{out}"
    );
    let entries = referrers_tag(&r, &digest).await;
    assert_eq!(entries.len(), 1);
    let artifact = manifest_at(&r, entries[0]["digest"].as_str().unwrap()).await;
    let bytes = blob_at(&r, artifact["layers"][0]["digest"].as_str().unwrap()).await;
    assert_eq!(bytes, std::fs::read(&cdx).unwrap());
}
