//! The session, kept in memory only, and the hook that tells the app state when the
//! signed-in principal changes (sign-in, refresh, sign-out, expiry).
//!
//! Nothing is written to `localStorage`, `sessionStorage` or a script-readable
//! cookie, so an injected script finds no credential to steal. When the app is served
//! from the API's origin the refresh token lives only in the server's `HttpOnly`
//! cookie (requests opt in with `X-Obera-Refresh-Delivery: cookie`) and a page reload
//! restores the session by refreshing through it. On another origin the browser does
//! not send that cookie (CORS without credentials), so the refresh token stays in
//! memory and a reload signs out.

use obera_types::{Me, Session};
use std::cell::RefCell;
use std::rc::Rc;

type Listener = Rc<dyn Fn(Option<Me>)>;

thread_local! {
    static LISTENER: RefCell<Option<Listener>> = const { RefCell::new(None) };
    static CURRENT: RefCell<Option<Session>> = const { RefCell::new(None) };
}

/// The current session, if any.
pub fn load() -> Option<Session> {
    CURRENT.with(|c| c.borrow().clone())
}

pub(super) fn access_token() -> Option<String> {
    CURRENT.with(|c| c.borrow().as_ref().map(|s| s.access_token.clone()))
}

/// The in-memory refresh token (body delivery only; `None` in cookie mode).
pub(super) fn refresh_token() -> Option<String> {
    CURRENT.with(|c| c.borrow().as_ref().and_then(|s| s.refresh_token.clone()))
}

fn notify(me: Option<Me>) {
    let listener = LISTENER.with(|l| l.borrow().clone());
    if let Some(listener) = listener {
        listener(me);
    }
}

/// Keeps a session and announces its principal.
pub fn store(session: &Session) {
    CURRENT.with(|c| *c.borrow_mut() = Some(session.clone()));
    notify(Some(session.me.clone()));
}

/// Replaces the principal kept with the tokens (after `GET /me`).
pub fn update_me(me: &Me) {
    CURRENT.with(|c| {
        if let Some(session) = c.borrow_mut().as_mut() {
            session.me = me.clone();
        }
    });
}

/// Forgets the tokens and announces the sign-out.
pub fn clear() {
    CURRENT.with(|c| *c.borrow_mut() = None);
    notify(None);
}

/// Registers the one listener for principal changes.
pub fn on_change(listener: impl Fn(Option<Me>) + 'static) {
    LISTENER.with(|l| *l.borrow_mut() = Some(Rc::new(listener)));
}
