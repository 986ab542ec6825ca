//! The build history line (formats.md, "Build history line").

use crate::tags::DEFAULT_VARIANT;

pub struct HistoryLine<'a> {
    pub timestamp: &'a str,
    pub full_image: &'a str,
    /// Tagger tags, without `latest`.
    pub tags: &'a [String],
    pub repository: &'a str,
    pub sha: &'a str,
    pub image: &'a str,
    pub variant: &'a str,
    /// `{platform}-{variant}-{image}-{sha12}`: the manifest's page name.
    pub manifest_page: &'a str,
}

impl HistoryLine<'_> {
    pub fn render(&self) -> String {
        let images = self
            .tags
            .iter()
            .map(|t| format!("`{}:{t}`", self.full_image))
            .collect::<Vec<_>>()
            .join("<br />");
        let dockerfile = if self.variant == DEFAULT_VARIANT {
            format!("images/{}/Dockerfile", self.image)
        } else {
            format!("images/{}/{}/Dockerfile", self.image, self.variant)
        };
        let (repo, sha) = (self.repository, self.sha);
        format!(
            "| `{}` | {images} | [Git diff](https://github.com/{repo}/commit/{sha})<br />[Dockerfile](https://github.com/{repo}/blob/{sha}/{dockerfile})<br />[Build manifest](./{}) |",
            self.timestamp, self.manifest_page
        )
    }
}
