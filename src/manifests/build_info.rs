//! The Build Info header every manifest starts with, and the whole document.

use crate::formats::markdown::{docker_size, text_block};
use crate::plugin::run::{BuildInfo, ImageInfo};

/// `# Build manifest for image: ...` and `## Build Info`.
pub fn header(image: &ImageInfo, build: &BuildInfo) -> String {
    let sha_tag = format!("{}-{}", image.prefix(), build.sha12());
    let (repo, sha) = (&build.repository, &build.commit.sha);
    format!(
        "# Build manifest for image: {name}:{sha_tag}\n\n## Build Info\n\n\
         - Build timestamp: {ts}\n\
         - Docker image: `{full}:{sha_tag}`\n\
         - Docker image size: {size}\n\
         - Git commit SHA: [{sha}](https://github.com/{repo}/commit/{sha})\n\
         - Git commit message:\n\n{message}",
        name = image.image,
        ts = build.timestamp_str(),
        full = image.full_name(),
        size = docker_size(image.size),
        message = text_block(&build.commit.message),
    )
}

/// The manifest file's text: pieces joined by one blank line, one final `\n`.
pub fn document(header: String, sections: Vec<String>) -> String {
    let mut pieces = vec![header];
    pieces.extend(sections);
    pieces.join("\n\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_header() {
        let doc = document(
            header(&ImageInfo::example(), &BuildInfo::example()),
            vec!["## Apt Packages\n\nx".into()],
        );
        crate::golden::golden("manifest-header.md", &doc);
    }
}
