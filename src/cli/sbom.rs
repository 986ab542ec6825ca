//! `hook --sbom`: the SBOM options of the hook.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::hierarchy::Hierarchy;

#[derive(Debug, Args, Clone)]
pub struct SbomArgs {
    /// Also write each image's SBOM: {platform}-{variant}-{image}-{sha12}.spdx.json (SPDX 2.3)
    /// and .cdx.json (CycloneDX 1.6) [default: `sbom:` of the hierarchy file]
    #[arg(long)]
    pub sbom: bool,
    /// SBOM directory [default: OUT_DIR/sbom]
    #[arg(long, value_name = "DIR")]
    pub sbom_dir: Option<PathBuf>,
}

impl SbomArgs {
    /// The SBOM options when `--sbom`, `--sbom-dir` or the hierarchy's `sbom: true` asks for one.
    pub fn options(&self, hierarchy: &Hierarchy, out_dir: &Path) -> Option<crate::sbom::Options> {
        (self.sbom || self.sbom_dir.is_some() || hierarchy.sbom).then(|| crate::sbom::Options {
            dir: self
                .sbom_dir
                .clone()
                .unwrap_or_else(|| out_dir.join("sbom")),
        })
    }
}
