//! Token checks on every route, and /v1/tokens for admins.

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{delete, get};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{ApiError, AppState, Json, Path};
use crate::domain::{is_public, may, GroupId, Principal, Scope};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/tokens", get(list).post(create))
        .route("/v1/tokens/{id}", delete(remove))
}

/// Rejects a request whose token is missing (401) or does not allow the
/// route (403). The route is the matched pattern, so a path parameter
/// cannot smuggle in another route's rights. Secrets are never logged.
pub async fn check(
    State(kith): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_default();
    let method = request.method().as_str().to_string();
    if !kith.auth_required() || is_public(&method, &route) {
        return Ok(next.run(request).await);
    }
    let header = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let Some(principal) = kith.authenticate(header).await? else {
        return Err(ApiError::Unauthorized(
            "a valid API token is required: Authorization: Bearer <token>".into(),
        ));
    };
    // /v1/groups/{group}/…: the group is the third segment.
    let group = route
        .starts_with("/v1/groups/{group}")
        .then(|| {
            request
                .uri()
                .path()
                .split('/')
                .nth(3)
                .map(|g| percent_decode(g))
        })
        .flatten();
    if !may(&principal, &method, &route, group.as_deref()) {
        return Err(ApiError::Forbidden(format!(
            "a {} token may not call {method} {route}",
            principal.scope
        )));
    }
    request.extensions_mut().insert(principal);
    Ok(next.run(request).await)
}

fn percent_decode(segment: &str) -> String {
    url::form_urlencoded::parse(segment.as_bytes())
        .map(|(k, v)| {
            if v.is_empty() {
                k.into_owned()
            } else {
                format!("{k}={v}")
            }
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    name: String,
    scope: Scope,
    #[serde(default)]
    groups: Vec<GroupId>,
}

async fn create(
    State(kith): State<AppState>,
    Json(t): Json<NewToken>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (id, secret) = kith
        .create_token(&t.name, t.scope, t.groups.clone())
        .await?;
    let body =
        json!({"id": id, "name": t.name, "scope": t.scope, "groups": t.groups, "token": secret});
    Ok((StatusCode::CREATED, Json(body)))
}

async fn list(State(kith): State<AppState>) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({"tokens": kith.store.tokens().await?})))
}

async fn remove(
    State(kith): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    kith.delete_token(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// For operators, the groups a list may show.
pub fn visible(principal: Option<&Principal>, group: &str) -> bool {
    principal.is_none_or(|p| p.scope != Scope::Operator || p.groups.iter().any(|g| g == group))
}
