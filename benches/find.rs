//! `make bench-find`: the catalog of a wiki of 4,602 builds of real size
//! (3 images on 2 platforms, 300 apt, 175 to 470 conda and 120 R packages
//! each, 39 months): the time to make it from scratch and after one more
//! run, its size; the bytes the search page downloads per query and its
//! time to the first result in headless chromium; `stacktag find`'s time.
//! Goals: under 1 MB per query, first result under 300 ms, find under 100 ms.

#[path = "../tests/integration/catalog_fixture.rs"]
mod catalog_fixture;
#[path = "../tests/integration/cdp.rs"]
mod cdp;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use catalog_fixture as fx;

const QUERIES: &[&str] = &[
    "numpy 1.26",
    "python=3.11 numpy>=1.26 platform=aarch64",
    "r>=4.4 image=r-notebook",
    "pandas",
    "apt:libc6>=2.36-9+deb12u5 bash",
];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn size_of(dir: &Path) -> (u64, usize) {
    let mut bytes = 0;
    let mut files = 0;
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                todo.push(e.path());
            } else {
                bytes += e.metadata().unwrap().len();
                files += 1;
            }
        }
    }
    (bytes, files)
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser"].iter().find_map(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|_| PathBuf::from(c))
    })
}

fn main() {
    let bin = env!("CARGO_BIN_EXE_stacktag");
    let tmp = tempfile::tempdir().unwrap();
    let wiki = tmp.path().join("w");
    let t = Instant::now();
    let truth = fx::builds(768, 20, fx::REAL);
    let old = &truth[..truth.len() - 6];
    fx::write_wiki(&wiki, old);
    let (wiki_bytes, _) = size_of(&wiki);
    eprintln!(
        "wiki of {} builds written ({:.0} MB of manifests) in {:.1}s",
        old.len(),
        wiki_bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );

    let out = wiki.join(stacktag::catalog::WIKI_DIR);
    let t = Instant::now();
    let first = stacktag::catalog::write(&wiki, &out, &mut |w| eprintln!("warning: {w}")).unwrap();
    let scratch = t.elapsed().as_secs_f64();
    let (bytes, files) = size_of(&out);

    // One run more (6 builds) into the last month, as `stacktag wiki` adds it.
    fx::write_wiki(&wiki, &truth);
    let t = Instant::now();
    let next = stacktag::catalog::write(&wiki, &out, &mut |w| eprintln!("warning: {w}")).unwrap();
    let incremental = t.elapsed().as_secs_f64();
    let t = Instant::now();
    stacktag::catalog::write(&wiki, &out, &mut |_| {}).unwrap();
    let unchanged = t.elapsed().as_secs_f64();

    println!(
        "catalog of {} builds ({} months): from scratch {scratch:.2}s; after one more run (6 builds, {} month rewritten) {incremental:.2}s; unchanged {unchanged:.2}s; {:.1} MB in {files} files ({:.0} bytes a build)",
        next.builds,
        next.months,
        next.rewritten.len(),
        bytes as f64 / 1e6,
        bytes as f64 / first.builds.max(1) as f64
    );

    // `stacktag find` on the local wiki: median of 7 runs per query.
    let w = wiki.display().to_string();
    for q in QUERIES {
        let mut times = Vec::new();
        let mut total = String::new();
        for _ in 0..7 {
            let mut args = vec!["find", "--catalog", &w, "--format", "json"];
            args.extend(q.split(' '));
            let t = Instant::now();
            let out = Command::new(bin).args(&args).output().unwrap();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            total = doc["total"].to_string();
        }
        println!(
            "find `{q}`: {:.0} ms (median of 7, process start included; {total} builds match)",
            median(times)
        );
    }

    // The search page: bytes per query and time to first result.
    let Some(chromium) = chromium() else {
        println!("search page: not measured (no chromium; `make chromium` installs it)");
        return;
    };
    let site = tmp.path().join("site");
    let t = Instant::now();
    let s = site.display().to_string();
    let out = Command::new(bin)
        .args(["wiki", "--wiki-dir", &w, "--html", &s])
        .env_remove("STACKTAG_CONFIG")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("site rendered in {:.1}s", t.elapsed().as_secs_f64());
    let server = cdp::Server::serve(site.clone());
    let profile = tempfile::tempdir().unwrap();
    let mut browser = cdp::Browser::launch(&chromium, profile.path());
    for q in QUERIES {
        // A fresh page (an empty cache) per query: the first query's cost.
        browser.open(&format!("{}search.html", server.url), 1200, 900);
        server.reset();
        browser.eval("document.getElementById('q').focus()");
        let chars: Vec<char> = q.chars().collect();
        let (head, last) = chars.split_at(chars.len() - 1);
        browser.type_text(&head.iter().collect::<String>());
        std::thread::sleep(Duration::from_millis(300));
        browser.wait_for(
            "!document.body.dataset.query || document.body.dataset.firstResultMs",
            Duration::from_secs(30),
        );
        server.reset();
        let t = Instant::now();
        browser.type_text(&last.iter().collect::<String>());
        let page_ms = browser.wait_for(
            &format!(
                "document.body.dataset.query === {q:?} && document.body.dataset.firstResultMs"
            ),
            Duration::from_secs(30),
        );
        let wall = t.elapsed().as_secs_f64() * 1000.0;
        let (bytes, files) = server.served();
        println!(
            "page `{q}`: first result {} ms in the page ({wall:.0} ms from the last key, 120 ms of it the typing pause); {:.0} KB in {} files for the last key",
            page_ms.as_str().unwrap_or("?"),
            bytes as f64 / 1e3,
            files.len()
        );
        // The whole query, from an empty cache: every file it needs.
        browser.open(&format!("{}search.html", server.url), 1200, 900);
        server.reset();
        browser.open(
            &format!(
                "{}search.html?q={}",
                server.url,
                q.replace('+', "%2B")
                    .replace(' ', "+")
                    .replace('>', "%3E")
                    .replace('=', "%3D")
            ),
            1200,
            900,
        );
        browser.wait_for(
            "document.body.dataset.firstResultMs",
            Duration::from_secs(30),
        );
        let (bytes, files) = server.served();
        println!(
            "page `{q}` from an empty cache: {:.0} KB in {} files (page, script and catalog)",
            bytes as f64 / 1e3,
            files.len()
        );
    }
}
