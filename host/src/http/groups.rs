//! /v1/groups: create, list, get, update, archive, delete; a group's ledger,
//! invocations, timers and audit log.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::params::{AccountPath, GroupPath};
use super::{Acting, ApiError, AppState, Json, Path, Query};
use crate::dispatch::GroupInput;
use crate::domain::{Account, Asset, AuditEntry, Group, GroupCounts, LedgerEntry};
use crate::store::Timer;
use crate::store::{Invocation, RecordedEvent};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update, delete))
        .routes(routes!(archive))
        .routes(routes!(unarchive))
        .routes(routes!(audit))
        .routes(routes!(ledger_totals))
        .routes(routes!(account))
        .routes(routes!(invocations))
        .routes(routes!(events))
        .routes(routes!(timers))
}

/// A group with its member counts.
#[derive(Serialize, ToSchema)]
struct GroupWithCounts {
    #[serde(flatten)]
    group: Group,
    counts: GroupCounts,
}

/// The groups.
#[derive(Serialize, ToSchema)]
struct GroupList {
    /// Ordered by id; without counts.
    groups: Vec<Group>,
}

/// Create a group
///
/// `name` is required. 409 when the id is taken; 400 for invalid values or an unknown parent.
#[utoipa::path(
    post, path = "/v1/groups", operation_id = "createGroup", tag = "groups",
    request_body = GroupInput,
    responses(
        (status = 201, description = "The created group.", body = GroupWithCounts),
        (status = 409, description = "The id is taken."),
    )
)]
async fn create(
    State(kith): State<AppState>,
    Json(input): Json<GroupInput>,
) -> Result<(StatusCode, Json<GroupWithCounts>), ApiError> {
    let group = kith.create_group(input).await?;
    let counts = GroupCounts::default();
    Ok((StatusCode::CREATED, Json(GroupWithCounts { group, counts })))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only groups whose parent is this group id.
    parent: Option<String>,
}

/// List groups
#[utoipa::path(
    get, path = "/v1/groups", operation_id = "listGroups", tag = "groups",
    params(ListQuery),
    responses((status = 200, description = "The groups.", body = GroupList))
)]
async fn list(
    State(kith): State<AppState>,
    principal: Option<axum::Extension<crate::domain::Principal>>,
    Query(q): Query<ListQuery>,
) -> Result<Json<GroupList>, ApiError> {
    let mut groups = kith.store.list_groups(q.parent.as_deref()).await?;
    // An operator sees the groups they run.
    groups.retain(|g| super::auth::visible(principal.as_deref(), &g.id));
    Ok(Json(GroupList { groups }))
}

/// Get a group
#[utoipa::path(
    get, path = "/v1/groups/{group}", operation_id = "getGroup", tag = "groups",
    params(GroupPath),
    responses(
        (status = 200, description = "The group.", body = GroupWithCounts),
        (status = 404, description = "No such group."),
    )
)]
async fn show(
    State(kith): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<GroupWithCounts>, ApiError> {
    let group = kith.store.get_group(&id).await?;
    let counts = kith.store.counts(&id).await?;
    Ok(Json(GroupWithCounts { group, counts }))
}

/// Update a group
///
/// Only fields present and not null change; a field cannot be cleared. The id cannot change.
/// Setting `parent` needs rights over the parent group too (403 otherwise, whether or not it exists).
#[utoipa::path(
    patch, path = "/v1/groups/{group}", operation_id = "updateGroup", tag = "groups",
    params(GroupPath),
    request_body = GroupInput,
    responses(
        (status = 200, description = "The updated group.", body = GroupWithCounts),
        (status = 404, description = "No such group."),
    )
)]
async fn update(
    State(kith): State<AppState>,
    principal: Option<axum::Extension<crate::domain::Principal>>,
    Acting(actor): Acting,
    Path(id): Path<String>,
    Json(input): Json<GroupInput>,
) -> Result<Json<GroupWithCounts>, ApiError> {
    // Joining an alliance sends its overflow newcomers here: it needs
    // rights over the parent too, and whether a group the caller cannot
    // manage exists is not told.
    if let Some(parent) = &input.parent {
        if !super::auth::visible(principal.as_deref(), parent) {
            return Err(ApiError::Forbidden(format!(
                "setting parent {parent:?} needs a token that manages it"
            )));
        }
    }
    let group = kith.update_group(&actor, &id, input).await?;
    let counts = kith.store.counts(&id).await?;
    Ok(Json(GroupWithCounts { group, counts }))
}

/// Delete a group with its data
///
/// Members, messages, ledger, plugin data, events and the audit log go with
/// it; there is no undo (archive keeps the data). Admins only. 409 while other
/// groups have it as their parent.
#[utoipa::path(
    delete, path = "/v1/groups/{group}", operation_id = "deleteGroup", tag = "groups",
    params(GroupPath),
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = "No such group."),
        (status = 409, description = "Other groups have it as their parent."),
    )
)]
async fn delete(
    State(kith): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    kith.delete_group(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Archive a group
///
/// Read-only from then on: events and changes are refused (409), plugins do
/// not run and timers wait; the data is kept and stays readable. Idempotent.
#[utoipa::path(
    post, path = "/v1/groups/{group}/archive", operation_id = "archiveGroup", tag = "groups",
    params(GroupPath),
    responses(
        (status = 200, description = "The archived group.", body = Group),
        (status = 404, description = "No such group."),
    )
)]
async fn archive(
    State(kith): State<AppState>,
    Acting(actor): Acting,
    Path(id): Path<String>,
) -> Result<Json<Group>, ApiError> {
    Ok(Json(kith.archive_group(&actor, &id, true).await?))
}

/// Bring an archived group back
///
/// Its plugins run again; timers that fell due meanwhile fire once. Idempotent.
#[utoipa::path(
    post, path = "/v1/groups/{group}/unarchive", operation_id = "unarchiveGroup", tag = "groups",
    params(GroupPath),
    responses(
        (status = 200, description = "The group, live again.", body = Group),
        (status = 404, description = "No such group."),
    )
)]
async fn unarchive(
    State(kith): State<AppState>,
    Acting(actor): Acting,
    Path(id): Path<String>,
) -> Result<Json<Group>, ApiError> {
    Ok(Json(kith.archive_group(&actor, &id, false).await?))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// Only entries older than this id (for paging).
    before: Option<i64>,
    /// Default 50; clamped to 1-1000.
    limit: Option<u32>,
}

/// A group's audit log.
#[derive(Serialize, ToSchema)]
struct AuditLog {
    /// Newest first.
    entries: Vec<AuditEntry>,
}

/// A group's audit log
///
/// Who enabled, configured, reordered or disabled plugins, changed the
/// group, archived it, reviewed join requests or changed members, when, and
/// with which token; also plugins the host switched off. Append-only.
#[utoipa::path(
    get, path = "/v1/groups/{group}/audit", operation_id = "listAudit", tag = "groups",
    params(GroupPath, AuditQuery),
    responses(
        (status = 200, description = "The entries.", body = AuditLog),
        (status = 404, description = "No such group."),
    )
)]
async fn audit(
    State(kith): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<AuditQuery>,
) -> Result<Json<AuditLog>, ApiError> {
    kith.store.get_group(&id).await?;
    let entries = kith
        .store
        .audit_log(&id, q.before, q.limit.unwrap_or(50))
        .await?;
    Ok(Json(AuditLog { entries }))
}

/// A group's ledger sums.
#[derive(Serialize, ToSchema)]
struct LedgerTotals {
    group: String,
    sums: AssetSums,
}

/// Sum of every account's balance per asset: zero unless value was created or lost.
#[derive(Serialize, ToSchema)]
struct AssetSums {
    points: i64,
    money: i64,
}

/// Ledger sums per asset
#[utoipa::path(
    get, path = "/v1/groups/{group}/ledger", operation_id = "getLedgerTotals", tag = "ledger",
    params(GroupPath),
    responses(
        (status = 200, description = "The sums.", body = LedgerTotals),
        (status = 404, description = "No such group."),
    )
)]
async fn ledger_totals(
    State(kith): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<LedgerTotals>, ApiError> {
    kith.store.get_group(&id).await?;
    let sums = AssetSums {
        points: kith.store.ledger_sum(&id, Asset::Points).await?,
        money: kith.store.ledger_sum(&id, Asset::Money).await?,
    };
    Ok(Json(LedgerTotals { group: id, sums }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct AccountQuery {
    /// Defaults to points.
    asset: Option<Asset>,
    /// Most entries to return; default 50, at most 1000.
    limit: Option<u32>,
}

/// An account's balance and recent entries.
#[derive(Serialize, ToSchema)]
struct AccountHistory {
    account: String,
    asset: Asset,
    balance: i64,
    /// Newest first.
    entries: Vec<LedgerEntry>,
}

/// An account's balance and history
#[utoipa::path(
    get, path = "/v1/groups/{group}/ledger/{account}", operation_id = "getLedgerAccount",
    tag = "ledger",
    params(GroupPath, AccountPath, AccountQuery),
    responses(
        (status = 200, description = "The account.", body = AccountHistory),
        (status = 404, description = "No such group."),
    )
)]
async fn account(
    State(kith): State<AppState>,
    Path((id, account)): Path<(String, String)>,
    Query(q): Query<AccountQuery>,
) -> Result<Json<AccountHistory>, ApiError> {
    Account::parse(&account).map_err(ApiError::BadRequest)?;
    kith.store.get_group(&id).await?;
    let asset = q.asset.unwrap_or(Asset::Points);
    let balance = kith.store.balance(&id, &account, asset).await?;
    let entries = kith
        .store
        .ledger_history(&id, &account, asset, q.limit.unwrap_or(50))
        .await?;
    Ok(Json(AccountHistory {
        account,
        asset,
        balance,
        entries,
    }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct InvocationQuery {
    /// Only this plugin's invocations.
    plugin: Option<String>,
    /// Default 50; clamped to 1-1000.
    limit: Option<u32>,
}

/// Recorded plugin invocations.
#[derive(Serialize, ToSchema)]
struct InvocationList {
    /// Newest first.
    invocations: Vec<Invocation>,
}

/// Recent plugin invocations
#[utoipa::path(
    get, path = "/v1/groups/{group}/invocations", operation_id = "listInvocations",
    tag = "plugins",
    params(GroupPath, InvocationQuery),
    responses(
        (status = 200, description = "The invocations.", body = InvocationList),
        (status = 404, description = "No such group."),
    )
)]
async fn invocations(
    State(kith): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<InvocationQuery>,
) -> Result<Json<InvocationList>, ApiError> {
    kith.store.get_group(&id).await?;
    let invocations = kith
        .store
        .invocations(&id, q.plugin.as_deref(), q.limit.unwrap_or(50))
        .await?;
    Ok(Json(InvocationList { invocations }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct EventQuery {
    /// Default 50; clamped to 1-1000.
    limit: Option<u32>,
}

/// A group's recorded events.
#[derive(Serialize, ToSchema)]
struct EventList {
    /// Newest first.
    events: Vec<RecordedEvent>,
}

/// A group's processed events
///
/// Each as it came in, or as the host made it (a timer firing, a plugin
/// enabled, an operator's review, addition or removal), with its outcome;
/// with the invocations (`/invocations`: versions and effects) this is the
/// group's history.
#[utoipa::path(
    get, path = "/v1/groups/{group}/events", operation_id = "listEvents", tag = "events",
    params(GroupPath, EventQuery),
    responses(
        (status = 200, description = "The events, newest first.", body = EventList),
        (status = 404, description = "No such group."),
    )
)]
async fn events(
    State(kith): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<EventQuery>,
) -> Result<Json<EventList>, ApiError> {
    kith.store.get_group(&id).await?;
    let events = kith
        .store
        .recorded_events(&id, q.limit.unwrap_or(50))
        .await?;
    Ok(Json(EventList { events }))
}

/// A group's plugin timers.
#[derive(Serialize, ToSchema)]
struct TimerList {
    /// Ordered by due time.
    timers: Vec<Timer>,
}

/// A group's plugin timers
#[utoipa::path(
    get, path = "/v1/groups/{group}/timers", operation_id = "listTimers", tag = "plugins",
    params(GroupPath),
    responses(
        (status = 200, description = "The timers.", body = TimerList),
        (status = 404, description = "No such group."),
    )
)]
async fn timers(
    State(kith): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<TimerList>, ApiError> {
    kith.store.get_group(&id).await?;
    let timers = kith.store.timers(&id).await?;
    Ok(Json(TimerList { timers }))
}
