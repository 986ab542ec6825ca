//! Why the catalog cannot answer.

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("no catalog at {place}: {why}\n  fix: run `stacktag wiki` on the wiki (it writes {wiki_dir}/), then `--html` to publish it; or point --catalog at a wiki checkout, a site or its catalog/")]
    Missing {
        place: String,
        why: String,
        /// Where `stacktag wiki` writes it: [`super::WIKI_DIR`].
        wiki_dir: &'static str,
    },

    #[error("the catalog at {place} is corrupt: {file}: {why}\n  fix: run `stacktag wiki --allow-no-files` on the wiki to rewrite it (and `--html` to publish it again)")]
    Corrupt {
        place: String,
        file: String,
        why: String,
    },

    #[error("{0}\n  fix: see `stacktag find --help` for how constraints are written")]
    BadQuery(String),
}
