//! When a delayed run wakes. A delay step holds no worker: the executor records the
//! wake-up time from [`wake_at`] and schedules the run's next job for then.

use chrono::{DateTime, Duration, Utc};
use obera_types::DelayStep;
use serde_json::Value;

/// The longest wait, so a mistyped year does not park a run for a century.
pub const MAX_DELAY_SECS: u64 = 366 * 86_400;

/// Why a delay step cannot be scheduled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DelayError {
    #[error("`until` must yield an RFC 3339 time or Unix seconds, not {0}")]
    NotATime(String),
    #[error("the delay ends more than {MAX_DELAY_SECS} seconds from now")]
    TooFar,
}

/// The moment the run resumes: `now + duration_secs`, or the value of the step's `until`
/// expression (`until`, evaluated by the caller). A moment in the past means at once.
pub fn wake_at(
    delay: &DelayStep,
    now: DateTime<Utc>,
    until: Option<&Value>,
) -> Result<DateTime<Utc>, DelayError> {
    let at = match (delay.duration_secs, until) {
        (Some(secs), _) => {
            let secs = i64::try_from(secs).map_err(|_| DelayError::TooFar)?;
            now.checked_add_signed(Duration::try_seconds(secs).ok_or(DelayError::TooFar)?)
                .ok_or(DelayError::TooFar)?
        }
        (None, Some(value)) => moment(value)?,
        (None, None) => return Err(DelayError::NotATime("nothing".to_owned())),
    };
    if at - now > Duration::seconds(MAX_DELAY_SECS as i64) {
        return Err(DelayError::TooFar);
    }
    Ok(at.max(now))
}

fn moment(value: &Value) -> Result<DateTime<Utc>, DelayError> {
    let not_a_time = || DelayError::NotATime(value.to_string());
    match value {
        Value::String(text) => DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| not_a_time()),
        Value::Number(n) => n
            .as_i64()
            .and_then(|secs| DateTime::from_timestamp(secs, 0))
            .ok_or_else(not_a_time),
        _ => Err(not_a_time()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use obera_types::Expression;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default()
    }

    fn until() -> DelayStep {
        DelayStep {
            duration_secs: None,
            until: Some(Expression("trigger.at".to_owned())),
        }
    }

    #[test]
    fn a_duration_counts_from_now() {
        let delay = DelayStep {
            duration_secs: Some(90),
            until: None,
        };
        assert_eq!(
            wake_at(&delay, now(), None),
            Ok(now() + Duration::seconds(90))
        );
    }

    #[test]
    fn until_takes_rfc3339_or_unix_seconds() {
        let at = now() + Duration::hours(2);
        assert_eq!(
            wake_at(&until(), now(), Some(&json!(at.to_rfc3339()))),
            Ok(at)
        );
        assert_eq!(
            wake_at(&until(), now(), Some(&json!(at.timestamp()))),
            Ok(at)
        );
    }

    #[test]
    fn a_past_moment_wakes_at_once_and_nonsense_is_refused() {
        let past = json!((now() - Duration::days(1)).to_rfc3339());
        assert_eq!(wake_at(&until(), now(), Some(&past)), Ok(now()));
        for bad in [json!("tomorrow"), json!(true), json!(1.5), Value::Null] {
            assert!(
                matches!(
                    wake_at(&until(), now(), Some(&bad)),
                    Err(DelayError::NotATime(_))
                ),
                "{bad}"
            );
        }
        let far = json!((now() + Duration::days(400)).to_rfc3339());
        assert_eq!(
            wake_at(&until(), now(), Some(&far)),
            Err(DelayError::TooFar)
        );
        let huge = DelayStep {
            duration_secs: Some(u64::MAX),
            until: None,
        };
        assert_eq!(wake_at(&huge, now(), None), Err(DelayError::TooFar));
    }
}
