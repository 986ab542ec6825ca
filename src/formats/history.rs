//! The build history line (formats.md, "Build history line").

pub struct HistoryLine<'a> {
    pub timestamp: &'a str,
    pub full_image: &'a str,
    /// Tagger tags, without `latest`.
    pub tags: &'a [String],
    pub repository: &'a str,
    pub sha: &'a str,
    /// The variant's Dockerfile in the repository, e.g. `images/{image}/Dockerfile`.
    pub dockerfile: &'a str,
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
        let (repo, sha, dockerfile) = (self.repository, self.sha, self.dockerfile);
        format!(
            "| `{}` | {images} | [Git diff](https://github.com/{repo}/commit/{sha})<br />[Dockerfile](https://github.com/{repo}/blob/{sha}/{dockerfile})<br />[Build manifest](./{}) |",
            self.timestamp, self.manifest_page
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(variant: &str, page: &str) -> String {
        let dockerfile = if variant == "default" {
            "images/pytorch-notebook/Dockerfile".to_string()
        } else {
            format!("images/pytorch-notebook/{variant}/Dockerfile")
        };
        let tags = [
            "x86_64-cuda12-1ffe43816ba9".to_string(),
            "x86_64-cuda12-python-3.13".to_string(),
        ];
        HistoryLine {
            timestamp: "2026-11-22T23:48:58Z",
            full_image: "quay.io/jupyter/pytorch-notebook",
            tags: &tags,
            repository: "jupyter/docker-stacks",
            sha: "1ffe43816ba9bd6a5bc0d29c0c8e5e4e16a8d3a2",
            dockerfile: &dockerfile,
            manifest_page: page,
        }
        .render()
    }

    #[test]
    fn golden_history_lines() {
        let lines = format!(
            "{}\n{}\n",
            line("cuda12", "x86_64-cuda12-pytorch-notebook-1ffe43816ba9"),
            line("default", "x86_64-default-pytorch-notebook-1ffe43816ba9")
        );
        crate::golden::golden("hist-lines.txt", &lines);
        assert!(!line("default", "p").ends_with('\n'));
    }
}
