//! The hook's cache options.

use std::path::PathBuf;

use clap::Args;

use crate::hook::cache::DiskCache;

#[derive(Debug, Args, Clone)]
pub struct CacheArgs {
    /// Where command outputs are kept by image ID [default: $XDG_CACHE_HOME/stacktag/hook, else ~/.cache/stacktag/hook]
    #[arg(long, env = "STACKTAG_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Run every command, neither reading nor writing the cache
    #[arg(long, conflicts_with = "cache_dir")]
    pub no_cache: bool,
}

impl CacheArgs {
    pub fn cache(&self) -> Option<DiskCache> {
        (!self.no_cache).then(|| DiskCache {
            dir: self
                .cache_dir
                .clone()
                .unwrap_or_else(DiskCache::default_dir),
        })
    }
}
