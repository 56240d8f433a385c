//! The adapter's endpoints: events in (idempotent by id), actions out.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, AppState, Json, Query};
use crate::dispatch::EventOutcome;
use crate::domain::{IncomingEvent, OutboxAction};
use crate::store::{LeaseRequest, OutboxState};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ingest))
        .routes(routes!(outbox))
        .routes(routes!(lease))
        .routes(routes!(ack))
}

/// Ingest an event from the adapter
///
/// Processed at most once per event id within its group: a repeated id with
/// the same body returns the recorded outcome with `duplicate: true`; with
/// another body it is a 409. Nothing is recorded on error, so a corrected
/// retry works. Text holding U+0000 is refused (400).
#[utoipa::path(
    post, path = "/v1/events", operation_id = "ingestEvent", tag = "events",
    request_body = IncomingEvent,
    responses(
        (status = 200, description = "The outcome, or the recorded one with `duplicate: true`.", body = EventOutcome),
        (status = 404, description = "No such group, or no such member or message for the event."),
        (status = 409, description = "The event conflicts with the group's state, its id was used in the group with another body, or its payment id was already credited."),
        (status = 422, description = "The event breaks a rule: `at` outside its window, an amount or balance above its ceiling (10^15 minor units), a refund without a matching payment or above what remains of it."),
    )
)]
async fn ingest(
    State(kith): State<AppState>,
    Json(event): Json<IncomingEvent>,
) -> Result<Json<EventOutcome>, ApiError> {
    Ok(Json(kith.ingest(event).await?))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct OutboxQuery {
    /// Only this group's actions.
    group: Option<String>,
    /// Only actions with a larger id (paging); default 0.
    after: Option<i64>,
    /// Default 100; clamped to 1-1000.
    limit: Option<u32>,
    /// `pending` (default): still to deliver; `dead`: set aside after too
    /// many unacknowledged leases.
    state: Option<ListedState>,
}

/// Which actions `GET /v1/outbox` lists.
#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum ListedState {
    Pending,
    Dead,
}

/// Actions for the adapter.
#[derive(Serialize, ToSchema)]
struct OutboxList {
    /// Oldest first.
    actions: Vec<OutboxAction>,
}

/// Unacknowledged actions
#[utoipa::path(
    get, path = "/v1/outbox", operation_id = "listOutbox", tag = "outbox",
    params(OutboxQuery),
    responses((status = 200, description = "The actions.", body = OutboxList))
)]
async fn outbox(
    State(kith): State<AppState>,
    Query(q): Query<OutboxQuery>,
) -> Result<Json<OutboxList>, ApiError> {
    let state = match q.state {
        None | Some(ListedState::Pending) => OutboxState::Pending,
        Some(ListedState::Dead) => OutboxState::Dead,
    };
    let actions = kith
        .store
        .outbox_in(
            state,
            q.group.as_deref(),
            q.after.unwrap_or(0),
            q.limit.unwrap_or(100),
        )
        .await?;
    Ok(Json(OutboxList { actions }))
}

/// The longest lease a worker may ask for, in milliseconds (10 minutes).
const MAX_LEASE_MS: u64 = 600_000;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct LeaseBody {
    /// Only this group's actions.
    group: Option<String>,
    /// At most this many actions; default 100, clamped to 1-1000.
    limit: Option<u32>,
    /// How long the worker has to acknowledge them, in milliseconds;
    /// default 30000, at most 600000.
    #[schema(minimum = 1, maximum = 600000)]
    lease_ms: Option<u64>,
}

/// Lease actions to deliver
///
/// For several adapter workers: each action is leased to one worker at a
/// time, oldest first; a group with a live lease is skipped, so one
/// group's actions are delivered in order by one worker. An action not
/// acknowledged before its lease ends is leased again (its `attempts` grows);
/// after 10 attempts it is set aside as dead (`GET /v1/outbox?state=dead`).
#[utoipa::path(
    post, path = "/v1/outbox/lease", operation_id = "leaseOutbox", tag = "outbox",
    request_body = LeaseBody,
    responses((status = 200, description = "The leased actions, oldest first.", body = OutboxList))
)]
async fn lease(
    State(kith): State<AppState>,
    Json(body): Json<LeaseBody>,
) -> Result<Json<OutboxList>, ApiError> {
    let lease_ms = body.lease_ms.unwrap_or(30_000);
    if !(1..=MAX_LEASE_MS).contains(&lease_ms) {
        return Err(ApiError::BadRequest(format!(
            "lease_ms must be 1-{MAX_LEASE_MS}"
        )));
    }
    let actions = kith
        .store
        .lease_outbox(LeaseRequest {
            group: body.group.as_deref(),
            limit: body.limit.unwrap_or(100),
            now: kith.clock.now(),
            lease_ms: lease_ms as i64,
        })
        .await?;
    Ok(Json(OutboxList { actions }))
}

/// The most ids one acknowledgement may carry.
const MAX_ACK: usize = 1000;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Ack {
    #[schema(max_items = 1000)]
    ids: Vec<i64>,
}

/// How many actions an acknowledgement settled.
#[derive(Serialize, ToSchema)]
struct Acknowledged {
    /// How many actions were newly acknowledged.
    acknowledged: u64,
}

/// Acknowledge actions
///
/// Unknown or already acknowledged ids are ignored. At most 1000 ids (400 otherwise).
#[utoipa::path(
    post, path = "/v1/outbox/ack", operation_id = "ackOutbox", tag = "outbox",
    request_body = Ack,
    responses((status = 200, description = "The count.", body = Acknowledged))
)]
async fn ack(
    State(kith): State<AppState>,
    Json(a): Json<Ack>,
) -> Result<Json<Acknowledged>, ApiError> {
    if a.ids.len() > MAX_ACK {
        return Err(ApiError::BadRequest(format!(
            "acknowledge at most {MAX_ACK} actions at once"
        )));
    }
    let acknowledged = kith.store.ack_outbox(&a.ids, kith.clock.now()).await?;
    Ok(Json(Acknowledged { acknowledged }))
}
