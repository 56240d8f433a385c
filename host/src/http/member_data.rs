//! Data requests about one member (GDPR, PIPL): export everything kith
//! holds about them, or erase it, in one group or in every group.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::params::{GroupPath, MemberPath};
use super::{Acting, ApiError, AppState, Json, Path};
use crate::dispatch::{ErasureReport, MemberExport};
use crate::domain::Principal;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export_in_group, erase_in_group))
        .routes(routes!(export_everywhere, erase_everywhere))
}

type Caller = Option<axum::Extension<Principal>>;

/// Export a member's data in a group
///
/// Everything kith holds about the member in the group, as JSON: profile,
/// role, tags, points, balances and ledger entries, messages sent, join
/// requests, plugin storage keys containing the member id, processed events
/// naming them with their invocations, outbox actions naming them, and
/// audit entries about them.
#[utoipa::path(
    get, path = "/v1/groups/{group}/members/{member}/data", operation_id = "exportMemberData",
    tag = "members",
    params(GroupPath, MemberPath),
    responses(
        (status = 200, description = "The member's data in the group (`groups` has one entry).", body = MemberExport),
        (status = 404, description = "No such group."),
    )
)]
async fn export_in_group(
    State(kith): State<AppState>,
    Path((group, member)): Path<(String, String)>,
) -> Result<Json<MemberExport>, ApiError> {
    Ok(Json(
        kith.export_member(Some(&group), &member, &|_| true).await?,
    ))
}

/// Erase a member's data in a group
///
/// Deletes the member's row, tags, join requests, messages and the plugin
/// storage keys containing their id; re-attributes their ledger entries to
/// a new anonymous account `member:erased-<random>` (the group's ledger
/// still sums to zero); replaces their id by the anonymous one in event
/// records, acknowledged outbox actions, mentions, inviters and referrers,
/// drops the logs of invocations of events naming them, and rewrites their
/// id and account in the effects kept for replays and shadow runs. Pending
/// outbox actions and the audit log are kept.
#[utoipa::path(
    delete, path = "/v1/groups/{group}/members/{member}/data", operation_id = "eraseMemberData",
    tag = "members",
    params(GroupPath, MemberPath),
    responses(
        (status = 200, description = "What was erased.", body = ErasureReport),
        (status = 404, description = "No such group."),
    )
)]
async fn erase_in_group(
    State(kith): State<AppState>,
    Acting(actor): Acting,
    Path((group, member)): Path<(String, String)>,
) -> Result<Json<ErasureReport>, ApiError> {
    Ok(Json(
        kith.erase_member(&actor, Some(&group), &member, &|_| true)
            .await?,
    ))
}

/// Export a member's data in every group
///
/// As for one group, for every group with data naming the member; an
/// operator token covers its own groups only.
#[utoipa::path(
    get, path = "/v1/members/{member}/data", operation_id = "exportMemberDataEverywhere",
    tag = "members",
    params(MemberPath),
    responses((status = 200, description = "The member's data, group by group.", body = MemberExport))
)]
async fn export_everywhere(
    State(kith): State<AppState>,
    caller: Caller,
    Path(member): Path<String>,
) -> Result<Json<MemberExport>, ApiError> {
    let allowed = |g: &str| super::auth::visible(caller.as_deref(), g);
    Ok(Json(kith.export_member(None, &member, &allowed).await?))
}

/// Erase a member's data in every group
///
/// As for one group, in every group with data naming the member; an
/// operator token covers its own groups only.
#[utoipa::path(
    delete, path = "/v1/members/{member}/data", operation_id = "eraseMemberDataEverywhere",
    tag = "members",
    params(MemberPath),
    responses((status = 200, description = "What was erased, group by group.", body = ErasureReport))
)]
async fn erase_everywhere(
    State(kith): State<AppState>,
    caller: Caller,
    Acting(actor): Acting,
    Path(member): Path<String>,
) -> Result<Json<ErasureReport>, ApiError> {
    let allowed = |g: &str| super::auth::visible(caller.as_deref(), g);
    Ok(Json(
        kith.erase_member(&actor, None, &member, &allowed).await?,
    ))
}
