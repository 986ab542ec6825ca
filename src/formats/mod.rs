//! The output formats (docs/formats.md): tags and tags files, the pieces of
//! the build manifest, the build history line.

pub mod history;
pub mod markdown;
pub mod schema;
pub mod tags;
