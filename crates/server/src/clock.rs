//! Time as a value. Every rule that reads the time (token lifetimes, lockouts, reset-token
//! expiry, audit retention, `AutoLockTime`, signature freshness) asks a [`Clock`] the
//! services hold, so tests can set it instead of waiting. This module is the only place that
//! reads the system time (`clippy.toml` refuses it elsewhere).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

/// The system clock in production; a manual one, moved only by [`Clock::advance`] and
/// [`Clock::set_ms`], in tests. Cheap to clone: clones of a manual clock share its time.
#[derive(Clone, Debug, Default)]
pub struct Clock(Source);

#[derive(Clone, Debug, Default)]
enum Source {
    #[default]
    System,
    /// UNIX milliseconds, watched so that [`Clock::sleep`] wakes when a test moves them.
    Manual(Arc<watch::Sender<i64>>),
}

impl Clock {
    /// The operating system's clock.
    pub fn system() -> Clock {
        Clock(Source::System)
    }

    /// A clock that stands still at `start_ms` (UNIX milliseconds) until moved.
    pub fn manual(start_ms: i64) -> Clock {
        Clock(Source::Manual(Arc::new(watch::Sender::new(start_ms))))
    }

    /// A manual clock that starts at the system's current time.
    pub fn manual_from_now() -> Clock {
        Clock::manual(Clock::system().now_ms())
    }

    /// Milliseconds since the UNIX epoch, the time unit of users and accounts.
    pub fn now_ms(&self) -> i64 {
        match &self.0 {
            Source::System => system_now_ms(),
            Source::Manual(now) => *now.borrow(),
        }
    }

    /// Whole seconds since the UNIX epoch (JWT `iat`/`exp`).
    pub fn now_s(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// Moves a manual clock forward by `by`; the system clock moves by itself and ignores it.
    pub fn advance(&self, by: Duration) {
        if let Source::Manual(now) = &self.0 {
            let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
            now.send_modify(|ms| *ms = ms.saturating_add(by));
        }
    }

    /// Sets a manual clock to `ms`; the system clock ignores it.
    pub fn set_ms(&self, ms: i64) {
        if let Source::Manual(now) = &self.0 {
            now.send_replace(ms);
        }
    }

    /// Waits until this clock has moved `duration` on: real time for the system clock; for a
    /// manual clock, until a test has advanced it that far (so background sweeps run when
    /// the test moves time, not on a timer).
    pub async fn sleep(&self, duration: Duration) {
        match &self.0 {
            Source::System => tokio::time::sleep(duration).await,
            Source::Manual(now) => {
                let span = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
                let until = self.now_ms().saturating_add(span);
                let mut moved = now.subscribe();
                // The sender lives as long as this clock, so waiting cannot fail.
                let _ = moved.wait_for(|ms| *ms >= until).await;
            }
        }
    }
}

/// The one read of the system time.
#[allow(clippy::disallowed_methods)]
fn system_now_ms() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = Clock::manual(1_000);
        assert_eq!(clock.now_ms(), 1_000);
        clock.advance(Duration::from_millis(1_500));
        assert_eq!(clock.now_ms(), 2_500);
        assert_eq!(clock.now_s(), 2);
        let shared = clock.clone();
        shared.set_ms(10);
        assert_eq!(clock.now_ms(), 10);
    }

    #[test]
    fn the_system_clock_ignores_advances() {
        let clock = Clock::system();
        let before = clock.now_ms();
        clock.advance(Duration::from_secs(3600));
        assert!(clock.now_ms() < before + 3_600_000);
    }

    #[tokio::test]
    async fn a_manual_sleep_ends_when_the_clock_is_advanced_far_enough() {
        let clock = Clock::manual(0);
        let sleeper = tokio::spawn({
            let clock = clock.clone();
            async move { clock.sleep(Duration::from_secs(60)).await }
        });
        // Let the sleeper start (and read the time it sleeps from) before moving the clock.
        tokio::task::yield_now().await;
        clock.advance(Duration::from_secs(30));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        clock.advance(Duration::from_secs(30));
        tokio::time::timeout(Duration::from_secs(5), sleeper)
            .await
            .expect("woken by the advance")
            .expect("sleeper ran");
    }
}
