//! Token storage in `localStorage`, and the hook that tells the app state when
//! the signed-in principal changes (sign-in, refresh, sign-out, expiry).

use obera_types::{Me, Session};
use std::cell::RefCell;
use std::rc::Rc;

const KEY: &str = "obera.session";

type Listener = Rc<dyn Fn(Option<Me>)>;

thread_local! {
    static LISTENER: RefCell<Option<Listener>> = const { RefCell::new(None) };
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

/// The stored session, if any.
pub fn load() -> Option<Session> {
    let raw = storage()?.get_item(KEY).ok().flatten()?;
    serde_json::from_str(&raw).ok()
}

pub(super) fn access_token() -> Option<String> {
    load().map(|s| s.access_token)
}

pub(super) fn refresh_token() -> Option<String> {
    load().and_then(|s| s.refresh_token)
}

fn notify(me: Option<Me>) {
    let listener = LISTENER.with(|l| l.borrow().clone());
    if let Some(listener) = listener {
        listener(me);
    }
}

/// Saves a session and announces its principal.
pub fn store(session: &Session) {
    if let (Some(storage), Ok(raw)) = (storage(), serde_json::to_string(session)) {
        let _ = storage.set_item(KEY, &raw);
    }
    notify(Some(session.me.clone()));
}

/// Replaces the principal kept with the tokens (after `GET /me`).
pub fn update_me(me: &Me) {
    if let Some(mut session) = load() {
        session.me = me.clone();
        if let (Some(storage), Ok(raw)) = (storage(), serde_json::to_string(&session)) {
            let _ = storage.set_item(KEY, &raw);
        }
    }
}

/// Forgets the tokens and announces the sign-out.
pub fn clear() {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(KEY);
    }
    notify(None);
}

/// Registers the one listener for principal changes.
pub fn on_change(listener: impl Fn(Option<Me>) + 'static) {
    LISTENER.with(|l| *l.borrow_mut() = Some(Rc::new(listener)));
}
