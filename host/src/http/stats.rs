//! What the console's overview and charts read: all groups at a glance
//! (`/v1/overview`) and one group's activity per day (`/v1/groups/{group}/stats`).

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::params::GroupPath;
use super::{ApiError, AppState, Json, Path, Query};
use crate::dispatch::{GroupStats, GroupSummary};
use crate::domain::Principal;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(overview))
        .routes(routes!(group_stats))
}

/// Every group at a glance.
#[derive(Serialize, ToSchema)]
struct Overview {
    /// Ordered by id; an operator token sees only its groups.
    groups: Vec<GroupSummary>,
}

/// All groups at a glance
///
/// Per group: active members, joins and leaves in the last 7 local days,
/// members' messages per day over them, the enabled plugins in order, those
/// failing and those the host switched off. An operator token sees only its
/// groups.
#[utoipa::path(
    get, path = "/v1/overview", operation_id = "getOverview", tag = "groups",
    responses((status = 200, description = "The groups, each summed up.", body = Overview))
)]
async fn overview(
    State(kith): State<AppState>,
    principal: Option<axum::Extension<Principal>>,
) -> Result<Json<Overview>, ApiError> {
    let groups = kith
        .groups_overview(|g| super::auth::visible(principal.as_deref(), g))
        .await?;
    Ok(Json(Overview { groups }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct StatsQuery {
    /// How many local days, today included; default 30, 1-366.
    days: Option<u32>,
}

/// A group's activity per day and its funnel
///
/// For each of the last `days` local days (the group's time zone): active
/// members at the end of the day (counted back from today with the joins
/// and recorded leaves), joins, leaves and removals, members' messages, and
/// check-ins (points a `daily-checkin` plugin awarded). The funnel counts
/// today's active members: all, those active within the period, those with
/// a paid tier still running, VIPs (role, tag or paid tier `vip`).
#[utoipa::path(
    get, path = "/v1/groups/{group}/stats", operation_id = "getGroupStats", tag = "groups",
    params(GroupPath, StatsQuery),
    responses(
        (status = 200, description = "The days, oldest first, and the funnel.", body = GroupStats),
        (status = 404, description = "No such group."),
    )
)]
async fn group_stats(
    State(kith): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<StatsQuery>,
) -> Result<Json<GroupStats>, ApiError> {
    Ok(Json(kith.group_stats(&id, q.days.unwrap_or(30)).await?))
}
