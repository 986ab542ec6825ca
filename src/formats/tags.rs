//! Tag names and the tags file (formats.md, "Tags").

use std::fmt;
use std::str::FromStr;

/// A platform name stacktag does not know.
#[derive(Debug, thiserror::Error)]
#[error("unsupported platform {0:?}: stacktag knows x86_64 (amd64) and aarch64 (arm64)")]
pub struct UnknownPlatform(pub String);

/// The architecture an image is built for, as the tags spell it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "platform")]
pub enum Platform {
    X86_64,
    Aarch64,
}

impl Platform {
    pub const ALL: [Platform; 2] = [Platform::X86_64, Platform::Aarch64];

    /// From Docker's `Architecture` field of an image.
    pub fn from_docker_arch(arch: &str) -> Result<Self, UnknownPlatform> {
        arch.parse()
    }

    /// Docker's own name, as in `linux/amd64`.
    pub fn docker_arch(self) -> &'static str {
        match self {
            Platform::X86_64 => "amd64",
            Platform::Aarch64 => "arm64",
        }
    }
}

impl Platform {
    /// A `--platform` option: none, or one of the names [`FromStr`] knows.
    pub fn parse_option(given: Option<&str>) -> Result<Option<Platform>, UnknownPlatform> {
        given.map(str::parse).transpose()
    }
}

impl FromStr for Platform {
    type Err = UnknownPlatform;
    fn from_str(s: &str) -> Result<Self, UnknownPlatform> {
        match s {
            "x86_64" | "amd64" => Ok(Platform::X86_64),
            "aarch64" | "arm64" => Ok(Platform::Aarch64),
            other => Err(UnknownPlatform(other.to_string())),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Platform::X86_64 => "x86_64",
            Platform::Aarch64 => "aarch64",
        })
    }
}

pub const DEFAULT_VARIANT: &str = "default";

/// `{platform}` for the default variant, else `{platform}-{variant}`.
pub fn tag_prefix(platform: Platform, variant: &str) -> String {
    if variant == DEFAULT_VARIANT {
        platform.to_string()
    } else {
        format!("{platform}-{variant}")
    }
}

/// Docker's rule for a tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn is_valid_tag(tag: &str) -> bool {
    let ok = |c: char, first: bool| {
        c.is_ascii_alphanumeric() || c == '_' || (!first && (c == '.' || c == '-'))
    };
    let mut chars = tag.chars();
    match chars.next() {
        Some(c) if ok(c, true) => {}
        _ => return false,
    }
    tag.len() <= 128 && chars.all(|c| ok(c, false))
}

/// The multi-platform tag: the leading `{platform}-` removed, only once.
pub fn merged_tag(platform_tag: &str) -> Option<&str> {
    Platform::ALL.iter().find_map(|p| {
        platform_tag
            .strip_prefix(&p.to_string())
            .and_then(|rest| rest.strip_prefix('-'))
    })
}

/// `{registry}/{owner}/{image}`.
pub fn image_name(registry: &str, owner: &str, image: &str) -> String {
    if registry.is_empty() {
        format!("{owner}/{image}")
    } else {
        format!("{registry}/{owner}/{image}")
    }
}

/// `{platform}-{variant}-{image}`: the stem shared by tags file, manifest and history line.
pub fn file_stem(platform: Platform, variant: &str, image: &str) -> String {
    format!("{platform}-{variant}-{image}")
}

/// The tags file's text: full references, `\n`-joined, no trailing newline.
pub fn tags_file_content(full_image: &str, tags: &[String]) -> String {
    tags.iter()
        .map(|t| format!("{full_image}:{t}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses a tags file back into (name, tag) pairs.
pub fn parse_tags_file(content: &str) -> Vec<(String, String)> {
    content
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .filter_map(|l| {
            // The tag follows the last ':' after the last '/' (a registry port has a '/' after it).
            let slash = l.rfind('/').unwrap_or(0);
            l[slash..]
                .rfind(':')
                .map(|i| (l[..slash + i].to_string(), l[slash + i + 1..].to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_and_merge() {
        assert_eq!(tag_prefix(Platform::X86_64, "default"), "x86_64");
        assert_eq!(tag_prefix(Platform::Aarch64, "cuda12"), "aarch64-cuda12");
        assert_eq!(merged_tag("x86_64-python-3.13"), Some("python-3.13"));
        assert_eq!(
            merged_tag("aarch64-cuda12-python-3.13"),
            Some("cuda12-python-3.13")
        );
        assert_eq!(merged_tag("x86_64-x86_64-odd"), Some("x86_64-odd"));
        assert_eq!(merged_tag("python-3.13"), None);
    }

    #[test]
    fn docker_tag_rule() {
        assert!(is_valid_tag("x86_64-python-3.13.5"));
        assert!(is_valid_tag("_x"));
        assert!(!is_valid_tag("-x"));
        assert!(!is_valid_tag(".x"));
        assert!(!is_valid_tag(""));
        assert!(!is_valid_tag("x86_64-python 3"));
        assert!(!is_valid_tag("x86_64-pytorch-2.7.1+cpu"));
        assert!(is_valid_tag(&"a".repeat(128)));
        assert!(!is_valid_tag(&"a".repeat(129)));
    }

    #[test]
    fn platforms_accept_docker_names() {
        assert_eq!("arm64".parse::<Platform>().unwrap(), Platform::Aarch64);
        assert_eq!("amd64".parse::<Platform>().unwrap(), Platform::X86_64);
        assert!("riscv64".parse::<Platform>().is_err());
    }

    #[test]
    fn tags_file_round_trip() {
        let tags = vec![
            "x86_64-latest".to_string(),
            "x86_64-python-3.13".to_string(),
        ];
        let text = tags_file_content("localhost:5000/jupyter/base-notebook", &tags);
        assert_eq!(
            text,
            "localhost:5000/jupyter/base-notebook:x86_64-latest\nlocalhost:5000/jupyter/base-notebook:x86_64-python-3.13"
        );
        let parsed = parse_tags_file(&text);
        assert_eq!(
            parsed[1],
            (
                "localhost:5000/jupyter/base-notebook".into(),
                "x86_64-python-3.13".into()
            )
        );
    }
}
