//! The keys of an image in `hierarchy.yaml` that only `stacktag build` reads:
//! build args (hashed), unhashed build args (names of secrets from the
//! environment), the ids of the `--secret`s it reads, the verify command,
//! the refresh period and the build containers' resource limits.

use std::time::Duration;

use crate::hierarchy::error::Problems;
use crate::hierarchy::yaml::Entry;

/// The image keys read here; the hierarchy's parser accepts them.
pub const KEYS: &[&str] = &[
    "build_args",
    "unhashed_build_args",
    "secrets",
    "verify",
    "refresh",
    "memory",
    "cpuset",
];

/// One image's build keys.
#[derive(Debug, Clone, Default)]
pub struct BuildKeys {
    /// Part of the inputs digest, in file order.
    pub args: Vec<(String, String)>,
    /// Passed from the environment, never hashed, never logged (tokens).
    pub unhashed: Vec<String>,
    /// Ids of the `--secret`s its `RUN --mount=type=secret` reads (the ids
    /// are hashed, the values never).
    pub secrets: Vec<String>,
    /// Run against `{image}`, the reference built.
    pub verify: Option<String>,
    /// Rebuild at least once per this period (`7d`).
    pub refresh: Option<Duration>,
    /// Resource limits of its build containers (never an input: they do
    /// not change what is built).
    pub limits: Limits,
}

/// `memory:` and `cpuset:` of an image: what its build containers may use.
/// The classic builder applies them; BuildKit ignores them (moby/buildkit#593),
/// and a build through it says so.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of memory, swap included (`512m`, `2g`).
    pub memory: Option<i64>,
    /// The CPUs its steps may run on, as cpuset lists them (`0`, `0-1`, `0,2`).
    pub cpuset: Option<String>,
}

impl Limits {
    pub fn is_empty(&self) -> bool {
        self.memory.is_none() && self.cpuset.is_none()
    }

    /// The keys set, for the warning of a builder that ignores them.
    pub fn keys(&self) -> Vec<&'static str> {
        let mut keys = Vec::new();
        if self.memory.is_some() {
            keys.push("memory");
        }
        if self.cpuset.is_some() {
            keys.push("cpuset");
        }
        keys
    }
}

/// The largest `memory:` the build API takes through bollard (a 32-bit field).
pub const MAX_MEMORY: i64 = i32::MAX as i64;
/// The smallest the daemon accepts (6 MiB).
pub const MIN_MEMORY: i64 = 6 * 1024 * 1024;

/// The build keys of image `name` from its map; problems go to `p`.
pub fn parse(name: &str, image: &[Entry], p: &mut Problems) -> BuildKeys {
    let get = |key: &str| image.iter().find(|e| e.key == key);
    let not_arg = |key: &str| {
        format!("image `{name}`: `{key}` is not a build arg name: letters, digits and `_`, not starting with a digit")
    };
    let mut args = Vec::new();
    if let Some(e) = get("build_args").filter(|e| !e.value.is_null()) {
        match e.value.as_map() {
            Some(entries) => {
                for arg in entries {
                    let key = &arg.key;
                    if !is_arg_name(key) {
                        p.push(arg.line, not_arg(key));
                        continue;
                    }
                    match arg.value.as_str().map(str::to_string).or_else(|| {
                        arg.value.as_bool().map(|b| b.to_string())
                    }) {
                        Some(v) => args.push((key.clone(), v)),
                        None => p.push(arg.line, format!("image `{name}`: build arg `{key}` must have a string, number or boolean value; for a secret from the environment, list its name under `unhashed_build_args`")),
                    }
                }
            }
            None => p.push(
                e.line,
                format!("image `{name}`: `build_args` must be a map of name to value"),
            ),
        }
    }
    let unhashed: Vec<(String, usize)> = get("unhashed_build_args")
        .map(|e| {
            e.value
                .texts(p, &format!("image `{name}`: `unhashed_build_args`"))
        })
        .unwrap_or_default();
    for (key, line) in &unhashed {
        if !is_arg_name(key) {
            p.push(*line, not_arg(key));
        } else if args.iter().any(|(k, _)| k == key) {
            p.push(*line, format!("image `{name}`: build arg `{key}` is both in `build_args` and in `unhashed_build_args`; keep it in one"));
        }
    }
    let secrets: Vec<String> = get("secrets")
        .map(|e| e.value.texts(p, &format!("image `{name}`: `secrets`")))
        .unwrap_or_default()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let verify = get("verify").and_then(|e| {
        let cmd = e.value.text(p, &format!("image `{name}`: `verify`"))?;
        if cmd.trim().is_empty() {
            p.push(e.line, format!("image `{name}`: `verify` is empty; give a command, e.g. `images/{name}/test.sh {{image}}`, or drop the key"));
            return None;
        }
        Some(cmd)
    });
    let refresh = get("refresh").and_then(|e| {
        let text = e.value.text(p, &format!("image `{name}`: `refresh`"))?;
        let period = parse_period(&text);
        if period.is_none() {
            p.push(e.line, format!("image `{name}`: refresh `{text}` is not a period: a whole number of hours, days or weeks, e.g. `12h`, `7d`, `2w`"));
        }
        period
    });
    let memory = get("memory").and_then(|e| {
        let text = e.value.as_str().map(str::to_string);
        let bytes = text.as_deref().and_then(parse_bytes);
        match bytes {
            Some(b) if (MIN_MEMORY..=MAX_MEMORY).contains(&b) => Some(b),
            Some(_) => {
                p.push(e.line, format!("image `{name}`: memory `{}` is out of range: at least 6m, at most 2047m (the build API's field is 32 bits)", text.unwrap_or_default()));
                None
            }
            None => {
                p.push(e.line, format!("image `{name}`: memory `{}` is not an amount of memory: a whole number of bytes, or with k, m or g, e.g. `512m`", text.unwrap_or_default()));
                None
            }
        }
    });
    let cpuset = get("cpuset").and_then(|e| {
        let text = e.value.as_str().map(str::to_string);
        match text {
            Some(t) if is_cpuset(&t) => Some(t),
            t => {
                p.push(e.line, format!("image `{name}`: cpuset `{}` is not a list of CPUs: numbers and ranges separated by commas, e.g. `0`, `0-1` or `0,2`", t.unwrap_or_default()));
                None
            }
        }
    });
    BuildKeys {
        args,
        unhashed: unhashed.into_iter().map(|(k, _)| k).collect(),
        secrets,
        verify,
        refresh,
        limits: Limits { memory, cpuset },
    }
}

/// `512m`, `2g`, `1048576` (k, m, g are powers of 1024, as Docker reads them).
pub fn parse_bytes(text: &str) -> Option<i64> {
    let t = text.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').unwrap_or(&t);
    let (num, unit) = match t.chars().last()? {
        'k' => (&t[..t.len() - 1], 1024),
        'm' => (&t[..t.len() - 1], 1024 * 1024),
        'g' => (&t[..t.len() - 1], 1024 * 1024 * 1024),
        _ => (t, 1),
    };
    num.parse::<i64>().ok()?.checked_mul(unit)
}

/// A cpuset list: `0`, `0-3`, `0,2-3`.
fn is_cpuset(text: &str) -> bool {
    !text.is_empty()
        && text.split(',').all(|part| {
            let mut ends = part.splitn(2, '-');
            let ok = |s: Option<&str>| {
                s.is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            };
            let (a, b) = (ends.next(), ends.next());
            ok(a) && (b.is_none() || ok(b))
        })
}

/// `12h`, `7d`, `2w` (at least one hour).
pub fn parse_period(text: &str) -> Option<Duration> {
    let text = text.trim();
    let unit = match text.chars().last()? {
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => return None,
    };
    let n: u64 = text[..text.len() - 1].parse().ok()?;
    (n > 0).then(|| Duration::from_secs(n * unit))
}

/// A Dockerfile `ARG` name.
fn is_arg_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        assert_eq!(parse_period("12h"), Some(Duration::from_secs(43_200)));
        assert_eq!(parse_period("2w"), Some(Duration::from_secs(14 * 86_400)));
        assert_eq!(parse_period("0d"), None);
        assert_eq!(parse_period("7"), None);
    }

    #[test]
    fn limits_as_docker_writes_them() {
        assert_eq!(parse_bytes("512m"), Some(512 << 20));
        assert_eq!(parse_bytes("1G"), Some(1 << 30));
        assert_eq!(parse_bytes("64mb"), Some(64 << 20));
        assert_eq!(parse_bytes("4096"), Some(4096));
        assert_eq!(parse_bytes("lots"), None);
        assert!(is_cpuset("0") && is_cpuset("0-1") && is_cpuset("0,2-3"));
        assert!(!is_cpuset("") && !is_cpuset("0-") && !is_cpuset("a") && !is_cpuset("0,,1"));
    }
}
