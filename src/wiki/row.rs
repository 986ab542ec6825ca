//! One row of a monthly page: one single-platform image build. This is what
//! the index keeps of a history line; the statistics are counted from it.

use super::month::{parse_timestamp, Month};
use crate::formats::tags::Platform;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// As written in the line's first column (upstream's oldest lines may
    /// hold a shorter date).
    pub timestamp: String,
    pub platform: String,
    pub variant: String,
    /// Short image name, e.g. `base-notebook`; empty when the line names none.
    pub image: String,
    /// The manifest page the line links to; empty when it links none.
    pub page: String,
}

/// What the link column of a history line points at.
const MANIFEST_LINK: &str = "[Build manifest](./";

/// Parses a history line written by `stacktag hook` (or upstream's
/// `write_manifest`), checking it against the file it came from:
/// `{platform}-{variant}-{image}-{sha12}.txt`.
pub fn parse_new(line: &str, stem: &str) -> Result<Row, String> {
    if line.contains('\n') || line.contains('\r') {
        return Err("a history line is one line; this file has several".into());
    }
    if line.contains('\t') {
        return Err("a history line has no tab characters".into());
    }
    let rest = line.strip_prefix("| `").ok_or(
        "does not start with \"| `\" (a table row whose first column is the build timestamp)",
    )?;
    let timestamp = rest.get(..20).unwrap_or(rest);
    if parse_timestamp(timestamp).is_none() || !rest[20..].starts_with("` | ") {
        return Err(format!(
            "the first column is not a build timestamp like `2026-11-22T23:48:58Z`: {:?}",
            first_cell(line)
        ));
    }
    if !line.ends_with(" |") {
        return Err("does not end with \" |\" (truncated?)".into());
    }
    let page = manifest_page(line).ok_or("has no `[Build manifest](./PAGE)` link")?;
    if page != stem {
        return Err(format!(
            "links the manifest page `{page}`, but the file is named `{stem}.txt`"
        ));
    }
    let image =
        image_of(line).ok_or("names no image (`registry/owner/image:tag`) in its second column")?;
    let (platform, variant) = split_page(&page, &image).ok_or_else(|| {
        format!("the file name `{stem}` is not `{{platform}}-{{variant}}-{image}-{{sha12}}`")
    })?;
    Ok(Row {
        timestamp: timestamp.to_string(),
        platform,
        variant,
        image,
        page,
    })
}

/// Reads whatever a row of an existing page says, never failing: pages that
/// upstream wrote years ago have older shapes. Unknown parts stay empty; a
/// row with no platform was built before aarch64 builds existed.
pub fn parse_existing(line: &str) -> Row {
    let timestamp = first_cell(line).trim().trim_matches('`').replace('\t', " ");
    let page = manifest_page(line).unwrap_or_default();
    let image = image_of(line).unwrap_or_default();
    let (platform, variant) = split_page(&page, &image).unwrap_or_else(|| {
        let platform = if line.contains("aarch64") {
            "aarch64"
        } else {
            "x86_64"
        };
        (
            platform.to_string(),
            crate::formats::tags::DEFAULT_VARIANT.to_string(),
        )
    });
    Row {
        timestamp,
        platform,
        variant,
        image,
        page,
    }
}

impl Row {
    /// The month the row's build belongs to, when its timestamp says.
    pub fn month(&self) -> Option<Month> {
        Month::of_timestamp(&self.timestamp)
    }
}

fn first_cell(line: &str) -> &str {
    line.trim_start_matches('|').split('|').next().unwrap_or("")
}

/// `PAGE` of `[Build manifest](./PAGE)`.
fn manifest_page(line: &str) -> Option<String> {
    let start = line.find(MANIFEST_LINK)? + MANIFEST_LINK.len();
    let end = line[start..].find(')')? + start;
    let page = &line[start..end];
    (!page.is_empty() && !page.contains(char::is_whitespace)).then(|| page.to_string())
}

/// `image` of the first `` `registry/owner/image:tag` `` of the second column.
fn image_of(line: &str) -> Option<String> {
    let second = line.trim_start_matches('|').split('|').nth(1)?;
    let reference = second.split('`').nth(1)?;
    let name = reference.rsplit_once(':').map_or(reference, |(n, _)| n);
    let image = name.rsplit('/').next()?;
    (!image.is_empty()).then(|| image.to_string())
}

/// `(platform, variant)` of `{platform}-{variant}-{image}-{sha12}`; upstream's
/// older `{platform}-{image}-{sha12}` is the default variant.
pub fn split_page(page: &str, image: &str) -> Option<(String, String)> {
    let (platform, rest) = page.split_once('-')?;
    let platform: Platform = platform.parse().ok()?;
    let (front, sha) = rest.rsplit_once('-')?;
    if sha.len() != 12 || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let variant = if front == image {
        crate::formats::tags::DEFAULT_VARIANT
    } else {
        front.strip_suffix(image)?.strip_suffix('-')?
    };
    (!variant.is_empty()).then(|| (platform.to_string(), variant.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = "| `2026-11-22T23:48:58Z` | `quay.io/jupyter/base-notebook:x86_64-1ffe43816ba9`<br />`quay.io/jupyter/base-notebook:x86_64-python-3.13` | [Git diff](https://github.com/jupyter/docker-stacks/commit/1ffe43816ba9bd6a5bc0d29c0c8e5e4e16a8d3a2)<br />[Dockerfile](https://github.com/jupyter/docker-stacks/blob/1ffe43816ba9bd6a5bc0d29c0c8e5e4e16a8d3a2/images/base-notebook/Dockerfile)<br />[Build manifest](./x86_64-default-base-notebook-1ffe43816ba9) |";

    #[test]
    fn a_new_line_gives_its_row() {
        let row = parse_new(LINE, "x86_64-default-base-notebook-1ffe43816ba9").unwrap();
        assert_eq!(row.timestamp, "2026-11-22T23:48:58Z");
        assert_eq!(row.platform, "x86_64");
        assert_eq!(row.variant, "default");
        assert_eq!(row.image, "base-notebook");
        assert_eq!(row.month().unwrap().to_string(), "2026-11");
        assert_eq!(parse_existing(LINE), row);
    }

    #[test]
    fn a_new_line_must_match_its_file_and_be_whole() {
        let err = parse_new(LINE, "aarch64-default-base-notebook-1ffe43816ba9").unwrap_err();
        assert!(err.contains("links the manifest page"), "{err}");
        let truncated = &LINE[..LINE.len() - 40];
        assert!(parse_new(truncated, "x86_64-default-base-notebook-1ffe43816ba9").is_err());
        let bad_time = LINE.replace("2026-11-22T23:48:58Z", "2026-11-22 23:48:58");
        assert!(
            parse_new(&bad_time, "x86_64-default-base-notebook-1ffe43816ba9")
                .unwrap_err()
                .contains("build timestamp")
        );
        assert!(parse_new(&format!("{LINE}\n{LINE}"), "x").is_err());
    }

    #[test]
    fn variants_and_old_page_names() {
        assert_eq!(
            split_page(
                "aarch64-cuda12-pytorch-notebook-0123456789ab",
                "pytorch-notebook"
            ),
            Some(("aarch64".into(), "cuda12".into()))
        );
        assert_eq!(
            split_page("x86_64-base-notebook-0123456789ab", "base-notebook"),
            Some(("x86_64".into(), "default".into()))
        );
        assert_eq!(
            split_page("base-notebook-0123456789ab", "base-notebook"),
            None
        );
        let old = "| `2021-03-01` | `jupyter/base-notebook:2021-03-01` | [Git diff](x) |";
        let row = parse_existing(old);
        assert_eq!(row.image, "base-notebook");
        assert_eq!(row.platform, "x86_64");
        assert_eq!(row.timestamp, "2021-03-01");
        assert_eq!(row.page, "");
    }
}
