//! Credentials: a customer's named secrets for workflow steps, and the customer's
//! outbound allow-list.
//!
//! The store keeps a credential's secret only as the sealed bytes the server's keyring
//! made (bound to the customer and the name); it never sees the plaintext. Metadata
//! reads never return the sealed bytes either: only [`Db::use_credential`], which the
//! workflow runner calls when a step runs, does, and it records the use.

use crate::audit::{AuditEvent, record_in, scoped};
use crate::rows::{parse, validated};
use crate::{Db, PageRequest, StoreError, StoreResult, TenantScope, now};
use chrono::{DateTime, Utc};
use obera_types::{
    AuditAction, Credential, CredentialHeaderName, CredentialId, CredentialKind, CredentialRef,
    OutboundAllowList, OutboundHost, compliance,
};
use sqlx::types::Json;
use uuid::Uuid;

/// A credential to store: its metadata and its sealed secret.
#[derive(Debug, Clone)]
pub struct NewCredential {
    pub id: CredentialId,
    pub name: CredentialRef,
    pub kind: CredentialKind,
    pub header_name: Option<CredentialHeaderName>,
    pub description: String,
    pub sealed: Vec<u8>,
}

/// A replacement secret of a credential.
#[derive(Debug, Clone)]
pub struct NewSecret {
    pub kind: CredentialKind,
    pub header_name: Option<CredentialHeaderName>,
    pub sealed: Vec<u8>,
}

/// A credential with its sealed secret, for the step that uses it.
#[derive(Debug, Clone)]
pub struct SealedCredential {
    pub credential: Credential,
    pub sealed: Vec<u8>,
}

/// The metadata columns, in [`CredentialRow`]'s order; never `sealed`.
macro_rules! columns {
    () => {
        "customer_id, id, name, kind, header_name, description, created_by, created_at, updated_at, last_used_at"
    };
}

const INSERT: &str = concat!(
    "INSERT INTO credentials (customer_id, id, name, kind, header_name, description, sealed, created_by, created_at, updated_at) ",
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING ",
    columns!()
);
const LIST: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM credentials WHERE customer_id = $1 AND id > $2 ORDER BY id LIMIT $3"
);
const GET: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM credentials WHERE customer_id = $1 AND name = $2"
);
const NAMES: &str = "SELECT name, kind FROM credentials WHERE customer_id = $1";
/// The kind is part of the match: a rotation never turns a credential into another kind.
const REPLACE: &str = concat!(
    "UPDATE credentials SET sealed = $4, header_name = $5, updated_at = $6 ",
    "WHERE customer_id = $1 AND name = $2 AND kind = $3 RETURNING ",
    columns!()
);
const DELETE: &str = "DELETE FROM credentials WHERE customer_id = $1 AND name = $2 RETURNING id";
/// The only statement that reads `sealed`: a step is about to use the secret.
const USE: &str = concat!(
    "UPDATE credentials SET last_used_at = $3 WHERE customer_id = $1 AND name = $2 RETURNING ",
    columns!(),
    ", sealed"
);
const GET_ALLOW_LIST: &str = "SELECT hosts FROM outbound_allow_lists WHERE customer_id = $1";
const PUT_ALLOW_LIST: &str = "INSERT INTO outbound_allow_lists (customer_id, hosts, updated_by, updated_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (customer_id) DO UPDATE SET hosts = $2, updated_by = $3, updated_at = $4";

#[derive(sqlx::FromRow)]
struct CredentialRow {
    customer_id: Uuid,
    id: Uuid,
    name: String,
    kind: String,
    header_name: Option<String>,
    description: String,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct SealedRow {
    #[sqlx(flatten)]
    row: CredentialRow,
    sealed: Vec<u8>,
}

impl TryFrom<CredentialRow> for Credential {
    type Error = StoreError;
    fn try_from(r: CredentialRow) -> StoreResult<Credential> {
        Ok(Credential {
            id: r.id.into(),
            customer_id: r.customer_id.into(),
            name: validated("name", r.name)?,
            kind: parse("kind", &r.kind)?,
            header_name: r
                .header_name
                .map(|h| validated("header_name", h))
                .transpose()?,
            description: r.description,
            created_by: r.created_by.map(Into::into),
            created_at: r.created_at,
            updated_at: r.updated_at,
            last_used_at: r.last_used_at,
        })
    }
}

/// The audit event about credential `name` (never its secret).
fn credential_event(action: AuditAction, name: &CredentialRef, kind: CredentialKind) -> AuditEvent {
    AuditEvent::new(action, compliance::CREDENTIALS)
        .detail("credential", name.as_str())
        .detail("kind", kind.as_str())
}

impl Db {
    /// Stores a new credential; a name the customer already uses is
    /// [`StoreError::Duplicate`].
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id()), err(level = "debug"))]
    pub async fn create_credential(
        &self,
        scope: &TenantScope,
        new: &NewCredential,
    ) -> StoreResult<Credential> {
        self.write(scope, async |tx| {
            let row: CredentialRow = fetch!(
                tx,
                query_as(INSERT).fetch_one,
                scope.customer_id().0,
                new.id.0,
                new.name.as_str(),
                new.kind.as_str(),
                new.header_name.as_ref().map(|h| h.as_str()),
                new.description.as_str(),
                new.sealed.as_slice(),
                scope.actor().user_id().map(|u| u.0),
                now()
            );
            let event = credential_event(AuditAction::CREDENTIAL_CREATED, &new.name, new.kind);
            record_in(tx, &scoped(scope, event)).await?;
            row.try_into()
        })
        .await
    }

    /// One page of the customer's credentials (metadata), oldest first.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id()), err(level = "debug"))]
    pub async fn list_credentials(
        &self,
        scope: &TenantScope,
        page: PageRequest,
    ) -> StoreResult<(Vec<Credential>, Option<String>)> {
        self.list_page(scope, LIST, page, |r: &CredentialRow| r.id)
            .await
    }

    /// One credential's metadata.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id()), err(level = "debug"))]
    pub async fn get_credential(
        &self,
        scope: &TenantScope,
        name: &CredentialRef,
    ) -> StoreResult<Credential> {
        self.read(scope, async |tx| {
            let row: Option<CredentialRow> = fetch!(
                tx,
                query_as(GET).fetch_optional,
                scope.customer_id().0,
                name.as_str()
            );
            row.ok_or(StoreError::NotFound)?.try_into()
        })
        .await
    }

    /// The names and kinds of all the customer's credentials, for checking a
    /// workflow's references in one query.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id()), err(level = "debug"))]
    pub async fn credential_kinds(
        &self,
        scope: &TenantScope,
    ) -> StoreResult<Vec<(CredentialRef, CredentialKind)>> {
        self.read(scope, async |tx| {
            let rows: Vec<(String, String)> =
                fetch!(tx, query_as(NAMES).fetch_all, scope.customer_id().0);
            rows.into_iter()
                .map(|(name, kind)| Ok((validated("name", name)?, parse("kind", &kind)?)))
                .collect()
        })
        .await
    }

    /// Replaces a credential's secret. A credential of another kind is
    /// [`StoreError::Rule`]; a missing one [`StoreError::NotFound`].
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id()), err(level = "debug"))]
    pub async fn replace_credential_secret(
        &self,
        scope: &TenantScope,
        name: &CredentialRef,
        secret: &NewSecret,
    ) -> StoreResult<Credential> {
        self.write(scope, async |tx| {
            let row: Option<CredentialRow> = fetch!(
                tx,
                query_as(REPLACE).fetch_optional,
                scope.customer_id().0,
                name.as_str(),
                secret.kind.as_str(),
                secret.sealed.as_slice(),
                secret.header_name.as_ref().map(|h| h.as_str()),
                now()
            );
            let Some(row) = row else {
                let found: Option<CredentialRow> = fetch!(
                    tx,
                    query_as(GET).fetch_optional,
                    scope.customer_id().0,
                    name.as_str()
                );
                return Err(match found {
                    Some(other) => StoreError::Rule(format!(
                        "`{name}` is a `{}` credential; replace it with a secret of that kind",
                        other.kind
                    )),
                    None => StoreError::NotFound,
                });
            };
            let event =
                credential_event(AuditAction::CREDENTIAL_SECRET_REPLACED, name, secret.kind);
            record_in(tx, &scoped(scope, event)).await?;
            row.try_into()
        })
        .await
    }

    /// Deletes a credential. Workflows that name it fail validation when next saved,
    /// and their steps fail, naming it, when they next run.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id()), err(level = "debug"))]
    pub async fn delete_credential(
        &self,
        scope: &TenantScope,
        name: &CredentialRef,
    ) -> StoreResult<()> {
        self.write(scope, async |tx| {
            let gone: Option<Uuid> = fetch!(
                tx,
                query_scalar(DELETE).fetch_optional,
                scope.customer_id().0,
                name.as_str()
            );
            if gone.is_none() {
                return Err(StoreError::NotFound);
            }
            let event = AuditEvent::new(AuditAction::CREDENTIAL_DELETED, compliance::CREDENTIALS)
                .detail("credential", name.as_str());
            record_in(tx, &scoped(scope, event)).await
        })
        .await
    }

    /// A credential with its sealed secret for a step about to use it, recording the
    /// use (`last_used_at`) in the same statement.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id()), err(level = "debug"))]
    pub async fn use_credential(
        &self,
        scope: &TenantScope,
        name: &CredentialRef,
    ) -> StoreResult<SealedCredential> {
        self.write(scope, async |tx| {
            let row: Option<SealedRow> = fetch!(
                tx,
                query_as(USE).fetch_optional,
                scope.customer_id().0,
                name.as_str(),
                now()
            );
            let row = row.ok_or(StoreError::NotFound)?;
            Ok(SealedCredential {
                credential: row.row.try_into()?,
                sealed: row.sealed,
            })
        })
        .await
    }

    /// The customer's outbound allow-list (empty when never set).
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id()), err(level = "debug"))]
    pub async fn outbound_allow_list(&self, scope: &TenantScope) -> StoreResult<OutboundAllowList> {
        self.read(scope, async |tx| {
            let hosts: Option<Json<Vec<OutboundHost>>> = fetch!(
                tx,
                query_scalar(GET_ALLOW_LIST).fetch_optional,
                scope.customer_id().0
            );
            Ok(OutboundAllowList {
                hosts: hosts.map(|h| h.0).unwrap_or_default(),
            })
        })
        .await
    }

    /// Replaces the customer's outbound allow-list, with an audit event naming the hosts.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id()), err(level = "debug"))]
    pub async fn replace_outbound_allow_list(
        &self,
        scope: &TenantScope,
        list: &OutboundAllowList,
    ) -> StoreResult<OutboundAllowList> {
        self.write(scope, async |tx| {
            execute!(
                tx,
                PUT_ALLOW_LIST,
                scope.customer_id().0,
                Json(&list.hosts),
                scope.actor().user_id().map(|u| u.0),
                now()
            );
            let hosts: Vec<&str> = list.hosts.iter().map(|h| h.as_str()).collect();
            let event = AuditEvent::new(
                AuditAction::OUTBOUND_ALLOW_LIST_REPLACED,
                compliance::CHANGE,
            )
            .detail("hosts", hosts);
            record_in(tx, &scoped(scope, event)).await?;
            Ok(list.clone())
        })
        .await
    }
}
