//! The verify gate: a command on the host (docker-pkg's `test.sh`), run
//! through `sh -c` from the hierarchy file's directory, stdout and stderr
//! together.

use std::path::Path;
use std::process::Stdio;

use tokio::io::AsyncReadExt;

/// Runs `command`; its exit code (`None`: killed by a signal) and output.
/// The process is killed if the run stops (Ctrl-C).
pub async fn run(command: &str, dir: &Path) -> std::io::Result<(Option<i32>, String)> {
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(format!("exec 2>&1\n{command}"))
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let mut out = Vec::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout.read_to_end(&mut out).await?;
    }
    let status = child.wait().await?;
    Ok((status.code(), String::from_utf8_lossy(&out).into_owned()))
}
