//! `wiki`: the library's own reports of the update and of the site.

use schemars::JsonSchema;
use serde::Serialize;

use crate::wiki::site::SiteReport;
use crate::wiki::update::Report;

#[derive(Debug, Serialize, JsonSchema)]
pub struct Wiki {
    /// The update (with --hist-lines-dir and --manifests-dir), else `null`.
    pub update: Option<Report>,
    /// The site (with --html), else `null`.
    pub site: Option<SiteReport>,
}
