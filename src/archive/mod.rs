//! Image archives: `stacktag save` and `load` (through the daemon), read by
//! `stacktag push --archive` too (straight into the registry, see
//! `registry/archive_push.rs`). One concept per file:
//!
//! | file | what |
//! |---|---|
//! | `name.rs` | `{image}_{version}_{id12}.{ext}`, compressions, dirty versions |
//! | `codec.rs` | zstd / gzip / plain, read by magic bytes; hashing readers and writers |
//! | `pipe.rs` | bytes between the daemon's async streams and the blocking side |
//! | `scan.rs` | the docker-archive tar read as it streams: both layouts, the image in it |
//! | `checksum.rs` | the `.sha256` beside each archive |
//! | `blobs.rs` | the registry layout: layers gzip-compressed on every core, named by digest |
//! | `save.rs` | export → compress → temporary file → rename |
//! | `head.rs` | the image of an archive, verified in one pass and cached, for `push --archive` |
//! | `load.rs` | verify → import, refused unless the image matches the name; newest per image |
//! | `dirty.rs` | uncommitted changes in an image's build context (git2) |
//! | `error.rs` | [`ArchiveError`] |

pub mod blobs;
pub mod checksum;
pub mod codec;
pub mod dirty;
pub mod error;
pub mod head;
pub mod load;
pub mod name;
pub mod pipe;
pub mod save;
pub mod scan;

pub use error::ArchiveError;
pub use name::{ArchiveName, Compression};
