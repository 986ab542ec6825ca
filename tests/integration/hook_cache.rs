//! The hook's cache: a re-run on an unchanged image starts no container (the
//! daemon's events say so), gives the same tags, and a broken entry is
//! ignored and rewritten.

use std::process::Output;

use crate::support::*;

/// `stacktag hook box` with run id `run`, the cache in `cache`.
fn hook(dir: &std::path::Path, config: &std::path::Path, run: &str, extra: &[&str]) -> Output {
    let out = stacktag_config(run, config)
        .args(["hook", "box", "--out-dir"])
        .arg(dir.join("out"))
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    out
}

/// Container events of the daemon for one run id, between `since` and now.
fn container_events(run: &str, since: u64) -> Vec<String> {
    let until = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1;
    docker(&[
        "events",
        "--since",
        &since.to_string(),
        "--until",
        &until.to_string(),
        "--filter",
        "type=container",
        "--filter",
        &format!("label=org.stacktag.run={run}"),
        "--format",
        "{{.Action}}",
    ])
    .lines()
    .map(str::to_string)
    .collect()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn a_rerun_on_an_unchanged_image_starts_no_container() {
    let owner = "wtbuild-hcache";
    let _image = TestImage::new(owner, "");
    let dir = tempfile::tempdir().unwrap();
    let config = hierarchy(
        dir.path(),
        owner,
        "  box:\n    taggers: [date, os_version]\n",
    );
    let cache = dir.path().join("cache");
    let cache_arg = ["--cache-dir", cache.to_str().unwrap()];
    let tags_file = dir.path().join("out/tags/x86_64-default-box.txt");

    let since = now();
    let first = hook(dir.path(), &config, "wtbuild-hc-1", &cache_arg);
    assert!(
        text(&first.stderr).contains("container started"),
        "{}",
        text(&first.stderr)
    );
    assert!(container_events("wtbuild-hc-1", since).contains(&"create".to_string()));
    let tags = std::fs::read_to_string(&tags_file).unwrap();
    let entries = files_under(&cache);
    assert!(!entries.is_empty(), "nothing kept in {}", cache.display());

    let since = now();
    let second = hook(dir.path(), &config, "wtbuild-hc-2", &cache_arg);
    let err = text(&second.stderr);
    assert!(
        err.contains("all from the cache: no container started"),
        "{err}"
    );
    assert_eq!(
        container_events("wtbuild-hc-2", since),
        Vec::<String>::new()
    );
    assert_eq!(std::fs::read_to_string(&tags_file).unwrap(), tags);

    // A cut-short entry is not trusted: the command runs and the entry is whole again.
    for e in &entries {
        let path = cache.join(e);
        let text = std::fs::read(&path).unwrap();
        std::fs::write(&path, &text[..text.len() / 2]).unwrap();
    }
    let since = now();
    let third = hook(dir.path(), &config, "wtbuild-hc-3", &cache_arg);
    assert!(
        text(&third.stderr).contains("container started"),
        "{}",
        text(&third.stderr)
    );
    assert!(container_events("wtbuild-hc-3", since).contains(&"create".to_string()));
    assert_eq!(std::fs::read_to_string(&tags_file).unwrap(), tags);
    for e in &entries {
        let entry: serde_json::Value =
            serde_json::from_slice(&std::fs::read(cache.join(e)).unwrap())
                .expect("rewritten whole");
        assert_eq!(entry["exit_code"], 0);
    }

    // --no-cache runs every command.
    let since = now();
    let fourth = hook(dir.path(), &config, "wtbuild-hc-4", &["--no-cache"]);
    assert!(text(&fourth.stderr).contains("container started"));
    assert!(container_events("wtbuild-hc-4", since).contains(&"create".to_string()));
    for run in [
        "wtbuild-hc-1",
        "wtbuild-hc-2",
        "wtbuild-hc-3",
        "wtbuild-hc-4",
    ] {
        assert_no_containers(run);
    }
}
