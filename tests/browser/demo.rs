//! The demo selector: one click per department, read-only sessions, department guards.

use super::*;
use obera_types::Department;

#[tokio::test]
async fn the_demo_selector_switches_between_department_dashboards() -> TestResult {
    let Some((_app, b)) = app_and_browser().await? else {
        return Ok(());
    };
    b.open("/demo").await?;
    b.wait_for_text("[data-testid=demo-title]", "Explore the demo")
        .await?;
    b.assert_accessible("/demo").await?;
    b.screenshot("demo").await?;

    b.click("demo-it").await?;
    b.wait_for_path("/dashboard/it").await?;
    b.wait_for_text("[data-testid=dashboard-title]", "IT dashboard")
        .await?;
    b.testid("read-only-badge").await?;
    b.assert_accessible("the IT dashboard").await?;
    b.wait_for_text("[data-testid=nav-user-detail]", "IT")
        .await?;
    b.screenshot("dashboard-it").await?;

    b.click("nav-demo").await?;
    b.click("demo-finance").await?;
    b.wait_for_path("/dashboard/finance").await?;
    b.wait_for_text("[data-testid=dashboard-title]", "Finance dashboard")
        .await?;
    b.wait_for_text("[data-testid=nav-user-detail]", "Finance")
        .await?;
    b.close().await
}

#[tokio::test]
async fn every_department_dashboard_of_the_demo_passes_the_accessibility_check() -> TestResult {
    let Some((_app, b)) = app_and_browser().await? else {
        return Ok(());
    };
    for department in Department::ALL {
        b.open("/demo").await?;
        b.click(&format!("demo-{department}")).await?;
        b.wait_for_path(&format!("/dashboard/{department}")).await?;
        b.wait_for_text(
            "[data-testid=dashboard-title]",
            &format!("{} dashboard", department.label()),
        )
        .await?;
        // Judge the page once its figures have loaded, not the placeholders.
        b.wait_for("[data-testid=stat-users] .stat-value:not([aria-busy])")
            .await?;
        b.assert_accessible(&format!("the {} dashboard", department.label()))
            .await?;
    }
    b.close().await
}

#[tokio::test]
async fn a_department_member_cannot_open_another_departments_dashboard() -> TestResult {
    let Some((_app, b)) = app_and_browser().await? else {
        return Ok(());
    };
    b.open("/demo").await?;
    b.click("demo-hr").await?;
    b.wait_for_text("[data-testid=dashboard-title]", "HR dashboard")
        .await?;

    b.open("/dashboard/finance").await?;
    b.wait_for_text("[data-testid=not-allowed]", "Not allowed")
        .await?;
    b.assert_accessible("a dashboard of another department")
        .await?;
    b.screenshot("not-allowed").await?;
    // Members see no admin entries in the navigation.
    assert!(
        b.client
            .find(Locator::Css("[data-testid=nav-admin]"))
            .await
            .is_err()
    );
    b.close().await
}
