//! Types shared by the Obera server and the Leptos SPA.
//!
//! Invariant: nothing here does IO, so the crate builds for `wasm32-unknown-unknown`.
//! OpenAPI schema derives sit behind the `openapi` feature, which only the server enables.

/// Implements `utoipa::ToSchema` for a string enum from its wire spellings.
/// Written by hand because utoipa's derive cannot read `#[serde(rename = $lit)]`
/// when the literal comes from a macro, and would publish the Rust variant names.
macro_rules! string_enum_schema {
    ($name:ident, [$($doc:literal),*], [$($text:literal),+]) => {
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let doc: &[&str] = &[$($doc),*];
                let description = doc.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ");
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some(description))
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}

pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod customers;
pub mod customization;
pub mod enums;
pub mod error;
pub mod ids;
pub mod mfa;
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
pub use mfa::*;
pub use page::*;
pub use users::*;
pub use validated::*;
