//! Route-level code splitting: the first page loads no lazy route's module, and each
//! lazy route fetches its own module when it opens (and still works).

use super::*;

/// The lazy route modules this document has fetched (`split___<route>_view_*.wasm`).
async fn split_modules(b: &Browser) -> TestResult<Vec<String>> {
    let v = b
        .js("return performance.getEntriesByType('resource').map(e => e.name.split('/').pop()).filter(n => n.startsWith('split_'));")
        .await?;
    Ok(serde_json::from_value(v)?)
}

/// Opens `path`, waits for `marker`, and checks that exactly `route`'s module came.
async fn opens_with_its_module(b: &Browser, path: &str, marker: &str, route: &str) -> TestResult {
    b.open(path).await?;
    b.wait_for(marker).await?;
    let loaded = split_modules(b).await?;
    let prefix = format!("split___{route}_route_view");
    assert!(
        loaded.iter().any(|m| m.starts_with(&prefix)),
        "{path} did not fetch its module {prefix}*: {loaded:?}"
    );
    assert!(
        loaded.iter().all(|m| m.starts_with(&prefix)),
        "{path} fetched other routes' modules: {loaded:?}"
    );
    b.assert_accessible(path).await?;
    Ok(())
}

#[tokio::test]
async fn every_lazy_route_fetches_its_own_module_only_when_it_opens() -> TestResult {
    let Some((app, b)) = app_and_browser().await? else {
        return Ok(());
    };
    b.open("/").await?;
    b.testid("hero-title").await?;
    assert_eq!(
        split_modules(&b).await?,
        Vec::<String>::new(),
        "the landing page"
    );
    opens_with_its_module(
        &b,
        "/integrations",
        "[data-testid=integration-card]",
        "integrations",
    )
    .await?;

    let customer = app.signup("Split").await.customer_id;
    log_in_as_operator(&b, &app).await?;
    opens_with_its_module(&b, "/admin", "[data-testid=customer-row]", "admin").await?;
    opens_with_its_module(
        &b,
        &format!("/admin/customers/{customer}"),
        "[data-testid=customer-name]",
        "customer",
    )
    .await?;
    opens_with_its_module(
        &b,
        "/settings",
        "[data-testid=settings-security]",
        "settings",
    )
    .await?;
    opens_with_its_module(
        &b,
        &format!("/settings/branding?customer={customer}"),
        "[data-testid=branding-form]",
        "branding",
    )
    .await?;
    opens_with_its_module(&b, "/settings/security", "[data-testid=mfa-on]", "security").await?;
    b.close().await
}
