//! stacktag: tags a stack of Docker images from what runs inside them,
//! writes their build manifests and history lines, and keeps their wiki.
//!
//! A tagger is a [`plugin::Tagger`] registered with [`tagger!`]; a manifest
//! section is a [`plugin::Manifest`] registered with [`manifest!`]. See the
//! README for how to write one in your own crate.

pub mod cli;
pub mod command;
pub mod container;
pub mod diff;
pub mod error;
pub mod git;
pub mod guard;
pub mod hierarchy;
pub mod history;
pub mod image;
pub mod manifests;
pub mod markdown;
pub mod pipeline;
pub mod plugin;
pub mod progress;
pub mod registry;
pub mod run;
pub mod sbom;
pub mod session;
pub mod taggers;
pub mod tags;
pub mod wiki;

/// Re-exported so plugin crates implement the traits without naming it.
pub use async_trait::async_trait;
pub use error::{Error, Result};
/// Re-exported for [`tagger!`] and [`manifest!`] in plugin crates.
pub use inventory;
