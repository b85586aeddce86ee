//! Two-step sign-in in the SPA: an operator's first sign-in is held on the enrolment
//! page (QR code, typed key, code, recovery codes) and every later sign-in asks for
//! a code; a customer admin turns it on for themselves and requires it for everyone.

use super::*;

/// Scans nothing: reads the typed key off the page, as a person would type it into
/// their app, and confirms with the code it gives. Returns the key.
async fn enrol_on_the_security_page(b: &Browser) -> TestResult<String> {
    b.wait_for_path("/settings/security").await?;
    b.testid("mfa-start").await?;
    b.assert_accessible("/settings/security (before enrolment)")
        .await?;
    b.click("mfa-start").await?;
    let qr = b.wait_for("[data-testid=mfa-qr] svg path").await?;
    b.assert_accessible("/settings/security (QR code and key)")
        .await?;
    assert!(qr.attr("d").await?.unwrap_or_default().starts_with('M'));
    let secret = b.testid("mfa-secret").await?.text().await?;
    assert!(secret.len() >= 32, "{secret}");
    b.fill("mfa-code", "000000").await?;
    b.click("mfa-confirm").await?;
    // A wrong code (unless it happens to be right) shows the server's message.
    if totp_code(&secret, 0) != "000000" {
        b.wait_for_text("[data-testid=mfa-error]", "wrong").await?;
        b.assert_accessible("/settings/security (a wrong code)")
            .await?;
    }
    b.fill("mfa-code", &totp_code(&secret, 0)).await?;
    b.click("mfa-confirm").await?;
    let codes = b.testid("recovery-codes").await?;
    let count = codes.find_all(Locator::Css("li")).await?.len();
    assert_eq!(count, 10, "recovery codes shown");
    b.assert_accessible("/settings/security (recovery codes)")
        .await?;
    b.screenshot("mfa-recovery-codes").await?;
    Ok(secret)
}

#[tokio::test]
async fn an_operators_first_sign_in_enrols_a_second_factor_and_later_ones_ask_for_its_code()
-> TestResult {
    let Some((app, b)) = app_and_browser().await? else {
        return Ok(());
    };
    let email = app.new_operator_account().await;
    log_in(&b, &email, OPERATOR_PASSWORD).await?;
    b.wait_for_text("[data-testid=mfa-intro]", "must use two-step sign-in")
        .await?;
    // Any other page sends an enrolment-only session back here.
    b.open("/admin").await?;
    b.wait_for_path("/settings/security").await?;
    let secret = enrol_on_the_security_page(&b).await?;
    b.click("mfa-done").await?;
    b.wait_for_text("[data-testid=admin-title]", "Customers")
        .await?;

    b.sign_out().await?;
    b.open("/auth").await?;
    b.fill("login-email", &email).await?;
    b.fill("login-password", OPERATOR_PASSWORD).await?;
    b.click("login-submit").await?;
    b.testid("login-code").await?;
    b.assert_accessible("/auth (the second-factor code prompt)")
        .await?;
    b.fill("login-code", &totp_code(&secret, 1)).await?;
    b.click("login-submit").await?;
    b.wait_for_text("[data-testid=admin-title]", "Customers")
        .await?;
    b.open("/settings/security").await?;
    b.wait_for_text("[data-testid=mfa-on]", "10 recovery codes left")
        .await?;
    b.testid("mfa-mandatory").await?;
    b.assert_accessible("/settings/security (enrolled operator)")
        .await?;
    b.close().await
}

#[tokio::test]
async fn a_customer_admin_turns_it_on_and_requires_it_for_the_organisation() -> TestResult {
    let Some((_app, b)) = app_and_browser().await? else {
        return Ok(());
    };
    let who = sign_up(&b, "Mfa").await?;
    b.open("/settings").await?;
    let security = b
        .wait_for_text("[data-testid=settings-security]", "off")
        .await?;
    b.assert_accessible("/settings").await?;
    security.click().await?;
    // Requiring it before having it is refused with the server's reason.
    b.click("mfa-required").await?;
    b.click("mfa-policy-save").await?;
    b.wait_for_text("[data-testid=mfa-policy-error]", "enrol your own")
        .await?;
    b.assert_accessible("/settings/security (a refused policy)")
        .await?;

    let secret = enrol_on_the_security_page(&b).await?;
    b.click("mfa-done").await?;
    b.wait_for_text("[data-testid=dashboard-title]", "Administration dashboard")
        .await?;
    b.open("/settings/security").await?;
    b.testid("mfa-on").await?;
    b.click("mfa-required").await?;
    b.click("mfa-policy-save").await?;
    b.testid("mfa-policy-saved").await?;
    b.assert_accessible("/settings/security (enrolled customer admin)")
        .await?;

    b.sign_out().await?;
    b.open("/auth").await?;
    b.fill("login-email", &who.email).await?;
    b.fill("login-password", &who.password).await?;
    b.click("login-submit").await?;
    b.fill("login-code", &totp_code(&secret, 1)).await?;
    b.click("login-submit").await?;
    b.wait_for_text("[data-testid=dashboard-title]", "Administration dashboard")
        .await?;
    b.close().await
}
