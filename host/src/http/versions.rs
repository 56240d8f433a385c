//! Plugin versions: list, uninstall, upgrade (one group or all), rollback.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::params::{GroupPath, PluginPath, VersionPath};
use super::{Acting, ApiError, AppState, Json, Path};
use crate::dispatch::{UpgradeAllInput, UpgradeInput, UpgradeReport, Upgraded, VersionInfo};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(uninstall_version))
        .routes(routes!(uninstall))
        .routes(routes!(upgrade_all))
        .routes(routes!(upgrade))
        .routes(routes!(rollback))
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
