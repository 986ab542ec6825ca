//! One `stacktag wiki` at a time per wiki. The lock is an OS file lock
//! (`flock`), so a crashed run never leaves it held. It lives in the wiki's
//! git directory when there is one (like git's own locks, never committed),
//! else in `.stacktag/`.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::error::WikiError;
use super::layout::INDEX_DIR;
use crate::error::Error;

pub struct Lock {
    _file: File,
}

/// Where the lock of the wiki at `wiki` is.
pub fn path(wiki: &Path) -> PathBuf {
    match git2::Repository::open(wiki) {
        Ok(repo) => repo.path().join("stacktag-wiki.lock"),
        Err(_) => wiki.join(INDEX_DIR).join("lock"),
    }
}

impl Lock {
    /// Takes the lock, waiting up to `wait` for another run to finish.
    pub fn acquire(
        wiki: &Path,
        wait: Duration,
        warn: &mut dyn FnMut(String),
    ) -> Result<Lock, Error> {
        let path = path(wiki);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        let started = Instant::now();
        let mut told = false;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) => {
                    let holder = holder(&mut file);
                    if started.elapsed() >= wait {
                        return Err(WikiError::Locked {
                            wiki: wiki.into(),
                            lock: path,
                            holder,
                            waited: if wait.is_zero() {
                                String::new()
                            } else {
                                format!("; waited {}s", wait.as_secs())
                            },
                        }
                        .into());
                    }
                    if !told {
                        warn(format!(
                            "the wiki is being updated by another stacktag{holder}; waiting up to {}s",
                            wait.as_secs()
                        ));
                        told = true;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(TryLockError::Error(e)) => return Err(Error::io(&path, e)),
            }
        }
        // Who holds it, for the message of the run that has to wait.
        let _ = file
            .set_len(0)
            .and_then(|_| file.rewind())
            .and_then(|_| write!(file, "{}", std::process::id()))
            .and_then(|_| file.flush());
        Ok(Lock { _file: file })
    }
}

fn holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.rewind().and_then(|_| file.read_to_string(&mut text));
    match text.trim().parse::<u32>() {
        Ok(pid) => format!(" (pid {pid})"),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_then_granted() {
        let dir = tempfile::tempdir().unwrap();
        let first = Lock::acquire(dir.path(), Duration::ZERO, &mut |_| {}).unwrap();
        // A second open file description conflicts with the first, even in one process.
        let err = Lock::acquire(dir.path(), Duration::from_millis(300), &mut |_| {})
            .err()
            .unwrap();
        let text = err.to_string();
        assert!(text.contains("being updated by another stacktag"), "{text}");
        assert!(
            text.contains(&format!("pid {}", std::process::id())),
            "{text}"
        );
        drop(first);
        Lock::acquire(dir.path(), Duration::ZERO, &mut |_| {}).unwrap();
    }
}
