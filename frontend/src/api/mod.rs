//! The typed Obera API client. This is the only module that knows URLs, HTTP
//! or gloo-net; pages call one module per resource (`api::users::list`, …) and get
//! `Result<T, ClientError>`. Each resource module is its paths over the verbs in
//! `client` (`get`, `post`, `patch`, …).

pub mod api_keys;
pub mod audit;
pub mod auth;
mod client;
pub mod customers;
pub mod customization;
pub mod mfa;
pub mod session;
pub mod users;

pub use client::{ClientError, encode, restore};

/// Result of every API call.
pub type ApiResult<T> = Result<T, ClientError>;
