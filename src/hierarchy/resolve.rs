//! Inheritance and order: what runs on an image (its ancestors' taggers and
//! manifests, root first), parents before children, and the parent cycle
//! a file must not have.

use std::collections::HashMap;

use super::error::ConfigError;
use super::names::did_you_mean;
use super::{Hierarchy, ImageSpec, Inherited, Resolved};

impl Hierarchy {
    /// The error of an image that needs a tagger or manifest this binary
    /// lacks (its own or an ancestor's); `None` when it needs none.
    pub fn needs_missing(&self, image: &str) -> Option<ConfigError> {
        let r = self.resolve(image).ok()?;
        let lacking: Vec<&super::Missing> = self
            .missing
            .iter()
            .filter(|m| {
                let list = if m.kind == "tagger" {
                    &r.taggers
                } else {
                    &r.manifests
                };
                list.iter().any(|i| i.name == m.name && i.from == m.image)
            })
            .collect();
        let first = lacking.first()?;
        let names: Vec<String> = lacking
            .iter()
            .map(|m| {
                let from = if m.image == image {
                    String::new()
                } else {
                    format!(", from `{}`", m.image)
                };
                format!("{} `{}` (line {}{from})", m.kind, m.name, m.line)
            })
            .collect();
        Some(ConfigError {
            path: self.path.clone(),
            line: first.line,
            message: format!(
                "image `{image}` needs {}, which this stacktag binary ({}) does not have\n  \
                 fix: run it with the stacktag binary built with the plugin crate that registers {} \
                 (`cargo build --release` in that crate gives it; `make plugin-template DIR=...` \
                 starts one, see docs/plugins.md)",
                names.join(", "),
                binary_name(),
                lacking
                    .iter()
                    .map(|m| format!("`{}`", m.name))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            more: Vec::new(),
        })
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
        let mut sbom_required: Vec<crate::sbom::Section> = chain
            .iter()
            .flat_map(|i| i.sbom_required.iter().copied())
            .collect();
        sbom_required.sort();
        sbom_required.dedup();
        Ok(Resolved {
            image: img.name.clone(),
            chain: chain.iter().map(|i| i.name.clone()).collect(),
            taggers: collect(|i| &i.taggers),
            manifests: collect(|i| &i.manifests),
            variants: img.variants.clone(),
            network: img.network,
            sbom_required,
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

/// The first cycle of parents, walking up from each image in file order:
/// the line of the image it starts from and the names around it (the first
/// repeated at the end). A parent that is not described ends a walk.
pub(super) fn cycle(h: &Hierarchy) -> Option<(usize, Vec<String>)> {
    for img in &h.images {
        let mut seen = vec![img.name.clone()];
        let mut cur = img;
        while let Some(p) = &cur.parent {
            let looped = seen.contains(p);
            seen.push(p.clone());
            if looped {
                return Some((img.line, seen));
            }
            match h.image(p) {
                Some(next) => cur = next,
                None => break,
            }
        }
    }
    None
}

/// This program's file name, as the user ran it (`stacktag`, `my-stacktag`).
pub(super) fn binary_name() -> String {
    std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .and_then(|p| p.file_name().map(|f| f.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "stacktag".to_string())
}
