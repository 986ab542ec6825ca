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
}

impl TokenServer {
    /// Makes a key and certificate in `dir` and serves tokens on a free
    /// loopback port to `user` with `password`, for every scope asked.
    pub fn start(dir: &Path, user: &str, password: &str) -> TokenServer {
        let key = dir.join("token-key.pem");
        let cert = dir.join("token-cert.pem");
        self_signed(
            dir,
            "stacktag-test-token-issuer",
            "token-key.pem",
            "token-cert.pem",
        );
        let der = openssl(dir, &["x509", "-in", "token-cert.pem", "-outform", "DER"]);
        let x5c = STANDARD.encode(der);

        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let realm = format!("http://{}/token", listener.local_addr().unwrap());
        let issued = Arc::new(AtomicUsize::new(0));
        let refused = Arc::new(AtomicUsize::new(0));
        let expected = format!("Basic {}", STANDARD.encode(format!("{user}:{password}")));
        let (i, r, user) = (issued.clone(), refused.clone(), user.to_string());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (key, x5c, expected, user) =
                    (key.clone(), x5c.clone(), expected.clone(), user.clone());
                let (i, r) = (i.clone(), r.clone());
                std::thread::spawn(move || {
                    serve(stream, &key, &x5c, &expected, &user, &i, &r);
                });
            }
        });
        TokenServer {
            realm,
            cert,
            issued,
            refused,
        }
    }

    pub fn issued(&self) -> usize {
        self.issued.load(Ordering::SeqCst)
    }

    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }
}

/// One connection: requests until the client closes it.
fn serve(
    stream: TcpStream,
    key: &Path,
    x5c: &str,
    expected: &str,
    user: &str,
    issued: &AtomicUsize,
    refused: &AtomicUsize,
) {
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
        let (status, json) = if !request.starts_with("GET /token") {
            (
                "405 Method Not Allowed",
                r#"{"errors":[{"code":"UNSUPPORTED"}]}"#.to_string(),
            )
        } else if authorization.as_deref() != Some(expected) {
            refused.fetch_add(1, Ordering::SeqCst);
            (
                "401 Unauthorized",
                r#"{"errors":[{"code":"UNAUTHORIZED","message":"wrong credentials"}]}"#.to_string(),
            )
        } else {
            issued.fetch_add(1, Ordering::SeqCst);
            let token = token(key, x5c, user, &scopes(target));
            (
                "200 OK",
                format!(r#"{{"token":"{token}","access_token":"{token}","expires_in":300}}"#),
            )
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

/// The `scope` parameters of the query: `repository:NAME:ACTIONS`.
fn scopes(target: &str) -> Vec<(String, String, Vec<String>)> {
    let query = target.split_once('?').map_or("", |(_, q)| q);
    query
        .split('&')
        .filter_map(|kv| kv.strip_prefix("scope="))
        .flat_map(|v| {
            percent_decode(v)
                .split(' ')
                .map(String::from)
                .collect::<Vec<_>>()
        })
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
fn token(key: &Path, x5c: &str, user: &str, scopes: &[(String, String, Vec<String>)]) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "x5c": [x5c]});
    let access: Vec<_> = scopes
        .iter()
        .map(|(kind, name, actions)| serde_json::json!({"type": kind, "name": name, "actions": actions}))
        .collect();
    let claims = serde_json::json!({
        "iss": ISSUER,
        "sub": user,
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
        .args(["dgst", "-sha256", "-sign", key.to_str().unwrap()])
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
