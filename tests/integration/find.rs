//! `stacktag find` and the site's search page, on a synthetic wiki of
//! 4,600 builds and on the demo stack's real builds: every answer checked
//! against a brute-force scan of the manifests; bad input; the page in
//! headless chromium, typed into.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;
use stacktag::catalog::spec::{self, Term};

use crate::catalog_fixture::{self as fx, Truth};
use crate::cdp::{Browser, Server};

use crate::support::report as text;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn stacktag(args: &[&str]) -> Output {
    crate::support::stacktag("t-find")
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: Output) -> Output {
    assert!(out.status.success(), "{}", text(&out));
    out
}

/// One build as the brute force sees it: `(manager, normalized name)` to version.
struct View {
    page: String,
    timestamp: String,
    values: BTreeMap<(String, String), String>,
}

impl View {
    fn of(t: &Truth) -> View {
        let mut values: BTreeMap<(String, String), String> = t
            .packages
            .iter()
            .map(|((m, n), v)| ((m.clone(), spec::normalize(n)), v.clone()))
            .collect();
        for tag in &t.tags {
            let rest = tag.strip_prefix(&format!("{}-", t.platform)).unwrap();
            for name in ["python", "r", "ubuntu"] {
                if let Some(v) = rest.strip_prefix(&format!("{name}-")) {
                    let longer = values
                        .get(&("tag".into(), name.into()))
                        .is_none_or(|old| v.len() > old.len());
                    if longer {
                        values.insert(("tag".into(), name.into()), v.into());
                    }
                }
            }
        }
        values.insert(("build".into(), "image".into()), t.image.clone());
        values.insert(("build".into(), "platform".into()), t.platform.clone());
        values.insert(("build".into(), "variant".into()), "default".into());
        View {
            page: t.page.clone(),
            timestamp: t.timestamp.clone(),
            values,
        }
    }

    fn meets(&self, terms: &[Term]) -> bool {
        terms.iter().all(|t| {
            self.values
                .iter()
                .any(|((m, n), v)| *n == t.key && t.accepts(m, v))
        })
    }
}

/// The pages of the builds that meet `words`, newest first, by scanning them all.
fn brute_force(views: &[View], words: &[&str]) -> Vec<String> {
    let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    let terms = spec::parse(&words, &[]).unwrap();
    let mut hits: Vec<&View> = views.iter().filter(|v| v.meets(&terms)).collect();
    hits.sort_by(|a, b| (&b.timestamp, &b.page).cmp(&(&a.timestamp, &a.page)));
    hits.iter().map(|v| v.page.clone()).collect()
}

/// `stacktag find ... --format json`: the pages answered, and the document.
fn find(catalog: &str, args: &[&str]) -> (Vec<String>, Value) {
    let mut all = vec!["find", "--catalog", catalog, "--format", "json"];
    all.extend_from_slice(args);
    let out = ok(stacktag(&all));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    crate::json::validate(&format!("find {args:?}"), &doc);
    let pages = doc["builds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["page"].as_str().unwrap().to_string())
        .collect();
    (pages, doc)
}

struct Big {
    wiki: PathBuf,
    truth: Vec<Truth>,
}

/// 767 runs of 3 images on 2 platforms: 4,602 builds over 39 months, the
/// catalog made by `stacktag wiki`. Kept in the target's tmp folder (the
/// same bytes every time) and made again only when missing: a static
/// fixture is never dropped, so a temporary one would be left behind.
fn big() -> &'static Big {
    static BIG: OnceLock<Big> = OnceLock::new();
    BIG.get_or_init(|| {
        let truth = fx::builds(767, 20, fx::SMALL);
        let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join("find-4602-v1");
        let wiki = home.join("w");
        if !wiki.join(".stacktag/catalog/catalog.json").is_file() {
            let part = Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("find-4602-v1.{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&part);
            let (w, repo) = (part.join("w"), part.join("r"));
            crate::wiki_fixture::fixture_repo(&repo);
            fx::write_wiki(&w, &truth);
            refresh(&w, &repo);
            let _ = std::fs::remove_dir_all(&home);
            if std::fs::rename(&part, &home).is_err() {
                // Another test process made it first.
                let _ = std::fs::remove_dir_all(&part);
            }
        }
        Big { wiki, truth }
    })
}

/// `stacktag wiki` with nothing to add: Home.md, pruning, and the catalog.
fn refresh(wiki: &Path, repo: &Path) -> Output {
    let empty = wiki.parent().unwrap().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let (w, e, r) = (
        wiki.display().to_string(),
        empty.display().to_string(),
        repo.display().to_string(),
    );
    ok(stacktag(&[
        "wiki",
        "--wiki-dir",
        &w,
        "--hist-lines-dir",
        &e,
        "--manifests-dir",
        &e,
        "--allow-no-files",
        "--repo-dir",
        &r,
        "--repository",
        fx::REPOSITORY,
        "--keep",
        "5000",
    ]))
}

const QUERIES: &[&[&str]] = &[
    &["numpy=1.26"],
    &["numpy=1.26", "python=3.11", "--platform", "aarch64"],
    &["numpy", "1.26.4"],
    &["conda:numpy>=1.24,<2", "image=r-notebook"],
    &["apt:libc6>=2.36-9+deb12u5"],
    &["bash==5.2.18-2", "platform=x86_64"],
    &["python!=3.12.3", "tag:python=3.12"],
    &["r>=4.4", "--image", "r-notebook"],
    &["pysynth-7>=3.7.2", "image=r-notebook"],
    &["rsynth3<=3.3-1"],
    &["--package", "pandas", "--image", "scipy-notebook"],
    &["Pysynth_7=3.7"],
];

#[test]
fn find_answers_what_a_brute_force_scan_of_4600_builds_finds() {
    let b = big();
    assert_eq!(b.truth.len(), 4602);
    let views: Vec<View> = b.truth.iter().map(View::of).collect();
    let w = b.wiki.display().to_string();
    for q in QUERIES {
        // The flags as the terms they stand for.
        let mut words: Vec<String> = Vec::new();
        let mut it = q.iter();
        while let Some(a) = it.next() {
            match *a {
                "--platform" => words.push(format!("platform={}", it.next().unwrap())),
                "--image" => words.push(format!("image={}", it.next().unwrap())),
                "--package" => words.push(it.next().unwrap().to_string()),
                w => words.push(w.to_string()),
            }
        }
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let want = brute_force(&views, &words);
        let mut args = q.to_vec();
        args.extend(["--limit", "0"]);
        let (got, doc) = find(&w, &args);
        assert!(!want.is_empty(), "the query {q:?} should match some builds");
        assert_eq!(got.len(), want.len(), "{q:?}: count");
        assert_eq!(got, want, "{q:?}: builds or their order");
        assert_eq!(doc["total"], want.len(), "{q:?}");
        assert_eq!(doc["searched"], 4602);
    }

    // --first: the oldest; --limit: the newest N.
    let want = brute_force(&views, &["r>=4.4", "image=r-notebook"]);
    let (got, doc) = find(&w, &["r>=4.4", "--image", "r-notebook", "--first"]);
    assert_eq!(got, [want.last().unwrap().clone()]);
    let first = &doc["builds"][0];
    assert_eq!(first["matched"][0]["name"], "r");
    assert_eq!(first["matched"][0]["manager"], "tag");
    assert_eq!(first["matched"][0]["version"], "4.4.0");
    assert!(first["reference"]
        .as_str()
        .unwrap()
        .starts_with("quay.io/jupyter/r-notebook:"));
    let (got, _) = find(&w, &["numpy=1.26", "--limit", "5"]);
    assert_eq!(got, brute_force(&views, &["numpy=1.26"])[..5]);

    // Nothing: said, with the names close to a misspelt one.
    let (got, doc) = find(&w, &["numpyy"]);
    assert!(got.is_empty());
    assert_eq!(doc["total"], 0);
    assert!(
        doc["hint"].as_str().unwrap().contains("did you mean numpy"),
        "{doc}"
    );
    let out = ok(stacktag(&["find", "--catalog", &w, "numpy==9.9"]));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("no build of the 4602 builds"), "{said}");
}

#[test]
fn find_reads_a_published_site_by_url_and_by_path() {
    let b = big();
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    let (w, s) = (b.wiki.display().to_string(), site.display().to_string());
    ok(stacktag(&[
        "wiki",
        "--wiki-dir",
        &w,
        "--wait",
        "120",
        "--html",
        &s,
    ]));
    let server = Server::serve(site.clone());
    let q = ["numpy=1.26", "python=3.11", "--platform", "aarch64"];
    let (local, _) = find(&w, &q);
    let (by_path, doc) = find(&s, &q);
    assert_eq!(by_path, local);
    let link = doc["builds"][0]["link"].as_str().unwrap();
    assert_eq!(
        link,
        site.join(format!("{}.html", local[0]))
            .display()
            .to_string()
    );
    let (by_url, doc) = find(&server.url, &q);
    assert_eq!(by_url, local);
    assert_eq!(
        doc["builds"][0]["link"],
        format!("{}{}.html", server.url, local[0])
    );
    let (bytes, files) = server.served();
    assert!(files.iter().all(|f| f.starts_with("catalog/")), "{files:?}");
    assert!(bytes < 1_000_000, "{bytes} bytes for one query");
}

/// The catalog's files as bytes, relative to it.
fn catalog_tree(wiki: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    crate::wiki_fixture::tree(&wiki.join(".stacktag/catalog"))
}

#[test]
fn a_new_build_rewrites_its_month_only_and_the_catalog_is_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let (wiki, repo) = (tmp.path().join("w"), tmp.path().join("r"));
    crate::wiki_fixture::fixture_repo(&repo);
    let truth = fx::builds(60, 10, fx::SMALL);
    let (old, new) = truth.split_at(truth.len() - 6);
    fx::write_wiki(&wiki, old);
    refresh(&wiki, &repo);
    let before = catalog_tree(&wiki);
    let months = before.keys().filter(|p| p.ends_with("builds.json")).count();
    assert_eq!(months, 6);

    // One run more (6 builds, the last month), through `stacktag wiki`.
    let inputs = tmp.path().join("in");
    fx::write_hook_output(&inputs, new);
    let out = ok(crate::wiki_fixture::update(
        &wiki,
        &inputs,
        &repo,
        &["--repository", fx::REPOSITORY],
    ));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("(1 rewritten)"), "{said}");
    let after = catalog_tree(&wiki);
    let month = &new[0].month;
    let changed: Vec<&PathBuf> = after
        .iter()
        .filter(|(p, b)| before.get(*p) != Some(*b))
        .map(|(p, _)| p)
        .collect();
    assert!(
        changed.iter().all(|p| p.starts_with(month)
            || p == &Path::new("catalog.json")
            || p == &Path::new("names.json")),
        "{changed:?}"
    );
    assert!(changed.len() > 2, "{changed:?}");

    // The same wiki, from scratch: the same bytes.
    std::fs::remove_dir_all(wiki.join(".stacktag/catalog")).unwrap();
    refresh(&wiki, &repo);
    assert_eq!(catalog_tree(&wiki), after);
    refresh(&wiki, &repo);
    assert_eq!(catalog_tree(&wiki), after);

    // Pruned to the newest 30 manifests: the old months' files go.
    let (w, r) = (wiki.display().to_string(), repo.display().to_string());
    let e = tmp.path().join("empty").display().to_string();
    std::fs::create_dir_all(&e).unwrap();
    ok(stacktag(&[
        "wiki",
        "--wiki-dir",
        &w,
        "--hist-lines-dir",
        &e,
        "--manifests-dir",
        &e,
        "--allow-no-files",
        "--repo-dir",
        &r,
        "--repository",
        fx::REPOSITORY,
        "--keep",
        "30",
    ]));
    let pruned = catalog_tree(&wiki);
    let top: Value = serde_json::from_slice(&pruned[Path::new("catalog.json")]).unwrap();
    assert_eq!(top["builds"], 30);
    assert!(!pruned.keys().any(|p| p.starts_with(&truth[0].month)));
}

#[test]
fn bad_constraints_are_usage_errors_that_say_what_is_wrong() {
    let b = big();
    let w = b.wiki.display().to_string();
    for (q, says) in [
        ("numpy==", "`==` needs a version after it"),
        ("python>>3", "`>>` is not an operator"),
        (
            "foo:numpy",
            "no manager `foo`; the catalog knows apt, pip, conda, r, julia, tag, build",
        ),
        ("nu$mpy", "`$` cannot be in a package name"),
        ("1.26", "a version needs a package before it"),
        ("image>=r", "takes `=` or `!=`"),
    ] {
        let out = stacktag(&["find", "--catalog", &w, q]);
        assert_eq!(out.status.code(), Some(2), "{q}: {}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{q}: {err}");
        assert!(err.contains("stacktag find --help"), "{err}");
    }
    let out = stacktag(&["find", "--catalog", &w, "--format", "json", "python>>3"]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    crate::json::validate("find python>>3", &doc);
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["error"]["exit_code"], 2);
}

#[test]
fn a_missing_or_corrupt_catalog_exits_21_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let (wiki, repo) = (tmp.path().join("w"), tmp.path().join("r"));
    crate::wiki_fixture::fixture_repo(&repo);
    let w = wiki.display().to_string();
    let out = stacktag(&["find", "--catalog", &w, "numpy"]);
    assert_eq!(out.status.code(), Some(21), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no catalog at"));

    let truth = fx::builds(10, 10, fx::SMALL);
    fx::write_wiki(&wiki, &truth);
    // One manifest that is not one: left out with a warning naming it.
    let bad = format!("manifests/2023/2023-01/{}.md", truth[3].page);
    std::fs::write(wiki.join(&bad), "not a manifest\n").unwrap();
    let out = refresh(&wiki, &repo);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{bad}: left out of the catalog, not a build manifest"
        )),
        "{err}"
    );
    let (pages, doc) = find(&w, &["python", "--limit", "0"]);
    assert_eq!(pages.len(), truth.len() - 1);
    assert!(!pages.contains(&truth[3].page));
    assert_eq!(doc["searched"], truth.len() - 1);

    // A shard cut short, then gone.
    let cat = wiki.join(".stacktag/catalog");
    let shard = cat.join(stacktag::catalog::shard_file(
        "2023-01",
        stacktag::catalog::bucket("python", stacktag::catalog::BUCKETS),
    ));
    let bytes = std::fs::read(&shard).unwrap();
    std::fs::write(&shard, &bytes[..bytes.len() / 2]).unwrap();
    let out = stacktag(&["find", "--catalog", &w, "--format", "json", "python"]);
    assert_eq!(out.status.code(), Some(21), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is corrupt") && err.contains("2023-01/p-"),
        "{err}"
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["error"]["exit_code"], 21);
    std::fs::remove_file(&shard).unwrap();
    let out = stacktag(&["find", "--catalog", &w, "python"]);
    assert_eq!(out.status.code(), Some(21));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing (the catalog lists it)"));
    std::fs::write(cat.join("catalog.json"), "{").unwrap();
    let out = stacktag(&["find", "--catalog", &w, "python"]);
    assert_eq!(out.status.code(), Some(21));
    assert!(String::from_utf8_lossy(&out.stderr).contains("catalog.json: not the expected JSON"));
}

/// The demo stack's real builds (`stacktag manifest` on the daemon's
/// images, which applies no tag), into a wiki, then found: checked against
/// the manifests as written.
#[test]
fn find_on_the_demo_stack_builds_from_the_real_hook() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    let o = out_dir.display().to_string();
    for image in ["docker-stacks-foundation", "base-notebook"] {
        let made = stacktag(&["--quiet", "manifest", "--image", image, "--out-dir", &o]);
        assert!(made.status.success(), "{}", text(&made));
    }
    let wiki = tmp.path().join("wiki");
    git2::Repository::init(&wiki).unwrap();
    ok(crate::wiki_fixture::update(
        &wiki,
        &out_dir,
        Path::new(ROOT),
        &["--branch", "main"],
    ));

    // The brute force: every manifest and history line hook wrote.
    let mut views = Vec::new();
    for e in std::fs::read_dir(out_dir.join("manifests")).unwrap() {
        let path = e.unwrap().path();
        let md = std::fs::read_to_string(&path).unwrap();
        let b = stacktag::diff::parse_manifest(&md).unwrap();
        let page = path.file_stem().unwrap().to_string_lossy().to_string();
        let line = std::fs::read_to_string(out_dir.join("hist_lines").join(format!("{page}.txt")))
            .unwrap();
        let tags = stacktag::diff::build::history_tags(&line);
        let mut values = BTreeMap::new();
        for (section, packages) in &b.sections {
            for (n, v) in packages {
                let n = n.split(':').next().unwrap();
                values.insert((section.name().to_string(), spec::normalize(n)), v.clone());
            }
        }
        for (n, v) in stacktag::catalog::write::tagger_values(&tags, b.prefix()) {
            values.insert(("tag".into(), n), v);
        }
        let (platform, variant) = stacktag::wiki::row::split_page(&page, &b.image).unwrap();
        values.insert(("build".into(), "image".into()), b.image.clone());
        values.insert(("build".into(), "platform".into()), platform);
        values.insert(("build".into(), "variant".into()), variant);
        views.push(View {
            page,
            timestamp: b.timestamp.clone(),
            values,
        });
    }
    let w = wiki.display().to_string();
    let queries: &[&[&str]] = &[
        &["python=3.11"],
        &["apt:bash"],
        &["pip>=20", "image=base-notebook"],
        &["notebook>=6"],
        &["hub=3", "image=base-notebook"],
        &["apt:python3>=3.11.2-1"],
        &["debian=12", "pip:setuptools"],
    ];
    let mut matched = 0;
    for q in queries {
        let want = brute_force(&views, q);
        let mut args = q.to_vec();
        args.extend(["--limit", "0"]);
        let (got, _) = find(&w, &args);
        assert_eq!(got, want, "{q:?}");
        matched += got.len();
    }
    assert!(
        matched > 10,
        "the demo stack's builds should match these queries"
    );
    let (got, doc) = find(&w, &["--package", "python", "--image", "base-notebook"]);
    assert_eq!(got.len(), 1, "{doc}");
    let m = &doc["builds"][0]["matched"][0];
    assert!(m["version"].as_str().unwrap().starts_with("3.11"), "{doc}");
}

/// The search page in headless chromium: typed into as a person does,
/// answers checked against `stacktag find`, the copy text, the keyboard,
/// a phone-width screenshot kept, and a corrupt shard said on the page.
#[test]
fn the_search_page_answers_as_find_does_in_headless_chromium() {
    let chromium = crate::wiki::chromium().expect(
        "headless chromium is needed for the search page test: `make chromium` installs it (`make test` does)",
    );
    let b = big();
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    let (w, s) = (b.wiki.display().to_string(), site.display().to_string());
    ok(stacktag(&[
        "wiki",
        "--wiki-dir",
        &w,
        "--wait",
        "120",
        "--html",
        &s,
    ]));
    assert!(site.join("search.html").is_file() && site.join("catalog/catalog.json").is_file());
    let server = Server::serve(site.clone());
    let profile = tempfile::tempdir().unwrap();
    let mut browser = Browser::launch(&chromium, profile.path());

    // The page's version order against the table the Rust side passes.
    browser.open(&format!("{}search.html", server.url), 1200, 900);
    let table =
        std::fs::read_to_string(Path::new(ROOT).join("tests/data/version-order.tsv")).unwrap();
    let failures = browser.eval(&format!(
        "(() => {{ const f = window.stacktagFind; const bad = [];
           for (const line of {table:?}.split('\\n')) {{
             if (!line || line.startsWith('#')) continue;
             const [s, a, op, b] = line.split('\\t');
             const want = {{'<': -1, '=': 0, '>': 1}}[op];
             const got = Math.sign(f.compare(s, a, b)), back = Math.sign(f.compare(s, b, a));
             if (got !== want || back !== -want) bad.push(line + ' got ' + got);
           }}
           return bad; }})()"
    ));
    assert_eq!(
        failures,
        serde_json::json!([]),
        "search.js disagrees with the table"
    );
    let bucket = browser.eval("window.stacktagFind.bucket('numpy', 64)");
    assert_eq!(bucket, stacktag::catalog::bucket("numpy", 64));

    // Type a query, wait for the results.
    server.reset();
    browser.eval("document.getElementById('q').focus()");
    let query = "numpy 1.26 python=3.11 platform=aarch64";
    browser.type_text(query);
    browser.wait_for(
        &format!(
            "document.body.dataset.query === {query:?} && document.body.dataset.firstResultMs"
        ),
        Duration::from_secs(20),
    );
    let (bytes, files) = server.served();
    assert!(bytes < 1_000_000, "{bytes} bytes for one query: {files:?}");
    let (want, doc) = find(&w, &["numpy=1.26", "python=3.11", "--platform", "aarch64"]);
    let refs = browser
        .eval("[...document.querySelectorAll('#results li .reference')].map(e => e.textContent)");
    let want_refs: Vec<Value> = doc["builds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["reference"].clone())
        .collect();
    assert_eq!(
        refs,
        Value::Array(want_refs.clone()),
        "the page's rows are find's, in its order"
    );
    assert_eq!(want.len(), 20);
    let status = browser.eval("document.getElementById('status').textContent");
    assert!(
        status
            .as_str()
            .unwrap()
            .starts_with(&format!("{} of 4602 builds match", doc["total"])),
        "{status}"
    );
    let copy = browser.eval("document.querySelector('#results li button.copy').dataset.copy");
    assert_eq!(copy, want_refs[0]);
    let link = browser.eval("document.querySelector('#results li a').getAttribute('href')");
    assert_eq!(link, format!("./{}.html", want[0]));
    // Keyboard: Tab from the box reaches the first copy button; Enter on it copies.
    browser.key("Tab", 9);
    let focused = browser.eval("document.activeElement.className");
    assert_eq!(focused, "copy");
    browser.key("Enter", 13);
    browser.wait_for(
        "document.querySelector('#results li button.copy').textContent === 'Copied'",
        Duration::from_secs(5),
    );

    // At phone width: nothing wider than the screen; the screenshot kept.
    browser.open(
        &format!("{}search.html?q=r%3E%3D4.4+image%3Dr-notebook", server.url),
        390,
        844,
    );
    browser.wait_for(
        "document.body.dataset.firstResultMs",
        Duration::from_secs(20),
    );
    let wide = browser.eval("document.documentElement.scrollWidth");
    assert!(
        wide.as_u64().unwrap() <= 390,
        "the page is {wide}px wide on a 390px phone"
    );
    let label = browser.eval("document.querySelector('label[for=q]').textContent");
    assert!(label.as_str().unwrap().contains("Packages"));
    let artifacts = Path::new(ROOT).join("target/artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("find-search-phone.png");
    browser.screenshot(&shot);
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);
    eprintln!("screenshot: {}", shot.display());

    // A malformed constraint, then a corrupt shard: the page says so.
    browser.open(
        &format!("{}search.html?q=python%3E%3E3", server.url),
        1200,
        900,
    );
    let said = browser.wait_for(
        "document.getElementById('status').className === 'error' && document.getElementById('status').textContent",
        Duration::from_secs(10),
    );
    assert!(
        said.as_str().unwrap().contains("`>>` is not an operator"),
        "{said}"
    );
    let shard = site.join("catalog").join(stacktag::catalog::shard_file(
        "2024-06",
        stacktag::catalog::bucket("pandas", 64),
    ));
    std::fs::write(&shard, "{\"pandas\": ").unwrap();
    browser.open(&format!("{}search.html?q=pandas", server.url), 1200, 900);
    let said = browser.wait_for(
        "document.getElementById('status').className === 'error' && document.getElementById('status').textContent",
        Duration::from_secs(10),
    );
    assert!(
        said.as_str()
            .unwrap()
            .contains("The catalog is missing or corrupt: 2024-06/p-"),
        "{said}"
    );
}
