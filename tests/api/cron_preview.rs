//! The cron editor's preview: the next fires of a schedule in a zone, computed by the
//! engine and saved nowhere; bad expressions, zones and counts are 422s naming the
//! field; a member of another customer gets 404 (the isolation matrix covers that).

use crate::both_backends;
use crate::helpers::*;
use obera_types::*;
use reqwest::StatusCode;
use serde_json::json;

fn path(member: &Member) -> String {
    format!(
        "/api/v1/customers/{}/workflow-triggers/cron-preview",
        member.customer_id
    )
}

async fn the_preview_lists_the_next_fires_on_the_zones_wall_clock(app: TestApp) {
    let admin = app.signup("Preview").await;
    // 2026-03-07 is a Saturday; New York springs forward on Sunday the 8th at 02:00.
    let reply = app
        .post(
            &path(&admin),
            Some(&admin.token),
            &json!({ "schedule": "30 2 * * *", "time_zone": "America/New_York",
                     "count": 3, "after": "2026-03-07T12:00:00Z" }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let preview: CronPreview = reply.json();
    let shown: Vec<(String, &str)> = preview
        .fires
        .iter()
        .map(|f| (f.at.to_rfc3339(), f.local.as_str()))
        .collect();
    assert_eq!(
        shown,
        [
            // The gap day's 02:30 does not exist: it fires once, right after the gap.
            (
                "2026-03-08T07:00:00+00:00".to_owned(),
                "2026-03-08T03:00:00-04:00"
            ),
            (
                "2026-03-09T06:30:00+00:00".to_owned(),
                "2026-03-09T02:30:00-04:00"
            ),
            (
                "2026-03-10T06:30:00+00:00".to_owned(),
                "2026-03-10T02:30:00-04:00"
            ),
        ]
    );
    // By default: five fires after now, in UTC.
    let reply = app
        .post(
            &path(&admin),
            Some(&admin.token),
            &json!({ "schedule": "*/10 * * * *" }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let preview: CronPreview = reply.json();
    assert_eq!(preview.fires.len(), DEFAULT_PREVIEW_FIRES as usize);
    let now = chrono::Utc::now();
    assert!(preview.fires[0].at > now - chrono::Duration::seconds(5));
    assert!(preview.fires[0].at <= now + chrono::Duration::minutes(10));
    assert!(
        preview
            .fires
            .windows(2)
            .all(|w| w[1].at - w[0].at == chrono::Duration::minutes(10))
    );
}
both_backends!(the_preview_lists_the_next_fires_on_the_zones_wall_clock);

async fn bad_schedules_zones_and_counts_are_refused_naming_the_field(app: TestApp) {
    let admin = app.signup("Preview").await;
    for (body, field) in [
        (json!({ "schedule": "61 * * * *" }), "schedule"),
        (json!({ "schedule": "* * * *" }), "schedule"),
        (json!({ "schedule": "0 0 30 2 *" }), "schedule"),
        (json!({ "schedule": "" }), "schedule"),
        (
            json!({ "schedule": "0 9 * * *", "time_zone": "Mars/Olympus" }),
            "time_zone",
        ),
        (
            json!({ "schedule": "0 9 * * *", "time_zone": "../../etc" }),
            "time_zone",
        ),
        (json!({ "schedule": "0 9 * * *", "count": 0 }), "count"),
        (
            json!({ "schedule": "0 9 * * *", "count": MAX_PREVIEW_FIRES + 1 }),
            "count",
        ),
    ] {
        let reply = app.post(&path(&admin), Some(&admin.token), &body).await;
        let fields = reply.invalid_fields();
        assert!(fields.iter().any(|f| f == field), "{body}: {fields:?}");
    }
    let reply = app
        .post(
            &path(&admin),
            Some(&admin.token),
            &json!({ "schedule": "0 9 * * *", "count": MAX_PREVIEW_FIRES }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        reply.json::<CronPreview>().fires.len(),
        MAX_PREVIEW_FIRES as usize
    );
}
both_backends!(bad_schedules_zones_and_counts_are_refused_naming_the_field);
