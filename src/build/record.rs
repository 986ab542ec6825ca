//! Which inputs made which image, kept beside the images and never in them.
//! The image is found by its `inputs-{16 hex}` tag; this record only says
//! what those inputs were made of (so a plan can name the one that changed)
//! and which parent image the build started from (so `prune` keeps it).
//! Content identity must not change the content: a label with the digest
//! would give a parent rebuilt from the layer cache a new image ID, and every
//! child would lose its reuse; a record outside the image does not.
//!
//! One file per (repository, image ID), written to a temporary name and
//! renamed. A record that is missing or unreadable only makes the plan's
//! reason vaguer; reuse never depends on it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::context::hash;
use super::inputs::Inputs;

/// Bump when the file's shape changes: old records are then ignored.
const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    version: u32,
    /// `{registry}/{owner}/{image}`.
    pub name: String,
    pub image_id: String,
    /// The latest inputs that gave this image: `sha256:<hex>`.
    pub inputs: String,
    /// Each input's name to the first 16 hex of its hash.
    pub parts: BTreeMap<String, String>,
    /// The Dockerfile's instructions without its comments (16 hex): a
    /// Dockerfile changed in comments only is expected to build the same image.
    pub instructions: String,
    /// The parent's image name (in the hierarchy) and image ID it was built from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<(String, String)>,
}

impl Record {
    pub fn new(
        name: &str,
        image_id: &str,
        inputs: &Inputs,
        dockerfile_text: &str,
        parent: Option<(&str, &str)>,
    ) -> Record {
        Record {
            version: VERSION,
            name: name.to_string(),
            image_id: image_id.to_string(),
            inputs: inputs.digest.clone(),
            parts: inputs.short_parts(),
            instructions: instructions_hash(dockerfile_text),
            parent: parent.map(|(n, id)| (n.to_string(), id.to_string())),
        }
    }
}

/// The records of one machine: `$XDG_CACHE_HOME/stacktag/build`.
#[derive(Debug, Clone)]
pub struct Records {
    pub dir: PathBuf,
}

impl Records {
    pub fn default_dir() -> PathBuf {
        crate::hook::cache::cache_home().join("build")
    }

    fn path(&self, name: &str, image_id: &str) -> PathBuf {
        let id = image_id.strip_prefix("sha256:").unwrap_or(image_id);
        let repo = &hash(&[name.as_bytes()])[..16];
        self.dir.join(format!("{id}-{repo}.json"))
    }

    /// The record of `name`'s image `image_id`, if a whole, matching one exists.
    pub fn get(&self, name: &str, image_id: &str) -> Option<Record> {
        let text = std::fs::read(self.path(name, image_id)).ok()?;
        let r: Record = serde_json::from_slice(&text).ok()?;
        (r.version == VERSION && r.name == name && r.image_id == image_id).then_some(r)
    }

    /// Keeps `record` (replacing the one of the same image). Written whole:
    /// a temporary file beside it, then renamed.
    pub fn put(&self, record: &Record) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let path = self.path(&record.name, &record.image_id);
        let text = serde_json::to_vec_pretty(record).expect("plain data");
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        std::io::Write::write_all(&mut tmp, &text)?;
        tmp.persist(&path).map_err(|e| e.error)?;
        Ok(())
    }
}

/// The first 16 hex of the sha256 of the Dockerfile's instructions: comment
/// and blank lines left out, parser directives (`# syntax=`, `# escape=` before
/// the first instruction) kept. A Dockerfile with a heredoc is hashed whole
/// (a `#` line there is content, not a comment).
pub fn instructions_hash(dockerfile: &str) -> String {
    if dockerfile.contains("<<") {
        return hash(&[dockerfile.as_bytes()])[..16].to_string();
    }
    let mut kept = String::new();
    let mut header = true;
    for line in dockerfile.lines() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if let Some(c) = t.strip_prefix('#') {
            if header && is_directive(c) {
                kept.push_str(t);
                kept.push('\n');
            }
            continue;
        }
        header = false;
        kept.push_str(line.trim_end());
        kept.push('\n');
    }
    hash(&[kept.as_bytes()])[..16].to_string()
}

/// `syntax=…`, `escape=…`, `check=…` after the `#` of a first line.
fn is_directive(comment: &str) -> bool {
    comment.split_once('=').is_some_and(|(k, _)| {
        let k = k.trim().to_ascii_lowercase();
        k == "syntax" || k == "escape" || k == "check"
    })
}

/// A temporary records folder for unit tests.
#[cfg(test)]
pub fn temp() -> (tempfile::TempDir, Records) {
    let d = tempfile::tempdir().unwrap();
    let r = Records {
        dir: d.path().join("build"),
    };
    (d, r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_blank_lines_are_not_instructions() {
        let a = instructions_hash("FROM x\nRUN a \\\n  b\n");
        assert_eq!(
            a,
            instructions_hash("# top\nFROM x\n\n# why\nRUN a \\\n  b   \n")
        );
        assert_ne!(a, instructions_hash("FROM x\nRUN a \\\n  c\n"));
        // Parser directives change how the file is read.
        assert_ne!(
            a,
            instructions_hash("# syntax=docker/dockerfile:1\nFROM x\nRUN a \\\n  b\n")
        );
        assert_ne!(a, instructions_hash("# escape=`\nFROM x\nRUN a \\\n  b\n"));
        // A heredoc's `#` lines are content.
        assert_ne!(
            instructions_hash("FROM x\nRUN <<EOT\n# a\nEOT\n"),
            instructions_hash("FROM x\nRUN <<EOT\n# b\nEOT\n")
        );
    }

    #[test]
    fn a_record_is_read_back_only_for_its_repository_and_image() {
        let (_d, records) = temp();
        let inputs = Inputs {
            parts: BTreeMap::from([("Dockerfile".to_string(), "ab".repeat(32))]),
            digest: format!("sha256:{}", "cd".repeat(32)),
        };
        let r = Record::new(
            "localhost:5000/o/kid",
            "sha256:1111",
            &inputs,
            "FROM x\n",
            Some(("base", "sha256:2222")),
        );
        assert_eq!(records.get("localhost:5000/o/kid", "sha256:1111"), None);
        records.put(&r).unwrap();
        assert_eq!(
            records.get("localhost:5000/o/kid", "sha256:1111"),
            Some(r.clone())
        );
        assert_eq!(records.get("localhost:5000/p/kid", "sha256:1111"), None);
        assert_eq!(records.get("localhost:5000/o/kid", "sha256:3333"), None);
        assert_eq!(r.parts["Dockerfile"], "ab".repeat(8));
        // A file that is not a record is ignored, and replaced by the next put.
        std::fs::write(records.path("localhost:5000/o/kid", "sha256:1111"), "{").unwrap();
        assert_eq!(records.get("localhost:5000/o/kid", "sha256:1111"), None);
        records.put(&r).unwrap();
        assert!(records.get("localhost:5000/o/kid", "sha256:1111").is_some());
        let left: Vec<_> = std::fs::read_dir(&records.dir).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file left");
    }
}
