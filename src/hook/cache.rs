//! The hook's cache: each command's output kept on disk, keyed by (image ID,
//! networking, command). An image ID names immutable content, so a re-run on
//! an unchanged image needs no container at all. An entry that cannot be
//! read, or is not what its key says, is ignored and rewritten, never trusted
//! half; entries are written to a temporary file and renamed into place.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::plugin::command::{Cmd, Output};

/// Bump when the entry format changes: old entries are then ignored.
const VERSION: u32 = 1;

/// stacktag's folder of the machine's caches: `$XDG_CACHE_HOME/stacktag`,
/// else `~/.cache/stacktag`.
pub fn cache_home() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
        .unwrap_or_else(|| std::env::temp_dir().join("stacktag-cache"));
    base.join("stacktag")
}

#[derive(Debug, Clone)]
pub struct DiskCache {
    pub dir: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    version: u32,
    image_id: String,
    network: bool,
    command: Vec<String>,
    stdout: String,
    stderr: String,
    exit_code: i64,
}

impl DiskCache {
    /// `$XDG_CACHE_HOME/stacktag/hook`, else `~/.cache/stacktag/hook`.
    pub fn default_dir() -> PathBuf {
        cache_home().join("hook")
    }

    fn path(&self, image_id: &str, network: bool, cmd: &Cmd) -> PathBuf {
        let image = image_id.strip_prefix("sha256:").unwrap_or(image_id);
        let mut h = Sha256::new();
        h.update(if network {
            b"net\0" as &[u8]
        } else {
            b"nonet\0"
        });
        for a in &cmd.0 {
            h.update(a.as_bytes());
            h.update(b"\0");
        }
        self.dir
            .join(image)
            .join(format!("{}.json", hex::encode(h.finalize())))
    }

    /// The kept output of `cmd` on the image, if a whole, matching entry exists.
    pub fn get(&self, image_id: &str, network: bool, cmd: &Cmd) -> Option<Output> {
        let text = std::fs::read(self.path(image_id, network, cmd)).ok()?;
        let e: Entry = serde_json::from_slice(&text).ok()?;
        (e.version == VERSION
            && e.image_id == image_id
            && e.network == network
            && e.command == cmd.0)
            .then_some(Output {
                stdout: e.stdout,
                stderr: e.stderr,
                exit_code: e.exit_code,
            })
    }

    /// Keeps `out`; a failure to write is the caller's warning, not an
    /// error (the run has its output already).
    pub fn put(
        &self,
        image_id: &str,
        network: bool,
        cmd: &Cmd,
        out: &Output,
    ) -> Result<(), String> {
        let path = self.path(image_id, network, cmd);
        let entry = Entry {
            version: VERSION,
            image_id: image_id.to_string(),
            network,
            command: cmd.0.clone(),
            stdout: out.stdout.clone(),
            stderr: out.stderr.clone(),
            exit_code: out.exit_code,
        };
        let tmp = path.with_extension(format!("{}.tmp", std::process::id()));
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|_| std::fs::write(&tmp, serde_json::to_vec(&entry).expect("plain data")))
            .and_then(|_| std::fs::rename(&tmp, &path));
        written.map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            format!(
                "could not keep the output of `{cmd}` in the cache {}: {e}",
                self.dir.display()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_a_broken_one_is_ignored() {
        let d = tempfile::tempdir().unwrap();
        let c = DiskCache {
            dir: d.path().to_path_buf(),
        };
        let cmd = Cmd::new(&["python", "--version"]);
        let out = Output {
            stdout: "Python 3.11.2\n".into(),
            stderr: String::new(),
            exit_code: 0,
        };
        assert_eq!(c.get("sha256:ab", false, &cmd), None);
        c.put("sha256:ab", false, &cmd, &out).unwrap();
        assert_eq!(c.get("sha256:ab", false, &cmd), Some(out.clone()));
        assert_eq!(
            c.get("sha256:ab", true, &cmd),
            None,
            "networking is part of the key"
        );
        assert_eq!(c.get("sha256:cd", false, &cmd), None);
        // Cut short: ignored, then rewritten whole.
        let path = c.path("sha256:ab", false, &cmd);
        let text = std::fs::read(&path).unwrap();
        std::fs::write(&path, &text[..text.len() / 2]).unwrap();
        assert_eq!(c.get("sha256:ab", false, &cmd), None);
        c.put("sha256:ab", false, &cmd, &out).unwrap();
        assert_eq!(c.get("sha256:ab", false, &cmd), Some(out));
    }
}
