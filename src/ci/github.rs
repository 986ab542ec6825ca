//! The GitHub Actions workflow of a [`Pipeline`]. Actions are pinned by
//! commit (the tag in a comment); no `${{ }}` reaches a shell script (values
//! go through `env:`); every job has the least permissions it needs.

use std::fmt::Write;

use super::{shell, Build, Pipeline};
use crate::formats::tags::Platform;

const CHECKOUT: &str = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1";
const UPLOAD: &str = "actions/upload-artifact@043fb46d1a93c77aae656e7c1c64a875d1fc6a0a # v7.0.1";
const DOWNLOAD: &str =
    "actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c # v8.0.1";
const COSIGN: &str = "sigstore/cosign-installer@6f9f17788090df1f26f669e9d70d6ae9567deba6 # v4.1.2";

/// Publishing runs: the default branch (pushed or scheduled), never a pull request.
fn publish_if(p: &Pipeline) -> String {
    format!(
        "github.event_name != 'pull_request' && github.ref == 'refs/heads/{}'",
        p.ci.branch
    )
}

pub fn render(p: &Pipeline) -> String {
    let mut y = super::banner(p, "github");
    let _ = writeln!(y, "name: stacktag\n");
    y += "on:\n";
    let _ = writeln!(y, "  push:\n    branches: [{}]", p.ci.branch);
    y += "  pull_request:\n";
    if let Some(cron) = &p.ci.schedule {
        y += "  # Rebuilds what is stale: images whose `refresh:` period has passed.\n";
        let _ = writeln!(y, "  schedule:\n    - cron: \"{cron}\"");
    }
    y += "  workflow_dispatch:\n\n";
    y += "permissions: {}\n\n";
    y += "concurrency:\n  group: ${{ github.workflow }}-${{ github.ref }}\n  cancel-in-progress: ${{ github.event_name == 'pull_request' }}\n\n";
    y += "env:\n";
    let _ = writeln!(y, "  STACKTAG_CONFIG: {}", p.config);
    let _ = writeln!(y, "  STACKTAG_OUT_DIR: {}", shell::OUT);
    let _ = writeln!(y, "  PUBLISH: ${{{{ {} }}}}", publish_if(p));
    y += "\njobs:\n";
    for b in &p.builds {
        build_job(&mut y, p, b);
    }
    for platform in &p.ci.platforms {
        push_job(&mut y, p, *platform);
    }
    for m in &p.merges {
        merge_job(&mut y, p, m);
    }
    wiki_job(&mut y, p);
    y
}

fn runner(p: &Pipeline, platform: Platform) -> &str {
    p.ci.runners
        .iter()
        .find(|r| r.platform == platform)
        .map_or("ubuntu-24.04", |r| r.label.as_str())
}

/// `run: |` with the script indented under it.
fn run(y: &mut String, script: &str) {
    *y += "        run: |\n";
    for line in script.lines() {
        if line.is_empty() {
            *y += "\n";
        } else {
            let _ = writeln!(y, "          {line}");
        }
    }
}

fn registry_env(y: &mut String, p: &Pipeline) {
    *y += "        env:\n";
    let _ = writeln!(
        y,
        "          STACKTAG_REGISTRY_USER: ${{{{ secrets.{} }}}}",
        p.ci.user_secret
    );
    let _ = writeln!(
        y,
        "          STACKTAG_REGISTRY_PASSWORD: ${{{{ secrets.{} }}}}",
        p.ci.password_secret
    );
}

fn checkout_install(y: &mut String, p: &Pipeline) {
    let _ = writeln!(
        y,
        "      - uses: {CHECKOUT}\n        with:\n          persist-credentials: false"
    );
    *y += "      - name: Install stacktag (release binary, checksum checked)\n";
    let mut script = shell::install(p, "$RUNNER_TEMP/stacktag");
    script += "echo \"$bin\" >> \"$GITHUB_PATH\"\n";
    run(y, &script);
}

fn build_job(y: &mut String, p: &Pipeline, b: &Build) {
    let _ = writeln!(y, "  {}:", b.id());
    let _ = writeln!(
        y,
        "    name: build {} {} {}",
        b.platform, b.variant, b.image
    );
    if let Some(parent) = &b.parent {
        let _ = writeln!(y, "    needs: [{parent}]");
    }
    let _ = writeln!(y, "    runs-on: {}", runner(p, b.platform));
    y.push_str("    permissions:\n      contents: read\n    steps:\n");
    checkout_install(y, p);
    if let Some(parent) = &b.parent {
        let stem = parent.trim_start_matches("build-");
        let _ = writeln!(
            y,
            "      - name: The parent's archive\n        uses: {DOWNLOAD}\n        with:\n          name: image-{stem}\n          path: {}/{stem}",
            shell::ARCHIVES
        );
    }
    y.push_str("      - name: Build, hook, save\n");
    registry_env(y, p);
    run(y, &shell::build(b, "[ \"$PUBLISH\" = true ]"));
    let stem = b.stem();
    let _ = writeln!(
        y,
        "      - name: Keep the archive\n        uses: {UPLOAD}\n        with:\n          name: image-{stem}\n          path: {}/{stem}\n          retention-days: 3\n          if-no-files-found: error",
        shell::ARCHIVES
    );
    let _ = writeln!(
        y,
        "      - name: Keep the tags file, manifest, history line, SBOMs and build log\n        if: ${{{{ !cancelled() }}}}\n        uses: {UPLOAD}\n        with:\n          name: files-{stem}\n          path: |"
    );
    for f in shell::build_files(b) {
        let _ = writeln!(y, "            {f}");
    }
    y.push_str("          retention-days: 30\n\n");
}

fn push_job(y: &mut String, p: &Pipeline, platform: Platform) {
    let _ = writeln!(y, "  push-{platform}:");
    let _ = writeln!(y, "    name: push {platform}");
    let needs: Vec<String> = p.builds_on(platform).map(Build::id).collect();
    let _ = writeln!(y, "    needs: [{}]", needs.join(", "));
    let _ = writeln!(y, "    if: {}", publish_if(p));
    y.push_str("    runs-on: ubuntu-24.04\n    permissions:\n      contents: read\n    steps:\n");
    checkout_install(y, p);
    for b in p.builds_on(platform) {
        let stem = b.stem();
        let _ = writeln!(
            y,
            "      - uses: {DOWNLOAD}\n        with:\n          name: image-{stem}\n          path: {}/{stem}",
            shell::ARCHIVES
        );
    }
    let _ = writeln!(
        y,
        "      - uses: {DOWNLOAD}\n        with:\n          pattern: files-{platform}-*\n          merge-multiple: true\n          path: {}",
        shell::OUT
    );
    y.push_str("      - name: Push the platform tags, SBOMs attached (no Docker daemon)\n");
    registry_env(y, p);
    run(y, &shell::push(p, platform));
    y.push('\n');
}

fn merge_job(y: &mut String, p: &Pipeline, m: &super::Merge) {
    let _ = writeln!(y, "  {}:", m.id());
    let _ = writeln!(y, "    name: merge {}", m.image);
    let needs: Vec<String> =
        p.ci.platforms
            .iter()
            .map(|pl| format!("push-{pl}"))
            .collect();
    let _ = writeln!(y, "    needs: [{}]", needs.join(", "));
    let _ = writeln!(y, "    if: {}", publish_if(p));
    y.push_str("    runs-on: ubuntu-24.04\n    permissions:\n      contents: read\n");
    if p.ci.sign {
        y.push_str("      id-token: write # cosign keyless signing\n");
    }
    y.push_str("    steps:\n");
    checkout_install(y, p);
    for platform in &p.ci.platforms {
        for v in &m.variants {
            let _ = writeln!(
                y,
                "      - uses: {DOWNLOAD}\n        with:\n          name: files-{}\n          path: {}",
                super::stem(*platform, v, &m.image),
                shell::OUT
            );
        }
    }
    if p.ci.sign {
        let _ = writeln!(y, "      - uses: {COSIGN}");
    }
    y.push_str("      - name: Merge the multi-platform tags, list the digests\n");
    registry_env(y, p);
    run(y, &shell::merge(p, m, p.ci.sign));
    let _ = writeln!(
        y,
        "      - name: Keep the digests\n        uses: {UPLOAD}\n        with:\n          name: digests-{}\n          path: build/digests-{}.json\n",
        m.image, m.image
    );
}

fn wiki_job(y: &mut String, p: &Pipeline) {
    y.push_str("  wiki:\n    name: wiki\n");
    let needs: Vec<String> = p.merges.iter().map(super::Merge::id).collect();
    let _ = writeln!(y, "    needs: [{}]", needs.join(", "));
    let _ = writeln!(y, "    if: {}", publish_if(p));
    y.push_str("    runs-on: ubuntu-24.04\n");
    y.push_str("    # One writer at a time: runs queue, none is cancelled.\n");
    y.push_str("    concurrency:\n      group: stacktag-wiki\n      cancel-in-progress: false\n");
    y.push_str("    permissions:\n      contents: write # the wiki repository\n    steps:\n");
    checkout_install(y, p);
    let _ = writeln!(
        y,
        "      - uses: {DOWNLOAD}\n        with:\n          pattern: files-*\n          merge-multiple: true\n          path: {}",
        shell::OUT
    );
    y.push_str("      - name: Add the builds to the wiki\n");
    y.push_str("        env:\n          GITHUB_TOKEN: ${{ github.token }}\n");
    let mut script = String::from(
        r#"repo="$GITHUB_SERVER_URL/$GITHUB_REPOSITORY.wiki.git"
basic="$(printf 'x-access-token:%s' "$GITHUB_TOKEN" | base64 -w0)"
export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0="http.$GITHUB_SERVER_URL/.extraheader"
export GIT_CONFIG_VALUE_0="AUTHORIZATION: basic $basic"
"#,
    );
    script += &shell::wiki("$GITHUB_SHA");
    run(y, &script);
}
