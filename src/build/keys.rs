//! The keys of an image in `hierarchy.yaml` that only `stacktag build` reads:
//! build args (hashed), unhashed build args (names of secrets from the
//! environment), the ids of the `--secret`s it reads, the verify command and
//! the refresh period.

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
}

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
    BuildKeys {
        args,
        unhashed: unhashed.into_iter().map(|(k, _)| k).collect(),
        secrets,
        verify,
        refresh,
    }
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
}
