//! /v1/plugins (install, list, show) and per-group enablement.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::params::{GroupPath, PluginPath};
use super::{Acting, ApiError, AppState, Json, Path};
use crate::dispatch::{EnableInput, Enabled, EnablementList};
use crate::store::{Enablement, InstalledPlugin};

/// Uploads are wasm, so they get their own, larger, limit.
const MAX_UPLOAD: usize = crate::dispatch::MAX_PLUGIN_BYTES;

pub fn routes() -> OpenApiRouter<AppState> {
    let (schemas, paths, uploads) = routes!(list, install);
    let uploads = uploads.layer(axum::extract::DefaultBodyLimit::max(MAX_UPLOAD));
    let (check_schemas, check_paths, checks) = routes!(check);
    let checks = checks.layer(axum::extract::DefaultBodyLimit::max(MAX_UPLOAD));
    OpenApiRouter::new()
        .routes((schemas, paths, uploads))
        .routes((check_schemas, check_paths, checks))
        .routes(routes!(show))
        .routes(routes!(enabled))
        .routes(routes!(order))
        .routes(routes!(enable, disable, show_enabled))
}

/// Install a plugin, or a new version of one
///
/// The body is the plugin file itself. A file of a plugin already installed
/// is kept beside the other versions and becomes the latest: new
/// enablements run it; groups that run an older version keep it until they
/// are upgraded (`POST /v1/groups/{group}/plugins/{name}/upgrade`, or
/// `POST /v1/plugins/{name}/upgrade` for all). 400 for an empty body; 422
/// when the file is not a valid plugin or its metadata is invalid.
#[utoipa::path(
    post, path = "/v1/plugins", operation_id = "installPlugin", tag = "plugins",
    request_body(
        description = "The plugin file (a WebAssembly component), at most 64 MiB.",
        content(("application/wasm"), ("application/octet-stream"))
    ),
    responses(
        (status = 201, description = "The installed plugin.", body = InstalledPlugin),
        (status = 422, description = "Not a valid plugin, or invalid metadata."),
    )
)]
async fn install(
    State(kith): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<InstalledPlugin>), ApiError> {
    let body = wasm_body(&headers, body)?;
    Ok((StatusCode::CREATED, Json(kith.install_plugin(&body).await?)))
}

/// The body of an upload: a wasm file, by its content type, not empty.
fn wasm_body(headers: &HeaderMap, body: Bytes) -> Result<Bytes, ApiError> {
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
    Ok(body)
}

/// One check of `kith test`.
#[derive(Serialize, ToSchema)]
struct CheckResult {
    /// e.g. `world`, `metadata`, `config-defaults`, `determinism`.
    name: String,
    passed: bool,
    /// Why it failed, or the figures when it passed.
    detail: String,
    /// Wall time of the check.
    duration_ms: u64,
}

/// The verdict of `kith test` on a file.
#[derive(Serialize, ToSchema)]
struct CheckReport {
    /// The plugin's name from its metadata, or `unknown`.
    plugin: String,
    /// True if at least one check ran and all passed.
    passed: bool,
    /// The checks in the order they ran; they stop at the first that makes the rest pointless.
    checks: Vec<CheckResult>,
}

/// Check a plugin file without installing it
///
/// Runs the checks `kith test` runs (world, metadata, config defaults,
/// generated events without traps, determinism, budget, ledger, isolation;
/// no scenario files) in a throwaway host and returns the verdict; nothing
/// is installed. A failed check is a 200 with `passed: false`.
#[utoipa::path(
    post, path = "/v1/plugin-checks", operation_id = "checkPlugin", tag = "plugins",
    request_body(
        description = "The plugin file (a WebAssembly component), at most 64 MiB.",
        content(("application/wasm"), ("application/octet-stream"))
    ),
    responses((status = 200, description = "The verdict.", body = CheckReport))
)]
async fn check(headers: HeaderMap, body: Bytes) -> Result<Json<CheckReport>, ApiError> {
    let body = wasm_body(&headers, body)?;
    let report = crate::conformance::run_detached(body.to_vec())
        .await
        .map_err(ApiError::Internal)?;
    Ok(Json(CheckReport {
        plugin: report.plugin.clone(),
        passed: report.passed(),
        checks: report
            .checks
            .into_iter()
            .map(|c| CheckResult {
                name: c.name,
                passed: c.passed,
                detail: c.detail,
                duration_ms: c.duration.as_millis() as u64,
            })
            .collect(),
    }))
}

/// Plugins or enablements.
#[derive(Serialize, ToSchema)]
struct PluginList<T> {
    plugins: Vec<T>,
}

/// List installed plugins
#[utoipa::path(
    get, path = "/v1/plugins", operation_id = "listPlugins", tag = "plugins",
    responses((status = 200, description = "The plugins, ordered by name.", body = PluginList<InstalledPlugin>))
)]
async fn list(State(kith): State<AppState>) -> Result<Json<PluginList<InstalledPlugin>>, ApiError> {
    let plugins = kith.store.list_plugins().await?;
    Ok(Json(PluginList { plugins }))
}

/// Get an installed plugin
#[utoipa::path(
    get, path = "/v1/plugins/{name}", operation_id = "getPlugin", tag = "plugins",
    params(PluginPath),
    responses(
        (status = 200, description = "The plugin.", body = InstalledPlugin),
        (status = 404, description = "No such plugin."),
    )
)]
async fn show(
    State(kith): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<InstalledPlugin>, ApiError> {
    Ok(Json(kith.store.get_plugin(&name).await?))
}

/// A group's enabled plugins
///
/// Switched-off plugins are listed too, with `disabled_reason`; `warnings`
/// names plugins that prefer to run earlier than they do.
#[utoipa::path(
    get, path = "/v1/groups/{group}/plugins", operation_id = "listEnablements", tag = "plugins",
    params(GroupPath),
    responses(
        (status = 200, description = "The enablements, in run order.", body = EnablementList),
        (status = 404, description = "No such group."),
    )
)]
async fn enabled(
    State(kith): State<AppState>,
    Path(group): Path<String>,
) -> Result<Json<EnablementList>, ApiError> {
    Ok(Json(kith.enablement_list(&group).await?))
}

/// Get a plugin's enablement on a group
#[utoipa::path(
    get, path = "/v1/groups/{group}/plugins/{name}", operation_id = "getEnablement", tag = "plugins",
    params(GroupPath, PluginPath),
    responses(
        (status = 200, description = "The enablement.", body = Enablement),
        (status = 404, description = "No such group, or the plugin is not enabled on it."),
    )
)]
async fn show_enabled(
    State(kith): State<AppState>,
    Path((group, name)): Path<(String, String)>,
) -> Result<Json<Enablement>, ApiError> {
    Ok(Json(kith.store.get_enablement(&group, &name).await?))
}

/// Enable or reconfigure a plugin on a group
///
/// Takes effect for the next event. What the body leaves out stays as it
/// is; `config` is merged into the current config (JSON Merge Patch, RFC
/// 7396) unless `replace_config` is true. `enabled_at` stays the time of the
/// first enable. 422 when the config does not match the plugin's schema or a
/// capability is not declared; 400 for out-of-range limits; 409 for an
/// archived group.
#[utoipa::path(
    put, path = "/v1/groups/{group}/plugins/{name}", operation_id = "enablePlugin", tag = "plugins",
    params(GroupPath, PluginPath),
    request_body = EnableInput,
    responses(
        (status = 200, description = "The enablement, the outcome of the plugin's `on-enabled` handler, and warnings about the order.", body = Enabled),
        (status = 404, description = "No such group or plugin."),
        (status = 409, description = "The group is archived."),
    )
)]
async fn enable(
    State(kith): State<AppState>,
    Acting(actor): Acting,
    Path((group, name)): Path<(String, String)>,
    Json(input): Json<EnableInput>,
) -> Result<Json<Enabled>, ApiError> {
    Ok(Json(
        kith.enable_plugin(&actor, &group, &name, input).await?,
    ))
}

/// Disable a plugin on a group
#[utoipa::path(
    delete, path = "/v1/groups/{group}/plugins/{name}", operation_id = "disablePlugin", tag = "plugins",
    params(GroupPath, PluginPath),
    responses(
        (status = 204, description = "Disabled; its storage and timers are kept (the timers paused until it is enabled again) and its place remembered; the others close up."),
        (status = 404, description = "No such group, or the plugin is not enabled on it."),
    )
)]
async fn disable(
    State(kith): State<AppState>,
    Acting(actor): Acting,
    Path((group, name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    kith.disable_plugin(&actor, &group, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Order {
    /// Plugin names to run first, in order; the rest follow in their current order.
    plugins: Vec<String>,
}

/// Set the run order of a group's plugins
///
/// Positions become 0..n in the new order. 422 when a listed plugin is not
/// enabled on the group; 409 for an archived group.
#[utoipa::path(
    put, path = "/v1/groups/{group}/plugins/order", operation_id = "orderPlugins", tag = "plugins",
    params(GroupPath),
    request_body = Order,
    responses(
        (status = 200, description = "The enablements, in the new run order, and warnings about it.", body = EnablementList),
        (status = 404, description = "No such group."),
        (status = 409, description = "The group is archived."),
    )
)]
async fn order(
    State(kith): State<AppState>,
    Acting(actor): Acting,
    Path(group): Path<String>,
    Json(o): Json<Order>,
) -> Result<Json<EnablementList>, ApiError> {
    Ok(Json(kith.order_plugins(&actor, &group, &o.plugins).await?))
}
