//! Answering a query from the catalog: the builds whose packages (and
//! tagger values, and own fields) satisfy every term, newest first.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde::Serialize;

use super::spec::{self, Term};
use super::{shard_file, BuildEntry, CatalogError, Shard, Source, Top, BUILDS, NAMES};

#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Constraints as typed (`numpy=1.26`, `python>=3.11`, `numpy 1.26`).
    pub words: Vec<String>,
    /// `--package NAME`: has the package, its version shown.
    pub package: Option<String>,
    pub image: Option<String>,
    pub platform: Option<String>,
    pub variant: Option<String>,
    /// Only the oldest matching build.
    pub first: bool,
    /// At most this many builds (0: all).
    pub limit: usize,
}

/// One term's match in a build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Match {
    /// The term as read (`numpy=1.26`).
    pub term: String,
    pub name: String,
    pub manager: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Found {
    #[serde(flatten)]
    pub build: BuildEntry,
    /// `name:tag`, or `name@sha256:...` when the digest is known.
    pub reference: String,
    /// The build's page: the site's HTML page, or the manifest in the wiki.
    pub link: String,
    pub matched: Vec<Match>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Answer {
    /// Where the catalog was read.
    pub catalog: String,
    pub terms: Vec<String>,
    /// Matching builds in the catalog (before --first and --limit).
    pub total: usize,
    /// Builds in the catalog.
    pub searched: usize,
    pub builds: Vec<Found>,
    /// Why nothing matched, when a name is in no build (`did you mean`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// The terms of a query, with `--package`, `--image`, ... as terms.
pub fn terms(q: &Query, top: &Top) -> Result<Vec<Term>, CatalogError> {
    let mut words = q.words.clone();
    if let Some(p) = &q.package {
        words.push(p.clone());
    }
    for (field, value) in [
        ("image", &q.image),
        ("platform", &q.platform),
        ("variant", &q.variant),
    ] {
        if let Some(v) = value {
            words.push(format!("{field}={v}"));
        }
    }
    let terms = spec::parse(&words, &top.managers).map_err(CatalogError::BadQuery)?;
    if terms.is_empty() {
        return Err(CatalogError::NoConstraint);
    }
    Ok(terms)
}

/// What a term matched in one month: build id to the match.
fn matches(term: &Term, shard: &Shard) -> BTreeMap<u32, Match> {
    let mut out = BTreeMap::new();
    let Some(managers) = shard.get(&term.key) else {
        return out;
    };
    for (manager, versions) in managers {
        for (version, ids) in versions {
            if term.accepts(manager, version) {
                for id in ids {
                    // The first manager (in name order) that matches a build is shown.
                    out.entry(*id).or_insert_with(|| Match {
                        term: term.to_string(),
                        name: term.key.clone(),
                        manager: manager.clone(),
                        version: version.clone(),
                    });
                }
            }
        }
    }
    out
}

pub async fn find(source: &Source, top: &Top, q: &Query) -> Result<Answer, CatalogError> {
    let terms = terms(q, top)?;
    let mut hits: Vec<(usize, u32, Vec<Match>)> = Vec::new();
    let mut shards: HashMap<String, Shard> = HashMap::new();
    for (mi, month) in top.months.iter().enumerate() {
        if month.builds == 0 {
            continue;
        }
        let mut found: Option<BTreeMap<u32, Vec<Match>>> = None;
        for term in &terms {
            let file = shard_file(&month.month, super::bucket(&term.key, top.buckets));
            if !shards.contains_key(&file) {
                let shard: Shard = source.json(&file).await?;
                shards.insert(file.clone(), shard);
            }
            let m = matches(term, &shards[&file]);
            found = Some(match found {
                None => m.into_iter().map(|(id, x)| (id, vec![x])).collect(),
                Some(mut acc) => {
                    acc.retain(|id, _| m.contains_key(id));
                    for (id, v) in acc.iter_mut() {
                        v.push(m[id].clone());
                    }
                    acc
                }
            });
            if found.as_ref().is_some_and(BTreeMap::is_empty) {
                break;
            }
        }
        // Newest first: a month's ids are in time order.
        for (id, m) in found.unwrap_or_default().into_iter().rev() {
            hits.push((mi, id, m));
        }
        shards.retain(|k, _| !k.starts_with(&month.month));
    }
    let total = hits.len();
    if q.first {
        hits = hits.pop().into_iter().collect();
    }
    if q.limit > 0 {
        hits.truncate(q.limit);
    }
    let mut builds_of: BTreeMap<usize, Vec<BuildEntry>> = BTreeMap::new();
    let mut out = Vec::new();
    for (mi, id, matched) in hits {
        let month = &top.months[mi];
        if let std::collections::btree_map::Entry::Vacant(slot) = builds_of.entry(mi) {
            let file = format!("{}/{BUILDS}", month.month);
            let list: Vec<BuildEntry> = source.json(&file).await?;
            if list.len() != month.builds {
                return Err(CatalogError::Corrupt {
                    place: source.place(),
                    file,
                    why: format!(
                        "{} builds, but {} lists {}",
                        list.len(),
                        super::TOP,
                        month.builds
                    ),
                });
            }
            slot.insert(list);
        }
        let Some(build) = builds_of[&mi].get(id as usize).cloned() else {
            return Err(CatalogError::Corrupt {
                place: source.place(),
                file: format!("{}/{BUILDS}", month.month),
                why: format!("a package shard names build {id}, which it does not have"),
            });
        };
        out.push(Found {
            reference: build.reference(),
            link: link(source, &build),
            matched,
            build,
        });
    }
    let hint = if total == 0 {
        hint(source, &terms).await?
    } else {
        None
    };
    Ok(Answer {
        catalog: source.place(),
        terms: terms.iter().map(Term::to_string).collect(),
        total,
        searched: top.builds,
        builds: out,
        hint,
    })
}

/// The build's page: `{site}/{page}.html` beside a site's catalog, else the
/// manifest in the wiki checkout.
fn link(source: &Source, b: &BuildEntry) -> String {
    match source {
        Source::Url(base, _) => {
            let site = base
                .strip_suffix(&format!("{}/", super::SITE_DIR))
                .unwrap_or(base);
            format!("{site}{}.html", b.page)
        }
        Source::Dir(dir) => {
            let parent = dir.parent().unwrap_or(Path::new("."));
            if parent.join("index.html").is_file() {
                parent
                    .join(format!("{}.html", b.page))
                    .display()
                    .to_string()
            } else {
                // .stacktag/catalog in a wiki checkout.
                let wiki = parent.parent().unwrap_or(Path::new("."));
                wiki.join(&b.manifest).display().to_string()
            }
        }
    }
}

/// A name no build has, and the names close to it.
async fn hint(source: &Source, terms: &[Term]) -> Result<Option<String>, CatalogError> {
    let names: BTreeMap<String, BTreeSet<String>> = source.json(NAMES).await?;
    for t in terms {
        let known = names
            .get(&t.key)
            .is_some_and(|m| t.manager.as_ref().is_none_or(|want| m.contains(want)));
        if known {
            continue;
        }
        let mut close: Vec<(f64, &String)> = names
            .keys()
            .map(|n| (strsim::jaro_winkler(n, &t.key), n))
            .filter(|(s, _)| *s > 0.85)
            .collect();
        close.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        let close: Vec<&str> = close.iter().take(3).map(|(_, n)| n.as_str()).collect();
        let what = match &t.manager {
            Some(m) => format!("no build has a {m} package `{}`", t.name),
            None => format!("no build has a package or tagger value `{}`", t.name),
        };
        return Ok(Some(if close.is_empty() {
            what
        } else {
            format!("{what}; did you mean {}?", close.join(", "))
        }));
    }
    Ok(None)
}
