//! One run over the images of a stack: the daemon session, one container per
//! image and the commands run in it, the guard that removes containers
//! whatever happens, the pipeline that turns values into files and tags, and
//! the progress a user sees.

pub mod cache;
pub mod container;
pub mod error;
pub mod guard;
pub mod image;
pub mod pipeline;
pub mod progress;
pub mod session;

/// The words a tagger speaks live in [`crate::plugin`]; these paths stay for
/// code written against them.
pub use crate::plugin::{command, run};
