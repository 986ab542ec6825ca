//! `save`, `load`: one archive per image ([`Loaded`] as the library has it).

use schemars::JsonSchema;
use serde::Serialize;

use crate::archive::load::Loaded;
use crate::formats::schema::{Digest, Seconds};

/// `save`: one archive per image.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Save {
    pub archives: Vec<SavedArchive>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SavedArchive {
    pub image: String,
    /// The reference that was saved (`{name}:latest`).
    pub reference: String,
    #[schemars(with = "Digest")]
    pub image_id: String,
    /// `{sha12}`, `{sha12}.dirty` or `--version`.
    pub version: String,
    pub path: String,
    /// The `.sha256` beside it.
    pub checksum_file: String,
    /// The registry manifest in the archive (`--layers gzip`).
    #[schemars(with = "Option<Digest>")]
    pub manifest_digest: Option<String>,
    pub bytes: u64,
    #[schemars(with = "Seconds")]
    pub seconds: f64,
}

/// `load`: one image per archive.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Load {
    pub archives: Vec<Loaded>,
}
