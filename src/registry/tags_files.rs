//! The tags files of one image, one per platform that was built
//! (formats.md, "Tags file"), read back for push and merge.

use std::path::{Path, PathBuf};

use super::error::RegistryError;
use crate::formats::tags::{self, Platform};

/// The tags one platform's build declared for an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformTags {
    pub platform: Platform,
    pub path: PathBuf,
    /// Platform tags (`x86_64-python-3.13`), in file order.
    pub tags: Vec<String>,
}

pub fn path(dir: &Path, platform: Platform, variant: &str, image: &str) -> PathBuf {
    dir.join(format!("{}.txt", tags::file_stem(platform, variant, image)))
}

/// Reads `{dir}/{platform}-{variant}-{image}.txt`; `None` when there is none.
/// Every line must be a tag of `name` that starts with the platform's prefix.
pub fn read(
    dir: &Path,
    platform: Platform,
    variant: &str,
    image: &str,
    name: &str,
) -> Result<Option<PlatformTags>, crate::Error> {
    let path = path(dir, platform, variant, image);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(crate::Error::io(path, e)),
    };
    let prefix = format!("{}-", tags::tag_prefix(platform, variant));
    let mut found = Vec::new();
    for (line_name, tag) in tags::parse_tags_file(&text) {
        let bad = |message: String| RegistryError::BadTagsFile {
            path: path.clone(),
            message,
        };
        if line_name != name {
            return Err(bad(format!("`{line_name}:{tag}` is not a tag of {name}")).into());
        }
        if !tags::is_valid_tag(&tag) || !tag.starts_with(&prefix) {
            return Err(bad(format!(
                "`{name}:{tag}` does not belong in the {platform} tags of variant {variant} (they start with `{prefix}`)"
            ))
            .into());
        }
        found.push(tag);
    }
    if found.is_empty() {
        return Err(RegistryError::BadTagsFile {
            path,
            message: "no tags in the file".into(),
        }
        .into());
    }
    Ok(Some(PlatformTags {
        platform,
        path,
        tags: found,
    }))
}

/// The platform's tags file, which must be there.
pub fn require(
    dir: &Path,
    platform: Platform,
    variant: &str,
    image: &str,
    name: &str,
) -> Result<PlatformTags, crate::Error> {
    read(dir, platform, variant, image, name)?.ok_or_else(|| {
        RegistryError::NoTagsFile {
            image: image.to_string(),
            variant: variant.to_string(),
            dir: dir.to_path_buf(),
            expected: format!("{}.txt", tags::file_stem(platform, variant, image)),
        }
        .into()
    })
}

/// Every platform's tags file of the image that exists, x86_64 first.
pub fn read_all(
    dir: &Path,
    variant: &str,
    image: &str,
    name: &str,
) -> Result<Vec<PlatformTags>, crate::Error> {
    let mut all = Vec::new();
    for p in Platform::ALL {
        if let Some(t) = read(dir, p, variant, image, name)? {
            all.push(t);
        }
    }
    if all.is_empty() {
        return Err(RegistryError::NoTagsFile {
            image: image.to_string(),
            variant: variant.to_string(),
            dir: dir.to_path_buf(),
            expected: Platform::ALL
                .iter()
                .map(|p| format!("{}.txt", tags::file_stem(*p, variant, image)))
                .collect::<Vec<_>>()
                .join(" or "),
        }
        .into());
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_platform_and_checks_the_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let name = "localhost:5000/stacktag/base-notebook";
        std::fs::write(
            dir.path().join("x86_64-default-base-notebook.txt"),
            format!("{name}:x86_64-latest\n{name}:x86_64-python-3.11"),
        )
        .unwrap();
        let all = read_all(dir.path(), "default", "base-notebook", name).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].tags, ["x86_64-latest", "x86_64-python-3.11"]);

        std::fs::write(
            dir.path().join("aarch64-default-base-notebook.txt"),
            format!("{name}:x86_64-latest"),
        )
        .unwrap();
        let e = read_all(dir.path(), "default", "base-notebook", name).unwrap_err();
        assert!(e.to_string().contains("in the aarch64 tags"), "{e}");
    }

    #[test]
    fn no_file_names_what_was_expected() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_all(dir.path(), "cuda12", "r-notebook", "x/y/r-notebook").unwrap_err();
        assert!(
            e.to_string()
                .contains("x86_64-cuda12-r-notebook.txt or aarch64-cuda12-r-notebook.txt"),
            "{e}"
        );
    }
}
