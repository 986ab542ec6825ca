//! The wiki as a static HTML site (comrak): one `{page}.html` per page,
//! `index.html` for Home, and a stylesheet.
//!
//! GitHub finds a wiki page by its name whatever its folder, so
//! `./2026-11` and `./x86_64-default-base-notebook-<sha>` work from any
//! page; here every page is written flat under its name, and such links
//! are rewritten to `{name}.html`. Raw HTML is not rendered (comrak's safe
//! mode): container output in a manifest shows as text and never runs.
//! The one tag allowed through is `<br />`, which history rows use to
//! break lines in a table cell, as GitHub's sanitizer allows it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use comrak::nodes::NodeValue;
use comrak::{format_html, parse_document, Arena, Options};

use super::layout::files_with_ext;
use crate::error::Error;

pub const STYLESHEET: &str = include_str!("site.css");

/// What `render` did (`wiki --html --format json` prints it as it is).
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct SiteReport {
    pub out: PathBuf,
    /// `{out}/index.html`.
    pub index: PathBuf,
    pub pages: usize,
    /// Builds in the site's catalog (its search page).
    #[serde(skip)]
    pub catalog_builds: usize,
    /// Relative links to pages the wiki does not have (manifests pruned
    /// from old months, most often).
    pub broken_links: usize,
    #[schemars(with = "crate::formats::schema::Seconds")]
    pub seconds: f64,
}

impl fmt::Display for SiteReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "site {}: {} rendered, {} searchable ({} to pages the wiki no longer has); {:.2}s; open {}",
            self.out.display(),
            crate::hook::progress::counted(self.pages, "page"),
            crate::hook::progress::counted(self.catalog_builds, "build"),
            crate::hook::progress::counted(self.broken_links, "link"),
            self.seconds,
            self.index.display()
        )
    }
}

/// The HTML file of a page name.
fn file_of(name: &str) -> String {
    if name == "Home" {
        "index.html".into()
    } else {
        format!("{name}.html")
    }
}

/// Renders every page of the wiki into `out`, replacing what was there.
pub fn render(wiki: &Path, out: &Path, warn: &mut dyn FnMut(String)) -> Result<SiteReport, Error> {
    let started = Instant::now();
    let mut names: BTreeMap<String, PathBuf> = BTreeMap::new();
    for path in files_with_ext(wiki, ".md").map_err(|e| Error::io(wiki, e))? {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        // Like GitHub, one page per name: the first path in sorted order.
        names.entry(name).or_insert(path);
    }
    let known: Arc<BTreeMap<String, String>> =
        Arc::new(names.keys().map(|n| (n.clone(), file_of(n))).collect());
    let broken = Arc::new(AtomicUsize::new(0));

    let mut options = Options::default();
    options.extension.table = true;
    options.extension.strikethrough = true;
    options.extension.autolink = true;
    options.render.r#unsafe = false;
    let (k, b) = (known.clone(), broken.clone());
    options.extension.link_url_rewriter = Some(Arc::new(move |url: &str| rewrite(url, &k, &b)));

    let tmp = sibling(out, "new");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    let write = |file: &str, text: &str| {
        let path = tmp.join(file);
        std::fs::write(&path, text).map_err(|e| Error::io(&path, e))
    };
    write("style.css", STYLESHEET)?;
    // The catalog the search page reads: the wiki's, brought up to date.
    let catalog = crate::catalog::publish(wiki, &tmp, warn)?;
    write(
        "search.html",
        &page("Search", crate::catalog::SEARCH_BODY, None),
    )?;
    write("search.js", crate::catalog::SEARCH_JS)?;
    // What changed since each manifest's previous build; the site renders
    // without it when the wiki's index cannot be read.
    let changes = crate::diff::site_sections(wiki).unwrap_or_default();
    for (name, path) in &names {
        let markdown = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut body = to_html(&markdown, &options);
        if month_of(wiki, path).is_some() {
            body = link_packages(&body);
        }
        if let Some(section) = changes.get(name) {
            body = with_changes(&body, &to_html(section, &options));
        }
        write(&file_of(name), &page(name, &body, month_of(wiki, path)))?;
    }

    // Swap the new site in; a failure before this point leaves the old one.
    let old = sibling(out, "old");
    let _ = std::fs::remove_dir_all(&old);
    if out.exists() {
        std::fs::rename(out, &old).map_err(|e| Error::io(out, e))?;
    }
    std::fs::rename(&tmp, out).map_err(|e| Error::io(out, e))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(SiteReport {
        out: out.into(),
        index: out.join("index.html"),
        pages: names.len(),
        catalog_builds: catalog.builds,
        broken_links: broken.load(Ordering::Relaxed),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The manager of the packages a quoted command lists.
fn manager_of(command: &str) -> Option<&'static str> {
    match command {
        "apt list --installed" => Some("apt"),
        "pip list" => Some("pip"),
        "mamba list" | "conda list" => Some("conda"),
        "R --silent -e 'installed.packages(.Library)[, c(1,3)]'" => Some("r"),
        "julia -E 'import Pkg; Pkg.status()'" => Some("julia"),
        _ => None,
    }
}

/// In a manifest page, each package of a package list links to the search
/// page's "every build with this package" (`search.html?q=apt:bash`).
fn link_packages(body: &str) -> String {
    const OPEN: &str = "<pre><code class=\"language-text\">";
    let mut out = String::with_capacity(body.len() * 2);
    let mut rest = body;
    while let Some(at) = rest.find(OPEN) {
        let (before, from) = rest.split_at(at + OPEN.len());
        out.push_str(before);
        let end = from.find("</code></pre>").unwrap_or(from.len());
        let (block, after) = from.split_at(end);
        // `<p><code>apt list --installed</code>:</p>` right before the block.
        let command = before
            .trim_end_matches(OPEN)
            .trim_end()
            .strip_suffix("</code>:</p>")
            .and_then(|b| b.rsplit_once("<p><code>"))
            .map(|(_, c)| c.replace("&#x27;", "'").replace("&quot;", "\""));
        match command.as_deref().and_then(manager_of) {
            Some(manager) => {
                let lines: Vec<String> = block.split('\n').map(|l| link_line(l, manager)).collect();
                out.push_str(&lines.join("\n"));
            }
            None => out.push_str(block),
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// One line of a package list with its package name linked.
fn link_line(line: &str, manager: &str) -> String {
    let trimmed = line.trim_start();
    let name = match manager {
        "apt" => line.split_once('/').map(|(n, _)| n),
        "r" if line.contains("&quot;") => line.split_whitespace().next(),
        "julia" => line
            .split_once("] ")
            .and_then(|(_, r)| r.split_whitespace().next()),
        "pip" | "conda" if !trimmed.starts_with('#') => line.split_whitespace().next(),
        _ => None,
    };
    let Some(name) = name.filter(|n| {
        n.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c))
            && n.starts_with(|c: char| c.is_ascii_alphanumeric())
            && !matches!(*n, "Package" | "Name" | "Listing...")
            && line.split_whitespace().count() >= 2
    }) else {
        return line.to_string();
    };
    let at = line.find(name).unwrap_or(0);
    format!(
        "{}<a class=\"pkg\" href=\"./search.html?q={manager}:{name}\" title=\"Every build with {name}\">{name}</a>{}",
        &line[..at],
        &line[at + name.len()..]
    )
}

/// A manifest page's HTML with the changes section after its Build Info
/// (before the page's second heading), in a `<section id="changes">`.
fn with_changes(body: &str, changes: &str) -> String {
    let section = format!("<section id=\"changes\">\n{changes}</section>\n");
    let second = body.match_indices("<h2").nth(1).map(|(i, _)| i);
    match second {
        Some(i) => format!("{}{section}{}", &body[..i], &body[i..]),
        None => format!("{body}{section}"),
    }
}

fn sibling(out: &Path, what: &str) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".stacktag-{what}-{}", std::process::id()));
    out.with_file_name(name)
}

/// A link by page name (`./2026-11`, `Home`, `./x.md#frag`) to its HTML
/// file; any other link as it is.
fn rewrite(url: &str, known: &BTreeMap<String, String>, broken: &AtomicUsize) -> String {
    let has_scheme = url
        .split_once(':')
        .is_some_and(|(s, _)| !s.contains('/') && !s.is_empty());
    if has_scheme || url.starts_with('/') || url.starts_with('#') || url.is_empty() {
        return url.to_string();
    }
    let (target, fragment) = match url.find(['#', '?']) {
        Some(i) => url.split_at(i),
        None => (url, ""),
    };
    let name = target.rsplit('/').next().unwrap_or(target);
    let name = name.strip_suffix(".md").unwrap_or(name);
    match known.get(name) {
        Some(file) => format!("./{file}{fragment}"),
        None => {
            broken.fetch_add(1, Ordering::Relaxed);
            url.to_string()
        }
    }
}

/// One page's markdown as HTML, safe mode, `<br />` kept as a line break.
pub fn to_html(markdown: &str, options: &Options) -> String {
    let arena = Arena::new();
    let root = parse_document(&arena, markdown, options);
    for node in root.descendants() {
        let is_br = matches!(&node.data().value, NodeValue::HtmlInline(h)
            if matches!(h.trim(), "<br />" | "<br/>" | "<br>"));
        if is_br {
            // Raw, not LineBreak: comrak allows no LineBreak in a table cell.
            node.data_mut().value = NodeValue::Raw("<br />".into());
        }
    }
    let mut html = String::new();
    format_html(root, options, &mut html).expect("writing to a String");
    html
}

/// The month folder of a manifest page (`manifests/YYYY/YYYY-MM/x.md`).
fn month_of(wiki: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(wiki).ok()?;
    let mut parts = rel.iter().filter_map(|p| p.to_str());
    if parts.next()? != super::layout::MANIFESTS_DIR {
        return None;
    }
    let month = parts.nth(1)?;
    month.parse::<super::month::Month>().ok()?;
    Some(month.to_string())
}

/// The page around a body: a bar with Home, the month of a manifest (its
/// build history), and the page's name.
fn page(name: &str, body: &str, month: Option<String>) -> String {
    let title = escape(name);
    let mut bar = String::from(
        "<a href=\"./index.html\">Home</a> <a class=\"search\" href=\"./search.html\">Search builds</a>",
    );
    if let Some(m) = &month {
        bar += &format!(" / <a href=\"./{m}.html\">Builds of {m}</a>");
    }
    if name != "Home" {
        bar += &format!(" <span class=\"page\">{title}</span>");
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n<link rel=\"stylesheet\" href=\"./style.css\">\n</head>\n<body>\n<nav>{bar}</nav>\n<main>\n{body}</main>\n</body>\n</html>\n"
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(known: &[&str]) -> Options<'static> {
        let known: Arc<BTreeMap<String, String>> =
            Arc::new(known.iter().map(|n| (n.to_string(), file_of(n))).collect());
        let broken = Arc::new(AtomicUsize::new(0));
        let mut o = Options::default();
        o.extension.table = true;
        o.extension.link_url_rewriter = Some(Arc::new(move |u: &str| rewrite(u, &known, &broken)));
        o
    }

    #[test]
    fn page_names_resolve_whatever_the_folder() {
        let o = options(&["2026-11", "Home", "x86_64-default-a-0123456789ab"]);
        let html = to_html(
            "[m](./2026-11) [h](Home) [x](./x86_64-default-a-0123456789ab#apt) [gone](./nope) [w](https://example.com/a)",
            &o,
        );
        assert!(html.contains(r#"href="./2026-11.html""#), "{html}");
        assert!(html.contains(r#"href="./index.html""#), "{html}");
        assert!(
            html.contains(r#"href="./x86_64-default-a-0123456789ab.html#apt""#),
            "{html}"
        );
        assert!(html.contains(r#"href="./nope""#), "{html}");
        assert!(html.contains(r#"href="https://example.com/a""#), "{html}");
    }

    #[test]
    fn package_rows_link_to_every_build_with_the_package() {
        let o = options(&[]);
        let md = "## Apt Packages\n\n`apt list --installed`:\n\n```text\nListing...\nbash/now 5.2.15-2 amd64 [installed]\n```\n\n## R\n\n`R --silent -e 'installed.packages(.Library)[, c(1,3)]'`:\n\n```text\n          Package     Version\nbase      \"base\"      \"4.2.2\"\n```\n\n`python --version`:\n\n```text\nPython 3.11.2\n```\n";
        let html = link_packages(&to_html(md, &o));
        assert!(html.contains("<a class=\"pkg\" href=\"./search.html?q=apt:bash\" title=\"Every build with bash\">bash</a>/now 5.2.15-2"), "{html}");
        assert!(html.contains("href=\"./search.html?q=r:base\""), "{html}");
        assert!(html.contains("Listing...\n"), "{html}");
        assert!(!html.contains("q=r:Package"), "{html}");
        assert!(
            !html.contains("q=python"),
            "the python --version block lists no packages: {html}"
        );
    }

    #[test]
    fn raw_html_never_runs_but_br_breaks_lines() {
        let o = options(&[]);
        let html = to_html(
            "| a | b |\n| - | - |\n| `x`<br />`y` | z |\n\n<script>alert(1)</script>\n\n```text\n<script>alert(2)</script>\n```\n",
            &o,
        );
        assert!(html.contains("<code>x</code><br />"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(2)&lt;/script&gt;"),
            "{html}"
        );
    }
}
