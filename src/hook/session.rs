//! The connection to the Docker daemon, and the containers this run owns,
//! so that none outlives it: not on success, error, Ctrl-C, SIGTERM or panic.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bollard::query_parameters::{ListContainersOptionsBuilder, RemoveContainerOptionsBuilder};

use crate::error::{Error, HookError};
use crate::gc::{self, Owner};
pub use crate::gc::{MANAGED_LABEL, RUN_LABEL};

#[derive(Clone)]
pub struct Session {
    pub docker: bollard::Docker,
    pub run_id: String,
    /// DOCKER_HOST, or the default socket, for messages.
    pub host: String,
    /// This process, recorded on its containers so that a later run can
    /// tell whether it is still alive (see [`crate::gc`]).
    owner: Option<Owner>,
    live: Arc<Mutex<HashSet<String>>>,
    /// The daemon stopped answering during the run.
    gone: Arc<AtomicBool>,
    /// The engine has no init process to give containers (Debian's podman
    /// without catatonit): they run with the keep-alive program as PID 1.
    no_init: Arc<AtomicBool>,
}

/// How long a ping may take before the daemon counts as gone.
const PING_TIMEOUT: Duration = Duration::from_secs(5);

impl Session {
    /// Connects like the docker CLI: `DOCKER_HOST` (unix:// or tcp://) or the
    /// local socket, with the API version negotiated down to the daemon's;
    /// over TLS when `DOCKER_TLS_VERIFY` is set, with the CA and client
    /// certificate of `DOCKER_CERT_PATH` (default `~/.docker`).
    pub async fn connect() -> Result<Session, Error> {
        let session = Session::open().await?;
        session.collect_leftovers().await;
        Ok(session)
    }

    /// Removes the containers of runs that are no longer alive (a run killed
    /// with SIGKILL, a daemon or a machine that went down), saying so.
    async fn collect_leftovers(&self) {
        let Some(me) = &self.owner else { return };
        // Not being able to list them is not this run's problem.
        if let Ok(found) = gc::collect(&self.docker, me, false).await {
            if !found.removed.is_empty() {
                let names: Vec<String> = found.removed.iter().map(|l| l.to_string()).collect();
                crate::console::line(format_args!(
                    "stacktag: removed {} container(s) left by runs no longer alive: {}",
                    names.len(),
                    names.join(", ")
                ));
            }
        }
    }

    /// This process as owner labels record it, if /proc says.
    pub fn owner(&self) -> Option<&Owner> {
        self.owner.as_ref()
    }

    /// Connects (see [`Session::connect`]) without removing what dead runs left.
    pub async fn open() -> Result<Session, Error> {
        let host =
            std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
        let tls = std::env::var_os("DOCKER_TLS_VERIFY").is_some_and(|v| !v.is_empty());
        if tls {
            // The process-wide TLS provider; already there if the registry code ran first.
            crate::registry::client::install_tls_provider();
        }
        let connect_err = |source: bollard::errors::Error| HookError::Connect {
            host: host.clone(),
            source: Box::new(source),
            fix: if tls {
                "check the daemon's TLS set-up: DOCKER_CERT_PATH (default ~/.docker) must hold \
                 ca.pem (the CA that signed the daemon's certificate), and cert.pem and key.pem \
                 (a client certificate the daemon trusts)"
            } else {
                "start it (`scripts/docker-up`) or point DOCKER_HOST at one"
            },
        };
        let docker = bollard::Docker::connect_with_defaults().map_err(connect_err)?;
        let docker = docker.negotiate_version().await.map_err(connect_err)?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        // STACKTAG_RUN_ID lets CI and tests find the containers of one run.
        let run_id = std::env::var("STACKTAG_RUN_ID")
            .ok()
            .filter(|id| {
                !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            .unwrap_or_else(|| format!("{}-{:x}", std::process::id(), nanos & 0xffff_ffff));
        Ok(Session {
            docker,
            run_id,
            host,
            owner: Owner::current(),
            live: Arc::default(),
            gone: Arc::default(),
            no_init: Arc::default(),
        })
    }

    /// Whether containers are to be started with the engine's init process.
    pub(crate) fn with_init(&self) -> bool {
        !self.no_init.load(Ordering::SeqCst)
    }

    /// The engine has no init process: from now on containers start without
    /// one. Said once per run, by whichever container found out first.
    pub(crate) fn without_init(&self, why: &str) {
        if !self.no_init.swap(true, Ordering::SeqCst) {
            crate::console::warn(format_args!(
                "the container engine at {} has no init process ({why}); containers run without \
                 one, stacktag's keep-alive program as PID 1 (what a timed-out command leaves \
                 behind goes when the container is removed)",
                self.host
            ));
        }
    }

    /// Whether the daemon stopped answering (checked now, remembered).
    pub async fn daemon_gone(&self) -> bool {
        if self.gone.load(Ordering::SeqCst) {
            return true;
        }
        let answered = tokio::time::timeout(PING_TIMEOUT, self.docker.ping()).await;
        let gone = !matches!(answered, Ok(Ok(_)));
        if gone {
            self.gone.store(true, Ordering::SeqCst);
        }
        gone
    }

    /// The labels of every container this run creates.
    pub fn labels(&self) -> std::collections::HashMap<String, String> {
        let mut labels = std::collections::HashMap::from([
            (MANAGED_LABEL.to_string(), "true".to_string()),
            (RUN_LABEL.to_string(), self.run_id.clone()),
        ]);
        labels.extend(self.owner.iter().flat_map(|o| o.labels()));
        labels
    }

    /// Records a container name before it is created, so cleanup finds it
    /// even if the run stops while the create request is in flight.
    pub(crate) fn track(&self, name: &str) {
        self.live.lock().expect("poisoned").insert(name.to_string());
    }

    pub(crate) fn untrack(&self, name: &str) {
        self.live.lock().expect("poisoned").remove(name);
    }

    pub(crate) async fn remove_container(&self, name: &str) {
        let opts = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        // 404: never created, or already gone. Anything else is worth a warning.
        match self.docker.remove_container(name, Some(opts)).await {
            Ok(()) => {}
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => {}
            // With the daemon gone, the next run removes it: one message says so.
            Err(_) if self.daemon_gone().await => {}
            Err(e) => crate::console::warn(format_args!("could not remove container {name}: {e}")),
        }
        self.untrack(name);
    }

    /// Removes every container of this run that is still there.
    pub async fn cleanup(&self) {
        if self.gone.load(Ordering::SeqCst) {
            return;
        }
        let names: Vec<String> = self
            .live
            .lock()
            .expect("poisoned")
            .iter()
            .cloned()
            .collect();
        futures_util::future::join_all(names.iter().map(|n| self.remove_container(n))).await;
        // A create that was in flight when the run stopped: find it by label.
        let filters = std::collections::HashMap::from([(
            "label",
            vec![format!("{RUN_LABEL}={}", self.run_id)],
        )]);
        let opts = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        if let Ok(left) = self.docker.list_containers(Some(opts)).await {
            let ids: Vec<String> = left.into_iter().filter_map(|c| c.id).collect();
            futures_util::future::join_all(ids.iter().map(|id| self.remove_container(id))).await;
        }
    }
}
