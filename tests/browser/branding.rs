//! Branding: the primary colour becomes the `--primary` token on <html>, live and after saving.

use super::*;

async fn primary_token(b: &Browser) -> TestResult<String> {
    let v = b.js("return getComputedStyle(document.documentElement).getPropertyValue('--primary').trim();").await?;
    Ok(v.as_str().unwrap_or_default().to_lowercase())
}

#[tokio::test]
async fn changing_the_primary_colour_changes_the_primary_css_variable_and_survives_a_reload()
-> TestResult {
    let Some((_app, b)) = app_and_browser().await? else {
        return Ok(());
    };
    sign_up(&b, "Brand").await?;
    b.open("/settings/branding").await?;
    b.testid("branding-form").await?;
    let before = primary_token(&b).await?;
    let new_colour = if before == "#7a1fa2" {
        "#0a7d3b"
    } else {
        "#7a1fa2"
    };

    b.fill("primary-color-text", new_colour).await?;
    // Live preview: applied before saving.
    let started = Instant::now();
    while primary_token(&b).await? != new_colour {
        assert!(
            started.elapsed() < DEADLINE,
            "live preview did not set --primary"
        );
        tokio::time::sleep(POLL).await;
    }
    b.click("branding-save").await?;
    b.wait_for_text("[data-testid=branding-saved]", "saved")
        .await?;
    b.assert_accessible("/settings/branding").await?;
    b.screenshot("branding").await?;

    // A fresh load applies the saved branding from the API.
    b.open("/integrations").await?;
    b.client.refresh().await?;
    b.testid("nav-home").await?;
    let started = Instant::now();
    loop {
        let now = primary_token(&b).await?;
        if now == new_colour {
            break;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "--primary is {now}, expected {new_colour} after reload"
        );
        tokio::time::sleep(POLL).await;
    }
    assert_ne!(before, new_colour);
    b.close().await
}
