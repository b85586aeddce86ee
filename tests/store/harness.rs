//! A fresh store per test, and `on_both_backends!` to run one story on each.

use crate::databases::{Guard, Kind, fresh_database, temp_dir};
use obera_store::{
    Actor, AuditEvent, Db, DbOptions, NewCustomer, NewProfile, StoreResult, TenantScope,
};
use obera_types::{AuditAction, Customer, Department, Plan, Role, UserProfile, compliance};
use std::time::Duration;

/// An open store on its own database, removed when dropped.
pub struct TestDb {
    pub db: Db,
    _guard: Guard,
}

/// Opens (and migrates) a fresh database of `kind`; `None` when the PostgreSQL
/// leg is skipped.
pub async fn open(kind: Kind) -> Option<TestDb> {
    let (url, migrate_url, guard) = fresh_database(kind, &temp_dir()).await?;
    let db = Db::connect(&DbOptions {
        url,
        migrate_url,
        max_connections: 4,
        acquire_timeout: Duration::from_secs(5),
    })
    .await
    .unwrap_or_else(|e| panic!("open the store: {e}"));
    Some(TestDb { db, _guard: guard })
}

/// Runs `async fn name(db: TestDb)` once per backend as `name::sqlite` and
/// `name::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let db = $crate::harness::open($crate::databases::Kind::Sqlite).await;
                super::$name(db.unwrap_or_else(|| unreachable!())).await
            }
            #[tokio::test]
            async fn postgres() {
                if let Some(db) = $crate::harness::open($crate::databases::Kind::Postgres).await {
                    super::$name(db).await
                }
            }
        }
    };
}

/// A signed-up customer and its first admin, as sign-up creates them.
pub struct Tenant {
    pub customer: Customer,
    pub admin: UserProfile,
}

impl Tenant {
    /// The admin's scope, as the auth extractor would mint it.
    pub fn scope(&self) -> TenantScope {
        TenantScope::for_verified_actor(self.customer.id, Actor::User(self.admin.id))
    }
}

/// The server's event filters, which adding a person emits `user.invited` through.
pub fn filters() -> obera_server::event_filter::EventFilters {
    obera_server::event_filter::EventFilters::default()
}

/// A new invited person for a profile insert, with a unique email at `domain` and
/// a unique invitation.
pub fn person(domain: &str, department: Department, role: Role) -> NewProfile {
    NewProfile {
        email: format!("{}@{domain}", uuid::Uuid::new_v4().simple())
            .parse()
            .unwrap(),
        full_name: "Pat Person".parse().unwrap(),
        department,
        role,
        password_hash: None,
        invite: Some((
            uuid::Uuid::new_v4().to_string(),
            obera_store::now() + chrono::Duration::days(7),
        )),
    }
}

impl TestDb {
    /// Signs up a customer named `name` with an admin.
    pub async fn sign_up(&self, name: &str) -> StoreResult<Tenant> {
        let domain = format!("{}.example.com", name.to_lowercase().replace(' ', "-"));
        let new = NewCustomer {
            company_name: name.parse().unwrap(),
            contact_email: format!("contact@{domain}").parse().unwrap(),
            plan: Plan::Starter,
        };
        let admin = person(&domain, Department::Admin, Role::Admin);
        let event = AuditEvent::new(AuditAction::AUTH_SIGNUP, compliance::ACCESS);
        let (customer, admin) = self.db.sign_up(&new, &admin, event).await?;
        Ok(Tenant { customer, admin })
    }
}
