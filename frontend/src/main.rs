//! Obera single-page app: Leptos CSR, served by the Obera server or any static host.

mod api;
mod app;
mod components;
mod format;
mod pages;
mod state;

fn main() {
    console_error_panic_hook::set_once();
    // Restore the session (refresh cookie) before the first render, so guarded pages
    // do not bounce a signed-in person to the sign-in page on reload.
    wasm_bindgen_futures::spawn_local(async {
        api::restore().await;
        leptos::mount::mount_to_body(app::App);
    });
}
