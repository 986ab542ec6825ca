//! Where things are in a wiki checkout (formats.md, "Wiki").

use std::path::PathBuf;

use super::month::Month;

pub const HOME: &str = "Home.md";
pub const MONTHLY_DIR: &str = "monthly-files";
pub const MANIFESTS_DIR: &str = "manifests";
/// stacktag's structured data about the pages, kept in the wiki's git.
pub const INDEX_DIR: &str = ".stacktag";

/// `monthly-files/YYYY/YYYY-MM.md`
pub fn monthly_page(month: Month) -> PathBuf {
    PathBuf::from(MONTHLY_DIR)
        .join(format!("{:04}", month.year))
        .join(format!("{month}.md"))
}

/// `manifests/YYYY/YYYY-MM/{file}`
pub fn manifest(month: Month, file_name: &str) -> PathBuf {
    PathBuf::from(MANIFESTS_DIR)
        .join(format!("{:04}", month.year))
        .join(month.to_string())
        .join(file_name)
}

/// The header every monthly page starts with; rows go right under it.
pub fn monthly_header(month: Month) -> String {
    format!("# Images built during {month}\n\n| Date | Image | Links |\n| - | - | - |\n")
}

/// Files below `dir` whose name ends with `ext`, recursively, sorted.
/// A missing directory has none.
pub fn files_with_ext(dir: &std::path::Path, ext: &str) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && d == dir => return Ok(found),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let path = entry.path();
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            if entry.file_type()?.is_dir() {
                // .git, .stacktag: not pages.
                if !hidden {
                    todo.push(path);
                }
            } else if path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(ext) && !n.starts_with('.'))
            {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// `path` relative to `base`, for messages and the index.
pub(crate) fn relative(path: &std::path::Path, base: &std::path::Path) -> PathBuf {
    path.strip_prefix(base).unwrap_or(path).to_path_buf()
}
