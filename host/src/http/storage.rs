//! A plugin's storage on a group, for operators and plugin authors to look
//! at on a live host (read-only: plugins own their storage).

use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::params::{GroupPath, PluginPath};
use super::{ApiError, AppState, Json, Path};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct StorageQuery {
    /// Only keys starting with this.
    prefix: Option<String>,
    /// Default 100; clamped to 1-1000.
    limit: Option<u32>,
}

/// One stored value.
#[derive(Serialize, ToSchema)]
struct StorageEntry {
    key: String,
    /// The value as text when it is UTF-8, else as hex (see `encoding`).
    value: String,
    /// `utf-8` or `hex`.
    encoding: &'static str,
    /// The value's length in bytes.
    bytes: usize,
}

/// A plugin's stored values.
#[derive(Serialize, ToSchema)]
struct StorageList {
    /// By key.
    entries: Vec<StorageEntry>,
}

/// Read a plugin's storage on a group
///
/// What the plugin stored (`storage.set`), by key; the plugin need not be
/// enabled now (storage outlives a disable).
#[utoipa::path(
    get, path = "/v1/groups/{group}/plugins/{name}/storage", operation_id = "listStorage",
    tag = "plugins",
    params(GroupPath, PluginPath, StorageQuery),
    responses(
        (status = 200, description = "The values, by key.", body = StorageList),
        (status = 404, description = "No such group."),
    )
)]
async fn list(
    State(kith): State<AppState>,
    Path((group, plugin)): Path<(String, String)>,
    Query(q): Query<StorageQuery>,
) -> Result<Json<StorageList>, ApiError> {
    kith.store.get_group(&group).await?;
    let prefix = q.prefix.unwrap_or_default();
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let keys = kith
        .store
        .storage_keys(&plugin, &group, &prefix, limit)
        .await?;
    let mut entries = vec![];
    for key in keys {
        let bytes = kith
            .store
            .storage_get(&plugin, &group, &key)
            .await?
            .unwrap_or_default();
        let (value, encoding) = match String::from_utf8(bytes.clone()) {
            Ok(text) => (text, "utf-8"),
            Err(_) => (hex::encode(&bytes), "hex"),
        };
        entries.push(StorageEntry {
            key,
            value,
            encoding,
            bytes: bytes.len(),
        });
    }
    Ok(Json(StorageList { entries }))
}
