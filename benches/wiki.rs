//! `make bench-wiki`: the time to update a wiki of 4560 manifests (38
//! months of upstream-format pages, no `.stacktag/` index yet), printed.
//! Run as root, it empties the page cache before the first update and one
//! later update, so those read the wiki and the binary from disk.

#[path = "../tests/integration/wiki_fixture.rs"]
mod wiki_fixture;

use std::process::{Command, Output};
use std::time::Instant;

use wiki_fixture::*;

fn stacktag(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stacktag"))
        .args(args)
        .env_remove("STACKTAG_CONFIG")
        .output()
        .unwrap()
}

/// Empties the kernel's page cache (root only), so the next run reads the
/// wiki (and stacktag's binary) from disk. Returns whether it could.
fn drop_page_cache() -> bool {
    let _ = Command::new("sync").status();
    std::fs::write("/proc/sys/vm/drop_caches", "3").is_ok()
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let (wiki, repo) = (tmp.path().join("w"), tmp.path().join("r"));
    fixture_repo(&repo);
    git2::Repository::init(&wiki).unwrap();
    // 760 runs of 6 images: 4560 manifests over 38 months.
    let mut months = Vec::new();
    for y in 2023..=2026 {
        for m in 1..=12 {
            if months.len() < 38 {
                months.push((format!("{y}-{m:02}"), 20));
            }
        }
    }
    let months: Vec<(&str, u32)> = months.iter().map(|(m, n)| (m.as_str(), *n)).collect();
    let runs = history(&months);
    write_upstream_wiki(&wiki, &runs, &repo);
    let inputs = tmp.path().join("in");
    write_hook_output(&inputs, &run("2026-11".parse().unwrap(), 24, 9000, false));
    let args = ["--repository", REPOSITORY, "--root-image", "base-notebook"];

    let cold = drop_page_cache();
    let t = Instant::now();
    let first = ok(update(&wiki, &inputs, &repo, &args));
    let bootstrap = t.elapsed();
    let inputs2 = tmp.path().join("in2");
    write_hook_output(&inputs2, &run("2026-11".parse().unwrap(), 25, 9001, false));
    let t = Instant::now();
    let second = ok(update(&wiki, &inputs2, &repo, &args));
    let steady = t.elapsed();
    let t = Instant::now();
    ok(update(&wiki, &inputs2, &repo, &args));
    let again = t.elapsed();
    let inputs3 = tmp.path().join("in3");
    write_hook_output(&inputs3, &run("2026-11".parse().unwrap(), 26, 9002, false));
    drop_page_cache();
    let t = Instant::now();
    ok(update(&wiki, &inputs3, &repo, &args));
    let steady_cold = t.elapsed();
    let site = tmp.path().join("site").display().to_string();
    let w = wiki.display().to_string();
    let t = Instant::now();
    let html = ok(stacktag(&["wiki", "--wiki-dir", &w, "--html", &site]));
    let render = t.elapsed();
    eprintln!(
        "{}\n{}",
        String::from_utf8_lossy(&first.stdout)
            .lines()
            .next()
            .unwrap(),
        String::from_utf8_lossy(&second.stdout)
            .lines()
            .next()
            .unwrap()
    );
    eprintln!("{}", String::from_utf8_lossy(&html.stdout));
    let first_cache = if cold {
        "cold page cache"
    } else {
        "warm page cache: drop_caches needs root"
    };
    eprintln!(
        "wiki of {} manifests: first update (no index yet, builds it; {first_cache}) {:.2}s; \
         next update (6 new builds) {:.2}s; same update again {:.2}s; \
         next update from a cold page cache {}; HTML site {:.2}s",
        runs.len() * 6,
        bootstrap.as_secs_f64(),
        steady.as_secs_f64(),
        again.as_secs_f64(),
        if cold {
            format!("{:.2}s", steady_cold.as_secs_f64())
        } else {
            "not measured".to_string()
        },
        render.as_secs_f64()
    );
}
