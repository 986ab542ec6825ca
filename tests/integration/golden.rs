//! The one golden-file helper, for integration and unit tests alike (the
//! library includes this file in its tests with `#[path]`): a golden file is
//! compared with what the code makes now, and `STACKTAG_BLESS=1` rewrites
//! every one of them from the code, whichever test binary compares it.

use std::path::Path;

/// Compares `actual` with `tests/golden/{name}`.
pub fn golden(name: &str, actual: &str) {
    golden_at(&format!("tests/golden/{name}"), actual);
}

/// Compares `actual` with the file at `path` (relative to the repository's
/// root); `STACKTAG_BLESS=1` writes `actual` there first.
pub fn golden_at(path: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    if std::env::var_os("STACKTAG_BLESS").is_some() {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        actual,
        expected,
        "{} differs (STACKTAG_BLESS=1 to accept)",
        path.display()
    );
}
