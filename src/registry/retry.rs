//! Bounded retries with exponential backoff, for failures that may pass
//! (connection refused or reset, timeouts, 5xx). Anything else fails at once.

use std::future::Future;
use std::time::Duration;

/// How hard to try. `tries` counts the first attempt.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub tries: u32,
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl Policy {
    pub fn new(tries: u32) -> Self {
        Policy {
            tries: tries.max(1),
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
        }
    }

    /// The wait before try number `next` (2, 3, ...): doubling, capped.
    pub fn delay(&self, next: u32) -> Duration {
        let factor = 2u32.saturating_pow(next.saturating_sub(2));
        self.first_delay.saturating_mul(factor).min(self.max_delay)
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy::new(5)
    }
}

/// Runs `op` until it succeeds, fails for good (`transient` says no), or the
/// tries are spent. `on_retry(try, error, wait)` is told before each wait.
pub async fn retry<T, E, F, Fut>(
    policy: &Policy,
    transient: impl Fn(&E) -> bool,
    mut on_retry: impl FnMut(u32, &E, Duration),
    mut op: F,
) -> Result<T, (E, u32)>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut attempt = 1;
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if attempt < policy.tries && transient(&e) => {
                let wait = policy.delay(attempt + 1);
                on_retry(attempt + 1, &e, wait);
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Err(e) => return Err((e, attempt)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn quick(tries: u32) -> Policy {
        Policy {
            tries,
            first_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(4),
        }
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = Policy::new(10);
        assert_eq!(p.delay(2), Duration::from_millis(500));
        assert_eq!(p.delay(3), Duration::from_secs(1));
        assert_eq!(p.delay(4), Duration::from_secs(2));
        assert_eq!(p.delay(9), Duration::from_secs(8));
        assert_eq!(Policy::new(0).tries, 1);
    }

    #[tokio::test]
    async fn transient_failures_are_retried_until_success() {
        let calls = AtomicU32::new(0);
        let mut retries = Vec::new();
        let got = retry(
            &quick(5),
            |e: &&str| *e == "reset",
            |n, _, _| retries.push(n),
            || async {
                match calls.fetch_add(1, Ordering::SeqCst) {
                    0 | 1 => Err("reset"),
                    n => Ok(n),
                }
            },
        )
        .await;
        assert_eq!(got, Ok(2));
        assert_eq!(retries, vec![2, 3]);
    }

    #[tokio::test]
    async fn tries_are_bounded() {
        let calls = AtomicU32::new(0);
        let got: Result<(), _> = retry(
            &quick(3),
            |_: &&str| true,
            |_, _, _| {},
            || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err("reset")
            },
        )
        .await;
        assert_eq!(got, Err(("reset", 3)));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn permanent_failures_fail_at_once() {
        let calls = AtomicU32::new(0);
        let got: Result<(), _> = retry(
            &quick(5),
            |e: &&str| *e != "401",
            |_, _, _| {},
            || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err("401")
            },
        )
        .await;
        assert_eq!(got, Err(("401", 1)));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
