//! What the manual of every command shares: the top-level help, the
//! registry commands' credentials, and the `Exit codes:` blocks written from
//! [`super::exit::TABLE`], the one list of codes. A command's own long help,
//! exit codes and examples are in its own file.

use super::exit::{self, *};

pub const ABOUT: &str =
    "Tag a stack of Docker images from what runs inside them, and write their build manifests";

pub const LONG_ABOUT: &str = "\
Tag a stack of Docker images from what runs inside them, and write their build manifests.

After a stack is built, stacktag starts each image once (one container, networking off,
its entrypoint replaced by stacktag's keep-alive), runs the commands its taggers and manifests
need (each command once, all at the same time, no shell), removes the container, and then,
only if every tagger and manifest of the image succeeded, writes the files and applies the tags.

The stack is described by a hierarchy file (--config or STACKTAG_CONFIG, else ./hierarchy.yaml;
nothing else): each image names its parent, taggers, manifests and variants, and gets its
ancestors' taggers and manifests, root first.

Files (under --out-dir, default build/stacktag, or the single-directory options):
  tags/{platform}-{variant}-{image}.txt                 full references, one per line
  manifests/{platform}-{variant}-{image}-{sha12}.md     the build manifest (markdown)
  hist_lines/{platform}-{variant}-{image}-{sha12}.txt   the wiki's build history row

Output: results on stdout, progress and errors on stderr. With --format json, stdout gets one JSON
document instead (schema `stacktag/v1`, see docs/json.md): the images, tags, files, image IDs,
digests and timings, and on a failed run an `error` object with the message and the exit code.
--metadata-file FILE writes the same document to FILE, whatever --format says (for CI steps that
also want the text).

The commit is HEAD of the git repository around --repo-dir (default: the current directory).
The daemon is found like the docker CLI finds it: DOCKER_HOST (unix:// or tcp://), else
/var/run/docker.sock; with DOCKER_TLS_VERIFY=1, over TLS with ca.pem, cert.pem and key.pem from
DOCKER_CERT_PATH (default ~/.docker). ssh:// is not supported: tunnel the socket instead.";

pub const EXAMPLES: &str = "\
Examples:
  stacktag hook base-notebook                 tag, manifest and history line, in one go
  stacktag hook --all                         every image of the stack, concurrently
  stacktag explain r-notebook                 what runs on an image, and where it comes from
  stacktag check --config my/hierarchy.yaml   validate a hierarchy file
  stacktag hook --all --format json > hook.json    the same, as one JSON document (docs/json.md)
  stacktag wiki --wiki-dir ../stack.wiki --hist-lines-dir build/stacktag/hist_lines \\
      --manifests-dir build/stacktag/manifests --html build/wiki-html
                                              add the builds to the wiki, then render it";

pub const REGISTRY_HELP: &str = "\
Credentials, first found wins: --username with --password-stdin; STACKTAG_REGISTRY_USER and
STACKTAG_REGISTRY_PASSWORD; the Docker config (DOCKER_CONFIG or ~/.docker/config.json, credential
helpers and identity tokens included); else anonymous. Loopback registries (localhost, 127.*) are spoken to in plain
HTTP, others in HTTPS. Exit codes: #REGISTRY registry unreachable or failing, #REGISTRY_AUTH credentials refused,
#MISSING_PLATFORM platform image or tag missing in the registry (see `stacktag --help`).";

/// The exit codes of push, merge, image-ref and attach.
pub const REGISTRY_CODES: &[i32] = &[
    OK,
    USAGE,
    CONFIG,
    DOCKER,
    IO,
    REGISTRY,
    REGISTRY_AUTH,
    MISSING_PLATFORM,
];

/// The registry commands' credentials: [`REGISTRY_HELP`] up to its exit codes.
pub fn credentials() -> &'static str {
    REGISTRY_HELP
        .split(" Exit codes:")
        .next()
        .unwrap_or_default()
}

/// Credentials, exit codes and examples of push, merge, image-ref and attach.
pub fn registry_after(examples: &str) -> String {
    format!("{}\n\n{}", credentials(), after(REGISTRY_CODES, examples))
}

/// `Exit codes:` and the examples, for the top-level `--help`.
pub fn after_long_help() -> String {
    format!(
        "{}\n{EXAMPLES}",
        exit_codes(exit::TABLE.iter().map(|(c, _)| *c))
    )
}

/// The `Exit codes:` block for these codes, as the table words them.
pub fn exit_codes(codes: impl IntoIterator<Item = i32>) -> String {
    let mut text = String::from("Exit codes:\n");
    for code in codes {
        let (_, meaning) = exit::TABLE
            .iter()
            .find(|(c, _)| *c == code)
            .expect("a documented code");
        let mut lines = wrap(meaning, 86).into_iter();
        text += &format!("  {code:<4} {}\n", lines.next().unwrap_or_default());
        for l in lines {
            text += &format!("       {l}\n");
        }
    }
    text
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let cur = lines.last_mut().expect("one line");
        if !cur.is_empty() && cur.len() + 1 + word.len() > width {
            lines.push(word.to_string());
        } else {
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(word);
        }
    }
    lines
}

/// A help text whose exit codes are written `#NAME` (`#DIRTY`), with each
/// replaced by its number from the table's constants, so prose cannot go
/// stale when a code changes.
pub fn codes(text: &str) -> String {
    const NAMES: &[(&str, i32)] = &[
        ("USAGE", USAGE),
        ("CONFIG", CONFIG),
        ("IMAGE", IMAGE),
        ("DOCKER", DOCKER),
        ("IO", IO),
        ("REGISTRY_AUTH", REGISTRY_AUTH),
        ("REGISTRY", REGISTRY),
        ("MISSING_PLATFORM", MISSING_PLATFORM),
        ("ARCHIVE", ARCHIVE),
        ("DIRTY", DIRTY),
        ("REFUSED", REFUSED),
        ("DELETE_UNSUPPORTED", DELETE_UNSUPPORTED),
        ("CI_STALE", CI_STALE),
        ("OK", OK),
    ];
    let mut out = text.to_string();
    // Longest names first: `#REGISTRY_AUTH` before `#REGISTRY`.
    for (name, code) in NAMES {
        out = out.replace(&format!("#{name}"), &code.to_string());
    }
    assert!(!out.contains('#'), "a #NAME without its code in: {out}");
    out
}

/// `Exit codes:` for these codes, then the examples.
pub fn after(codes: &[i32], examples: &str) -> String {
    format!(
        "{}\nExamples:\n{examples}",
        exit_codes(codes.iter().copied())
    )
}

#[cfg(test)]
mod code_tests {
    use super::*;

    #[test]
    fn codes_in_prose_come_from_the_table() {
        assert_eq!(
            codes("refused (exit #DIRTY), else #REGISTRY_AUTH"),
            "refused (exit 15), else 12"
        );
        // No code typed by hand in the help texts, which are in every
        // command's own file.
        let typed = regex::Regex::new(r"(?i)\bexit (codes: )?[0-9]").unwrap();
        let cli = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cli");
        let mut files: Vec<_> = std::fs::read_dir(&cli)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "rs"))
            .collect();
        files.sort();
        assert!(files.len() > 10, "{files:?}");
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            let file = path.file_name().unwrap().to_string_lossy();
            let prose = text.split("#[cfg(test)]").next().unwrap();
            for (n, line) in prose.lines().enumerate() {
                assert!(
                    !typed.is_match(line),
                    "{file}:{}: write the code as #NAME: {line}",
                    n + 1
                );
            }
        }
    }
}
