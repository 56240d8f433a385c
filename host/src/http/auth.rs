//! Token checks on every route, and /v1/tokens for admins.

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::params::TokenPath;
use super::{ApiError, AppState, Json, Path};
use crate::dispatch::{Authentication, Expiry};
use crate::domain::{is_public, may, GroupId, Millis, Principal, Scope};
use crate::edge::RateLimits;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(remove))
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
    let principal = match kith.authenticate(header).await? {
        Authentication::Valid(principal) => principal,
        Authentication::Invalid => {
            return Err(ApiError::Unauthorized(
                "a valid API token is required: Authorization: Bearer <token>".into(),
            ))
        }
        Authentication::Expired(at) => {
            return Err(ApiError::Unauthorized(format!(
                "this API token expired at {} ({at}); ask an admin for a new one",
                utc(at)
            )))
        }
    };
    // /v1/groups/{group}/…: the group is the third segment.
    let group = route
        .starts_with("/v1/groups/{group}")
        .then(|| request.uri().path().split('/').nth(3).map(percent_decode))
        .flatten();
    if !may(&principal, &method, &route, group.as_deref()) {
        return Err(ApiError::Forbidden(format!(
            "a {} token may not call {method} {route}",
            principal.scope
        )));
    }
    // Set by the server (host/src/edge); absent when the router is called directly.
    if let Some(limits) = request.extensions().get::<std::sync::Arc<RateLimits>>() {
        limits.check_token(&principal.token_id)?;
    }
    request.extensions_mut().insert(principal);
    Ok(next.run(request).await)
}

/// A time as UTC text, e.g. `2025-01-01T00:00:00.000Z`.
fn utc(at: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(at)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| at.to_string())
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewToken {
    name: String,
    scope: Scope,
    /// For operator tokens: the groups they may manage.
    #[serde(default)]
    groups: Vec<GroupId>,
    /// When the token stops working (Unix epoch milliseconds, in the
    /// future). Give this or `ttl_seconds`, or neither for a token that
    /// works until deleted.
    #[serde(default)]
    expires_at: Option<Millis>,
    /// Seconds from now until the token stops working (at least 1).
    #[serde(default)]
    #[schema(minimum = 1)]
    ttl_seconds: Option<u64>,
}

impl NewToken {
    fn expiry(&self) -> Result<Option<Expiry>, ApiError> {
        match (self.expires_at, self.ttl_seconds) {
            (Some(_), Some(_)) => Err(ApiError::BadRequest(
                "give expires_at or ttl_seconds, not both".into(),
            )),
            (Some(at), None) => Ok(Some(Expiry::At(at))),
            (None, Some(ttl)) => Ok(Some(Expiry::AfterSeconds(ttl))),
            (None, None) => Ok(None),
        }
    }
}

/// A token as created: the only time its secret is shown.
#[derive(Serialize, ToSchema)]
struct CreatedToken {
    id: String,
    name: String,
    scope: Scope,
    groups: Vec<GroupId>,
    /// When the token stops working; `null`: never. Unix epoch milliseconds.
    expires_at: Option<Millis>,
    /// The secret, for `Authorization: Bearer <token>`; not stored, shown once.
    token: String,
}

/// Create an API token; the secret is returned once
#[utoipa::path(
    post, path = "/v1/tokens", operation_id = "createToken", tag = "auth",
    request_body = NewToken,
    responses((status = 201, description = "The token, with its secret in `token`.", body = CreatedToken))
)]
async fn create(
    State(kith): State<AppState>,
    Json(t): Json<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let expiry = t.expiry()?;
    let (created, token) = kith
        .create_token(&t.name, t.scope, t.groups, expiry)
        .await?;
    let created = CreatedToken {
        id: created.id,
        name: created.name,
        scope: created.scope,
        groups: created.groups,
        expires_at: created.expires_at,
        token,
    };
    Ok((StatusCode::CREATED, Json(created)))
}

/// The API tokens.
#[derive(Serialize, ToSchema)]
struct TokenList {
    tokens: Vec<crate::store::Token>,
}

/// List API tokens (without secrets)
#[utoipa::path(
    get, path = "/v1/tokens", operation_id = "listTokens", tag = "auth",
    responses((status = 200, description = "The tokens, oldest first.", body = TokenList))
)]
async fn list(State(kith): State<AppState>) -> Result<Json<TokenList>, ApiError> {
    let tokens = kith.store.tokens().await?;
    Ok(Json(TokenList { tokens }))
}

/// Revoke an API token
#[utoipa::path(
    delete, path = "/v1/tokens/{id}", operation_id = "deleteToken", tag = "auth",
    params(TokenPath),
    responses(
        (status = 204, description = "Revoked."),
        (status = 404, description = "No such token."),
        (status = 409, description = "The bootstrap admin token (`--admin-token`) cannot be revoked."),
    )
)]
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
