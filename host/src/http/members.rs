//! Members of a group, join requests and messages: the API's way in for
//! what an adapter would otherwise send as events.

use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{extract::State, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{ApiError, AppState, Json, Path, Query};
use crate::dispatch::EventOutcome;
use crate::domain::*;
use crate::store::MemberFilter;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/groups/{group}/members", get(list).post(add))
        .route("/v1/groups/{group}/members/{member}", get(show))
        .route("/v1/groups/{group}/members/{member}/leave", post(leave))
        .route("/v1/groups/{group}/members/{member}/role", put(set_role))
        .route(
            "/v1/groups/{group}/members/{member}/tags/{tag}",
            put(add_tag).delete(remove_tag),
        )
        .route(
            "/v1/groups/{group}/join-requests",
            get(list_requests).post(request_join),
        )
        .route(
            "/v1/groups/{group}/join-requests/{member}/answer",
            post(answer),
        )
        .route(
            "/v1/groups/{group}/join-requests/{member}/approve",
            post(approve),
        )
        .route(
            "/v1/groups/{group}/join-requests/{member}/decline",
            post(decline),
        )
        .route(
            "/v1/groups/{group}/messages",
            get(messages).post(post_message),
        )
}

fn new_event_id(kind: &str) -> String {
    format!("api-{kind}-{}", uuid::Uuid::now_v7().simple())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    role: Option<Role>,
    status: Option<MemberStatus>,
    tag: Option<String>,
    inactive_since: Option<Millis>,
    limit: Option<u32>,
}

async fn list(
    State(kith): State<AppState>,
    Path(group): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    kith.store.get_group(&group).await?;
    let filter = MemberFilter {
        role: q.role,
        status: q.status,
        tag: q.tag,
        inactive_since: q.inactive_since,
        limit: q.limit.unwrap_or(0),
    };
    Ok(Json(
        json!({"members": kith.store.list_members(&group, &filter).await?}),
    ))
}

async fn show(
    State(kith): State<AppState>,
    Path((group, member)): Path<(String, String)>,
) -> Result<Json<Member>, ApiError> {
    kith.store.get_group(&group).await?;
    let m = kith
        .store
        .get_member(&group, &member)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!("member {member:?} not found in group {group:?}"))
        })?;
    Ok(Json(m))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddMember {
    member: MemberId,
    display_name: Option<String>,
    #[serde(default = "default_role")]
    role: Role,
}

fn default_role() -> Role {
    Role::Member
}

/// The operator adds a member directly: no gate runs.
async fn add(
    State(kith): State<AppState>,
    Path(group): Path<String>,
    Json(a): Json<AddMember>,
) -> Result<(StatusCode, Json<EventOutcome>), ApiError> {
    let outcome = kith
        .add_member(&group, &a.member, a.display_name, a.role)
        .await?;
    Ok((StatusCode::CREATED, Json(outcome)))
}

async fn leave(
    State(kith): State<AppState>,
    Path((group, member)): Path<(String, String)>,
) -> Result<Json<EventOutcome>, ApiError> {
    let event = IncomingEvent {
        id: new_event_id("leave"),
        group,
        at: None,
        body: EventBody::MemberLeft { member },
    };
    Ok(Json(kith.ingest(event).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleBody {
    role: Role,
}

async fn set_role(
    State(kith): State<AppState>,
    Path((group, member)): Path<(String, String)>,
    Json(b): Json<RoleBody>,
) -> Result<Json<Member>, ApiError> {
    Ok(Json(kith.set_role(&group, &member, b.role).await?))
}

async fn add_tag(
    State(kith): State<AppState>,
    Path((group, member, tag)): Path<(String, String, String)>,
) -> Result<Json<Member>, ApiError> {
    Ok(Json(kith.set_tag(&group, &member, &tag, true).await?))
}

async fn remove_tag(
    State(kith): State<AppState>,
    Path((group, member, tag)): Path<(String, String, String)>,
) -> Result<Json<Member>, ApiError> {
    Ok(Json(kith.set_tag(&group, &member, &tag, false).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestsQuery {
    status: Option<JoinStatus>,
}

async fn list_requests(
    State(kith): State<AppState>,
    Path(group): Path<String>,
    Query(q): Query<RequestsQuery>,
) -> Result<Json<Value>, ApiError> {
    kith.store.get_group(&group).await?;
    Ok(Json(
        json!({"join_requests": kith.store.list_join_requests(&group, q.status).await?}),
    ))
}

async fn request_join(
    State(kith): State<AppState>,
    Path(group): Path<String>,
    Json(input): Json<JoinRequestInput>,
) -> Result<Json<EventOutcome>, ApiError> {
    let event = IncomingEvent {
        id: new_event_id("join"),
        group,
        at: None,
        body: EventBody::JoinRequested(input),
    };
    Ok(Json(kith.ingest(event).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerBody {
    answer: String,
}

async fn answer(
    State(kith): State<AppState>,
    Path((group, member)): Path<(String, String)>,
    Json(b): Json<AnswerBody>,
) -> Result<Json<EventOutcome>, ApiError> {
    let event = IncomingEvent {
        id: new_event_id("answer"),
        group,
        at: None,
        body: EventBody::ChallengeAnswer {
            member,
            answer: b.answer,
        },
    };
    Ok(Json(kith.ingest(event).await?))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ReviewBody {
    #[serde(default)]
    reason: Option<String>,
}

async fn approve(
    State(kith): State<AppState>,
    Path((group, member)): Path<(String, String)>,
    Json(b): Json<ReviewBody>,
) -> Result<Json<EventOutcome>, ApiError> {
    let reason = b.reason.unwrap_or_else(|| "approved by a reviewer".into());
    Ok(Json(kith.review(&group, &member, true, reason).await?))
}

async fn decline(
    State(kith): State<AppState>,
    Path((group, member)): Path<(String, String)>,
    Json(b): Json<ReviewBody>,
) -> Result<Json<EventOutcome>, ApiError> {
    let reason = b.reason.unwrap_or_else(|| "declined by a reviewer".into());
    Ok(Json(kith.review(&group, &member, false, reason).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MessagesQuery {
    limit: Option<u32>,
    since: Option<Millis>,
}

async fn messages(
    State(kith): State<AppState>,
    Path(group): Path<String>,
    Query(q): Query<MessagesQuery>,
) -> Result<Json<Value>, ApiError> {
    kith.store.get_group(&group).await?;
    Ok(Json(
        json!({"messages": kith.store.recent_messages(&group, q.limit.unwrap_or(50), q.since).await?}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PostMessage {
    sender: MemberId,
    text: String,
    #[serde(default)]
    kind: Option<MessageKind>,
    #[serde(default)]
    mentions: Vec<MemberId>,
    #[serde(default)]
    reply_to: Option<String>,
    #[serde(default)]
    at: Option<Millis>,
}

/// A message posted through the API is dispatched like an adapter's.
async fn post_message(
    State(kith): State<AppState>,
    Path(group): Path<String>,
    Json(m): Json<PostMessage>,
) -> Result<(StatusCode, Json<EventOutcome>), ApiError> {
    let body = EventBody::Message {
        sender: m.sender,
        text: m.text,
        kind: m.kind.unwrap_or(MessageKind::Text),
        mentions: m.mentions,
        reply_to: m.reply_to,
        message_id: None,
    };
    let event = IncomingEvent {
        id: new_event_id("message"),
        group,
        at: m.at,
        body,
    };
    Ok((StatusCode::CREATED, Json(kith.ingest(event).await?)))
}
