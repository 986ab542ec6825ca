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
//! | `archive_push.rs` | `stacktag push --archive`: an archive's image straight into the registry |
//! | `merge.rs` | `stacktag merge`: plan, check every platform image, put indexes |
//! | `commands.rs` | the subcommands' glue, called from `cli.rs` |
//! | `error.rs` | [`RegistryError`] |

pub mod archive_push;
pub mod client;
pub mod commands;
pub mod credentials;
pub mod error;
pub mod merge;
pub mod oauth;
pub mod push;
pub mod retry;
pub mod tags_files;

pub use client::Registry;
pub use error::{CredentialSource, RegistryError};
