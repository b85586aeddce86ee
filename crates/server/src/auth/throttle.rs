//! The attempt throttle of the unauthenticated auth calls: which counters each call
//! reserves, with what limits, and how a reservation is settled.
//!
//! An attempt is counted before the work it guards (checking or hashing a
//! password), in one atomic store call ([`obera_store::Db::throttle_reserve`]), so
//! parallel requests cannot all read a count below the limit and go ahead; a read
//! before and a write after let 40 parallel guesses through where 5 were allowed.

use crate::auth::password::PasswordError;
use crate::error::{ApiError, ApiResult};
use crate::request_meta::client_ip;
use crate::state::AppState;
use actix_web::HttpRequest;
use obera_store::{Reservation, ThrottleLimit};

/// The calls throttled per client address alone, each with its own counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressLimited {
    Signup,
    AcceptInvite,
    Demo,
}

impl AddressLimited {
    fn key(self, address: &str) -> String {
        let prefix = match self {
            AddressLimited::Signup => "signup-ip",
            AddressLimited::AcceptInvite => "invite-ip",
            AddressLimited::Demo => "demo-ip",
        };
        format!("{prefix}:{address}")
    }

    /// The call's name in metrics.
    fn name(self) -> &'static str {
        match self {
            AddressLimited::Signup => "signup",
            AddressLimited::AcceptInvite => "accept_invite",
            AddressLimited::Demo => "demo",
        }
    }
}

/// A counted attempt. Until settled it stays counted, which is what a failure
/// (a wrong password, a refused second factor, a bogus invitation) should do.
#[derive(Debug)]
pub struct Attempt {
    /// The sign-in account's counter, if any.
    account: Option<String>,
    /// The per-address counter.
    address: String,
}

impl Attempt {
    /// Counts a sign-in for `email` from the caller's address before its password is
    /// checked (and, on the second-factor routes, before a code is checked): 429 once the account has `login_max_failures` attempts in the window,
    /// or the address four times that (many accounts guessed from one place).
    pub async fn sign_in(state: &AppState, req: &HttpRequest, email: &str) -> ApiResult<Attempt> {
        let max = state.settings.login_max_failures;
        let account = format!("email:{email}");
        let address = format!("ip:{}", address(req));
        reserve(
            state,
            "sign_in",
            &[
                ThrottleLimit { key: &account, max },
                ThrottleLimit {
                    key: &address,
                    max: max.saturating_mul(4),
                },
            ],
        )
        .await?;
        Ok(Attempt {
            account: Some(account),
            address,
        })
    }

    /// Counts one `call` from the caller's address: 429 past `auth_max_per_address`.
    pub async fn per_address(
        state: &AppState,
        req: &HttpRequest,
        call: AddressLimited,
    ) -> ApiResult<Attempt> {
        let address = call.key(&address(req));
        let max = state.settings.auth_max_per_address;
        reserve(state, call.name(), &[ThrottleLimit { key: &address, max }]).await?;
        Ok(Attempt {
            account: None,
            address,
        })
    }

    /// The attempt succeeded: the account's counter starts over, since its owner
    /// just proved the password, and the address gets this one attempt back.
    ///
    /// The address counter is never cleared, or one known password would reset the
    /// budget for guessing every other account from that address. Giving back the
    /// success's own attempt leaves exactly the failures counted: an office behind
    /// one NAT address, where dozens sign in each morning, is not locked out by
    /// its successes, while an attacker gains nothing by mixing in their own
    /// successful sign-ins (each returns only the attempt it used).
    pub async fn succeeded(self, state: &AppState) -> ApiResult<()> {
        let clear: Vec<&str> = self.account.as_deref().into_iter().collect();
        state.db.throttle_release(&clear, &[&self.address]).await?;
        Ok(())
    }

    /// Passes on the outcome of the password work this attempt guards. When it was
    /// shed, no password was checked or hashed, so every counter gets its attempt
    /// back: a person retrying through a busy spell must not lock their own account.
    pub async fn password_outcome<T>(
        &self,
        state: &AppState,
        outcome: Result<T, PasswordError>,
    ) -> ApiResult<T> {
        if let Err(PasswordError::Saturated { .. }) = outcome {
            self.give_back(state).await?;
        }
        outcome.map_err(ApiError::from)
    }

    /// The password was right and no second-factor code came with it, so nothing
    /// was guessed: every counter gets its attempt back, and the sign-in that
    /// follows with the code is counted on its own. (Keeping it would charge each
    /// two-step sign-in twice to an office's shared address.) A wrong code is a
    /// failure like a wrong password and stays counted.
    pub async fn password_accepted(self, state: &AppState) -> ApiResult<()> {
        self.give_back(state).await
    }

    async fn give_back(&self, state: &AppState) -> ApiResult<()> {
        let mut keys: Vec<&str> = self.account.as_deref().into_iter().collect();
        keys.push(&self.address);
        state.db.throttle_release(&[], &keys).await?;
        Ok(())
    }
}

/// The caller's address as the throttle keys name it.
fn address(req: &HttpRequest) -> String {
    client_ip(req).unwrap_or_else(|| "unknown".to_owned())
}

/// Reserves an attempt of `call` against `limits`; a refusal is a 429 (and counted
/// in the metrics under `call`).
async fn reserve(
    state: &AppState,
    call: &'static str,
    limits: &[ThrottleLimit<'_>],
) -> ApiResult<()> {
    match state.db.throttle_reserve(limits).await? {
        Reservation::Granted => Ok(()),
        Reservation::Refused { retry_after } => {
            crate::metrics::throttle_refused(call);
            Err(ApiError::RateLimited { retry_after })
        }
    }
}
