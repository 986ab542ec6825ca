//! The wiki of every build (formats.md, "Wiki"): manifests copied by month,
//! history lines inserted into monthly pages, `Home.md` statistics, pruning,
//! and a static HTML site of it all.
//!
//! What stacktag knows about the wiki's pages it keeps beside them, in
//! `.stacktag/` ([`index`]), so that statistics never come from re-parsing
//! markdown. A wiki kept for years by the upstream Python script has no
//! index: it is built once from the pages, and rebuilt for any page that
//! changed outside stacktag.

pub mod commits;
pub mod error;
pub mod home;
pub mod index;
pub mod input;
pub mod layout;
pub mod lock;
pub mod month;
pub mod monthly;
pub mod prune;
pub mod row;
pub mod site;
pub mod table;
pub mod update;

pub use error::{Problem, WikiError};
pub(crate) use layout::relative;
pub use update::{update, Options, Report};
