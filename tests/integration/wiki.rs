//! `stacktag wiki` as a user runs it: on a wiki that upstream kept for
//! years, on the demo stack's own builds from the real Docker daemon, and
//! its HTML site in a real (headless) browser.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::wiki_fixture::*;

use crate::support::report as text;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn stacktag(args: &[&str]) -> Output {
    crate::support::stacktag("t-wiki")
        .args(args)
        .output()
        .unwrap()
}

const MONTHS: [(&str, u32); 8] = [
    ("2023-01", 3),
    ("2023-03", 2),
    ("2023-11", 2),
    ("2024-02", 3),
    ("2024-05", 4),
    ("2024-12", 1),
    ("2025-02", 3),
    ("2025-06", 2),
];

struct Upstream {
    _tmp: tempfile::TempDir,
    wiki: PathBuf,
    repo: PathBuf,
    dir: PathBuf,
    manifests: usize,
}

fn upstream_wiki() -> Upstream {
    let tmp = tempfile::tempdir().unwrap();
    let (wiki, repo) = (tmp.path().join("stack.wiki"), tmp.path().join("stack"));
    fixture_repo(&repo);
    git2::Repository::init(&wiki).unwrap();
    let runs = history(&MONTHS);
    write_upstream_wiki(&wiki, &runs, &repo);
    let manifests = runs.iter().map(Vec::len).sum();
    Upstream {
        dir: tmp.path().into(),
        _tmp: tmp,
        wiki,
        repo,
        manifests,
    }
}

/// The `## YYYY` section of a Home page, up to the next one.
fn year_section(home: &str, year: i32) -> String {
    let start = home.find(&format!("\n## {year}\n")).unwrap();
    let rest = &home[start + 1..];
    let end = rest.find("\n## ").map_or(rest.len(), |e| e + 1);
    rest[..end].to_string()
}

#[test]
fn an_upstream_wiki_is_continued_without_rewriting_what_did_not_change() {
    let u = upstream_wiki();
    assert_eq!(u.manifests, 20 * 6);
    let before = tree(&u.wiki);
    let times = mtimes(&u.wiki);
    std::thread::sleep(Duration::from_millis(20));

    // A new month, and a late build in an old month.
    let mut builds = run("2026-11".parse().unwrap(), 24, 900, false);
    builds.extend(
        run("2025-06".parse().unwrap(), 28, 901, false)
            .into_iter()
            .filter(|b| b.platform == "x86_64" && b.image == "base-notebook"),
    );
    let inputs = u.dir.join("hook");
    write_hook_output(&inputs, &builds);
    let keep = 100;
    ok(update(
        &u.wiki,
        &inputs,
        &u.repo,
        &[
            "--keep",
            "100",
            "--root-image",
            "base-notebook",
            "--repository",
            REPOSITORY,
        ],
    ));
    let after = tree(&u.wiki);
    let new_times = mtimes(&u.wiki);

    // Untouched monthly pages: same bytes, never rewritten.
    for (path, bytes) in &before {
        let p = path.to_string_lossy();
        if p.starts_with("monthly-files/") && !p.ends_with("2025-06.md") {
            assert_eq!(after.get(path), Some(bytes), "{p} changed");
            assert_eq!(new_times[path], times[path], "{p} was rewritten");
        }
    }
    // The old month's page: the late build on top, the rows upstream wrote below, as they were.
    let june = PathBuf::from("monthly-files/2025/2025-06.md");
    let old = String::from_utf8(before[&june].clone()).unwrap();
    let new = String::from_utf8(after[&june].clone()).unwrap();
    let header = "| Date | Image | Links |\n| - | - | - |\n";
    let (head, old_rows) = old.split_once(header).unwrap();
    let late = builds.last().unwrap().line();
    assert_eq!(new, format!("{head}{header}{late}\n{old_rows}"));
    // The new month's page, newest first: a run's rows in reverse file order, as upstream.
    let nov =
        String::from_utf8(after[&PathBuf::from("monthly-files/2026/2026-11.md")].clone()).unwrap();
    let rows: Vec<&str> = nov.lines().skip(4).collect();
    assert_eq!(rows.len(), 6);
    let mut sorted = rows.clone();
    sorted.sort_by(|a, b| b[3..23].cmp(&a[3..23]).then(b.cmp(a)));
    assert_eq!(rows, sorted);

    // Home: past years' tables byte for byte as upstream wrote them.
    let home_before = String::from_utf8(before[&PathBuf::from("Home.md")].clone()).unwrap();
    let home_after = String::from_utf8(after[&PathBuf::from("Home.md")].clone()).unwrap();
    for year in [2023, 2024] {
        assert_eq!(
            year_section(&home_after, year),
            year_section(&home_before, year)
        );
    }
    let y2026 = year_section(&home_after, 2026);
    assert!(y2026.contains("| [`2026-11`](./2026-11) |        1 |        6 | [2](https://github.com/jupyter/docker-stacks/commits/main/?since=2026-11-01&until=2026-11-30) |"), "{y2026}");
    let y2025 = year_section(&home_after, 2025);
    assert!(
        y2025.contains("| [`2025-06`](./2025-06) |        3 |       13 |"),
        "{y2025}"
    );

    // Pruning: the newest `keep` manifests stay, and they are the newest.
    let manifests: Vec<&PathBuf> = after
        .keys()
        .filter(|p| p.starts_with("manifests"))
        .collect();
    assert_eq!(manifests.len(), keep);
    let stamp = |bytes: &[u8]| {
        let t = String::from_utf8_lossy(bytes).to_string();
        let at = t.find("Build timestamp: ").unwrap() + 17;
        t[at..at + 20].to_string()
    };
    let oldest_kept = manifests.iter().map(|p| stamp(&after[*p])).min().unwrap();
    let pruned: Vec<&PathBuf> = before
        .keys()
        .filter(|p| p.starts_with("manifests") && !after.contains_key(*p))
        .collect();
    assert_eq!(pruned.len(), u.manifests + builds.len() - keep);
    assert!(pruned.iter().all(|p| stamp(&before[*p]) <= oldest_kept));
    // Kept manifests were not rewritten.
    for p in manifests.iter().filter(|p| before.contains_key(**p)) {
        assert_eq!(new_times[*p], times[*p], "{} was rewritten", p.display());
    }

    // Idempotent: a second run changes nothing at all.
    let second = ok(update(
        &u.wiki,
        &inputs,
        &u.repo,
        &[
            "--keep",
            "100",
            "--root-image",
            "base-notebook",
            "--repository",
            REPOSITORY,
        ],
    ));
    assert_eq!(tree(&u.wiki), after, "{}", text(&second));
    assert_eq!(mtimes(&u.wiki), new_times);
    assert!(String::from_utf8_lossy(&second.stdout)
        .contains("0 manifests added (7 already there), 0 rows added"));
}

#[test]
fn a_page_changed_by_hand_is_read_again_not_trusted_from_the_index() {
    let u = upstream_wiki();
    let inputs = u.dir.join("hook");
    write_hook_output(&inputs, &run("2026-11".parse().unwrap(), 24, 900, false));
    let args = ["--root-image", "base-notebook", "--repository", REPOSITORY];
    ok(update(&u.wiki, &inputs, &u.repo, &args));
    // Someone removes a row of 2024-05 by hand (or upstream's script ran).
    let page = u.wiki.join("monthly-files/2024/2024-05.md");
    let page_text = std::fs::read_to_string(&page).unwrap();
    let first_row = page_text.lines().nth(4).unwrap().to_string();
    std::fs::write(&page, page_text.replacen(&format!("{first_row}\n"), "", 1)).unwrap();
    let out = ok(update(&u.wiki, &inputs, &u.repo, &args));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("2024-05.md: changed outside stacktag"),
        "{}",
        text(&out)
    );
    let home = std::fs::read_to_string(u.wiki.join("Home.md")).unwrap();
    assert!(
        home.contains("| [`2024-05`](./2024-05) |        4 |       23 |"),
        "{home}"
    );
}

/// Home's commit counts are what upstream's command counts:
/// `TZ=UTC git log --oneline --first-parent --since {month}.midnight --until {next}.midnight`.
#[test]
fn commits_per_month_are_what_git_log_first_parent_counts() {
    let tmp = tempfile::tempdir().unwrap();
    fixture_repo(tmp.path());
    let counted = stacktag::wiki::commits::Commits::count(tmp.path()).unwrap();
    assert!(!counted.by_month.is_empty());
    for month in [
        "2023-01", "2023-03", "2023-04", "2024-05", "2025-06", "2026-11", "2026-12",
    ] {
        let m: stacktag::wiki::month::Month = month.parse().unwrap();
        let out = Command::new("git")
            .args(["log", "--oneline", "--first-parent", "--since"])
            .arg(format!("{}.midnight", m.first_day()))
            .arg("--until")
            .arg(format!("{}.midnight", m.next().first_day()))
            .current_dir(tmp.path())
            .env("TZ", "UTC")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        let git = String::from_utf8_lossy(&out.stdout).lines().count() as u64;
        assert_eq!(counted.in_month(m), git, "{month}");
    }
    // 2024-05: two commits and a merge on the first-parent line; the merged
    // side branch's own commit is not counted (all history would give 4).
    assert_eq!(counted.in_month("2024-05".parse().unwrap()), 3);
    let all = Command::new("git")
        .args([
            "rev-list",
            "--count",
            "--all",
            "--since=2024-05-01.midnight",
            "--until=2024-06-01.midnight",
        ])
        .current_dir(tmp.path())
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&all.stdout).trim(), "4");
}

#[test]
fn a_monthly_page_not_in_upstream_shape_is_refused_with_its_path() {
    let u = upstream_wiki();
    let inputs = u.dir.join("hook");
    write_hook_output(&inputs, &run("2025-06".parse().unwrap(), 28, 901, false));
    let page = u.wiki.join("monthly-files/2025/2025-06.md");
    std::fs::write(&page, "# Someone rewrote this page\n").unwrap();
    let before = tree(&u.wiki);
    let out = update(&u.wiki, &inputs, &u.repo, &["--repository", REPOSITORY]);
    assert_eq!(out.status.code(), Some(9), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("monthly-files/2025/2025-06.md: not a monthly page"),
        "{err}"
    );
    assert_eq!(tree(&u.wiki), before);
}

#[test]
fn temporary_files_of_a_killed_update_are_swept() {
    let u = upstream_wiki();
    let inputs = u.dir.join("hook");
    write_hook_output(&inputs, &run("2026-11".parse().unwrap(), 24, 900, false));
    let stale = u
        .wiki
        .join("monthly-files/2025/2025-06.md.stacktag-wiki-999999.tmp");
    std::fs::write(&stale, "half a page").unwrap();
    let out = ok(update(
        &u.wiki,
        &inputs,
        &u.repo,
        &["--repository", REPOSITORY],
    ));
    assert!(!stale.exists());
    assert!(String::from_utf8_lossy(&out.stderr).contains("left by an update that was killed"));
}

/// Golden files: Home.md and a monthly page of a small deterministic wiki.
/// `STACKTAG_BLESS=1 cargo test --test integration wiki::golden` rewrites them.
#[test]
fn golden_home_and_monthly_page() {
    let tmp = tempfile::tempdir().unwrap();
    let (wiki, repo) = (tmp.path().join("w"), tmp.path().join("r"));
    fixture_repo(&repo);
    git2::Repository::init(&wiki).unwrap();
    let mut builds = run("2026-11".parse().unwrap(), 3, 7, false);
    builds.extend(run("2026-11".parse().unwrap(), 9, 8, false));
    builds.extend(run("2025-02".parse().unwrap(), 14, 9, false));
    write_hook_output(&tmp.path().join("in"), &builds);
    ok(update(
        &wiki,
        &tmp.path().join("in"),
        &repo,
        &["--repository", REPOSITORY],
    ));
    for (file, golden) in [
        ("Home.md", "tests/golden/wiki-Home.md"),
        (
            "monthly-files/2026/2026-11.md",
            "tests/golden/wiki-monthly-2026-11.md",
        ),
    ] {
        let got = std::fs::read_to_string(wiki.join(file)).unwrap();
        crate::support::golden(golden.trim_start_matches("tests/golden/"), &got);
    }
}

fn refused_input(corrupt: impl Fn(&Path), expect: &str) {
    let u = upstream_wiki();
    let inputs = u.dir.join("hook");
    write_hook_output(&inputs, &run("2026-11".parse().unwrap(), 24, 900, false));
    corrupt(&inputs);
    let before = tree(&u.wiki);
    let out = update(&u.wiki, &inputs, &u.repo, &["--repository", REPOSITORY]);
    assert_eq!(out.status.code(), Some(9), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nothing was written"), "{err}");
    assert!(err.contains(expect), "{err}");
    assert_eq!(tree(&u.wiki), before, "the wiki changed");
}

#[test]
fn a_manifest_cut_short_is_refused_with_its_file_name_and_nothing_is_written() {
    refused_input(
        |inputs| {
            let victim = inputs.join("manifests").join(format!(
                "x86_64-default-minimal-notebook-{}.md",
                &sha40(900)[..12]
            ));
            let text = std::fs::read_to_string(&victim).unwrap();
            std::fs::write(&victim, &text[..text.len() - 30]).unwrap();
        },
        &format!(
            "manifests/x86_64-default-minimal-notebook-{}.md: does not end with a newline (cut short?)",
            &sha40(900)[..12]
        ),
    );
}

#[test]
fn a_history_line_that_does_not_parse_is_refused_with_its_file_name() {
    refused_input(
        |inputs| {
            let victim = inputs.join("hist_lines").join(format!(
                "aarch64-default-base-notebook-{}.txt",
                &sha40(900)[..12]
            ));
            std::fs::write(&victim, "| `yesterday` | half a line").unwrap();
        },
        &format!("hist_lines/aarch64-default-base-notebook-{}.txt: the first column is not a build timestamp", &sha40(900)[..12]),
    );
}

#[test]
fn a_second_update_of_the_same_wiki_is_refused_or_waits() {
    let u = upstream_wiki();
    let inputs = u.dir.join("hook");
    write_hook_output(&inputs, &run("2026-11".parse().unwrap(), 24, 900, false));
    // Another update holds the lock (the same flock stacktag takes).
    let lock = std::fs::File::create(u.wiki.join(".git/stacktag-wiki.lock")).unwrap();
    lock.lock().unwrap();
    let before = tree(&u.wiki);
    let out = update(&u.wiki, &inputs, &u.repo, &["--repository", REPOSITORY]);
    assert_eq!(out.status.code(), Some(10), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is being updated by another stacktag"));
    assert_eq!(tree(&u.wiki), before);

    // With --wait, it waits for the other one to finish, then runs.
    let (w, h, m, r) = (
        u.wiki.display().to_string(),
        inputs.join("hist_lines").display().to_string(),
        inputs.join("manifests").display().to_string(),
        u.repo.display().to_string(),
    );
    let started = Instant::now();
    let child = crate::support::stacktag("t-wiki-lock")
        .args([
            "wiki",
            "--wiki-dir",
            &w,
            "--hist-lines-dir",
            &h,
            "--manifests-dir",
            &m,
        ])
        .args(["--repo-dir", &r, "--repository", REPOSITORY, "--wait", "30"])
        .current_dir(ROOT)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(tree(&u.wiki), before, "wrote while the lock was held");
    drop(lock);
    let out = ok(child.wait_with_output().unwrap());
    assert!(started.elapsed() >= Duration::from_millis(800));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("waiting up to 30s"),
        "{}",
        text(&out)
    );
    assert!(tree(&u.wiki).contains_key(Path::new("monthly-files/2026/2026-11.md")));
}

/// The demo stack's own builds: `stacktag hook --all` on the real daemon,
/// then the wiki, twice.
#[test]
fn the_demo_stack_builds_from_the_real_hook_go_into_a_wiki() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    let o = out_dir.display().to_string();
    let hook = stacktag(&["--quiet", "hook", "--all", "--out-dir", &o]);
    // This run's containers only: other tests run beside it on the daemon.
    let left = crate::support::containers_of("t-wiki");
    assert!(hook.status.success(), "{}", text(&hook));
    let images = std::fs::read_dir(out_dir.join("manifests"))
        .unwrap()
        .count();
    assert!(images >= 6);

    let wiki = tmp.path().join("wiki");
    git2::Repository::init(&wiki).unwrap();
    ok(update(
        &wiki,
        &out_dir,
        Path::new(ROOT),
        &["--branch", "main"],
    ));
    let once = tree(&wiki);
    ok(update(
        &wiki,
        &out_dir,
        Path::new(ROOT),
        &["--branch", "main"],
    ));
    assert_eq!(tree(&wiki), once, "a second run changed the wiki");

    let home = std::fs::read_to_string(wiki.join("Home.md")).unwrap();
    let line = std::fs::read_dir(out_dir.join("hist_lines"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let month = &std::fs::read_to_string(line).unwrap()[3..10];
    let row = format!("| [`{month}`](./{month}) |        1 |        {images} |");
    assert!(home.contains(&row), "{row} not in\n{home}");
    assert!(home.contains("https://github.com/stacktag/demo-stack/commits/main/?since="));
    let page =
        std::fs::read_to_string(wiki.join(format!("monthly-files/{}/{month}.md", &month[..4])))
            .unwrap();
    assert_eq!(page.lines().count(), 4 + images);
    assert_eq!(left, 0, "containers left behind");
}

/// Chromium, headless, for the site test; installed by `make chromium` (`make test` does it).
pub(crate) fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser"].iter().find_map(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|_| PathBuf::from(c))
    })
}

pub(crate) fn browse(chromium: &Path, profile: &Path, what: &[String]) -> String {
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(what)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// The href of the first `<a>` whose text contains `label`.
fn href_of(dom: &str, label: &str) -> String {
    let at = dom
        .find(label)
        .unwrap_or_else(|| panic!("{label} not in\n{dom}"));
    let a = dom[..at].rfind("<a href=\"").unwrap() + 9;
    let end = dom[a..].find('"').unwrap();
    dom[a..a + end].replace("&amp;", "&")
}

#[test]
fn the_site_renders_and_its_links_work_in_headless_chromium() {
    let chromium = chromium().expect(
        "headless chromium is needed for the site test: `make chromium` installs it (`make test` does)",
    );
    let u = upstream_wiki();
    let inputs = u.dir.join("hook");
    let builds = run("2026-11".parse().unwrap(), 24, 900, false);
    write_hook_output(&inputs, &builds);
    // Container output that tries to run a script, inside and outside a code block.
    let target = &builds[4];
    let manifest = inputs.join("manifests").join(format!("{}.md", target.page));
    let text = std::fs::read_to_string(&manifest).unwrap().replace(
        "bash/now 5.2.21-2ubuntu4 amd64 [installed,local]\n",
        "bash/now 5.2.21-2ubuntu4 amd64 [installed,local]\n<script>document.title='pwned'</script>\n",
    ) + "\n<script>document.title='pwned'</script>\n";
    std::fs::write(&manifest, text).unwrap();
    let site = u.dir.join("site");
    let s = site.display().to_string();
    let out = ok(update(
        &u.wiki,
        &inputs,
        &u.repo,
        &["--repository", REPOSITORY, "--html", &s],
    ));
    assert!(String::from_utf8_lossy(&out.stdout).contains("pages rendered"));

    let profile = tempfile::tempdir().unwrap();
    let home_url = format!("file://{}", site.join("index.html").display());
    let home = browse(&chromium, profile.path(), &["--dump-dom".into(), home_url]);
    assert!(home.contains("<table>"), "{home}");
    assert!(home.contains("<strong>Total</strong>"));

    // Follow the month link, as a reader does.
    let month_href = href_of(&home, "<code>2026-11</code>");
    assert_eq!(month_href, "./2026-11.html");
    let month_url = format!("file://{}", site.join(&month_href[2..]).display());
    let month = browse(&chromium, profile.path(), &["--dump-dom".into(), month_url]);
    assert!(month.contains("Images built during 2026-11"), "{month}");
    assert_eq!(month.matches("<tr>").count(), 1 + 6, "{month}");
    assert!(month.contains(&format!(
        "<code>quay.io/jupyter/{}:{}-python-3.12</code>",
        target.image, target.platform
    )));
    assert!(
        month.contains("<br>"),
        "history rows break lines in their cells"
    );

    // Then the manifest link of one row.
    let manifest_href = format!("./{}.html", target.page);
    assert!(
        month.contains(&format!("<a href=\"{manifest_href}\">Build manifest</a>")),
        "{month}"
    );
    let manifest_url = format!("file://{}", site.join(&manifest_href[2..]).display());
    let page = browse(
        &chromium,
        profile.path(),
        &["--dump-dom".into(), manifest_url.clone()],
    );
    assert!(
        page.contains(
            "<pre><code class=\"language-text\"><a class=\"pkg\" href=\"./search.html?q=apt:adduser\" title=\"Every build with adduser\">adduser</a>/now 3.137ubuntu1 all [installed,local]"
        ),
        "{page}"
    );
    assert!(
        page.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;"),
        "{page}"
    );
    assert!(
        !page.contains("<script"),
        "a script element made it into the page:\n{page}"
    );
    assert!(!page.contains("pwned</title>"));

    // One screenshot, kept as a test artifact.
    let artifacts = Path::new(ROOT).join("tests/artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("wiki-month.png");
    let _ = std::fs::remove_file(&shot);
    let month_url = format!("file://{}", site.join("2026-11.html").display());
    browse(
        &chromium,
        profile.path(),
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1200,900".into(),
            month_url,
        ],
    );
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 10_000,
        "empty screenshot"
    );
    eprintln!("screenshot: {}", shot.display());
}
