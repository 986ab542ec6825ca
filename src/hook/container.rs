//! The one container an image gets per run: started with the entrypoint
//! replaced by `sleep infinity` (the image's own entrypoint never runs),
//! networking off unless asked, commands run by exec without a shell.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::CreateContainerOptionsBuilder;
use futures_util::StreamExt;

use crate::error::Error;
use crate::hook::command::{Cmd, ExecError, Output};
use crate::hook::session::{Session, MANAGED_LABEL, RUN_LABEL};
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

pub struct Container {
    session: Session,
    pub name: String,
    pub image: String,
    limits: Limits,
}

impl Container {
    /// Creates and starts a container of `image`. Removed by [`Container::remove`],
    /// or by [`Session::cleanup`] if the run stops first.
    pub async fn start(
        session: &Session,
        image: &str,
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
        let labels = HashMap::from([
            (MANAGED_LABEL.to_string(), "true".to_string()),
            (RUN_LABEL.to_string(), session.run_id.clone()),
        ]);
        let body = ContainerCreateBody {
            image: Some(image.to_string()),
            entrypoint: Some(vec!["sleep".into(), "infinity".into()]),
            cmd: Some(vec![]),
            labels: Some(labels),
            network_disabled: Some(!network),
            host_config: Some(HostConfig {
                network_mode: Some(if network { "default" } else { "none" }.into()),
                // docker-init as PID 1 reaps what timed-out commands leave behind.
                init: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        };
        let opts = CreateContainerOptionsBuilder::default().name(&name).build();
        let started = async {
            session.docker.create_container(Some(opts), body).await?;
            session.docker.start_container(&name, None).await
        }
        .await;
        if let Err(e) = started {
            container.remove().await;
            return Err(Error::docker(format!("start a container of {image} (entrypoint replaced by `sleep infinity`, which the image must have)"), e));
        }
        // `sleep` that does not understand `infinity` exits at once: say so now,
        // not as a confusing "not running" from every command.
        let running = session
            .docker
            .inspect_container(&name, None)
            .await
            .ok()
            .and_then(|c| c.state)
            .and_then(|s| s.running);
        if running != Some(true) {
            container.remove().await;
            return Err(Error::ContainerExited {
                image: image.to_string(),
            });
        }
        Ok(container)
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

#[async_trait]
impl Runner for Container {
    async fn exec(&self, cmd: &Cmd) -> Result<Output, ExecError> {
        match tokio::time::timeout(self.limits.timeout, self.exec_unbounded(cmd)).await {
            Ok(result) => result,
            // The process is killed with the container, which goes right after.
            Err(_) => Err(ExecError::Timeout {
                command: cmd.to_string(),
                after: self.limits.timeout,
            }),
        }
    }
}
