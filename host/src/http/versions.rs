//! Plugin versions: list, uninstall, upgrade (one group or all), rollback.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::params::{GroupPath, PluginPath, VersionPath};
use super::{Acting, ApiError, AppState, Json, Path};
use crate::dispatch::{
    ReplayOptions, ReplayReport, ShadowInput, ShadowReport, UpgradeAllInput, UpgradeInput,
    UpgradeReport, Upgraded, VersionInfo, MAX_PLUGIN_BYTES,
};
use crate::domain::Millis;

pub fn routes() -> OpenApiRouter<AppState> {
    // The candidate file is the body: uploads' own, larger, limit.
    let (schemas, paths, uploads) = routes!(replay);
    let uploads = uploads.layer(axum::extract::DefaultBodyLimit::max(MAX_PLUGIN_BYTES));
    OpenApiRouter::new()
        .routes((schemas, paths, uploads))
        .routes(routes!(list))
        .routes(routes!(uninstall_version))
        .routes(routes!(uninstall))
        .routes(routes!(upgrade_all))
        .routes(routes!(upgrade))
        .routes(routes!(rollback))
        .routes(routes!(start_shadow, shadow_report, stop_shadow))
        .routes(routes!(promote))
}

/// A plugin's versions.
#[derive(Serialize, ToSchema)]
struct VersionList {
    /// Newest first.
    versions: Vec<VersionInfo>,
}

/// List a plugin's installed versions
///
/// Each with where it runs and where a rollback would bring it back.
#[utoipa::path(
    get, path = "/v1/plugins/{name}/versions", operation_id = "listPluginVersions", tag = "plugins",
    params(PluginPath),
    responses(
        (status = 200, description = "The versions, newest first.", body = VersionList),
        (status = 404, description = "No such plugin."),
    )
)]
async fn list(
    State(kith): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<VersionList>, ApiError> {
    let versions = kith.plugin_versions(&name).await?;
    Ok(Json(VersionList { versions }))
}

/// Uninstall one version of a plugin
///
/// 409 naming the groups when an enablement runs it or would roll back to
/// it. If it was the latest, the newest remaining version becomes the
/// latest; the last version takes the plugin's name with it.
#[utoipa::path(
    delete, path = "/v1/plugins/{name}/versions/{version}", operation_id = "uninstallPluginVersion",
    tag = "plugins",
    params(PluginPath, VersionPath),
    responses(
        (status = 204, description = "Uninstalled."),
        (status = 404, description = "No such plugin or version."),
        (status = 409, description = "The version is in use; the message names the groups."),
        (status = 422, description = "The version string names several builds."),
    )
)]
async fn uninstall_version(
    State(kith): State<AppState>,
    Path((name, version)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    kith.uninstall_plugin(&name, Some(&version)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Uninstall a plugin, every version
///
/// 409 naming the groups when any version is in use.
#[utoipa::path(
    delete, path = "/v1/plugins/{name}", operation_id = "uninstallPlugin", tag = "plugins",
    params(PluginPath),
    responses(
        (status = 204, description = "Uninstalled."),
        (status = 404, description = "No such plugin."),
        (status = 409, description = "A version is in use; the message names the groups."),
    )
)]
async fn uninstall(
    State(kith): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    kith.uninstall_plugin(&name, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Upgrade a plugin on every group
///
/// Every enablement that runs another version moves to `to` (default: the
/// latest). All are checked first: if any group's config does not fit the
/// new schema (give it in `configs`), or the world changed, nothing changes
/// and the 422 names each group and why. `dry_run` reports without changing.
#[utoipa::path(
    post, path = "/v1/plugins/{name}/upgrade", operation_id = "upgradePluginEverywhere",
    tag = "plugins",
    params(PluginPath),
    request_body = UpgradeAllInput,
    responses(
        (status = 200, description = "What each group's upgrade did (or would do).", body = UpgradeReport),
        (status = 404, description = "No such plugin or version."),
        (status = 422, description = "Some group cannot be upgraded: nothing changed."),
    )
)]
async fn upgrade_all(
    State(kith): State<AppState>,
    Acting(actor): Acting,
    Path(name): Path<String>,
    Json(input): Json<UpgradeAllInput>,
) -> Result<Json<UpgradeReport>, ApiError> {
    Ok(Json(kith.upgrade_everywhere(&actor, &name, input).await?))
}

/// Upgrade a plugin on a group
///
/// Moves the enablement to version `to` (default: the latest) and runs its
/// `on-enabled` again; storage and timers stay. The config must fit the new
/// schema (or give a new `config`); capabilities the new version adds are
/// granted only when listed in `grant`. 422 for a change of world; 409 when
/// it already runs that version. `dry_run` reports without changing.
#[utoipa::path(
    post, path = "/v1/groups/{group}/plugins/{name}/upgrade", operation_id = "upgradePlugin",
    tag = "plugins",
    params(GroupPath, PluginPath),
    request_body = UpgradeInput,
    responses(
        (status = 200, description = "The upgrade: versions, capability changes, the enablement, what on-enabled did.", body = Upgraded),
        (status = 404, description = "No such group, enablement or version."),
        (status = 409, description = "It already runs that version, or the group is archived."),
        (status = 422, description = "Another world, a config the new schema refuses, or a grant not declared."),
    )
)]
async fn upgrade(
    State(kith): State<AppState>,
    Acting(actor): Acting,
    Path((group, name)): Path<(String, String)>,
    Json(input): Json<UpgradeInput>,
) -> Result<Json<Upgraded>, ApiError> {
    Ok(Json(
        kith.upgrade_plugin(&actor, &group, &name, input).await?,
    ))
}

/// Roll a plugin back on a group
///
/// Back to the version, config and grant it ran before its last upgrade,
/// and `on-enabled` again; a second rollback undoes the first.
#[utoipa::path(
    post, path = "/v1/groups/{group}/plugins/{name}/rollback", operation_id = "rollbackPlugin",
    tag = "plugins",
    params(GroupPath, PluginPath),
    responses(
        (status = 200, description = "The rollback, as an upgrade to the previous version.", body = Upgraded),
        (status = 404, description = "No such group or enablement, or the previous version was uninstalled."),
        (status = 409, description = "It was never upgraded, or the group is archived."),
    )
)]
async fn rollback(
    State(kith): State<AppState>,
    Acting(actor): Acting,
    Path((group, name)): Path<(String, String)>,
) -> Result<Json<Upgraded>, ApiError> {
    Ok(Json(kith.rollback_plugin(&actor, &group, &name).await?))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ReplayQuery {
    /// Compare the events processed at or after this time (Unix epoch
    /// milliseconds); earlier ones are replayed, not compared.
    since: Option<Millis>,
    /// Replay nothing processed after this time (Unix epoch milliseconds).
    until: Option<Millis>,
    /// The candidate's config, as JSON; default: the enabled version's.
    config: Option<String>,
}

/// Replay a group's history with a candidate plugin file
///
/// The body is the candidate file, a version of a plugin enabled on the
/// group. Every recorded event of the group is replayed in a throw-away
/// copy (nothing here changes) with only the candidate enabled, and its
/// effects compared, event by event, with what the enabled version did.
/// `differing` is 0 when the candidate does exactly what the live version
/// did. 422 for a file that is not a plugin or a config its schema refuses.
#[utoipa::path(
    post, path = "/v1/groups/{group}/replay", operation_id = "replay", tag = "plugins",
    params(GroupPath, ReplayQuery),
    request_body(
        description = "The candidate plugin file (a WebAssembly component).",
        content(("application/wasm"), ("application/octet-stream"))
    ),
    responses(
        (status = 200, description = "Where the candidate differs, with totals.", body = ReplayReport),
        (status = 404, description = "No such group, or the plugin is not enabled on it."),
        (status = 422, description = "Not a plugin, or a config the candidate's schema refuses."),
    )
)]
async fn replay(
    State(kith): State<AppState>,
    Path(group): Path<String>,
    Query(q): Query<ReplayQuery>,
    body: Bytes,
) -> Result<Json<ReplayReport>, ApiError> {
    if body.is_empty() {
        return Err(ApiError::BadRequest(
            "the body is empty: send the candidate .wasm file".into(),
        ));
    }
    let config = q
        .config
        .map(|text| serde_json::from_str(&text))
        .transpose()
        .map_err(|e| ApiError::BadRequest(format!("config is not JSON: {e}")))?;
    let options = ReplayOptions {
        since: q.since,
        until: q.until,
        config,
    };
    Ok(Json(kith.replay(&group, &body, options).await?))
}

/// Run a candidate version in shadow
///
/// Beside the live version: it sees the same events (the same state and
/// earlier plugins' effects, the same random draws), its effects are
/// recorded beside the live version's and never applied, its failures
/// count against nothing. 422 for another world or a config the
/// candidate's schema refuses (give `config`).
#[utoipa::path(
    put, path = "/v1/groups/{group}/plugins/{name}/shadow", operation_id = "startShadow",
    tag = "plugins",
    params(GroupPath, PluginPath),
    request_body = ShadowInput,
    responses(
        (status = 200, description = "The shadow, with no runs yet.", body = ShadowReport),
        (status = 404, description = "No such group, enablement or version."),
        (status = 422, description = "Another world, or a config the candidate refuses."),
    )
)]
async fn start_shadow(
    State(kith): State<AppState>,
    Acting(actor): Acting,
    Path((group, name)): Path<(String, String)>,
    Json(input): Json<ShadowInput>,
) -> Result<Json<ShadowReport>, ApiError> {
    Ok(Json(kith.start_shadow(&actor, &group, &name, input).await?))
}

/// How the version in shadow compares so far
#[utoipa::path(
    get, path = "/v1/groups/{group}/plugins/{name}/shadow", operation_id = "getShadow",
    tag = "plugins",
    params(GroupPath, PluginPath),
    responses(
        (status = 200, description = "Runs, how many differ, the latest differing ones.", body = ShadowReport),
        (status = 404, description = "No version runs in shadow there."),
    )
)]
async fn shadow_report(
    State(kith): State<AppState>,
    Path((group, name)): Path<(String, String)>,
) -> Result<Json<ShadowReport>, ApiError> {
    Ok(Json(kith.shadow_report(&group, &name).await?))
}

/// Stop a shadow run
#[utoipa::path(
    delete, path = "/v1/groups/{group}/plugins/{name}/shadow", operation_id = "stopShadow",
    tag = "plugins",
    params(GroupPath, PluginPath),
    responses(
        (status = 204, description = "Stopped; its record stays."),
        (status = 404, description = "No version runs in shadow there."),
    )
)]
async fn stop_shadow(
    State(kith): State<AppState>,
    Acting(actor): Acting,
    Path((group, name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    kith.stop_shadow(&actor, &group, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Promote the version in shadow
///
/// An upgrade to it, with its config; the shadow ends.
#[utoipa::path(
    post, path = "/v1/groups/{group}/plugins/{name}/shadow/promote", operation_id = "promoteShadow",
    tag = "plugins",
    params(GroupPath, PluginPath),
    responses(
        (status = 200, description = "The upgrade.", body = Upgraded),
        (status = 404, description = "No version runs in shadow there."),
    )
)]
async fn promote(
    State(kith): State<AppState>,
    Acting(actor): Acting,
    Path((group, name)): Path<(String, String)>,
) -> Result<Json<Upgraded>, ApiError> {
    Ok(Json(kith.promote_shadow(&actor, &group, &name).await?))
}
