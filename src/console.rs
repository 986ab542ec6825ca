//! The user's stdout and stderr, written without ever panicking.
//!
//! `eprintln!` panics when stderr is a closed pipe (`stacktag hook 2>&1 |
//! head -2`). Here a failed write instead tells the guard, which ends a
//! guarded run as a signal would: containers removed, nothing applied for
//! unfinished images, exit 141 (what a shell shows for SIGPIPE).

use std::fmt::Arguments;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

static OUTPUT_CLOSED: AtomicBool = AtomicBool::new(false);
static CLOSED: Notify = Notify::const_new();

/// Called when a write to stdout or stderr fails: a guarded run stops as on
/// a signal. Once closed, the output stays closed for the process.
pub fn output_closed() {
    if !OUTPUT_CLOSED.swap(true, Ordering::SeqCst) {
        CLOSED.notify_waiters();
    }
}

/// Resolves once [`output_closed`] was called (the guard waits on it).
pub async fn closes() {
    loop {
        let closed = CLOSED.notified();
        tokio::pin!(closed);
        closed.as_mut().enable();
        if OUTPUT_CLOSED.load(Ordering::SeqCst) {
            return;
        }
        closed.await;
    }
}

/// A size as the user reads it: `353.1 MB`.
pub fn size(bytes: u64) -> String {
    humansize::format_size(bytes, humansize::DECIMAL)
}

/// Writes `text` to stdout; a failed write stops the run (see the module).
pub fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    if stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
        .is_err()
    {
        output_closed();
    }
}

/// Writes `text` to stderr as it is; a failed write stops the run.
pub fn err(text: &str) {
    if std::io::stderr().lock().write_all(text.as_bytes()).is_err() {
        output_closed();
    }
}

/// `stacktag: warning: {args}` on stderr.
pub fn warn(args: Arguments<'_>) {
    err(&format!("stacktag: warning: {args}\n"));
}

/// One line on stderr, as `eprintln!` would write it.
pub fn line(args: Arguments<'_>) {
    err(&format!("{args}\n"));
}
