//! Obera's API tests: one binary, one module per area. Every test runs the real
//! server over real HTTP on a real database, on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod databases;
mod helpers;
mod http_sink;
mod log_capture;
mod smtp_sink;

mod audit;
mod auth;
mod bad_input;
mod credentials;
mod cron_preview;
mod customers;
mod database_outage;
mod database_roles;
mod idempotency;
mod isolation;
mod job_worker;
mod jwt_attacks;
mod keys_and_users;
mod last_admin;
mod metrics;
mod mfa;
mod msp_workflows;
mod refresh_cookie;
mod rls;
mod run_retention;
mod security;
mod surface;
mod throttling;
mod traces;
mod unauthenticated_hashing;
mod workflow_approvals;
mod workflow_code;
mod workflow_cron;
mod workflow_db;
mod workflow_durable;
mod workflow_errors;
mod workflow_events;
mod workflow_http;
mod workflow_insights;
mod workflow_notify;
mod workflow_runs;
mod workflow_sub;
mod workflow_triggers;
mod workflows;

#[path = "../browser/mod.rs"]
mod browser;
