//! Sign-up, sign-in, validation messages and the `?return=` path.

use super::*;

#[tokio::test]
async fn a_visitor_signs_up_and_lands_on_the_admin_dashboard_of_their_new_organisation()
-> TestResult {
    let Some((_app, b)) = app_and_browser().await? else {
        return Ok(());
    };
    let who = sign_up(&b, "Signup").await?;
    b.wait_for_text("[data-testid=nav-user-detail]", &who.company)
        .await?;
    b.screenshot("dashboard-admin").await?;
    b.close().await
}

#[tokio::test]
async fn signup_shows_field_errors_before_calling_the_server() -> TestResult {
    let Some((_app, b)) = app_and_browser().await? else {
        return Ok(());
    };
    b.open("/auth?tab=signup").await?;
    b.fill("signup-email", "not-an-email").await?;
    b.fill("signup-password", "short").await?;
    b.click("signup-submit").await?;
    b.wait_for_text("[data-testid=signup-email-error]", "not a valid email")
        .await?;
    b.wait_for_text(
        "[data-testid=signup-password-error]",
        "at least 10 characters",
    )
    .await?;
    b.wait_for_text("[data-testid=signup-company-error]", "must not be blank")
        .await?;
    b.close().await
}

#[tokio::test]
async fn a_registered_user_logs_in_and_a_wrong_password_shows_the_servers_message() -> TestResult {
    let Some((_app, b)) = app_and_browser().await? else {
        return Ok(());
    };
    let who = sign_up(&b, "Login").await?;
    b.sign_out().await?;

    b.open("/auth").await?;
    b.fill("login-email", &who.email).await?;
    b.fill("login-password", "definitely the wrong password")
        .await?;
    b.click("login-submit").await?;
    let error = b.testid("auth-error").await?;
    assert!(
        !error.text().await?.trim().is_empty(),
        "the server's error message is shown"
    );
    b.screenshot("auth-login-error").await?;

    b.fill("login-password", &who.password).await?;
    b.click("login-submit").await?;
    b.wait_for_text("[data-testid=dashboard-title]", "Administration dashboard")
        .await?;
    b.close().await
}

#[tokio::test]
async fn an_unauthenticated_visitor_is_sent_to_sign_in_and_then_back_where_they_were_going()
-> TestResult {
    let Some((_app, b)) = app_and_browser().await? else {
        return Ok(());
    };
    let who = sign_up(&b, "Return").await?;
    b.sign_out().await?;

    b.open("/settings/branding").await?;
    b.wait_for_path("/auth?return=%2Fsettings%2Fbranding")
        .await?;
    b.fill("login-email", &who.email).await?;
    b.fill("login-password", &who.password).await?;
    b.click("login-submit").await?;
    b.wait_for_path("/settings/branding").await?;
    b.wait_for_text("[data-testid=branding-title]", "Branding")
        .await?;
    b.close().await
}

/// Overwrites a token in the stored session, as if it had expired or been revoked.
async fn spoil_token(b: &Browser, field: &str) -> TestResult {
    b.js(&format!(
        "const s = JSON.parse(localStorage.getItem('obera.session')); s.{field} = 'spoiled'; localStorage.setItem('obera.session', JSON.stringify(s));"
    ))
    .await?;
    Ok(())
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_silently_and_an_ended_session_returns_to_the_page()
-> TestResult {
    let Some((_app, b)) = app_and_browser().await? else {
        return Ok(());
    };
    let who = sign_up(&b, "Expiry").await?;
    b.open("/settings/branding").await?;
    b.testid("branding-form").await?;

    // A bad access token: the client refreshes and the page keeps working.
    spoil_token(&b, "access_token").await?;
    b.client.refresh().await?;
    b.testid("branding-form").await?;
    b.wait_for_text("[data-testid=nav-user-detail]", &who.company)
        .await?;

    // Both tokens gone bad: sign in again and land on the same page.
    spoil_token(&b, "access_token").await?;
    spoil_token(&b, "refresh_token").await?;
    b.client.refresh().await?;
    b.wait_for_path("/auth?return=%2Fsettings%2Fbranding")
        .await?;
    b.fill("login-email", &who.email).await?;
    b.fill("login-password", &who.password).await?;
    b.click("login-submit").await?;
    b.wait_for_path("/settings/branding").await?;
    b.testid("branding-form").await?;
    b.close().await
}
