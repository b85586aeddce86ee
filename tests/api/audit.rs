//! The audit log lists oldest first or newest first, with keyset cursors in both
//! orders, and only ever the caller's own customer's events.

use crate::both_backends;
use crate::helpers::{Member, TestApp};
use obera_types::*;
use reqwest::StatusCode;

/// Every event of `admin`'s customer, walked page by page in `order`.
async fn walk(app: &TestApp, admin: &Member, order: &str, limit: u32) -> Vec<AuditLogEntry> {
    let base = format!(
        "/api/v1/customers/{}/audit-logs?order={order}&limit={limit}",
        admin.customer_id
    );
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("{base}&cursor={c}"),
            None => base.clone(),
        };
        let reply = app.get(&path, &admin.token).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
        let page: AuditLogPage = reply.json();
        assert!(page.items.len() <= limit as usize);
        all.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return all,
        }
        assert!(all.len() < 1000, "the cursor never ended");
    }
}

fn ids(entries: &[AuditLogEntry]) -> Vec<AuditLogId> {
    entries.iter().map(|e| e.id).collect()
}

/// `order=newest_first` starts with the latest event; both orders page through every event once.
async fn the_audit_log_pages_newest_first_or_oldest_first_through_every_event(app: TestApp) {
    let admin = app.signup("Globex").await;
    for _ in 0..6 {
        app.api_key(&admin, &[ApiScope::AuditRead]).await;
    }
    let everything: AuditLogPage = app
        .get(
            &format!(
                "/api/v1/customers/{}/audit-logs?limit=200",
                admin.customer_id
            ),
            &admin.token,
        )
        .await
        .json();
    let oldest_first = ids(&everything.items);
    assert!(oldest_first.len() >= 7, "{oldest_first:?}");
    assert!(
        oldest_first.windows(2).all(|w| w[0] < w[1]),
        "the default order is oldest first"
    );

    let mut newest_first = oldest_first.clone();
    newest_first.reverse();
    assert_eq!(
        ids(&walk(&app, &admin, "newest_first", 3).await),
        newest_first
    );
    assert_eq!(
        ids(&walk(&app, &admin, "oldest_first", 3).await),
        oldest_first
    );

    // The first newest-first page holds the latest events, however many came before.
    let latest: AuditLogPage = app
        .get(
            &format!(
                "/api/v1/customers/{}/audit-logs?order=newest_first&limit=2",
                admin.customer_id
            ),
            &admin.token,
        )
        .await
        .json();
    assert_eq!(ids(&latest.items), newest_first[..2].to_vec());
    assert_eq!(latest.items[0].action_type, "api_key.created");
    assert!(latest.next_cursor.is_some());
}
both_backends!(the_audit_log_pages_newest_first_or_oldest_first_through_every_event);

/// Neither order shows another customer's events, not even through that customer's cursor.
async fn newest_first_listing_never_shows_another_customers_events(app: TestApp) {
    let a = app.signup("Initech").await;
    let b = app.signup("Umbrella").await;
    app.api_key(&a, &[ApiScope::AuditRead]).await;
    for _ in 0..3 {
        app.api_key(&b, &[ApiScope::AuditRead]).await;
    }
    for order in ["newest_first", "oldest_first"] {
        let own = walk(&app, &a, order, 2).await;
        assert!(!own.is_empty());
        assert!(
            own.iter().all(|e| e.customer_id == Some(a.customer_id)),
            "{order}: {own:?}"
        );
    }
    // B's events are newer than A's: a cursor taken from B's newest-first page still
    // yields only A's events below it.
    let b_page: AuditLogPage = app
        .get(
            &format!(
                "/api/v1/customers/{}/audit-logs?order=newest_first&limit=1",
                b.customer_id
            ),
            &b.token,
        )
        .await
        .json();
    let b_cursor = b_page.next_cursor.unwrap();
    let through_b: AuditLogPage = app
        .get(
            &format!(
                "/api/v1/customers/{}/audit-logs?order=newest_first&cursor={b_cursor}",
                a.customer_id
            ),
            &a.token,
        )
        .await
        .json();
    assert!(!through_b.items.is_empty());
    assert!(
        through_b
            .items
            .iter()
            .all(|e| e.customer_id == Some(a.customer_id))
    );
    // A cannot list B's log in either order.
    for order in ["newest_first", "oldest_first"] {
        let reply = app
            .get(
                &format!(
                    "/api/v1/customers/{}/audit-logs?order={order}",
                    b.customer_id
                ),
                &a.token,
            )
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{order}");
    }
}
both_backends!(newest_first_listing_never_shows_another_customers_events);

/// An order the API does not know is a 400 problem naming the parameter.
async fn an_unknown_audit_order_is_refused(app: TestApp) {
    let admin = app.signup("Hooli").await;
    let reply = app
        .get(
            &format!(
                "/api/v1/customers/{}/audit-logs?order=sideways",
                admin.customer_id
            ),
            &admin.token,
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    let problem = reply.problem();
    assert_eq!(problem.code, ErrorCode::BadRequest);
    assert!(
        problem.detail.contains("order") || problem.detail.contains("sideways"),
        "{}",
        problem.detail
    );
}
both_backends!(an_unknown_audit_order_is_refused);
