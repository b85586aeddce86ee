//! The Obera server: an actix-web JSON API over the store, plus the SPA and API reference.
//!
//! Invariant: only this crate knows HTTP. Request flow: extractor (`auth::principal`,
//! `auth::access` mints the `TenantScope`) → `body::Body` parses input into validated
//! types → a store call → a typed DTO, or an `error::ApiError` rendered as problem JSON.

pub mod auth;
pub mod body;
pub mod config;
pub mod credentials;
pub mod csp;
pub mod demo;
pub mod docs;
pub mod error;
pub mod event_filter;
pub mod forwarded;
pub mod hooks;
pub mod idempotency;
pub mod keyring;
pub mod log_writer;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod request_meta;
pub mod routes;
pub mod run_endings;
pub mod run_events;
pub mod spa;
pub mod startup;
pub mod state;
pub mod steps;
pub mod telemetry;
pub mod workers;
pub mod workflow_validation;
