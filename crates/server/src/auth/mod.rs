//! Authentication: passwords, access tokens, refresh tokens, API keys, and the
//! extractors that turn a request's credentials into a [`principal::Principal`]
//! and, for customer routes, a `TenantScope`.

pub mod access;
pub mod jwt;
pub mod operator_status;
pub mod password;
pub mod principal;
pub mod refresh_cookie;
pub mod second_factor;
pub mod secrets;
pub mod session;
pub mod throttle;
pub mod verified;
