//! Runs the work of a command so that its containers are removed however it
//! ends: success, error, Ctrl-C, SIGTERM or a panic; and so that a signal
//! never cuts an image's tag set in half.
//!
//! The step that changes the daemon and the files of one image (tags applied,
//! staged files renamed into place) runs inside a [`Critical`] section. When a
//! signal comes, no new section may start, the sections already running are
//! let finish (they take milliseconds; a second signal stops waiting), and only
//! then is the work dropped.

use std::any::Any;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::Notify;

use crate::error::Error;
use crate::hook::error::{HookError, Stop};
use crate::hook::session::Session;

/// How long a signal waits for the critical sections already running.
const FINISH_WAIT: Duration = Duration::from_secs(30);

struct Gate {
    /// Set by a signal: no critical section may start any more.
    stopping: Option<Stop>,
    active: usize,
}

static GATE: Mutex<Gate> = Mutex::new(Gate {
    stopping: None,
    active: 0,
});
static IDLE: Notify = Notify::const_new();

fn gate() -> std::sync::MutexGuard<'static, Gate> {
    GATE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// While held, a signal waits for this section to end before the work is
/// dropped. Take it just before changing anything outside the process.
pub struct Critical(());

impl Critical {
    /// Refused once a signal has come: the caller stops there, nothing done.
    pub fn enter() -> Result<Critical, Error> {
        let mut g = gate();
        if let Some(signal) = g.stopping {
            return Err(HookError::Interrupted(signal).into());
        }
        g.active += 1;
        Ok(Critical(()))
    }
}

impl Drop for Critical {
    fn drop(&mut self) {
        let mut g = gate();
        g.active -= 1;
        if g.active == 0 {
            IDLE.notify_waiters();
        }
    }
}

/// Closes the gate and waits until no critical section is running.
async fn close_gate(signal: Stop) {
    loop {
        let idle = IDLE.notified();
        tokio::pin!(idle);
        idle.as_mut().enable();
        {
            let mut g = gate();
            g.stopping = Some(signal);
            if g.active == 0 {
                return;
            }
        }
        idle.await;
    }
}

pub async fn guarded<T, F>(session: &Session, work: F) -> Result<T, Error>
where
    T: Send + 'static,
    F: Future<Output = Result<T, Error>> + Send + 'static,
{
    let (mut int, mut term) = match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(i), Ok(t)) => (i, t),
        (Err(e), _) | (_, Err(e)) => return Err(Error::io("<signal handlers>", e)),
    };
    let signals = async move {
        tokio::select! {
            _ = int.recv() => Stop::Interrupt,
            _ = term.recv() => Stop::Terminate,
            _ = crate::console::closes() => Stop::OutputClosed,
        }
    };
    let outcome = supervise(work, signals).await;
    session.cleanup().await;
    match outcome {
        Ok(result) => result,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Runs `work` until it ends or `stop` yields a signal's name; on a signal,
/// lets the critical sections finish, then drops the work. A panic of the
/// work comes back as `Err` so the caller can clean up before unwinding.
async fn supervise<T, F, S>(work: F, stop: S) -> Result<Result<T, Error>, Box<dyn Any + Send>>
where
    T: Send + 'static,
    F: Future<Output = Result<T, Error>> + Send + 'static,
    S: Future<Output = Stop>,
{
    gate().stopping = None;
    let mut task = tokio::spawn(work);
    tokio::pin!(stop);
    let outcome = tokio::select! {
        joined = &mut task => match joined {
            Ok(result) => result,
            Err(e) if e.is_panic() => return Err(e.into_panic()),
            Err(_) => Err(HookError::Interrupted(Stop::Cancelled).into()),
        },
        signal = &mut stop => {
            if gate().active > 0 {
                crate::console::line(format_args!(
                    "stacktag: {signal}: finishing the tags being applied, then stopping"
                ));
            }
            tokio::select! {
                _ = close_gate(signal) => {}
                _ = tokio::time::sleep(FINISH_WAIT) => {}
            }
            Err(HookError::Interrupted(signal).into())
        }
    };
    if !task.is_finished() {
        task.abort();
        // Let the aborted work drop (removing its staged files) before cleanup.
        let _ = (&mut task).await;
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Instant;

    // One test: the gate is process-wide, so its cases must not run in parallel.
    #[tokio::test]
    async fn a_signal_waits_for_the_critical_section_then_stops_the_work() {
        // The signal (a timer here) comes while a critical section runs.
        let finished = Arc::new(AtomicBool::new(false));
        let after = Arc::new(AtomicBool::new(false));
        let (f, a) = (finished.clone(), after.clone());
        let started = Instant::now();
        let outcome = supervise(
            async move {
                let section = Critical::enter()?;
                tokio::time::sleep(Duration::from_millis(300)).await;
                f.store(true, Ordering::SeqCst);
                drop(section);
                tokio::time::sleep(Duration::from_secs(20)).await;
                a.store(true, Ordering::SeqCst);
                Ok(())
            },
            async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Stop::Interrupt
            },
        )
        .await
        .unwrap();
        assert!(matches!(
            outcome,
            Err(Error::Hook(HookError::Interrupted(Stop::Interrupt)))
        ));
        assert!(finished.load(Ordering::SeqCst), "section was cut short");
        assert!(!after.load(Ordering::SeqCst), "work went on after it");
        assert!(started.elapsed() < Duration::from_secs(10));

        // After the signal, no section may start.
        assert!(matches!(
            Critical::enter(),
            Err(Error::Hook(HookError::Interrupted(Stop::Interrupt)))
        ));

        // The next supervised run opens the gate again; work that ends
        // before any signal gives its own result.
        let outcome = supervise(
            async { Critical::enter().map(|_| 7) },
            std::future::pending(),
        )
        .await
        .unwrap();
        assert_eq!(outcome.unwrap(), 7);
    }
}
