//! /v1/tokens/{id}/webhook: where a token's operator alerts are POSTed.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::params::TokenPath;
use super::{ApiError, AppState, Json, Path};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(set_webhook))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Webhook {
    /// An http(s) URL; null stops the alerts.
    url: Option<String>,
}

/// Set a token's alert webhook
///
/// For operator tokens: when kith switches a plugin off in one of the
/// token's groups, it POSTs `{group, at, alert}` here (besides the
/// `operator-alert` outbox action). Admins only.
#[utoipa::path(
    put, path = "/v1/tokens/{id}/webhook", operation_id = "setTokenWebhook", tag = "auth",
    params(TokenPath),
    request_body = Webhook,
    responses(
        (status = 204, description = "Set."),
        (status = 400, description = "Not an http(s) URL."),
        (status = 404, description = "No such token."),
    )
)]
async fn set_webhook(
    State(kith): State<AppState>,
    Path(id): Path<String>,
    Json(w): Json<Webhook>,
) -> Result<StatusCode, ApiError> {
    kith.set_webhook(&id, w.url.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}
