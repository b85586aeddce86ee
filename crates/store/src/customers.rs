//! Customers: the tenants. Creating one also creates its default customisation,
//! and (at sign-up) its first admin, in the same transaction.

use crate::audit::{AuditEvent, compliance, record_in, scoped};
use crate::customization::insert_default;
use crate::db::{Tx, TxTenant};
use crate::page::convert;
use crate::rows::CustomerRow;
use crate::users::{NewProfile, insert_identity_and_profile};
use crate::{Db, PageRequest, StoreError, StoreResult, TenantScope, now};
use obera_types::{
    Customer, CustomerFilter, CustomerId, CustomerStatus, Plan, UpdateCustomer, UserProfile,
};

/// A customer to create.
#[derive(Debug, Clone)]
pub struct NewCustomer {
    pub company_name: String,
    pub contact_email: String,
    pub plan: Plan,
}

const INSERT: &str = "INSERT INTO customers (id, company_name, contact_email, plan, status, created_at, updated_at) VALUES ($1, $2, $3, $4, 'active', $5, $5) RETURNING *";
const GET: &str = "SELECT * FROM customers WHERE id = $1";
const UPDATE: &str = "UPDATE customers SET company_name = COALESCE($2, company_name), contact_email = COALESCE($3, contact_email), plan = COALESCE($4, plan), mfa_required = COALESCE($6, mfa_required), updated_at = $5 WHERE id = $1 RETURNING *";
const SET_STATUS: &str =
    "UPDATE customers SET status = $2, updated_at = $3 WHERE id = $1 RETURNING *";
// $3 is a lower-cased substring pattern ('%' matches all); LOWER(...) LIKE behaves the same on both backends.
const LIST: &str = "SELECT * FROM customers WHERE id > $1 AND (LOWER(company_name) LIKE $3 ESCAPE '\\' OR LOWER(contact_email) LIKE $3 ESCAPE '\\') AND ($4 = '' OR status = $4) ORDER BY id LIMIT $2";

async fn insert_customer(tx: &mut Tx, id: CustomerId, new: &NewCustomer) -> StoreResult<Customer> {
    let row: CustomerRow = on_tx!(tx, |c| sqlx::query_as(INSERT)
        .bind(id.0)
        .bind(&new.company_name)
        .bind(&new.contact_email)
        .bind(new.plan.as_str())
        .bind(now())
        .fetch_one(c)
        .await?);
    row.try_into()
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

async fn customer_in(tx: &mut Tx, id: CustomerId) -> StoreResult<CustomerRow> {
    let row: Option<CustomerRow> = on_tx!(tx, |c| sqlx::query_as(GET)
        .bind(id.0)
        .fetch_optional(c)
        .await?);
    row.ok_or(StoreError::NotFound)
}

impl Db {
    /// Sign-up: a customer, its first admin (identity + profile), its default
    /// customisation and the audit event, all or nothing.
    pub async fn sign_up(
        &self,
        new: &NewCustomer,
        admin: &NewProfile,
        event: AuditEvent,
    ) -> StoreResult<(Customer, UserProfile)> {
        let id = CustomerId::new();
        let mut tx = self.tenant(id, true).await?;
        let customer = insert_customer(&mut tx, id, new).await?;
        insert_default(&mut tx, id).await?;
        let profile = insert_identity_and_profile(&mut tx, id, admin).await?;
        let event = AuditEvent {
            customer_id: Some(id),
            user_id: Some(profile.id),
            ..event
        };
        record_in(&mut tx, &event).await?;
        tx.commit().await?;
        Ok((customer, profile))
    }

    /// An operator creates a customer with its default customisation.
    pub async fn create_customer(
        &self,
        new: &NewCustomer,
        event: AuditEvent,
    ) -> StoreResult<Customer> {
        let id = CustomerId::new();
        let mut tx = self.tenant(id, true).await?;
        let customer = insert_customer(&mut tx, id, new).await?;
        insert_default(&mut tx, id).await?;
        record_in(
            &mut tx,
            &AuditEvent {
                customer_id: Some(id),
                ..event
            },
        )
        .await?;
        tx.commit().await?;
        Ok(customer)
    }

    /// The scope's own customer.
    pub async fn get_customer(&self, scope: &TenantScope) -> StoreResult<Customer> {
        let mut tx = self.read_in(scope).await?;
        let row = customer_in(&mut tx, scope.customer_id()).await?;
        scope.reads().finish(tx);
        row.try_into()
    }

    /// A customer by id, for the auth layer (status checks) before a scope exists.
    pub async fn customer_by_id(&self, id: CustomerId) -> StoreResult<Customer> {
        let mut tx = self.tenant(id, false).await?;
        let row = customer_in(&mut tx, id).await?;
        tx.finish_read();
        row.try_into()
    }

    /// Changes the given fields of the scope's customer.
    pub async fn update_customer(
        &self,
        scope: &TenantScope,
        patch: &UpdateCustomer,
    ) -> StoreResult<Customer> {
        let mut tx = self.write_in(scope).await?;
        let row: Option<CustomerRow> = on_tx!(&mut tx, |c| sqlx::query_as(UPDATE)
            .bind(scope.customer_id().0)
            .bind(patch.company_name.as_ref().map(|n| n.as_str()))
            .bind(patch.contact_email.as_ref().map(|e| e.as_str()))
            .bind(patch.plan.map(Plan::as_str))
            .bind(now())
            .bind(patch.mfa_required)
            .fetch_optional(c)
            .await?);
        let customer: Customer = row.ok_or(StoreError::NotFound)?.try_into()?;
        let event = AuditEvent::new("customer.updated", compliance::CHANGE)
            .detail("fields", serde_json::to_value(patch).unwrap_or_default());
        record_in(&mut tx, &scoped(scope, event)).await?;
        tx.commit().await?;
        Ok(customer)
    }

    /// Suspends or reactivates the scope's customer.
    pub async fn set_customer_status(
        &self,
        scope: &TenantScope,
        status: CustomerStatus,
    ) -> StoreResult<Customer> {
        let mut tx = self.write_in(scope).await?;
        let row: Option<CustomerRow> = on_tx!(&mut tx, |c| sqlx::query_as(SET_STATUS)
            .bind(scope.customer_id().0)
            .bind(status.as_str())
            .bind(now())
            .fetch_optional(c)
            .await?);
        let customer: Customer = row.ok_or(StoreError::NotFound)?.try_into()?;
        let event = AuditEvent::new("customer.status_changed", compliance::PRIVILEGED)
            .detail("status", status.as_str());
        record_in(&mut tx, &scoped(scope, event)).await?;
        tx.commit().await?;
        Ok(customer)
    }

    /// Operators only: every customer, filtered, one page at a time. The only
    /// cross-tenant read; the server allows it to platform operators alone.
    pub async fn list_customers_as_operator(
        &self,
        filter: &CustomerFilter,
        page: PageRequest,
    ) -> StoreResult<(Vec<Customer>, Option<String>)> {
        let mut tx = self.begin(TxTenant::Operator, false).await?;
        let pattern = like_pattern(filter.q.as_deref());
        let status = filter.status.map_or("", CustomerStatus::as_str);
        let rows: Vec<CustomerRow> = on_tx!(&mut tx, |c| sqlx::query_as(LIST)
            .bind(page.after)
            .bind(page.fetch_limit())
            .bind(&pattern)
            .bind(status)
            .fetch_all(c)
            .await?);
        tx.finish_read();
        let (rows, next) = page.finish(rows, |r| r.id);
        Ok((convert(rows)?, next))
    }
}

const ANY_CUSTOMER: &str = "SELECT COUNT(*) FROM customers";

impl Db {
    /// Whether any customer exists (decides automatic demo seeding).
    pub async fn has_customers(&self) -> StoreResult<bool> {
        let mut tx = self.begin(TxTenant::Operator, false).await?;
        let n: i64 = on_tx!(&mut tx, |c| sqlx::query_scalar(ANY_CUSTOMER)
            .fetch_one(c)
            .await?);
        tx.finish_read();
        Ok(n > 0)
    }
}
