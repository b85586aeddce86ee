//! Cron schedules: parsing a 5-field expression in an IANA zone, the next fires after
//! an instant, and which fires are due when the scheduler looks at `now` — the
//! decisions of a cron trigger, with the clock passed in so tests choose instants.
//!
//! Wall-clock rules (the Open Cron Pattern Specification, which `croner` follows): a
//! fixed-time fire in the hour a spring-forward skips runs once, at the first instant
//! after the gap; one in the hour a fall-back repeats runs once, at its first
//! occurrence; interval patterns fire in real time through both.
//!
//! The scheduler stores each trigger's next planned fire. When that instant has
//! passed, [`due_fires`] says which fires to start given the trigger's
//! [`MissedFires`] policy, and the next fire to plan (always after `now`, so a fire
//! is planned, claimed and started once).

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use obera_types::{MAX_CATCH_UP_FIRES, MissedFires};

/// How late a fire may start and still count as on time rather than missed: the
/// scheduler looks every second, so anything later means it was not running.
pub const ON_TIME: Duration = Duration::seconds(60);

/// Why a schedule was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// The expression does not parse as a 5-field cron pattern.
    #[error("not a 5-field cron expression (minute hour day-of-month month day-of-week): {0}")]
    Expression(String),
    /// The expression parses but matches no date (e.g. `0 0 30 2 *`).
    #[error("this schedule never fires")]
    Never,
    /// The zone is not in the IANA database.
    #[error("`{0}` is not an IANA time zone (e.g. `Europe/Berlin`, `America/New_York`, `UTC`)")]
    TimeZone(String),
}

impl ScheduleError {
    /// The field of a cron configuration the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            ScheduleError::Expression(_) | ScheduleError::Never => "schedule",
            ScheduleError::TimeZone(_) => "time_zone",
        }
    }
}

/// A parsed schedule in its zone.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: Cron,
    zone: Tz,
}

impl Schedule {
    /// Parses `expression` (exactly five fields, or a nickname such as `@daily`) in
    /// `zone`. A pattern that matches no date within a few years is refused too, so
    /// a saved schedule always has a next fire.
    pub fn parse(expression: &str, zone: &str) -> Result<Self, ScheduleError> {
        let zone: Tz = zone
            .parse()
            .map_err(|_| ScheduleError::TimeZone(zone.to_owned()))?;
        let cron = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build()
            .parse(expression)
            .map_err(|e| ScheduleError::Expression(e.to_string()))?;
        let schedule = Self { cron, zone };
        // Any fixed instant will do: a pattern that fires at all fires within a leap
        // cycle of it.
        let probe = DateTime::<Utc>::UNIX_EPOCH + Duration::days(365 * 56);
        match schedule.next_after(probe) {
            Some(_) => Ok(schedule),
            None => Err(ScheduleError::Never),
        }
    }

    /// The zone the schedule is read in.
    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// The first fire strictly after `at`.
    pub fn next_after(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .find_next_occurrence(&at.with_timezone(&self.zone), false)
            .ok()
            .map(|fire| fire.with_timezone(&Utc))
    }

    /// The first `count` fires strictly after `at`, soonest first.
    pub fn fires_after(&self, at: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        let mut fires = Vec::with_capacity(count);
        let mut cursor = at;
        while fires.len() < count {
            match self.next_after(cursor) {
                Some(fire) => {
                    fires.push(fire);
                    cursor = fire;
                }
                None => break,
            }
        }
        fires
    }

    /// The last fire at or before `at`.
    fn latest_until(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .find_previous_occurrence(&at.with_timezone(&self.zone), true)
            .ok()
            .map(|fire| fire.with_timezone(&Utc))
    }
}

/// What the scheduler does for one trigger at one look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueFires {
    /// The fires to start a run for, oldest first (empty when none is due, or the
    /// policy drops the missed ones).
    pub fires: Vec<DateTime<Utc>>,
    /// The fire to plan next: the first after `now` (none when the schedule has no
    /// more).
    pub next: Option<DateTime<Utc>>,
}

/// Which fires of `schedule` are due at `now`, given that `planned` is the next fire
/// planned earlier (every fire before it was dealt with), under `policy`.
///
/// Due fires are those from `planned` up to `now`. A fire at most [`ON_TIME`] old
/// always runs. Older ones were missed: `skip` drops them, `run_once` runs only the
/// most recent due fire, `catch_up` runs them all up to [`MAX_CATCH_UP_FIRES`] (the
/// most recent ones).
pub fn due_fires(
    schedule: &Schedule,
    planned: DateTime<Utc>,
    now: DateTime<Utc>,
    policy: MissedFires,
) -> DueFires {
    if planned > now {
        return DueFires {
            fires: Vec::new(),
            next: Some(planned),
        };
    }
    let next = schedule.next_after(now);
    let fires = match policy {
        MissedFires::Skip => recent(schedule, planned, now, 1)
            .into_iter()
            .filter(|fire| now - *fire <= ON_TIME)
            .collect(),
        MissedFires::RunOnce => recent(schedule, planned, now, 1),
        MissedFires::CatchUp => recent(schedule, planned, now, MAX_CATCH_UP_FIRES),
    };
    DueFires { fires, next }
}

/// Up to `most` of the latest fires in `[planned, now]`, oldest first. Searched
/// backwards from `now`, so a gap of years costs `most` steps, not one per fire.
/// `planned` itself counts even where the backward search would not land on it (the
/// instant after a spring-forward gap), since it was planned as a fire.
fn recent(
    schedule: &Schedule,
    planned: DateTime<Utc>,
    now: DateTime<Utc>,
    most: usize,
) -> Vec<DateTime<Utc>> {
    let mut fires = Vec::new();
    let mut cursor = now;
    while fires.len() < most {
        match schedule.latest_until(cursor) {
            Some(fire) if fire > planned => {
                fires.push(fire);
                cursor = fire - Duration::seconds(1);
            }
            _ => {
                fires.push(planned);
                break;
            }
        }
    }
    fires.reverse();
    fires
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
