//! What the user sees while a run works: one line per step on stderr,
//! prefixed with the elapsed time. On a terminal, a status line under them
//! also shows the commands running now, longest first, with their time, so
//! a slow or hung command is seen while it runs, not only when it times out.

use std::fmt::Display;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::plugin::command::{Cmd, ExecError, Output};
use crate::plugin::Runner;

/// How often the status line is redrawn.
const TICK: Duration = Duration::from_millis(200);
/// The status line is cut to this many characters (no terminal size query).
const WIDTH: usize = 120;

pub struct Progress {
    shared: Arc<Shared>,
    tty: bool,
    quiet: bool,
    ticker: Option<std::thread::JoinHandle<()>>,
}

struct Shared {
    start: Instant,
    state: Mutex<State>,
    stop: Condvar,
}

#[derive(Default)]
struct State {
    next_id: u64,
    running: Vec<Running>,
    /// The status line is on screen (so a log line must clear it first).
    shown: bool,
    stopped: bool,
}

struct Running {
    id: u64,
    image: String,
    command: String,
    since: Instant,
}

impl Progress {
    pub fn new(quiet: bool) -> Self {
        Self::with_terminal(quiet, std::io::stderr().is_terminal())
    }

    fn with_terminal(quiet: bool, tty: bool) -> Self {
        let shared = Arc::new(Shared {
            start: Instant::now(),
            state: Mutex::default(),
            stop: Condvar::new(),
        });
        let ticker = (tty && !quiet).then(|| {
            let shared = shared.clone();
            std::thread::spawn(move || shared.tick())
        });
        Progress {
            shared,
            tty,
            quiet,
            ticker,
        }
    }

    pub fn log(&self, image: &str, msg: impl Display) {
        if self.quiet {
            return;
        }
        let t = self.shared.start.elapsed().as_secs_f64();
        let line = if self.tty {
            format!("[{t:6.2}s] \x1b[1m{image}\x1b[0m: {msg}\n")
        } else {
            format!("[{t:6.2}s] {image}: {msg}\n")
        };
        let mut state = self.shared.lock();
        let clear = if state.shown { "\r\x1b[2K" } else { "" };
        state.shown = false;
        // A closed stderr ends the run as a signal would (see `console`).
        if write!(std::io::stderr().lock(), "{clear}{line}").is_err() {
            crate::console::output_closed();
        }
    }

    /// A runner that reports each command it runs to this progress.
    pub fn watch<'a>(&'a self, image: &'a str, inner: &'a dyn Runner) -> Watched<'a> {
        Watched {
            progress: self,
            image,
            inner,
        }
    }

    /// Shows `command` of `image` on the status line until [`Progress::finished`].
    pub(crate) fn started(&self, image: &str, command: String) -> u64 {
        let mut state = self.shared.lock();
        state.next_id += 1;
        let id = state.next_id;
        state.running.push(Running {
            id,
            image: image.to_string(),
            command,
            since: Instant::now(),
        });
        id
    }

    pub(crate) fn finished(&self, id: u64) {
        self.shared.lock().running.retain(|r| r.id != id);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.shared.lock().stopped = true;
        self.shared.stop.notify_all();
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The ticker thread: redraws the status line until the progress is dropped.
    fn tick(&self) {
        let mut state = self.lock();
        loop {
            state = self
                .stop
                .wait_timeout(state, TICK)
                .unwrap_or_else(|p| p.into_inner())
                .0;
            let line = if state.stopped {
                None
            } else {
                status_line(self.start.elapsed(), &state.running, Instant::now())
            };
            let mut err = std::io::stderr().lock();
            let written = match line {
                Some(line) => {
                    state.shown = true;
                    write!(err, "\r\x1b[2K{line}")
                }
                None if state.shown => {
                    state.shown = false;
                    write!(err, "\r\x1b[2K")
                }
                None => Ok(()),
            };
            if written.is_err() {
                crate::console::output_closed();
            }
            if state.stopped {
                return;
            }
        }
    }
}

/// `[  3.20s] running 3: r-notebook `R --version` 1.4s, scipy-notebook …`,
/// longest-running first; `None` when nothing runs.
fn status_line(elapsed: Duration, running: &[Running], now: Instant) -> Option<String> {
    if running.is_empty() {
        return None;
    }
    let mut by_age: Vec<&Running> = running.iter().collect();
    by_age.sort_by_key(|r| r.since);
    let list = by_age
        .iter()
        .map(|r| {
            let secs = now.duration_since(r.since).as_secs_f64();
            format!("{} `{}` {secs:.1}s", r.image, r.command)
        })
        .collect::<Vec<_>>()
        .join(", ");
    let line = format!(
        "[{:6.2}s] running {}: {list}",
        elapsed.as_secs_f64(),
        running.len()
    );
    Some(if line.chars().count() > WIDTH {
        line.chars().take(WIDTH - 1).chain(['…']).collect()
    } else {
        line
    })
}

/// A [`Runner`] that shows its commands on the status line while they run.
pub struct Watched<'a> {
    progress: &'a Progress,
    image: &'a str,
    inner: &'a dyn Runner,
}

#[async_trait]
impl Runner for Watched<'_> {
    async fn exec(&self, cmd: &Cmd) -> Result<Output, ExecError> {
        /// Takes the command off the status line however the exec ends
        /// (including when its future is dropped).
        struct Done<'p>(&'p Progress, u64);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.finished(self.1);
            }
        }
        let _done = Done(
            self.progress,
            self.progress.started(self.image, cmd.to_string()),
        );
        self.inner.exec(cmd).await
    }
}

/// `1 command`, `2 commands`: a count with its noun, plural by `s`.
pub fn counted(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::fake::FakeRunner;

    #[test]
    fn status_line_lists_the_longest_running_first_and_is_cut_to_width() {
        let now = Instant::now();
        let running = |image: &str, command: &str, ago: u64| Running {
            id: 0,
            image: image.into(),
            command: command.into(),
            since: now - Duration::from_millis(ago),
        };
        assert_eq!(status_line(Duration::from_secs(1), &[], now), None);
        let line = status_line(
            Duration::from_millis(3200),
            &[
                running("scipy-notebook", "pip list", 400),
                running("r-notebook", "R --version", 1400),
            ],
            now,
        )
        .unwrap();
        assert_eq!(
            line,
            "[  3.20s] running 2: r-notebook `R --version` 1.4s, scipy-notebook `pip list` 0.4s"
        );
        let many: Vec<Running> = (0..20).map(|i| running("img", "cmd", i)).collect();
        let line = status_line(Duration::ZERO, &many, now).unwrap();
        assert_eq!(line.chars().count(), WIDTH);
        assert!(line.ends_with('…'));
    }

    // Uses the project's fake runner (no Docker): what matters is the
    // bookkeeping around the exec.
    #[tokio::test]
    async fn a_watched_command_is_listed_while_it_runs_and_gone_after() {
        let progress = Progress::with_terminal(true, false);
        let fake = FakeRunner::default().with(&["python", "--version"], "Python 3.11.2\n", "", 0);
        let watched = progress.watch("base-notebook", &fake);
        let cmd = Cmd::new(&["python", "--version"]);
        let out = watched.exec(&cmd).await.unwrap();
        assert_eq!(out.stdout, "Python 3.11.2\n");
        assert!(progress.shared.lock().running.is_empty());

        let id = progress.started("base-notebook", cmd.to_string());
        let line = status_line(
            Duration::ZERO,
            &progress.shared.lock().running,
            Instant::now(),
        )
        .unwrap();
        assert!(line.contains("base-notebook `python --version`"), "{line}");
        progress.finished(id);
        assert!(progress.shared.lock().running.is_empty());
    }
}
