//! The documentation's examples run: every ```console block of README.md,
//! CONTRIBUTING.md, ARCHITECTURE.md and docs/*.md is executed and its output
//! compared, so a renamed flag or a changed message breaks this test, not
//! the reader. The convention (trycmd's) is in CONTRIBUTING.md, "Examples in
//! the docs". ```sh blocks are not run, but the commands and flags they name
//! are checked against `stacktag help`.
//!
//! Each file gets a sandbox of its own, the reader's checkout of this
//! repository: a temporary git repository holding a copy of the demo stack
//! (hierarchy.yaml, images/, wiki/) and examples/own-stack, committed once.
//! A file's blocks run in order in it, each as one `sh` session starting at
//! the sandbox's root, stdout and stderr together, on the real daemon. The
//! own stack's copy names a registry and an owner of this run's own.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::*;

/// What the sandbox holds, copied from the repository.
const SANDBOX: &[&str] = &[
    "hierarchy.yaml",
    "images",
    "wiki",
    "examples/own-stack",
    "examples/docker-stacks",
    "examples/ci",
];

/// The build timestamp of every example (`STACKTAG_TIMESTAMP`).
const TIMESTAMP: &str = "2026-12-01T09:30:00Z";

/// The own stack's owner (examples/own-stack/hierarchy.yaml). Each run of
/// the test gives it an owner of its own (and a run id of its own), so that
/// two runs at the same moment never share an image or a container; the
/// output shows `my-org` again.
const OWN_STACK_OWNER: &str = "my-org";

/// The own stack's registry. The sandbox's copy names a registry of the
/// test's own instead (Debian's docker-registry, with the publish tests'
/// credentials in the environment), so `push` and `merge` examples run; the
/// output shows this name again.
const OWN_STACK_REGISTRY: &str = "ghcr.io";

/// What makes this run's names its own.
struct Run {
    id: String,
    owner: String,
    registry: crate::publish::Registry,
}

impl Run {
    fn new() -> Run {
        let pid = std::process::id();
        Run {
            id: format!("docs-examples-{pid}"),
            owner: format!("{OWN_STACK_OWNER}-docs{pid}"),
            registry: crate::publish::Registry::start(),
        }
    }

    /// Output as the reader's run would print it.
    fn as_shown(&self, output: &str) -> String {
        output
            .replace(&self.registry.host(), OWN_STACK_REGISTRY)
            .replace(&self.owner, OWN_STACK_OWNER)
    }
}

#[test]
fn every_console_example_in_the_docs_runs_as_shown() {
    let files = doc_files();
    assert!(files.len() >= 10, "{files:?}");
    let run = Run::new();
    let cache = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut ran = 0;
    for file in &files {
        let rel = file
            .strip_prefix(repo_root())
            .unwrap()
            .display()
            .to_string();
        let blocks = console_blocks(&std::fs::read_to_string(file).unwrap());
        if blocks.is_empty() {
            continue;
        }
        let sandbox = sandbox(&run);
        for block in &blocks {
            ran += block.steps.len();
            failures.extend(
                run_block(block, sandbox.path(), cache.path(), &run)
                    .into_iter()
                    .map(|f| format!("{rel}:{f}")),
            );
        }
    }
    remove_own_stack_images(&run);
    assert_no_containers(&run.id);
    assert!(ran >= 20, "only {ran} examples found");
    assert!(
        failures.is_empty(),
        "{} example(s) of the docs do not run as shown:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// README.md, CONTRIBUTING.md, ARCHITECTURE.md and every docs/*.md.
fn doc_files() -> Vec<PathBuf> {
    let root = repo_root();
    let mut files: Vec<PathBuf> = ["README.md", "CONTRIBUTING.md", "ARCHITECTURE.md"]
        .iter()
        .map(|f| root.join(f))
        .filter(|p| p.exists())
        .collect();
    let mut guide: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    guide.sort();
    files.extend(guide);
    files
}

#[derive(Debug, PartialEq)]
struct Block {
    steps: Vec<Step>,
}

#[derive(Debug, PartialEq)]
struct Step {
    /// 1-based line of the `$ ` line in its file.
    line: usize,
    command: String,
    status: Status,
    expected: Vec<String>,
}

#[derive(Debug, PartialEq)]
enum Status {
    Code(i32),
    Failed,
}

/// The ```console (or ```trycmd) blocks of a markdown text: `$ command`
/// lines (a line ending with `\` continues on the next), an optional
/// `? CODE` or `? failed` line, then the expected output.
fn console_blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut lines = markdown.lines().enumerate();
    while let Some((_, line)) = lines.next() {
        let fence = line.trim_start();
        let ticks = fence.len() - fence.trim_start_matches('`').len();
        if ticks < 3 {
            continue;
        }
        if !(fence == "```console" || fence == "```trycmd") {
            // Another block (```sh, or ````markdown showing a console block): skipped whole.
            let close = &fence[..ticks];
            for (_, l) in lines.by_ref() {
                let l = l.trim();
                if l.starts_with(close) && l.trim_start_matches('`').is_empty() {
                    break;
                }
            }
            continue;
        }
        let mut steps: Vec<Step> = Vec::new();
        let mut continued = false;
        for (n, line) in lines.by_ref() {
            if line.trim_start().starts_with("```") {
                break;
            }
            if continued {
                let step = steps.last_mut().unwrap();
                step.command.push('\n');
                step.command.push_str(line);
                continued = line.ends_with('\\');
            } else if let Some(command) = line.strip_prefix("$ ") {
                steps.push(Step {
                    line: n + 1,
                    command: command.to_string(),
                    status: Status::Code(0),
                    expected: Vec::new(),
                });
                continued = line.ends_with('\\');
            } else if let Some(step) = steps.last_mut() {
                match line.strip_prefix("? ") {
                    Some(s) if step.expected.is_empty() && step.status == Status::Code(0) => {
                        step.status = match s.trim() {
                            "failed" => Status::Failed,
                            code => Status::Code(code.parse().unwrap_or_else(|_| {
                                panic!("line {}: `? {code}` is not an exit code", n + 1)
                            })),
                        };
                    }
                    _ => step.expected.push(line.to_string()),
                }
            }
        }
        blocks.push(Block { steps });
    }
    blocks
}

/// A fresh copy of the reader's checkout: the demo stack and the own stack
/// example, committed, `build/` ignored as in the real repository.
fn sandbox(run: &Run) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("stacktag-docs-")
        .tempdir()
        .unwrap();
    for entry in SANDBOX {
        let to = dir.path().join(entry);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        let status = Command::new("cp")
            .arg("-R")
            .arg(repo_root().join(entry))
            .arg(&to)
            .status()
            .unwrap();
        assert!(status.success(), "cp {entry}");
    }
    std::fs::write(dir.path().join(".gitignore"), "/build\n").unwrap();
    let own = dir.path().join("examples/own-stack/hierarchy.yaml");
    let yaml = std::fs::read_to_string(&own).unwrap();
    let mut yaml = yaml;
    for (key, from, to) in [
        ("registry", OWN_STACK_REGISTRY, run.registry.host()),
        ("owner", OWN_STACK_OWNER, run.owner.clone()),
    ] {
        let from = format!("{key}: {from} ");
        assert!(yaml.contains(&from), "{} lacks `{from}`", own.display());
        yaml = yaml.replacen(&from, &format!("{key}: {to} "), 1);
    }
    std::fs::write(&own, yaml).unwrap();
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["add", "-A"],
        &["commit", "-q", "-m", "The stack"],
    ] {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .env("GIT_AUTHOR_NAME", "Docs")
            .env("GIT_AUTHOR_EMAIL", "docs@example.org")
            .env("GIT_COMMITTER_NAME", "Docs")
            .env("GIT_COMMITTER_EMAIL", "docs@example.org")
            .env("GIT_AUTHOR_DATE", TIMESTAMP)
            .env("GIT_COMMITTER_DATE", TIMESTAMP)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
    }
    dir
}

const MARK: &str = "\u{1e}stacktag-docs-exit ";

/// Runs a block's commands as one shell session; returns one message per
/// step whose exit code or output differs.
fn run_block(block: &Block, sandbox: &Path, cache: &Path, run: &Run) -> Vec<String> {
    let mut script = String::from("exec 2>&1 </dev/null\n");
    for step in &block.steps {
        script.push_str(&step.command);
        script.push_str(&format!("\nprintf '\\n{MARK}%d\\n' \"$?\"\n"));
    }
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_stacktag"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // A block that hangs fails the test instead of holding it forever.
    let out = Command::new("timeout")
        .args(["600", "sh", "-c", &script])
        .current_dir(sandbox)
        .env("PATH", path)
        .env("STACKTAG_RUN_ID", &run.id)
        .env("STACKTAG_TIMESTAMP", TIMESTAMP)
        .env("STACKTAG_CACHE_DIR", cache.join("hook"))
        .env("XDG_CACHE_HOME", cache)
        .env("COLUMNS", "100")
        .env("GIT_AUTHOR_NAME", "Docs")
        .env("GIT_AUTHOR_EMAIL", "docs@example.org")
        .env("GIT_COMMITTER_NAME", "Docs")
        .env("GIT_COMMITTER_EMAIL", "docs@example.org")
        .env_remove("STACKTAG_CONFIG")
        .env_remove("STACKTAG_OUT_DIR")
        .env("STACKTAG_REGISTRY_USER", crate::publish::USER)
        .env("STACKTAG_REGISTRY_PASSWORD", crate::publish::PASSWORD)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let all = run.as_shown(&text(&out.stdout).replace(&sandbox.display().to_string(), "[ROOT]"));
    let mut outputs = Vec::new();
    let mut rest = all.as_str();
    while let Some(i) = rest.find(MARK) {
        let (output, after) = rest.split_at(i);
        let after = &after[MARK.len()..];
        let end = after.find('\n').unwrap_or(after.len());
        let code: i32 = after[..end].trim().parse().unwrap_or(-1);
        // The marker's own leading newline.
        let output = output.strip_suffix('\n').unwrap_or(output);
        outputs.push((code, output.to_string()));
        rest = after.get(end + 1..).unwrap_or("");
    }
    let mut failures = Vec::new();
    for (i, step) in block.steps.iter().enumerate() {
        let Some((code, output)) = outputs.get(i) else {
            failures.push(format!(
                "{}: `$ {}` did not finish (the shell stopped, exit {:?}, or 600 s passed):\n{all}",
                step.line,
                step.command,
                out.status.code()
            ));
            break;
        };
        let status_ok = match step.status {
            Status::Code(c) => *code == c,
            Status::Failed => *code != 0,
        };
        let actual: Vec<&str> = output.lines().map(str::trim_end).collect();
        let expected: Vec<&str> = step.expected.iter().map(|l| l.trim_end()).collect();
        if !status_ok || !lines_match(trim_blank(&expected), trim_blank(&actual)) {
            failures.push(format!(
                "{}: `$ {}`\n  exit code {code} (expected {:?})\n  expected:\n{}\n  got:\n{}",
                step.line,
                step.command,
                step.status,
                indent(&expected),
                indent(&actual),
            ));
        }
    }
    failures
}

fn trim_blank<'a>(lines: &'a [&'a str]) -> &'a [&'a str] {
    let end = lines
        .iter()
        .rposition(|l| !l.is_empty())
        .map_or(0, |i| i + 1);
    &lines[..end]
}

fn indent(lines: &[&str]) -> String {
    lines
        .iter()
        .map(|l| format!("    |{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// trycmd's wildcards: a line `...` is any number of lines, `[..]` any text
/// within a line.
fn lines_match(expected: &[&str], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((&"...", rest)) => (0..=actual.len()).any(|i| lines_match(rest, &actual[i..])),
        Some((e, rest)) => {
            !actual.is_empty() && line_matches(e, actual[0]) && lines_match(rest, &actual[1..])
        }
    }
}

fn line_matches(expected: &str, actual: &str) -> bool {
    let parts: Vec<&str> = expected.split("[..]").collect();
    if parts.len() == 1 {
        return expected == actual;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !actual.starts_with(first) || actual.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &actual[first.len()..];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

fn remove_own_stack_images(run: &Run) {
    let tags = docker(&[
        "images",
        "--format",
        "{{.Repository}}:{{.Tag}}",
        "--filter",
        &format!("reference={}/{}/*", run.registry.host(), run.owner),
    ]);
    for tag in tags.lines().filter(|t| !t.ends_with(":<none>")) {
        let _ = Command::new("docker").args(["rmi", tag]).output();
    }
}

#[test]
fn console_blocks_are_read_as_trycmd_reads_them() {
    let md = "text\n```sh\n$ not run\n```\n````markdown\n```console\n$ shown, not run\n```\n````\n```console\n$ stacktag check \\\n  --images\nbase\n$ false\n? 1\n$ stacktag nope\n? failed\nerror[..]\n...\n```\n";
    let blocks = console_blocks(md);
    assert_eq!(blocks.len(), 1);
    let steps = &blocks[0].steps;
    assert_eq!(steps.len(), 3);
    assert_eq!(steps[0].line, 11);
    assert_eq!(steps[0].command, "stacktag check \\\n  --images");
    assert_eq!(steps[0].expected, ["base"]);
    assert_eq!(steps[1].status, Status::Code(1));
    assert!(steps[1].expected.is_empty());
    assert_eq!(steps[2].status, Status::Failed);
    assert!(lines_match(
        &["error[..]", "..."],
        &["error: no", "more", "lines"]
    ));
    assert!(lines_match(&["a", "...", "z"], &["a", "z"]));
    assert!(!lines_match(&["a", "...", "z"], &["a", "y"]));
    assert!(line_matches("x86_64-[..]-base", "x86_64-0123456789ab-base"));
    assert!(!line_matches("x86_64-[..]-base", "x86_64-base"));
}

/// The ```sh (and ```yaml) examples cannot run in a test (a registry, a CI
/// runner), but the commands they name must exist with the flags they use:
/// a renamed flag fails here too.
#[test]
fn sh_examples_name_only_commands_and_flags_that_exist() {
    let mut helps: std::collections::BTreeMap<String, Option<String>> = Default::default();
    let mut problems = Vec::new();
    let mut checked = 0;
    for file in doc_files() {
        let rel = file
            .strip_prefix(repo_root())
            .unwrap()
            .display()
            .to_string();
        for (line, command) in sh_commands(&std::fs::read_to_string(&file).unwrap()) {
            let words: Vec<&str> = command.split_whitespace().collect();
            let Some(sub) = words.iter().skip(1).find(|w| !w.starts_with('-')) else {
                continue;
            };
            let help = helps.entry(sub.to_string()).or_insert_with(|| {
                let out = stacktag("docs-help").args(["help", sub]).output().unwrap();
                out.status.success().then(|| text(&out.stdout))
            });
            let Some(help) = help else {
                problems.push(format!("{rel}:{line}: no command `{sub}`: {command}"));
                continue;
            };
            checked += 1;
            for word in &words {
                // `[--platform x86_64]`: an optional flag is a flag too.
                let flag = word.trim_matches(['[', ']']).split('=').next().unwrap();
                if !flag.starts_with("--") {
                    continue;
                }
                if !help.contains(&format!("{flag} ")) && !help.contains(&format!("{flag}\n")) {
                    problems.push(format!(
                        "{rel}:{line}: `stacktag {sub}` has no {flag}: {command}"
                    ));
                }
            }
        }
    }
    assert!(checked >= 30, "only {checked} commands found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `stacktag …` commands of the ```sh and ```yaml blocks, with the line each
/// starts on: continuation lines joined, comments and what follows `|`,
/// `&&`, `;` or `)` cut off.
fn sh_commands(markdown: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut in_block = false;
    let mut pending: Option<(usize, String)> = None;
    for (n, line) in markdown.lines().enumerate() {
        let fence = line.trim();
        if fence.starts_with("```") {
            in_block = !in_block && (fence == "```sh" || fence == "```yaml");
            if fence == "```" || !in_block {
                pending = None;
            }
            continue;
        }
        if !in_block {
            continue;
        }
        let code = line.split(" #").next().unwrap();
        let (start, text) = match pending.take() {
            Some((start, mut text)) => {
                text.push(' ');
                text.push_str(code.trim());
                (start, text)
            }
            None => (n + 1, code.trim().to_string()),
        };
        if let Some(joined) = text.strip_suffix('\\') {
            pending = Some((start, joined.trim_end().to_string()));
            continue;
        }
        for piece in text.split(['|', ';', ')']).flat_map(|p| p.split("&&")) {
            let piece = piece
                .trim()
                .trim_start_matches("- run:")
                .trim_start_matches("run:");
            let piece = piece.trim().trim_start_matches("$(").trim();
            let piece = piece.strip_prefix("$ ").unwrap_or(piece);
            if let Some(i) = piece.find("stacktag ") {
                let before = &piece[..i];
                // An env assignment or nothing before it: `DOCKER_HOST=… stacktag …`.
                if before.split_whitespace().all(|w| w.contains('=')) {
                    found.push((start, piece[i..].to_string()));
                }
            }
        }
    }
    found
}

/// The exit-code table of docs/exit-codes.md is `exit::TABLE`, the one
/// `--help` is made from. `STACKTAG_BLESS=1` rewrites it from the code.
#[test]
fn the_exit_code_page_lists_every_exit_code() {
    const BEGIN: &str = "<!-- exit::TABLE begin: `STACKTAG_BLESS=1 cargo test --test integration docs::the_exit_code_page` rewrites it -->\n";
    const END: &str = "<!-- exit::TABLE end -->\n";
    let path = repo_root().join("docs/exit-codes.md");
    let page = std::fs::read_to_string(&path).unwrap();
    let mut table = String::from("| code | meaning |\n|---|---|\n");
    for (code, meaning) in stacktag::cli::exit::TABLE {
        table.push_str(&format!("| {code} | {meaning} |\n"));
    }
    let start = page
        .find(BEGIN)
        .expect("docs/exit-codes.md lacks the begin marker")
        + BEGIN.len();
    let end = page
        .find(END)
        .expect("docs/exit-codes.md lacks the end marker");
    // The page with the table made from the code: the golden helper compares it
    // (and STACKTAG_BLESS=1 writes it).
    let wanted = format!("{}{table}{}", &page[..start], &page[end..]);
    golden_at("docs/exit-codes.md", &wanted);
}
