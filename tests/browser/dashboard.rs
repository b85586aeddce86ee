//! The dashboard's "Recent activity" shows the newest events, however long the log is.

use super::*;
use obera_types::ApiScope;

#[tokio::test]
async fn recent_activity_shows_the_latest_event_after_more_than_a_page_of_history() -> TestResult {
    let Some((app, b)) = app_and_browser().await? else {
        return Ok(());
    };
    // More events than the dashboard reads (50): the sign-up and 55 API keys.
    let admin = app.signup("Busy").await;
    for _ in 0..55 {
        app.api_key(&admin, &[ApiScope::AuditRead]).await;
    }
    // Signing in through the UI records the newest event of all.
    log_in(&b, &admin.email, "correct horse battery").await?;
    b.wait_for_text("[data-testid=dashboard-title]", "Administration dashboard")
        .await?;
    let first = b.wait_for("[data-testid=activity-item]").await?;
    let text = first.text().await?;
    assert!(
        text.starts_with("auth.login"),
        "the newest activity is the sign-in, got {text:?}"
    );
    b.wait_for_text("[data-testid=stat-audit]", "50+").await?;
    b.assert_accessible("the administration dashboard with activity")
        .await?;
    b.close().await
}
