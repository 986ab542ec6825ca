//! `stacktag gc`: remove the containers that runs no longer alive left.

use clap::Args;

use super::exit::{DOCKER, IO, OK, USAGE};
use crate::error::Error;
use crate::error::FileError;
use crate::gc;
use crate::hook::session::Session;

pub const LONG_ABOUT: &str = "\
Remove the containers stacktag made (label org.stacktag.managed) whose run is no longer alive: a
run killed with SIGKILL, a daemon or machine that crashed. Each container names the process that
made it (host, boot, PID namespace, pid and start time); a container of a live run, of another
machine or PID namespace is kept. Every stacktag run does this too.";

pub const EXAMPLES: &str = "  stacktag gc --dry-run
  stacktag gc";

pub const CODES: &[i32] = &[OK, USAGE, DOCKER, IO];

#[derive(Debug, Args)]
pub struct GcArgs {
    /// Print what would be removed; remove nothing
    #[arg(long)]
    pub dry_run: bool,
}

pub async fn run(args: GcArgs) -> Result<(), Error> {
    let session = Session::open().await?;
    let Some(me) = session.owner() else {
        return Err(FileError::Bad {
            path: "/proc".into(),
            message: "cannot tell which processes are alive without Linux's /proc".into(),
        }
        .into());
    };
    let found = gc::collect(&session.docker, me, args.dry_run)
        .await
        .map_err(|e| Error::docker("list or remove stacktag's containers", e))?;
    let verb = if args.dry_run {
        "would remove"
    } else {
        "removed"
    };
    let mut text = String::new();
    for left in &found.removed {
        text += &format!("{verb} {left}: its run is no longer alive\n");
    }
    for left in &found.unknown {
        text += &format!("kept {left}: made on another machine, in another PID namespace or by an older stacktag; `docker rm -f` it if you know its run ended\n");
    }
    text += &format!(
        "{} {verb}, {} of runs alive now kept, {} of unknown runs kept\n",
        found.removed.len(),
        found.alive.len(),
        found.unknown.len()
    );
    super::out(&text);
    Ok(())
}

impl super::Run for GcArgs {
    async fn run(self, _: &super::Context<'_>) -> Result<(), Error> {
        run(self).await
    }
}
