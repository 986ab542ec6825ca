//! The hook's run over images. So far: the cache of command outputs.

pub mod cache;
