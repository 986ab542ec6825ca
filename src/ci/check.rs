//! `stacktag ci check`: a committed CI file against what `stacktag ci`
//! writes now. Reads only; the difference is a unified diff of the lines.

use std::path::{Path, PathBuf};

use super::{Engine, HEADER};

/// Why a CI file could not be checked, or how it differs.
#[derive(Debug, thiserror::Error)]
pub enum CiError {
    #[error("{path}: {source}\n  fix: write it with `stacktag ci {engine}`", path = .path.display(), engine = .engine.name())]
    Read {
        path: PathBuf,
        engine: Engine,
        source: std::io::Error,
    },
    // The fixes of these three name options of `ci`: the CLI adds them.
    #[error("{path}: not written by `stacktag ci` (its first line is not `{HEADER} ...`)", path = .path.display())]
    Unknown { path: PathBuf },
    #[error("no CI file to check: neither {github} nor {gitlab} exists", github = Engine::Github.default_path(), gitlab = Engine::Gitlab.default_path())]
    Nothing,
    #[error("{}", .stale.iter().map(|s| format!("{} is stale: it is not what `{}` writes now ({} changed)", s.path.display(), s.command, crate::hook::progress::counted(s.changed, "line"))).collect::<Vec<_>>().join("\n"))]
    Stale { stale: Vec<Stale> },
}

/// A file that differs from what would be written now.
#[derive(Debug)]
pub struct Stale {
    pub path: PathBuf,
    pub command: String,
    /// Lines removed plus lines added.
    pub changed: usize,
    pub diff: String,
}

/// The engine a generated file is for, from its first line.
pub fn engine_of(text: &str) -> Option<Engine> {
    let first = text.lines().next()?;
    let rest = first.strip_prefix(HEADER)?;
    if rest.starts_with(" github`") {
        Some(Engine::Github)
    } else if rest.starts_with(" gitlab`") {
        Some(Engine::Gitlab)
    } else {
        None
    }
}

/// `None` when `committed` is `wanted`; else the diff and the count of
/// changed lines.
pub fn compare(path: &Path, committed: &str, wanted: &str) -> Option<(String, usize)> {
    if committed == wanted {
        return None;
    }
    let a: Vec<&str> = committed.lines().collect();
    let b: Vec<&str> = wanted.lines().collect();
    let ops = diff_lines(&a, &b);
    let changed = ops.iter().filter(|o| !matches!(o, Op::Same(..))).count();
    let mut out = format!(
        "--- {} (committed)\n+++ {} (stacktag ci now)\n",
        path.display(),
        path.display()
    );
    out += &hunks(&ops, 3);
    if changed == 0 {
        // Only the line ends or the final newline differ.
        out += "@@ the same lines, but the line ends or the final newline differ @@\n";
    }
    Some((out, changed.max(1)))
}

#[derive(Debug, Clone, Copy)]
enum Op<'a> {
    /// Line numbers (1-based) in the committed and the wanted file.
    Same(usize, usize, &'a str),
    Del(usize, &'a str),
    Add(usize, &'a str),
}

/// Longest common subsequence of lines, after the common head and tail.
fn diff_lines<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<Op<'a>> {
    let head = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let (n, m) = (ma.len(), mb.len());
    let mut lcs = vec![0u32; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[at(i, j)] = if ma[i] == mb[j] {
                lcs[at(i + 1, j + 1)] + 1
            } else {
                lcs[at(i + 1, j)].max(lcs[at(i, j + 1)])
            };
        }
    }
    let mut ops: Vec<Op> = (0..head).map(|i| Op::Same(i + 1, i + 1, a[i])).collect();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && ma[i] == mb[j] {
            ops.push(Op::Same(head + i + 1, head + j + 1, ma[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[at(i, j + 1)] >= lcs[at(i + 1, j)]) {
            ops.push(Op::Add(head + j + 1, mb[j]));
            j += 1;
        } else {
            ops.push(Op::Del(head + i + 1, ma[i]));
            i += 1;
        }
    }
    for k in 0..tail {
        let (x, y) = (a.len() - tail + k, b.len() - tail + k);
        ops.push(Op::Same(x + 1, y + 1, a[x]));
    }
    ops
}

/// Unified-diff hunks with `context` lines around each change.
fn hunks(ops: &[Op], context: usize) -> String {
    let changed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, o)| !matches!(o, Op::Same(..)))
        .map(|(i, _)| i)
        .collect();
    let mut out = String::new();
    let mut k = 0;
    while k < changed.len() {
        let start = changed[k].saturating_sub(context);
        let mut end = changed[k];
        while k < changed.len() && changed[k] <= end + 2 * context {
            end = changed[k];
            k += 1;
        }
        let end = (end + context + 1).min(ops.len());
        let (mut a0, mut b0) = (0, 0);
        let (mut na, mut nb) = (0, 0);
        let mut body = String::new();
        for op in &ops[start..end] {
            match op {
                Op::Same(x, y, l) => {
                    if a0 == 0 {
                        a0 = *x;
                    }
                    if b0 == 0 {
                        b0 = *y;
                    }
                    na += 1;
                    nb += 1;
                    body += &format!(" {l}\n");
                }
                Op::Del(x, l) => {
                    if a0 == 0 {
                        a0 = *x;
                    }
                    na += 1;
                    body += &format!("-{l}\n");
                }
                Op::Add(y, l) => {
                    if b0 == 0 {
                        b0 = *y;
                    }
                    nb += 1;
                    body += &format!("+{l}\n");
                }
            }
        }
        out += &format!("@@ -{a0},{na} +{b0},{nb} @@\n{body}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_text_is_no_diff() {
        assert!(compare(Path::new("f"), "a\nb\n", "a\nb\n").is_none());
    }

    #[test]
    fn a_changed_line_is_named_with_its_line_numbers() {
        let (diff, changed) = compare(
            Path::new("ci.yml"),
            "a\nb\nc\nd\nhand edit\ne\n",
            "a\nb\nc\nd\ne\nnew\n",
        )
        .unwrap();
        assert_eq!(changed, 2);
        assert!(diff.contains("@@ -2,5 +2,5 @@"), "{diff}");
        assert!(diff.contains("-hand edit\n"), "{diff}");
        assert!(diff.contains("+new\n"), "{diff}");
    }

    #[test]
    fn the_engine_is_read_from_the_first_line() {
        assert_eq!(
            engine_of("# Generated by `stacktag ci github` from x"),
            Some(Engine::Github)
        );
        assert_eq!(
            engine_of("# Generated by `stacktag ci gitlab` from x"),
            Some(Engine::Gitlab)
        );
        assert_eq!(engine_of("name: ci"), None);
    }
}
