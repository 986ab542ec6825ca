//! Where a catalog is read from: a directory (a wiki checkout, a rendered
//! site, or the catalog folder itself) or a published site's URL.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;

use super::{dir_in, CatalogError, Top, FORMAT, TOP};

#[derive(Debug, Clone)]
pub enum Source {
    /// The catalog folder (holding `catalog.json`).
    Dir(PathBuf),
    /// The URL of the catalog folder, ending with `/`.
    Url(String, reqwest::Client),
}

impl Source {
    /// Finds the catalog at `place`: a URL (`http://`, `https://`) of a
    /// site or its `catalog/`, or a directory: a wiki checkout, a site, or
    /// the catalog itself.
    pub async fn locate(place: &str) -> Result<(Source, Top), CatalogError> {
        if place.starts_with("http://") || place.starts_with("https://") {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let client = reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .timeout(Duration::from_secs(60))
                .build()
                .map_err(|e| CatalogError::Missing {
                    wiki_dir: super::WIKI_DIR,
                    place: place.into(),
                    why: format!("no HTTP client: {e}"),
                })?;
            let base = place.trim_end_matches('/').trim_end_matches("/index.html");
            let mut why = Vec::new();
            for dir in [format!("{base}/{}/", super::SITE_DIR), format!("{base}/")] {
                let source = Source::Url(dir.clone(), client.clone());
                match source.get(TOP).await {
                    Ok(Some(bytes)) => {
                        let top = parse_top(&source, &bytes)?;
                        return Ok((source, top));
                    }
                    Ok(None) => why.push(format!("{dir}{TOP}: 404")),
                    Err(e) => why.push(e),
                }
            }
            return Err(CatalogError::Missing {
                wiki_dir: super::WIKI_DIR,
                place: place.into(),
                why: why.join("; "),
            });
        }
        let root = Path::new(place);
        if !root.is_dir() {
            return Err(CatalogError::Missing {
                wiki_dir: super::WIKI_DIR,
                place: place.into(),
                why: "no such directory".into(),
            });
        }
        for dir in dir_in(root) {
            if dir.join(TOP).is_file() {
                let source = Source::Dir(dir);
                let bytes = source.get(TOP).await.map_err(|why| CatalogError::Missing {
                    wiki_dir: super::WIKI_DIR,
                    place: place.into(),
                    why,
                })?;
                let top = parse_top(&source, &bytes.unwrap_or_default())?;
                return Ok((source, top));
            }
        }
        Err(CatalogError::Missing {
            wiki_dir: super::WIKI_DIR,
            place: place.into(),
            why: format!(
                "none of {}/{TOP}, {}/{}/{TOP}, {}/{}/{TOP}",
                root.display(),
                root.display(),
                super::SITE_DIR,
                root.display(),
                super::WIKI_DIR
            ),
        })
    }

    /// Where the catalog is, for messages.
    pub fn place(&self) -> String {
        match self {
            Source::Dir(d) => d.display().to_string(),
            Source::Url(u, _) => u.clone(),
        }
    }

    /// A file's bytes; `None` when it is not there.
    pub async fn get(&self, file: &str) -> Result<Option<Vec<u8>>, String> {
        match self {
            Source::Dir(d) => match std::fs::read(d.join(file)) {
                Ok(b) => Ok(Some(b)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(format!("{}: {e}", d.join(file).display())),
            },
            Source::Url(base, client) => {
                let url = format!("{base}{file}");
                let resp = client
                    .get(&url)
                    .send()
                    .await
                    .map_err(|e| format!("{url}: {}", causes(&e)))?;
                if resp.status() == reqwest::StatusCode::NOT_FOUND {
                    return Ok(None);
                }
                if !resp.status().is_success() {
                    return Err(format!("{url}: HTTP {}", resp.status()));
                }
                let bytes = resp.bytes().await.map_err(|e| format!("{url}: {e}"))?;
                Ok(Some(bytes.to_vec()))
            }
        }
    }

    /// A file of the catalog, parsed; missing or malformed is a corrupt catalog.
    pub async fn json<T: DeserializeOwned>(&self, file: &str) -> Result<T, CatalogError> {
        let corrupt = |why: String| CatalogError::Corrupt {
            place: self.place(),
            file: file.to_string(),
            why,
        };
        let bytes = self
            .get(file)
            .await
            .map_err(corrupt)?
            .ok_or_else(|| corrupt("missing (the catalog lists it)".into()))?;
        serde_json::from_slice(&bytes).map_err(|e| corrupt(format!("not the expected JSON: {e}")))
    }
}

fn parse_top(source: &Source, bytes: &[u8]) -> Result<Top, CatalogError> {
    let top: Top = serde_json::from_slice(bytes).map_err(|e| CatalogError::Corrupt {
        place: source.place(),
        file: TOP.into(),
        why: format!("not the expected JSON: {e}"),
    })?;
    if top.format != FORMAT || top.buckets == 0 {
        return Err(CatalogError::Corrupt {
            place: source.place(),
            file: TOP.into(),
            why: format!(
                "format {} with {} buckets; this stacktag reads format {FORMAT}",
                top.format, top.buckets
            ),
        });
    }
    Ok(top)
}

/// An error with its causes, on one line ("tcp connect error: Connection refused").
fn causes(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        parts.push(s.to_string());
        cur = s.source();
    }
    parts.join(": ")
}
