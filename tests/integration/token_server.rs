//! A bearer-token server for the registry's `token` auth, as Docker Hub,
//! GHCR or Quay run one: the registry answers 401 with a `Bearer realm=...`
//! challenge, the client asks this server for a token with its Basic
//! credentials, and presents the token to the registry. The tokens are JWTs
//! signed (RS256, by the `openssl` CLI) under a self-signed certificate that
//! the registry is configured to trust (`rootcertbundle`), sent in `x5c`.
//!
//! It is test scaffolding, not a fake of stacktag's: the registry and the
//! Docker daemon are the real ones and check every token.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;

use crate::support::{openssl, self_signed};

pub const SERVICE: &str = "stacktag-test-registry";
pub const ISSUER: &str = "stacktag-test-issuer";

pub struct TokenServer {
    pub realm: String,
    pub cert: PathBuf,
    /// Tokens issued to the right credentials.
    pub issued: Arc<AtomicUsize>,
    /// Requests refused (wrong or no credentials).
    pub refused: Arc<AtomicUsize>,
    /// Tokens issued for the identity token (OAuth2 refresh grant).
    pub refreshed: Arc<AtomicUsize>,
}

/// What the server accepts, and what it counts.
struct Issuer {
    key: PathBuf,
    x5c: String,
    user: String,
    /// The `Authorization` header of the right Basic credentials.
    basic: String,
    password: String,
    identity_token: String,
    /// The actions granted, whatever is asked (`None`: every one asked).
    allowed: Option<Vec<String>>,
    issued: Arc<AtomicUsize>,
    refused: Arc<AtomicUsize>,
    refreshed: Arc<AtomicUsize>,
}

impl TokenServer {
    /// Makes a key and certificate in `dir` and serves tokens on a free
    /// loopback port, for every scope asked, to `user` with `password` (GET
    /// with Basic auth, or the OAuth2 password grant) and to the holder of
    /// `identity_token` (the OAuth2 refresh grant, as a Docker identity token
    /// is used). It grants `allowed` of the actions asked (a read-and-push
    /// scope, say, that may not delete); `None`: every action asked.
    pub fn start_granting(
        dir: &Path,
        user: &str,
        password: &str,
        identity_token: &str,
        allowed: Option<&[&str]>,
    ) -> TokenServer {
        let cert = dir.join("token-cert.pem");
        self_signed(
            dir,
            "stacktag-test-token-issuer",
            "token-key.pem",
            "token-cert.pem",
        );
        let der = openssl(dir, &["x509", "-in", "token-cert.pem", "-outform", "DER"]);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let realm = format!("http://{}/token", listener.local_addr().unwrap());
        let issuer = Arc::new(Issuer {
            key: dir.join("token-key.pem"),
            x5c: STANDARD.encode(der),
            user: user.to_string(),
            basic: format!("Basic {}", STANDARD.encode(format!("{user}:{password}"))),
            password: password.to_string(),
            identity_token: identity_token.to_string(),
            allowed: allowed.map(|a| a.iter().map(|s| s.to_string()).collect()),
            issued: Arc::default(),
            refused: Arc::default(),
            refreshed: Arc::default(),
        });
        let server = TokenServer {
            realm,
            cert,
            issued: issuer.issued.clone(),
            refused: issuer.refused.clone(),
            refreshed: issuer.refreshed.clone(),
        };
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let issuer = issuer.clone();
                std::thread::spawn(move || serve(stream, &issuer));
            }
        });
        server
    }

    pub fn issued(&self) -> usize {
        self.issued.load(Ordering::SeqCst)
    }

    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }

    pub fn refreshed(&self) -> usize {
        self.refreshed.load(Ordering::SeqCst)
    }
}

/// One connection: requests until the client closes it.
fn serve(stream: TcpStream, issuer: &Issuer) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    loop {
        let mut request = String::new();
        if reader.read_line(&mut request).unwrap_or(0) == 0 {
            return;
        }
        let mut authorization = None;
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                match name.to_ascii_lowercase().as_str() {
                    "authorization" => authorization = Some(value.trim().to_string()),
                    "content-length" => length = value.trim().parse().unwrap_or(0),
                    _ => {}
                }
            }
        }
        let mut body = vec![0u8; length];
        if std::io::Read::read_exact(&mut reader, &mut body).is_err() {
            return;
        }
        let target = request.split_whitespace().nth(1).unwrap_or("");
        let query = target.split_once('?').map_or("", |(_, q)| q);
        let form = pairs(&String::from_utf8_lossy(&body));
        let field = |name: &str| {
            form.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let granted = if request.starts_with("GET /token") {
            (authorization.as_deref() == Some(issuer.basic.as_str())).then(|| pairs(query))
        } else if request.starts_with("POST /token") {
            let ok = match field("grant_type") {
                Some("refresh_token") => {
                    field("refresh_token") == Some(issuer.identity_token.as_str())
                }
                Some("password") => {
                    field("username") == Some(issuer.user.as_str())
                        && field("password") == Some(issuer.password.as_str())
                }
                _ => false,
            };
            if ok && field("grant_type") == Some("refresh_token") {
                issuer.refreshed.fetch_add(1, Ordering::SeqCst);
            }
            ok.then(|| form.clone())
        } else {
            None
        };
        let (status, json) = match granted {
            None => {
                issuer.refused.fetch_add(1, Ordering::SeqCst);
                (
                    "401 Unauthorized",
                    r#"{"errors":[{"code":"UNAUTHORIZED","message":"wrong credentials"}]}"#
                        .to_string(),
                )
            }
            Some(params) => {
                issuer.issued.fetch_add(1, Ordering::SeqCst);
                let mut granted = scopes(&params);
                if let Some(allowed) = &issuer.allowed {
                    for (_, _, actions) in &mut granted {
                        actions.retain(|a| allowed.contains(a));
                    }
                }
                let token = token(issuer, &granted);
                (
                    "200 OK",
                    format!(r#"{{"token":"{token}","access_token":"{token}","expires_in":300}}"#),
                )
            }
        };
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{json}",
            json.len()
        );
        if out.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// `a=1&b=2` (a query or a form body), decoded.
fn pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (percent_decode(k), percent_decode(v)))
        .collect()
}

/// The `scope` parameters: `repository:NAME:ACTIONS`, space-separated or repeated.
fn scopes(params: &[(String, String)]) -> Vec<(String, String, Vec<String>)> {
    params
        .iter()
        .filter(|(k, _)| k == "scope")
        .flat_map(|(_, v)| v.split(' ').map(String::from).collect::<Vec<_>>())
        .filter_map(|scope| {
            let (kind, rest) = scope.split_once(':')?;
            let (name, actions) = rest.rsplit_once(':')?;
            Some((
                kind.to_string(),
                name.to_string(),
                actions.split(',').map(String::from).collect(),
            ))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A JWT the registry accepts: its issuer and service, five minutes of
/// validity, every action asked for.
fn token(issuer: &Issuer, scopes: &[(String, String, Vec<String>)]) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "x5c": [issuer.x5c]});
    let access: Vec<_> = scopes
        .iter()
        .map(|(kind, name, actions)| serde_json::json!({"type": kind, "name": name, "actions": actions}))
        .collect();
    let claims = serde_json::json!({
        "iss": ISSUER,
        "sub": issuer.user,
        "aud": SERVICE,
        "exp": now + 300,
        "nbf": now - 10,
        "iat": now - 10,
        "jti": format!("{now}-{}", scopes.len()),
        "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut sign = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign", issuer.key.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    sign.stdin
        .take()
        .unwrap()
        .write_all(signing_input.as_bytes())
        .unwrap();
    let signature = sign.wait_with_output().unwrap().stdout;
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}
