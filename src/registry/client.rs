//! The registry's HTTP API (OCI distribution), through `oci-client`: basic
//! auth, or basic credentials traded for a bearer token, as the registry asks;
//! a Docker identity token is traded for an access token first (`oauth.rs`).
//! Every call is retried on transient failures and mapped to a
//! [`RegistryError`] that names the registry and what was being done.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{Reference, RegistryOperation};
use serde::{Deserialize, Serialize};

use super::credentials::{Credentials, Found, Secret};
use super::error::{optional, CredentialSource, RegistryError};
use super::oauth;
use super::retry::{retry, Policy};

/// Manifest media types stacktag reads and writes.
pub mod media {
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    pub const ALL: &[&str] = &[DOCKER_MANIFEST, DOCKER_LIST, OCI_MANIFEST, OCI_INDEX];
}

/// An OCI content descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    pub fn new(media_type: impl Into<String>, digest: impl Into<String>, size: u64) -> Self {
        Descriptor {
            media_type: media_type.into(),
            digest: digest.into(),
            size,
            artifact_type: None,
            annotations: BTreeMap::new(),
        }
    }
}

/// One registry host, with the credentials to use there.
#[derive(Clone)]
pub struct Registry {
    pub host: String,
    client: oci_client::Client,
    auth: RegistryAuth,
    source: CredentialSource,
    policy: Policy,
    /// For trading an identity token, when that is the credential.
    identity: Option<Identity>,
    /// Repositories the client has signed in for (blob calls).
    signed_in: Arc<tokio::sync::Mutex<std::collections::HashSet<String>>>,
    /// Deletes, which oci-client does not make: plain HTTP calls.
    deletes: Deletes,
}

/// What a DELETE needs: the HTTP client, the API's base URL, the
/// credentials, and the tokens with the `delete` action already traded.
#[derive(Clone)]
struct Deletes {
    http: reqwest::Client,
    base: String,
    credentials: Credentials,
    tokens: Arc<tokio::sync::Mutex<HashMap<String, Secret>>>,
}

#[derive(Clone)]
struct Identity {
    token: Secret,
    http: reqwest::Client,
    /// `http://host` or `https://host`, as the registry is spoken to.
    base: String,
    /// Access tokens already traded, by repository.
    access: Arc<tokio::sync::Mutex<HashMap<String, RegistryAuth>>>,
}

/// One line on stderr before each retry, so a slow run says why.
fn report_retry(what: &str, n: u32, e: &RegistryError, wait: Duration) {
    crate::console::line(format_args!(
        "stacktag: {what}: {}; try {n} in {:.1}s",
        e.detail(),
        wait.as_secs_f64()
    ))
}

/// Loopback registries speak plain HTTP, as the Docker daemon allows them
/// to (127.0.0.0/8 is an insecure registry by default); all others HTTPS.
pub fn is_loopback(host: &str) -> bool {
    let name = host
        .rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map_or(host, |(name, _)| name);
    name == "localhost" || name.starts_with("127.") || name == "[::1]"
}

/// The CA the Docker daemon trusts for this registry
/// (`/etc/docker/certs.d/{host}/ca.crt`), trusted here too, so a registry with
/// a private CA works for merge as it does for push.
fn docker_ca(host: &str) -> Vec<Certificate> {
    let dir = std::env::var_os("STACKTAG_DOCKER_CERTS_DIR").map_or_else(
        || std::path::PathBuf::from("/etc/docker/certs.d"),
        Into::into,
    );
    std::fs::read(dir.join(host).join("ca.crt"))
        .map(|data| {
            vec![Certificate {
                encoding: CertificateEncoding::Pem,
                data,
            }]
        })
        .unwrap_or_default()
}

/// Installs rustls's process-wide crypto provider, ring (a second install
/// is a no-op error). rustls 0.23.48 deprecates ring's provider (it lacks the
/// post-quantum key exchange); it stays because it builds without cmake and
/// a C toolchain beyond cc, and the registries stacktag talks to do not
/// require that exchange. The one place that names it, so that a plugin
/// crate resolving a newer rustls compiles stacktag warning-free.
pub fn install_tls_provider() {
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    let _ = provider.install_default();
}

impl Registry {
    pub fn new(host: &str, found: &Found, policy: Policy) -> Self {
        install_tls_provider();
        let protocol = if is_loopback(host) {
            ClientProtocol::HttpsExcept(vec![host.to_string()])
        } else {
            ClientProtocol::Https
        };
        let extra_ca = docker_ca(host);
        let base = format!(
            "{}://{host}",
            if is_loopback(host) { "http" } else { "https" }
        );
        let identity = match &found.credentials {
            Credentials::IdentityToken(token) => Some(Identity {
                token: token.clone(),
                http: identity_client(&extra_ca),
                base: base.clone(),
                access: Arc::default(),
            }),
            _ => None,
        };
        let deletes = Deletes {
            http: identity_client(&extra_ca),
            base,
            credentials: found.credentials.clone(),
            tokens: Arc::default(),
        };
        let config = ClientConfig {
            extra_root_certificates: extra_ca,
            protocol,
            connect_timeout: Some(Duration::from_secs(10)),
            read_timeout: Some(Duration::from_secs(60)),
            // Blobs go up in one PUT each (`push --archive`), not in 4 MiB PATCHes.
            use_monolithic_push: true,
            ..Default::default()
        };
        Registry {
            host: host.to_string(),
            client: oci_client::Client::new(config),
            auth: found.credentials.for_registry(),
            source: found.source,
            policy,
            identity,
            signed_in: Arc::default(),
            deletes,
        }
    }

    /// Where the credentials in use came from, for messages.
    pub fn credential_source(&self) -> CredentialSource {
        self.source
    }

    /// The credentials for `repository`: as found, or, for an identity
    /// token, an access token traded for it (once per repository).
    async fn auth_for(&self, repository: &str) -> Result<RegistryAuth, RegistryError> {
        let Some(identity) = &self.identity else {
            return Ok(self.auth.clone());
        };
        let mut access = identity.access.lock().await;
        if let Some(auth) = access.get(repository) {
            return Ok(auth.clone());
        }
        let what = format!("trading the identity token for access to {repository}");
        let token = retry(
            &self.policy,
            RegistryError::is_transient,
            |n, e, wait| report_retry(&what, n, e, wait),
            || async {
                oauth::access_token(
                    &identity.http,
                    &identity.base,
                    repository,
                    "pull,push",
                    &identity.token,
                )
                .await
                .map_err(|failure| match failure {
                    oauth::Failure::Status(code, detail) => self.by_status(&what, code, detail),
                    oauth::Failure::Transport(detail) => RegistryError::Unreachable {
                        registry: self.host.clone(),
                        what: what.clone(),
                        detail,
                        tries: 1,
                    },
                    oauth::Failure::Protocol(detail) => RegistryError::Protocol {
                        registry: self.host.clone(),
                        what: what.clone(),
                        detail,
                    },
                })
            },
        )
        .await
        .map_err(|(e, tries)| e.after_tries(tries))?;
        let auth = match token {
            Some(token) => RegistryAuth::Bearer(token.expose().to_string()),
            None => RegistryAuth::Anonymous,
        };
        access.insert(repository.to_string(), auth.clone());
        Ok(auth)
    }

    /// `{host}/{repository}:{tag}`.
    pub fn reference(&self, repository: &str, tag: &str) -> Reference {
        Reference::with_tag(self.host.clone(), repository.to_string(), tag.to_string())
    }

    /// `{host}/{repository}@{digest}`.
    pub fn reference_digest(&self, repository: &str, digest: &str) -> Reference {
        Reference::with_digest(
            self.host.clone(),
            repository.to_string(),
            digest.to_string(),
        )
    }

    async fn call<T, Fut>(&self, what: &str, op: impl Fn() -> Fut) -> Result<T, RegistryError>
    where
        Fut: std::future::Future<Output = Result<T, OciDistributionError>>,
    {
        retry(
            &self.policy,
            RegistryError::is_transient,
            |n, e, wait| report_retry(what, n, e, wait),
            || async { op().await.map_err(|e| self.classify(what, e)) },
        )
        .await
        .map_err(|(e, tries)| e.after_tries(tries))
    }

    /// Checks that the registry answers and takes the credentials, with a
    /// read of the repository's tag list (which need not exist yet). Not a read
    /// of `reference` itself: the caller is about to overwrite it, and a tag
    /// the registry left half-written when it was stopped answers 500 to a read
    /// until it is written again.
    pub async fn check_access(&self, reference: &Reference) -> Result<(), RegistryError> {
        let what = format!("checking access to {}", reference.repository());
        let auth = self.auth_for(reference.repository()).await?;
        self.call(&what, || async {
            self.client
                .auth(reference, &auth, RegistryOperation::Push)
                .await
                .map(|_| ())
        })
        .await?;
        optional(self.tags(reference.repository()).await).map(|_| ())
    }

    /// The manifest's digest (HEAD), without pulling it.
    pub async fn digest(&self, reference: &Reference) -> Result<String, RegistryError> {
        let what = format!("reading the digest of {reference}");
        let auth = self.auth_for(reference.repository()).await?;
        self.call(&what, || {
            self.client.fetch_manifest_digest(reference, &auth)
        })
        .await
    }

    /// The manifest under `repository:tag` and its digest; a missing tag is
    /// `NotFound` naming `{host}/{repository}:{tag}`.
    pub async fn tagged_manifest(
        &self,
        repository: &str,
        tag: &str,
    ) -> Result<(bytes::Bytes, String), RegistryError> {
        match self.manifest(&self.reference(repository, tag)).await {
            Err(RegistryError::NotFound { .. }) => Err(RegistryError::NotFound {
                reference: format!("{}/{repository}:{tag}", self.host),
            }),
            other => other,
        }
    }

    /// The manifest as the registry stores it, and its digest.
    pub async fn manifest(
        &self,
        reference: &Reference,
    ) -> Result<(bytes::Bytes, String), RegistryError> {
        let what = format!("reading the manifest of {reference}");
        let auth = self.auth_for(reference.repository()).await?;
        self.call(&what, || {
            self.client.pull_manifest_raw(reference, &auth, media::ALL)
        })
        .await
    }

    /// A small blob (an image config), whole.
    pub async fn blob(
        &self,
        reference: &Reference,
        digest: &str,
    ) -> Result<Vec<u8>, RegistryError> {
        let what = format!("reading blob {digest} of {}", reference.repository());
        let auth = self.auth_for(reference.repository()).await?;
        self.call(&what, || async {
            let mut out = Vec::new();
            self.client
                .store_auth_if_needed(reference.resolve_registry(), &auth)
                .await;
            self.client.pull_blob(reference, digest, &mut out).await?;
            Ok(out)
        })
        .await
    }

    /// Puts an image index under `reference`'s tag.
    pub async fn put_manifest(
        &self,
        reference: &Reference,
        body: &[u8],
        media_type: &'static str,
    ) -> Result<(), RegistryError> {
        self.put(reference, body, media_type, "the image index")
            .await
    }

    /// Puts a manifest (`what`, for messages) under `reference`'s tag or digest.
    pub async fn put(
        &self,
        reference: &Reference,
        body: &[u8],
        media_type: &str,
        what: &str,
    ) -> Result<(), RegistryError> {
        let what = format!("putting {what} {reference}");
        let auth = self.auth_for(reference.repository()).await?;
        self.call(&what, || async {
            self.client
                .store_auth_if_needed(reference.resolve_registry(), &auth)
                .await;
            self.client
                .push_manifest_raw(reference, body.to_vec(), reqwest_header(media_type))
                .await
                .map(|_| ())
        })
        .await
    }

    /// Uploads a blob unless the repository has it already.
    pub async fn push_blob(
        &self,
        reference: &Reference,
        data: &[u8],
        digest: &str,
    ) -> Result<(), RegistryError> {
        let what = format!("uploading blob {digest} to {}", reference.repository());
        let auth = self.auth_for(reference.repository()).await?;
        self.call(&what, || async {
            self.client
                .store_auth_if_needed(reference.resolve_registry(), &auth)
                .await;
            if self.client.blob_exists(reference, digest).await? {
                return Ok(());
            }
            self.client
                .push_blob(reference, data.to_vec(), digest)
                .await
                .map(|_| ())
        })
        .await
    }

    /// Signs the client in for `repository`, for reads and writes (blob
    /// calls take no credentials of their own).
    async fn sign_in(&self, repository: &str) -> Result<(), RegistryError> {
        let mut signed_in = self.signed_in.lock().await;
        if signed_in.contains(repository) {
            return Ok(());
        }
        let reference = self.reference(repository, "latest");
        let auth = self.auth_for(repository).await?;
        let what = format!("signing in for {repository}");
        for op in [RegistryOperation::Pull, RegistryOperation::Push] {
            self.call(&what, || async {
                self.client.auth(&reference, &auth, op).await.map(|_| ())
            })
            .await?;
        }
        signed_in.insert(repository.to_string());
        Ok(())
    }

    /// Whether the repository has the blob (HEAD); `false` when the registry
    /// cannot tell (5xx after the retries): uploading it again is safe.
    pub async fn has_blob(&self, repository: &str, digest: &str) -> Result<bool, RegistryError> {
        self.sign_in(repository).await?;
        let reference = self.reference(repository, "latest");
        let what = format!("checking blob {digest} in {repository}");
        match self
            .call(&what, || self.client.blob_exists(&reference, digest))
            .await
        {
            // A registry that crashed while linking the blob into the repository
            // answers 500 for it until the link is written again, which is what
            // the upload that follows does (or it fails with its own error).
            Err(RegistryError::Server { .. }) => Ok(false),
            other => other,
        }
    }

    /// Mounts a blob of repository `from` (same registry) into `repository`,
    /// without sending it. `false` when the registry would not (the blob is
    /// not there, or the credentials may not read `from`): upload it then.
    pub async fn mount_blob(
        &self,
        repository: &str,
        from: &str,
        digest: &str,
    ) -> Result<bool, RegistryError> {
        self.sign_in(repository).await?;
        let target = self.reference(repository, "latest");
        let source = self.reference(from, "latest");
        let what = format!("mounting blob {digest} from {from} into {repository}");
        match self
            .call(&what, || self.client.mount_blob(&target, &source, digest))
            .await
        {
            Ok(()) => Ok(true),
            Err(e) if e.is_transient() => Err(e),
            Err(_) => Ok(false),
        }
    }

    /// Uploads a blob from a file (one PUT, the file re-read on each try).
    pub async fn push_blob_file(
        &self,
        repository: &str,
        digest: &str,
        size: u64,
        path: &std::path::Path,
    ) -> Result<(), RegistryError> {
        self.sign_in(repository).await?;
        let reference = self.reference(repository, "latest");
        let what = format!("uploading blob {digest} to {repository}");
        self.call(&what, || async {
            let file = tokio::fs::File::open(path)
                .await
                .map_err(OciDistributionError::IoError)?;
            let body = tokio_util::io::ReaderStream::with_capacity(file, 1 << 20)
                .map(|r| r.map_err(OciDistributionError::IoError));
            self.client
                .push_blob_stream(&reference, body, digest, Some(size))
                .await
                .map(|_| ())
        })
        .await
    }

    /// The referrers of `subject` (a digest reference) through the registry's
    /// referrers API; on a registry without one (404), oci-client reads the
    /// referrers tag (`sha256-{hex}`) instead.
    pub async fn referrers(
        &self,
        subject: &Reference,
    ) -> Result<Vec<oci_client::manifest::ImageIndexEntry>, RegistryError> {
        let what = format!("listing the referrers of {subject}");
        let auth = self.auth_for(subject.repository()).await?;
        self.call(&what, || async {
            self.client
                .store_auth_if_needed(subject.resolve_registry(), &auth)
                .await;
            self.client
                .pull_referrers(subject, None)
                .await
                .map(|i| i.manifests)
        })
        .await
    }

    /// Uploads a small blob (an image config) from memory.
    pub async fn push_blob_bytes(
        &self,
        repository: &str,
        digest: &str,
        data: &[u8],
    ) -> Result<(), RegistryError> {
        self.sign_in(repository).await?;
        let reference = self.reference(repository, "latest");
        let what = format!("uploading blob {digest} to {repository}");
        let data = bytes::Bytes::copy_from_slice(data);
        self.call(&what, || {
            self.client.push_blob(&reference, data.clone(), digest)
        })
        .await
        .map(|_| ())
    }

    /// Tags of a repository (the registry's `tags/list`).
    pub async fn tags(&self, repository: &str) -> Result<Vec<String>, RegistryError> {
        let reference = self.reference(repository, "latest");
        let what = format!("listing the tags of {repository}");
        let auth = self.auth_for(repository).await?;
        self.call(&what, || async {
            self.client
                .list_tags(&reference, &auth, None, None)
                .await
                .map(|t| t.tags)
        })
        .await
    }

    /// Deletes a manifest by digest, or a tag by name where the registry
    /// allows that (distribution 3, most hosted registries). Basic
    /// credentials are sent as they are; on a Bearer challenge a token with
    /// the `delete` action is asked for (and kept for the repository).
    pub async fn delete_manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<(), RegistryError> {
        let sep = if reference.contains(':') { '@' } else { ':' };
        let what = format!("deleting {}/{repository}{sep}{reference}", self.host);
        retry(
            &self.policy,
            RegistryError::is_transient,
            |n, e, wait| report_retry(&what, n, e, wait),
            || self.delete_once(repository, reference, &what),
        )
        .await
        .map_err(|(e, tries)| e.after_tries(tries))
    }

    async fn delete_once(
        &self,
        repository: &str,
        reference: &str,
        what: &str,
    ) -> Result<(), RegistryError> {
        let d = &self.deletes;
        let url = format!("{}/v2/{repository}/manifests/{reference}", d.base);
        let transport = |e: reqwest::Error| RegistryError::Unreachable {
            registry: self.host.clone(),
            what: what.to_string(),
            detail: chain(&e),
            tries: 1,
        };
        let token = d.tokens.lock().await.get(repository).cloned();
        let mut request = d.http.delete(&url);
        request = match (&token, &d.credentials) {
            (Some(t), _) => request.bearer_auth(t.expose()),
            (None, Credentials::Basic { username, password }) => {
                request.basic_auth(username, Some(password.expose()))
            }
            _ => request,
        };
        let mut answer = request.send().await.map_err(transport)?;
        let mut bearer = token.is_some();
        if answer.status() == 401 && !bearer {
            let challenge = answer
                .headers()
                .get(reqwest::header::WWW_AUTHENTICATE)
                .and_then(|h| h.to_str().ok())
                .and_then(oauth::parse_challenge);
            if let Some(challenge) = challenge {
                let token = self.delete_token(repository, &challenge, what).await?;
                d.tokens
                    .lock()
                    .await
                    .insert(repository.to_string(), token.clone());
                answer = d
                    .http
                    .delete(&url)
                    .bearer_auth(token.expose())
                    .send()
                    .await
                    .map_err(transport)?;
                bearer = true;
            }
        }
        let status = answer.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let body = answer.text().await.unwrap_or_default();
        let detail = error_messages(&body);
        Err(match status {
            405 => RegistryError::DeleteUnsupported {
                registry: self.host.clone(),
                what: what.to_string(),
                detail,
            },
            // A token without the delete action, or an account without the right.
            401 if bearer => RegistryError::DeleteDenied {
                registry: self.host.clone(),
                what: what.to_string(),
                credentials: self.source,
            },
            403 => RegistryError::DeleteDenied {
                registry: self.host.clone(),
                what: what.to_string(),
                credentials: self.source,
            },
            _ => self.by_status(what, status, detail),
        })
    }

    /// A token with the `delete` action on `repository`, from the realm of
    /// the registry's challenge.
    async fn delete_token(
        &self,
        repository: &str,
        challenge: &oauth::Challenge,
        what: &str,
    ) -> Result<Secret, RegistryError> {
        let d = &self.deletes;
        let scope = format!("repository:{repository}:delete");
        let got = match &d.credentials {
            Credentials::IdentityToken(token) => {
                oauth::access_token(&d.http, &d.base, repository, "delete", token)
                    .await
                    .and_then(|t| {
                        t.ok_or_else(|| oauth::Failure::Protocol("no Bearer challenge".into()))
                    })
            }
            Credentials::Basic { username, password } => {
                oauth::basic_token(&d.http, challenge, &scope, Some((username, password))).await
            }
            Credentials::Anonymous => oauth::basic_token(&d.http, challenge, &scope, None).await,
        };
        got.map_err(|failure| match failure {
            oauth::Failure::Status(code, detail) => self.by_status(what, code, detail),
            oauth::Failure::Transport(detail) => RegistryError::Unreachable {
                registry: self.host.clone(),
                what: what.to_string(),
                detail,
                tries: 1,
            },
            oauth::Failure::Protocol(detail) => RegistryError::Protocol {
                registry: self.host.clone(),
                what: what.to_string(),
                detail,
            },
        })
    }

    /// Signs the client in for reading `repository` only (a source of a
    /// copy, where the credentials may not allow writes).
    async fn sign_in_read(&self, repository: &str) -> Result<(), RegistryError> {
        let key = format!("pull:{repository}");
        let mut signed_in = self.signed_in.lock().await;
        if signed_in.contains(&key) || signed_in.contains(repository) {
            return Ok(());
        }
        let reference = self.reference(repository, "latest");
        let auth = self.auth_for(repository).await?;
        let what = format!("signing in for {repository}");
        self.call(&what, || async {
            self.client
                .auth(&reference, &auth, RegistryOperation::Pull)
                .await
                .map(|_| ())
        })
        .await?;
        signed_in.insert(key);
        Ok(())
    }

    /// Streams a blob of `source`'s repository `from` into this registry's
    /// `repository`: read and sent at the same time, never on disk, its
    /// digest checked as it passes. Each try starts the blob again.
    pub async fn copy_blob_from(
        &self,
        source: &Registry,
        from: &str,
        repository: &str,
        blob: &Descriptor,
    ) -> Result<(), RegistryError> {
        source.sign_in_read(from).await?;
        self.sign_in(repository).await?;
        let src = source.reference(from, "latest");
        let dst = self.reference(repository, "latest");
        let what = format!(
            "copying blob {} from {}/{from} to {}/{repository}",
            blob.digest, source.host, self.host
        );
        let digest = blob.digest.as_str();
        self.call(&what, || async {
            let stream = source.client.pull_blob_stream(&src, digest).await?;
            let body = stream
                .stream
                .map(|r| r.map_err(OciDistributionError::IoError));
            self.client
                .push_blob_stream(&dst, body, digest, Some(blob.size))
                .await
                .map(|_| ())
        })
        .await
    }

    /// A failure the registry (or its token server) answered with `status`.
    fn by_status(&self, what: &str, status: u16, detail: String) -> RegistryError {
        let registry = self.host.clone();
        let what = what.to_string();
        match status {
            401 => RegistryError::Unauthorized {
                registry: registry.clone(),
                what: what.clone(),
                credentials: self.source,
            },
            403 => RegistryError::Denied {
                registry: registry.clone(),
                what: what.clone(),
                credentials: self.source,
            },
            404 => RegistryError::NotFound {
                reference: what.clone(),
            },
            429 | 500..=599 => RegistryError::Server {
                registry: registry.clone(),
                what: what.clone(),
                status,
                detail,
                tries: 1,
            },
            _ => RegistryError::Protocol {
                registry: registry.clone(),
                what: what.clone(),
                detail: if detail.is_empty() {
                    format!("HTTP {status}, with no message")
                } else {
                    format!("HTTP {status}: {detail}")
                },
            },
        }
    }

    fn classify(&self, what: &str, e: OciDistributionError) -> RegistryError {
        let registry = self.host.clone();
        let what = what.to_string();
        let status = |status: u16, detail: String| self.by_status(&what, status, detail);
        match e {
            OciDistributionError::UnauthorizedError { .. }
            | OciDistributionError::AuthenticationFailure(_) => status(401, String::new()),
            OciDistributionError::RegistryError { envelope, .. } => {
                let code = envelope.errors.first().map(|e| &e.code);
                let detail = envelope
                    .errors
                    .iter()
                    .map(|e| e.message.clone())
                    .collect::<Vec<_>>()
                    .join("; ");
                match code {
                    Some(OciErrorCode::Unauthorized) => status(401, detail),
                    Some(OciErrorCode::Denied) => status(403, detail),
                    Some(
                        OciErrorCode::ManifestUnknown
                        | OciErrorCode::NameUnknown
                        | OciErrorCode::NotFound
                        | OciErrorCode::BlobUnknown,
                    ) => status(404, detail),
                    Some(OciErrorCode::Toomanyrequests) => status(429, detail),
                    _ => status(400, detail),
                }
            }
            OciDistributionError::ServerError { code, message, .. } => {
                status(code, message.trim().to_string())
            }
            OciDistributionError::RequestError(e) => match e.status() {
                Some(s) => status(s.as_u16(), e.to_string()),
                None => RegistryError::Unreachable {
                    registry,
                    what,
                    detail: chain(&e),
                    tries: 1,
                },
            },
            OciDistributionError::IoError(e) => RegistryError::Unreachable {
                registry,
                what,
                detail: e.to_string(),
                tries: 1,
            },
            other => RegistryError::Protocol {
                registry,
                what,
                detail: other.to_string(),
            },
        }
    }
}

/// The HTTP client for the identity-token exchange: the same timeouts, and
/// the CA the Docker daemon trusts for this registry.
fn identity_client(extra_ca: &[Certificate]) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60));
    for ca in extra_ca {
        if let Ok(cert) = reqwest::Certificate::from_pem(&ca.data) {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder.build().unwrap_or_default()
}

/// The `message`s of a registry's error body (`{"errors":[...]}`), or the body.
fn error_messages(body: &str) -> String {
    let parsed: Option<Vec<String>> = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v["errors"].as_array().map(|errors| {
                errors
                    .iter()
                    .map(|e| {
                        format!(
                            "{} {}",
                            e["code"].as_str().unwrap_or(""),
                            e["message"].as_str().unwrap_or("")
                        )
                        .trim()
                        .to_string()
                    })
                    .collect()
            })
        });
    parsed.map_or_else(|| body.trim().to_string(), |m| m.join("; "))
}

fn reqwest_header(media_type: &str) -> http::HeaderValue {
    http::HeaderValue::from_str(media_type)
        .unwrap_or(http::HeaderValue::from_static(media::OCI_MANIFEST))
}

/// The last causes of an error, on one line ("tcp connect error: Connection
/// refused"): the request itself is already named by the message around it.
pub(super) fn chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        parts.push(s.to_string());
        cur = s.source();
    }
    let keep = parts.len().saturating_sub(2);
    parts.split_off(keep).join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> Registry {
        let found = Found {
            credentials: super::super::credentials::Credentials::Anonymous,
            source: CredentialSource::Env,
        };
        Registry::new("r.example:5000", &found, Policy::new(3))
    }

    #[test]
    fn statuses_are_sorted_into_what_to_do() {
        let r = registry();
        let server = |code: u16| OciDistributionError::ServerError {
            code,
            url: "http://r.example:5000/v2/".into(),
            message: "boom".into(),
        };
        let e = r.classify("putting x", server(401));
        assert!(matches!(e, RegistryError::Unauthorized { .. }) && !e.is_transient());
        let e = r.classify("putting x", server(403));
        assert!(matches!(e, RegistryError::Denied { .. }) && !e.is_transient());
        assert!(r.classify("putting x", server(503)).is_transient());
        assert!(r.classify("putting x", server(429)).is_transient());
        assert!(!r.classify("putting x", server(400)).is_transient());
        let e = r.classify(
            "reading x",
            OciDistributionError::UnauthorizedError { url: "u".into() },
        );
        assert!(
            e.to_string()
                .contains("401 Unauthorized while reading x, using STACKTAG_REGISTRY_USER"),
            "{e}"
        );
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#;
        let envelope = serde_json::from_slice(body).unwrap();
        let e = r.classify(
            "reading x",
            OciDistributionError::RegistryError {
                envelope,
                url: "u".into(),
            },
        );
        assert!(matches!(e, RegistryError::NotFound { .. }), "{e}");
    }

    #[test]
    fn loopback_registries_use_plain_http() {
        assert!(is_loopback("localhost:5000"));
        assert!(is_loopback("127.0.0.1:41234"));
        assert!(is_loopback("localhost"));
        assert!(!is_loopback("quay.io"));
        assert!(!is_loopback("registry.example.com:5000"));
        assert!(!is_loopback("localhost.example.com"));
    }
}
