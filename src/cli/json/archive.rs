//! `save`, `load`: one archive per image ([`Saved`], [`Loaded`] as the library has them).

use schemars::JsonSchema;
use serde::Serialize;

use crate::archive::load::Loaded;
use crate::archive::save::Saved;

/// `save`: one archive per image.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Save {
    pub archives: Vec<Saved>,
}

/// `load`: one image per archive.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Load {
    pub archives: Vec<Loaded>,
}
