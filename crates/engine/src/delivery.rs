//! Which retry schedule a step's failed attempt follows: its own `RetryPolicy`
//! (exponential backoff with jitter, [`crate::decide`]), except a `notify` webhook,
//! which follows the Standard Webhooks schedule whatever its policy says, so every
//! receiver sees the retries it was told to expect.
//!
//! That schedule waits 0 s (the first attempt), 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and
//! 10 h: eight attempts over about 27.6 hours. Any failure to deliver (a connection
//! failure, a timeout, any status outside 2xx) is retried; a delivery that cannot
//! work however often it is tried (a bad URL, a refused address, a missing or
//! malformed secret) is not.

use crate::retry::{FailureKind, RetryDecision, decide};
use obera_types::{NotifyChannel, Step, StepConfig};
use std::time::Duration;

/// The wait before each attempt of a Standard Webhooks delivery, the first included.
pub const WEBHOOK_SCHEDULE: [Duration; 8] = [
    Duration::ZERO,
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];

/// How long an endpoint may fail every delivery attempt before it is disabled (the
/// rule Svix applies): five days, so a receiver down over a long weekend is kept, and
/// one that is gone stops costing a retry schedule per notification.
pub const DISABLE_FAILING_AFTER: chrono::TimeDelta = chrono::TimeDelta::days(5);

/// Whether an endpoint failing without a success since `failing_since` is disabled by
/// a failure at `now`.
pub fn disables_endpoint(
    failing_since: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> bool {
    now - failing_since >= DISABLE_FAILING_AFTER
}

/// Decides after webhook delivery attempt number `attempt` (1 for the first) failed.
pub fn webhook_retry(attempt: u32, failure: &FailureKind) -> RetryDecision {
    if matches!(failure, FailureKind::Invalid | FailureKind::Denied) {
        return RetryDecision::GiveUp;
    }
    usize::try_from(attempt)
        .ok()
        .and_then(|n| WEBHOOK_SCHEDULE.get(n))
        .map_or(RetryDecision::GiveUp, |wait| {
            RetryDecision::RetryAfter(*wait)
        })
}

/// Decides after attempt number `attempt` of `step` failed with `failure`, on the
/// step's schedule; `draw` is the jitter's random number, as [`decide`] takes it.
pub fn retry_for(step: &Step, attempt: u32, failure: &FailureKind, draw: f64) -> RetryDecision {
    match &step.config {
        StepConfig::Notify(notify) if matches!(notify.channel, NotifyChannel::Webhook(_)) => {
            webhook_retry(attempt, failure)
        }
        _ => decide(&step.retry, attempt, failure, draw),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_is_disabled_after_five_days_of_failures() {
        use chrono::{TimeDelta, TimeZone, Utc};
        let since = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        assert!(!disables_endpoint(since, since));
        assert!(!disables_endpoint(
            since,
            since + TimeDelta::days(5) - TimeDelta::seconds(1)
        ));
        assert!(disables_endpoint(since, since + TimeDelta::days(5)));
    }
    use serde_json::json;

    fn step(config: serde_json::Value) -> Step {
        serde_json::from_value(json!({ "key": "s", "name": "s", "config": config,
            "retry": { "max_attempts": 2, "initial_backoff_ms": 100, "max_backoff_ms": 100, "multiplier": 1.0 } }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn secs(n: u64) -> RetryDecision {
        RetryDecision::RetryAfter(Duration::from_secs(n))
    }

    #[test]
    fn a_webhook_is_retried_on_the_standard_schedule_then_given_up() {
        let failure = FailureKind::HttpStatus {
            status: 500,
            retry_after: None,
        };
        let waits: Vec<RetryDecision> = (1..=8).map(|n| webhook_retry(n, &failure)).collect();
        assert_eq!(
            waits,
            vec![
                secs(5),
                secs(300),
                secs(1_800),
                secs(7_200),
                secs(18_000),
                secs(36_000),
                secs(36_000),
                RetryDecision::GiveUp,
            ]
        );
        assert_eq!(webhook_retry(u32::MAX, &failure), RetryDecision::GiveUp);
    }

    #[test]
    fn every_failure_to_deliver_is_retried_and_nothing_that_would_fail_again() {
        for failure in [
            FailureKind::Timeout,
            FailureKind::Transport,
            FailureKind::Transient,
            FailureKind::HttpStatus {
                status: 404,
                retry_after: None,
            },
            FailureKind::HttpStatus {
                status: 302,
                retry_after: None,
            },
        ] {
            assert_eq!(webhook_retry(1, &failure), secs(5), "{failure:?}");
        }
        for failure in [FailureKind::Invalid, FailureKind::Denied] {
            assert_eq!(webhook_retry(1, &failure), RetryDecision::GiveUp);
        }
    }

    #[test]
    fn only_webhooks_leave_their_own_policy_for_the_schedule() {
        let webhook = step(json!({ "type": "notify", "channel":
            { "kind": "webhook", "url": "https://example.com/h", "secret": "hook" } }));
        let email = step(json!({ "type": "notify", "channel":
            { "kind": "email", "to": ["a@example.com"], "subject": "s", "body": "b" } }));
        let timeout = FailureKind::Timeout;
        assert_eq!(retry_for(&webhook, 2, &timeout, 1.0), secs(300));
        assert_eq!(
            retry_for(&email, 1, &timeout, 1.0),
            RetryDecision::RetryAfter(Duration::from_millis(100))
        );
        assert_eq!(retry_for(&email, 2, &timeout, 1.0), RetryDecision::GiveUp);
    }
}
