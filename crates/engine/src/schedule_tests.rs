use super::*;
use chrono::TimeZone;

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .with_timezone(&Utc)
}

fn schedule(expression: &str, zone: &str) -> Schedule {
    Schedule::parse(expression, zone).unwrap_or_else(|e| panic!("{expression} in {zone}: {e}"))
}

fn refused(expression: &str, zone: &str) -> ScheduleError {
    match Schedule::parse(expression, zone) {
        Ok(_) => panic!("{expression} in {zone} was accepted"),
        Err(e) => e,
    }
}

#[test]
fn the_next_fires_of_a_weekday_schedule_skip_the_weekend() {
    let s = schedule("30 9 * * MON-FRI", "UTC");
    // 2026-12-04 is a Friday.
    let fires = s.fires_after(utc("2026-12-04T10:00:00Z"), 3);
    assert_eq!(
        fires,
        [
            utc("2026-12-07T09:30:00Z"),
            utc("2026-12-08T09:30:00Z"),
            utc("2026-12-09T09:30:00Z")
        ]
    );
}

#[test]
fn a_schedule_is_read_on_its_zones_wall_clock() {
    let s = schedule("0 9 * * *", "Europe/Berlin");
    // Winter: Berlin is UTC+1.
    assert_eq!(
        s.next_after(utc("2026-12-04T00:00:00Z")),
        Some(utc("2026-12-04T08:00:00Z"))
    );
    // Summer: UTC+2.
    assert_eq!(
        s.next_after(utc("2026-07-01T00:00:00Z")),
        Some(utc("2026-07-01T07:00:00Z"))
    );
}

#[test]
fn the_next_fire_is_strictly_after_the_instant() {
    let s = schedule("0 * * * *", "UTC");
    assert_eq!(
        s.next_after(utc("2026-12-04T10:00:00Z")),
        Some(utc("2026-12-04T11:00:00Z"))
    );
}

#[test]
fn a_fire_in_the_spring_forward_gap_runs_once_right_after_it() {
    // New York skipped 02:00–03:00 local on 2026-03-08 (07:00 UTC became 03:00 EDT).
    let s = schedule("30 2 * * *", "America/New_York");
    let fires = s.fires_after(utc("2026-03-07T12:00:00Z"), 3);
    assert_eq!(
        fires,
        [
            // 2026-03-07 02:30 EST was before this instant; the next is the gap day's,
            // at 03:00 EDT = 07:00 UTC, once.
            utc("2026-03-08T07:00:00Z"),
            // Then 02:30 EDT = 06:30 UTC on the following days.
            utc("2026-03-09T06:30:00Z"),
            utc("2026-03-10T06:30:00Z"),
        ]
    );
}

#[test]
fn a_fire_in_the_repeated_fall_back_hour_runs_once() {
    // New York repeated 01:00–02:00 local on 2026-11-01.
    let s = schedule("30 1 * * *", "America/New_York");
    let fires = s.fires_after(utc("2026-10-31T12:00:00Z"), 3);
    assert_eq!(
        fires,
        [
            // The first 01:30 (EDT, UTC-4); the second (EST) does not fire again.
            utc("2026-11-01T05:30:00Z"),
            utc("2026-11-02T06:30:00Z"),
            utc("2026-11-03T06:30:00Z"),
        ]
    );
}

#[test]
fn an_interval_schedule_keeps_real_time_through_the_repeated_hour() {
    let s = schedule("0,30 * * * *", "America/New_York");
    // 04:45 UTC = 00:45 EDT; every half hour in real time, both 01:00s and 01:30s.
    let fires = s.fires_after(utc("2026-11-01T04:45:00Z"), 5);
    assert_eq!(
        fires,
        [
            utc("2026-11-01T05:00:00Z"),
            utc("2026-11-01T05:30:00Z"),
            utc("2026-11-01T06:00:00Z"),
            utc("2026-11-01T06:30:00Z"),
            utc("2026-11-01T07:00:00Z"),
        ]
    );
}

#[test]
fn bad_expressions_and_zones_are_refused_with_their_field() {
    for bad in [
        "",
        "* * * *",
        "0 0 * * * *",
        "61 * * * *",
        "* 24 * * *",
        "not cron",
    ] {
        let error = refused(bad, "UTC");
        assert_eq!(error.field(), "schedule", "{bad}: {error}");
    }
    let error = refused("0 0 * * *", "Mars/Olympus_Mons");
    assert_eq!(error.field(), "time_zone");
    assert_eq!(refused("0 0 30 2 *", "UTC"), ScheduleError::Never);
}

#[test]
fn nicknames_are_five_field_schedules() {
    let s = schedule("@daily", "UTC");
    assert_eq!(
        s.next_after(utc("2026-12-04T10:00:00Z")),
        Some(utc("2026-12-05T00:00:00Z"))
    );
}

#[test]
fn nothing_is_due_before_the_planned_fire() {
    let s = schedule("0 9 * * *", "UTC");
    let planned = utc("2026-12-04T09:00:00Z");
    for policy in [
        MissedFires::Skip,
        MissedFires::RunOnce,
        MissedFires::CatchUp,
    ] {
        let due = due_fires(&s, planned, planned - Duration::seconds(1), policy);
        assert_eq!(
            due,
            DueFires {
                fires: vec![],
                next: Some(planned)
            }
        );
    }
}

#[test]
fn an_on_time_fire_runs_under_every_policy_and_plans_the_next() {
    let s = schedule("0 9 * * *", "UTC");
    let planned = utc("2026-12-04T09:00:00Z");
    for policy in [
        MissedFires::Skip,
        MissedFires::RunOnce,
        MissedFires::CatchUp,
    ] {
        for late in [0, 1, 60] {
            let due = due_fires(&s, planned, planned + Duration::seconds(late), policy);
            assert_eq!(due.fires, [planned], "{policy:?} {late}s late");
            assert_eq!(due.next, Some(utc("2026-12-05T09:00:00Z")));
        }
    }
}

#[test]
fn after_a_long_gap_each_policy_does_what_it_says() {
    let s = schedule("0 9 * * *", "UTC");
    let planned = utc("2026-12-01T09:00:00Z");
    let now = utc("2026-12-04T12:00:00Z");
    let next = Some(utc("2026-12-05T09:00:00Z"));
    assert_eq!(
        due_fires(&s, planned, now, MissedFires::Skip),
        DueFires {
            fires: vec![],
            next
        }
    );
    assert_eq!(
        due_fires(&s, planned, now, MissedFires::RunOnce),
        DueFires {
            fires: vec![utc("2026-12-04T09:00:00Z")],
            next
        }
    );
    assert_eq!(
        due_fires(&s, planned, now, MissedFires::CatchUp),
        DueFires {
            fires: vec![
                utc("2026-12-01T09:00:00Z"),
                utc("2026-12-02T09:00:00Z"),
                utc("2026-12-03T09:00:00Z"),
                utc("2026-12-04T09:00:00Z"),
            ],
            next
        }
    );
}

#[test]
fn skip_still_runs_the_latest_fire_when_it_is_on_time() {
    let s = schedule("0 * * * *", "UTC");
    let planned = utc("2026-12-04T06:00:00Z");
    let now = utc("2026-12-04T09:00:30Z");
    let due = due_fires(&s, planned, now, MissedFires::Skip);
    assert_eq!(due.fires, [utc("2026-12-04T09:00:00Z")]);
    assert_eq!(due.next, Some(utc("2026-12-04T10:00:00Z")));
}

#[test]
fn catch_up_runs_at_most_the_latest_hundred_fires() {
    let s = schedule("* * * * *", "UTC");
    let planned = utc("2026-12-01T00:00:00Z");
    // Three days of minutes were missed.
    let now = utc("2026-12-04T00:00:00Z");
    let due = due_fires(&s, planned, now, MissedFires::CatchUp);
    assert_eq!(due.fires.len(), MAX_CATCH_UP_FIRES);
    assert_eq!(due.fires.last(), Some(&now));
    assert_eq!(
        due.fires.first(),
        Some(&(now - Duration::minutes(MAX_CATCH_UP_FIRES as i64 - 1)))
    );
    assert!(due.fires.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(due.next, Some(now + Duration::minutes(1)));
}

#[test]
fn catching_up_across_the_spring_forward_gap_runs_the_gap_days_fire_once() {
    let s = schedule("30 2 * * *", "America/New_York");
    let planned = utc("2026-03-07T07:30:00Z"); // 02:30 EST on the 7th
    let now = utc("2026-03-09T12:00:00Z");
    let due = due_fires(&s, planned, now, MissedFires::CatchUp);
    assert_eq!(
        due.fires,
        [
            utc("2026-03-07T07:30:00Z"),
            utc("2026-03-08T07:00:00Z"),
            utc("2026-03-09T06:30:00Z"),
        ]
    );
    assert_eq!(due.next, Some(utc("2026-03-10T06:30:00Z")));
}

#[test]
fn the_gap_days_fire_is_due_once_when_planned() {
    let s = schedule("30 2 * * *", "America/New_York");
    let planned = s
        .next_after(utc("2026-03-07T12:00:00Z"))
        .unwrap_or_else(|| unreachable!());
    assert_eq!(planned, utc("2026-03-08T07:00:00Z"));
    for now in [planned, planned + Duration::seconds(5)] {
        let due = due_fires(&s, planned, now, MissedFires::CatchUp);
        assert_eq!(due.fires, [planned]);
        assert_eq!(due.next, Some(utc("2026-03-09T06:30:00Z")));
    }
}

#[test]
fn the_fall_back_days_fire_is_due_once() {
    let s = schedule("30 1 * * *", "America/New_York");
    let planned = utc("2026-11-01T05:30:00Z"); // the first 01:30 (EDT)
    let due = due_fires(&s, planned, planned, MissedFires::CatchUp);
    assert_eq!(due.fires, [planned]);
    assert_eq!(due.next, Some(utc("2026-11-02T06:30:00Z")));
    // Looking again during the second 01:30 (EST) finds nothing due.
    let second = chrono_tz::America::New_York
        .with_ymd_and_hms(2026, 11, 1, 1, 30, 30)
        .latest()
        .unwrap_or_else(|| unreachable!())
        .with_timezone(&Utc);
    assert_eq!(second, utc("2026-11-01T06:30:30Z"));
    let again = due_fires(
        &s,
        utc("2026-11-02T06:30:00Z"),
        second,
        MissedFires::CatchUp,
    );
    assert!(again.fires.is_empty());
}
