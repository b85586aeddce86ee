//! Whether a failed attempt is retried, and after how long.
//!
//! Exponential backoff with full jitter (AWS's "Exponential Backoff And Jitter"): the
//! wait before retry `n` is uniform in `[0, min(max, initial * multiplier^(n-1))]`,
//! which spreads retries of many runs that failed together instead of having them hit
//! the recovering service in lock-step. The random draw is a parameter, so the caller
//! owns the randomness and tests are deterministic.

use obera_types::RetryPolicy;
use std::time::Duration;

/// What kind of failure ended an attempt, as far as retrying is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureKind {
    /// The step's own input or config is wrong (a bad template value, an expression
    /// error, a refused payload): the same attempt would fail the same way.
    Invalid,
    /// Refused by policy (the SSRF guard, a missing credential, a permission).
    Denied,
    /// The attempt ran past its timeout.
    Timeout,
    /// The connection failed (refused, reset, DNS, TLS).
    Transport,
    /// An HTTP response with this status; `retry_after` is its `Retry-After`, if any.
    HttpStatus {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// A temporary failure of the platform itself (a busy database, a lost lease).
    Transient,
}

impl FailureKind {
    /// Whether another attempt could succeed. Client errors are final, except
    /// 408 Request Timeout and 429 Too Many Requests, which ask to try again.
    pub fn retryable(&self) -> bool {
        match self {
            FailureKind::Invalid | FailureKind::Denied => false,
            FailureKind::Timeout | FailureKind::Transport | FailureKind::Transient => true,
            FailureKind::HttpStatus { status, .. } => {
                matches!(status, 408 | 429) || (500..=599).contains(status)
            }
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Run the next attempt after this wait.
    RetryAfter(Duration),
    /// The step has failed for good.
    GiveUp,
}

/// Decides after attempt number `attempt` (1 for the first) failed with `failure`.
/// `draw` is a uniform random number in `[0, 1]` (values outside are clamped, NaN
/// counts as 0). A server's `Retry-After` is honoured as a lower bound, and
/// `max_backoff_ms` caps every wait, that one included.
pub fn decide(
    policy: &RetryPolicy,
    attempt: u32,
    failure: &FailureKind,
    draw: f64,
) -> RetryDecision {
    if !failure.retryable() || attempt >= u32::from(policy.max_attempts) {
        return RetryDecision::GiveUp;
    }
    let bound = backoff_bound(policy, attempt);
    let draw = if draw.is_nan() {
        0.0
    } else {
        draw.clamp(0.0, 1.0)
    };
    let mut wait = bound.mul_f64(draw);
    if let FailureKind::HttpStatus {
        retry_after: Some(asked),
        ..
    } = failure
    {
        wait = wait.max(*asked);
    }
    RetryDecision::RetryAfter(wait.min(max_backoff(policy)))
}

/// The upper bound of the wait before retry number `retry` (1 for the first retry):
/// `min(max_backoff, initial * multiplier^(retry-1))`.
pub fn backoff_bound(policy: &RetryPolicy, retry: u32) -> Duration {
    let multiplier = if policy.multiplier.is_finite() {
        policy.multiplier.max(1.0)
    } else {
        1.0
    };
    let exponent = i32::try_from(retry.saturating_sub(1)).unwrap_or(i32::MAX);
    let max_ms = f64::from(policy.max_backoff_ms);
    let ms = (f64::from(policy.initial_backoff_ms) * multiplier.powi(exponent)).min(max_ms);
    Duration::from_secs_f64(ms.max(0.0) / 1000.0)
}

fn max_backoff(policy: &RetryPolicy) -> Duration {
    Duration::from_millis(u64::from(policy.max_backoff_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(max_attempts: u8) -> RetryPolicy {
        RetryPolicy {
            max_attempts,
            initial_backoff_ms: 100,
            max_backoff_ms: 1_000,
            multiplier: 2.0,
        }
    }

    fn ms(n: u64) -> RetryDecision {
        RetryDecision::RetryAfter(Duration::from_millis(n))
    }

    #[test]
    fn the_bound_grows_exponentially_up_to_the_cap() {
        let bounds: Vec<_> = (1..=6).map(|n| backoff_bound(&policy(10), n)).collect();
        let expected: Vec<_> = [100, 200, 400, 800, 1_000, 1_000]
            .into_iter()
            .map(Duration::from_millis)
            .collect();
        assert_eq!(bounds, expected);
    }

    #[test]
    fn full_jitter_scales_the_bound_by_the_draw() {
        let p = policy(10);
        let timeout = FailureKind::Timeout;
        assert_eq!(decide(&p, 1, &timeout, 1.0), ms(100));
        assert_eq!(decide(&p, 2, &timeout, 0.5), ms(100));
        assert_eq!(decide(&p, 3, &timeout, 0.25), ms(100));
        assert_eq!(decide(&p, 4, &timeout, 0.0), ms(0));
        assert_eq!(decide(&p, 9, &timeout, 1.0), ms(1_000));
        assert_eq!(decide(&p, 9, &timeout, 7.0), ms(1_000));
        assert_eq!(decide(&p, 9, &timeout, f64::NAN), ms(0));
    }

    #[test]
    fn the_last_attempt_gives_up() {
        let p = policy(3);
        assert_eq!(decide(&p, 2, &FailureKind::Transport, 1.0), ms(200));
        assert_eq!(
            decide(&p, 3, &FailureKind::Transport, 1.0),
            RetryDecision::GiveUp
        );
        assert_eq!(
            decide(&RetryPolicy::default(), 1, &FailureKind::Transport, 1.0),
            RetryDecision::GiveUp
        );
    }

    #[test]
    fn errors_that_would_fail_again_are_not_retried() {
        let p = policy(10);
        for failure in [
            FailureKind::Invalid,
            FailureKind::Denied,
            FailureKind::HttpStatus {
                status: 400,
                retry_after: None,
            },
            FailureKind::HttpStatus {
                status: 404,
                retry_after: None,
            },
            FailureKind::HttpStatus {
                status: 422,
                retry_after: None,
            },
        ] {
            assert_eq!(
                decide(&p, 1, &failure, 1.0),
                RetryDecision::GiveUp,
                "{failure:?}"
            );
        }
        for status in [408, 429, 500, 502, 503] {
            let failure = FailureKind::HttpStatus {
                status,
                retry_after: None,
            };
            assert_eq!(decide(&p, 1, &failure, 1.0), ms(100), "{status}");
        }
    }

    #[test]
    fn retry_after_is_a_floor_capped_by_max_backoff() {
        let p = policy(10);
        let asked = |secs| FailureKind::HttpStatus {
            status: 429,
            retry_after: Some(Duration::from_millis(secs)),
        };
        assert_eq!(decide(&p, 1, &asked(500), 0.1), ms(500));
        assert_eq!(decide(&p, 1, &asked(60_000), 0.1), ms(1_000));
    }

    #[test]
    fn nonsense_multipliers_do_not_shrink_or_overflow_the_wait() {
        let mut p = policy(10);
        p.multiplier = f64::NAN;
        assert_eq!(backoff_bound(&p, 5), Duration::from_millis(100));
        p.multiplier = 0.5;
        assert_eq!(backoff_bound(&p, 5), Duration::from_millis(100));
        p.multiplier = 10.0;
        assert_eq!(backoff_bound(&p, u32::MAX), Duration::from_millis(1_000));
    }
}
