//! The health of the endpoints `notify` webhooks deliver to: every attempt's outcome
//! is recorded per customer and URL, and the caller's rule (the engine's
//! `disables_endpoint`) decides when a failing endpoint is disabled. Recording reads
//! the row under its lock (PostgreSQL `FOR UPDATE`; SQLite's single writer), so
//! concurrent deliveries to one endpoint count every failure.

use crate::audit::{AuditEvent, record_in, scoped};
use crate::db::Tx;
use crate::{Db, PageRequest, StoreError, StoreResult, TenantScope, now};
use chrono::{DateTime, Utc};
use obera_types::{
    AuditAction, CustomerId, NotifyEndpoint, NotifyEndpointId, NotifyEndpointStatus, compliance,
};
use uuid::Uuid;

const BY_URL: &str = "SELECT * FROM notify_endpoints WHERE customer_id = $1 AND url = $2";
const LOCK_BY_URL: &str =
    "SELECT * FROM notify_endpoints WHERE customer_id = $1 AND url = $2 FOR UPDATE";
const GET: &str = "SELECT * FROM notify_endpoints WHERE customer_id = $1 AND id = $2";
const LIST: &str =
    "SELECT * FROM notify_endpoints WHERE customer_id = $1 AND id > $2 ORDER BY id LIMIT $3";
const INSERT: &str = "INSERT INTO notify_endpoints (customer_id, id, url, consecutive_failures, updated_at) \
     VALUES ($1, $2, $3, 0, $4) ON CONFLICT (customer_id, url) DO NOTHING";
const SAVE: &str = "UPDATE notify_endpoints SET consecutive_failures = $3, failing_since = $4, last_error = $5, \
     last_success_at = $6, disabled_at = $7, updated_at = $8 WHERE customer_id = $1 AND id = $2";
const ENABLE: &str = "UPDATE notify_endpoints SET consecutive_failures = 0, failing_since = NULL, disabled_at = NULL, \
     updated_at = $3 WHERE customer_id = $1 AND id = $2";

#[derive(sqlx::FromRow)]
struct EndpointRow {
    customer_id: Uuid,
    id: Uuid,
    url: String,
    consecutive_failures: i32,
    failing_since: Option<DateTime<Utc>>,
    last_error: Option<String>,
    last_success_at: Option<DateTime<Utc>>,
    disabled_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<EndpointRow> for NotifyEndpoint {
    type Error = StoreError;
    fn try_from(r: EndpointRow) -> StoreResult<NotifyEndpoint> {
        let status = if r.disabled_at.is_some() {
            NotifyEndpointStatus::Disabled
        } else if r.failing_since.is_some() {
            NotifyEndpointStatus::Failing
        } else {
            NotifyEndpointStatus::Healthy
        };
        Ok(NotifyEndpoint {
            id: NotifyEndpointId(r.id),
            customer_id: r.customer_id.into(),
            url: r.url,
            status,
            consecutive_failures: u32::try_from(r.consecutive_failures).map_err(|_| {
                StoreError::Corrupt(format!("{} consecutive failures", r.consecutive_failures))
            })?,
            failing_since: r.failing_since,
            last_error: r.last_error,
            last_success_at: r.last_success_at,
            disabled_at: r.disabled_at,
            updated_at: r.updated_at,
        })
    }
}

/// The endpoint of `url`, created on first use, read under its lock.
async fn locked_in(tx: &mut Tx, customer: CustomerId, url: &str) -> StoreResult<EndpointRow> {
    execute!(
        tx,
        INSERT,
        customer.0,
        NotifyEndpointId::new().0,
        url,
        now()
    );
    let sql = match tx {
        Tx::Sqlite(_) => BY_URL,
        Tx::Postgres(_) => LOCK_BY_URL,
    };
    Ok(fetch!(tx, query_as(sql).fetch_one, customer.0, url))
}

impl Db {
    /// The endpoint of `url`, if anything was ever delivered to it.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id()), err(level = "debug"))]
    pub async fn notify_endpoint_by_url(
        &self,
        scope: &TenantScope,
        url: &str,
    ) -> StoreResult<Option<NotifyEndpoint>> {
        let row: Option<EndpointRow> = self
            .read(scope, async |tx| {
                Ok(fetch!(
                    tx,
                    query_as(BY_URL).fetch_optional,
                    scope.customer_id().0,
                    url
                ))
            })
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    /// Records one delivery attempt to `url` at `at`: `Ok` clears its failures;
    /// `Err` counts one more, and disables the endpoint when `disables(failing_since,
    /// at)` says so. The endpoint as it then stands.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id()), err(level = "debug"))]
    pub async fn record_notify_attempt(
        &self,
        scope: &TenantScope,
        url: &str,
        outcome: Result<(), &str>,
        at: DateTime<Utc>,
        disables: impl FnOnce(DateTime<Utc>, DateTime<Utc>) -> bool,
    ) -> StoreResult<NotifyEndpoint> {
        let customer = scope.customer_id();
        self.write(scope, async |tx| {
            let mut row = locked_in(tx, customer, url).await?;
            match outcome {
                Ok(()) => {
                    row.consecutive_failures = 0;
                    row.failing_since = None;
                    row.last_success_at = Some(at);
                }
                Err(error) => {
                    row.consecutive_failures = row.consecutive_failures.saturating_add(1);
                    let since = *row.failing_since.get_or_insert(at);
                    row.last_error = Some(error.chars().take(500).collect());
                    if row.disabled_at.is_none() && disables(since, at) {
                        row.disabled_at = Some(at);
                    }
                }
            }
            row.updated_at = at;
            execute!(
                tx,
                SAVE,
                customer.0,
                row.id,
                row.consecutive_failures,
                row.failing_since,
                row.last_error.as_deref(),
                row.last_success_at,
                row.disabled_at,
                row.updated_at
            );
            row.try_into()
        })
        .await
    }

    /// A page of the customer's notify endpoints, oldest first.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id()), err(level = "debug"))]
    pub async fn list_notify_endpoints(
        &self,
        scope: &TenantScope,
        page: PageRequest,
    ) -> StoreResult<(Vec<NotifyEndpoint>, Option<String>)> {
        self.list_page(scope, LIST, page, |r: &EndpointRow| r.id)
            .await
    }

    /// Re-enables an endpoint (clearing its failures), audited.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), id = %id), err(level = "debug"))]
    pub async fn enable_notify_endpoint(
        &self,
        scope: &TenantScope,
        id: NotifyEndpointId,
    ) -> StoreResult<NotifyEndpoint> {
        let customer = scope.customer_id();
        self.write(scope, async |tx| {
            if execute!(tx, ENABLE, customer.0, id.0, now()) == 0 {
                return Err(StoreError::NotFound);
            }
            let row: EndpointRow = fetch!(tx, query_as(GET).fetch_one, customer.0, id.0);
            let event = AuditEvent::new(AuditAction::NOTIFY_ENDPOINT_ENABLED, compliance::CHANGE)
                .detail("endpoint_id", id.to_string())
                .detail("url", row.url.as_str());
            record_in(tx, &scoped(scope, event)).await?;
            row.try_into()
        })
        .await
    }
}
