//! The builds to add: manifests and history lines as `stacktag hook` (or
//! upstream's `write_manifest`) wrote them. Every file is checked before
//! anything is written; one that does not parse refuses the whole update,
//! so the wiki never holds half a build (a row whose manifest is missing,
//! or a manifest cut short).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::error::{Problem, WikiError};
use super::layout::files_with_ext;
use super::month::{parse_timestamp, Month};
use super::row::{parse_new, split_page, Row};
use crate::error::Error;

#[derive(Debug, Clone)]
pub struct NewManifest {
    pub source: PathBuf,
    /// `{page}.md`
    pub file_name: String,
    pub timestamp: String,
    pub month: Month,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct NewLine {
    pub source: PathBuf,
    pub line: String,
    pub row: Row,
    pub month: Month,
}

#[derive(Debug, Default)]
pub struct Inputs {
    pub manifests: Vec<NewManifest>,
    pub lines: Vec<NewLine>,
}

/// `2026-11-22T23:48:58Z` of the manifest's `- Build timestamp:` line.
pub fn manifest_timestamp(text: &str) -> Option<&str> {
    const PREFIX: &str = "Build timestamp: ";
    let at = text.find(PREFIX)? + PREFIX.len();
    text.get(at..at + 20)
}

/// Reads and checks every `*.md` under `manifests` and `*.txt` under `hist_lines`.
pub fn read(hist_lines: &Path, manifests: &Path, allow_no_files: bool) -> Result<Inputs, Error> {
    let mut problems = Vec::new();
    let mut inputs = Inputs::default();
    let manifest_files = listed(manifests, ".md", allow_no_files)?;
    let line_files = listed(hist_lines, ".txt", allow_no_files)?;
    if !allow_no_files {
        if manifest_files.is_empty() {
            return Err(WikiError::NoInput {
                what: "manifests (*.md)",
                dir: manifests.into(),
            }
            .into());
        }
        if line_files.is_empty() {
            return Err(WikiError::NoInput {
                what: "history lines (*.txt)",
                dir: hist_lines.into(),
            }
            .into());
        }
    }
    for path in manifest_files {
        match read_text(&path).and_then(|t| check_manifest(&path, t)) {
            Ok(m) => inputs.manifests.push(m),
            Err(reason) => problems.push(Problem { path, reason }),
        }
    }
    for path in line_files {
        match read_text(&path).and_then(|t| check_line(&path, t)) {
            Ok(l) => inputs.lines.push(l),
            Err(reason) => problems.push(Problem { path, reason }),
        }
    }
    // A history line and its manifest from the same build agree on the time.
    let times: BTreeMap<&str, &str> = inputs
        .manifests
        .iter()
        .map(|m| (m.file_name.trim_end_matches(".md"), m.timestamp.as_str()))
        .collect();
    for l in &inputs.lines {
        if let Some(ts) = times.get(l.row.page.as_str()) {
            if *ts != l.row.timestamp {
                problems.push(Problem {
                    path: l.source.clone(),
                    reason: format!(
                        "its build timestamp {} differs from its manifest's ({ts}): not the same build",
                        l.row.timestamp
                    ),
                });
            }
        }
    }
    if problems.is_empty() {
        Ok(inputs)
    } else {
        Err(WikiError::BadInput(problems).into())
    }
}

fn listed(dir: &Path, ext: &str, allow_missing: bool) -> Result<Vec<PathBuf>, Error> {
    if !dir.is_dir() && !allow_missing {
        return Err(Error::io(
            dir,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such directory"),
        ));
    }
    files_with_ext(dir, ext).map_err(|e| Error::io(dir, e))
}

fn read_text(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    String::from_utf8(bytes)
        .map_err(|e| format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()))
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string()
}

/// Checks one manifest's text (public for the fuzz targets).
pub fn check_manifest(path: &Path, text: String) -> Result<NewManifest, String> {
    let page = stem(path);
    if !text.starts_with("# Build manifest for image: ") {
        return Err("does not start with `# Build manifest for image: `".into());
    }
    let ts = manifest_timestamp(&text)
        .filter(|ts| parse_timestamp(ts).is_some())
        .ok_or("has no `- Build timestamp: YYYY-MM-DDTHH:MM:SSZ` line")?
        .to_string();
    if !text.ends_with('\n') {
        return Err("does not end with a newline (cut short?)".into());
    }
    if let Some(line) = unclosed_fence(&text) {
        return Err(format!(
            "the code block opened on line {line} is never closed (cut short?)"
        ));
    }
    // The image name is not known here, only that the name has the shape.
    let shaped = page
        .rsplit_once('-')
        .and_then(|(front, _)| front.rsplit_once('-').map(|(_, image)| image))
        .is_some_and(|image| split_page(&page, image).is_some());
    if !shaped {
        return Err(format!(
            "the file name `{page}.md` is not `{{platform}}-{{variant}}-{{image}}-{{sha12}}.md`"
        ));
    }
    Ok(NewManifest {
        source: path.into(),
        file_name: format!("{page}.md"),
        month: Month::of_timestamp(&ts).ok_or("has a build timestamp without a month")?,
        timestamp: ts,
        text,
    })
}

/// Checks one history line file's text (public for the fuzz targets).
pub fn check_line(path: &Path, text: String) -> Result<NewLine, String> {
    // Tolerate the newline an editor or `echo` adds.
    let line = text.strip_suffix('\n').unwrap_or(&text);
    let line = line.strip_suffix('\r').unwrap_or(line);
    let row = parse_new(line, &stem(path))?;
    Ok(NewLine {
        source: path.into(),
        month: row.month().ok_or("has a build timestamp without a month")?,
        line: line.to_string(),
        row,
    })
}

/// The 1-based line of a fenced code block that never closes.
fn unclosed_fence(text: &str) -> Option<usize> {
    let mut open: Option<(usize, usize)> = None;
    for (n, line) in text.lines().enumerate() {
        let ticks = line.chars().take_while(|&c| c == '`').count();
        match open {
            None if ticks >= 3 => open = Some((n + 1, ticks)),
            Some((_, len)) if ticks >= len && line.trim_end().len() == ticks => open = None,
            _ => {}
        }
    }
    open.map(|(line, _)| line)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by `make fuzz` (wiki_inputs): chrono read `-026-11-22T23:48:58Z`
    /// as a timestamp of year -26, and the month of it panicked (`expect`).
    #[test]
    fn a_timestamp_with_a_signed_year_is_refused_not_a_panic() {
        let text = "# Build manifest for image: base-notebook:x86_64-1ffe43816ba9\n\n\
                    - Build timestamp: -026-11-22T23:48:58Z\n";
        let e = check_manifest(
            Path::new("x86_64-default-base-notebook-1ffe43816ba9.md"),
            text.into(),
        )
        .unwrap_err();
        assert!(
            e.contains("has no `- Build timestamp: YYYY-MM-DDTHH:MM:SSZ` line"),
            "{e}"
        );
        assert!(parse_timestamp("-026-11-22T23:48:58Z").is_none());
        assert!(parse_timestamp("+026-11-22T23:48:58Z").is_none());
        assert!(parse_timestamp("2026-11-22T23:48:58Z").is_some());
    }

    #[test]
    fn fences_must_close() {
        assert_eq!(unclosed_fence("a\n```text\nx\n```\n"), None);
        assert_eq!(unclosed_fence("a\n````text\n```\nx\n````\n"), None);
        assert_eq!(unclosed_fence("a\n```text\nx\n"), Some(2));
    }

    #[test]
    fn manifests_are_checked() {
        let p = Path::new("x86_64-default-base-notebook-0123456789ab.md");
        let good = "# Build manifest for image: base-notebook:x86_64-0123456789ab\n\n- Build timestamp: 2026-11-22T23:48:58Z\n\n```text\nok\n```\n";
        let m = check_manifest(p, good.into()).unwrap();
        assert_eq!(m.month.to_string(), "2026-11");
        assert!(check_manifest(p, good[..good.len() - 5].into())
            .unwrap_err()
            .contains("cut short"));
        assert!(check_manifest(Path::new("notes.md"), good.into())
            .unwrap_err()
            .contains("file name"));
        assert!(check_manifest(p, good.replace("23:48:58Z", "late"))
            .unwrap_err()
            .contains("Build timestamp"));
    }
}
