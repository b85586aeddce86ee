//! Types shared by the Obera server and the Leptos SPA.
//!
//! Invariant: nothing here does IO, so the crate builds for `wasm32-unknown-unknown`.
//! OpenAPI schema derives sit behind the `openapi` feature, which only the server enables.

pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod customers;
pub mod customization;
pub mod enums;
pub mod error;
pub mod ids;
pub mod page;
pub mod users;
pub mod validated;

pub use api_keys::*;
pub use audit::*;
pub use auth::*;
pub use customers::*;
pub use customization::*;
pub use enums::*;
pub use error::*;
pub use ids::*;
pub use page::*;
pub use users::*;
pub use validated::*;
