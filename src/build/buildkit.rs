//! BuildKit's status stream, decoded: each `StatusResponse` the daemon sends
//! (vertexes started and done, their output, their progress) becomes lines
//! of the per-image log in the shape of `docker buildx build --progress
//! plain` (`#5 [2/3] RUN …`, `#5 0.312 output`, `#5 DONE 0.4s`), and events
//! for the one line per step on stderr. A failing step keeps its name, its
//! error and the tail of its output for the error message.

use std::collections::{HashMap, VecDeque};

use bollard::moby::buildkit::v1::StatusResponse;

/// How many output lines of each step are kept for an error message.
const TAIL: usize = 15;

/// What the user sees of a step on stderr.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A Dockerfile step started (its name, e.g. `[2/3] RUN make`).
    Started { key: usize, name: String },
    /// A step ended: reused from the layer cache, done after `seconds`, or failed.
    Ended { key: usize, name: String, end: End },
}

#[derive(Debug, Clone, PartialEq)]
pub enum End {
    Cached,
    Done(f64),
    Error(String),
}

impl std::fmt::Display for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            End::Cached => f.write_str("CACHED"),
            End::Done(s) => write!(f, "DONE {s:.1}s"),
            End::Error(e) => write!(f, "ERROR: {e}"),
        }
    }
}

/// The step that failed first: what the error message says of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Failed {
    pub name: String,
    pub error: String,
    /// `exit code: N` of a RUN step.
    pub exit_code: Option<i32>,
    /// Its last output lines.
    pub tail: Vec<String>,
}

#[derive(Default)]
struct Vertex {
    /// `#N`, in order of first appearance.
    number: usize,
    started: Option<f64>,
    ended: bool,
    /// An unfinished output line.
    partial: String,
    last: VecDeque<String>,
}

/// Turns the messages of one build into log lines and events.
#[derive(Default)]
pub struct Decoder {
    vertexes: HashMap<String, Vertex>,
    statuses_done: std::collections::HashSet<String>,
    pub failed: Option<Failed>,
}

/// Seconds since the epoch of a protobuf timestamp (its type is not re-exported by bollard).
macro_rules! secs {
    ($t:expr) => {
        $t.as_ref()
            .map(|t| t.seconds as f64 + f64::from(t.nanos) / 1e9)
    };
}

impl Decoder {
    /// Log lines (each ending in `\n`) and events for one message.
    pub fn feed(&mut self, status: &StatusResponse) -> (String, Vec<Event>) {
        let mut log = String::new();
        let mut events = Vec::new();
        for v in &status.vertexes {
            let next = self.vertexes.len() + 1;
            let known = self.vertexes.contains_key(&v.digest);
            let entry = self
                .vertexes
                .entry(v.digest.clone())
                .or_insert_with(|| Vertex {
                    number: next,
                    ..Vertex::default()
                });
            let n = entry.number;
            if !known {
                log += &format!("#{n} {}\n", v.name);
            }
            if entry.ended {
                continue;
            }
            if let (None, Some(start)) = (entry.started, secs!(v.started)) {
                entry.started = Some(start);
                if !v.cached && v.completed.is_none() && is_step(&v.name) {
                    events.push(Event::Started {
                        key: n,
                        name: v.name.clone(),
                    });
                }
            }
            let end = if v.cached {
                Some(End::Cached)
            } else if !v.error.is_empty() {
                Some(End::Error(v.error.clone()))
            } else {
                secs!(v.completed).map(|done| End::Done(done - entry.started.unwrap_or(done)))
            };
            let Some(end) = end else { continue };
            entry.ended = true;
            if !entry.partial.is_empty() {
                let rest = std::mem::take(&mut entry.partial);
                log += &format!("#{n} {rest}\n");
                push_tail(&mut entry.last, rest);
            }
            log += &format!("#{n} {end}\n");
            if let End::Error(error) = &end {
                // BuildKit's own work (resolving a frontend image, loading
                // metadata) is said by the daemon's message instead.
                if self.failed.is_none() && is_step(&v.name) && !error.contains("context canceled")
                {
                    self.failed = Some(Failed {
                        name: v.name.clone(),
                        error: error.clone(),
                        exit_code: exit_code(error),
                        tail: entry.last.iter().cloned().collect(),
                    });
                }
            }
            if is_step(&v.name) {
                events.push(Event::Ended {
                    key: n,
                    name: v.name.clone(),
                    end,
                });
            }
        }
        for s in &status.statuses {
            if s.completed.is_none() || !self.statuses_done.insert(s.id.clone()) {
                continue;
            }
            let Some(v) = self.vertexes.get(&s.vertex) else {
                continue;
            };
            let size = if s.total > 0 {
                format!(" {} / {}", bytes(s.current), bytes(s.total))
            } else if s.current > 0 {
                format!(" {}", bytes(s.current))
            } else {
                String::new()
            };
            let what = if s.name.is_empty() { &s.id } else { &s.name };
            log += &format!("#{} {what}{size} done\n", v.number);
        }
        for l in &status.logs {
            let Some(v) = self.vertexes.get_mut(&l.vertex) else {
                continue;
            };
            let at = match (secs!(l.timestamp), v.started) {
                (Some(t), Some(s)) => format!("{:.3} ", (t - s).max(0.0)),
                _ => String::new(),
            };
            v.partial.push_str(&String::from_utf8_lossy(&l.msg));
            while let Some(i) = v.partial.find('\n') {
                let line: String = v.partial.drain(..=i).collect();
                let line = line.trim_end_matches(['\n', '\r']).to_string();
                log += &format!("#{} {at}{line}\n", v.number);
                push_tail(&mut v.last, line);
            }
        }
        for w in &status.warnings {
            let n = self.vertexes.get(&w.vertex).map_or(0, |v| v.number);
            log += &format!("#{n} WARNING: {}\n", String::from_utf8_lossy(&w.short));
        }
        (log, events)
    }
}

fn push_tail(last: &mut VecDeque<String>, line: String) {
    last.push_back(line);
    if last.len() > TAIL {
        last.pop_front();
    }
}

/// A step of the Dockerfile (`[stage 2/3] RUN …`), not BuildKit's own work
/// (`[internal] load …`, `copy /context /`).
fn is_step(name: &str) -> bool {
    name.starts_with('[') && !name.starts_with("[internal]")
}

/// `… exit code: 3` of a failed RUN.
pub fn exit_code(error: &str) -> Option<i32> {
    let (_, rest) = error.rsplit_once("exit code: ")?;
    rest.split(|c: char| !c.is_ascii_digit() && c != '-')
        .next()?
        .parse()
        .ok()
}

fn bytes(n: i64) -> String {
    crate::console::size(n.max(0) as u64)
}

/// Whether the daemon builds with BuildKit: `Err(why not)` for a daemon
/// too old for it (API < 1.39), a Windows daemon, or one whose
/// configuration turns it off (`"features": {"buildkit": false}`: its
/// `/_ping` answers `Builder-Version: 1`, and the docker CLI then builds
/// with the classic builder too).
pub async fn support(host: &str, version: &bollard::models::SystemVersion) -> Result<(), String> {
    if version.os.as_deref() == Some("windows") {
        return Err("a Windows daemon".into());
    }
    let api = version.api_version.as_deref().unwrap_or("0");
    let (major, minor) = api.split_once('.').unwrap_or((api, "0"));
    let (major, minor): (u32, u32) = (major.parse().unwrap_or(0), minor.parse().unwrap_or(0));
    if (major, minor) < (1, 39) {
        return Err(format!("API {api}, BuildKit needs 1.39"));
    }
    if builder_version(host).await.as_deref() == Some("1") {
        return Err(
            "its configuration turns BuildKit off: \"features\": {\"buildkit\": false}".into(),
        );
    }
    Ok(())
}

/// The builder a run uses, and why: the words `check` and `build --plan`
/// print, and the line a fallback warns with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub builder: super::BuilderKind,
    /// `the default: the daemon has BuildKit`, `--builder classic`, `the
    /// daemon has no BuildKit (API 1.38, BuildKit needs 1.39)`.
    pub why: String,
    /// Said once when the run falls back to the classic builder.
    pub note: Option<String>,
}

/// The builder for `asked` (asked so by `asked_why`: `--builder classic`,
/// `STACKTAG_BUILDER=classic`, or the default) on this daemon.
pub async fn choose(
    host: &str,
    version: &bollard::models::SystemVersion,
    asked: super::BuilderKind,
    asked_why: &str,
) -> Choice {
    use super::BuilderKind;
    match asked {
        BuilderKind::Classic => Choice {
            builder: BuilderKind::Classic,
            why: asked_why.to_string(),
            note: None,
        },
        BuilderKind::BuildKit => match support(host, version).await {
            Ok(()) => Choice {
                builder: BuilderKind::BuildKit,
                why: format!("{asked_why}: the daemon has BuildKit"),
                note: None,
            },
            Err(why) => Choice {
                builder: BuilderKind::Classic,
                why: format!("the daemon has no BuildKit: {why}"),
                note: Some(format!(
                    "the daemon has no BuildKit ({why}): building with the classic builder; Dockerfiles that use {BUILDKIT_FEATURES} will fail"
                )),
            },
        },
    }
}

/// The `Builder-Version` header of the daemon's `/_ping` (bollard's ping
/// gives only the body); only over a unix socket, `None` otherwise.
async fn builder_version(host: &str) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let path = host.strip_prefix("unix://")?;
    let ask = async {
        let mut s = tokio::net::UnixStream::connect(path).await.ok()?;
        s.write_all(b"GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n")
            .await
            .ok()?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.ok()?;
        let text = String::from_utf8_lossy(&buf).into_owned();
        let head = text.split("\r\n\r\n").next()?.to_string();
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("builder-version")
                .then(|| v.trim().to_string())
        })
    };
    tokio::time::timeout(std::time::Duration::from_secs(5), ask)
        .await
        .ok()
        .flatten()
}

/// `--platform` checked before any build: `os/arch[/variant]` with
/// Docker's names, one stacktag has tags for, that this daemon can run. A
/// platform other than the daemon's needs BuildKit and, on Linux, a
/// binfmt_misc handler (QEMU) for its architecture; the handler is looked
/// up on this machine, so a remote daemon is trusted.
pub fn check_platform(
    wanted: &str,
    native: &str,
    builder: super::BuilderKind,
) -> Result<String, super::BuildError> {
    let bad = |why: String, fix: &str| super::BuildError::Platform {
        platform: wanted.to_string(),
        why,
        fix: fix.to_string(),
    };
    let mut parts = wanted.split('/');
    let (os, arch) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    if os != "linux" || arch.is_empty() {
        return Err(bad(
            "not a Linux platform os/arch".into(),
            "write it as Docker does, e.g. linux/arm64 or linux/amd64",
        ));
    }
    if crate::formats::tags::Platform::from_docker_arch(arch).is_err() {
        return Err(bad(
            format!("stacktag has no tags for the architecture `{arch}`"),
            "build for linux/amd64 or linux/arm64",
        ));
    }
    if wanted == native {
        return Ok(wanted.to_string());
    }
    if builder == super::BuilderKind::Classic {
        return Err(super::BuildError::ClassicPlatform {
            platform: wanted.to_string(),
            native: native.to_string(),
        });
    }
    let qemu = match arch {
        "arm64" => "aarch64",
        "amd64" => "x86_64",
        "arm" => "arm",
        "ppc64le" => "ppc64le",
        "s390x" => "s390x",
        other => other,
    };
    let local = std::env::var("DOCKER_HOST").map_or(true, |h| h.starts_with("unix://"));
    let handler = std::path::Path::new("/proc/sys/fs/binfmt_misc").join(format!("qemu-{qemu}"));
    let enabled = std::fs::read_to_string(&handler).is_ok_and(|t| t.starts_with("enabled"));
    if local && !enabled {
        return Err(bad(
            format!("the daemon ({native}) cannot run {arch} programs: no binfmt_misc handler {} is enabled", handler.display()),
            &format!("register QEMU for {qemu} as root: scripts/binfmt (it needs /usr/bin/qemu-{qemu}-static, Debian's qemu-user-static)"),
        ));
    }
    Ok(wanted.to_string())
}

/// What the Dockerfile features that need BuildKit are, for the line that
/// says a build falls back to the classic builder.
pub const BUILDKIT_FEATURES: &str =
    "RUN --mount (bind, cache, tmpfs, secret), COPY --chmod, `# syntax=` lines, secrets";

/// What would build a Dockerfile line the daemon's built-in frontend
/// rejected: the line number (1-based), the problem and the fix. `None`
/// when the error names no line.
pub fn explain_frontend(error: &str, dockerfile: &str) -> Option<(usize, String, String)> {
    const NEWER: &str = "add `# syntax=docker/dockerfile:1` as the Dockerfile's first line (the daemon then pulls that frontend image: it needs network, or the image loaded with `docker load`), or build on Docker Engine 23 or newer, whose built-in frontend has it";
    let lines: Vec<&str> = dockerfile.lines().collect();
    if error.contains("frontend gateway.v0") || error.contains("docker/dockerfile") {
        let (n, image) = syntax_line(&lines)?;
        let why = error.rsplit(": ").next().unwrap_or(error).trim();
        return Some((
            n,
            format!("the frontend image `{image}` of this `# syntax=` line cannot be pulled ({why})"),
            format!("make `{image}` available to the daemon (`docker pull {image}` where there is network, or `docker load`), or remove the line to build with the daemon's built-in frontend (no heredocs, no COPY --link)"),
        ));
    }
    let rest = error.split("dockerfile parse error line ").nth(1)?;
    let (num, msg) = rest.split_once(": ")?;
    let n: usize = num.trim().parse().ok()?;
    let heredoc =
        regex::Regex::new(r#"^\s*[A-Za-z]+\s.*<<-?["']?[A-Za-z_][A-Za-z0-9_]*"#).expect("valid");
    if msg.starts_with("unknown instruction") {
        if let Some(h) = (1..=n.min(lines.len()))
            .rev()
            .find(|&i| heredoc.is_match(lines[i - 1]))
        {
            return Some((
                h,
                "a heredoc (`<<EOT`) is not known to this daemon's built-in Dockerfile frontend"
                    .into(),
                NEWER.into(),
            ));
        }
    }
    if let Some(flag) = msg.strip_prefix("Unknown flag: ") {
        let instruction = lines
            .get(n.wrapping_sub(1))
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or("the instruction")
            .to_uppercase();
        return Some((
            n,
            format!(
                "{instruction} --{flag} is not known to this daemon's built-in Dockerfile frontend"
            ),
            NEWER.into(),
        ));
    }
    Some((
        n,
        msg.trim().to_string(),
        "correct the line (the Dockerfile reference: https://docs.docker.com/reference/dockerfile/)".into(),
    ))
}

/// The first line of a Dockerfile that only BuildKit builds (1-based) and
/// the feature: a `# syntax=` line, `RUN --mount`, `COPY/ADD --chmod`.
/// An instruction continued over several lines (`\`) counts from its first.
pub fn buildkit_only(dockerfile: &str) -> Option<(usize, String)> {
    let lines: Vec<&str> = dockerfile.lines().collect();
    if let Some((n, image)) = syntax_line(&lines) {
        return Some((n, format!("the `# syntax={image}` line")));
    }
    let mut start = None;
    let mut joined = String::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if start.is_none() && (t.is_empty() || t.starts_with('#')) {
            continue;
        }
        let first = *start.get_or_insert(i + 1);
        let (text, more) = match t.strip_suffix('\\') {
            Some(head) => (head, true),
            None => (t, false),
        };
        if !t.starts_with('#') {
            joined.push_str(text);
            joined.push(' ');
        }
        if more {
            continue;
        }
        let mut words = joined.split_whitespace();
        let instruction = words.next().unwrap_or_default().to_uppercase();
        for w in words.take_while(|w| w.starts_with("--")) {
            let flag = w.split('=').next().unwrap_or(w);
            let known = match instruction.as_str() {
                "RUN" => flag == "--mount",
                "COPY" | "ADD" => flag == "--chmod",
                _ => false,
            };
            if known {
                return Some((first, format!("`{instruction} {flag}`")));
            }
        }
        start = None;
        joined.clear();
    }
    None
}

/// The `# syntax=IMAGE` directive and its line, if the Dockerfile has one.
fn syntax_line(lines: &[&str]) -> Option<(usize, String)> {
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim();
        if !t.starts_with('#') {
            return None;
        }
        let d = t.trim_start_matches('#').trim();
        if let Some((k, v)) = d.split_once('=') {
            if k.trim().eq_ignore_ascii_case("syntax") {
                return Some((i + 1, v.trim().to_string()));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{BuildInfo, BuildInfoAux};

    #[test]
    fn the_lines_only_buildkit_builds() {
        let demo = "# Demo\nARG BASE\nFROM $BASE\nRUN --mount=type=cache,target=/var/cache/apt \\\n    apt-get update\n";
        assert_eq!(buildkit_only(demo), Some((4, "`RUN --mount`".into())));
        let continued =
            "FROM x\nRUN true && \\\n    --mount=not-a-flag\nCOPY --chown=1 --chmod=755 a /a\n";
        assert_eq!(buildkit_only(continued), Some((4, "`COPY --chmod`".into())));
        assert_eq!(
            buildkit_only("# syntax=docker/dockerfile:1\nFROM x\n").map(|(n, _)| n),
            Some(1)
        );
        assert_eq!(
            buildkit_only("FROM x\n# RUN --mount=x\nRUN echo --mount=x\n"),
            None
        );
    }

    /// The captured stream of a real build through the daemon's API
    /// (tests/data/buildkit/SOURCES: how it was taken), decoded.
    fn decode(capture: &str) -> (String, Vec<Event>, Option<Failed>, Option<String>) {
        let path = format!(
            "{}/tests/data/buildkit/{capture}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(path).unwrap();
        let mut d = Decoder::default();
        let (mut log, mut events, mut id) = (String::new(), Vec::new(), None);
        for line in text.lines() {
            let info: BuildInfo = serde_json::from_str(line).unwrap();
            match info.aux {
                Some(BuildInfoAux::BuildKit(status)) => {
                    let (l, e) = d.feed(&status);
                    log += &l;
                    events.extend(e);
                }
                Some(BuildInfoAux::Default(image)) => id = image.id,
                None => {}
            }
        }
        (log, events, d.failed, id)
    }

    fn golden(name: &str, actual: &str) {
        crate::golden::golden_at(&format!("tests/data/buildkit/{name}"), actual);
    }

    #[test]
    fn a_captured_build_becomes_a_plain_log_and_one_event_per_step() {
        let (log, events, failed, id) = decode("status-ok.jsonl");
        golden("status-ok.log", &log);
        assert_eq!(failed, None);
        assert!(id.unwrap().starts_with("sha256:"));
        let ended: Vec<String> = events
            .iter()
            .filter_map(|e| match e {
                Event::Ended { name, end, .. } => Some(format!(
                    "{name}: {}",
                    match end {
                        End::Done(_) => "DONE".to_string(),
                        other => other.to_string(),
                    }
                )),
                Event::Started { .. } => None,
            })
            .collect();
        assert!(
            ended
                .iter()
                .any(|e| e.starts_with("[stage-1 3/4] RUN --mount=type=bind")),
            "{ended:?}"
        );
        assert!(
            log.contains(" copied\n") && log.contains(" to-stderr\n"),
            "{log}"
        );
    }

    #[test]
    fn a_failing_step_keeps_its_name_exit_code_and_output() {
        let (log, _, failed, _) = decode("status-fail.jsonl");
        golden("status-fail.log", &log);
        assert!(log.contains("CACHED"), "{log}");
        let f = failed.unwrap();
        assert_eq!(f.name, "[stage-1 5/5] RUN echo will fail here; exit 3");
        assert_eq!(f.exit_code, Some(3));
        assert_eq!(f.tail, ["will fail here"]);
    }

    #[test]
    fn what_the_built_in_frontend_rejects_is_explained_at_its_line() {
        let df = "FROM x\nRUN <<EOT\necho hi\nEOT\nCOPY --link a /a\n";
        let (n, problem, fix) = explain_frontend("failed to solve with frontend dockerfile.v0: failed to create LLB definition: dockerfile parse error line 3: unknown instruction: ECHO", df).unwrap();
        assert_eq!(n, 2);
        assert!(
            problem.contains("heredoc") && fix.contains("# syntax=docker/dockerfile:1"),
            "{problem} {fix}"
        );
        let (n, problem, _) =
            explain_frontend("dockerfile parse error line 5: Unknown flag: link", df).unwrap();
        assert_eq!(
            (n, problem.as_str()),
            (
                5,
                "COPY --link is not known to this daemon's built-in Dockerfile frontend"
            )
        );
        let syntax = "# syntax=docker/dockerfile:1.4\nFROM x\n";
        let (n, problem, fix) = explain_frontend("failed to solve with frontend dockerfile.v0: failed to solve with frontend gateway.v0: failed to do request: Head \"https://registry-1.docker.io/v2/docker/dockerfile/manifests/1.4\": dial tcp: lookup registry-1.docker.io: no such host", syntax).unwrap();
        assert_eq!(n, 1);
        assert!(
            problem.contains("`docker/dockerfile:1.4`") && problem.contains("no such host"),
            "{problem}"
        );
        assert!(fix.contains("remove the line"), "{fix}");
        assert_eq!(explain_frontend("exit code: 1", df), None);
    }

    #[test]
    fn exit_codes() {
        assert_eq!(
            exit_code("executor failed running [/bin/sh -c false]: exit code: 1"),
            Some(1)
        );
        assert_eq!(exit_code("failed to compute cache key"), None);
    }
}
