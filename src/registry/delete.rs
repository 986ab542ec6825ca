//! `stacktag delete` (and the deleting half of `retain`): a plan first, made
//! from every tag of the repository, then its execution.
//!
//! A tag whose manifest another tag still needs (points to it, or to an index
//! that names it) is only untagged; a manifest no remaining tag needs is
//! deleted, with its referrers (SBOMs, signatures) and referrers tag, and the
//! platform and attestation manifests of an index that nothing else needs.
//! Nothing is deleted before the registry has shown that it allows deletes
//! and the credentials may delete: a refusal leaves everything as it was.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::Serialize;

use super::client::{media, Registry};
use super::error::{optional, RegistryError};
use super::list::{Kind, Tag};
use super::referrers;
use crate::formats::schema;

/// What happens to one tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "DeleteAction")]
pub enum Action {
    /// Another tag needs the manifest: only the tag goes.
    Untag,
    /// The manifest goes, and with it this tag.
    WithManifest,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TagPlan {
    #[schemars(with = "schema::Tag")]
    pub tag: String,
    #[schemars(with = "schema::Digest")]
    pub digest: String,
    pub action: Action,
}

/// A manifest to delete, and what it is (for the plan's listing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ManifestPlan {
    #[schemars(with = "schema::Digest")]
    pub digest: String,
    /// `the tag's manifest`, `linux/amd64`, `attestation`.
    pub what: String,
}

/// The deletion of one repository (as `delete --format json` lists it).
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Plan {
    pub tags: Vec<TagPlan>,
    /// Manifests no remaining tag needs: deleted with their referrers.
    pub manifests: Vec<ManifestPlan>,
}

/// Plans the deletion of `wanted` (tags of the repository `name`). Refused
/// (nothing planned) for a tag the registry does not have, and, without
/// `force`, for a tag on what a moving tag points to.
pub fn plan(
    name: &str,
    all: &[Tag],
    wanted: &[String],
    force: bool,
) -> Result<Plan, RegistryError> {
    let by_tag: BTreeMap<&str, &Tag> = all.iter().map(|t| (t.tag.as_str(), t)).collect();
    let missing: Vec<String> = wanted
        .iter()
        .filter(|w| !by_tag.contains_key(w.as_str()))
        .map(|w| format!("{name}:{w}"))
        .collect();
    if !missing.is_empty() {
        return Err(RegistryError::NotFound {
            reference: missing.join(", "),
        });
    }
    let going: BTreeSet<&str> = wanted.iter().map(String::as_str).collect();
    if !force {
        let mut moving_on: Vec<String> = Vec::new();
        for w in &going {
            let d = &by_tag[w].digest;
            let movers: Vec<&str> = all
                .iter()
                .filter(|t| t.kind == Kind::Moving)
                .filter(|t| &t.digest == d || t.children.contains(d))
                .map(|t| t.tag.as_str())
                .collect();
            if !movers.is_empty() {
                moving_on.push(format!("{name}:{w} ({})", movers.join(", ")));
            }
        }
        if !moving_on.is_empty() {
            return Err(RegistryError::Refused {
                what: format!("delete from {name}"),
                why: format!(
                    "a moving tag points to what these tags name: {}",
                    moving_on.join("; ")
                ),
                fix: "delete the moving tag's build only after a newer build took the tag over"
                    .into(),
            });
        }
    }
    // What the tags that stay need: their manifests and what their indexes name.
    let mut needed: BTreeSet<&str> = BTreeSet::new();
    for t in all
        .iter()
        .filter(|t| !going.contains(t.tag.as_str()) && t.kind != Kind::Referrers)
    {
        needed.insert(&t.digest);
        needed.extend(t.children.iter().map(String::as_str));
    }
    let mut out = Plan::default();
    for w in wanted {
        let t = by_tag[w.as_str()];
        if out.tags.iter().any(|p| &p.tag == w) {
            continue;
        }
        let keep = needed.contains(t.digest.as_str());
        out.tags.push(TagPlan {
            tag: w.clone(),
            digest: t.digest.clone(),
            action: if keep {
                Action::Untag
            } else {
                Action::WithManifest
            },
        });
        if keep || out.manifests.iter().any(|m| m.digest == t.digest) {
            continue;
        }
        out.manifests.push(ManifestPlan {
            digest: t.digest.clone(),
            what: "the tag's manifest".into(),
        });
        let names: Vec<(String, String)> = entries(t);
        for (child, what) in names {
            if !needed.contains(child.as_str()) && !out.manifests.iter().any(|m| m.digest == child)
            {
                out.manifests.push(ManifestPlan {
                    digest: child,
                    what,
                });
            }
        }
    }
    Ok(out)
}

/// The children of an index tag, each with what it is.
fn entries(t: &Tag) -> Vec<(String, String)> {
    t.children
        .iter()
        .cloned()
        .zip(t.children_what.iter().cloned())
        .collect()
}

/// What one run deleted.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Done {
    /// Tags removed (alone, or with their manifest).
    pub tags: Vec<String>,
    /// Manifests deleted: the planned ones, and the referrers of each.
    pub manifests: Vec<String>,
    pub referrers: Vec<String>,
    /// Tags that pointed elsewhere when their turn came (a push raced the
    /// delete): left as they are.
    pub moved: Vec<String>,
}

/// Asks the registry to delete a manifest that does not exist: 404 when
/// deletes are allowed (and the credentials may delete), the refusal that
/// any delete would get otherwise. Nothing changes either way.
pub async fn probe(registry: &Registry, repository: &str) -> Result<(), RegistryError> {
    let none = format!("sha256:{}", "0".repeat(64));
    match registry.delete_manifest(repository, &none).await {
        Ok(()) | Err(RegistryError::NotFound { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Carries out `plan`: untags first, then each manifest after its
/// referrers, then the referrers tags. `log` gets a line per deletion.
pub async fn execute(
    registry: &Registry,
    repository: &str,
    plan: &Plan,
    log: &(dyn Fn(&str) + Sync),
) -> Result<Done, RegistryError> {
    probe(registry, repository).await?;
    let name = format!("{}/{repository}", registry.host);
    let mut done = Done::default();
    for t in &plan.tags {
        let now = optional(
            registry
                .digest(&registry.reference(repository, &t.tag))
                .await,
        )?;
        if now.as_deref() != Some(&t.digest) {
            log(&format!(
                "{name}:{} points to {} now, not {}: left as it is",
                t.tag,
                now.as_deref().unwrap_or("nothing"),
                t.digest
            ));
            done.moved.push(t.tag.clone());
            continue;
        }
        if t.action == Action::Untag {
            untag(registry, repository, &t.tag).await?;
            log(&format!("untagged {name}:{} (its manifest stays)", t.tag));
        }
        done.tags.push(t.tag.clone());
    }
    for m in &plan.manifests {
        // A tag that moved since the plan may now point at the manifest:
        // it is deleted only if its tags are the ones going.
        if plan
            .tags
            .iter()
            .any(|t| done.moved.contains(&t.tag) && t.digest == m.digest)
        {
            continue;
        }
        for r in referrers::list(registry, repository, &m.digest).await? {
            match registry
                .delete_manifest(repository, &r.descriptor.digest)
                .await
            {
                Ok(()) | Err(RegistryError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
            log(&format!(
                "deleted referrer {} of {}",
                r.descriptor.digest, m.digest
            ));
            done.referrers.push(r.descriptor.digest.clone());
        }
        referrers::delete_tag(registry, repository, &m.digest).await?;
        match registry.delete_manifest(repository, &m.digest).await {
            Ok(()) | Err(RegistryError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        log(&format!("deleted {name}@{} ({})", m.digest, m.what));
        done.manifests.push(m.digest.clone());
    }
    Ok(done)
}

/// Removes one tag and nothing else. Where the registry deletes tags
/// (distribution 3, most hosted ones) that is one call; elsewhere
/// (distribution 2) the tag is first moved to a manifest of its own, made
/// for this, which is then deleted by digest, and the tag with it.
pub async fn untag(registry: &Registry, repository: &str, tag: &str) -> Result<(), RegistryError> {
    match registry.delete_manifest(repository, tag).await {
        Ok(()) => return Ok(()),
        Err(
            RegistryError::DeleteUnsupported { .. }
            | RegistryError::Protocol { .. }
            | RegistryError::NotFound { .. },
        ) => {}
        Err(e) => return Err(e),
    }
    let empty = b"{}";
    let empty_digest = format!("sha256:{}", crate::archive::codec::sha256_hex(empty));
    registry
        .push_blob_bytes(repository, &empty_digest, empty)
        .await?;
    let stamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    let body = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": {
            "mediaType": referrers::EMPTY_CONFIG,
            "digest": empty_digest,
            "size": empty.len(),
        },
        "layers": [],
        "annotations": {
            "org.stacktag.deleting-tag": tag,
            "org.stacktag.deleting-at": stamp,
        },
    }))
    .expect("JSON");
    let digest = format!("sha256:{}", crate::archive::codec::sha256_hex(&body));
    registry
        .put(
            &registry.reference(repository, tag),
            &body,
            media::OCI_MANIFEST,
            "a placeholder (to delete the tag alone)",
        )
        .await?;
    registry.delete_manifest(repository, &digest).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::list::describe;

    fn index(tag: &str, digest: &str, children: &[(&str, &str)]) -> Tag {
        let manifests: Vec<_> = children
            .iter()
            .map(|(d, arch)| {
                serde_json::json!({"mediaType": media::OCI_MANIFEST, "digest": d, "size": 1,
                    "platform": {"os": "linux", "architecture": arch}})
            })
            .collect();
        let body = serde_json::json!({"schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": manifests});
        describe(tag.into(), digest.into(), body.to_string().as_bytes())
    }

    fn image(tag: &str, digest: &str) -> Tag {
        describe(
            tag.into(),
            digest.into(),
            br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#,
        )
    }

    fn repo() -> Vec<Tag> {
        vec![
            index("aaaaaaaaaaaa", "sha256:old", &[("sha256:oldx", "amd64")]),
            image("x86_64-aaaaaaaaaaaa", "sha256:oldx"),
            index("2026-11-23", "sha256:old", &[("sha256:oldx", "amd64")]),
            index("bbbbbbbbbbbb", "sha256:new", &[("sha256:newx", "amd64")]),
            index("latest", "sha256:new", &[("sha256:newx", "amd64")]),
        ]
    }

    #[test]
    fn a_shared_manifest_stays_until_its_last_tag_goes() {
        let all = repo();
        let p = plan("r/o/i", &all, &["aaaaaaaaaaaa".into()], false).unwrap();
        assert_eq!(p.tags[0].action, Action::Untag);
        assert!(p.manifests.is_empty());
        let both = ["aaaaaaaaaaaa".to_string(), "2026-11-23".to_string()];
        let p = plan("r/o/i", &all, &both, false).unwrap();
        assert_eq!(p.tags[1].action, Action::WithManifest);
        // The platform image stays: x86_64-aaaaaaaaaaaa still points to it.
        assert_eq!(p.manifests.len(), 1);
        let mut all3 = both.to_vec();
        all3.push("x86_64-aaaaaaaaaaaa".into());
        let p = plan("r/o/i", &all, &all3, false).unwrap();
        let digests: Vec<_> = p.manifests.iter().map(|m| m.digest.as_str()).collect();
        assert_eq!(digests, ["sha256:old", "sha256:oldx"]);
        assert_eq!(p.manifests[1].what, "linux/amd64");
    }

    #[test]
    fn what_a_moving_tag_points_to_is_refused_without_force() {
        let all = repo();
        let e = plan("r/o/i", &all, &["bbbbbbbbbbbb".into()], false).unwrap_err();
        assert!(
            matches!(e, RegistryError::Refused { .. }) && e.to_string().contains("(latest)"),
            "{e}"
        );
        assert!(plan("r/o/i", &all, &["bbbbbbbbbbbb".into()], true).is_ok());
        let e = plan("r/o/i", &all, &["nope".into()], true).unwrap_err();
        assert!(e.to_string().contains("r/o/i:nope"), "{e}");
    }
}
