//! The one container an image gets per run: started with the entrypoint
//! replaced by stacktag's own keep-alive program (see [`crate::keepalive`];
//! the image's entrypoint never runs, and nothing is needed from the image),
//! networking off unless asked, commands run by exec without a shell.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::models::ContainerState;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, UploadToContainerOptionsBuilder, WaitContainerOptionsBuilder,
};
use futures_util::StreamExt;

use crate::error::Error;
use crate::error::HookError;
use crate::formats::tags::Platform;
use crate::hook::session::Session;
use crate::keepalive;
use crate::plugin::command::{Cmd, ExecError, Output};
use crate::plugin::Runner;

/// How long and how much a command may run and write.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub timeout: Duration,
    /// Bytes of stdout plus stderr.
    pub max_output: usize,
}

/// Bytes of output a command may write unless told otherwise.
pub const DEFAULT_MAX_OUTPUT: usize = 64 << 20;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(crate::hierarchy::defaults::COMMAND_TIMEOUT),
            max_output: DEFAULT_MAX_OUTPUT,
        }
    }
}

/// How long a failed command waits for the daemon to say whether the
/// container stopped under it.
const STOP_GRACE: Duration = Duration::from_secs(1);

/// Creates the container (with the engine's init process as PID 1, or
/// without), puts the keep-alive program in, and starts it.
async fn create_and_start(
    session: &Session,
    name: &str,
    image: &str,
    platform: Platform,
    network: bool,
    init: bool,
) -> Result<(), bollard::errors::Error> {
    let labels: HashMap<String, String> = session.labels();
    let body = ContainerCreateBody {
        image: Some(image.to_string()),
        entrypoint: Some(vec![keepalive::PATH.into()]),
        cmd: Some(vec![]),
        labels: Some(labels),
        network_disabled: Some(!network),
        host_config: Some(HostConfig {
            network_mode: Some(if network { "default" } else { "none" }.into()),
            // docker-init as PID 1 reaps what timed-out commands leave behind.
            init: Some(init),
            ..Default::default()
        }),
        ..Default::default()
    };
    let opts = CreateContainerOptionsBuilder::default().name(name).build();
    let upload = UploadToContainerOptionsBuilder::default().path("/").build();
    session.docker.create_container(Some(opts), body).await?;
    session
        .docker
        .upload_to_container(
            name,
            Some(upload),
            bollard::body_full(keepalive::archive(platform).into()),
        )
        .await?;
    session.docker.start_container(name, None).await
}

/// The engine refused the init process it has not got: Podman's
/// `container-init binary not found on the host: stat …/catatonit`, Docker's
/// `"docker-init": executable file not found`.
fn is_missing_init(e: &bollard::errors::Error) -> bool {
    let text = e.to_string().to_ascii_lowercase();
    text.contains("catatonit") || text.contains("container-init") || text.contains("docker-init")
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().trim().to_string()
}

pub struct Container {
    session: Session,
    pub name: String,
    pub image: String,
    limits: Limits,
}

impl Container {
    /// Creates a container of `image` (of `platform`), puts the keep-alive
    /// program in, and starts it. Removed by [`Container::remove`], or by
    /// [`Session::cleanup`] if the run stops first.
    pub async fn start(
        session: &Session,
        image: &str,
        platform: Platform,
        key: &str,
        network: bool,
        limits: Limits,
    ) -> Result<Container, Error> {
        let safe_key: String = key
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let name = format!("stacktag-{}-{safe_key}", session.run_id);
        session.track(&name);
        let container = Container {
            session: session.clone(),
            name: name.clone(),
            image: image.to_string(),
            limits,
        };
        let started = loop {
            let init = session.with_init();
            let started = create_and_start(session, &name, image, platform, network, init).await;
            match started {
                Err(e) if init && is_missing_init(&e) => {
                    // Podman without catatonit: the keep-alive program can be PID 1.
                    container.session.remove_container(&name).await;
                    session.track(&name);
                    session.without_init(&first_line(&e.to_string()));
                }
                other => break other,
            }
        };
        if let Err(e) = started {
            container.remove().await;
            return Err(Error::docker(
                format!("start a container of {image} with stacktag's keep-alive program as its entrypoint"),
                e,
            ));
        }
        // Say now if it stopped, not as a confusing "not running" from every command.
        if let Some(state) = container.stopped().await {
            container.remove().await;
            return Err(HookError::ContainerStopped {
                image: image.to_string(),
                when: "right after it started",
                state,
            }
            .into());
        }
        Ok(container)
    }

    /// [`Container::stopped`], waiting up to `wait` for the container to stop.
    async fn stopped_within(&self, wait: Duration) -> Option<String> {
        if let Some(state) = self.stopped().await {
            return Some(state);
        }
        if wait.is_zero() {
            return None;
        }
        let opts = WaitContainerOptionsBuilder::default()
            .condition("not-running")
            .build();
        let mut waited = self.session.docker.wait_container(&self.name, Some(opts));
        // An error here (a non-zero exit code among them) also means it ended.
        tokio::time::timeout(wait, waited.next()).await.ok()?;
        self.stopped().await
    }

    /// How the container ended, if it is no longer running; `None` while it
    /// runs, or when the daemon cannot say.
    pub async fn stopped(&self) -> Option<String> {
        let inspected = self
            .session
            .docker
            .inspect_container(&self.name, None)
            .await
            .ok()?;
        let state = inspected.state?;
        (state.running != Some(true)).then(|| describe(&state))
    }

    pub async fn remove(self) {
        self.session.remove_container(&self.name).await;
    }

    async fn exec_unbounded(&self, cmd: &Cmd) -> Result<Output, ExecError> {
        let docker = &self.session.docker;
        let command = cmd.to_string();
        let dock = |e: bollard::errors::Error| ExecError::Docker {
            command: command.clone(),
            message: e.to_string(),
        };
        let exec = docker
            .create_exec(
                &self.name,
                CreateExecOptions {
                    cmd: Some(cmd.0.clone()),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    ..Default::default()
                },
            )
            .await
            .map_err(dock)?;
        let StartExecResults::Attached { mut output, .. } =
            docker.start_exec(&exec.id, None).await.map_err(dock)?
        else {
            unreachable!("started attached");
        };
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        while let Some(frame) = output.next().await {
            match frame.map_err(dock)? {
                LogOutput::StdOut { message } => stdout.extend_from_slice(&message),
                LogOutput::StdErr { message } => stderr.extend_from_slice(&message),
                _ => {}
            }
            if stdout.len() + stderr.len() > self.limits.max_output {
                return Err(ExecError::TooLarge {
                    command,
                    limit: self.limits.max_output,
                });
            }
        }
        // The stream ends when the process does; the exit code may lag a moment.
        let mut exit_code = None;
        for _ in 0..50 {
            let info = docker.inspect_exec(&exec.id).await.map_err(dock)?;
            if info.running != Some(true) {
                exit_code = info.exit_code;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(Output {
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            exit_code: exit_code.unwrap_or(-1),
        })
    }
}

/// `exit code 137, killed for lack of memory: ...`: what the daemon knows.
fn describe(state: &ContainerState) -> String {
    let mut text = format!(
        "{}, exit code {}",
        state
            .status
            .map_or("stopped".to_string(), |s| s.to_string()),
        state.exit_code.unwrap_or(-1)
    );
    if state.oom_killed == Some(true) {
        text += ", killed for lack of memory";
    }
    if let Some(e) = state.error.as_deref().filter(|e| !e.is_empty()) {
        text += &format!(": {e}");
    }
    text
}

#[async_trait]
impl Runner for Container {
    async fn exec(&self, cmd: &Cmd) -> Result<Output, ExecError> {
        let result = match tokio::time::timeout(self.limits.timeout, self.exec_unbounded(cmd)).await
        {
            Ok(result) => result,
            // The process is killed with the container, which goes right after.
            Err(_) => Err(ExecError::Timeout {
                command: cmd.to_string(),
                after: self.limits.timeout,
            }),
        };
        // A command that failed because the container itself stopped (its
        // exec refused, killed, or "not found" as the container went) is
        // reported as that, whatever the timing.
        // The daemon marks the container stopped a moment after its
        // processes die: failures that look like that wait for it briefly.
        let wait = match &result {
            Ok(out) if [126, 127, 137, -1].contains(&out.exit_code) => Some(STOP_GRACE),
            Ok(out) if out.exit_code != 0 => Some(Duration::ZERO),
            Err(ExecError::Docker { .. }) => Some(STOP_GRACE),
            _ => None,
        };
        if let Some(wait) = wait {
            if let Some(state) = self.stopped_within(wait).await {
                return Err(ExecError::ContainerStopped {
                    command: cmd.to_string(),
                    state,
                });
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(message: &str) -> bollard::errors::Error {
        bollard::errors::Error::DockerResponseServerError {
            status_code: 500,
            message: message.to_string(),
        }
    }

    /// Debian's podman 4.3 without catatonit (the message as it gave it
    /// here), and dockerd's init by its name.
    #[test]
    fn an_engine_without_init_is_told_apart_from_other_refusals() {
        assert!(is_missing_init(&refused(
            "container create: container-init binary not found on the host: stat /usr/libexec/podman/catatonit: no such file or directory"
        )));
        assert!(is_missing_init(&refused(
            "OCI runtime create failed: exec: \"docker-init\": executable file not found in $PATH"
        )));
        assert!(!is_missing_init(&refused("No such image: x:latest")));
    }
}
