//! The Dockerfile and the hierarchy file must agree: an image's final `FROM`
//! is its declared `parent:`, and a root's `FROM` is no image of the stack.
//! The `FROM` is resolved as the daemon would, with the build args stacktag
//! passes (REGISTRY, OWNER, `build_args:`, `--build-arg`) over the `ARG`
//! defaults before the first `FROM` (`$VAR`, `${VAR}`, `${VAR:-word}`,
//! `${VAR:+word}`); a `FROM` naming an earlier stage is followed to that
//! stage's image.

use std::path::PathBuf;

use crate::error::{ConfigError, Error};
use crate::formats::tags;
use crate::hierarchy::Hierarchy;

/// The image a Dockerfile's final stage starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base {
    /// As the file writes it: `$REGISTRY/$OWNER/base`.
    pub written: String,
    /// Resolved: `localhost:5000/stacktag/base`.
    pub reference: String,
    /// 1-based line of that `FROM`.
    pub line: usize,
}

/// The base image of the final stage, or `None` for a file without `FROM`.
pub fn final_base(dockerfile: &str, args: &[(String, String)]) -> Option<Base> {
    let mut scope: Vec<(String, String)> = Vec::new();
    // (image resolved, stage name, written, line) per FROM.
    let mut stages: Vec<(String, Option<String>, String, usize)> = Vec::new();
    for (line, text) in instructions(dockerfile) {
        let mut words = text.split_whitespace();
        let Some(keyword) = words.next() else {
            continue;
        };
        if keyword.eq_ignore_ascii_case("ARG") && stages.is_empty() {
            for decl in words {
                let (name, default) = match decl.split_once('=') {
                    Some((n, d)) => (n, Some(unquote(d))),
                    None => (decl, None),
                };
                let value = match args.iter().rev().find(|(k, _)| k == name) {
                    Some((_, v)) => v.clone(),
                    None => default.map_or(String::new(), |d| expand(&d, &scope)),
                };
                scope.retain(|(k, _)| k != name);
                scope.push((name.to_string(), value));
            }
        } else if keyword.eq_ignore_ascii_case("FROM") {
            let rest: Vec<&str> = words.filter(|w| !w.starts_with("--")).collect();
            let Some(image) = rest.first() else {
                continue;
            };
            let name = match rest.get(1..) {
                Some([as_, name, ..]) if as_.eq_ignore_ascii_case("AS") => {
                    Some(name.to_ascii_lowercase())
                }
                _ => None,
            };
            stages.push((expand(image, &scope), name, image.to_string(), line));
        }
    }
    // Follow `FROM stage` back to the image its chain starts from.
    let mut i = stages.len().checked_sub(1)?;
    loop {
        let (image, _, written, line) = &stages[i];
        match stages[..i]
            .iter()
            .rposition(|(_, n, _, _)| n.as_deref() == Some(image.to_ascii_lowercase().as_str()))
        {
            Some(earlier) => i = earlier,
            None => {
                return Some(Base {
                    written: written.clone(),
                    reference: image.clone(),
                    line: *line,
                })
            }
        }
    }
}

/// The repository a reference names, without tag or digest and without
/// Docker Hub's implied prefixes: `localhost:5000/o/base:latest` →
/// `localhost:5000/o/base`, `docker.io/library/debian` → `debian`.
pub fn repository(reference: &str) -> String {
    let r = reference.split('@').next().unwrap_or_default();
    let r = match r.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => name,
        _ => r,
    };
    let r = r
        .strip_prefix("docker.io/")
        .or_else(|| r.strip_prefix("index.docker.io/"))
        .unwrap_or(r);
    r.strip_prefix("library/").unwrap_or(r).to_string()
}

/// One image's Dockerfile to check, as a build would use it.
#[derive(Debug, Clone)]
pub struct Item {
    pub image: String,
    pub parent: Option<String>,
    pub dockerfile: PathBuf,
    /// REGISTRY, OWNER, the image's build args, then --build-arg (last wins).
    pub args: Vec<(String, String)>,
}

/// Every image of `items` whose `FROM` disagrees with the hierarchy file, all
/// at once (a Dockerfile that cannot be read is left to the build to report).
pub fn check(h: &Hierarchy, registry: &str, owner: &str, items: &[Item]) -> Result<(), Error> {
    let mut errors: Vec<Error> = Vec::new();
    for item in items {
        let Ok(text) = std::fs::read_to_string(&item.dockerfile) else {
            continue;
        };
        let Some(base) = final_base(&text, &item.args) else {
            continue;
        };
        if let Some(e) = disagreement(h, registry, owner, item, &base) {
            errors.push(e.into());
        }
    }
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        _ => Err(Error::Several(errors)),
    }
}

fn disagreement(
    h: &Hierarchy,
    registry: &str,
    owner: &str,
    item: &Item,
    base: &Base,
) -> Option<ConfigError> {
    let name_of = |image: &str| tags::image_name(registry, owner, image);
    let from = repository(&base.reference);
    let named = h.images.iter().find(|i| name_of(&i.name) == from);
    let spec = h.image(&item.image)?;
    let hfile = h.path.display();
    let resolved = if base.written == base.reference {
        String::new()
    } else {
        format!(" (that is {})", base.reference)
    };
    let convention = |parent: &str| {
        format!("`ARG REGISTRY`, `ARG OWNER`, then `FROM $REGISTRY/$OWNER/{parent}`")
    };
    let message = match (&item.parent, named) {
        (Some(parent), _) if from == name_of(parent) => return None,
        (Some(parent), Some(other)) => format!(
            "image `{}`: FROM {}{resolved} is the stack's image `{}`, but {hfile}:{} declares `parent: {parent}`\n  fix: make the final FROM {}, or declare `parent: {}` in {hfile}:{}",
            item.image, base.written, other.name, spec.parent_line, convention(parent), other.name, spec.parent_line,
        ),
        (Some(parent), None) => format!(
            "image `{}`: FROM {}{resolved} is not its parent `{parent}` ({}), which {hfile}:{} declares\n  fix: make the final FROM {}; or, if the image does not start from the stack, remove `parent:` from {hfile}:{}",
            item.image, base.written, name_of(parent), spec.parent_line, convention(parent), spec.parent_line,
        ),
        (None, Some(other)) => format!(
            "image `{}`: FROM {}{resolved} is the stack's image `{}`, but {hfile}:{} gives `{}` no `parent:`, so it would be built from whatever {} is at the time, as a second root\n  fix: add `parent: {}` under `{}:` in {hfile}:{}",
            item.image, base.written, other.name, spec.line, item.image, name_of(&other.name), other.name, item.image, spec.line,
        ),
        (None, None) => return None,
    };
    Some(ConfigError {
        path: item.dockerfile.clone(),
        line: base.line,
        message,
        more: Vec::new(),
    })
}

/// The items of every image of the hierarchy (each variant's Dockerfile
/// too), with the build args a build would pass (`--build-arg` none).
pub fn items_of(h: &Hierarchy, registry: &str, owner: &str) -> Vec<Item> {
    let base = super::base_dir(&h.path);
    let mut out = Vec::new();
    for spec in &h.images {
        let mut args = vec![
            ("REGISTRY".to_string(), registry.to_string()),
            ("OWNER".to_string(), owner.to_string()),
        ];
        for (k, v) in &spec.build_args {
            args.retain(|(a, _)| a != k);
            args.push((k.clone(), v.clone()));
        }
        let context = base.join(&spec.context);
        let files = std::iter::once(context.join(&spec.dockerfile)).chain(
            spec.variants
                .iter()
                .map(|v| context.join(v).join("Dockerfile")),
        );
        for dockerfile in files {
            out.push(Item {
                image: spec.name.clone(),
                parent: spec.parent.clone(),
                dockerfile,
                args: args.clone(),
            });
        }
    }
    out
}

/// The instructions of a Dockerfile, each with the line it starts on:
/// continuation lines joined, comment and blank lines left out, the escape
/// character of an `# escape=` directive honoured.
fn instructions(text: &str) -> Vec<(usize, String)> {
    let mut escape = '\\';
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    let mut header = true;
    for (n, raw) in text.lines().enumerate() {
        let t = raw.trim();
        if header {
            if let Some(c) = t.strip_prefix('#') {
                if let Some((k, v)) = c.split_once('=') {
                    if k.trim().eq_ignore_ascii_case("escape") {
                        escape = v.trim().chars().next().unwrap_or('\\');
                    }
                }
                continue;
            }
            if !t.is_empty() {
                header = false;
            }
        }
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let (body, more) = match t.strip_suffix(escape) {
            Some(b) => (b, true),
            None => (t, false),
        };
        let entry = current.get_or_insert_with(|| (n + 1, String::new()));
        if !entry.1.is_empty() {
            entry.1.push(' ');
        }
        entry.1.push_str(body);
        if !more {
            out.extend(current.take());
        }
    }
    out.extend(current);
    out
}

fn unquote(s: &str) -> String {
    let b = s.as_bytes();
    if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        s[1..s.len() - 1].to_string()
    } else {
        s.to_string()
    }
}

/// `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR:+word}` from `scope`; a name not
/// in scope is empty, as the daemon makes it.
fn expand(text: &str, scope: &[(String, String)]) -> String {
    let get = |name: &str| {
        scope
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'$') => {
                out.push('$');
                chars.next();
            }
            '$' if chars.peek() == Some(&'{') => {
                chars.next();
                let mut inner = String::new();
                let mut depth = 1;
                for c in chars.by_ref() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    inner.push(c);
                }
                let value = match inner.split_once(":-") {
                    Some((name, word)) => match get(name).filter(|v| !v.is_empty()) {
                        Some(v) => v.to_string(),
                        None => expand(word, scope),
                    },
                    None => match inner.split_once(":+") {
                        Some((name, word)) => match get(name).filter(|v| !v.is_empty()) {
                            Some(_) => expand(word, scope),
                            None => String::new(),
                        },
                        None => get(&inner).unwrap_or_default().to_string(),
                    },
                };
                out.push_str(&value);
            }
            '$' if chars
                .peek()
                .is_some_and(|c| c.is_ascii_alphabetic() || *c == '_') =>
            {
                let mut name = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_ascii_alphanumeric() || c == '_' {
                        name.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push_str(get(&name).unwrap_or_default());
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn base(df: &str, a: &[(&str, &str)]) -> (String, usize) {
        let b = final_base(df, &args(a)).unwrap();
        (b.reference, b.line)
    }

    #[test]
    fn the_stack_convention_resolves_with_the_args_stacktag_passes() {
        let df = "# comment\nARG REGISTRY\nARG OWNER\nFROM $REGISTRY/$OWNER/base\nRUN true\n";
        assert_eq!(
            base(df, &[("REGISTRY", "localhost:5000"), ("OWNER", "me")]),
            ("localhost:5000/me/base".to_string(), 4)
        );
    }

    #[test]
    fn arg_defaults_chain_and_passed_args_win() {
        // The demo stack's and docker-stacks' own form.
        let df = "ARG REGISTRY=quay.io\nARG OWNER=jupyter\nARG BASE_IMAGE=$REGISTRY/$OWNER/foundation\nFROM $BASE_IMAGE\n";
        assert_eq!(base(df, &[]).0, "quay.io/jupyter/foundation");
        assert_eq!(
            base(df, &[("REGISTRY", "localhost:5000"), ("OWNER", "o")]).0,
            "localhost:5000/o/foundation"
        );
        assert_eq!(
            base(df, &[("BASE_IMAGE", "elsewhere/x:1")]).0,
            "elsewhere/x:1"
        );
        // Quoted defaults, ${} forms.
        let df =
            "ARG R=\"reg:5000\"\nARG O\nARG TAG\nFROM ${R}/${O:-nobody}/${MISSING:-base}:${TAG:+x}latest\n";
        assert_eq!(base(df, &[]).0, "reg:5000/nobody/base:latest");
        assert_eq!(
            base(df, &[("O", "me"), ("TAG", "1")]).0,
            "reg:5000/me/base:xlatest"
        );
        // An ARG after the first FROM does not reach a FROM.
        let df = "FROM a AS one\nARG X=b\nFROM $X\n";
        assert_eq!(base(df, &[]).0, "");
    }

    #[test]
    fn only_the_final_stage_counts_and_stage_names_are_not_images() {
        let df = "ARG REGISTRY\nARG OWNER\nFROM stacktag-test/busybox AS tool\nRUN echo > /t\n\
                  FROM --platform=$BUILDPLATFORM $REGISTRY/$OWNER/base as Build\nRUN make\n\
                  FROM build\nCOPY --from=tool /t /t\n";
        assert_eq!(
            base(df, &[("REGISTRY", "r"), ("OWNER", "o")]),
            ("r/o/base".to_string(), 5)
        );
        let df = "FROM r/o/base AS build\nFROM scratch\nCOPY --from=build / /\n";
        assert_eq!(base(df, &[]), ("scratch".to_string(), 2));
        assert_eq!(final_base("# nothing\n", &[]), None);
    }

    #[test]
    fn continuations_comments_and_the_escape_directive() {
        let df = "ARG OWNER\nFROM \\\n  # a comment inside\n  reg/$OWNER/base\n";
        assert_eq!(base(df, &[("OWNER", "o")]), ("reg/o/base".to_string(), 2));
        let df = "# escape=`\nARG A=x\nFROM `\n  reg/$A\n";
        assert_eq!(base(df, &[]), ("reg/x".to_string(), 3));
        let df = "FROM reg/\\$NOT\n";
        assert_eq!(base(df, &[]).0, "reg/$NOT");
    }

    #[test]
    fn repositories_compare_without_tag_digest_or_hub_prefixes() {
        assert_eq!(
            repository("localhost:5000/o/base:latest"),
            "localhost:5000/o/base"
        );
        assert_eq!(repository("localhost:5000/o/base"), "localhost:5000/o/base");
        assert_eq!(repository("r/o/base@sha256:abc"), "r/o/base");
        assert_eq!(repository("docker.io/library/debian:12"), "debian");
        assert_eq!(repository("docker.io/jupyter/base"), "jupyter/base");
    }
}
