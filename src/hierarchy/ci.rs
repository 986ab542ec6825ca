//! `platforms:` and the `ci:` section of the hierarchy file: what
//! `stacktag ci` needs beyond the image tree. Only parsing and validation
//! live here; the pipelines are made in [`crate::ci`].

use super::error::Problems;
use super::names::did_you_mean;
use super::yaml::{Entry, Node};
use crate::formats::tags::Platform;

const CI_KEYS: &[&str] = &[
    "runners",
    "gitlab_tags",
    "registry_user_secret",
    "registry_password_secret",
    "schedule",
    "sign",
    "branch",
    "release_url",
];

/// The runner label of one platform (GitHub `runs-on`, GitLab `tags`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerLabel {
    pub platform: Platform,
    pub label: String,
}

/// `ci:`, every value filled in (defaults for what the file leaves out).
#[derive(Debug, Clone)]
pub struct CiSection {
    /// The stack's platforms as the pipelines build them: `platforms:`, else x86_64.
    pub platforms: Vec<Platform>,
    /// GitHub `runs-on` per platform, in `platforms` order.
    pub runners: Vec<RunnerLabel>,
    /// GitLab `tags:` per platform, in `platforms` order.
    pub gitlab_tags: Vec<RunnerLabel>,
    /// Names of the CI secrets (variables) holding the registry credentials.
    pub user_secret: String,
    pub password_secret: String,
    /// Cron line of the scheduled rebuild; `None`: no schedule.
    pub schedule: Option<String>,
    /// Sign every digest with cosign after the merge.
    pub sign: bool,
    /// The branch that publishes.
    pub branch: String,
    /// Where the jobs download stacktag's release archive (`{version}`, `{target}`).
    pub release_url: String,
}

pub mod ci_defaults {
    pub const SCHEDULE: &str = "0 3 * * 1";
    pub const BRANCH: &str = "main";
    pub const USER_SECRET: &str = "REGISTRY_USER";
    pub const PASSWORD_SECRET: &str = "REGISTRY_PASSWORD";
    pub const RELEASE_URL: &str = "https://github.com/stacktag/stacktag/releases/download/v{version}/stacktag-{version}-{target}.tar.gz";
}

/// Default runner labels: GitHub's hosted runners, GitLab.com's.
fn default_label(p: Platform, gitlab: bool) -> &'static str {
    match (p, gitlab) {
        (Platform::X86_64, false) => "ubuntu-24.04",
        (Platform::Aarch64, false) => "ubuntu-24.04-arm",
        (Platform::X86_64, true) => "saas-linux-small-amd64",
        (Platform::Aarch64, true) => "saas-linux-small-arm64",
    }
}

impl Default for CiSection {
    fn default() -> Self {
        let platforms = vec![Platform::X86_64];
        let labels = |gitlab| {
            platforms
                .iter()
                .map(|p| RunnerLabel {
                    platform: *p,
                    label: default_label(*p, gitlab).to_string(),
                })
                .collect()
        };
        CiSection {
            runners: labels(false),
            gitlab_tags: labels(true),
            platforms,
            user_secret: ci_defaults::USER_SECRET.into(),
            password_secret: ci_defaults::PASSWORD_SECRET.into(),
            schedule: Some(ci_defaults::SCHEDULE.into()),
            sign: false,
            branch: ci_defaults::BRANCH.into(),
            release_url: ci_defaults::RELEASE_URL.into(),
        }
    }
}

/// A CI secret or variable name: `[A-Za-z_][A-Za-z0-9_]*`.
fn is_variable(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Five cron fields of `[0-9*/,-]`.
fn is_cron(s: &str) -> bool {
    let fields: Vec<&str> = s.split_whitespace().collect();
    fields.len() == 5
        && fields
            .iter()
            .all(|f| f.chars().all(|c| c.is_ascii_digit() || "*/,-".contains(c)))
}

/// `platforms: [x86_64, aarch64]`: each once, each known; with its line.
pub(super) fn platforms(top: &[Entry], p: &mut Problems) -> Option<(Vec<Platform>, usize)> {
    let e = top.iter().find(|e| e.key == "platforms")?;
    let mut out = Vec::new();
    for (name, line) in e.value.texts(p, "`platforms`") {
        match name.parse::<Platform>() {
            Ok(pl) if out.contains(&pl) => p.push(line, format!("`platforms`: {pl} is listed twice")),
            Ok(pl) => out.push(pl),
            Err(_) => p.push(
                line,
                format!("`platforms`: unknown platform `{name}`; stacktag knows x86_64 (amd64) and aarch64 (arm64)"),
            ),
        }
    }
    if out.is_empty() {
        p.push(
            e.line,
            "`platforms` is empty: list at least one, e.g. `[x86_64]`".into(),
        );
        return None;
    }
    Some((out, e.line))
}

/// The `ci:` section, defaults for what it leaves out.
pub(super) fn section(
    top: &[Entry],
    stack: &Option<(Vec<Platform>, usize)>,
    p: &mut Problems,
) -> CiSection {
    let mut ci = CiSection::default();
    if let Some((ps, _)) = stack {
        ci.platforms = ps.clone();
    }
    let Some(e) = top.iter().find(|e| e.key == "ci") else {
        return ci;
    };
    let map: &[Entry] = match e.value.as_map() {
        Some(m) => m,
        None if e.value.is_null() => &[],
        None => {
            p.push(
                e.line,
                "`ci:` must be a map (`runners:`, `schedule:`, ...)".into(),
            );
            &[]
        }
    };
    for k in map {
        if !CI_KEYS.contains(&k.key.as_str()) {
            p.push(
                k.line,
                format!(
                    "unknown key `{}` in the `ci:` section{}; known keys: {}",
                    k.key,
                    did_you_mean(&k.key, CI_KEYS.iter().copied()),
                    CI_KEYS.join(", ")
                ),
            );
        }
    }
    let get = |key: &str| map.iter().find(|e| e.key == key);
    ci.runners = labels(get("runners"), "runners", &ci.platforms, stack, p, false);
    ci.gitlab_tags = labels(
        get("gitlab_tags"),
        "gitlab_tags",
        &ci.platforms,
        stack,
        p,
        true,
    );
    for (key, slot) in [
        ("registry_user_secret", &mut ci.user_secret),
        ("registry_password_secret", &mut ci.password_secret),
    ] {
        if let Some(e) = get(key) {
            if let Some(s) = e.value.text(p, &format!("`ci.{key}`")) {
                if is_variable(&s) {
                    *slot = s;
                } else {
                    p.push(e.line, format!("`ci.{key}: {s}` is not a secret name: letters, digits and `_`, not starting with a digit"));
                }
            }
        }
    }
    if let Some(e) = get("schedule") {
        if e.value.is_null() || e.value.as_bool() == Some(false) {
            ci.schedule = None;
        } else {
            match e.value.text(p, "`ci.schedule`") {
                Some(s) if is_cron(&s) => ci.schedule = Some(s),
                Some(s) => p.push(e.line, format!("`ci.schedule: {s}` is not a cron line of five fields (e.g. `\"0 3 * * 1\"`, Mondays at 03:00 UTC), or `false` for no scheduled rebuild")),
                None => {}
            }
        }
    }
    if let Some(e) = get("sign") {
        match e.value.as_bool() {
            Some(b) => ci.sign = b,
            None => p.push(e.line, "`ci.sign` must be true or false".into()),
        }
    }
    if let Some(e) = get("branch") {
        if let Some(s) = e.value.text(p, "`ci.branch`") {
            if s.is_empty()
                || s.contains(char::is_whitespace)
                || s.contains("..")
                || s.contains(['\'', '"', '$', '`'])
            {
                p.push(e.line, format!("`ci.branch: {s}` is not a branch name"));
            } else {
                ci.branch = s;
            }
        }
    }
    if let Some(e) = get("release_url") {
        if let Some(s) = e.value.text(p, "`ci.release_url`") {
            let scheme = ["https://", "http://", "file://"]
                .iter()
                .any(|x| s.starts_with(x));
            if !scheme || s.contains(char::is_whitespace) || s.contains(['\'', '"', '$', '`']) {
                p.push(e.line, format!("`ci.release_url: {s}` is not a URL (https://, http:// or file://, no quotes or `$`; `{{version}}` and `{{target}}` are filled in)"));
            } else {
                ci.release_url = s;
            }
        }
    }
    ci
}

/// `runners:` or `gitlab_tags:`: a label for every platform of the stack,
/// and none for a platform it does not build.
fn labels(
    entry: Option<&Entry>,
    key: &str,
    platforms: &[Platform],
    stack: &Option<(Vec<Platform>, usize)>,
    p: &mut Problems,
    gitlab: bool,
) -> Vec<RunnerLabel> {
    let defaults = platforms
        .iter()
        .map(|pl| RunnerLabel {
            platform: *pl,
            label: default_label(*pl, gitlab).to_string(),
        })
        .collect();
    let Some(entry) = entry else {
        return defaults;
    };
    let Some(given) = entry.value.as_map() else {
        p.push(
            entry.line,
            format!(
                "`ci.{key}` must be a map of platform to runner label, e.g. `x86_64: {}`",
                default_label(Platform::X86_64, gitlab)
            ),
        );
        return defaults;
    };
    let stack_says = match stack {
        Some((_, l)) => format!("`platforms:` at line {l}"),
        None => "no `platforms:` key, so x86_64 only".to_string(),
    };
    let mut out: Vec<RunnerLabel> = Vec::new();
    for e in given {
        let Ok(pl) = e.key.parse::<Platform>() else {
            p.push(
                e.line,
                format!(
                    "`ci.{key}`: unknown platform `{}`; stacktag knows x86_64 and aarch64",
                    e.key
                ),
            );
            continue;
        };
        if !platforms.contains(&pl) {
            p.push(e.line, format!("`ci.{key}`: a runner label for {pl}, which the stack does not build ({stack_says})\n  fix: add {pl} to `platforms:`, or remove this line"));
            continue;
        }
        if let Some(label) = label(&e.value, p, &format!("`ci.{key}.{}`", e.key)) {
            out.push(RunnerLabel {
                platform: pl,
                label,
            });
        }
    }
    for pl in platforms {
        if !out.iter().any(|r| r.platform == *pl) {
            p.push(entry.line, format!("`ci.{key}`: no runner label for {pl}, which the stack builds ({stack_says})\n  fix: add `{pl}: <label>` here, e.g. `{pl}: {}`", default_label(*pl, gitlab)));
        }
    }
    out.sort_by_key(|r| platforms.iter().position(|pl| *pl == r.platform));
    out
}

fn label(v: &Node, p: &mut Problems, what: &str) -> Option<String> {
    let s = v.text(p, what)?;
    if s.trim().is_empty() || s.contains(['\'', '"', '$', '`', '\n']) {
        p.push(v.line, format!("{what}: `{s}` is not a runner label"));
        return None;
    }
    Some(s)
}
