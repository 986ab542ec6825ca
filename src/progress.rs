//! What the user sees while a run works: one line per step on stderr,
//! prefixed with the elapsed time (and the image name in bold on a terminal).

use std::fmt::Display;
use std::io::{IsTerminal, Write};
use std::time::Instant;

pub struct Progress {
    start: Instant,
    tty: bool,
    quiet: bool,
}

impl Progress {
    pub fn new(quiet: bool) -> Self {
        Progress {
            start: Instant::now(),
            tty: std::io::stderr().is_terminal(),
            quiet,
        }
    }

    pub fn log(&self, image: &str, msg: impl Display) {
        if self.quiet {
            return;
        }
        let t = self.start.elapsed().as_secs_f64();
        let line = if self.tty {
            format!("[{t:6.2}s] \x1b[1m{image}\x1b[0m: {msg}\n")
        } else {
            format!("[{t:6.2}s] {image}: {msg}\n")
        };
        // A closed stderr is not worth failing the run for.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}
