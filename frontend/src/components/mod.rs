//! Building blocks shared by pages.

mod feedback;
mod fields;
mod footer;
mod guard;
mod nav;
mod secret;

pub use feedback::{Empty, ErrorNotice, Loading};
pub use fields::{ChoiceSet, SelectField, TextField, check_field};
pub use footer::Footer;
pub use guard::{NotAllowed, RequireAdmin, RequireAuth};
pub use nav::Nav;
pub use secret::OneTimeSecret;
