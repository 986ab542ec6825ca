//! Docker identity tokens. `docker login` against a registry that speaks
//! OAuth2 (Azure Container Registry, and others behind a token server) stores
//! a refresh token as `identitytoken` instead of a password. It is traded, as
//! the Docker daemon trades it, for an access token for one repository: the
//! OAuth2 `refresh_token` grant, posted to the realm of the registry's Bearer
//! challenge. oci-client knows only Basic credentials for its token requests,
//! so this one exchange is done here and its access token handed to it.

use super::credentials::Secret;

/// Who asks, as the token server sees it (the daemon says `docker`).
const CLIENT_ID: &str = "stacktag";

/// What a `WWW-Authenticate: Bearer ...` header names.
#[derive(Debug, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub service: Option<String>,
}

/// Parses `Bearer realm="...",service="...",scope="..."`; `None` for any
/// other scheme (a Basic-auth registry has no use for an identity token).
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let (scheme, params) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut realm = None;
    let mut service = None;
    let mut rest = params.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let (value, after) = match after.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted.find('"')?;
                (&quoted[..end], &quoted[end + 1..])
            }
            None => after.split_once(',').unwrap_or((after, "")),
        };
        match key.trim().to_ascii_lowercase().as_str() {
            "realm" => realm = Some(value.to_string()),
            "service" => service = Some(value.to_string()),
            _ => {}
        }
        rest = after.trim_start_matches([',', ' ']);
    }
    Some(Challenge {
        realm: realm?,
        service,
    })
}

/// Why the exchange failed; the caller sorts it like any registry failure.
#[derive(Debug)]
pub enum Failure {
    /// The registry or its token server answered with this status.
    Status(u16, String),
    /// No answer (connection refused, timeout, TLS).
    Transport(String),
    /// An answer that is not what the protocol says.
    Protocol(String),
}

/// An access token for `repository` (pull and push) at the registry whose
/// API is at `base` (`https://host`), or `None` when the registry does not
/// ask for bearer tokens.
pub async fn access_token(
    http: &reqwest::Client,
    base: &str,
    repository: &str,
    actions: &str,
    refresh_token: &Secret,
) -> Result<Option<Secret>, Failure> {
    let transport = |e: reqwest::Error| Failure::Transport(super::client::chain(&e));
    let ping = http
        .get(format!("{base}/v2/"))
        .send()
        .await
        .map_err(transport)?;
    let Some(challenge) = ping
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .and_then(|h| h.to_str().ok())
        .and_then(parse_challenge)
    else {
        return Ok(None);
    };
    let scope = format!("repository:{repository}:{actions}");
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("client_id", CLIENT_ID),
        ("scope", scope.as_str()),
        ("refresh_token", refresh_token.expose()),
    ];
    if let Some(service) = &challenge.service {
        form.push(("service", service));
    }
    let answer = http
        .post(&challenge.realm)
        .form(&form)
        .send()
        .await
        .map_err(transport)?;
    token_of(answer).await.map(Some)
}

/// The token in a token server's answer (`access_token` as OAuth2 names it,
/// or `token` as Docker's token protocol does).
async fn token_of(answer: reqwest::Response) -> Result<Secret, Failure> {
    let status = answer.status();
    let body = answer
        .text()
        .await
        .map_err(|e| Failure::Transport(super::client::chain(&e)))?;
    if !status.is_success() {
        // The body is the token server's message; it never holds the token sent.
        return Err(Failure::Status(status.as_u16(), body.trim().to_string()));
    }
    let json: serde_json::Value = serde_json::from_str(&body)
        .map_err(|e| Failure::Protocol(format!("token answer is not JSON: {e}")))?;
    json.get("access_token")
        .or_else(|| json.get("token"))
        .and_then(|t| t.as_str())
        .map(Secret::new)
        .ok_or_else(|| Failure::Protocol("token answer has no token".into()))
}

/// A token for `scope` from the realm of a Bearer challenge, asked for as
/// the Docker client asks: GET with the Basic credentials (none when
/// anonymous), `service` and `scope` in the query.
pub async fn basic_token(
    http: &reqwest::Client,
    challenge: &Challenge,
    scope: &str,
    basic: Option<(&str, &Secret)>,
) -> Result<Secret, Failure> {
    let transport = |e: reqwest::Error| Failure::Transport(super::client::chain(&e));
    let mut query = vec![("scope", scope)];
    if let Some(service) = &challenge.service {
        query.push(("service", service));
    }
    let url = reqwest::Url::parse_with_params(&challenge.realm, &query)
        .map_err(|e| Failure::Protocol(format!("token realm {}: {e}", challenge.realm)))?;
    let mut request = http.get(url);
    if let Some((user, password)) = basic {
        request = request.basic_auth(user, Some(password.expose()));
    }
    let answer = request.send().await.map_err(transport)?;
    token_of(answer).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenges_are_read_and_others_are_not() {
        // As the distribution registry and Docker Hub send them.
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull""#
            ),
            Some(Challenge {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
            })
        );
        assert_eq!(
            parse_challenge(r#"bearer realm="http://127.0.0.1:4000/token""#),
            Some(Challenge {
                realm: "http://127.0.0.1:4000/token".into(),
                service: None,
            })
        );
        assert_eq!(parse_challenge(r#"Basic realm="stacktag-local""#), None);
        assert_eq!(parse_challenge(r#"Bearer service="x""#), None);
        assert_eq!(parse_challenge("Bearer"), None);
    }
}
