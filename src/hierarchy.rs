//! `hierarchy.yaml`: the stack's image tree. Loading, validation (every
//! problem of the file at once, each with its line), and inheritance: an
//! image gets its ancestors' taggers and manifests, root first. Taggers and
//! manifests are named (built-ins, plugins) or declared in the file as rules
//! ([`crate::plugin::rule`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_yaml::{Mapping, Value};

use crate::error::{ConfigError, Error};
use crate::formats::tags::DEFAULT_VARIANT;
use crate::plugin::rule::{compile_pattern, ManifestRule, Stream, TaggerRule};
use crate::plugin::{self, Manifest, Tagger};

/// Where a stack's settings come from when its file leaves them out.
pub mod defaults {
    pub const FILE: &str = "hierarchy.yaml";
    pub const REGISTRY: &str = "quay.io";
    pub const OWNER: &str = "jupyter";
    pub const REPOSITORY: &str = "jupyter/docker-stacks";
    pub const COMMAND_TIMEOUT: u64 = 300;
    /// Folder of an image's build context, `{image}` replaced.
    pub const CONTEXT: &str = "images/{image}";
    pub const DOCKERFILE: &str = "Dockerfile";
}

/// One image of the stack as the file describes it.
#[derive(Debug, Clone)]
pub struct ImageSpec {
    pub name: String,
    pub parent: Option<String>,
    pub taggers: Vec<String>,
    pub manifests: Vec<String>,
    /// Variants besides `default`.
    pub variants: Vec<String>,
    /// Run the tagging container with networking (off by default).
    pub network: bool,
    /// Build context, relative to the hierarchy file's folder (`images/{image}`).
    pub context: String,
    /// Dockerfile, relative to the context.
    pub dockerfile: String,
    pub line: usize,
    /// The line of each tagger and manifest name in this image's lists.
    pub item_lines: Vec<(String, usize)>,
    /// `stacktag build`: build args, part of the inputs digest (file order).
    pub build_args: Vec<(String, String)>,
    /// `stacktag build`: names of build args passed from the environment,
    /// never hashed, never logged (tokens).
    pub unhashed_build_args: Vec<String>,
    /// `stacktag build`: ids of the `--secret`s its `RUN --mount=type=secret`
    /// reads (the names are hashed, the values never).
    pub secrets: Vec<String>,
    /// `stacktag build`: the verify command (`{image}` is the reference built).
    pub verify: Option<String>,
    /// `stacktag build`: rebuild at least once per this period (`7d`).
    pub refresh: Option<Duration>,
    /// SBOM sections that must be found in the image (and its children).
    pub sbom_required: Vec<crate::sbom::Section>,
}

impl ImageSpec {
    /// The Dockerfile of a variant, relative to the repository root, as the
    /// history line links it: `{context}/{dockerfile}`, or
    /// `{context}/{variant}/Dockerfile` for a non-default variant.
    pub fn dockerfile_path(&self, variant: &str) -> String {
        if variant == DEFAULT_VARIANT {
            format!("{}/{}", self.context, self.dockerfile)
        } else {
            format!("{}/{variant}/Dockerfile", self.context)
        }
    }
}

/// A tagger or manifest declared in the file, with where.
#[derive(Debug, Clone)]
pub struct Declared<T> {
    pub name: String,
    /// The image whose list declares it.
    pub image: String,
    pub line: usize,
    pub rule: T,
}

#[derive(Debug, Clone)]
pub struct Hierarchy {
    pub path: PathBuf,
    pub registry: String,
    pub owner: String,
    /// GitHub `OWNER/REPO` of the repository with the Dockerfiles.
    pub repository: String,
    pub command_timeout: Duration,
    pub images: Vec<ImageSpec>,
    pub declared_taggers: Vec<Declared<TaggerRule>>,
    pub declared_manifests: Vec<Declared<ManifestRule>>,
    /// `hook` writes SBOMs as with `--sbom`.
    pub sbom: bool,
    /// `stacktag build`: Docker's predefined proxy args for every build
    /// (`proxies: {HTTP_PROXY: …}`), never hashed.
    pub proxies: Vec<(String, String)>,
    /// Top-level keys the file leaves out, so their defaults apply.
    pub defaulted: Vec<&'static str>,
    /// What is not wrong but worth saying (names this binary does not know,
    /// when loaded for a command that runs no tagger).
    pub warnings: Vec<String>,
}

/// A plugin name with the image of the hierarchy that brought it in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inherited {
    pub name: String,
    pub from: String,
}

/// What runs on one image: its own and every ancestor's taggers and manifests.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub image: String,
    /// Root first, this image last.
    pub chain: Vec<String>,
    pub taggers: Vec<Inherited>,
    pub manifests: Vec<Inherited>,
    pub variants: Vec<String>,
    pub network: bool,
    /// Its own and every ancestor's `sbom_required`.
    pub sbom_required: Vec<crate::sbom::Section>,
}

/// How strictly tagger and manifest names are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Names {
    /// Every name must be known to this binary: for commands that run them.
    Known,
    /// Names this binary does not know (a plugin binary's) are warnings: for
    /// commands that run no tagger (wiki, push, merge, ...).
    Any,
}

impl Hierarchy {
    /// `--config` if given, else `./hierarchy.yaml`; never anything else, so a
    /// wrong working directory cannot act on another stack.
    pub fn load_default(config: Option<&Path>, names: Names) -> Result<Self, Error> {
        match config {
            Some(p) => Self::load(p, names),
            None => {
                let p = Path::new(defaults::FILE);
                if !p.exists() {
                    let cwd = std::env::current_dir().unwrap_or_default();
                    return Err(Error::NoHierarchy { dir: cwd });
                }
                Self::load(p, names)
            }
        }
    }

    pub fn load(path: &Path, names: Names) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Hierarchy {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self::parse_with(&text, path, names)?)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        Self::parse_with(text, path, Names::Known)
    }

    pub fn parse_with(text: &str, path: &Path, names: Names) -> Result<Self, ConfigError> {
        let mut p = Parser {
            path,
            lines: Lines(text),
            errors: Vec::new(),
        };
        let root: Value = serde_yaml::from_str(text).map_err(|e| {
            let message = e.to_string();
            // The parser points at the map; the second key is the one to fix.
            let duplicate = message
                .split_once("duplicate entry with key \"")
                .and_then(|(_, rest)| rest.split_once('"'))
                .map(|(key, _)| p.lines.key_nth(key, 1));
            match duplicate {
                Some(line) if line > 0 => p.err(line, format!("not valid YAML: {message}")),
                _ => p.err(
                    e.location().map_or(0, |l| l.line()),
                    format!("not valid YAML: {e}"),
                ),
            }
        })?;
        let h = p.hierarchy(&root, names);
        match (h, p.errors.is_empty()) {
            (Some(h), true) => Ok(h),
            _ => Err(ConfigError::several(p.errors)),
        }
    }

    pub fn image(&self, name: &str) -> Option<&ImageSpec> {
        self.images.iter().find(|i| i.name == name)
    }

    /// The implementation of a tagger name: declared in this file, else
    /// built in or a plugin of this binary.
    pub fn tagger(&self, name: &str) -> Option<&dyn Tagger> {
        match self.declared_taggers.iter().find(|d| d.name == name) {
            Some(d) => Some(&d.rule),
            None => plugin::tagger(name).map(|e| e.tagger),
        }
    }

    pub fn manifest(&self, name: &str) -> Option<&dyn Manifest> {
        match self.declared_manifests.iter().find(|d| d.name == name) {
            Some(d) => Some(&d.rule),
            None => plugin::manifest(name).map(|e| e.manifest),
        }
    }

    /// Every image named, or a config error listing the known ones.
    pub fn resolve(&self, name: &str) -> Result<Resolved, ConfigError> {
        let Some(img) = self.image(name) else {
            let known: Vec<&str> = self.images.iter().map(|i| i.name.as_str()).collect();
            return Err(ConfigError {
                path: self.path.clone(),
                line: 0,
                message: format!(
                    "no image `{name}` in this hierarchy{}; its images are: {}",
                    did_you_mean(name, known.iter().copied()),
                    known.join(", ")
                ),
                more: Vec::new(),
            });
        };
        let mut chain = vec![img];
        while let Some(p) = &chain.last().expect("non-empty").parent {
            chain.push(self.image(p).expect("validated"));
        }
        chain.reverse();
        let collect = |pick: fn(&ImageSpec) -> &Vec<String>| {
            let mut out: Vec<Inherited> = Vec::new();
            for i in &chain {
                for n in pick(i) {
                    // A name listed again lower down runs once, where it first appears.
                    if !out.iter().any(|o| &o.name == n) {
                        out.push(Inherited {
                            name: n.clone(),
                            from: i.name.clone(),
                        });
                    }
                }
            }
            out
        };
        Ok(Resolved {
            image: img.name.clone(),
            chain: chain.iter().map(|i| i.name.clone()).collect(),
            taggers: collect(|i| &i.taggers),
            manifests: collect(|i| &i.manifests),
            variants: img.variants.clone(),
            network: img.network,
            sbom_required: {
                let mut all: Vec<crate::sbom::Section> = chain
                    .iter()
                    .flat_map(|i| i.sbom_required.iter().copied())
                    .collect();
                all.sort();
                all.dedup();
                all
            },
        })
    }

    /// The images a command names, or with `all` every image, parents first.
    pub fn chosen(&self, all: bool, named: &[String]) -> Vec<String> {
        if all {
            self.topological().iter().map(|i| i.name.clone()).collect()
        } else {
            named.to_vec()
        }
    }

    /// Images in an order where every parent comes before its children.
    pub fn topological(&self) -> Vec<&ImageSpec> {
        let mut v: Vec<&ImageSpec> = self.images.iter().collect();
        v.sort_by_key(|i| self.depth(i));
        v
    }

    /// How many ancestors an image has (0 for a root).
    pub fn depth(&self, image: &ImageSpec) -> usize {
        let mut d = 0;
        let mut cur = image;
        while let Some(p) = &cur.parent {
            d += 1;
            cur = self.image(p).expect("validated");
        }
        d
    }

    /// Each image's children, for printing the tree.
    pub fn children(&self) -> HashMap<&str, Vec<&str>> {
        let mut m: HashMap<&str, Vec<&str>> = HashMap::new();
        for i in &self.images {
            if let Some(p) = &i.parent {
                m.entry(p.as_str()).or_default().push(i.name.as_str());
            }
        }
        m
    }
}

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

const TOP_KEYS: &[&str] = &[
    "registry",
    "owner",
    "repository",
    "command_timeout",
    "sbom",
    "proxies",
    "images",
];
const IMAGE_KEYS: &[&str] = &[
    "parent",
    "taggers",
    "manifests",
    "variants",
    "network",
    "context",
    "dockerfile",
    "build_args",
    "unhashed_build_args",
    "secrets",
    "verify",
    "refresh",
    "sbom_required",
];
const TAGGER_KEYS: &[&str] = &["name", "command", "pattern", "prefix", "stream"];
const MANIFEST_KEYS: &[&str] = &["name", "heading", "commands", "stream"];

/// Walks the YAML and collects every problem, so one run shows them all.
struct Parser<'a> {
    path: &'a Path,
    lines: Lines<'a>,
    errors: Vec<ConfigError>,
}

impl Parser<'_> {
    fn err(&self, line: usize, message: String) -> ConfigError {
        ConfigError {
            path: self.path.to_path_buf(),
            line,
            message,
            more: Vec::new(),
        }
    }

    fn push(&mut self, line: usize, message: String) {
        let e = self.err(line, message);
        self.errors.push(e);
    }

    fn unknown_keys(&mut self, map: &Mapping, known: &[&str], what: &str, from: usize) {
        for k in map.keys() {
            let k = key_text(k);
            if !known.contains(&k.as_str()) {
                let line = self.lines.key_after(&k, from);
                self.push(
                    line,
                    format!(
                        "unknown key `{k}` in {what}{}; known keys: {}",
                        did_you_mean(&k, known.iter().copied()),
                        known.join(", ")
                    ),
                );
            }
        }
    }

    fn string(&mut self, v: &Value, what: &str, line: usize) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => {
                self.push(line, format!("{what} must be a string"));
                None
            }
        }
    }

    fn strings(&mut self, v: &Value, what: &str, line: usize) -> Vec<String> {
        match v {
            Value::Null => Vec::new(),
            Value::Sequence(items) => items
                .iter()
                .filter_map(|i| self.string(i, &format!("each of {what}"), line))
                .collect(),
            _ => {
                self.push(line, format!("{what} must be a list, e.g. `[a, b]`"));
                Vec::new()
            }
        }
    }

    fn hierarchy(&mut self, root: &Value, names: Names) -> Option<Hierarchy> {
        let Value::Mapping(top) = root else {
            self.push(1, "a hierarchy file is a map with an `images:` key".into());
            return None;
        };
        self.unknown_keys(top, TOP_KEYS, "the hierarchy file", 0);
        let mut defaulted = Vec::new();
        let mut setting = |p: &mut Self, key: &'static str, default: &str| -> String {
            match top.get(key) {
                Some(v) => {
                    let line = p.lines.key_nth(key, 0);
                    p.string(v, &format!("`{key}`"), line).unwrap_or_default()
                }
                None => {
                    defaulted.push(key);
                    default.to_string()
                }
            }
        };
        let registry = setting(self, "registry", defaults::REGISTRY);
        let owner = setting(self, "owner", defaults::OWNER);
        let repository = setting(self, "repository", defaults::REPOSITORY);
        self.check_setting("registry", &registry, is_registry);
        self.check_setting("owner", &owner, is_owner);
        self.check_setting("repository", &repository, is_repository);
        let command_timeout = match top.get("command_timeout") {
            None => defaults::COMMAND_TIMEOUT,
            Some(v) => match v.as_u64().filter(|s| (1..=86_400).contains(s)) {
                Some(s) => s,
                None => {
                    let line = self.lines.key_nth("command_timeout", 0);
                    self.push(
                        line,
                        "`command_timeout` must be a whole number of seconds from 1 to 86400"
                            .into(),
                    );
                    defaults::COMMAND_TIMEOUT
                }
            },
        };

        let sbom = match top.get("sbom") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                let line = self.lines.key_nth("sbom", 0);
                self.push(line, "`sbom` must be true or false".into());
                false
            }
        };
        let mut proxies = Vec::new();
        match top.get("proxies") {
            None | Some(Value::Null) => {}
            Some(Value::Mapping(m)) => {
                for (k, v) in m {
                    let key = key_text(k);
                    let line = self.lines.key_nth(&key, 0);
                    match v.as_str() {
                        Some(v) if PROXY_ARGS.contains(&key.as_str()) => {
                            proxies.push((key, v.to_string()))
                        }
                        Some(_) => self.push(
                            line,
                            format!(
                                "`proxies`: `{key}` is not one of Docker's proxy args: {}",
                                PROXY_ARGS.join(", ")
                            ),
                        ),
                        None => self.push(
                            line,
                            format!("`proxies`: `{key}` must be a string, e.g. http://proxy:3128"),
                        ),
                    }
                }
            }
            Some(_) => {
                let line = self.lines.key_nth("proxies", 0);
                self.push(line, "`proxies` must be a map of proxy arg to value, e.g. `HTTP_PROXY: http://proxy:3128`".into());
            }
        }
        let mut h = Hierarchy {
            path: self.path.to_path_buf(),
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
        };
        match top.get("images") {
            Some(Value::Mapping(images)) if !images.is_empty() => {
                for (k, v) in images {
                    self.image(&mut h, &key_text(k), v);
                }
            }
            Some(Value::Mapping(_)) | Some(Value::Null) => {
                let line = self.lines.key_nth("images", 0);
                self.push(line, "no images: `images:` is empty".into());
            }
            Some(_) => {
                let line = self.lines.key_nth("images", 0);
                self.push(
                    line,
                    "`images:` must be a map of image name to its description".into(),
                );
            }
            None => self.push(0, "no `images:` key: the file names no image".into()),
        }
        self.validate(&mut h, names);
        Some(h)
    }

    fn check_setting(&mut self, key: &str, value: &str, ok: fn(&str) -> bool) {
        if !ok(value) {
            let line = self.lines.key_nth(key, 0);
            let want = match key {
                "registry" => "a registry host, e.g. `quay.io`, `ghcr.io` or `localhost:5000` (no scheme, no path)",
                "owner" => "an owner (organisation) path, lowercase: `[a-z0-9]` parts separated by `.`, `_`, `-` or `/`",
                _ => "GitHub `OWNER/REPO`, e.g. `jupyter/docker-stacks`",
            };
            self.push(line, format!("`{key}: {value}` is not valid: want {want}"));
        }
    }

    fn image(&mut self, h: &mut Hierarchy, name: &str, v: &Value) {
        let nth = h.images.iter().filter(|i| i.name == name).count();
        let line = self.lines.key_nth(name, nth);
        if nth > 0 {
            self.push(line, format!("image `{name}` is described twice"));
            return;
        }
        if !is_image_name(name) {
            self.push(
                line,
                format!("`{name}` is not a valid image name: lowercase letters and digits, separated by `.`, `_` or `-`"),
            );
        }
        let empty = Mapping::new();
        let map = match v {
            Value::Mapping(m) => m,
            Value::Null => &empty,
            _ => {
                self.push(line, format!("image `{name}`: its description must be a map (`parent:`, `taggers:`, ...)"));
                return;
            }
        };
        self.unknown_keys(map, IMAGE_KEYS, &format!("image `{name}`"), line);
        let at = |p: &Self, key: &str| p.lines.key_after(key, line);
        let parent = map
            .get("parent")
            .and_then(|v| self.string(v, &format!("image `{name}`: `parent`"), at(self, "parent")));
        let mut taggers = Vec::new();
        if let Some(v) = map.get("taggers") {
            for item in self.items(v, name, "taggers", at(self, "taggers")) {
                if let Some(n) = self.tagger_item(h, name, item, line) {
                    taggers.push(n);
                }
            }
        }
        let mut manifests = Vec::new();
        if let Some(v) = map.get("manifests") {
            for item in self.items(v, name, "manifests", at(self, "manifests")) {
                if let Some(n) = self.manifest_item(h, name, item, line) {
                    manifests.push(n);
                }
            }
        }
        let variants = map
            .get("variants")
            .map(|v| {
                self.strings(
                    v,
                    &format!("image `{name}`: `variants`"),
                    at(self, "variants"),
                )
            })
            .unwrap_or_default();
        let secrets = map
            .get("secrets")
            .map(|v| {
                self.strings(
                    v,
                    &format!("image `{name}`: `secrets`"),
                    at(self, "secrets"),
                )
            })
            .unwrap_or_default();
        let network = match map.get("network") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                self.push(
                    at(self, "network"),
                    format!("image `{name}`: `network` must be true or false"),
                );
                false
            }
        };
        let path_key = |p: &mut Self, key: &str, default: String| -> String {
            match map.get(key) {
                None => default,
                Some(v) => {
                    let l = at(p, key);
                    let s = p
                        .string(v, &format!("image `{name}`: `{key}`"), l)
                        .unwrap_or(default);
                    if s.is_empty()
                        || Path::new(&s).is_absolute()
                        || s.split('/').any(|c| c == "..")
                    {
                        p.push(l, format!("image `{name}`: `{key}: {s}` must be a relative path inside the repository"));
                    }
                    s.trim_end_matches('/').to_string()
                }
            }
        };
        let item_lines = taggers
            .iter()
            .chain(&manifests)
            .map(|n| (n.clone(), self.lines.find(n, line + 1)))
            .collect();
        let context = path_key(self, "context", defaults::CONTEXT.replace("{image}", name));
        let dockerfile = path_key(self, "dockerfile", defaults::DOCKERFILE.to_string());
        let build = self.build_keys(name, map, line);
        let mut sbom_required = Vec::new();
        if let Some(v) = map.get("sbom_required") {
            let l = at(self, "sbom_required");
            for s in self.strings(v, &format!("image `{name}`: `sbom_required`"), l) {
                match crate::sbom::Section::from_name(&s) {
                    Some(sec) => sbom_required.push(sec),
                    None => {
                        let sl = self.lines.find(&s, l);
                        self.push(
                            sl,
                            format!(
                                "image `{name}`: unknown SBOM section `{s}` in sbom_required; known sections: {}",
                                crate::sbom::Section::names()
                            ),
                        );
                    }
                }
            }
        }
        h.images.push(ImageSpec {
            name: name.to_string(),
            parent,
            taggers,
            manifests,
            variants,
            network,
            context,
            dockerfile,
            line,
            item_lines,
            build_args: build.0,
            unhashed_build_args: build.1,
            secrets,
            verify: build.2,
            refresh: build.3,
            sbom_required,
        });
    }

    /// The `stacktag build` keys of image `name`: build args, unhashed ones
    /// (names only), the verify command, the refresh period.
    #[allow(clippy::type_complexity)]
    fn build_keys(
        &mut self,
        name: &str,
        map: &Mapping,
        line: usize,
    ) -> (
        Vec<(String, String)>,
        Vec<String>,
        Option<String>,
        Option<Duration>,
    ) {
        let at = |p: &Self, key: &str| p.lines.key_after(key, line);
        let not_arg = |key: &str| {
            format!("image `{name}`: `{key}` is not a build arg name: letters, digits and `_`, not starting with a digit")
        };
        let mut build_args = Vec::new();
        match map.get("build_args") {
            None | Some(Value::Null) => {}
            Some(Value::Mapping(args)) => {
                for (k, v) in args {
                    let key = key_text(k);
                    let l = at(self, &key);
                    if !is_arg_name(&key) {
                        self.push(l, not_arg(&key));
                        continue;
                    }
                    match v {
                        Value::String(s) => build_args.push((key, s.clone())),
                        Value::Number(n) => build_args.push((key, n.to_string())),
                        Value::Bool(b) => build_args.push((key, b.to_string())),
                        _ => self.push(l, format!("image `{name}`: build arg `{key}` must have a string, number or boolean value; for a secret from the environment, list its name under `unhashed_build_args`")),
                    }
                }
            }
            Some(_) => {
                let l = at(self, "build_args");
                self.push(
                    l,
                    format!("image `{name}`: `build_args` must be a map of name to value"),
                );
            }
        }
        let unhashed = match map.get("unhashed_build_args") {
            None => Vec::new(),
            Some(v) => {
                let l = at(self, "unhashed_build_args");
                self.strings(v, &format!("image `{name}`: `unhashed_build_args`"), l)
            }
        };
        for key in &unhashed {
            let l = self.lines.find(key, line + 1);
            if !is_arg_name(key) {
                self.push(l, not_arg(key));
            } else if build_args.iter().any(|(k, _)| k == key) {
                self.push(l, format!("image `{name}`: build arg `{key}` is both in `build_args` and in `unhashed_build_args`; keep it in one"));
            }
        }
        let verify = map.get("verify").and_then(|v| {
            let l = at(self, "verify");
            let cmd = self.string(v, &format!("image `{name}`: `verify`"), l)?;
            if cmd.trim().is_empty() {
                self.push(l, format!("image `{name}`: `verify` is empty; give a command, e.g. `images/{name}/test.sh {{image}}`, or drop the key"));
                return None;
            }
            Some(cmd)
        });
        let refresh = map.get("refresh").and_then(|v| {
            let l = at(self, "refresh");
            let text = self.string(v, &format!("image `{name}`: `refresh`"), l)?;
            let period = parse_period(&text);
            if period.is_none() {
                self.push(l, format!("image `{name}`: refresh `{text}` is not a period: a whole number of hours, days or weeks, e.g. `12h`, `7d`, `2w`"));
            }
            period
        });
        (build_args, unhashed, verify, refresh)
    }

    fn items<'v>(
        &mut self,
        v: &'v Value,
        image: &str,
        key: &str,
        line: usize,
    ) -> Vec<(&'v Value, usize)> {
        match v {
            Value::Null => Vec::new(),
            Value::Sequence(items) => items.iter().map(|i| (i, line)).collect(),
            _ => {
                self.push(line, format!("image `{image}`: `{key}` must be a list"));
                Vec::new()
            }
        }
    }

    /// A name, or a declared rule (then its name).
    fn tagger_item(
        &mut self,
        h: &mut Hierarchy,
        image: &str,
        (v, list_line): (&Value, usize),
        image_line: usize,
    ) -> Option<String> {
        let map = match v {
            Value::Mapping(m) => m,
            other => {
                return self.string(other, &format!("image `{image}`: each tagger"), list_line)
            }
        };
        let (name, line) = self.rule_name(map, image, "tagger", list_line)?;
        self.unknown_keys(map, TAGGER_KEYS, &format!("tagger `{name}`"), line);
        let what = format!("image `{image}`: tagger `{name}`");
        let command = self.command(map.get("command"), &what, line);
        let pattern = match map.get("pattern") {
            None => {
                self.push(line, format!("{what}: no `pattern` (a regular expression with a `(?P<version>...)` group)"));
                None
            }
            Some(v) => self
                .string(v, &format!("{what}: `pattern`"), line)
                .and_then(|p| {
                    compile_pattern(&p)
                        .map_err(|e| {
                            self.push(
                                self.lines.key_after("pattern", line),
                                format!("{what}: {e}"),
                            )
                        })
                        .ok()
                }),
        };
        let prefix = match map.get("prefix") {
            None => {
                self.push(line, format!("{what}: no `prefix` (the tag is `{{prefix}}-{{version}}`)"));
                None
            }
            Some(v) => self.string(v, &format!("{what}: `prefix`"), line).filter(|p| {
                let ok = crate::formats::tags::is_valid_tag(p);
                if !ok {
                    self.push(self.lines.key_after("prefix", line), format!("{what}: prefix `{p}` cannot start a Docker tag (letters, digits, `_`, `.`, `-`)"));
                }
                ok
            }),
        };
        let stream = self.stream(map, &what, line);
        let _ = image_line;
        if let (Some(command), Some(pattern), Some(prefix)) = (command, pattern, prefix) {
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
        }
        Some(name)
    }

    fn manifest_item(
        &mut self,
        h: &mut Hierarchy,
        image: &str,
        (v, list_line): (&Value, usize),
        _image_line: usize,
    ) -> Option<String> {
        let map = match v {
            Value::Mapping(m) => m,
            other => {
                return self.string(other, &format!("image `{image}`: each manifest"), list_line)
            }
        };
        let (name, line) = self.rule_name(map, image, "manifest", list_line)?;
        self.unknown_keys(map, MANIFEST_KEYS, &format!("manifest `{name}`"), line);
        let what = format!("image `{image}`: manifest `{name}`");
        let heading = match map.get("heading") {
            None => {
                self.push(
                    line,
                    format!("{what}: no `heading` (the section's `## ` title)"),
                );
                None
            }
            Some(v) => self
                .string(v, &format!("{what}: `heading`"), line)
                .filter(|t| {
                    let ok = !t.trim().is_empty() && !t.contains('\n');
                    if !ok {
                        self.push(
                            line,
                            format!("{what}: `heading` must be one non-empty line"),
                        );
                    }
                    ok
                }),
        };
        let commands = match map.get("commands") {
            Some(Value::Sequence(cs)) if !cs.is_empty() => {
                let all: Vec<_> = cs
                    .iter()
                    .map(|c| self.command(Some(c), &what, line))
                    .collect();
                all.into_iter().collect::<Option<Vec<_>>>()
            }
            _ => {
                self.push(line, format!("{what}: `commands` must be a non-empty list of commands, e.g. `[[npm, ls, -g]]`"));
                None
            }
        };
        let stream = self.stream(map, &what, line);
        if let (Some(heading), Some(commands)) = (heading, commands) {
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
        }
        Some(name)
    }

    fn rule_name(
        &mut self,
        map: &Mapping,
        image: &str,
        kind: &str,
        list_line: usize,
    ) -> Option<(String, usize)> {
        let Some(name) = map.get("name").and_then(|v| v.as_str()) else {
            self.push(
                list_line,
                format!("image `{image}`: a declared {kind} needs a `name:`"),
            );
            return None;
        };
        let line = self.lines.find(name, list_line);
        Some((name.to_string(), line))
    }

    fn command(&mut self, v: Option<&Value>, what: &str, line: usize) -> Option<Vec<String>> {
        let argv = match v {
            Some(Value::Sequence(items)) => items
                .iter()
                .map(|i| match i {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>(),
            _ => None,
        };
        match argv {
            Some(a) if !a.is_empty() && !a[0].is_empty() => Some(a),
            _ => {
                self.push(line, format!("{what}: a command is a non-empty list of words, run without a shell, e.g. `[uv, --version]`"));
                None
            }
        }
    }

    fn stream(&mut self, map: &Mapping, what: &str, line: usize) -> Stream {
        match map.get("stream") {
            None => Stream::Stdout,
            Some(v) => match v.as_str().and_then(Stream::parse) {
                Some(s) => s,
                None => {
                    self.push(
                        line,
                        format!("{what}: `stream` is `stdout` (the default) or `stderr`"),
                    );
                    Stream::Stdout
                }
            },
        }
    }

    fn validate(&mut self, h: &mut Hierarchy, names: Names) {
        let builtin_taggers: Vec<&str> = plugin::taggers().map(|t| t.name).collect();
        let builtin_manifests: Vec<&str> = plugin::manifests().map(|m| m.name).collect();
        for (kind, declared, known) in [
            (
                "tagger",
                h.declared_taggers
                    .iter()
                    .map(|d| (&d.name, d.line))
                    .collect::<Vec<_>>(),
                &builtin_taggers,
            ),
            (
                "manifest",
                h.declared_manifests
                    .iter()
                    .map(|d| (&d.name, d.line))
                    .collect(),
                &builtin_manifests,
            ),
        ] {
            for (i, (name, line)) in declared.iter().enumerate() {
                if known.contains(&name.as_str()) {
                    self.push(*line, format!("{kind} `{name}` is declared here but is also a built-in or plugin {kind}: choose another name"));
                } else if declared[..i].iter().any(|(n, _)| n == name) {
                    self.push(*line, format!("{kind} `{name}` is declared twice"));
                }
            }
        }
        let all_taggers: Vec<&str> = builtin_taggers
            .iter()
            .copied()
            .chain(h.declared_taggers.iter().map(|d| d.name.as_str()))
            .collect();
        let all_manifests: Vec<&str> = builtin_manifests
            .iter()
            .copied()
            .chain(h.declared_manifests.iter().map(|d| d.name.as_str()))
            .collect();
        let image_names: Vec<&str> = h.images.iter().map(|i| i.name.as_str()).collect();
        let mut warnings = Vec::new();
        for img in &h.images {
            if let Some(parent) = &img.parent {
                if !image_names.contains(&parent.as_str()) {
                    self.push(
                        self.lines.after(img.line, parent),
                        format!(
                            "image `{}` has parent `{parent}`, which is not described in this file{}",
                            img.name,
                            did_you_mean(parent, image_names.iter().copied())
                        ),
                    );
                }
            }
            for (kind, list, known) in [
                ("tagger", &img.taggers, &all_taggers),
                ("manifest", &img.manifests, &all_manifests),
            ] {
                for n in list {
                    if known.contains(&n.as_str()) {
                        continue;
                    }
                    let line = self.lines.after(img.line, n);
                    let near = did_you_mean(n, known.iter().copied());
                    if names == Names::Any && near.is_empty() {
                        warnings.push(format!(
                            "{}:{line}: image `{}`: {kind} `{n}` is not in this stacktag binary; \
                             this command does not run taggers, so it goes on. Tag with the binary \
                             built with the plugin crate that registers `{n}`",
                            self.path.display(),
                            img.name
                        ));
                        continue;
                    }
                    let mut known_sorted: Vec<&str> = known.to_vec();
                    known_sorted.sort_unstable();
                    self.push(
                        line,
                        format!(
                            "image `{}`: unknown {kind} `{n}`{near}; known {kind}s: {}\n  \
                             (a {kind} from a plugin crate needs the stacktag binary built with that crate)",
                            img.name,
                            known_sorted.join(", ")
                        ),
                    );
                }
            }
            for v in &img.variants {
                let ok = v != DEFAULT_VARIANT
                    && !v.is_empty()
                    && v.chars().all(|c| {
                        c.is_ascii_lowercase()
                            || c.is_ascii_digit()
                            || c == '_'
                            || c == '.'
                            || c == '-'
                    })
                    && v.starts_with(|c: char| c.is_ascii_alphanumeric());
                if !ok {
                    self.push(
                        self.lines.after(img.line, v),
                        format!("image `{}`: bad variant name `{v}`: use lowercase letters, digits, `_`, `.`, `-`, starting with a letter or digit (and not `default`, which every image has)", img.name),
                    );
                }
            }
        }
        h.warnings = warnings;
        // Cycles: walk up from every image (only when every parent exists).
        if self.errors.iter().any(|e| e.message.contains("has parent")) {
            return;
        }
        for img in &h.images {
            let mut seen = vec![img.name.as_str()];
            let mut cur = img;
            while let Some(p) = &cur.parent {
                if seen.contains(&p.as_str()) {
                    seen.push(p);
                    self.push(
                        img.line,
                        format!("the parents form a cycle: {}", seen.join(" -> ")),
                    );
                    return;
                }
                seen.push(p);
                match h.image(p) {
                    Some(next) => cur = next,
                    None => break,
                }
            }
        }
    }
}

/// `12h`, `7d`, `2w` (at least one hour).
pub fn parse_period(text: &str) -> Option<Duration> {
    let text = text.trim();
    let unit = match text.chars().last()? {
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => return None,
    };
    let n: u64 = text[..text.len() - 1].parse().ok()?;
    (n > 0).then(|| Duration::from_secs(n * unit))
}

/// A Dockerfile `ARG` name.
fn is_arg_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn key_text(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

/// ` (did you mean `x`?)` for a near miss among `known`, else empty.
pub fn did_you_mean<'k>(word: &str, known: impl Iterator<Item = &'k str>) -> String {
    known
        .map(|k| (strsim::damerau_levenshtein(word, k), k))
        .filter(|(d, k)| *d <= if k.len() <= 4 { 1 } else { 2 } && *d < word.len().max(k.len()))
        .min()
        .map_or_else(String::new, |(_, k)| format!(" (did you mean `{k}`?)"))
}

/// Docker's rule for a repository path component, `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`,
/// less the rare `__`.
fn is_image_name(name: &str) -> bool {
    let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    name.split(['.', '_']).all(|part| {
        !part.is_empty() && !part.starts_with('-') && !part.ends_with('-') && part.chars().all(ok)
    })
}

/// A registry host as Docker takes it: `host[:port]`, no scheme or path.
fn is_registry(s: &str) -> bool {
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    };
    let host_ok = !host.is_empty()
        && host.split('.').all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.parse::<u16>().is_ok_and(|n| n > 0));
    host_ok && port_ok
}

fn is_owner(s: &str) -> bool {
    !s.is_empty() && s.split('/').all(is_image_name)
}

fn is_repository(s: &str) -> bool {
    let ok = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    matches!(s.split_once('/'), Some((o, r)) if ok(o) && ok(r))
}

/// Finds the line of a key or value in the file's text, for error messages.
struct Lines<'a>(&'a str);

impl Lines<'_> {
    fn find(&self, word: &str, from: usize) -> usize {
        self.0
            .lines()
            .enumerate()
            .skip(from.saturating_sub(1))
            .find(|(_, l)| {
                let code = l.split(" #").next().unwrap_or(l);
                code.match_indices(word).any(|(i, _)| {
                    let before = code[..i].chars().next_back();
                    let after = code[i + word.len()..].chars().next();
                    let edge = |c: Option<char>| {
                        c.is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '-'))
                    };
                    edge(before) && edge(after)
                })
            })
            .map_or(from, |(i, _)| i + 1)
    }
    /// The line of the `n`th (0-based) `key:` in the file, 0 if none.
    fn key_nth(&self, key: &str, n: usize) -> usize {
        self.keys(key, 0).nth(n).unwrap_or(0)
    }
    /// The first `key:` at or after line `from`.
    fn key_after(&self, key: &str, from: usize) -> usize {
        self.keys(key, from).next().unwrap_or(from)
    }
    fn keys<'s>(&'s self, key: &'s str, from: usize) -> impl Iterator<Item = usize> + 's {
        self.0
            .lines()
            .enumerate()
            .skip(from.saturating_sub(1))
            .filter(move |(_, l)| {
                let t = l.trim_start().trim_start_matches("- ");
                t.strip_prefix(key)
                    .is_some_and(|r| r.trim_start().starts_with(':'))
            })
            .map(|(i, _)| i + 1)
    }
    fn after(&self, line: usize, word: &str) -> usize {
        self.find(word, line + 1)
    }
}

#[cfg(test)]
mod tests;
