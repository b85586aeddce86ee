//! One module per route.

pub mod admin;
pub mod auth;
pub mod branding;
pub mod dashboard;
pub mod demo;
pub mod integrations;
pub mod landing;
pub mod not_found;
pub mod security;
pub mod settings;
