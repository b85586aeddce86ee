//! Building blocks shared by pages.

mod feedback;
mod fields;
mod footer;
mod guard;
mod nav;
mod page;
mod pager;
mod resource;
mod secret;

pub use feedback::{Empty, ErrorNotice, Loading};
pub use fields::{ChoiceSet, SelectField, SubmitButton, TextField, check_field, on_success};
pub use footer::Footer;
pub use guard::{NotAllowed, RequireAdmin, RequireAuth};
pub use nav::Nav;
pub use page::{MessagePage, NoCustomerSelected, PageHeader, use_param};
pub use pager::{Pager, use_cursor_pages};
pub use resource::{ListStates, list_view};
pub use secret::{OneTimeSecret, dismissed_after_success};
