//! Public pages render, and every main page is captured for review (desktop and phone).

use super::*;

#[tokio::test]
async fn the_public_pages_render_their_content() -> TestResult {
    let Some((_app, b)) = app_and_browser().await? else {
        return Ok(());
    };
    b.open("/").await?;
    b.wait_for_text("[data-testid=hero-title]", "operations platform")
        .await?;
    for vendor in [
        "Microsoft 365",
        "SharePoint",
        "CIPP",
        "NinjaOne",
        "rev.io",
        "OneBill",
        "Keeper",
        "SonicWall",
        "UniFi",
        "MikroTik",
        "ThreatDown",
        "OpenText",
    ] {
        b.wait_for_text("[data-testid=landing-integrations]", vendor)
            .await?;
    }
    for tier in ["starter", "professional", "enterprise"] {
        b.testid(&format!("tier-{tier}")).await?;
    }
    b.testid("footer").await?;
    b.assert_accessible("the landing page").await?;
    b.screenshot("landing").await?;

    b.open("/integrations").await?;
    b.wait_for_text("[data-testid=integrations-title]", "Integrations")
        .await?;
    b.wait_for_text("#integration-ninjaone", "Authentication")
        .await?;
    // Every card holds its text (long permission names used to spill out of the cards).
    let spilling = b
        .js("return [...document.querySelectorAll('[data-testid=integration-card]')].filter(c => c.scrollWidth > c.clientWidth).map(c => c.id);")
        .await?;
    assert_eq!(
        spilling,
        json!([]),
        "integration cards whose content is wider than the card"
    );
    b.assert_accessible("/integrations").await?;
    b.screenshot("integrations").await?;

    b.open("/auth").await?;
    b.testid("login-email").await?;
    b.assert_accessible("/auth (sign in)").await?;
    b.screenshot("auth").await?;

    b.open("/no/such/page").await?;
    b.wait_for_text("[data-testid=not-found]", "Page not found")
        .await?;
    b.assert_accessible("the not-found page").await?;
    b.close().await
}

/// Fails when the page is wider than the window (it would scroll sideways).
async fn assert_fits_the_width(b: &Browser, page: &str) -> TestResult {
    let overflow = b
        .js("return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
        .await?;
    assert!(
        overflow.as_i64().unwrap_or(0) <= 0,
        "{page} scrolls sideways at 375 px: {overflow}"
    );
    Ok(())
}

#[tokio::test]
async fn the_app_is_usable_on_a_375_pixel_wide_phone() -> TestResult {
    if !browser_prerequisites()? {
        return Ok(());
    }
    let app = spawn_app().await?;
    let b = Browser::start_with_width(&app, 375).await?;
    b.open("/").await?;
    b.wait_for_text("[data-testid=hero-title]", "operations platform")
        .await?;
    assert_fits_the_width(&b, "the landing page").await?;
    b.assert_accessible("the landing page at 375 px").await?;
    b.screenshot("landing-375").await?;

    // The menu folds away behind a toggle and opens on demand.
    b.wait_for_text("button.nav-toggle", "Menu")
        .await?
        .click()
        .await?;
    b.click("nav-demo").await?;
    b.click("demo-compliance").await?;
    b.wait_for_text("[data-testid=dashboard-title]", "Compliance dashboard")
        .await?;
    assert_fits_the_width(&b, "the dashboard").await?;
    b.assert_accessible("the compliance dashboard at 375 px")
        .await?;
    b.screenshot("dashboard-375").await?;
    b.close().await
}

#[tokio::test]
async fn the_dark_colour_scheme_passes_the_accessibility_check_too() -> TestResult {
    if !browser_prerequisites()? {
        return Ok(());
    }
    let app = spawn_app().await?;
    let b = Browser::start_dark(&app).await?;
    b.open("/").await?;
    let dark = b
        .js("return matchMedia('(prefers-color-scheme: dark)').matches;")
        .await?;
    assert_eq!(dark, json!(true), "the browser asks for the dark scheme");
    b.wait_for_text("[data-testid=hero-title]", "operations platform")
        .await?;
    b.assert_accessible("the landing page (dark)").await?;
    b.open("/auth").await?;
    b.testid("login-email").await?;
    b.assert_accessible("/auth (dark)").await?;
    b.open("/demo").await?;
    b.click("demo-admin").await?;
    b.wait_for("[data-testid=stat-users] .stat-value:not([aria-busy])")
        .await?;
    b.assert_accessible("the administration dashboard (dark)")
        .await?;
    b.open("/admin").await?;
    b.testid("user-row").await?;
    b.assert_accessible("/admin (dark)").await?;
    b.screenshot("admin-dark").await?;
    b.close().await
}
