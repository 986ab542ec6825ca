//! Integration tests: the real Docker daemon, the real demo images, the real
//! binary. One test binary (see ARCHITECTURE.md).
//!
//! Needs the fixtures `make test` builds first: the demo stack images and the
//! busybox test image (the busybox one is made here if missing).

mod archive;
mod archive_push;
mod build;
mod buildkit;
mod catalog_fixture;
mod cdp;
mod ci;
mod cli;
mod diff;
mod docs;
mod failures;
mod faults;
mod find;
mod golden;
mod hook;
mod hook_cache;
mod json;
mod layers;
mod own_stack;
mod plugin_crate;
mod podman;
mod private_daemon;
mod publish;
mod registry_ops;
mod sbom;
mod supply;
mod support;
mod token_server;
mod wiki;
mod wiki_fixture;
