//! Who is acting, and for which customer.

use crate::db::Tx;
use obera_types::{ApiKeyId, CustomerId, UserId};
use std::sync::{Arc, Mutex, PoisonError};

/// The principal behind a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in member of the customer.
    User(UserId),
    /// An MSP operator acting on a customer they chose.
    Operator(UserId),
    /// A third party with an API key of the customer.
    ApiKey(ApiKeyId),
}

impl Actor {
    /// The user behind the action, if a person.
    pub fn user_id(self) -> Option<UserId> {
        match self {
            Actor::User(id) | Actor::Operator(id) => Some(id),
            Actor::ApiKey(_) => None,
        }
    }
}

/// Permission to touch one customer's data.
///
/// Minted in three places only: the server's auth module
/// (`obera_server::auth::access`), by the extractor after it has verified the caller
/// belongs to (or, for an operator, has chosen) the customer, and by
/// `operator_scope` for an operator endpoint acting on each customer an MSP workflow
/// targets; the workflow-run worker (`obera_server::workers::workflow_runs`), for the
/// customer of the job it claimed, after re-checking that the person the run acts for
/// is still an active member or operator; and demo seeding, for the demo customer it
/// has just created. Store functions take `&TenantScope`, so no query can run on
/// tenant data without one.
///
/// A scope may also carry the read opened by the access check ([`RequestReads`]);
/// the store's reads in the scope then run on it instead of beginning their own.
#[derive(Debug, Clone)]
pub struct TenantScope {
    customer_id: CustomerId,
    actor: Actor,
    reads: RequestReads,
}

impl TenantScope {
    /// Called by the auth extractor and the workflow-run worker only, after verifying
    /// `actor` may act on `customer_id`.
    pub fn for_verified_actor(customer_id: CustomerId, actor: Actor) -> Self {
        Self {
            customer_id,
            actor,
            reads: RequestReads::default(),
        }
    }

    /// The scope whose reads run on `reads`, the read the access check of the same
    /// customer left open.
    pub fn reading_through(mut self, reads: RequestReads) -> Self {
        self.reads = reads;
        self
    }

    pub(crate) fn reads(&self) -> &RequestReads {
        &self.reads
    }

    /// The customer whose rows this scope may touch.
    pub fn customer_id(&self) -> CustomerId {
        self.customer_id
    }

    /// Who is acting.
    pub fn actor(&self) -> Actor {
        self.actor
    }
}

/// The read one request keeps open from its access check to its last store read:
/// on PostgreSQL one tenant transaction whose first message carried the access
/// query, on SQLite one pooled connection. Reading through it saves a request a
/// connection checkout and, on PostgreSQL, the round trips of a second `BEGIN`
/// (`cargo xtask bench`, P2 round trips and P3). The read ends, after the
/// response, when the last clone is dropped; a write in the scope ends it first,
/// so a request never holds two connections.
#[derive(Clone, Default)]
pub struct RequestReads(Option<Arc<Mutex<Option<Tx>>>>);

impl RequestReads {
    pub(crate) fn holding(tx: Tx) -> Self {
        Self(Some(Arc::new(Mutex::new(Some(tx)))))
    }

    /// The open read, taken out for one statement; `None` when there is none.
    pub(crate) fn take(&self) -> Option<Tx> {
        let slot = self.0.as_ref()?;
        slot.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    /// Keeps `tx` for the request's next read after a statement that succeeded,
    /// or ends it when this request keeps no read. (After a failed statement the
    /// caller drops `tx` instead: a PostgreSQL error aborts the transaction.)
    pub(crate) fn finish(&self, tx: Tx) {
        match &self.0 {
            Some(slot) => *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(tx),
            None => tx.finish_read(),
        }
    }

    /// Ends the kept read now (before a write).
    pub(crate) fn end(&self) {
        drop(self.take());
    }
}

impl std::fmt::Debug for RequestReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "RequestReads(kept)"
        } else {
            "RequestReads(none)"
        })
    }
}
