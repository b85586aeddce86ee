//! Customers: the tenants. Creating one also creates its default customisation,
//! and (at sign-up) its first admin, in the same transaction.

use crate::audit::{AuditEvent, record_in, scoped};
use crate::customization::insert_default;
use crate::db::{Tx, TxTenant};
use crate::page::convert;
use crate::rows::parse;
use crate::users::{NewProfile, insert_identity_and_profile};
use crate::{Db, PageRequest, StoreError, StoreResult, TenantScope, now};
use chrono::{DateTime, Utc};
use obera_types::{
    AuditAction, Customer, CustomerFilter, CustomerId, CustomerStatus, DisplayName, Email, Plan,
    UpdateCustomer, UserProfile, compliance,
};
use uuid::Uuid;

/// A customer to create.
#[derive(Debug, Clone)]
pub struct NewCustomer {
    pub company_name: DisplayName,
    pub contact_email: Email,
    pub plan: Plan,
}

const INSERT: &str = "INSERT INTO customers (id, company_name, contact_email, plan, status, created_at, updated_at) VALUES ($1, $2, $3, $4, 'active', $5, $5) RETURNING *";
const GET: &str = "SELECT * FROM customers WHERE id = $1";
const UPDATE: &str = "UPDATE customers SET company_name = COALESCE($2, company_name), contact_email = COALESCE($3, contact_email), plan = COALESCE($4, plan), mfa_required = COALESCE($6, mfa_required), updated_at = $5 WHERE id = $1 RETURNING *";
const SET_STATUS: &str =
    "UPDATE customers SET status = $2, updated_at = $3 WHERE id = $1 RETURNING *";
// $3 is a lower-cased substring pattern ('%' matches all); LOWER(...) LIKE behaves the same on both backends.
const LIST: &str = "SELECT * FROM customers WHERE id > $1 AND (LOWER(company_name) LIKE $3 ESCAPE '\\' OR LOWER(contact_email) LIKE $3 ESCAPE '\\') AND ($4 = '' OR status = $4) ORDER BY id LIMIT $2";
const ANY_CUSTOMER: &str = "SELECT COUNT(*) FROM customers";

#[derive(sqlx::FromRow)]
struct CustomerRow {
    id: Uuid,
    company_name: String,
    contact_email: String,
    plan: String,
    status: String,
    mfa_required: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<CustomerRow> for Customer {
    type Error = StoreError;
    fn try_from(r: CustomerRow) -> Result<Self, StoreError> {
        Ok(Customer {
            id: r.id.into(),
            company_name: r.company_name,
            contact_email: r.contact_email,
            plan: parse("plan", &r.plan)?,
            status: parse("status", &r.status)?,
            mfa_required: r.mfa_required,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

async fn insert_customer(tx: &mut Tx, id: CustomerId, new: &NewCustomer) -> StoreResult<Customer> {
    let row: CustomerRow = fetch!(
        tx,
        query_as(INSERT).fetch_one,
        id.0,
        new.company_name.as_str(),
        new.contact_email.as_str(),
        new.plan.as_str(),
        now()
    );
    row.try_into()
}

/// A new customer with its default customisation.
async fn create_in(tx: &mut Tx, id: CustomerId, new: &NewCustomer) -> StoreResult<Customer> {
    let customer = insert_customer(tx, id, new).await?;
    insert_default(tx, id).await?;
    Ok(customer)
}

/// A substring pattern with LIKE wildcards escaped (`ESCAPE '\'`), so `q=50%`
/// searches for the text `50%` instead of matching everything.
fn like_pattern(q: Option<&str>) -> String {
    let mut pattern = String::from("%");
    for c in q.unwrap_or("").trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

async fn customer_in(tx: &mut Tx, id: CustomerId) -> StoreResult<Customer> {
    let row: Option<CustomerRow> = fetch!(tx, query_as(GET).fetch_optional, id.0);
    row.ok_or(StoreError::NotFound)?.try_into()
}

impl Db {
    /// Sign-up: a customer, its first admin (identity + profile), its default
    /// customisation and the audit event, all or nothing.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn sign_up(
        &self,
        new: &NewCustomer,
        admin: &NewProfile,
        event: AuditEvent,
    ) -> StoreResult<(Customer, UserProfile)> {
        let id = CustomerId::new();
        self.write(id, async |tx| {
            let customer = create_in(tx, id, new).await?;
            let profile = insert_identity_and_profile(tx, id, admin).await?;
            let event = AuditEvent {
                customer_id: Some(id),
                user_id: Some(profile.id),
                ..event
            };
            record_in(tx, &event).await?;
            Ok((customer, profile))
        })
        .await
    }

    /// An operator creates a customer with its default customisation.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn create_customer(
        &self,
        new: &NewCustomer,
        event: AuditEvent,
    ) -> StoreResult<Customer> {
        let id = CustomerId::new();
        self.write(id, async |tx| {
            let customer = create_in(tx, id, new).await?;
            let event = AuditEvent {
                customer_id: Some(id),
                ..event
            };
            record_in(tx, &event).await?;
            Ok(customer)
        })
        .await
    }

    /// The scope's own customer.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id()), err(level = "debug"))]
    pub async fn get_customer(&self, scope: &TenantScope) -> StoreResult<Customer> {
        self.read(scope, async |tx| customer_in(tx, scope.customer_id()).await)
            .await
    }

    /// A customer by id, for the auth layer (status checks) before a scope exists.
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id), err(level = "debug"))]
    pub async fn customer_by_id(&self, id: CustomerId) -> StoreResult<Customer> {
        self.read(id, async |tx| customer_in(tx, id).await).await
    }

    /// Changes the given fields of the scope's customer.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id()), err(level = "debug"))]
    pub async fn update_customer(
        &self,
        scope: &TenantScope,
        patch: &UpdateCustomer,
    ) -> StoreResult<Customer> {
        self.write(scope, async |tx| {
            let row: Option<CustomerRow> = fetch!(
                tx,
                query_as(UPDATE).fetch_optional,
                scope.customer_id().0,
                patch.company_name.as_ref().map(|n| n.as_str()),
                patch.contact_email.as_ref().map(|e| e.as_str()),
                patch.plan.map(Plan::as_str),
                now(),
                patch.mfa_required
            );
            let customer: Customer = row.ok_or(StoreError::NotFound)?.try_into()?;
            let event = AuditEvent::new(AuditAction::CUSTOMER_UPDATED, compliance::CHANGE)
                .detail("fields", serde_json::to_value(patch).unwrap_or_default());
            record_in(tx, &scoped(scope, event)).await?;
            Ok(customer)
        })
        .await
    }

    /// Suspends or reactivates the scope's customer.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id()), err(level = "debug"))]
    pub async fn set_customer_status(
        &self,
        scope: &TenantScope,
        status: CustomerStatus,
    ) -> StoreResult<Customer> {
        self.write(scope, async |tx| {
            let row: Option<CustomerRow> = fetch!(
                tx,
                query_as(SET_STATUS).fetch_optional,
                scope.customer_id().0,
                status.as_str(),
                now()
            );
            let customer: Customer = row.ok_or(StoreError::NotFound)?.try_into()?;
            let event =
                AuditEvent::new(AuditAction::CUSTOMER_STATUS_CHANGED, compliance::PRIVILEGED)
                    .detail("status", status.as_str());
            record_in(tx, &scoped(scope, event)).await?;
            Ok(customer)
        })
        .await
    }

    /// Operators only: every customer, filtered, one page at a time. The only
    /// cross-tenant read; the server allows it to platform operators alone.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn list_customers_as_operator(
        &self,
        filter: &CustomerFilter,
        page: PageRequest,
    ) -> StoreResult<(Vec<Customer>, Option<String>)> {
        let pattern = like_pattern(filter.q.as_deref());
        let status = filter.status.map_or("", CustomerStatus::as_str);
        let rows: Vec<CustomerRow> = self
            .read(TxTenant::CrossTenant, async |tx| {
                Ok(fetch!(
                    tx,
                    query_as(LIST).fetch_all,
                    page.after,
                    page.fetch_limit(),
                    &pattern,
                    status
                ))
            })
            .await?;
        let (rows, next) = page.finish(rows, |r| r.id);
        Ok((convert(rows)?, next))
    }

    /// Whether any customer exists (decides automatic demo seeding).
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn has_customers(&self) -> StoreResult<bool> {
        let n: i64 = self
            .read(TxTenant::CrossTenant, async |tx| {
                Ok(fetch!(tx, query_scalar(ANY_CUSTOMER).fetch_one))
            })
            .await?;
        Ok(n > 0)
    }
}
