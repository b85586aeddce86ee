//! Who is acting, and for which customer.

use obera_types::{ApiKeyId, CustomerId, UserId};

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
/// Minted only by the server's auth extractor after it has verified the caller
/// belongs to (or, for an operator, has chosen) the customer; store functions
/// take `&TenantScope`, so no query can run on tenant data without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantScope {
    customer_id: CustomerId,
    actor: Actor,
}

impl TenantScope {
    /// Called by the auth extractor only, after verifying `actor` may act on `customer_id`.
    pub fn for_verified_actor(customer_id: CustomerId, actor: Actor) -> Self {
        Self { customer_id, actor }
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
