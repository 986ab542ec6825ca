//! Why the catalog cannot answer.

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    // The fixes that name options are the CLI's (cli::exit).
    #[error("no catalog at {place}: {why}")]
    Missing {
        place: String,
        why: String,
        /// Where `stacktag wiki` writes it: [`super::WIKI_DIR`].
        wiki_dir: &'static str,
    },

    #[error("the catalog at {place} is corrupt: {file}: {why}")]
    Corrupt {
        place: String,
        file: String,
        why: String,
    },

    #[error("{0}")]
    BadQuery(String),

    /// A query with no term: no package named, no package or image field.
    #[error("no constraint: name a package (`numpy`, `numpy=1.26`), or give the query a package or an image")]
    NoConstraint,
}
