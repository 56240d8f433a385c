//! Members of a group, join requests and messages: the API's way in for
//! what an adapter would otherwise send as events.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::params::{GroupPath, MemberPath, TagPath};
use super::{Acting, ApiError, AppState, Json, Path, Query};
use crate::dispatch::{EventOutcome, ReferralCode};
use crate::domain::*;
use crate::store::MemberFilter;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, add))
        .routes(routes!(show))
        .routes(routes!(leave))
        .routes(routes!(remove))
        .routes(routes!(lift_removal))
        .routes(routes!(referral_code))
        .routes(routes!(set_role))
        .routes(routes!(add_tag, remove_tag))
        .routes(routes!(list_requests, request_join))
        .routes(routes!(answer))
        .routes(routes!(approve))
        .routes(routes!(decline))
        .routes(routes!(messages, post_message))
}

fn new_event_id(kind: &str) -> String {
    format!("api-{kind}-{}", uuid::Uuid::now_v7().simple())
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    role: Option<Role>,
    status: Option<MemberStatus>,
    /// Only members with this tag.
    tag: Option<String>,
    /// Only members not active (or joined, if never active) since this time,
    /// Unix epoch milliseconds.
    inactive_since: Option<Millis>,
    /// Most members to return; 0 or absent means 1000, the maximum.
    limit: Option<u32>,
}

/// Members of a group.
#[derive(Serialize, ToSchema)]
struct MemberList {
    /// Oldest joined first.
    members: Vec<Member>,
}

/// List members
#[utoipa::path(
    get, path = "/v1/groups/{group}/members", operation_id = "listMembers", tag = "members",
    params(GroupPath, ListQuery),
    responses(
        (status = 200, description = "The members.", body = MemberList),
        (status = 404, description = "No such group."),
    )
)]
async fn list(
    State(kith): State<AppState>,
    Path(group): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Json<MemberList>, ApiError> {
    kith.store.get_group(&group).await?;
    let filter = MemberFilter {
        role: q.role,
        status: q.status,
        tag: q.tag,
        inactive_since: q.inactive_since,
        limit: q.limit.unwrap_or(0),
    };
    let members = kith.store.list_members(&group, &filter).await?;
    Ok(Json(MemberList { members }))
}

/// Get a member
#[utoipa::path(
    get, path = "/v1/groups/{group}/members/{member}", operation_id = "getMember", tag = "members",
    params(GroupPath, MemberPath),
    responses(
        (status = 200, description = "The member.", body = Member),
        (status = 404, description = "No such group or member."),
    )
)]
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AddMember {
    /// Member id: 1-128 bytes.
    member: MemberId,
    /// Defaults to the member id.
    display_name: Option<String>,
    #[serde(default = "default_role")]
    role: Role,
}

fn default_role() -> Role {
    Role::Member
}

/// Add a member
///
/// The operator adds a member directly: no gate runs, but other plugins see
/// the join. Subject to the group's capacity (see `join.status`).
#[utoipa::path(
    post, path = "/v1/groups/{group}/members", operation_id = "addMember", tag = "members",
    params(GroupPath),
    request_body = AddMember,
    responses(
        (status = 201, description = "The member was added (or already was).", body = EventOutcome),
        (status = 404, description = "No such group."),
    )
)]
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

/// Record that a member left
///
/// Processed as a `member_left` event; 422 when the member is not active. No request body.
#[utoipa::path(
    post, path = "/v1/groups/{group}/members/{member}/leave", operation_id = "leaveGroup",
    tag = "members",
    params(GroupPath, MemberPath),
    responses(
        (status = 200, description = "The member left.", body = EventOutcome),
        (status = 404, description = "No such group or member."),
        (status = 422, description = "The member is not active."),
    )
)]
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

/// Lift a member's removal
///
/// A removed member's join requests are refused until this is called; they
/// become `left` (their history stays) and may ask to join again, which
/// their gates decide. No request body.
#[utoipa::path(
    post, path = "/v1/groups/{group}/members/{member}/lift-removal",
    operation_id = "liftRemoval", tag = "members",
    params(GroupPath, MemberPath),
    responses(
        (status = 200, description = "The member, now `left`.", body = Member),
        (status = 404, description = "No such group or member."),
        (status = 409, description = "The member is not removed."),
    )
)]
async fn lift_removal(
    State(kith): State<AppState>,
    Path((group, member)): Path<(String, String)>,
) -> Result<Json<Member>, ApiError> {
    Ok(Json(kith.lift_removal(&group, &member).await?))
}

/// A member's referral code
///
/// The code the member shares so that the friends they bring in are
/// attributed to them: a join request naming it (`referral_code`) records
/// the member as the newcomer's inviter. Issued on the first request, the
/// same afterwards; only active members have one. Adapters may call this to
/// build a member's invite link. No request body.
#[utoipa::path(
    post, path = "/v1/groups/{group}/members/{member}/referral-code",
    operation_id = "referralCode", tag = "members",
    params(GroupPath, MemberPath),
    responses(
        (status = 200, description = "The member's code.", body = ReferralCode),
        (status = 404, description = "No such group or member."),
        (status = 409, description = "The member is not active."),
    )
)]
async fn referral_code(
    State(kith): State<AppState>,
    Path((group, member)): Path<(String, String)>,
) -> Result<Json<ReferralCode>, ApiError> {
    Ok(Json(kith.referral_code(&group, &member).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RemoveBody {
    /// Why; defaults to "removed by an operator". The adapter passes it on.
    reason: Option<String>,
}

/// Remove a member
///
/// The operator removes an active member: the member's status becomes
/// `removed`, the adapter gets a `remove` action, games and flows see the
/// departure, and the audit log records who did it. 422 when the member is
/// not active.
#[utoipa::path(
    post, path = "/v1/groups/{group}/members/{member}/remove", operation_id = "removeMember",
    tag = "members",
    params(GroupPath, MemberPath),
    request_body = RemoveBody,
    responses(
        (status = 200, description = "The member was removed.", body = EventOutcome),
        (status = 404, description = "No such group or member."),
        (status = 422, description = "The member is not active."),
    )
)]
async fn remove(
    State(kith): State<AppState>,
    Acting(actor): Acting,
    Path((group, member)): Path<(String, String)>,
    Json(b): Json<RemoveBody>,
) -> Result<Json<EventOutcome>, ApiError> {
    let reason = b.reason.unwrap_or_else(|| "removed by an operator".into());
    Ok(Json(
        kith.remove_member(&actor, &group, &member, reason).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RoleBody {
    role: Role,
}

/// Set a member's role
#[utoipa::path(
    put, path = "/v1/groups/{group}/members/{member}/role", operation_id = "setMemberRole",
    tag = "members",
    params(GroupPath, MemberPath),
    request_body = RoleBody,
    responses(
        (status = 200, description = "The updated member.", body = Member),
        (status = 404, description = "No such group or member."),
    )
)]
async fn set_role(
    State(kith): State<AppState>,
    Acting(actor): Acting,
    Path((group, member)): Path<(String, String)>,
    Json(b): Json<RoleBody>,
) -> Result<Json<Member>, ApiError> {
    Ok(Json(kith.set_role(&actor, &group, &member, b.role).await?))
}

/// Tag a member
///
/// Idempotent. No request body.
#[utoipa::path(
    put, path = "/v1/groups/{group}/members/{member}/tags/{tag}", operation_id = "addMemberTag",
    tag = "members",
    params(GroupPath, MemberPath, TagPath),
    responses(
        (status = 200, description = "The updated member.", body = Member),
        (status = 404, description = "No such group or member."),
    )
)]
async fn add_tag(
    State(kith): State<AppState>,
    Acting(actor): Acting,
    Path((group, member, tag)): Path<(String, String, String)>,
) -> Result<Json<Member>, ApiError> {
    Ok(Json(
        kith.set_tag(&actor, &group, &member, &tag, true).await?,
    ))
}

/// Untag a member
///
/// Idempotent.
#[utoipa::path(
    delete, path = "/v1/groups/{group}/members/{member}/tags/{tag}",
    operation_id = "removeMemberTag", tag = "members",
    params(GroupPath, MemberPath, TagPath),
    responses(
        (status = 200, description = "The updated member.", body = Member),
        (status = 404, description = "No such group or member."),
    )
)]
async fn remove_tag(
    State(kith): State<AppState>,
    Acting(actor): Acting,
    Path((group, member, tag)): Path<(String, String, String)>,
) -> Result<Json<Member>, ApiError> {
    Ok(Json(
        kith.set_tag(&actor, &group, &member, &tag, false).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct RequestsQuery {
    status: Option<JoinStatus>,
}

/// Join requests of a group.
#[derive(Serialize, ToSchema)]
struct JoinRequestList {
    /// Oldest first, at most 1000.
    join_requests: Vec<JoinRequest>,
}

/// List join requests
#[utoipa::path(
    get, path = "/v1/groups/{group}/join-requests", operation_id = "listJoinRequests",
    tag = "join-requests",
    params(GroupPath, RequestsQuery),
    responses(
        (status = 200, description = "The join requests.", body = JoinRequestList),
        (status = 404, description = "No such group."),
    )
)]
async fn list_requests(
    State(kith): State<AppState>,
    Path(group): Path<String>,
    Query(q): Query<RequestsQuery>,
) -> Result<Json<JoinRequestList>, ApiError> {
    kith.store.get_group(&group).await?;
    let join_requests = kith.store.list_join_requests(&group, q.status).await?;
    Ok(Json(JoinRequestList { join_requests }))
}

/// Request to join
///
/// Processed as a `join_requested` event: the group's gates decide.
#[utoipa::path(
    post, path = "/v1/groups/{group}/join-requests", operation_id = "requestJoin",
    tag = "join-requests",
    params(GroupPath),
    request_body = JoinRequestInput,
    responses(
        (status = 200, description = "The outcome; `join` holds the decision.", body = EventOutcome),
        (status = 404, description = "No such group."),
    )
)]
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AnswerBody {
    answer: String,
}

/// Answer a gate's challenge
///
/// Processed as a `challenge_answer` event. 422 when there is no pending
/// request; 409 when the request awaits a reviewer.
#[utoipa::path(
    post, path = "/v1/groups/{group}/join-requests/{member}/answer", operation_id = "answerChallenge",
    tag = "join-requests",
    params(GroupPath, MemberPath),
    request_body = AnswerBody,
    responses(
        (status = 200, description = "The outcome; `join` holds the decision.", body = EventOutcome),
        (status = 404, description = "No such group."),
        (status = 409, description = "The request awaits a reviewer."),
    )
)]
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

/// A JSON object; `{}` is enough.
#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReviewBody {
    /// Recorded reason; a default text when absent.
    #[serde(default)]
    reason: Option<String>,
}

/// Approve a pending join request
///
/// 409 when the member has no pending request.
#[utoipa::path(
    post, path = "/v1/groups/{group}/join-requests/{member}/approve",
    operation_id = "approveJoinRequest", tag = "join-requests",
    params(GroupPath, MemberPath),
    request_body = ReviewBody,
    responses(
        (status = 200, description = "The outcome.", body = EventOutcome),
        (status = 404, description = "No such group or member."),
        (status = 409, description = "The member has no pending request."),
    )
)]
async fn approve(
    State(kith): State<AppState>,
    Acting(actor): Acting,
    Path((group, member)): Path<(String, String)>,
    Json(b): Json<ReviewBody>,
) -> Result<Json<EventOutcome>, ApiError> {
    let reason = b.reason.unwrap_or_else(|| "approved by a reviewer".into());
    Ok(Json(
        kith.review(&actor, &group, &member, true, reason).await?,
    ))
}

/// Decline a pending join request
///
/// 409 when the member has no pending request.
#[utoipa::path(
    post, path = "/v1/groups/{group}/join-requests/{member}/decline",
    operation_id = "declineJoinRequest", tag = "join-requests",
    params(GroupPath, MemberPath),
    request_body = ReviewBody,
    responses(
        (status = 200, description = "The outcome.", body = EventOutcome),
        (status = 404, description = "No such group or member."),
        (status = 409, description = "The member has no pending request."),
    )
)]
async fn decline(
    State(kith): State<AppState>,
    Acting(actor): Acting,
    Path((group, member)): Path<(String, String)>,
    Json(b): Json<ReviewBody>,
) -> Result<Json<EventOutcome>, ApiError> {
    let reason = b.reason.unwrap_or_else(|| "declined by a reviewer".into());
    Ok(Json(
        kith.review(&actor, &group, &member, false, reason).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct MessagesQuery {
    /// Default 50, at most 1000.
    limit: Option<u32>,
    /// Only messages sent at or after this time, Unix epoch milliseconds.
    since: Option<Millis>,
}

/// Messages of a group.
#[derive(Serialize, ToSchema)]
struct MessageList {
    /// Newest first.
    messages: Vec<Message>,
}

/// Recent messages
#[utoipa::path(
    get, path = "/v1/groups/{group}/messages", operation_id = "listMessages", tag = "messages",
    params(GroupPath, MessagesQuery),
    responses(
        (status = 200, description = "The messages.", body = MessageList),
        (status = 404, description = "No such group."),
    )
)]
async fn messages(
    State(kith): State<AppState>,
    Path(group): Path<String>,
    Query(q): Query<MessagesQuery>,
) -> Result<Json<MessageList>, ApiError> {
    kith.store.get_group(&group).await?;
    let messages = kith
        .store
        .recent_messages(&group, q.limit.unwrap_or(50), q.since)
        .await?;
    Ok(Json(MessageList { messages }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PostMessage {
    /// Member id: 1-128 bytes.
    sender: MemberId,
    /// At most 64 KiB.
    text: String,
    #[serde(default)]
    kind: Option<MessageKind>,
    #[serde(default)]
    mentions: Vec<MemberId>,
    #[serde(default)]
    reply_to: Option<String>,
    /// When it was sent; defaults to now. Unix epoch milliseconds.
    #[serde(default)]
    at: Option<Millis>,
}

/// Post a message
///
/// Dispatched like a `message` event from the adapter. `kind` defaults to text.
#[utoipa::path(
    post, path = "/v1/groups/{group}/messages", operation_id = "postMessage", tag = "messages",
    params(GroupPath),
    request_body = PostMessage,
    responses(
        (status = 201, description = "The message was stored; `message_id` is its id.", body = EventOutcome),
        (status = 404, description = "No such group."),
    )
)]
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
