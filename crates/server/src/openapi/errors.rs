//! The error responses the spec shares: each is written once, as a component under
//! `#/components/responses`, and every operation refers to the ones it can answer.
//!
//! Most statuses follow from an operation's shape, because the layer that answers
//! them is the same for every route: the bearer extractors answer 401 and 403
//! (roles, API-key scopes, read-only demo and enrolment-only sessions), the JSON
//! body extractor 400, 413, 415 and 422, path parameters that do not parse or name
//! another customer's record 404, query and header parameters that do not parse 400,
//! an `Idempotency-Key` 409 and 422, the store 503, and any bug 500. [`add_by_shape`]
//! adds those by rule, so a new route is documented completely without listing them,
//! and generated SDKs can type every error. Statuses only some routes answer (429 of
//! the throttled calls, a specific 409) are named on the route, by reference where the
//! meaning is the shared one (`response = RateLimited`). A status a route describes
//! itself is left as it wrote it.

use obera_types::Problem;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, OpenApi, Ref, RefOr, Type, schema::ObjectBuilder,
};
use utoipa::{PartialSchema, ToResponse};

/// One shared error response.
struct Shared {
    name: &'static str,
    status: u16,
    description: &'static str,
    /// Whether it carries `Retry-After`.
    retry_after: bool,
}

const fn shared(name: &'static str, status: u16, description: &'static str) -> Shared {
    Shared {
        name,
        status,
        description,
        retry_after: false,
    }
}

const BAD_REQUEST: Shared = shared(
    "BadRequest",
    400,
    "The body, a query parameter or a header could not be parsed",
);
const UNAUTHENTICATED: Shared = shared(
    "Unauthenticated",
    401,
    "Not signed in, or the credentials are invalid or expired",
);
const FORBIDDEN: Shared = shared(
    "Forbidden",
    403,
    "Signed in but not allowed: the role or the API key's scopes do not allow it, a demo session is read-only, or the session may only enrol a second factor (`mfa_enrolment_required`)",
);
const NOT_FOUND: Shared = shared("NotFound", 404, "Not found, or another customer's");
const CONFLICT: Shared = shared(
    "Conflict",
    409,
    "Conflicts with existing data, or a request with the same `Idempotency-Key` is still in flight",
);
const PAYLOAD_TOO_LARGE: Shared = shared(
    "PayloadTooLarge",
    413,
    "The body is larger than the server accepts",
);
const UNSUPPORTED_MEDIA_TYPE: Shared = shared(
    "UnsupportedMediaType",
    415,
    "The body is not `application/json`",
);
const VALIDATION_FAILED: Shared = shared(
    "ValidationFailed",
    422,
    "Invalid input (`errors` names each field), or an `Idempotency-Key` reused with a different request",
);
const RATE_LIMITED: Shared = Shared {
    retry_after: true,
    ..shared(
        "RateLimited",
        429,
        "Too many attempts; `Retry-After` gives the seconds until the window frees up",
    )
};
const INTERNAL: Shared = shared(
    "Internal",
    500,
    "A bug or an unexpected failure; quote the `request_id`",
);
const UNAVAILABLE: Shared = Shared {
    retry_after: true,
    ..shared(
        "Unavailable",
        503,
        "The database is out of reach or the server is busy; retry after `Retry-After` seconds",
    )
};

const ALL: [&Shared; 11] = [
    &BAD_REQUEST,
    &UNAUTHENTICATED,
    &FORBIDDEN,
    &NOT_FOUND,
    &CONFLICT,
    &PAYLOAD_TOO_LARGE,
    &UNSUPPORTED_MEDIA_TYPE,
    &VALIDATION_FAILED,
    &RATE_LIMITED,
    &INTERNAL,
    &UNAVAILABLE,
];

impl Shared {
    fn response(&self) -> Response {
        let mut builder = ResponseBuilder::new()
            .description(self.description)
            .content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(Problem::schema()))
                    .build(),
            );
        if self.retry_after {
            builder = builder.header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
                    .description(Some("Seconds to wait before retrying"))
                    .build(),
            );
        }
        builder.build()
    }
}

/// 429 for the throttled calls: `(status = 429, response = RateLimited)`.
pub struct RateLimited;

impl<'s> ToResponse<'s> for RateLimited {
    fn response() -> (&'s str, RefOr<Response>) {
        (RATE_LIMITED.name, RefOr::T(RATE_LIMITED.response()))
    }
}

/// A 409 with the shared meaning: `(status = 409, response = Conflict)`.
pub struct Conflict;

impl<'s> ToResponse<'s> for Conflict {
    fn response() -> (&'s str, RefOr<Response>) {
        (CONFLICT.name, RefOr::T(CONFLICT.response()))
    }
}

/// A 422 on a route without a JSON body, whose query values are checked beyond
/// their type (a time range, say): `(status = 422, response = ValidationFailed)`.
pub struct ValidationFailed;

impl<'s> ToResponse<'s> for ValidationFailed {
    fn response() -> (&'s str, RefOr<Response>) {
        (
            VALIDATION_FAILED.name,
            RefOr::T(VALIDATION_FAILED.response()),
        )
    }
}

/// Registers the shared responses and adds, to every operation, those its shape
/// says it can answer.
pub fn add_by_shape(api: &mut OpenApi) {
    let components = api.components.get_or_insert_with(Default::default);
    for shared in ALL {
        components
            .responses
            .insert(shared.name.to_owned(), RefOr::T(shared.response()));
    }
    for (path, item) in &mut api.paths.paths {
        let in_api = path.starts_with("/api/");
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            problem_media_type(operation);
            for shared in statuses_of(operation, in_api) {
                operation
                    .responses
                    .responses
                    .entry(shared.status.to_string())
                    .or_insert_with(|| RefOr::Ref(Ref::from_response_name(shared.name)));
            }
        }
    }
}

/// Errors are served as `application/problem+json` (RFC 9457); routes that describe
/// an error themselves say `body = Problem`, which utoipa files under
/// `application/json`, so their content is moved to the type actually sent.
fn problem_media_type(operation: &mut Operation) {
    for (status, response) in &mut operation.responses.responses {
        let RefOr::T(response) = response else {
            continue;
        };
        if !(status.starts_with('4') || status.starts_with('5')) {
            continue;
        }
        if let Some(content) = response.content.shift_remove("application/json") {
            response
                .content
                .insert("application/problem+json".to_owned(), content);
        }
    }
}

/// The shared statuses `operation` can answer, from its shape.
fn statuses_of(operation: &Operation, in_api: bool) -> Vec<&'static Shared> {
    let mut statuses = vec![&INTERNAL];
    if in_api {
        statuses.push(&UNAVAILABLE);
    }
    if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
        statuses.extend([&UNAUTHENTICATED, &FORBIDDEN]);
    }
    // The JSON body extractor's statuses; a webhook's body is raw bytes of any type.
    if operation.request_body.is_some() && in_api {
        statuses.extend([
            &BAD_REQUEST,
            &PAYLOAD_TOO_LARGE,
            &UNSUPPORTED_MEDIA_TYPE,
            &VALIDATION_FAILED,
        ]);
    }
    for parameter in operation.parameters.iter().flatten() {
        let RefOr::T(parameter) = parameter else {
            continue;
        };
        match parameter.parameter_in {
            ParameterIn::Path => statuses.push(&NOT_FOUND),
            _ => statuses.push(&BAD_REQUEST),
        }
        if parameter.name.eq_ignore_ascii_case("Idempotency-Key") {
            statuses.extend([&CONFLICT, &VALIDATION_FAILED]);
        }
    }
    statuses
}
