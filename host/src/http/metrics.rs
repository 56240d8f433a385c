//! `/metrics`: the Prometheus text format (see `crate::telemetry`).

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, AppState};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(metrics))
}

/// Metrics for Prometheus
///
/// Events by kind and outcome, invocations by plugin and outcome, fuel and
/// duration histograms, store commit latency, outbox depth, and the
/// database's size and largest tables (as of the last size log). Needs an
/// admin token once tokens exist.
#[utoipa::path(
    get, path = "/metrics", operation_id = "metrics", tag = "health",
    responses((status = 200, description = "Prometheus text format 0.0.4.", body = String, content_type = "text/plain"))
)]
async fn metrics(State(kith): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    crate::telemetry::outbox_pending(kith.store.outbox_pending().await?);
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::telemetry::render(),
    ))
}
