//! stacktag: tags a stack of Docker images from what runs inside them,
//! writes their build manifests and history lines, and keeps their wiki.
//!
//! A tagger is a [`plugin::Tagger`] registered with [`tagger!`]; a manifest
//! section is a [`plugin::Manifest`] registered with [`manifest!`]. See
//! docs/tagging.md for how to write one in your own crate.

pub mod archive;
pub mod build;
pub mod catalog;
pub mod ci;
pub mod cli;
pub mod console;
pub mod diff;
pub mod error;
pub mod file;
pub mod formats;
pub mod gc;
pub mod git;
pub mod hierarchy;
pub mod hook;
pub mod keepalive;
pub mod manifests;
pub mod plugin;
pub mod registry;
pub mod sbom;
pub mod taggers;
pub mod wiki;

/// The golden-file helper the integration tests use too: one file, one
/// `STACKTAG_BLESS=1` for every golden.
#[cfg(test)]
#[path = "../tests/integration/golden.rs"]
pub(crate) mod golden;

/// Re-exported so plugin crates implement the traits without naming it.
pub use async_trait::async_trait;
pub use error::{Error, Result};
/// Re-exported for [`tagger!`] and [`manifest!`] in plugin crates.
pub use inventory;
