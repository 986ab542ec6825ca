//! Integration tests: the real Docker daemon, the real demo images, the real
//! binary. One test binary (see the README's architecture section).
//!
//! Needs the fixtures `make test` builds first: the demo stack images and the
//! busybox test image (the busybox one is made here if missing).

mod cli;
mod diff;
mod failures;
mod hook;
mod plugin_crate;
mod publish;
mod sbom;
mod support;
mod token_server;
mod wiki;
mod wiki_fixture;
