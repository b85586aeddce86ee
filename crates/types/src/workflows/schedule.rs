//! Cron schedules: an expression, the time zone it is read in, what to do about fires
//! the server missed, and the preview of a schedule's next fires for the builder's
//! cron editor. Cron triggers ([`super::trigger::CronConfig`]) store a schedule and
//! fire it.
//!
//! A schedule is a standard 5-field cron expression (`minute hour day-of-month month
//! day-of-week`, with `*`, lists, ranges, steps, `JAN`–`DEC`, `SUN`–`SAT`, `L`, `W`
//! and `#`, or a nickname such as `@daily`) read in an IANA time zone such as
//! `Europe/Berlin`. Daylight-saving changes follow the Open Cron Pattern
//! Specification: a fixed-time fire that falls in the hour clocks skip (02:30 on a
//! spring-forward night) runs once at the first instant after the gap, and one in the
//! hour clocks repeat (01:30 on a fall-back night) runs once, at its first
//! occurrence; interval schedules (`*/15 * * * *`) keep firing in real time.
//!
//! The server checks the schedule and zone (`obera-engine` parses them); these types
//! only bound their shape.

use crate::enums::text_enum;
use crate::validated::validated_string;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The most fires one catch-up starts (the most recent ones; older missed fires are
/// dropped).
pub const MAX_CATCH_UP_FIRES: usize = 100;
/// Fires a preview shows unless asked otherwise.
pub const DEFAULT_PREVIEW_FIRES: u32 = 5;
/// The most fires a preview shows.
pub const MAX_PREVIEW_FIRES: u32 = 50;

validated_string!(
    /// A cron expression as written: 1 to 100 visible ASCII characters and spaces.
    /// Whether it is a valid 5-field schedule is checked by the server.
    CronExpression,
    "cron",
    check_cron_expression
);

fn check_cron_expression(value: String) -> Result<String, String> {
    let value = value.trim().to_owned();
    if !value.is_empty()
        && value.len() <= 100
        && value.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
    {
        Ok(value)
    } else {
        Err("a cron expression is 1 to 100 visible ASCII characters and spaces".to_owned())
    }
}

validated_string!(
    /// An IANA time zone name such as `Europe/Berlin` or `UTC` (1 to 64 of
    /// `A-Z a-z 0-9 / _ + -`). Whether the zone exists is checked by the server.
    TimeZoneName,
    "iana-time-zone",
    check_time_zone_name
);

fn check_time_zone_name(value: String) -> Result<String, String> {
    let valid = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'+' | b'-'));
    if valid {
        Ok(value)
    } else {
        Err(format!("`{value}` is not an IANA time zone name"))
    }
}

text_enum!(
    /// What a cron trigger does about fires that came while no server was running (or
    /// the trigger's scheduler was behind by more than a minute). `skip`: drop them and
    /// wait for the next fire. `run_once`: start one run, for the most recent missed
    /// fire. `catch_up`: start a run for every missed fire, oldest first, at most 100
    /// (the most recent 100; older ones are dropped).
    MissedFires { Skip => "skip", RunOnce => "run_once", CatchUp => "catch_up" }
);

// `text_enum!` writes the enum, and cannot put `#[default]` on a variant.
#[allow(clippy::derivable_impls)]
impl Default for MissedFires {
    fn default() -> Self {
        MissedFires::Skip
    }
}

/// The zone a schedule is read in unless it names one.
pub(crate) fn utc() -> TimeZoneName {
    TimeZoneName("UTC".to_owned())
}

/// Preview the next fires of a schedule without saving it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CronPreviewRequest {
    pub schedule: CronExpression,
    /// Default `UTC`.
    #[serde(default = "utc")]
    pub time_zone: TimeZoneName,
    /// How many fires, 1 to 50; default 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// Fires strictly after this instant; default now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<DateTime<Utc>>,
}

/// One fire of a schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CronFire {
    /// The instant, in UTC.
    pub at: DateTime<Utc>,
    /// The same instant on the zone's wall clock, with its offset (RFC 3339).
    pub local: String,
}

/// A schedule's next fires, soonest first (fewer than asked when the schedule has no
/// more within the search horizon).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CronPreview {
    pub fires: Vec<CronFire>,
}
