//! Publishing: push the platform tags (through the Docker daemon), merge them
//! into multi-platform tags (image indexes put straight into the registry), and
//! read digests back for signing. One concept per file:
//!
//! | file | what |
//! |---|---|
//! | `credentials.rs` | where credentials come from, in order; secrets that never print |
//! | `client.rs` | the registry's HTTP API (oci-client), errors mapped and retried |
//! | `oauth.rs` | Docker identity tokens traded for access tokens (OAuth2 refresh grant) |
//! | `retry.rs` | bounded retries with backoff for transient failures |
//! | `tags_files.rs` | the per-platform tags files, read back |
//! | `push.rs` | `stacktag push`: one daemon push per tag, progress, errors sorted |
//! | `merge.rs` | `stacktag merge`: plan, check every platform image, put indexes (attestations kept) |
//! | `annotations.rs` | the OCI annotations of the merged indexes, and the rules of a key |
//! | `referrers.rs` | SBOMs attached as OCI artifacts; the referrers API or tag scheme |
//! | `digests.rs` | every digest of a build, for signing (`image-ref --digests`) |
//! | `list.rs` | a repository's tags (digest, platforms) and the builds they belong to |
//! | `copy.rs` | `stacktag copy`: manifests, blobs and referrers to another registry, tags last |
//! | `delete.rs` | `stacktag delete`: tags, and the manifests (and referrers) no tag needs any more |
//! | `retain.rs` | `stacktag retain`: which builds to keep, the rest deleted |
//! | `archive_push.rs` | `stacktag push --archive`: an archive's image straight into the registry |
//! | `error.rs` | [`RegistryError`] |

pub mod annotations;
pub mod archive_push;
pub mod client;
pub mod copy;
pub mod credentials;
pub mod delete;
pub mod digests;
pub mod error;
pub mod list;
pub mod merge;
pub mod oauth;
pub mod push;
pub mod referrers;
pub mod retain;
pub mod retry;
pub mod tags_files;

pub use client::Registry;
pub use error::{CredentialSource, RegistryError};
