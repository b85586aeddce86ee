//! Tenant isolation through the UI: a customer's admin pages are unreachable by URL for others.

use super::*;

#[tokio::test]
async fn an_admin_of_customer_a_cannot_open_customer_bs_admin_pages_by_url() -> TestResult {
    let Some((_app, b)) = app_and_browser().await? else {
        return Ok(());
    };
    let b_org = sign_up(&b, "TenantB").await?;
    let b_id = b.my_customer_id().await?;
    b.sign_out().await?;

    let a_org = sign_up(&b, "TenantA").await?;
    let a_id = b.my_customer_id().await?;
    assert_ne!(a_id, b_id);

    b.open(&format!("/admin/customers/{b_id}")).await?;
    b.wait_for_text("[data-testid=customer-not-found]", "Customer not found")
        .await?;
    b.assert_accessible("another customer's admin page").await?;
    b.screenshot("isolation-not-found").await?;
    let body = b.wait_for("body").await?.text().await?;
    assert!(
        !body.contains(&b_org.company),
        "customer B's name leaked into A's page"
    );

    // B's branding is not reachable either; A still sees its own.
    b.open(&format!("/settings/branding?customer={b_id}"))
        .await?;
    b.testid("branding-form").await?;
    b.open(&format!("/admin/customers/{a_id}")).await?;
    b.wait_for_text("[data-testid=customer-name]", &a_org.company)
        .await?;
    b.close().await
}
