//! Runs the work of a command so that its containers are removed however it
//! ends: success, error, Ctrl-C, SIGTERM or a panic.

use std::future::Future;

use tokio::signal::unix::{signal, SignalKind};

use crate::error::Error;
use crate::session::Session;

pub async fn guarded<T, F>(session: &Session, work: F) -> Result<T, Error>
where
    T: Send + 'static,
    F: Future<Output = Result<T, Error>> + Send + 'static,
{
    let mut task = tokio::spawn(work);
    let (mut int, mut term) = match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(i), Ok(t)) => (i, t),
        (Err(e), _) | (_, Err(e)) => return Err(Error::io("<signal handlers>", e)),
    };
    let outcome = tokio::select! {
        joined = &mut task => match joined {
            Ok(result) => result,
            Err(e) if e.is_panic() => {
                session.cleanup().await;
                std::panic::resume_unwind(e.into_panic());
            }
            Err(_) => Err(Error::Interrupted("cancellation")),
        },
        _ = int.recv() => Err(Error::Interrupted("SIGINT")),
        _ = term.recv() => Err(Error::Interrupted("SIGTERM")),
    };
    if !task.is_finished() {
        task.abort();
        // Let the aborted work drop (removing its staged files) before cleanup.
        let _ = (&mut task).await;
    }
    session.cleanup().await;
    outcome
}
