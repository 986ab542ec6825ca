//! The build settings a run passes to every build: which builder, what
//! stderr shows, secrets, and Docker's predefined proxy args.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::error::BuildError;

/// The daemon's builder a build goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub enum BuilderKind {
    /// The legacy builder (`docker build` with `DOCKER_BUILDKIT=0`).
    #[serde(rename = "classic")]
    Classic,
    /// The daemon's BuildKit, through its API (builder version 2).
    #[serde(rename = "buildkit")]
    BuildKit,
}

impl BuilderKind {
    pub fn name(self) -> &'static str {
        match self {
            BuilderKind::Classic => "classic",
            BuilderKind::BuildKit => "buildkit",
        }
    }
}

impl std::fmt::Display for BuilderKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What stderr shows of the Dockerfile steps (buildx's `--progress` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepLines {
    /// One line per step when it ends: its name, CACHED or DONE and its time.
    Plain,
    /// Those lines, and the running step of each build on the status line.
    Tty,
    /// No step lines: only stacktag's own (building, built, reused).
    Quiet,
}

/// `--secret id=NAME,src=FILE` or `id=NAME,env=VAR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    pub id: String,
    pub source: SecretSource,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    File(PathBuf),
    Env(String),
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.source {
            SecretSource::File(p) => write!(f, "id={},src={}", self.id, p.display()),
            SecretSource::Env(v) => write!(f, "id={},env={v}", self.id),
        }
    }
}

impl Secret {
    /// Parses the docker CLI's form: `id=` and one of `src=`/`source=` or
    /// `env=`; `type=file|env` may say which. A bare `id=NAME` reads the
    /// environment variable NAME, as the docker CLI does.
    pub fn parse(text: &str) -> Result<Secret, BuildError> {
        let bad = |why: &str| BuildError::BadSecret {
            text: text.to_string(),
            why: why.to_string(),
        };
        let (mut id, mut file, mut env, mut kind) = (None, None, None, None);
        for field in text.split(',') {
            let (k, v) = field
                .split_once('=')
                .ok_or_else(|| bad(&format!("`{field}` is not KEY=VALUE")))?;
            match k {
                "id" => id = Some(v.to_string()),
                "src" | "source" => file = Some(PathBuf::from(v)),
                "env" => env = Some(v.to_string()),
                "type" if v == "file" || v == "env" => kind = Some(v.to_string()),
                _ => return Err(bad(&format!("unknown key `{k}`"))),
            }
        }
        let id = id
            .filter(|i| !i.is_empty())
            .ok_or_else(|| bad("it has no `id=`"))?;
        let source = match (file, env, kind.as_deref()) {
            (Some(_), Some(_), _) => return Err(bad("give `src=` or `env=`, not both")),
            (Some(p), None, None | Some("file")) => SecretSource::File(p),
            (None, Some(v), None | Some("env")) => SecretSource::Env(v),
            (None, None, None | Some("env")) => SecretSource::Env(id.clone()),
            (None, None, Some(_)) => return Err(bad("`type=file` needs `src=FILE`")),
            _ => return Err(bad("`type=` does not match `src=`/`env=`")),
        };
        Ok(Secret { id, source })
    }

    /// The value, checked before any build starts: a file that exists and
    /// can be read, a variable that is set. Only for redaction: it is
    /// handed to the daemon through the build session.
    pub fn value(&self) -> Result<Vec<u8>, BuildError> {
        match &self.source {
            SecretSource::File(p) => std::fs::read(p).map_err(|e| BuildError::SecretFile {
                id: self.id.clone(),
                path: p.clone(),
                why: e.to_string(),
            }),
            SecretSource::Env(v) => std::env::var_os(v)
                .map(|s| s.as_encoded_bytes().to_vec())
                .ok_or_else(|| BuildError::SecretEnv {
                    id: self.id.clone(),
                    var: v.clone(),
                }),
        }
    }
}

/// The ids of the secrets a Dockerfile mounts (`RUN --mount=type=secret,id=X`;
/// without `id=`, the target's file name, as BuildKit does).
pub fn mounted_secrets(dockerfile: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for word in dockerfile.split_whitespace() {
        let Some(spec) = word.strip_prefix("--mount=") else {
            continue;
        };
        let fields: HashMap<&str, &str> =
            spec.split(',').filter_map(|f| f.split_once('=')).collect();
        if fields.get("type") != Some(&"secret") {
            continue;
        }
        let id = fields.get("id").map(|s| s.to_string()).or_else(|| {
            fields
                .get("target")
                .or(fields.get("dst"))
                .and_then(|t| Path::new(t).file_name())
                .map(|n| n.to_string_lossy().into_owned())
        });
        if let Some(id) = id {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    ids
}

pub use crate::hierarchy::PROXY_ARGS;

pub fn is_proxy_arg(name: &str) -> bool {
    PROXY_ARGS.contains(&name)
}

/// The proxy args of a run, later sources winning: the docker client
/// config's `proxies.default` (`~/.docker/config.json`, or
/// `$DOCKER_CONFIG/config.json`; each value as both the upper- and
/// lower-case arg, as the docker CLI passes them), then the environment,
/// then the hierarchy file's `proxies:`. `--build-arg` wins over all.
/// PROXY_ARGS lists the upper-case names first.
pub fn proxies(from_file: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut set = |k: &str, v: &str| {
        out.retain(|(a, _)| a != k);
        out.push((k.to_string(), v.to_string()));
    };
    for (k, v) in client_config_proxies(&docker_config_file()) {
        set(&k, &v);
    }
    // BuildKit takes one value per proxy whatever its case, picking either
    // when they differ: each value is passed in both cases, lower-case last
    // (it wins where both are set, as curl's does).
    let mut both = |k: &str, v: &str| {
        set(&k.to_uppercase(), v);
        set(&k.to_lowercase(), v);
    };
    for name in PROXY_ARGS {
        if let Ok(v) = std::env::var(name) {
            both(name, &v);
        }
    }
    for (k, v) in from_file {
        both(k, v);
    }
    out
}

fn docker_config_file() -> PathBuf {
    match std::env::var_os("DOCKER_CONFIG") {
        Some(d) if !d.is_empty() => PathBuf::from(d).join("config.json"),
        _ => {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".docker/config.json")
        }
    }
}

/// `proxies.default` of a docker client config, as build args; none when
/// the file is absent or unreadable (the docker CLI carries on too).
pub fn client_config_proxies(path: &Path) -> Vec<(String, String)> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, arg) in [
        ("httpProxy", "HTTP_PROXY"),
        ("httpsProxy", "HTTPS_PROXY"),
        ("noProxy", "NO_PROXY"),
        ("ftpProxy", "FTP_PROXY"),
        ("allProxy", "ALL_PROXY"),
    ] {
        if let Some(v) = doc["proxies"]["default"][key].as_str() {
            out.push((arg.to_string(), v.to_string()));
            out.push((arg.to_lowercase(), v.to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_as_the_docker_cli_writes_them() {
        assert_eq!(
            Secret::parse("id=tok,src=/run/tok").unwrap().source,
            SecretSource::File("/run/tok".into())
        );
        assert_eq!(
            Secret::parse("id=tok,env=TOKEN").unwrap().source,
            SecretSource::Env("TOKEN".into())
        );
        assert_eq!(
            Secret::parse("type=env,id=TOKEN").unwrap().source,
            SecretSource::Env("TOKEN".into())
        );
        for bad in [
            "src=/x",
            "id=a,src=/x,env=Y",
            "id=a,colour=red",
            "id",
            "type=file,id=a",
        ] {
            assert!(Secret::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_secrets_a_dockerfile_mounts() {
        let df = "FROM x\nRUN --mount=type=secret,id=tok cat /run/secrets/tok\nRUN --mount=type=secret,target=/etc/pw --mount=type=cache,target=/c true\nRUN --mount=type=secret,id=tok true\n";
        assert_eq!(mounted_secrets(df), ["tok", "pw"]);
    }

    #[test]
    fn proxies_of_the_client_config_as_the_docker_cli_passes_them() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("config.json");
        std::fs::write(
            &p,
            r#"{"auths":{},"proxies":{"default":{"httpProxy":"http://p:3128","noProxy":"localhost"}}}"#,
        )
        .unwrap();
        let got = client_config_proxies(&p);
        assert!(got.contains(&("HTTP_PROXY".into(), "http://p:3128".into())));
        assert!(got.contains(&("http_proxy".into(), "http://p:3128".into())));
        assert!(got.contains(&("no_proxy".into(), "localhost".into())));
        assert_eq!(got.len(), 4);
        assert!(client_config_proxies(&d.path().join("absent.json")).is_empty());
        assert!(is_proxy_arg("https_proxy") && !is_proxy_arg("HTTPS"));
    }
}
