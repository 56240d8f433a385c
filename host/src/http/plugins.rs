//! /v1/plugins (install, list, show) and per-group enablement.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, put};
use axum::{extract::State, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{ApiError, AppState, Json, Path};
use crate::dispatch::{EnableInput, EventOutcome};
use crate::store::{Enablement, InstalledPlugin};

/// Uploads are wasm, so they get their own, larger, limit.
const MAX_UPLOAD: usize = crate::dispatch::MAX_PLUGIN_BYTES;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/plugins",
            get(list)
                .post(install)
                .layer(axum::extract::DefaultBodyLimit::max(MAX_UPLOAD)),
        )
        .route("/v1/plugins/{name}", get(show))
        .route("/v1/groups/{group}/plugins", get(enabled))
        .route("/v1/groups/{group}/plugins/order", put(order))
        .route(
            "/v1/groups/{group}/plugins/{name}",
            put(enable).delete(disable).get(show_enabled),
        )
}

/// The body is the plugin file itself (`Content-Type: application/wasm`).
async fn install(
    State(kith): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<InstalledPlugin>), ApiError> {
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !(content_type.starts_with("application/wasm")
        || content_type.starts_with("application/octet-stream"))
    {
        return Err(ApiError::UnsupportedMediaType(
            "upload the plugin file as the body with Content-Type: application/wasm".into(),
        ));
    }
    if body.is_empty() {
        return Err(ApiError::BadRequest(
            "the body is empty: upload a .wasm file".into(),
        ));
    }
    Ok((StatusCode::CREATED, Json(kith.install_plugin(&body).await?)))
}

async fn list(State(kith): State<AppState>) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({"plugins": kith.store.list_plugins().await?})))
}

async fn show(
    State(kith): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<InstalledPlugin>, ApiError> {
    Ok(Json(kith.store.get_plugin(&name).await?))
}

async fn enabled(
    State(kith): State<AppState>,
    Path(group): Path<String>,
) -> Result<Json<Value>, ApiError> {
    kith.store.get_group(&group).await?;
    Ok(Json(
        json!({"plugins": kith.store.enablements(&group).await?}),
    ))
}

async fn show_enabled(
    State(kith): State<AppState>,
    Path((group, name)): Path<(String, String)>,
) -> Result<Json<Enablement>, ApiError> {
    Ok(Json(kith.store.get_enablement(&group, &name).await?))
}

#[derive(serde::Serialize)]
struct Enabled {
    enablement: Enablement,
    on_enabled: EventOutcome,
}

async fn enable(
    State(kith): State<AppState>,
    Path((group, name)): Path<(String, String)>,
    Json(input): Json<EnableInput>,
) -> Result<Json<Value>, ApiError> {
    let (enablement, on_enabled) = kith.enable_plugin(&group, &name, input).await?;
    Ok(Json(
        serde_json::to_value(Enabled {
            enablement,
            on_enabled,
        })
        .expect("serializable"),
    ))
}

async fn disable(
    State(kith): State<AppState>,
    Path((group, name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    kith.disable_plugin(&group, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Order {
    plugins: Vec<String>,
}

async fn order(
    State(kith): State<AppState>,
    Path(group): Path<String>,
    Json(o): Json<Order>,
) -> Result<Json<Value>, ApiError> {
    kith.store.get_group(&group).await?;
    Ok(Json(
        json!({"plugins": kith.order_plugins(&group, &o.plugins).await?}),
    ))
}
