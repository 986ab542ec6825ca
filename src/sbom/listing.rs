//! One listing per package manager, shared by the SBOM and the manifest
//! sections (formats.md, "Manifest sections"): the image's packages are
//! listed once per hook run, and each reader takes its view of that one
//! output.
//!
//! - pip: [`super::collect::PIP`] (`importlib.metadata`); `## Pip Packages`
//!   shows the table `pip list` prints of it ([`pip_list`]).
//! - R: one `R` that prints the library's matrix for `## R Packages` and then
//!   the SBOM's lines ([`r_split`]).
//! - apt: one `sh` that runs `dpkg-query` (source packages: only dpkg's
//!   database has them) and `apt list --installed` (suites and flags: only
//!   apt's cache has them; `## Apt Packages` shows it), each once
//!   ([`apt_split`]). No apt program prints both.

use crate::plugin::command::{Cmd, ExecError};
use crate::plugin::PluginError;

use super::Package;

/// The R expression whose printed value `## R Packages` shows.
pub const R_LIBRARY: &str = "installed.packages(.Library)[, c(1,3)]";

/// The command `## R Packages` names for it: what the section shows is
/// what this prints.
pub const R_LIBRARY_COMMAND: &[&str] = &["R", "--silent", "-e", R_LIBRARY];

/// The command `## Apt Packages` names.
pub const APT_LIST: &[&str] = &["apt", "list", "--installed"];

/// The shell program of [`super::collect::APT`]; `$1` is dpkg-query's format.
/// Each program's exit code follows its output on a line of its own.
pub const APT_SCRIPT: &str = "dpkg-query -W -f \"$1\"; echo \"#stacktag# dpkg-query $?\"; apt list --installed; echo \"#stacktag# apt $?\"";

/// The table `pip list` prints (pip 23 to 25): sorted by the normalized
/// name, a `Package`/`Version` header, a rule of dashes, each column as wide
/// as its longest cell, trailing spaces trimmed. Empty when there are no
/// packages (pip prints nothing then).
pub fn pip_list(packages: &[Package]) -> String {
    if packages.is_empty() {
        return String::new();
    }
    let mut rows: Vec<(&str, &str)> = packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    rows.sort_by_cached_key(|(name, _)| canonical(name));
    rows.insert(0, ("Package", "Version"));
    let w0 = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    let w1 = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0);
    let line = |a: &str, b: &str| format!("{a:<w0$} {b:<w1$}").trim_end().to_string();
    let mut out = vec![
        line(rows[0].0, rows[0].1),
        line(&"-".repeat(w0), &"-".repeat(w1)),
    ];
    out.extend(rows[1..].iter().map(|(a, b)| line(a, b)));
    out.join("\n") + "\n"
}

/// PEP 503: lowercase, runs of `-`, `_`, `.` as one `-` (pip sorts by it).
fn canonical(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if "-_.".contains(c) {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// The output of [`super::collect::R`] as its two readers see it: what
/// `R --silent -e R_LIBRARY` alone prints (the echoed expression, the
/// matrix, R's closing prompts), and the lines of [`super::parse::R_SCRIPT`]
/// with the line they start at. `None` when the second expression's echo is
/// not there.
pub fn r_split(stdout: &str) -> Option<(String, &str, usize)> {
    let echo = format!("> {}", super::parse::R_SCRIPT);
    let lines: Vec<&str> = stdout.split_inclusive('\n').collect();
    let at = lines.iter().position(|l| l.trim_end() == echo)?;
    let prompts = lines[at + 1..]
        .iter()
        .rev()
        .take_while(|l| l.trim_end() == ">")
        .count();
    let end = lines.len() - prompts;
    let shown: String = lines[..at].concat() + &lines[end..].concat();
    let start: usize = lines[..=at].iter().map(|l| l.len()).sum();
    let stop: usize = lines[..end].iter().map(|l| l.len()).sum();
    Some((shown, &stdout[start..stop], at + 2))
}

/// One program's part of a shared listing: its stdout and exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part<'a> {
    pub stdout: &'a str,
    pub exit_code: i64,
}

impl Part<'_> {
    /// Its stdout, or the error [`crate::plugin::Context::run`] gives for
    /// such an exit code, naming `command` (`stderr` is the shared one).
    pub fn output(&self, command: &[&str], stderr: &str) -> Result<&str, PluginError> {
        let command = Cmd::new(command).to_string();
        let stderr = stderr
            .trim()
            .lines()
            .take(20)
            .collect::<Vec<_>>()
            .join("\n");
        match self.exit_code {
            0 => Ok(self.stdout),
            126 | 127 => Err(ExecError::Missing {
                command,
                code: self.exit_code,
                stderr,
            }
            .into()),
            code => Err(ExecError::Failed {
                command,
                code,
                stdout: self.stdout.to_string(),
                stderr,
            }
            .into()),
        }
    }
}

/// The output of [`super::collect::APT`]: dpkg-query's part, then apt's.
/// `None` when the shell's markers are not where [`APT_SCRIPT`] puts them.
pub fn apt_split(stdout: &str) -> Option<(Part<'_>, Part<'_>)> {
    let (dpkg, rest) = part(stdout, "dpkg-query")?;
    let (apt, rest) = part(rest, "apt")?;
    rest.is_empty().then_some((dpkg, apt))
}

/// The text before `#stacktag# {name} N\n`, its code N, and what follows.
fn part<'a>(text: &'a str, name: &str) -> Option<(Part<'a>, &'a str)> {
    let marker = format!("#stacktag# {name} ");
    let at = if text.starts_with(&marker) {
        0
    } else {
        text.find(&format!("\n{marker}"))? + 1
    };
    let after = &text[at + marker.len()..];
    let (code, rest) = after.split_once('\n').unwrap_or((after, ""));
    let exit_code = code.trim().parse().ok()?;
    Some((
        Part {
            stdout: &text[..at],
            exit_code,
        },
        rest,
    ))
}

/// What [`super::collect::APT`] prints when both programs succeed: for
/// tests that have each program's output captured on its own.
#[cfg(test)]
pub fn apt_output(dpkg: &str, apt: &str) -> String {
    format!("{dpkg}#stacktag# dpkg-query 0\n{apt}#stacktag# apt 0\n")
}

/// What [`super::collect::R`] prints, from what `R --silent -e R_LIBRARY`
/// printed and [`super::parse::R_SCRIPT`]'s lines: for tests that have each
/// captured on its own.
#[cfg(test)]
pub fn r_output(shown: &str, lines: &str) -> String {
    let body = shown.trim_end_matches(['>', ' ', '\n']);
    format!("{body}\n> {}\n{lines}> \n> \n", super::parse::R_SCRIPT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sbom::parse;

    fn data(f: &str) -> String {
        std::fs::read_to_string(format!("{}/tests/data/{f}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn pip_list_of_the_captured_json_is_the_captured_table() {
        let pkgs = parse::pip_json(&data("debian-pip-list.json")).unwrap();
        assert_eq!(pip_list(&pkgs), data("debian-pip-list.txt"));
        assert_eq!(pip_list(&[]), "");
    }

    #[test]
    fn pip_list_sorts_by_the_normalized_name_and_pads_by_characters() {
        let pkgs = parse::pip_json(
            r#"[{"name": "Zope.Interface", "version": "7"}, {"name": "jinja2", "version": "3.1.4"},
                {"name": "Jinja_Ext", "version": "0.1"}, {"name": "größe", "version": "1.0"}]"#,
        )
        .unwrap();
        assert_eq!(
            pip_list(&pkgs),
            "Package        Version\n-------------- -------\ngröße          1.0\nJinja_Ext      0.1\njinja2         3.1.4\nZope.Interface 7\n"
        );
        assert_eq!(canonical("A.-_b"), "a-b");
    }

    #[test]
    fn r_output_splits_into_the_matrix_and_the_lines() {
        let stdout = data("debian-r-inventory.txt");
        let (shown, tsv, line) = r_split(&stdout).unwrap();
        assert_eq!(shown, data("debian-r-packages.txt"));
        assert!(tsv.starts_with("base\t4.2.2\tPart of R 4.2.2\n"), "{tsv}");
        assert!(!tsv.contains('>'), "{tsv}");
        assert_eq!(stdout.lines().nth(line - 1), tsv.lines().next());
        assert!(r_split("> installed.packages(.Library)[, c(1,3)]\n> \n").is_none());
        // The helper other tests compose outputs with agrees with R.
        let composed = r_output(&data("debian-r-packages.txt"), tsv);
        assert_eq!(composed, stdout);
    }

    #[test]
    fn apt_output_splits_into_each_programs_part() {
        let stdout = "installed\ta\t1\tall\ta\t1\n#stacktag# dpkg-query 0\nListing...\na/now 1 all [installed,local]\n#stacktag# apt 0\n";
        let (dpkg, apt) = apt_split(stdout).unwrap();
        assert_eq!(dpkg.stdout, "installed\ta\t1\tall\ta\t1\n");
        assert_eq!(apt.stdout, "Listing...\na/now 1 all [installed,local]\n");
        assert_eq!((dpkg.exit_code, apt.exit_code), (0, 0));
        let (dpkg, apt) = apt_split("#stacktag# dpkg-query 127\n#stacktag# apt 127\n").unwrap();
        let e = dpkg
            .output(&["dpkg-query"], "sh: 1: dpkg-query: not found")
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("`dpkg-query` is not in the image (exit 127)"),
            "{e}"
        );
        assert_eq!(apt.stdout, "");
        assert!(apt_split("Listing...\n").is_none());
        assert!(apt_split("#stacktag# dpkg-query 0\n#stacktag# apt 0\nmore").is_none());
    }
}
