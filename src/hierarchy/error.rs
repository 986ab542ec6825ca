//! The hierarchy file's problems, each with its line, all of them at once.

use std::path::{Path, PathBuf};

/// A problem in a hierarchy file, with where it is; `more` holds the file's
/// other problems, so that one run reports them all.
#[derive(Debug, Clone)]
pub struct ConfigError {
    pub path: PathBuf,
    /// 1-based; 0 when the problem has no single line (then none is shown).
    pub line: usize,
    pub message: String,
    pub more: Vec<ConfigError>,
}

impl ConfigError {
    /// The first of `errors`, carrying the rest.
    pub fn several(mut errors: Vec<ConfigError>) -> ConfigError {
        errors.sort_by_key(|e| e.line);
        let mut first = errors.remove(0);
        first.more = errors;
        first
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            0 => write!(f, "{}: {}", self.path.display(), self.message)?,
            n => write!(f, "{}:{n}: {}", self.path.display(), self.message)?,
        }
        for e in &self.more {
            write!(f, "\n{e}")?;
        }
        if !self.more.is_empty() {
            write!(
                f,
                "\n({} problems in {})",
                self.more.len() + 1,
                self.path.display()
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// A hierarchy file that is not there, cannot be read, or is wrong.
#[derive(Debug, thiserror::Error)]
pub enum HierarchyError {
    /// No file named, and none in the working directory (the CLI says how to name one).
    #[error("no {file} in {dir}: stacktag reads the stack from the hierarchy file and does not guess", file = super::defaults::FILE, dir = .dir.display())]
    NotFound { dir: PathBuf },

    #[error("cannot read the hierarchy file {path}: {source}", path = .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// Every problem found so far in one file; a parse goes on after each, so
/// one run shows them all.
#[derive(Debug)]
pub struct Problems {
    path: PathBuf,
    errors: Vec<ConfigError>,
}

impl Problems {
    pub fn new(path: &Path) -> Self {
        Problems {
            path: path.to_path_buf(),
            errors: Vec::new(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn push(&mut self, line: usize, message: String) {
        self.errors.push(ConfigError {
            path: self.path.clone(),
            line,
            message,
            more: Vec::new(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// How many problems so far: a check can tell whether a step found any.
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// The problems as one error, or `None` if there are none.
    pub fn into_error(self) -> Option<ConfigError> {
        (!self.errors.is_empty()).then(|| ConfigError::several(self.errors))
    }
}
