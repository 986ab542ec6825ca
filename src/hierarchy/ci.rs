//! `platforms:` and the `ci:` section of the hierarchy file: what
//! `stacktag ci` needs beyond the image tree. Only parsing and validation
//! live here; the pipelines are made in [`crate::ci`].

use serde_yaml::{Mapping, Value};

use super::{key_text, Hierarchy, Parser};
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
    super::is_arg_name(s)
}

/// Five cron fields of `[0-9*/,-]`.
fn is_cron(s: &str) -> bool {
    let fields: Vec<&str> = s.split_whitespace().collect();
    fields.len() == 5
        && fields
            .iter()
            .all(|f| f.chars().all(|c| c.is_ascii_digit() || "*/,-".contains(c)))
}

impl Parser<'_> {
    /// `platforms: [x86_64, aarch64]`: each once, each known.
    pub(super) fn platforms(&mut self, top: &Mapping) -> Option<(Vec<Platform>, usize)> {
        let v = top.get("platforms")?;
        let line = self.lines.key_nth("platforms", 0);
        let mut out = Vec::new();
        for name in self.strings(v, "`platforms`", line) {
            match name.parse::<Platform>() {
                Ok(p) if out.contains(&p) => {
                    self.push(line, format!("`platforms`: {p} is listed twice"))
                }
                Ok(p) => out.push(p),
                Err(_) => self.push(
                    line,
                    format!("`platforms`: unknown platform `{name}`; stacktag knows x86_64 (amd64) and aarch64 (arm64)"),
                ),
            }
        }
        if out.is_empty() {
            self.push(
                line,
                "`platforms` is empty: list at least one, e.g. `[x86_64]`".into(),
            );
            return None;
        }
        Some((out, line))
    }

    pub(super) fn ci_section(&mut self, top: &Mapping, h: &Hierarchy) -> CiSection {
        let mut ci = CiSection::default();
        if let Some((ps, _)) = &h.platforms {
            ci.platforms = ps.clone();
        }
        let empty = Mapping::new();
        let (map, line) = match top.get("ci") {
            None | Some(Value::Null) => (&empty, 0),
            Some(Value::Mapping(m)) => (m, self.lines.key_nth("ci", 0)),
            Some(_) => {
                let line = self.lines.key_nth("ci", 0);
                self.push(
                    line,
                    "`ci:` must be a map (`runners:`, `schedule:`, ...)".into(),
                );
                (&empty, line)
            }
        };
        self.unknown_keys(map, CI_KEYS, "the `ci:` section", line);
        ci.runners = self.labels(map, "runners", &ci.platforms, h, line, false);
        ci.gitlab_tags = self.labels(map, "gitlab_tags", &ci.platforms, h, line, true);
        let at = |p: &Self, key: &str| p.lines.key_after(key, line);
        for (key, slot) in [
            ("registry_user_secret", &mut ci.user_secret),
            ("registry_password_secret", &mut ci.password_secret),
        ] {
            if let Some(v) = map.get(key) {
                let l = at(self, key);
                if let Some(s) = self.string(v, &format!("`ci.{key}`"), l) {
                    if is_variable(&s) {
                        *slot = s;
                    } else {
                        self.push(l, format!("`ci.{key}: {s}` is not a secret name: letters, digits and `_`, not starting with a digit"));
                    }
                }
            }
        }
        match map.get("schedule") {
            None => {}
            Some(Value::Bool(false)) | Some(Value::Null) => ci.schedule = None,
            Some(v) => {
                let l = at(self, "schedule");
                match self.string(v, "`ci.schedule`", l) {
                    Some(s) if is_cron(&s) => ci.schedule = Some(s),
                    Some(s) => self.push(l, format!("`ci.schedule: {s}` is not a cron line of five fields (e.g. `\"0 3 * * 1\"`, Mondays at 03:00 UTC), or `false` for no scheduled rebuild")),
                    None => {}
                }
            }
        }
        match map.get("sign") {
            None => {}
            Some(Value::Bool(b)) => ci.sign = *b,
            Some(_) => {
                let l = at(self, "sign");
                self.push(l, "`ci.sign` must be true or false".into());
            }
        }
        if let Some(v) = map.get("branch") {
            let l = at(self, "branch");
            if let Some(s) = self.string(v, "`ci.branch`", l) {
                if s.is_empty() || s.contains(char::is_whitespace) || s.contains("..") {
                    self.push(l, format!("`ci.branch: {s}` is not a branch name"));
                } else {
                    ci.branch = s;
                }
            }
        }
        if let Some(v) = map.get("release_url") {
            let l = at(self, "release_url");
            if let Some(s) = self.string(v, "`ci.release_url`", l) {
                let scheme = ["https://", "http://", "file://"]
                    .iter()
                    .any(|p| s.starts_with(p));
                if !scheme || s.contains(char::is_whitespace) || s.contains(['\'', '"', '$', '`']) {
                    self.push(l, format!("`ci.release_url: {s}` is not a URL (https://, http:// or file://, no quotes or `$`; `{{version}}` and `{{target}}` are filled in)"));
                } else {
                    ci.release_url = s;
                }
            }
        }
        ci
    }

    /// `runners:` or `gitlab_tags:`: a label for every platform of the
    /// stack, and none for a platform it does not build.
    fn labels(
        &mut self,
        map: &Mapping,
        key: &str,
        platforms: &[Platform],
        h: &Hierarchy,
        ci_line: usize,
        gitlab: bool,
    ) -> Vec<RunnerLabel> {
        let defaults = platforms
            .iter()
            .map(|p| RunnerLabel {
                platform: *p,
                label: default_label(*p, gitlab).to_string(),
            })
            .collect();
        let Some(v) = map.get(key) else {
            return defaults;
        };
        let line = self.lines.key_after(key, ci_line);
        let Value::Mapping(given) = v else {
            self.push(
                line,
                format!(
                    "`ci.{key}` must be a map of platform to runner label, e.g. `x86_64: {}`",
                    default_label(Platform::X86_64, gitlab)
                ),
            );
            return defaults;
        };
        let stack_says = match &h.platforms {
            Some((_, l)) => format!("`platforms:` at line {l}"),
            None => "no `platforms:` key, so x86_64 only".to_string(),
        };
        let mut out: Vec<RunnerLabel> = Vec::new();
        for (k, v) in given {
            let name = key_text(k);
            let l = self.lines.key_after(&name, line);
            let Ok(p) = name.parse::<Platform>() else {
                self.push(
                    l,
                    format!(
                        "`ci.{key}`: unknown platform `{name}`; stacktag knows x86_64 and aarch64"
                    ),
                );
                continue;
            };
            if !platforms.contains(&p) {
                self.push(l, format!("`ci.{key}`: a runner label for {p}, which the stack does not build ({stack_says})\n  fix: add {p} to `platforms:`, or remove this line"));
                continue;
            }
            match self.string(v, &format!("`ci.{key}.{name}`"), l) {
                Some(s) if !s.trim().is_empty() && !s.contains(['\'', '"', '$', '`', '\n']) => out
                    .push(RunnerLabel {
                        platform: p,
                        label: s,
                    }),
                Some(s) => self.push(l, format!("`ci.{key}.{name}: {s}` is not a runner label")),
                None => {}
            }
        }
        for p in platforms {
            if !out.iter().any(|r| r.platform == *p) {
                self.push(line, format!("`ci.{key}`: no runner label for {p}, which the stack builds ({stack_says})\n  fix: add `{p}: <label>` here, e.g. `{p}: {}`", default_label(*p, gitlab)));
            }
        }
        out.sort_by_key(|r| platforms.iter().position(|p| *p == r.platform));
        out
    }
}
