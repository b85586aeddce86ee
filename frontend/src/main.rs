//! Obera single-page app: Leptos CSR, served by the Obera server or any static host.

mod api;
mod app;
mod components;
mod pages;
mod state;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
