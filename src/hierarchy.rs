//! `hierarchy.yaml`: the stack's image tree. Loading, validation (with file
//! and line), and inheritance: an image gets its ancestors' taggers and
//! manifests, root first.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::error::ConfigError;
use crate::plugin;
use crate::tags::DEFAULT_VARIANT;

/// The demo stack's hierarchy, used when no --config is given and there is
/// no `hierarchy.yaml` in the working directory.
pub const EMBEDDED: &str = include_str!("../hierarchy.yaml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    registry: Option<String>,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    repository: Option<String>,
    #[serde(default)]
    command_timeout: Option<u64>,
    #[serde(default)]
    sbom: bool,
    images: OrderedImages,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawImage {
    #[serde(default)]
    parent: Option<String>,
    #[serde(default)]
    taggers: Vec<String>,
    #[serde(default)]
    manifests: Vec<String>,
    #[serde(default)]
    variants: Vec<String>,
    #[serde(default)]
    network: bool,
    #[serde(default)]
    sbom_required: Vec<String>,
}

/// Images in file order; a name given twice is kept twice so that
/// validation can point at the second one.
#[derive(Debug)]
struct OrderedImages(Vec<(String, RawImage)>);

impl<'de> Deserialize<'de> for OrderedImages {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedImages;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of image name to its description")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Option<RawImage>>()? {
                    out.push((k, v.unwrap_or_default()));
                }
                Ok(OrderedImages(out))
            }
        }
        d.deserialize_map(V)
    }
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
    /// SBOM sections that must be found in the image (and its children).
    pub sbom_required: Vec<String>,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct Hierarchy {
    pub path: PathBuf,
    pub registry: String,
    pub owner: String,
    /// GitHub `OWNER/REPO` of the repository with the Dockerfiles.
    pub repository: String,
    pub command_timeout: Duration,
    /// `hook` writes SBOMs as with `--sbom`.
    pub sbom: bool,
    pub images: Vec<ImageSpec>,
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

const DEFAULT_COMMAND_TIMEOUT: u64 = 300;

impl Hierarchy {
    /// `--config` if given; else `./hierarchy.yaml`; else the embedded demo stack.
    pub fn load_default(config: Option<&Path>) -> Result<Self, ConfigError> {
        match config {
            Some(p) => Self::load(p),
            None if Path::new("hierarchy.yaml").exists() => Self::load(Path::new("hierarchy.yaml")),
            None => Self::parse(EMBEDDED, Path::new("<embedded hierarchy.yaml>")),
        }
    }

    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            path: path.to_path_buf(),
            line: 0,
            message: format!("cannot read: {e}"),
        })?;
        Self::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let err = |line: usize, message: String| ConfigError {
            path: path.to_path_buf(),
            line,
            message,
        };
        let raw: RawFile = serde_yaml::from_str(text).map_err(|e| {
            let line = e.location().map_or(0, |l| l.line());
            err(line, format!("not a valid hierarchy: {e}"))
        })?;
        let lines = Lines(text);

        let mut images: Vec<ImageSpec> = Vec::new();
        for (name, r) in raw.images.0 {
            let line = lines.key_nth(&name, 0);
            if images.iter().any(|i| i.name == name) {
                let second = lines.key_nth(&name, 1);
                return Err(err(second, format!("image `{name}` is described twice")));
            }
            if !is_image_name(&name) {
                return Err(err(
                    line,
                    format!("`{name}` is not a valid image name: lowercase letters and digits, separated by `.`, `_` or `-`"),
                ));
            }
            images.push(ImageSpec {
                name,
                parent: r.parent,
                taggers: r.taggers,
                manifests: r.manifests,
                variants: r.variants,
                network: r.network,
                sbom_required: r.sbom_required,
                line,
            });
        }
        if images.is_empty() {
            return Err(err(
                lines.find("images", 0),
                "no images: `images:` is empty".into(),
            ));
        }

        let h = Hierarchy {
            path: path.to_path_buf(),
            registry: raw.registry.unwrap_or_else(|| "quay.io".into()),
            owner: raw.owner.unwrap_or_else(|| "jupyter".into()),
            repository: raw
                .repository
                .unwrap_or_else(|| "jupyter/docker-stacks".into()),
            command_timeout: Duration::from_secs(
                raw.command_timeout.unwrap_or(DEFAULT_COMMAND_TIMEOUT),
            ),
            sbom: raw.sbom,
            images,
        };
        h.validate(&lines)?;
        Ok(h)
    }

    fn validate(&self, lines: &Lines) -> Result<(), ConfigError> {
        let err = |line: usize, message: String| ConfigError {
            path: self.path.clone(),
            line,
            message,
        };
        let known_taggers: BTreeSet<&str> = plugin::taggers().map(|t| t.name).collect();
        let known_manifests: BTreeSet<&str> = plugin::manifests().map(|m| m.name).collect();
        let list = |s: &BTreeSet<&str>| s.iter().copied().collect::<Vec<_>>().join(", ");

        for img in &self.images {
            if let Some(parent) = &img.parent {
                if self.image(parent).is_none() {
                    return Err(err(
                        lines.after(img.line, parent),
                        format!(
                            "image `{}` has parent `{parent}`, which is not described in this file",
                            img.name
                        ),
                    ));
                }
            }
            for t in &img.taggers {
                if !known_taggers.contains(t.as_str()) {
                    return Err(err(
                        lines.after(img.line, t),
                        format!(
                            "image `{}`: unknown tagger `{t}`; known taggers: {}",
                            img.name,
                            list(&known_taggers)
                        ),
                    ));
                }
            }
            for m in &img.manifests {
                if !known_manifests.contains(m.as_str()) {
                    return Err(err(
                        lines.after(img.line, m),
                        format!(
                            "image `{}`: unknown manifest `{m}`; known manifests: {}",
                            img.name,
                            list(&known_manifests)
                        ),
                    ));
                }
            }
            for s in &img.sbom_required {
                if crate::sbom::Section::from_name(s).is_none() {
                    return Err(err(
                        lines.after(img.line, s),
                        format!(
                            "image `{}`: unknown SBOM section `{s}` in sbom_required; known sections: {}",
                            img.name,
                            crate::sbom::Section::names()
                        ),
                    ));
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
                    return Err(err(
                        lines.after(img.line, v),
                        format!("image `{}`: bad variant name `{v}`: use lowercase letters, digits, `_`, `.`, `-`, starting with a letter or digit (and not `default`, which every image has)", img.name),
                    ));
                }
            }
        }
        // Cycles: walk up from every image.
        for img in &self.images {
            let mut seen = vec![img.name.as_str()];
            let mut cur = img;
            while let Some(p) = &cur.parent {
                if seen.contains(&p.as_str()) {
                    seen.push(p);
                    return Err(err(
                        img.line,
                        format!("the parents form a cycle: {}", seen.join(" -> ")),
                    ));
                }
                seen.push(p);
                cur = self.image(p).expect("parents checked above");
            }
        }
        Ok(())
    }

    pub fn image(&self, name: &str) -> Option<&ImageSpec> {
        self.images.iter().find(|i| i.name == name)
    }

    /// Every image named, or a config error listing the known ones.
    pub fn resolve(&self, name: &str) -> Result<Resolved, ConfigError> {
        let Some(img) = self.image(name) else {
            let known: Vec<&str> = self.images.iter().map(|i| i.name.as_str()).collect();
            return Err(ConfigError {
                path: self.path.clone(),
                line: 0,
                message: format!(
                    "no image `{name}` in this hierarchy; its images are: {}",
                    known.join(", ")
                ),
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
                    .flat_map(|i| &i.sbom_required)
                    .filter_map(|s| crate::sbom::Section::from_name(s))
                    .collect();
                all.sort();
                all.dedup();
                all
            },
        })
    }

    /// Images in an order where every parent comes before its children.
    pub fn topological(&self) -> Vec<&ImageSpec> {
        let depth = |i: &ImageSpec| -> usize {
            let mut d = 0;
            let mut cur = i;
            while let Some(p) = &cur.parent {
                d += 1;
                cur = self.image(p).expect("validated");
            }
            d
        };
        let mut v: Vec<&ImageSpec> = self.images.iter().collect();
        v.sort_by_key(|i| depth(i));
        v
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

/// Docker's rule for a repository path component, `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`,
/// less the rare `__`.
fn is_image_name(name: &str) -> bool {
    let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    name.split(['.', '_']).all(|part| {
        !part.is_empty() && !part.starts_with('-') && !part.ends_with('-') && part.chars().all(ok)
    })
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
    fn key_nth(&self, key: &str, n: usize) -> usize {
        self.0
            .lines()
            .enumerate()
            .filter(|(_, l)| {
                let t = l.trim_start();
                t.strip_prefix(key)
                    .is_some_and(|r| r.trim_start().starts_with(':'))
                    && l.len() > t.len()
            })
            .nth(n)
            .map_or(0, |(i, _)| i + 1)
    }
    fn after(&self, line: usize, word: &str) -> usize {
        self.find(word, line + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Hierarchy, ConfigError> {
        Hierarchy::parse(text, Path::new("h.yaml"))
    }

    #[test]
    fn children_inherit_root_first_and_rerun() {
        let h = parse(
            "registry: r\nowner: o\nimages:\n  root:\n    taggers: [commit_sha, date]\n    manifests: [apt_packages]\n  child:\n    parent: root\n    taggers: [python_version]\n    manifests: [pip_packages]\n",
        )
        .unwrap();
        let r = h.resolve("child").unwrap();
        assert_eq!(r.chain, ["root", "child"]);
        let names: Vec<_> = r
            .taggers
            .iter()
            .map(|t| (t.name.as_str(), t.from.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("commit_sha", "root"),
                ("date", "root"),
                ("python_version", "child")
            ]
        );
        let m: Vec<_> = r.manifests.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(m, ["apt_packages", "pip_packages"]);
    }

    #[test]
    fn unknown_parent_names_file_and_line() {
        let e = parse("images:\n  a:\n    taggers: [date]\n  b:\n    parent: nope\n").unwrap_err();
        assert_eq!(e.line, 5, "{e}");
        assert!(
            e.to_string()
                .starts_with("h.yaml:5: image `b` has parent `nope`"),
            "{e}"
        );
    }

    #[test]
    fn cycle_is_reported() {
        let e = parse("images:\n  a:\n    parent: b\n  b:\n    parent: a\n").unwrap_err();
        assert!(e.message.contains("cycle: a -> b -> a"), "{e}");
        assert_eq!(e.line, 2);
    }

    #[test]
    fn duplicate_image_points_at_second() {
        let e = parse("images:\n  a: {}\n  b: {}\n  a: {}\n").unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        assert!(e.message.contains("described twice"), "{e}");
    }

    #[test]
    fn unknown_tagger_lists_known_ones() {
        let e = parse("images:\n  a:\n    taggers:\n      - date\n      - pyhton_version\n")
            .unwrap_err();
        assert_eq!(e.line, 5, "{e}");
        assert!(e.message.contains("unknown tagger `pyhton_version`"), "{e}");
        assert!(e.message.contains("python_version"), "{e}");
    }

    #[test]
    fn unknown_manifest_and_bad_variant() {
        let e = parse("images:\n  a:\n    manifests: [nope]\n").unwrap_err();
        assert!(
            e.message
                .contains("unknown manifest `nope`; known manifests: apt_packages"),
            "{e}"
        );
        let e = parse("images:\n  a:\n    variants: [CUDA 12]\n").unwrap_err();
        assert!(e.message.contains("bad variant name `CUDA 12`"), "{e}");
        assert_eq!(e.line, 3);
    }

    #[test]
    fn broken_yaml_and_unknown_keys_have_lines() {
        let e = parse("images:\n  a:\n    taggers: [date\n").unwrap_err();
        assert!(e.line >= 3, "{e}");
        let e = parse("images:\n  a:\n    tagers: [date]\n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.contains("tagers"), "{e}");
    }

    #[test]
    fn image_names_follow_docker() {
        assert!(is_image_name("base-notebook") && is_image_name("a.b_c") && is_image_name("a--b"));
        let e = parse("images:\n  Base-Notebook: {}\n").unwrap_err();
        assert!(
            e.message
                .contains("`Base-Notebook` is not a valid image name"),
            "{e}"
        );
        assert!(!is_image_name("-x") && !is_image_name("x--") && !is_image_name(""));
    }

    #[test]
    fn sbom_keys() {
        let h = parse("sbom: true\nimages:\n  a:\n    sbom_required: [apt]\n  b:\n    parent: a\n    sbom_required: [pip, apt]\n").unwrap();
        assert!(h.sbom);
        use crate::sbom::Section;
        assert_eq!(
            h.resolve("b").unwrap().sbom_required,
            [Section::Apt, Section::Pip]
        );
        let e = parse("images:\n  a:\n    sbom_required:\n      - deb\n").unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        assert!(e.message.contains("unknown SBOM section `deb` in sbom_required; known sections: apt, pip, conda, r, julia"), "{e}");
    }

    #[test]
    fn embedded_demo_stack_is_valid() {
        let h = parse(EMBEDDED).unwrap();
        assert!(h.image("base-notebook").is_some());
    }
}
