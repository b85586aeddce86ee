//! Keyset paging: the cursors of the pages visited, and the Previous / Next bar.

use leptos::prelude::*;

/// The pages of one cursor-paginated list that the person has walked through. The
/// last cursor is the current page's (`None` for the first page).
#[derive(Clone, Copy)]
pub struct CursorPages {
    cursors: RwSignal<Vec<Option<String>>>,
}

/// Starts at the first page.
pub fn use_cursor_pages() -> CursorPages {
    CursorPages {
        cursors: RwSignal::new(vec![None]),
    }
}

impl CursorPages {
    /// The cursor to fetch the current page with (tracked: a resource reading it refetches).
    pub fn cursor(&self) -> Option<String> {
        self.cursors.with(|c| c.last().cloned().flatten())
    }

    /// Back to the first page, e.g. when a filter changes.
    pub fn reset(&self) {
        self.cursors.set(vec![None]);
    }

    fn number(&self) -> usize {
        self.cursors.with(Vec::len)
    }

    fn back(&self) {
        self.cursors.update(|c| {
            if c.len() > 1 {
                c.pop();
            }
        });
    }

    fn forward(&self, next: String) {
        self.cursors.update(|c| c.push(Some(next)));
    }
}

/// The Previous / Next bar under a list; `next` is the loaded page's `next_cursor`.
#[component]
pub fn Pager(
    pages: CursorPages,
    next: Option<String>,
    #[prop(into)] label: String,
) -> impl IntoView {
    let has_next = next.is_some();
    view! {
        <nav class="pager" aria-label=label>
            <span class="muted small">"Page " {move || pages.number()}</span>
            <button type="button" class="btn btn-ghost btn-sm" data-testid="page-prev"
                disabled=move || pages.number() <= 1
                on:click=move |_| pages.back()>"Previous"</button>
            <button type="button" class="btn btn-ghost btn-sm" data-testid="page-next"
                disabled=!has_next
                on:click=move |_| if let Some(n) = next.clone() { pages.forward(n) }>"Next"</button>
        </nav>
    }
}
