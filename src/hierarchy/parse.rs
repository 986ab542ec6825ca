//! From the YAML tree to a [`Hierarchy`]: each key read where it is, each
//! problem at the line the YAML parser gave its node.

use std::path::Path;
use std::time::Duration;

use super::error::Problems;
use super::names::{did_you_mean, is_image_name, is_owner, is_registry, is_repository, is_variant};
use super::yaml::{Entry, Node};
use super::{defaults, Declared, Hierarchy, ImageSpec};
use crate::plugin::rule::{compile_pattern, ManifestRule, Stream, TaggerRule};

const TOP_KEYS: &[&str] = &[
    "registry",
    "owner",
    "repository",
    "command_timeout",
    "sbom",
    "platforms",
    "ci",
    "proxies",
    "images",
];

/// Docker's predefined build args: every build gets them without an `ARG`
/// line, and they never count as an input (`proxies:`).
pub const PROXY_ARGS: &[&str] = &[
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "FTP_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "ftp_proxy",
    "no_proxy",
    "all_proxy",
];
/// Besides `crate::build::keys::KEYS`.
const IMAGE_KEYS: &[&str] = &[
    "parent",
    "taggers",
    "manifests",
    "variants",
    "network",
    "context",
    "dockerfile",
    "sbom_required",
];
const TAGGER_KEYS: &[&str] = &["name", "command", "pattern", "prefix", "stream"];
const MANIFEST_KEYS: &[&str] = &["name", "heading", "commands", "stream"];

/// The hierarchy a tree describes, and the names of the rules it declares
/// that are broken (already reported: not "unknown" as well).
pub(super) fn hierarchy(
    root: &Node,
    path: &Path,
    p: &mut Problems,
) -> Option<(Hierarchy, Vec<String>)> {
    let Some(top) = root.as_map() else {
        p.push(
            root.line,
            "a hierarchy file is a map with an `images:` key".into(),
        );
        return None;
    };
    unknown_keys(p, top, TOP_KEYS, "the hierarchy file");
    let get = |key: &str| top.iter().find(|e| e.key == key);
    let mut defaulted = Vec::new();
    let mut setting = |p: &mut Problems, key: &'static str, default: &str| -> String {
        let Some(e) = get(key) else {
            defaulted.push(key);
            return default.to_string();
        };
        let Some(value) = e.value.text(p, &format!("`{key}`")) else {
            return String::new();
        };
        let (ok, want): (fn(&str) -> bool, _) = match key {
            "registry" => (is_registry, "a registry host, e.g. `quay.io`, `ghcr.io` or `localhost:5000` (no scheme, no path)"),
            "owner" => (is_owner, "an owner (organisation) path, lowercase: `[a-z0-9]` parts separated by `.`, `_`, `-` or `/`"),
            _ => (is_repository, "GitHub `OWNER/REPO`, e.g. `jupyter/docker-stacks`"),
        };
        if !ok(&value) {
            p.push(
                e.line,
                format!("`{key}: {value}` is not valid: want {want}"),
            );
        }
        value
    };
    let registry = setting(p, "registry", defaults::REGISTRY);
    let owner = setting(p, "owner", defaults::OWNER);
    let repository = setting(p, "repository", defaults::REPOSITORY);
    let command_timeout = match get("command_timeout") {
        None => defaults::COMMAND_TIMEOUT,
        Some(e) => match e.value.as_u64().filter(|s| (1..=86_400).contains(s)) {
            Some(s) => s,
            None => {
                p.push(
                    e.line,
                    "`command_timeout` must be a whole number of seconds from 1 to 86400".into(),
                );
                defaults::COMMAND_TIMEOUT
            }
        },
    };
    let sbom = get("sbom").is_some_and(|e| {
        let b = e.value.as_bool();
        if b.is_none() {
            p.push(e.line, "`sbom` must be true or false".into());
        }
        b == Some(true)
    });
    let platforms = super::ci::platforms(top, p);
    let ci = super::ci::section(top, &platforms, p);
    let mut proxies = Vec::new();
    if let Some(e) = get("proxies").filter(|e| !e.value.is_null()) {
        match e.value.as_map() {
            Some(entries) => {
                for x in entries {
                    match x.value.as_str() {
                        Some(v) if PROXY_ARGS.contains(&x.key.as_str()) => {
                            proxies.push((x.key.clone(), v.to_string()))
                        }
                        Some(_) => p.push(x.line, format!("`proxies`: `{}` is not one of Docker's proxy args: {}", x.key, PROXY_ARGS.join(", "))),
                        None => p.push(x.line, format!("`proxies`: `{}` must be a string, e.g. http://proxy:3128", x.key)),
                    }
                }
            }
            None => p.push(e.line, "`proxies` must be a map of proxy arg to value, e.g. `HTTP_PROXY: http://proxy:3128`".into()),
        }
    }
    let mut h = Hierarchy {
        path: path.to_path_buf(),
        registry,
        owner,
        repository,
        command_timeout: Duration::from_secs(command_timeout),
        images: Vec::new(),
        declared_taggers: Vec::new(),
        declared_manifests: Vec::new(),
        sbom,
        proxies,
        defaulted,
        warnings: Vec::new(),
        platforms,
        ci,
        missing: Vec::new(),
    };
    let mut broken = Vec::new();
    match get("images") {
        Some(e) => match e.value.as_map() {
            Some(images) if !images.is_empty() => {
                for image in images {
                    read_image(&mut h, &mut broken, image, p);
                }
            }
            Some(_) => p.push(e.line, "no images: `images:` is empty".into()),
            None if e.value.is_null() => p.push(e.line, "no images: `images:` is empty".into()),
            None => p.push(
                e.line,
                "`images:` must be a map of image name to its description".into(),
            ),
        },
        None => p.push(0, "no `images:` key: the file names no image".into()),
    }
    Some((h, broken))
}

fn unknown_keys(p: &mut Problems, map: &[Entry], known: &[&str], what: &str) {
    for e in map {
        if !known.contains(&e.key.as_str()) {
            p.push(
                e.line,
                format!(
                    "unknown key `{}` in {what}{}; known keys: {}",
                    e.key,
                    did_you_mean(&e.key, known.iter().copied()),
                    known.join(", ")
                ),
            );
        }
    }
}

fn read_image(h: &mut Hierarchy, broken: &mut Vec<String>, image: &Entry, p: &mut Problems) {
    let (name, line) = (image.key.as_str(), image.line);
    if !is_image_name(name) {
        p.push(
            line,
            format!("`{name}` is not a valid image name: lowercase letters and digits, separated by `.`, `_` or `-`"),
        );
    }
    let map = match image.value.as_map() {
        Some(m) => m,
        None if image.value.is_null() => &[],
        None => {
            p.push(
                line,
                format!(
                    "image `{name}`: its description must be a map (`parent:`, `taggers:`, ...)"
                ),
            );
            return;
        }
    };
    let known: Vec<&str> = IMAGE_KEYS
        .iter()
        .chain(crate::build::keys::KEYS)
        .copied()
        .collect();
    unknown_keys(p, map, &known, &format!("image `{name}`"));
    let get = |key: &str| map.iter().find(|e| e.key == key);
    let parent = get("parent").and_then(|e| {
        let parent = e.value.text(p, &format!("image `{name}`: `parent`"))?;
        Some((parent, e.value.line))
    });
    let mut items = |key: &str, p: &mut Problems, read: ReadItem| -> Vec<(String, usize)> {
        let Some(e) = get(key) else {
            return Vec::new();
        };
        let list: &[Node] = match e.value.as_seq() {
            Some(list) => list,
            None if e.value.is_null() => &[],
            None => {
                p.push(e.line, format!("image `{name}`: `{key}` must be a list"));
                &[]
            }
        };
        let mut out = Vec::new();
        for item in list {
            match read(h, name, item, p) {
                Ok(named) => out.push(named),
                Err(Some(broken_rule)) => broken.push(broken_rule),
                Err(None) => {}
            }
        }
        out
    };
    let taggers = items("taggers", p, tagger_item);
    let manifests = items("manifests", p, manifest_item);
    let mut variants = Vec::new();
    if let Some(e) = get("variants") {
        for (v, l) in e.value.texts(p, &format!("image `{name}`: `variants`")) {
            if !is_variant(&v) {
                p.push(l, format!("image `{name}`: bad variant name `{v}`: use lowercase letters, digits, `_`, `.`, `-`, starting with a letter or digit (and not `default`, which every image has)"));
            }
            variants.push(v);
        }
    }
    let network = get("network").is_some_and(|e| {
        let b = e.value.as_bool();
        if b.is_none() {
            p.push(
                e.line,
                format!("image `{name}`: `network` must be true or false"),
            );
        }
        b == Some(true)
    });
    let mut path_key = |key: &str, default: String| -> String {
        let Some(e) = get(key) else {
            return default;
        };
        let s = e
            .value
            .text(p, &format!("image `{name}`: `{key}`"))
            .unwrap_or(default);
        if s.is_empty() || Path::new(&s).is_absolute() || s.split('/').any(|c| c == "..") {
            p.push(
                e.line,
                format!(
                    "image `{name}`: `{key}: {s}` must be a relative path inside the repository"
                ),
            );
        }
        s.trim_end_matches('/').to_string()
    };
    let context = path_key("context", defaults::CONTEXT.replace("{image}", name));
    let dockerfile = path_key("dockerfile", defaults::DOCKERFILE.to_string());
    let build = crate::build::keys::parse(name, map, p);
    let mut sbom_required = Vec::new();
    if let Some(e) = get("sbom_required") {
        for (s, l) in e
            .value
            .texts(p, &format!("image `{name}`: `sbom_required`"))
        {
            match crate::sbom::Section::from_name(&s) {
                Some(sec) => sbom_required.push(sec),
                None => p.push(
                    l,
                    format!(
                        "image `{name}`: unknown SBOM section `{s}` in sbom_required; known sections: {}",
                        crate::sbom::Section::names()
                    ),
                ),
            }
        }
    }
    let item_lines: Vec<(String, usize)> = taggers.iter().chain(&manifests).cloned().collect();
    let names = |list: Vec<(String, usize)>| list.into_iter().map(|(n, _)| n).collect();
    h.images.push(ImageSpec {
        name: name.to_string(),
        parent_line: parent.as_ref().map_or(line, |(_, l)| *l),
        parent: parent.map(|(p, _)| p),
        taggers: names(taggers),
        manifests: names(manifests),
        variants,
        network,
        context,
        dockerfile,
        line,
        item_lines,
        build_args: build.args,
        unhashed_build_args: build.unhashed,
        secrets: build.secrets,
        verify: build.verify,
        refresh: build.refresh,
        limits: build.limits,
        sbom_required,
    });
}

/// Reads one item of a `taggers:` or `manifests:` list: its name and line;
/// `Err(Some(name))` for a declared rule that is broken (already reported).
type ReadItem =
    fn(&mut Hierarchy, &str, &Node, &mut Problems) -> Result<(String, usize), Option<String>>;

/// A tagger name, or a declared rule (then its name), with its line. A
/// broken rule is `Err(Some(name))`: reported here, and not unknown.
fn tagger_item(
    h: &mut Hierarchy,
    image: &str,
    item: &Node,
    p: &mut Problems,
) -> Result<(String, usize), Option<String>> {
    let Some(map) = item.as_map() else {
        let name = item.text(p, &format!("image `{image}`: each tagger"));
        return name.map(|n| (n, item.line)).ok_or(None);
    };
    let (name, line) = rule_name(map, image, "tagger", item.line, p).ok_or(None)?;
    let before = p.len();
    unknown_keys(p, map, TAGGER_KEYS, &format!("tagger `{name}`"));
    let what = format!("image `{image}`: tagger `{name}`");
    let get = |key: &str| map.iter().find(|e| e.key == key);
    let command = command(get("command").map(|e| &e.value), &what, line, p);
    let pattern = match get("pattern") {
        None => {
            p.push(
                line,
                format!(
                    "{what}: no `pattern` (a regular expression with a `(?P<version>...)` group)"
                ),
            );
            None
        }
        Some(e) => e
            .value
            .text(p, &format!("{what}: `pattern`"))
            .and_then(|text| {
                compile_pattern(&text)
                    .map_err(|err| p.push(e.line, format!("{what}: {err}")))
                    .ok()
            }),
    };
    let prefix = match get("prefix") {
        None => {
            p.push(
                line,
                format!("{what}: no `prefix` (the tag is `{{prefix}}-{{version}}`)"),
            );
            None
        }
        Some(e) => e.value.text(p, &format!("{what}: `prefix`")).filter(|text| {
            let ok = crate::formats::tags::is_valid_tag(text);
            if !ok {
                p.push(e.line, format!("{what}: prefix `{text}` cannot start a Docker tag (letters, digits, `_`, `.`, `-`)"));
            }
            ok
        }),
    };
    let stream = stream(map, &what, p);
    match (command, pattern, prefix) {
        (Some(command), Some(pattern), Some(prefix)) if p.len() == before => {
            h.declared_taggers.push(Declared {
                name: name.clone(),
                image: image.to_string(),
                line,
                rule: TaggerRule {
                    command,
                    pattern,
                    prefix,
                    stream,
                },
            });
            Ok((name, line))
        }
        _ => Err(Some(name)),
    }
}

fn manifest_item(
    h: &mut Hierarchy,
    image: &str,
    item: &Node,
    p: &mut Problems,
) -> Result<(String, usize), Option<String>> {
    let Some(map) = item.as_map() else {
        let name = item.text(p, &format!("image `{image}`: each manifest"));
        return name.map(|n| (n, item.line)).ok_or(None);
    };
    let (name, line) = rule_name(map, image, "manifest", item.line, p).ok_or(None)?;
    let before = p.len();
    unknown_keys(p, map, MANIFEST_KEYS, &format!("manifest `{name}`"));
    let what = format!("image `{image}`: manifest `{name}`");
    let get = |key: &str| map.iter().find(|e| e.key == key);
    let heading = match get("heading") {
        None => {
            p.push(
                line,
                format!("{what}: no `heading` (the section's `## ` title)"),
            );
            None
        }
        Some(e) => e.value.text(p, &format!("{what}: `heading`")).filter(|t| {
            let ok = !t.trim().is_empty() && !t.contains('\n');
            if !ok {
                p.push(
                    e.line,
                    format!("{what}: `heading` must be one non-empty line"),
                );
            }
            ok
        }),
    };
    let commands = match get("commands").map(|e| (e, e.value.as_seq())) {
        Some((_, Some(cs))) if !cs.is_empty() => {
            let all: Vec<_> = cs
                .iter()
                .map(|c| command(Some(c), &what, line, p))
                .collect();
            all.into_iter().collect::<Option<Vec<_>>>()
        }
        e => {
            p.push(e.map_or(line, |(e, _)| e.line), format!("{what}: `commands` must be a non-empty list of commands, e.g. `[[npm, ls, -g]]`"));
            None
        }
    };
    let stream = stream(map, &what, p);
    match (heading, commands) {
        (Some(heading), Some(commands)) if p.len() == before => {
            h.declared_manifests.push(Declared {
                name: name.clone(),
                image: image.to_string(),
                line,
                rule: ManifestRule {
                    heading,
                    commands,
                    stream,
                },
            });
            Ok((name, line))
        }
        _ => Err(Some(name)),
    }
}

/// The `name:` of a declared rule and its line.
fn rule_name(
    map: &[Entry],
    image: &str,
    kind: &str,
    item_line: usize,
    p: &mut Problems,
) -> Option<(String, usize)> {
    let name = map
        .iter()
        .find(|e| e.key == "name")
        .and_then(|e| Some((e.value.as_str()?.to_string(), e.value.line)));
    if name.is_none() {
        p.push(
            item_line,
            format!("image `{image}`: a declared {kind} needs a `name:`"),
        );
    }
    name
}

/// A command as a list of words (run without a shell).
fn command(v: Option<&Node>, what: &str, line: usize, p: &mut Problems) -> Option<Vec<String>> {
    let argv = v.and_then(|v| {
        v.as_seq()?
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
    });
    match argv {
        Some(a) if !a.is_empty() && !a[0].is_empty() => Some(a),
        _ => {
            p.push(v.map_or(line, |v| v.line), format!("{what}: a command is a non-empty list of words, run without a shell, e.g. `[uv, --version]`"));
            None
        }
    }
}

fn stream(map: &[Entry], what: &str, p: &mut Problems) -> Stream {
    let Some(e) = map.iter().find(|e| e.key == "stream") else {
        return Stream::Stdout;
    };
    e.value.as_str().and_then(Stream::parse).unwrap_or_else(|| {
        p.push(
            e.line,
            format!("{what}: `stream` is `stdout` (the default) or `stderr`"),
        );
        Stream::Stdout
    })
}
