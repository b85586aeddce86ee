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
    b.assert_accessible("the administration dashboard").await?;
    b.screenshot("dashboard-admin").await?;
    b.close().await
}

#[tokio::test]
async fn signup_shows_field_errors_before_calling_the_server() -> TestResult {
    let Some((_app, b)) = app_and_browser().await? else {
        return Ok(());
    };
    b.open("/auth?tab=signup").await?;
    b.testid("signup-email").await?;
    b.assert_accessible("/auth (sign up)").await?;
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
    b.assert_accessible("/auth (sign up with field errors)")
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
    b.assert_accessible("/auth (a refused sign-in)").await?;
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

/// Everything script can read: both storages and `document.cookie`.
async fn script_readable_state(b: &Browser) -> TestResult<String> {
    let v = b
        .js("return JSON.stringify({ local: Object.assign({}, localStorage), session: Object.assign({}, sessionStorage), cookie: document.cookie });")
        .await?;
    Ok(v.as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn no_script_readable_storage_holds_the_refresh_token_and_a_reload_keeps_the_session()
-> TestResult {
    let Some((_app, b)) = app_and_browser().await? else {
        return Ok(());
    };
    let who = sign_up(&b, "Cookie").await?;
    let readable = script_readable_state(&b).await?;
    assert!(
        !readable.contains("ort_") && !readable.contains("refresh"),
        "a refresh token is within script reach: {readable}"
    );

    // A reload restores the session through the HttpOnly cookie.
    b.open("/settings/branding").await?;
    b.testid("branding-form").await?;
    b.client.refresh().await?;
    b.testid("branding-form").await?;
    b.wait_for_text("[data-testid=nav-user-detail]", &who.company)
        .await?;
    let readable = script_readable_state(&b).await?;
    assert!(!readable.contains("ort_"), "{readable}");

    // Signed out, a reload stays signed out.
    b.sign_out().await?;
    b.client.refresh().await?;
    b.testid("nav-sign-in").await?;
    b.open("/settings/branding").await?;
    b.wait_for_path("/auth?return=%2Fsettings%2Fbranding")
        .await?;
    b.close().await
}

#[tokio::test]
async fn signing_up_and_working_in_the_app_raises_no_content_security_policy_violation()
-> TestResult {
    let Some((_app, b)) = app_and_browser().await? else {
        return Ok(());
    };
    // A violation at load (the inline loader's hash) would keep the app from rendering,
    // which `open` waits for; the listener catches everything after that.
    b.open("/auth?tab=signup").await?;
    b.js("window.__csp = []; document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")
        .await?;
    b.fill("signup-company", &unique("Csp Org ")).await?;
    b.fill("signup-name", "Csp Admin").await?;
    b.fill("signup-email", &format!("{}@example.com", unique("csp")))
        .await?;
    b.fill("signup-password", "correct horse battery staple")
        .await?;
    b.click("signup-submit").await?;
    b.wait_for_text("[data-testid=dashboard-title]", "Administration dashboard")
        .await?;
    b.click("sign-out").await?;
    b.testid("nav-sign-in").await?;
    let violations = b.js("return window.__csp;").await?;
    assert_eq!(violations, serde_json::json!([]), "CSP violations");
    b.close().await
}

#[tokio::test]
async fn the_sign_in_tabs_and_form_work_from_the_keyboard_alone() -> TestResult {
    let Some((_app, b)) = app_and_browser().await? else {
        return Ok(());
    };
    let who = sign_up(&b, "Keys").await?;
    b.sign_out().await?;
    b.open("/auth").await?;
    // The arrow keys move between the tabs (WebDriver's key codes for → and ←).
    let login_tab = b.testid("tab-login").await?;
    login_tab.send_keys("\u{E014}").await?;
    b.wait_for("[data-testid=tab-signup][aria-selected=true]")
        .await?;
    let focused = b.js("return document.activeElement.id;").await?;
    assert_eq!(focused, json!("tab-signup"));
    b.testid("signup-company").await?;
    b.testid("tab-signup").await?.send_keys("\u{E012}").await?;
    b.wait_for("[data-testid=tab-login][aria-selected=true]")
        .await?;
    // Typing and Enter sign in; no pointer needed.
    b.fill("login-email", &who.email).await?;
    b.fill("login-password", &who.password).await?;
    b.testid("login-password")
        .await?
        .send_keys("\u{E007}")
        .await?;
    b.wait_for_text("[data-testid=dashboard-title]", "Administration dashboard")
        .await?;
    b.close().await
}
