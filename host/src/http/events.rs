//! The adapter's endpoints: events in (idempotent by id), actions out.

use axum::routing::{get, post};
use axum::{extract::State, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{ApiError, AppState, Json, Query};
use crate::dispatch::EventOutcome;
use crate::domain::IncomingEvent;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/events", post(ingest))
        .route("/v1/outbox", get(outbox))
        .route("/v1/outbox/ack", post(ack))
}

/// Processes the event, or returns the recorded outcome (with
/// `duplicate: true`) when its id was processed before.
async fn ingest(
    State(kith): State<AppState>,
    Json(event): Json<IncomingEvent>,
) -> Result<Json<EventOutcome>, ApiError> {
    Ok(Json(kith.ingest(event).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutboxQuery {
    group: Option<String>,
    /// Only actions with a larger id: for paging.
    after: Option<i64>,
    limit: Option<u32>,
}

async fn outbox(
    State(kith): State<AppState>,
    Query(q): Query<OutboxQuery>,
) -> Result<Json<Value>, ApiError> {
    let actions = kith
        .store
        .outbox(
            q.group.as_deref(),
            q.after.unwrap_or(0),
            q.limit.unwrap_or(100),
        )
        .await?;
    Ok(Json(json!({"actions": actions})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Ack {
    ids: Vec<i64>,
}

async fn ack(State(kith): State<AppState>, Json(a): Json<Ack>) -> Result<Json<Value>, ApiError> {
    if a.ids.len() > 1000 {
        return Err(ApiError::BadRequest(
            "acknowledge at most 1000 actions at once".into(),
        ));
    }
    let acked = kith.store.ack_outbox(&a.ids, kith.clock.now()).await?;
    Ok(Json(json!({"acknowledged": acked})))
}
