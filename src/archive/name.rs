//! Archive file names: `{image}_{version}_{id12}.{ext}` (formats.md, "Image
//! archives"; genvid's DockerTool naming), and which versions are dirty.

use std::fmt;
use std::path::Path;

/// How the tar inside an archive is compressed; the extension says which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Zstd,
    Gzip,
    None,
}

impl Compression {
    pub const ALL: [Compression; 3] = [Compression::Zstd, Compression::Gzip, Compression::None];

    pub fn ext(self) -> &'static str {
        match self {
            Compression::Zstd => "tar.zst",
            Compression::Gzip => "tar.gz",
            Compression::None => "tar",
        }
    }

    /// `zstd`, `gzip` or `none`, as `--compress` takes it.
    pub fn parse(word: &str) -> Option<Compression> {
        match word {
            "zstd" | "zst" => Some(Compression::Zstd),
            "gzip" | "gz" => Some(Compression::Gzip),
            "none" => Some(Compression::None),
            _ => None,
        }
    }
}

/// What an archive's file name says about its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveName {
    pub image: String,
    pub version: String,
    /// The first 12 hex digits of the image ID.
    pub id12: String,
    pub compression: Compression,
}

impl fmt::Display for ArchiveName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}_{}_{}.{}",
            self.image,
            self.version,
            self.id12,
            self.compression.ext()
        )
    }
}

impl ArchiveName {
    /// Parses a file name (the last component of `path`); `None` when it is
    /// not named as an archive (genvid's
    /// `(?P<image>.+)_(?P<version>[^_]*)_(?P<imageid>[0-9a-f]{12})\.(?P<archfmt>.*)`,
    /// with the formats stacktag reads).
    pub fn parse(path: &Path) -> Option<ArchiveName> {
        let file = path.file_name()?.to_str()?;
        let (stem, compression) = Compression::ALL.iter().find_map(|c| {
            file.strip_suffix(c.ext())
                .and_then(|s| s.strip_suffix('.'))
                .map(|s| (s, *c))
        })?;
        let (rest, id12) = stem.rsplit_once('_')?;
        let (image, version) = rest.rsplit_once('_')?;
        let hex =
            |s: &str| s.len() == 12 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if image.is_empty() || !hex(id12) {
            return None;
        }
        Some(ArchiveName {
            image: image.to_string(),
            version: version.to_string(),
            id12: id12.to_string(),
            compression,
        })
    }
}

/// A version may not break the name apart: no `_`, no `/`, not empty.
pub fn valid_version(version: &str) -> bool {
    !version.is_empty()
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
}

/// genvid's rule: `latest`, `dev`, `*.dirty`, `*+dirty` and `X.Y.Z.0` are
/// versions of a build nobody can reproduce, never published.
pub fn is_dirty_version(version: &str) -> bool {
    if matches!(version, "latest" | "dev")
        || version.ends_with(".dirty")
        || version.ends_with("+dirty")
    {
        return true;
    }
    let parts: Vec<&str> = version.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && parts[3] == "0"
}

/// Orders two versions when both are dotted numbers (`1.10.2` after
/// `1.9`); `None` otherwise (commit hashes have no order).
pub fn compare_versions(a: &str, b: &str) -> Option<std::cmp::Ordering> {
    let nums = |v: &str| -> Option<Vec<u64>> {
        v.trim_start_matches('v')
            .split('.')
            .map(|p| p.parse().ok())
            .collect()
    };
    Some(nums(a)?.cmp(&nums(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_follow_genvid() {
        let n = ArchiveName::parse(Path::new(
            "/x/base-notebook_1ffe43816ba9_0123456789ab.tar.zst",
        ))
        .unwrap();
        assert_eq!(n.image, "base-notebook");
        assert_eq!(n.version, "1ffe43816ba9");
        assert_eq!(n.id12, "0123456789ab");
        assert_eq!(n.compression, Compression::Zstd);
        assert_eq!(
            n.to_string(),
            "base-notebook_1ffe43816ba9_0123456789ab.tar.zst"
        );
        // Underscores belong to the image (the regex's greedy `.+`).
        let n = ArchiveName::parse(Path::new("my_image_1.2.3_0123456789ab.tar")).unwrap();
        assert_eq!(
            (n.image.as_str(), n.version.as_str()),
            ("my_image", "1.2.3")
        );
        assert_eq!(n.compression, Compression::None);
        let n = ArchiveName::parse(Path::new("a_1ffe43816ba9.dirty_0123456789ab.tar.gz")).unwrap();
        assert_eq!(n.version, "1ffe43816ba9.dirty");
        for bad in [
            "a_v_0123456789AB.tar",
            "a_v_0123456789a.tar",
            "a_0123456789ab.tar",
            "a_v_0123456789ab.tar.zst.sha256",
            "a_v_0123456789ab.zip",
        ] {
            assert_eq!(ArchiveName::parse(Path::new(bad)), None, "{bad}");
        }
    }

    #[test]
    fn dirty_versions_are_genvids() {
        for v in [
            "latest",
            "dev",
            "1ffe43816ba9.dirty",
            "1.2.3+dirty",
            "1.2.3.0",
        ] {
            assert!(is_dirty_version(v), "{v}");
        }
        for v in ["1ffe43816ba9", "1.2.3", "1.2.3.4", "1.2.0", "v1.0.0.0x"] {
            assert!(!is_dirty_version(v), "{v}");
        }
        assert!(valid_version("1.2.3+dirty") && !valid_version("a_b") && !valid_version("a/b"));
    }

    #[test]
    fn numeric_versions_compare_as_numbers() {
        use std::cmp::Ordering::*;
        assert_eq!(compare_versions("1.10.0", "1.9.3"), Some(Greater));
        assert_eq!(compare_versions("v2", "2"), Some(Equal));
        assert_eq!(compare_versions("1ffe43816ba9", "1.2"), None);
    }
}
