//! /v1/groups: create, list, get, update; a group's ledger and invocations.

use axum::http::StatusCode;
use axum::routing::get;
use axum::{extract::State, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{ApiError, AppState, Json, Path, Query};
use crate::dispatch::GroupInput;
use crate::domain::{Account, Asset, Group};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/groups", get(list).post(create))
        .route("/v1/groups/{group}", get(show).patch(update))
        .route("/v1/groups/{group}/ledger", get(ledger_totals))
        .route("/v1/groups/{group}/ledger/{account}", get(account))
        .route("/v1/groups/{group}/invocations", get(invocations))
        .route("/v1/groups/{group}/timers", get(timers))
}

fn group_json(g: Group, counts: crate::domain::GroupCounts) -> Value {
    let mut v = serde_json::to_value(g).expect("serializable");
    v["counts"] = serde_json::to_value(counts).expect("serializable");
    v
}

async fn create(
    State(kith): State<AppState>,
    Json(input): Json<GroupInput>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let g = kith.create_group(input).await?;
    Ok((StatusCode::CREATED, Json(group_json(g, Default::default()))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    parent: Option<String>,
}

async fn list(
    State(kith): State<AppState>,
    principal: Option<axum::Extension<crate::domain::Principal>>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let mut groups = kith.store.list_groups(q.parent.as_deref()).await?;
    // An operator sees the groups they run.
    groups.retain(|g| super::auth::visible(principal.as_deref(), &g.id));
    Ok(Json(json!({"groups": groups})))
}

async fn show(
    State(kith): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let g = kith.store.get_group(&id).await?;
    let counts = kith.store.counts(&id).await?;
    Ok(Json(group_json(g, counts)))
}

async fn update(
    State(kith): State<AppState>,
    Path(id): Path<String>,
    Json(input): Json<GroupInput>,
) -> Result<Json<Value>, ApiError> {
    let g = kith.update_group(&id, input).await?;
    let counts = kith.store.counts(&id).await?;
    Ok(Json(group_json(g, counts)))
}

/// Every asset's sum over all accounts: zero unless value was created or lost.
async fn ledger_totals(
    State(kith): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    kith.store.get_group(&id).await?;
    let mut sums = serde_json::Map::new();
    for asset in Asset::ALL {
        sums.insert(
            asset.to_string(),
            json!(kith.store.ledger_sum(&id, *asset).await?),
        );
    }
    Ok(Json(json!({"group": id, "sums": sums})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountQuery {
    asset: Option<Asset>,
    limit: Option<u32>,
}

async fn account(
    State(kith): State<AppState>,
    Path((id, account)): Path<(String, String)>,
    Query(q): Query<AccountQuery>,
) -> Result<Json<Value>, ApiError> {
    Account::parse(&account).map_err(ApiError::BadRequest)?;
    kith.store.get_group(&id).await?;
    let asset = q.asset.unwrap_or(Asset::Points);
    let balance = kith.store.balance(&id, &account, asset).await?;
    let entries = kith
        .store
        .ledger_history(&id, &account, asset, q.limit.unwrap_or(50))
        .await?;
    Ok(Json(
        json!({"account": account, "asset": asset, "balance": balance, "entries": entries}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InvocationQuery {
    plugin: Option<String>,
    limit: Option<u32>,
}

async fn invocations(
    State(kith): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<InvocationQuery>,
) -> Result<Json<Value>, ApiError> {
    kith.store.get_group(&id).await?;
    let list = kith
        .store
        .invocations(&id, q.plugin.as_deref(), q.limit.unwrap_or(50))
        .await?;
    Ok(Json(json!({"invocations": list})))
}

async fn timers(
    State(kith): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    kith.store.get_group(&id).await?;
    Ok(Json(json!({"timers": kith.store.timers(&id).await?})))
}
