//! How values read on screen: labels of the shared vocabularies, timestamps, counts
//! and status badges. Pages format through here so one value reads the same everywhere.

use leptos::prelude::*;
use obera_types::{CustomerStatus, Department, Plan, Role, UserStatus};

/// A value of a closed vocabulary with its wire spelling and its label for people.
pub trait Labelled: Copy + PartialEq + Send + Sync + 'static {
    /// Every value, in display order.
    const ALL: &'static [Self];
    fn value(self) -> &'static str;
    fn label(self) -> &'static str;
}

/// Implements `Labelled` from a type's `ALL` and `as_str` and a label function.
macro_rules! labelled {
    ($($ty:ident => $label:path),+ $(,)?) => {$(
        impl Labelled for $ty {
            const ALL: &'static [Self] = $ty::ALL;
            fn value(self) -> &'static str {
                self.as_str()
            }
            fn label(self) -> &'static str {
                $label(self)
            }
        }
    )+};
}

labelled!(Department => Department::label, Plan => plan_label, Role => role_label);

/// Every value of `T` as `(value, label)` options for a select.
pub fn options<T: Labelled>() -> Vec<(String, String)> {
    T::ALL
        .iter()
        .map(|t| (t.value().to_owned(), t.label().to_owned()))
        .collect()
}

/// Human name of a role.
pub fn role_label(r: Role) -> &'static str {
    match r {
        Role::Admin => "Admin",
        Role::Member => "Member",
        Role::Viewer => "Viewer",
    }
}

/// Human name of a plan.
pub fn plan_label(p: Plan) -> &'static str {
    match p {
        Plan::Starter => "Starter",
        Plan::Professional => "Professional",
        Plan::Enterprise => "Enterprise",
    }
}

/// A customer's status as a coloured badge.
pub fn customer_status_badge(status: CustomerStatus) -> impl IntoView {
    let (class, label) = match status {
        CustomerStatus::Active => ("badge badge-success", "Active"),
        CustomerStatus::Suspended => ("badge badge-danger", "Suspended"),
    };
    view! { <span class=class>{label}</span> }
}

/// A person's status as a coloured badge.
pub fn user_status_badge(status: UserStatus) -> impl IntoView {
    let (class, label) = match status {
        UserStatus::Active => ("badge badge-success", "Active"),
        UserStatus::Invited => ("badge badge-warning", "Invited"),
        UserStatus::Deactivated => ("badge badge-danger", "Deactivated"),
    };
    view! { <span class=class data-testid="user-status">{label}</span> }
}

/// A count read off one page of a list: `n`, or `n+` when more pages follow.
pub fn page_count(n: usize, more: bool) -> String {
    if more { format!("{n}+") } else { n.to_string() }
}

/// Formats a timestamp for tables.
pub fn format_time(t: &chrono::DateTime<chrono::Utc>) -> String {
    use chrono::{Datelike, Timelike};
    // Hand-rolled: chrono's strftime machinery costs ~10 kB of wasm.
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_says_when_more_pages_follow() {
        assert_eq!(page_count(3, false), "3");
        assert_eq!(page_count(50, true), "50+");
    }

    #[test]
    fn timestamps_read_in_utc_to_the_minute() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:59Z")
            .map(|t| t.to_utc())
            .unwrap_or_default();
        assert_eq!(format_time(&t), "2026-01-02 03:04 UTC");
    }
}
