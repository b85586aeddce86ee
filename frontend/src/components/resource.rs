//! One view of a loaded list: loading, error (with retry), empty, or its rows.

use crate::api::ApiResult;
use crate::components::{Empty, ErrorNotice, Loading};
use leptos::prelude::*;
use obera_types::{ApiKeyPage, AuditLogPage, CustomerPage, UserPage};

/// A loaded value that can have nothing in it.
pub trait Listing {
    fn is_empty(&self) -> bool;
}

macro_rules! listing {
    ($($page:ty),+) => {
        $(impl Listing for $page {
            fn is_empty(&self) -> bool {
                self.items.is_empty()
            }
        })+
    };
}
listing!(CustomerPage, UserPage, ApiKeyPage, AuditLogPage);

/// What a list says while loading, when empty, and when the caller may not see it.
#[derive(Clone, Copy)]
pub struct ListStates {
    /// "Loading people…"
    pub loading: &'static str,
    /// Title and hint shown when the list has no items.
    pub empty: (&'static str, &'static str),
    /// Title and hint shown instead of an error for a 403 (the role may not see it);
    /// `None` shows the error.
    pub forbidden: Option<(&'static str, &'static str)>,
}

impl ListStates {
    /// A list whose every reader may see it.
    pub const fn new(loading: &'static str, empty: (&'static str, &'static str)) -> Self {
        Self {
            loading,
            empty,
            forbidden: None,
        }
    }
}

/// Renders `res` in one of its four states; `rows` draws a loaded, non-empty value.
pub fn list_view<T, V>(
    res: LocalResource<ApiResult<T>>,
    states: ListStates,
    rows: impl Fn(T) -> V + Send + Sync + 'static,
) -> impl IntoView
where
    T: Listing + Clone + 'static,
    V: IntoView + 'static,
{
    move || match res.get() {
        None => view! { <Loading label=states.loading/> }.into_any(),
        Some(Err(e)) => match states.forbidden {
            Some((title, hint)) if e.status() == Some(403) => {
                view! { <Empty title=title hint=hint/> }.into_any()
            }
            _ => view! { <ErrorNotice error=e retry=Callback::new(move |_| res.refetch())/> }
                .into_any(),
        },
        Some(Ok(v)) if v.is_empty() => {
            let (title, hint) = states.empty;
            view! { <Empty title=title hint=hint/> }.into_any()
        }
        Some(Ok(v)) => rows(v).into_any(),
    }
}
