//! Admin: operators create customers; customer admins invite people and manage API keys.

use super::*;

#[tokio::test]
async fn an_operator_creates_a_customer_and_finds_it_in_the_customers_table() -> TestResult {
    let Some((app, b)) = app_and_browser().await? else {
        return Ok(());
    };
    log_in_as_operator(&b, &app).await?;
    b.open("/admin").await?;
    b.wait_for_text("[data-testid=admin-title]", "Customers")
        .await?;
    b.testid("customer-row").await?;
    b.assert_accessible("/admin (operator)").await?;

    let company = format!("Acme {}", unique(""));
    b.click("create-customer").await?; // opens the <details>
    b.fill("new-customer-name", &company).await?;
    b.fill(
        "new-customer-email",
        &format!("{}@acme.example", unique("ops")),
    )
    .await?;
    b.select("new-customer-plan", "professional").await?;
    b.click("create-customer-submit").await?;
    b.wait_for_text("[data-testid=customer-created]", &company)
        .await?;

    b.fill("customer-search", &company).await?;
    b.click("customer-search-submit").await?;
    b.wait_for_text("[data-testid=customer-row]", &company)
        .await?;
    b.assert_accessible("/admin (operator, a customer created and found)")
        .await?;
    b.screenshot("admin-customers").await?;

    // Suspend it, then reactivate it.
    b.click("suspend-customer").await?;
    b.wait_for_text("[data-testid=customer-row]", "Suspended")
        .await?;
    b.click("reactivate-customer").await?;
    b.wait_for_text("[data-testid=customer-row]", "Active")
        .await?;

    // Manage: the operator opens the customer's admin page.
    b.wait_for_text("[data-testid=customer-link]", &company)
        .await?
        .click()
        .await?;
    b.wait_for_text("[data-testid=customer-name]", &company)
        .await?;
    // A new customer has no people yet: judge the page once that list has loaded.
    b.wait_for("[data-testid=users-table], [aria-labelledby=users-title] [data-testid=empty]")
        .await?;
    b.assert_accessible("/admin/customers/:id (operator)")
        .await?;
    b.close().await
}

#[tokio::test]
async fn a_customer_admin_invites_a_person_and_sees_the_invite_token_once() -> TestResult {
    let Some((app, b)) = app_and_browser().await? else {
        return Ok(());
    };
    let who = sign_up(&b, "Invite").await?;
    b.click("nav-admin").await?;
    b.wait_for_text("[data-testid=customer-name]", &who.company)
        .await?;
    b.testid("user-row").await?;
    b.assert_accessible("/admin (customer admin)").await?;

    let invitee = format!("{}@example.com", unique("invitee"));
    b.fill("invite-email", &invitee).await?;
    b.fill("invite-name", "Ivy Invitee").await?;
    b.select("invite-department", "finance").await?;
    b.select("invite-role", "member").await?;
    b.click("invite-submit").await?;
    let token = b.testid("invite-token").await?.text().await?;
    b.wait_for_text("[data-testid=user-row]", &invitee).await?;
    b.assert_accessible("/admin (an invite token shown)")
        .await?;
    b.screenshot("admin-users").await?;

    // Change the invitee's department.
    let row = format!("[data-testid=user-row][data-email=\"{invitee}\"]");
    b.wait_for(&format!("{row} [data-testid=user-department]"))
        .await?
        .select_by_value("sales")
        .await?;
    b.wait_for_text("[data-testid=user-saved]", "Ivy Invitee")
        .await?;
    b.client.refresh().await?;
    let dept = b
        .wait_for(&format!("{row} [data-testid=user-department]"))
        .await?
        .prop("value")
        .await?;
    assert_eq!(dept.as_deref(), Some("sales"));

    // After dismissal the token is gone for good.
    b.open("/admin").await?;
    b.wait_for_text("[data-testid=customer-name]", &who.company)
        .await?;
    assert!(
        b.client
            .find(Locator::Css("[data-testid=invite-token]"))
            .await
            .is_err()
    );

    // The token shown is the invitation: the invitee redeems it, once, and joins
    // with the department the admin set.
    let accept = obera_types::AcceptInviteRequest {
        invite_token: token.trim().to_owned(),
        password: "invitee password 1".parse()?,
    };
    let path = "/api/v1/auth/accept-invite";
    let reply = app
        .send(reqwest::Method::POST, path, None, Some(&accept))
        .await;
    assert_eq!(reply.status, reqwest::StatusCode::OK, "{}", reply.text);
    let session: obera_types::Session = reply.json();
    let membership = session.me.membership.ok_or("no membership")?;
    assert_eq!(membership.department, obera_types::Department::Sales);
    assert_eq!(membership.company_name, who.company);
    let again = app
        .send(reqwest::Method::POST, path, None, Some(&accept))
        .await;
    assert_eq!(
        again.status,
        reqwest::StatusCode::NOT_FOUND,
        "{}",
        again.text
    );
    b.close().await
}

#[tokio::test]
async fn a_customer_admin_creates_an_api_key_sees_its_secret_once_and_revokes_it() -> TestResult {
    let Some((app, b)) = app_and_browser().await? else {
        return Ok(());
    };
    let who = sign_up(&b, "Keys").await?;
    b.open("/admin").await?;
    b.wait_for_text("[data-testid=customer-name]", &who.company)
        .await?;
    b.wait_for_text("[data-testid=empty]", "No API keys yet")
        .await?;
    b.assert_accessible("/admin (no API keys)").await?;

    b.fill("api-key-name", "Billing sync").await?;
    b.click("scope-audit-read").await?;
    b.click("api-key-submit").await?;
    let secret = b.testid("api-key-secret").await?.text().await?;
    // The secret shown is the key: it reads the audit log (its scope) over the API.
    let audit = format!("/api/v1/customers/{}/audit-logs", b.my_customer_id().await?);
    let reply = app.get(&audit, secret.trim()).await;
    assert_eq!(reply.status, reqwest::StatusCode::OK, "{}", reply.text);
    b.wait_for_text("[data-testid=api-key-row]", "Billing sync")
        .await?;
    b.wait_for_text("[data-testid=api-key-status]", "Active")
        .await?;
    b.assert_accessible("/admin (an API key secret shown)")
        .await?;
    b.screenshot("admin-api-keys").await?;

    b.click("revoke-api-key").await?;
    b.testid("confirm-revoke").await?;
    b.assert_accessible("/admin (confirming a revocation)")
        .await?;
    b.click("confirm-revoke").await?;
    b.wait_for_text("[data-testid=api-key-status]", "Revoked")
        .await?;
    // Revoked means refused by the API, not just labelled so.
    let reply = app.get(&audit, secret.trim()).await;
    assert_eq!(
        reply.status,
        reqwest::StatusCode::UNAUTHORIZED,
        "{}",
        reply.text
    );
    // Revoked keys stay listed, and the secret is never shown again.
    b.client.refresh().await?;
    b.wait_for_text("[data-testid=api-key-row]", "Billing sync")
        .await?;
    b.wait_for_text("[data-testid=api-key-status]", "Revoked")
        .await?;
    assert!(
        b.client
            .find(Locator::Css("[data-testid=api-key-secret]"))
            .await
            .is_err()
    );
    b.close().await
}
