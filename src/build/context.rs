//! The build context: the files of the context directory that
//! `.dockerignore` keeps (path, mode, content hashed), and the tar of them
//! that goes to the daemon, made in-process.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use super::error::BuildError;
use super::ignore::Ignore;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink(PathBuf),
}

/// One entry of the context.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Relative to the context, `/`-separated.
    pub path: String,
    pub kind: Kind,
    /// Permission bits (`0o7777`).
    pub mode: u32,
    pub mtime: u64,
    /// sha256 (hex) of kind, mode and content (or link target).
    pub hash: String,
}

#[derive(Debug, Clone)]
pub struct Context {
    pub dir: PathBuf,
    /// The Dockerfile, relative to the context, `/`-separated.
    pub dockerfile: String,
    pub dockerfile_text: String,
    /// Sorted by path; the Dockerfile is among them (always sent).
    pub entries: Vec<Entry>,
}

impl Context {
    /// Reads the context `dir` of `image` with its Dockerfile `dockerfile`
    /// (relative to `dir`).
    pub fn scan(image: &str, dir: &Path, dockerfile: &Path) -> Result<Context, BuildError> {
        if !dir.is_dir() {
            return Err(BuildError::NoContext {
                image: image.into(),
                dir: dir.to_path_buf(),
            });
        }
        if dockerfile.is_absolute()
            || dockerfile
                .components()
                .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Err(BuildError::NoDockerfile {
                image: image.into(),
                path: dir.join(dockerfile),
                why: "the Dockerfile must be inside the context".into(),
            });
        }
        let df_path = dir.join(dockerfile);
        let dockerfile_text =
            std::fs::read_to_string(&df_path).map_err(|e| BuildError::NoDockerfile {
                image: image.into(),
                path: df_path.clone(),
                why: e.to_string(),
            })?;
        let dockerfile = slash_path(dockerfile);
        let ignore_path = dir.join(".dockerignore");
        let ignore = match std::fs::read_to_string(&ignore_path) {
            Ok(text) => Ignore::parse(&text).map_err(|message| BuildError::BadIgnore {
                image: image.into(),
                path: ignore_path.clone(),
                message,
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ignore::default(),
            Err(e) => {
                return Err(BuildError::Io {
                    path: ignore_path,
                    source: e,
                })
            }
        };
        let mut entries = Vec::new();
        walk(dir, "", &ignore, &dockerfile, &mut entries)?;
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Context {
            dir: dir.to_path_buf(),
            dockerfile,
            dockerfile_text,
            entries,
        })
    }

    /// The context as a tar, as the docker CLI sends it (owner 0:0).
    pub fn tar(&self) -> Result<Vec<u8>, BuildError> {
        let mut b = tar::Builder::new(Vec::new());
        let io = |path: &Path, source: std::io::Error| BuildError::Io {
            path: path.to_path_buf(),
            source,
        };
        for e in &self.entries {
            let abs = self.dir.join(&e.path);
            let mut h = tar::Header::new_gnu();
            h.set_mode(e.mode);
            h.set_mtime(e.mtime);
            h.set_uid(0);
            h.set_gid(0);
            match &e.kind {
                Kind::File => {
                    let data = std::fs::read(&abs).map_err(|err| io(&abs, err))?;
                    h.set_entry_type(tar::EntryType::Regular);
                    h.set_size(data.len() as u64);
                    b.append_data(&mut h, &e.path, data.as_slice())
                        .map_err(|err| io(&abs, err))?;
                }
                Kind::Dir => {
                    h.set_entry_type(tar::EntryType::Directory);
                    h.set_size(0);
                    b.append_data(&mut h, format!("{}/", e.path), std::io::empty())
                        .map_err(|err| io(&abs, err))?;
                }
                Kind::Symlink(target) => {
                    h.set_entry_type(tar::EntryType::Symlink);
                    h.set_size(0);
                    b.append_link(&mut h, &e.path, target)
                        .map_err(|err| io(&abs, err))?;
                }
            }
        }
        b.into_inner().map_err(|err| io(&self.dir, err))
    }

    /// The names the Dockerfile declares with `ARG`.
    pub fn declared_args(&self) -> Vec<String> {
        declared_args(&self.dockerfile_text)
    }
}

fn slash_path(p: &Path) -> String {
    p.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn walk(
    dir: &Path,
    rel: &str,
    ignore: &Ignore,
    dockerfile: &str,
    out: &mut Vec<Entry>,
) -> Result<(), BuildError> {
    let here = if rel.is_empty() {
        dir.to_path_buf()
    } else {
        dir.join(rel)
    };
    let io = |path: &Path, source: std::io::Error| BuildError::Io {
        path: path.to_path_buf(),
        source,
    };
    let listing = std::fs::read_dir(&here).map_err(|e| io(&here, e))?;
    for item in listing {
        let item = item.map_err(|e| io(&here, e))?;
        let name = item.file_name().to_string_lossy().into_owned();
        let path = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let abs = item.path();
        let meta = std::fs::symlink_metadata(&abs).map_err(|e| io(&abs, e))?;
        // Like the CLI: the Dockerfile and .dockerignore are sent whatever the patterns say.
        let always = path == dockerfile || path == ".dockerignore";
        let excluded = !always && ignore.excludes(&path);
        let mode = meta.permissions().mode() & 0o7777;
        let mtime = meta.mtime().max(0) as u64;
        let ft = meta.file_type();
        if ft.is_dir() {
            if excluded && !ignore.has_exclusions() {
                continue;
            }
            if !excluded {
                out.push(Entry {
                    hash: hash(&[b"dir\0", format!("{mode:o}").as_bytes()]),
                    path: path.clone(),
                    kind: Kind::Dir,
                    mode,
                    mtime,
                });
            }
            walk(dir, &path, ignore, dockerfile, out)?;
        } else if excluded {
            continue;
        } else if ft.is_symlink() {
            let target = std::fs::read_link(&abs).map_err(|e| io(&abs, e))?;
            out.push(Entry {
                hash: hash(&[b"link\0", target.to_string_lossy().as_bytes()]),
                path,
                kind: Kind::Symlink(target),
                mode,
                mtime,
            });
        } else if ft.is_file() {
            let data = std::fs::read(&abs).map_err(|e| io(&abs, e))?;
            out.push(Entry {
                hash: hash(&[b"file\0", format!("{mode:o}\0").as_bytes(), &data]),
                path,
                kind: Kind::File,
                mode,
                mtime,
            });
        }
        // Sockets, fifos and devices are not part of a context.
    }
    Ok(())
}

pub(crate) fn hash(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    hex::encode(h.finalize())
}

/// `ARG NAME` and `ARG NAME=default` lines (continuations joined, any case).
fn declared_args(dockerfile: &str) -> Vec<String> {
    let joined = dockerfile.replace("\\\r\n", " ").replace("\\\n", " ");
    let mut out = Vec::new();
    for line in joined.lines() {
        let mut words = line.split_whitespace();
        if !words.next().is_some_and(|w| w.eq_ignore_ascii_case("ARG")) {
            continue;
        }
        for w in words {
            let name = w.split('=').next().unwrap_or(w);
            if !name.is_empty() && !out.iter().any(|o| o == name) {
                out.push(name.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_the_dockerfile_declares() {
        let df =
            "ARG REGISTRY=localhost:5000\narg OWNER\nARG A=1 \\\n  B\nFROM x\nRUN echo ARG C\n";
        assert_eq!(declared_args(df), ["REGISTRY", "OWNER", "A", "B"]);
    }

    #[test]
    fn scan_keeps_what_dockerignore_keeps_and_always_the_dockerfile() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        std::fs::write(p.join("Dockerfile"), "FROM scratch\n").unwrap();
        std::fs::write(p.join(".dockerignore"), "Dockerfile\n*.log\ncache\n").unwrap();
        std::fs::write(p.join("a.txt"), "a").unwrap();
        std::fs::write(p.join("b.log"), "b").unwrap();
        std::fs::create_dir(p.join("cache")).unwrap();
        std::fs::write(p.join("cache/x"), "x").unwrap();
        std::os::unix::fs::symlink("a.txt", p.join("link")).unwrap();
        let c = Context::scan("img", p, Path::new("Dockerfile")).unwrap();
        let paths: Vec<&str> = c.entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, [".dockerignore", "Dockerfile", "a.txt", "link"]);
        let tar = c.tar().unwrap();
        let mut names = Vec::new();
        for e in tar::Archive::new(tar.as_slice()).entries().unwrap() {
            let e = e.unwrap();
            names.push(e.path().unwrap().display().to_string());
            assert_eq!(e.header().uid().unwrap(), 0);
        }
        assert_eq!(names, paths);
    }

    #[test]
    fn missing_context_and_dockerfile_name_the_image() {
        let e = Context::scan(
            "img",
            Path::new("/nonexistent/ctx"),
            Path::new("Dockerfile"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("img"), "{e}");
        let d = tempfile::tempdir().unwrap();
        let e = Context::scan("img", d.path(), Path::new("Dockerfile")).unwrap_err();
        assert!(e.to_string().contains("Dockerfile"), "{e}");
        let e = Context::scan("img", d.path(), Path::new("../Dockerfile")).unwrap_err();
        assert!(e.to_string().contains("inside the context"), "{e}");
    }
}
