//! The site footer.

use leptos::prelude::*;

/// Links and legal text at the bottom of every page.
#[component]
pub fn Footer() -> impl IntoView {
    view! {
        <footer class="site-footer" data-testid="footer">
            <div class="footer-grid">
                <div>
                    <p class="brand-text">"Obera"</p>
                    <p class="muted small">"Operations, compliance and automation for managed service providers and their clients."</p>
                </div>
                <nav aria-label="Footer">
                    <ul class="footer-links">
                        <li><a href="/integrations">"Integrations"</a></li>
                        <li><a href="/#pricing">"Pricing"</a></li>
                        <li><a href="/demo">"Live demo"</a></li>
                        <li><a href="/docs" rel="external">"API reference"</a></li>
                    </ul>
                </nav>
            </div>
            <p class="muted small">"© Obera contributors · AGPL-3.0"</p>
        </footer>
    }
}
