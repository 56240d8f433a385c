//! The HTTP API: `router(state)` and one file per resource. Handlers extract,
//! call one service function and map the result; errors are one `ApiError`.

mod auth;
mod error;
mod events;
mod groups;
mod members;
mod openapi;
mod plugins;

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

/// The routes and their OpenAPI document, from the same `OpenApiRouter`:
/// a route cannot be served undocumented or documented unserved.
pub(crate) fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (routes, mut doc) = OpenApiRouter::with_openapi(openapi::base())
        .routes(routes!(openapi::health))
        .routes(routes!(openapi::document))
        .merge(groups::routes())
        .merge(members::routes())
        .merge(plugins::routes())
        .merge(events::routes())
        .merge(auth::routes())
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
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::check,
        ))
        .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_JSON_BODY))
        .with_state(state)
}
