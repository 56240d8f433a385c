//! The HTTP API: `router(state)` and one file per resource. Handlers extract,
//! call one service function and map the result; errors are one `ApiError`.

mod auth;
mod console;
mod error;
mod events;
mod groups;
mod member_data;
mod members;
mod metrics;
mod openapi;
mod plugins;
mod stats;
mod storage;
mod versions;
mod webhooks;

pub use error::ApiError;

use axum::extract::{FromRequest, FromRequestParts};
use axum::Router;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::dispatch::Kith;

/// The largest JSON body accepted; plugin uploads have their own limit.
pub const MAX_JSON_BODY: usize = 1 << 20;

/// What every handler gets: the shared service.
pub type AppState = Arc<Kith>;

/// `axum::Json`, with rejections turned into our JSON errors.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Path`, with rejections turned into our JSON errors.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// `axum::extract::Query`, with rejections turned into our JSON errors.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// Who makes a request, for the audit log: the token the auth check put in
/// the request's extensions, or nobody when the API is open.
pub struct Acting(pub crate::domain::Actor);

impl<S: Send + Sync> FromRequestParts<S> for Acting {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        use crate::domain::{Actor, Principal};
        Ok(Acting(match parts.extensions.get::<Principal>() {
            Some(p) => Actor::Token(p.token_id.clone()),
            None => Actor::Open,
        }))
    }
}

/// The routes and their OpenAPI document, from the same `OpenApiRouter`:
/// a route cannot be served undocumented or documented unserved.
pub(crate) fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (routes, mut doc) = OpenApiRouter::with_openapi(openapi::base())
        .routes(routes!(openapi::health))
        .routes(routes!(openapi::document))
        .merge(groups::routes())
        .merge(members::routes())
        .merge(member_data::routes())
        .merge(plugins::routes())
        .merge(metrics::routes())
        .merge(storage::routes())
        .merge(versions::routes())
        .merge(events::routes())
        .merge(auth::routes())
        .merge(webhooks::routes())
        .merge(stats::routes())
        .split_for_parts();
    openapi::finish(&mut doc);
    (routes, doc)
}

/// The OpenAPI document of the API, as `GET /openapi.json` serves it.
pub fn openapi_json() -> String {
    openapi::to_json(&api().1)
}

/// The API with its token check, error fallback and body limit.
pub fn router(state: AppState) -> Router {
    api()
        .0
        // Inner to the token check: a caller without a token is refused
        // before its body is read.
        .route_layer(axum::middleware::from_fn(refuse_nul))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::check,
        ))
        // After the token check's layer, which therefore skips it: the
        // console's files are public, its data comes from the API.
        .merge(console::router::<AppState>())
        .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_JSON_BODY))
        .with_state(state)
}

/// Refuses U+0000 in the path, the query or a JSON body with a 400:
/// Postgres cannot store it in text and SQLite can, so without this the two
/// databases would answer differently (a 500 on Postgres, and a poison
/// event for an adapter that retries).
async fn refuse_nul(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Result<axum::response::Response, ApiError> {
    let refused = || ApiError::BadRequest("U+0000 (NUL) is not accepted in any text".into());
    let uri = req.uri();
    if uri.path().contains("%00") || uri.query().is_some_and(|q| q.contains("%00")) {
        return Err(refused());
    }
    let json = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        return Ok(next.run(req).await);
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_JSON_BODY)
        .await
        .map_err(|_| ApiError::TooLarge(format!("a JSON body is at most {MAX_JSON_BODY} bytes")))?;
    if crate::domain::json_has_nul(&bytes) {
        return Err(refused());
    }
    let req = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
    Ok(next.run(req).await)
}
