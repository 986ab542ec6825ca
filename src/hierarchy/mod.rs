//! `hierarchy.yaml`: the stack's image tree. The types and loading are
//! here; [`yaml`] reads the file into nodes that keep their lines, `parse`
//! turns them into a [`Hierarchy`], `validate` checks what spans the file
//! (every problem at once, each with its line), [`names`] holds the naming
//! rules, and `resolve` the inheritance: an image gets its ancestors'
//! taggers and manifests, root first. Taggers and manifests are named
//! (built-ins, plugins) or declared in the file as rules
//! ([`crate::plugin::rule`]); the build keys are read by [`crate::build::keys`].

mod ci;
pub mod defaults;
pub mod error;
pub mod names;
mod parse;
mod resolve;
mod validate;
pub mod yaml;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::build::keys::parse_period;
use crate::formats::tags::Platform;
use crate::formats::tags::DEFAULT_VARIANT;
use crate::plugin::rule::{ManifestRule, TaggerRule};
use crate::plugin::{self, Manifest, Tagger};
pub use ci::{CiSection, RunnerLabel};
use error::Problems;
pub use error::{ConfigError, HierarchyError};
pub use names::did_you_mean;
pub use parse::PROXY_ARGS;

/// One image of the stack as the file describes it.
#[derive(Debug, Clone)]
pub struct ImageSpec {
    pub name: String,
    pub parent: Option<String>,
    /// The line of `parent:`'s value (of the image when it has none).
    pub parent_line: usize,
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
    /// reads (the ids are hashed, the values never).
    pub secrets: Vec<String>,
    /// `stacktag build`: the verify command (`{image}` is the reference built).
    pub verify: Option<String>,
    /// `stacktag build`: rebuild at least once per this period (`7d`).
    pub refresh: Option<Duration>,
    /// `stacktag build`: `memory:` and `cpuset:` of its build containers.
    pub limits: crate::build::keys::Limits,
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
    /// What is not wrong but worth saying (the names this binary does not
    /// know, in one warning).
    pub warnings: Vec<String>,
    /// `platforms:` the stack is built for, with its line; `None`: the daemon's.
    pub platforms: Option<(Vec<Platform>, usize)>,
    /// `ci:`, the settings of `stacktag ci` (defaults when absent).
    pub ci: CiSection,
    /// Tagger and manifest names this binary does not know and nothing in
    /// the file comes close to: a plugin binary's. The images that need one
    /// fail ([`Hierarchy::needs_missing`]); the others run.
    pub missing: Vec<Missing>,
}

/// A tagger or manifest of the file that this binary lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// `tagger` or `manifest`.
    pub kind: &'static str,
    pub name: String,
    /// The image whose list names it.
    pub image: String,
    pub line: usize,
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
    /// Names this binary does not know (a plugin binary's) fail the images
    /// that need them: for commands that run taggers.
    Known,
    /// The same, said as not mattering: for commands that run no tagger
    /// (wiki, push, merge, ...).
    Any,
}

impl Hierarchy {
    /// `--config` if given, else `./hierarchy.yaml`; never anything else, so a
    /// wrong working directory cannot act on another stack.
    pub fn load_default(config: Option<&Path>, names: Names) -> Result<Self, HierarchyError> {
        match config {
            Some(p) => Self::load(p, names),
            None => {
                let p = Path::new(defaults::FILE);
                if !p.exists() {
                    let cwd = std::env::current_dir().unwrap_or_default();
                    return Err(HierarchyError::NotFound { dir: cwd });
                }
                Self::load(p, names)
            }
        }
    }

    pub fn load(path: &Path, names: Names) -> Result<Self, HierarchyError> {
        let text = std::fs::read_to_string(path).map_err(|source| HierarchyError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self::parse_with(&text, path, names)?)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        Self::parse_with(text, path, Names::Known)
    }

    pub fn parse_with(text: &str, path: &Path, names: Names) -> Result<Self, ConfigError> {
        let mut p = Problems::new(path);
        if let Some((mut h, broken)) =
            yaml::parse(text, &mut p).and_then(|root| parse::hierarchy(&root, path, &mut p))
        {
            validate::validate(&mut h, names, &broken, &mut p);
            if p.is_empty() {
                return Ok(h);
            }
        }
        Err(p.into_error().unwrap_or_else(|| ConfigError {
            path: path.to_path_buf(),
            line: 0,
            message: "could not be read".into(),
            more: Vec::new(),
        }))
    }

    /// Whether the stack is built for `p`: in `platforms:`, or any without one.
    pub fn builds_platform(&self, p: Platform) -> bool {
        self.platforms
            .as_ref()
            .is_none_or(|(ps, _)| ps.contains(&p))
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
}

#[cfg(test)]
mod tests;
