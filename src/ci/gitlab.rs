//! The `.gitlab-ci.yml` of a [`Pipeline`]: the same jobs as the GitHub
//! workflow, with `needs:` (artifacts passed along them), runner `tags:`, a
//! `resource_group` for the one wiki writer.

use std::fmt::Write;

use super::{shell, Build, Pipeline};
use crate::formats::tags::Platform;

fn publish_rule(p: &Pipeline) -> String {
    format!(
        "$CI_COMMIT_BRANCH == \"{}\" && $CI_PIPELINE_SOURCE != \"merge_request_event\"",
        p.ci.branch
    )
}

pub fn render(p: &Pipeline) -> String {
    let mut y = super::banner(p, "gitlab");
    y += "# Build jobs need a runner with a Docker daemon (selected by `tags:`); the\n";
    y += "# others need none. CI/CD variables: the registry credentials";
    let _ = writeln!(
        y,
        " ({}, {}),\n# and WIKI_TOKEN (or STACKTAG_WIKI_REPO) for the wiki.",
        p.ci.user_secret, p.ci.password_secret
    );
    if let Some(cron) = &p.ci.schedule {
        let _ = writeln!(
            y,
            "# Schedule a pipeline (`{cron}`) to rebuild images whose `refresh:` period has passed."
        );
    }
    y += "\nworkflow:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n";
    let _ = writeln!(y, "    - if: $CI_COMMIT_BRANCH == \"{}\"", p.ci.branch);
    y += "    - if: $CI_PIPELINE_SOURCE == \"schedule\" || $CI_PIPELINE_SOURCE == \"web\"\n\n";
    y += "stages: [build, push, merge, wiki]\n\n";
    y += "variables:\n";
    let _ = writeln!(y, "  STACKTAG_CONFIG: {}", p.config);
    let _ = writeln!(y, "  STACKTAG_OUT_DIR: {}", shell::OUT);
    let _ = writeln!(y, "  STACKTAG_REGISTRY_USER: ${}", p.ci.user_secret);
    let _ = writeln!(y, "  STACKTAG_REGISTRY_PASSWORD: ${}", p.ci.password_secret);
    y += "\n.stacktag:\n  before_script:\n";
    let mut install = shell::install(p, "$CI_PROJECT_DIR/.stacktag/bin");
    install += "export PATH=\"$bin:$PATH\"\n";
    script(&mut y, "  ", &install);
    y += "\n.publish:\n  rules:\n";
    let _ = writeln!(y, "    - if: {}", publish_rule(p));
    y += "\n";
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

/// `script:` (or `before_script:`'s items) as one literal block.
fn script(y: &mut String, indent: &str, text: &str) {
    let _ = writeln!(y, "{indent}  - |");
    for line in text.lines() {
        if line.is_empty() {
            *y += "\n";
        } else {
            let _ = writeln!(y, "{indent}    {line}");
        }
    }
}

fn tags(p: &Pipeline, platform: Platform) -> &str {
    p.ci.gitlab_tags
        .iter()
        .find(|r| r.platform == platform)
        .map_or("saas-linux-small-amd64", |r| r.label.as_str())
}

fn needs(y: &mut String, jobs: &[(String, bool)]) {
    if jobs.is_empty() {
        *y += "  needs: []\n";
        return;
    }
    *y += "  needs:\n";
    for (job, artifacts) in jobs {
        let _ = writeln!(y, "    - job: {job}\n      artifacts: {artifacts}");
    }
}

fn build_job(y: &mut String, p: &Pipeline, b: &Build) {
    let _ = writeln!(y, "{}:", b.id());
    *y += "  extends: .stacktag\n  stage: build\n";
    let _ = writeln!(y, "  tags: [{}]", tags(p, b.platform));
    let parent: Vec<(String, bool)> = b.parent.iter().map(|j| (j.clone(), true)).collect();
    needs(y, &parent);
    *y += "  script:\n";
    let publish = format!(
        "[ \"$CI_COMMIT_BRANCH\" = {} ] && [ \"$CI_PIPELINE_SOURCE\" != merge_request_event ]",
        p.ci.branch
    );
    script(y, "", &shell::build(b, &publish));
    *y += "  artifacts:\n    expire_in: 3 days\n    paths:\n";
    let _ = writeln!(y, "      - {}/{}/", shell::ARCHIVES, b.stem());
    for f in shell::build_files(b) {
        let _ = writeln!(y, "      - {f}");
    }
    *y += "\n";
}

fn push_job(y: &mut String, p: &Pipeline, platform: Platform) {
    let _ = writeln!(y, "push-{platform}:");
    *y += "  extends: [.stacktag, .publish]\n  stage: push\n";
    let jobs: Vec<(String, bool)> = p.builds_on(platform).map(|b| (b.id(), true)).collect();
    needs(y, &jobs);
    *y += "  script:\n";
    script(y, "", &shell::push(p, platform));
    // The builds' small files, passed on: the merge and wiki jobs need them,
    // not the archives.
    let _ = writeln!(
        y,
        "  artifacts:\n    expire_in: 30 days\n    paths:\n      - {}/\n",
        shell::OUT
    );
}

fn merge_job(y: &mut String, p: &Pipeline, m: &super::Merge) {
    let _ = writeln!(y, "{}:", m.id());
    *y += "  extends: [.stacktag, .publish]\n  stage: merge\n";
    // The push jobs pass on the builds' tags files; the archives stay behind.
    let jobs: Vec<(String, bool)> =
        p.ci.platforms
            .iter()
            .map(|pl| (format!("push-{pl}"), true))
            .collect();
    needs(y, &jobs);
    *y += "  script:\n";
    script(y, "", &shell::merge(p, m, p.ci.sign));
    if p.ci.sign {
        *y += "  id_tokens:\n    SIGSTORE_ID_TOKEN:\n      aud: sigstore\n";
    }
    let _ = writeln!(
        y,
        "  artifacts:\n    paths:\n      - build/digests-{}.json\n",
        m.image
    );
}

fn wiki_job(y: &mut String, p: &Pipeline) {
    *y += "wiki:\n  extends: [.stacktag, .publish]\n  stage: wiki\n";
    *y += "  # One writer at a time.\n  resource_group: stacktag-wiki\n";
    let mut jobs: Vec<(String, bool)> = p.merges.iter().map(|m| (m.id(), false)).collect();
    jobs.extend(p.ci.platforms.iter().map(|pl| (format!("push-{pl}"), true)));
    needs(y, &jobs);
    *y += "  script:\n";
    let mut text = String::from(
        "repo=\"${STACKTAG_WIKI_REPO:-https://oauth2:${WIKI_TOKEN}@${CI_SERVER_HOST}/${CI_PROJECT_PATH}.wiki.git}\"\n",
    );
    text += &shell::wiki("$CI_COMMIT_SHA");
    script(y, "", &text);
}
