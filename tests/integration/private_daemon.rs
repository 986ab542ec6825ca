//! A Docker daemon of the test's own, to kill and restart: its own socket,
//! data, exec root (with its own containerd) and containerd namespace, no
//! bridge and no iptables, so the shared daemon never notices it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::text;

pub struct PrivateDaemon {
    dir: tempfile::TempDir,
    child: Option<Child>,
    /// A daemon.json of the test's own (`--config-file`).
    config: bool,
}

impl PrivateDaemon {
    pub fn start() -> PrivateDaemon {
        Self::start_with_config(None)
    }

    /// With `daemon_json` as its configuration file, e.g. BuildKit turned off.
    pub fn start_with_config(daemon_json: Option<&str>) -> PrivateDaemon {
        // Short: unix socket paths (containerd's too) are limited to 108 bytes.
        let dir = tempfile::Builder::new()
            .prefix("stf")
            .tempdir_in("/tmp")
            .unwrap();
        if let Some(json) = daemon_json {
            std::fs::write(dir.path().join("daemon.json"), json).unwrap();
        }
        let mut d = PrivateDaemon {
            dir,
            child: None,
            config: daemon_json.is_some(),
        };
        d.spawn().unwrap();
        d
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `unix://…`, for DOCKER_HOST.
    pub fn host(&self) -> String {
        format!("unix://{}", self.path("d.sock").display())
    }

    fn spawn(&mut self) -> Result<(), String> {
        // The containerd of a killed daemon may still be going down (a
        // zombie counts: dockerd would take it for a live one and wait on it).
        let old = std::fs::read_to_string(self.path("x/containerd/containerd.pid"))
            .ok()
            .and_then(|p| p.trim().parse::<i32>().ok());
        let deadline = Instant::now() + Duration::from_secs(15);
        while old.is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists())
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(100));
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path("dockerd.log"))
            .unwrap();
        // In a network namespace of its own: a daemon started with
        // `--bridge=none` removes the host's default bridge (docker0), which
        // would cut the shared daemon's containers off the network.
        let mut cmd = Command::new("unshare");
        cmd.args(["--net", "dockerd"]);
        if self.config {
            cmd.arg("--config-file").arg(self.path("daemon.json"));
        }
        let child = cmd
            .arg("-H")
            .arg(self.host())
            .arg("--data-root")
            .arg(self.path("data"))
            .arg("--exec-root")
            .arg(self.path("x"))
            .arg("--pidfile")
            .arg(self.path("d.pid"))
            .args([
                "--bridge=none",
                "--iptables=false",
                "--ip6tables=false",
                "--containerd-namespace=stacktag-faults",
                "--containerd-plugins-namespace=stacktag-faults-plugins",
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("dockerd");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.answers() {
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(self.path("dockerd.log")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(30).collect();
                return Err(format!("private dockerd did not start: {tail:?}"));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(())
    }

    /// Processes whose command line names this daemon's directory.
    fn processes_naming_dir(&self) -> Vec<i32> {
        let dir = self.dir.path().to_string_lossy().to_string();
        pids()
            .into_iter()
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&dir))
            })
            .collect()
    }

    /// The pid of this daemon's containerd, if one runs.
    fn containerd(&self) -> Option<i32> {
        let pid: i32 = std::fs::read_to_string(self.path("x/containerd/containerd.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        String::from_utf8_lossy(&cmdline)
            .contains(&*self.dir.path().to_string_lossy())
            .then_some(pid)
    }

    fn answers(&self) -> bool {
        Command::new("docker")
            .args([
                "-H",
                &self.host(),
                "version",
                "--format",
                "{{.Server.Version}}",
            ])
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// Runs the docker CLI against this daemon; panics with stderr on failure.
    pub fn docker(&self, args: &[&str]) -> String {
        let out = Command::new("docker")
            .args(["-H", &self.host()])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "docker {args:?}: {}",
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// Copies `reference` from the shared daemon into this one.
    pub fn load(&self, reference: &str) {
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "docker save {reference} | docker -H {} load -q",
                self.host()
            ))
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "load {reference}");
    }

    /// SIGKILL, as a crash would: the daemon goes, its containerd stays.
    pub fn kill(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// Starts the daemon again on the same data (after [`PrivateDaemon::kill`]).
    pub fn restart(&mut self) {
        assert!(self.child.is_none());
        self.spawn().unwrap();
    }
}

impl Drop for PrivateDaemon {
    fn drop(&mut self) {
        if self.child.is_none() && self.path("data").exists() {
            if let Err(e) = self.spawn() {
                eprintln!("{e}");
            }
        }
        // Its containers first, so no mount is left under the directory.
        if let Ok(out) = Command::new("docker")
            .args(["-H", &self.host(), "ps", "-aq"])
            .output()
        {
            for id in text(&out.stdout).lines() {
                let _ = Command::new("docker")
                    .args(["-H", &self.host(), "rm", "-f", id])
                    .output();
            }
        }
        if let Some(mut child) = self.child.take() {
            // SIGTERM: dockerd stops its containerd on the way out.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(30);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        // A containerd left behind: ours by its pid file and command line.
        if let Some(pid) = self.containerd() {
            unsafe { libc::kill(pid, libc::SIGTERM) };
            std::thread::sleep(Duration::from_secs(1));
            if self.containerd() == Some(pid) {
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        // Shims of containers the daemon could not stop, and their processes:
        // ours by the directory in their command line.
        for shim in self.processes_naming_dir() {
            for child in children(shim) {
                unsafe { libc::kill(child, libc::SIGKILL) };
            }
            unsafe { libc::kill(shim, libc::SIGKILL) };
        }
        // Mounts left under the directory, deepest first.
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let base = self.dir.path().to_string_lossy().to_string();
        let mut ours: Vec<&str> = mounts
            .lines()
            .filter_map(|l| l.split(' ').nth(4))
            .filter(|m| m.starts_with(&base))
            .collect();
        ours.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in ours {
            let _ = Command::new("umount").args(["-l", m]).status();
        }
    }
}

fn pids() -> Vec<i32> {
    std::fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The processes whose parent is `pid`.
fn children(pid: i32) -> Vec<i32> {
    pids()
        .into_iter()
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat")).is_ok_and(|s| {
                let after = &s[s.rfind(')').map_or(0, |i| i + 1)..];
                after.split_whitespace().nth(1) == Some(&pid.to_string())
            })
        })
        .collect()
}
