//! Store stories: `obera_store`'s public API on a real database, the same story on
//! SQLite and on PostgreSQL (as the request role, under row-level security). They
//! pin what every module built on the store relies on — tenant scoping, typed
//! errors, keyset paging — below HTTP, where a failure points at the store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../api/databases.rs"]
mod databases;
mod harness;

mod errors;
mod jobs;
mod paging;
mod tenancy;
