//! Registry credentials, first found wins:
//! 1. `--username` with the password on stdin (`--password-stdin`);
//! 2. `STACKTAG_REGISTRY_USER` and `STACKTAG_REGISTRY_PASSWORD`;
//! 3. the user's Docker config (`DOCKER_CONFIG` or `~/.docker/config.json`,
//!    credential helpers included), read with the `docker_credential` crate.
//!
//! The password lives in a [`Secret`], whose `Debug` prints `***` and which
//! has no `Display`: it cannot end up in a log line or an error by accident.

use std::fmt;

use docker_credential::{CredentialRetrievalError, DockerCredential};

use super::error::{CredentialSource, RegistryError};

pub const ENV_USER: &str = "STACKTAG_REGISTRY_USER";
pub const ENV_PASSWORD: &str = "STACKTAG_REGISTRY_PASSWORD";

/// A password or token. Read it with [`Secret::expose`], only where it is sent.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    Basic {
        username: String,
        password: Secret,
    },
    /// An identity token from `docker login` against an OAuth registry.
    IdentityToken(Secret),
    Anonymous,
}

#[derive(Debug, Clone)]
pub struct Found {
    pub credentials: Credentials,
    pub source: CredentialSource,
}

/// What the command line gave: the user name, and the password read from stdin.
#[derive(Debug, Default)]
pub struct Given {
    pub username: Option<String>,
    pub password: Option<Secret>,
}

/// Looks the credentials for `registry` up in the documented order.
/// `env` reads an environment variable (a parameter so tests need not touch the process's).
pub fn resolve(
    registry: &str,
    given: Given,
    env: impl Fn(&str) -> Option<String>,
    docker_config: impl Fn(&str) -> FromDockerConfig,
) -> Result<Found, RegistryError> {
    if let (Some(username), Some(password)) = (given.username, given.password) {
        return Ok(Found {
            credentials: Credentials::Basic { username, password },
            source: CredentialSource::Flags,
        });
    }
    let nonempty = |name: &str| env(name).filter(|v| !v.is_empty());
    match (nonempty(ENV_USER), nonempty(ENV_PASSWORD)) {
        (Some(username), Some(password)) => {
            return Ok(Found {
                credentials: Credentials::Basic {
                    username,
                    password: Secret::new(password),
                },
                source: CredentialSource::Env,
            })
        }
        (None, None) => {}
        (user, _) => {
            return Err(RegistryError::Credentials {
                registry: registry.to_string(),
                credentials: CredentialSource::Env,
                detail: format!(
                    "{} is set but {} is not; set both",
                    if user.is_some() {
                        ENV_USER
                    } else {
                        ENV_PASSWORD
                    },
                    if user.is_some() {
                        ENV_PASSWORD
                    } else {
                        ENV_USER
                    },
                ),
            })
        }
    }
    match docker_config(registry) {
        Ok(Some(DockerCredential::UsernamePassword(username, password))) => Ok(Found {
            credentials: Credentials::Basic {
                username,
                password: Secret::new(password),
            },
            source: CredentialSource::DockerConfig,
        }),
        Ok(Some(DockerCredential::IdentityToken(token))) => Ok(Found {
            credentials: Credentials::IdentityToken(Secret::new(token)),
            source: CredentialSource::DockerConfig,
        }),
        Ok(None) => Ok(Found {
            credentials: Credentials::Anonymous,
            source: CredentialSource::Anonymous,
        }),
        Err((credentials, detail)) => Err(RegistryError::Credentials {
            registry: registry.to_string(),
            credentials,
            detail,
        }),
    }
}

/// What the Docker config has for `server`: `None` when nothing is configured
/// (no file, no entry), an error with a message that holds no secret otherwise.
pub type FromDockerConfig = Result<Option<DockerCredential>, (CredentialSource, String)>;

/// Reads the user's Docker config with the `docker_credential` crate.
pub fn docker_config(server: &str) -> FromDockerConfig {
    from_crate(
        docker_credential::get_credential(server),
        &docker_config_path(),
    )
}

fn from_crate(
    got: Result<DockerCredential, CredentialRetrievalError>,
    path: &std::path::Path,
) -> FromDockerConfig {
    match got {
        Ok(c) => Ok(Some(c)),
        Err(
            CredentialRetrievalError::NoCredentialConfigured
            | CredentialRetrievalError::ConfigNotFound,
        ) => Ok(None),
        // The crate says the same for "no file" and "a file it cannot parse":
        // only the first means anonymous.
        Err(CredentialRetrievalError::ConfigReadError) => {
            if path.exists() {
                Err((
                    CredentialSource::DockerConfig,
                    format!(
                        "{} exists but cannot be read as a Docker config",
                        path.display()
                    ),
                ))
            } else {
                Ok(None)
            }
        }
        // A helper's stdout may hold a secret: only its name and stderr are shown.
        Err(CredentialRetrievalError::HelperFailure { helper, stderr, .. }) => Err((
            CredentialSource::Helper,
            format!("docker-credential-{helper} failed: {}", stderr.trim()),
        )),
        Err(
            e @ (CredentialRetrievalError::HelperCommunicationError
            | CredentialRetrievalError::MalformedHelperResponse),
        ) => Err((CredentialSource::Helper, e.to_string())),
        Err(e) => Err((CredentialSource::DockerConfig, e.to_string())),
    }
}

/// [`resolve`] with the process's environment and the user's Docker config.
pub fn lookup(registry: &str, given: Given) -> Result<Found, RegistryError> {
    resolve(
        registry,
        given,
        |name| std::env::var(name).ok(),
        docker_config,
    )
}

/// Where the Docker CLI keeps its config, as `docker_credential` looks for it.
fn docker_config_path() -> std::path::PathBuf {
    std::env::var_os("DOCKER_CONFIG")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".docker")))
        .unwrap_or_default()
        .join("config.json")
}

/// Reads a password from stdin, as `docker login --password-stdin` does:
/// everything, one trailing newline removed.
pub fn password_from_stdin() -> std::io::Result<Secret> {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)?;
    let trimmed = text
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(&text);
    Ok(Secret::new(trimmed))
}

impl Credentials {
    /// For the Docker daemon's push (`X-Registry-Auth`).
    pub fn for_daemon(&self, registry: &str) -> Option<bollard::auth::DockerCredentials> {
        let base = bollard::auth::DockerCredentials {
            serveraddress: Some(registry.to_string()),
            ..Default::default()
        };
        match self {
            Credentials::Basic { username, password } => Some(bollard::auth::DockerCredentials {
                username: Some(username.clone()),
                password: Some(password.expose().to_string()),
                ..base
            }),
            Credentials::IdentityToken(token) => Some(bollard::auth::DockerCredentials {
                identitytoken: Some(token.expose().to_string()),
                ..base
            }),
            Credentials::Anonymous => None,
        }
    }

    /// For the registry's HTTP API (basic auth, or basic credentials traded for a bearer token).
    pub fn for_registry(&self) -> oci_client::secrets::RegistryAuth {
        use oci_client::secrets::RegistryAuth;
        match self {
            Credentials::Basic { username, password } => {
                RegistryAuth::Basic(username.clone(), password.expose().to_string())
            }
            // Not sent as such: the client trades it for an access token (oauth.rs).
            Credentials::IdentityToken(_) => RegistryAuth::Anonymous,
            Credentials::Anonymous => RegistryAuth::Anonymous,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }
    fn env_pair(name: &str) -> Option<String> {
        match name {
            ENV_USER => Some("envuser".into()),
            ENV_PASSWORD => Some("envpass".into()),
            _ => None,
        }
    }
    fn config_pair(_: &str) -> FromDockerConfig {
        Ok(Some(DockerCredential::UsernamePassword(
            "cfguser".into(),
            "cfgpass".into(),
        )))
    }
    fn no_config(_: &str) -> FromDockerConfig {
        Ok(None)
    }
    fn user_of(f: &Found) -> &str {
        match &f.credentials {
            Credentials::Basic { username, .. } => username,
            _ => "",
        }
    }

    #[test]
    fn flags_win_over_env_and_config() {
        let given = Given {
            username: Some("flaguser".into()),
            password: Some(Secret::new("flagpass")),
        };
        let f = resolve("r:5000", given, env_pair, config_pair).unwrap();
        assert_eq!(
            (user_of(&f), f.source),
            ("flaguser", CredentialSource::Flags)
        );
    }

    #[test]
    fn env_wins_over_config() {
        let f = resolve("r:5000", Given::default(), env_pair, config_pair).unwrap();
        assert_eq!((user_of(&f), f.source), ("envuser", CredentialSource::Env));
    }

    #[test]
    fn config_then_anonymous() {
        let f = resolve("r:5000", Given::default(), no_env, config_pair).unwrap();
        assert_eq!(
            (user_of(&f), f.source),
            ("cfguser", CredentialSource::DockerConfig)
        );
        let f = resolve("r:5000", Given::default(), no_env, no_config).unwrap();
        assert_eq!(f.credentials, Credentials::Anonymous);
    }

    #[test]
    fn half_set_env_is_an_error_naming_the_missing_variable() {
        let only_user = |n: &str| (n == ENV_USER).then(|| "u".to_string());
        let e = resolve("r:5000", Given::default(), only_user, config_pair).unwrap_err();
        assert!(
            e.to_string().contains("STACKTAG_REGISTRY_PASSWORD is not"),
            "{e}"
        );
    }

    #[test]
    fn a_failing_helper_is_an_error_naming_it() {
        let helper = |_: &str| -> FromDockerConfig {
            Err((
                CredentialSource::Helper,
                "docker-credential-pass failed: store locked".into(),
            ))
        };
        let e = resolve("r:5000", Given::default(), no_env, helper).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("store locked") && text.contains("credential helper"),
            "{text}"
        );
    }

    #[test]
    fn helper_stdout_is_never_shown() {
        let failed = Err(CredentialRetrievalError::HelperFailure {
            helper: "pass".into(),
            stdout: "s3cr3t".into(),
            stderr: "store locked".into(),
        });
        let (source, text) = from_crate(failed, std::path::Path::new("/nonexistent")).unwrap_err();
        assert_eq!(source, CredentialSource::Helper);
        assert!(
            text.contains("store locked") && !text.contains("s3cr3t"),
            "{text}"
        );
    }

    #[test]
    fn an_unreadable_config_is_an_error_a_missing_one_is_anonymous() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let read_error = || Err(CredentialRetrievalError::ConfigReadError);
        assert!(matches!(from_crate(read_error(), &path), Ok(None)));
        std::fs::write(&path, "{not json").unwrap();
        let (_, text) = from_crate(read_error(), &path).unwrap_err();
        assert!(text.contains("cannot be read as a Docker config"), "{text}");
    }

    #[test]
    fn secrets_do_not_debug_print() {
        let c = Credentials::Basic {
            username: "u".into(),
            password: Secret::new("hunter2"),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
