//! Issuing sessions (access + refresh token) and describing the signed-in person.

use crate::auth::jwt::Limits;
use crate::auth::refresh_cookie::{self, Delivery};
use crate::auth::{second_factor, secrets};
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::body::BoxBody;
use actix_web::{HttpRequest, HttpResponse, Responder};
use obera_store::{LoginRecord, NewRefreshToken};
use obera_types::{Me, Membership, Session};
use uuid::Uuid;

/// Who `login` is, as `GET /me` shows it, with the state of their second factor
/// (which decides whether a new session is enrolment-only).
pub async fn describe(state: &AppState, login: &LoginRecord, read_only: bool) -> ApiResult<Me> {
    let membership = match login.customer() {
        Some(customer) => {
            let profile = state.db.profile_for_auth(customer, login.user_id()).await?;
            let company = state.db.customer_by_id(customer).await?;
            Some((profile, company))
        }
        None => None,
    };
    let mfa = second_factor::status(state, login, membership.as_ref().map(|(_, c)| c)).await?;
    Ok(Me {
        user_id: login.user_id(),
        email: login.email.clone(),
        full_name: membership
            .as_ref()
            .map_or_else(|| "MSP operator".to_owned(), |(p, _)| p.full_name.clone()),
        platform_operator: login.platform_operator,
        read_only,
        membership: membership.map(|(p, c)| Membership {
            customer_id: c.id,
            company_name: c.company_name,
            department: p.department,
            role: p.role,
        }),
        mfa,
    })
}

/// A new session on its way to the client: the JSON body, plus the refresh cookie when
/// the client asked for cookie delivery (then the body has no `refresh_token`).
/// Every route that starts or rotates a session answers with this, so delivery is
/// decided in this one place.
pub struct Issued {
    session: Session,
    cookie: Option<actix_web::cookie::Cookie<'static>>,
}

impl Responder for Issued {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        let mut response = HttpResponse::Ok();
        if let Some(cookie) = self.cookie {
            response.cookie(cookie);
        }
        response.json(self.session)
    }
}

/// Signs an access token and stores a new refresh token in `family` (a new family
/// for a fresh sign-in, the old one when rotating), delivered as `delivery` says.
///
/// The second-factor requirement is read afresh here, on every sign-in and every
/// refresh: an account that must have one and has none gets an enrolment-only
/// access token, and the first refresh after it enrols gets a full one.
pub async fn issue(
    state: &AppState,
    login: &LoginRecord,
    family: Option<Uuid>,
    read_only: bool,
    delivery: Delivery,
) -> ApiResult<Issued> {
    let me = describe(state, login, read_only).await?;
    let access_token = state.keys.issue(
        login.id,
        login.customer_id,
        login.platform_operator,
        Limits {
            read_only,
            enrolment_only: me.mfa.enrolment_only,
        },
    )?;
    let refresh_token = secrets::new_refresh_token();
    state
        .db
        .insert_refresh_token(&NewRefreshToken {
            user_id: login.user_id(),
            family_id: family.unwrap_or_else(Uuid::now_v7),
            token_hash: secrets::hash(&refresh_token),
            read_only,
            expires_at: obera_store::now()
                + chrono::Duration::days(state.settings.refresh_token_ttl_days),
        })
        .await?;
    let (refresh_token, cookie) = match delivery {
        Delivery::Body => (Some(refresh_token), None),
        Delivery::Cookie => (
            None,
            Some(refresh_cookie::carrying(
                refresh_token,
                state.settings.refresh_token_ttl_days,
            )),
        ),
    };
    let session = Session {
        access_token,
        token_type: "Bearer".to_owned(),
        expires_in: state.keys.ttl_secs,
        refresh_token,
        me,
    };
    Ok(Issued { session, cookie })
}
