//! One build log per image: the daemon's build output and the verify
//! command's, with the values of unhashed build args (tokens) blotted out.
//! Written under `{name}.{pid}.part` and renamed when the build ends, so a log
//! under its final name is always whole.

use std::collections::VecDeque;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::error::BuildError;

const KEEP: usize = 200;

pub struct BuildLog {
    path: PathBuf,
    part: PathBuf,
    file: Option<File>,
    secrets: Vec<String>,
    last: VecDeque<String>,
    /// An unfinished line of the stream.
    pending: String,
}

impl BuildLog {
    /// A new log at `path` (replacing the last run's when it ends).
    pub fn create(path: &Path, secrets: Vec<String>) -> Result<BuildLog, BuildError> {
        Self::open(path, secrets, false)
    }

    /// The log at `path`, continued (a re-verify of a reused image).
    pub fn append(path: &Path) -> Result<BuildLog, BuildError> {
        Self::open(path, Vec::new(), true)
    }

    fn open(path: &Path, secrets: Vec<String>, append: bool) -> Result<BuildLog, BuildError> {
        let io = |source| BuildError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        // One per process: two runs on the same directory do not share it.
        let mut part = path.as_os_str().to_owned();
        part.push(format!(".{}.part", std::process::id()));
        let part = PathBuf::from(part);
        if append && path.exists() {
            std::fs::copy(path, &part).map_err(io)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(&part)
            .map_err(io)?;
        Ok(BuildLog {
            path: path.to_path_buf(),
            part,
            file: Some(file),
            secrets,
            last: VecDeque::new(),
            pending: String::new(),
        })
    }

    /// `text` with every secret value replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.secrets {
            out = out.replace(s.as_str(), "***");
        }
        out
    }

    pub fn write(&mut self, text: &str) -> Result<(), BuildError> {
        let text = self.redact(text);
        self.pending.push_str(&text);
        while let Some(i) = self.pending.find('\n') {
            let line: String = self.pending.drain(..=i).collect();
            self.last.push_back(line.trim_end().to_string());
            if self.last.len() > KEEP {
                self.last.pop_front();
            }
        }
        if let Some(f) = self.file.as_mut() {
            f.write_all(text.as_bytes())
                .map_err(|source| BuildError::Io {
                    path: self.part.clone(),
                    source,
                })?;
        }
        Ok(())
    }

    /// The last `n` lines written, indented for an error message.
    pub fn tail(&self, n: usize) -> String {
        let mut lines: Vec<&str> = self.last.iter().map(String::as_str).collect();
        if !self.pending.is_empty() {
            lines.push(&self.pending);
        }
        lines[lines.len().saturating_sub(n)..]
            .iter()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Puts the log under its final name.
    pub fn finish(mut self) -> Result<PathBuf, BuildError> {
        self.close()
    }

    fn close(&mut self) -> Result<PathBuf, BuildError> {
        if let Some(mut f) = self.file.take() {
            let io = |source| BuildError::Io {
                path: self.path.clone(),
                source,
            };
            f.flush().map_err(io)?;
            drop(f);
            std::fs::rename(&self.part, &self.path).map_err(io)?;
        }
        Ok(self.path.clone())
    }
}

impl Drop for BuildLog {
    /// A run stopped mid-build still leaves the log of what it did.
    fn drop(&mut self) {
        let _ = self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_reach_the_log_and_the_tail_is_kept() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("logs/x.log");
        let mut log = BuildLog::create(&path, vec!["s3cr3t".into()]).unwrap();
        log.write("Step 1/2 : FROM x\n").unwrap();
        log.write("token is s3cr3t\nno newline").unwrap();
        assert!(!path.exists(), "only the .part file while it is written");
        assert_eq!(log.tail(2), "    token is ***\n    no newline");
        log.finish().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "Step 1/2 : FROM x\ntoken is ***\nno newline");
        let mut again = BuildLog::append(&path).unwrap();
        again.write("\nmore\n").unwrap();
        drop(again);
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .ends_with("no newline\nmore\n"));
    }
}
