//! The OpenAPI document, generated. Paths come from the handlers'
//! `#[utoipa::path]`s, collected together with the routes by `OpenApiRouter`
//! (so a route and its documentation share one path string), bodies from the
//! types' `ToSchema`s. `finish` adds what operations share: the errors that
//! the extractors and the token check return, and the security rule.
//!
//! A copy is committed at `host/src/http/openapi.json` for readers; a test
//! fails when it is stale. Regenerate it with
//! `cargo run -p kith -- openapi > host/src/http/openapi.json`.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::openapi::header::Header;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::schema::{AdditionalProperties, Object, OneOfBuilder, Schema};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{PartialSchema, ToSchema};

use super::error::{ErrorBody, ErrorCode};
use crate::domain::{is_public, is_rate_exempt, EventBody, IncomingEvent};

/// What the derive cannot know: the title, description and tag order.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "kith",
        description = "HTTP API of the kith host. Times are Unix epoch milliseconds (int64); \
            amounts are integer minor units. Every error is `{\"error\": {\"code\", \"message\"}}`."
    ),
    tags(
        (name = "groups"), (name = "members"), (name = "join-requests"), (name = "messages"),
        (name = "plugins"), (name = "events"), (name = "outbox"), (name = "ledger"),
        (name = "auth"), (name = "health"),
    ),
    components(schemas(ErrorBody))
)]
struct ApiDoc;

/// The document before the routes are added to it.
pub fn base() -> OpenApi {
    <ApiDoc as utoipa::OpenApi>::openapi()
}

/// The document as served and committed: pretty JSON with a final newline.
pub fn to_json(doc: &OpenApi) -> String {
    let mut text = serde_json::to_string_pretty(doc).expect("the document serializes");
    text.push('\n');
    text
}

/// The served document, built once from the same router that serves it.
fn served() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| to_json(&super::api().1))
}

/// This OpenAPI document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "getOpenApi",
    tag = "health",
    responses((status = 200, description = "The OpenAPI 3.1 document.", body = Object))
)]
pub(super) async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], served())
}

/// `{"status": "ok", "plugins": "ready"}`.
#[derive(Serialize, ToSchema)]
pub(super) struct Health {
    status: Up,
    /// `preparing` while the plugins given at start are installed and every
    /// installed plugin compiled in the background (events for a plugin
    /// still compiling wait for it); then `ready`.
    plugins: PluginsState,
}

/// Whether the plugins are compiled.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum PluginsState {
    Preparing,
    Ready,
}

/// The only status a live server reports.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum Up {
    Ok,
}

/// Liveness check
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "health",
    tag = "health",
    responses((status = 200, description = "The server is up.", body = Health))
)]
pub(super) async fn health(
    axum::extract::State(kith): axum::extract::State<super::AppState>,
) -> super::Json<Health> {
    let plugins = if kith.plugins_ready() {
        PluginsState::Ready
    } else {
        PluginsState::Preparing
    };
    super::Json(Health {
        status: Up::Ok,
        plugins,
    })
}

/// An incoming event is `id`, `group` and `at` beside the fields of its
/// type (serde's `flatten`): documented as one object per type, so that
/// each keeps `additionalProperties: false`.
impl PartialSchema for IncomingEvent {
    fn schema() -> RefOr<Schema> {
        let RefOr::T(Schema::OneOf(body)) = EventBody::schema() else {
            unreachable!("an internally tagged enum is a oneOf")
        };
        let mut named = vec![];
        <EventBody as ToSchema>::schemas(&mut named);
        let header = as_object(&EventHeader::schema(), &named);
        let mut one_of = OneOfBuilder::new().description(Some(
            "An event from the chat-platform adapter: `id`, `group` and optional `at`, \
             plus the fields of the event type named by `type`.",
        ));
        for variant in &body.items {
            let mut event = header.clone();
            merge(&mut event, as_object(variant, &named));
            event.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
            one_of = one_of.item(Schema::Object(event));
        }
        one_of.into()
    }
}

impl ToSchema for IncomingEvent {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        <EventBody as ToSchema>::schemas(schemas);
    }
}

/// The fields every incoming event has (mirrors `IncomingEvent`).
#[derive(ToSchema)]
#[allow(dead_code)]
struct EventHeader {
    /// Event id, 1-200 bytes, unique within its group. Ingestion is
    /// idempotent by (group, id); the same id with another body is a 409.
    id: String,
    /// Group id.
    group: String,
    /// When it happened on the platform; defaults to the time it is
    /// received. Unix epoch milliseconds, from ten years before to one year
    /// after the server's clock (422 otherwise).
    at: Option<i64>,
}

/// One object with the properties of an object, of the parts of an
/// `allOf`, or of a named schema a reference points to.
fn as_object(schema: &RefOr<Schema>, named: &[(String, RefOr<Schema>)]) -> Object {
    match schema {
        RefOr::T(Schema::Object(o)) => o.clone(),
        RefOr::T(Schema::AllOf(all)) => all.items.iter().fold(Object::new(), |mut acc, part| {
            merge(&mut acc, as_object(part, named));
            acc
        }),
        RefOr::Ref(r) => {
            let name = r.ref_location.rsplit('/').next().unwrap_or_default();
            let (_, target) = named
                .iter()
                .find(|(n, _)| n == name)
                .expect("a referenced schema is listed");
            as_object(target, named)
        }
        _ => unreachable!("event types are objects"),
    }
}

/// Adds `part`'s properties to `into`; its description wins if it has one.
fn merge(into: &mut Object, part: Object) {
    into.properties.extend(part.properties);
    into.required.extend(part.required);
    if part.description.is_some() {
        into.description = part.description;
    }
}

/// Completes the document: the security scheme, the shared error
/// responses, and on each operation the errors it can get without its
/// handler saying so.
pub fn finish(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            Http::builder()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "An API token (POST /v1/tokens). Required once any token exists; the host \
                     is open only on a loopback address without tokens.",
                ))
                .build(),
        ),
    );
    for code in ErrorCode::ALL {
        components
            .responses
            .insert(code.response_name().into(), RefOr::T(error_response(*code)));
    }
    doc.security = Some(vec![SecurityRequirement::new(
        "bearer",
        Vec::<String>::new(),
    )]);
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, op) in operations(item) {
            complete_operation(method, path, op);
        }
    }
}

/// The operations of a path, with their methods as axum spells them.
fn operations(item: &mut PathItem) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("GET", item.get.as_mut()),
        ("PUT", item.put.as_mut()),
        ("POST", item.post.as_mut()),
        ("DELETE", item.delete.as_mut()),
        ("PATCH", item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
}

fn complete_operation(method: &str, path: &str, op: &mut Operation) {
    let mut shared = vec![];
    if is_public(method, path) {
        op.security = Some(vec![]);
    } else {
        shared.extend([
            ErrorCode::Unauthorized,
            ErrorCode::Forbidden,
            ErrorCode::Internal,
        ]);
    }
    if !is_rate_exempt(path) {
        shared.push(ErrorCode::RateLimited);
    }
    let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
    if let Some(body) = &op.request_body {
        shared.extend([
            ErrorCode::BadRequest,
            ErrorCode::TooLarge,
            ErrorCode::UnsupportedMediaType,
            ErrorCode::RequestTimeout,
        ]);
        if body.content.contains_key("application/json") {
            shared.push(ErrorCode::Unprocessable);
        }
    } else if has_params {
        shared.push(ErrorCode::BadRequest);
    }
    let responses = &mut op.responses.responses;
    // A handler's own error responses say when; the body is the same for all.
    for (status, response) in responses.iter_mut() {
        if let (Some(code), RefOr::T(r)) = (ErrorCode::from_status(status), response) {
            if r.content.is_empty() {
                r.content = error_response(code).content;
            }
        }
    }
    for code in shared {
        let status = code.status().as_u16().to_string();
        responses
            .entry(status)
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(code.response_name())));
    }
}

fn error_response(code: ErrorCode) -> Response {
    let message = match code {
        ErrorCode::Internal => "internal error",
        _ => "...",
    };
    let mut response = ResponseBuilder::new().description(code.description());
    if code == ErrorCode::RateLimited {
        let mut seconds = Header::new(u64::schema());
        seconds.description = Some("Seconds to wait before retrying.".into());
        response = response.header("Retry-After", seconds);
    }
    response
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(ErrorBody::schema_ref()))
                .example(Some(
                    serde_json::json!({"error": {"code": code, "message": message}}),
                ))
                .build(),
        )
        .build()
}

/// Path parameters as the document names them; handlers take them as
/// tuples, and a test checks each path names exactly its own.
pub(super) mod params {
    use utoipa::IntoParams;

    /// `{group}`
    #[derive(IntoParams)]
    #[into_params(parameter_in = Path)]
    #[allow(dead_code)]
    pub struct GroupPath {
        /// Group id.
        group: String,
    }

    /// `{member}`
    #[derive(IntoParams)]
    #[into_params(parameter_in = Path)]
    #[allow(dead_code)]
    pub struct MemberPath {
        /// Member id.
        member: String,
    }

    /// `{tag}`
    #[derive(IntoParams)]
    #[into_params(parameter_in = Path)]
    #[allow(dead_code)]
    pub struct TagPath {
        /// Tag, 1-64 bytes.
        tag: String,
    }

    /// `{name}`
    #[derive(IntoParams)]
    #[into_params(parameter_in = Path)]
    #[allow(dead_code)]
    pub struct PluginPath {
        /// Plugin name.
        name: String,
    }

    /// `{version}`
    #[derive(IntoParams)]
    #[into_params(parameter_in = Path)]
    #[allow(dead_code)]
    pub struct VersionPath {
        /// A content hash (or 8+ of its first characters), or a version
        /// string naming one installed build.
        version: String,
    }

    /// `{account}`
    #[derive(IntoParams)]
    #[into_params(parameter_in = Path)]
    #[allow(dead_code)]
    pub struct AccountPath {
        /// Ledger account: `member:<id>`, `group`, `escrow:<name>`, `issuer` or `external`.
        #[param(pattern = "^(group|issuer|external|member:.{1,200}|escrow:.{1,200})$")]
        account: String,
    }

    /// `{id}`
    #[derive(IntoParams)]
    #[into_params(parameter_in = Path)]
    #[allow(dead_code)]
    pub struct TokenPath {
        /// Token id.
        id: String,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Method, Request, StatusCode};
    use serde_json::Value;
    use tower::ServiceExt;

    const COMMITTED: &str = "src/http/openapi.json";

    fn generated() -> Value {
        serde_json::to_value(super::super::api().1).unwrap()
    }

    /// The methods and paths of every documented operation.
    fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
        let mut ops = vec![];
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                ops.push((method.to_uppercase(), path.clone(), op));
            }
        }
        ops
    }

    /// The committed copy is what the code generates.
    #[test]
    fn committed_document_is_up_to_date() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(COMMITTED);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == to_json(&super::super::api().1),
            "host/{COMMITTED} is stale: run \
             `cargo run -p kith -- openapi > host/{COMMITTED}` and commit it"
        );
    }

    /// Each operation documents exactly the path parameters its path
    /// names, an error body for each error status, and a security rule
    /// that matches the token check.
    #[test]
    fn every_operation_is_complete() {
        let doc = generated();
        let ops = operations(&doc);
        assert!(ops.len() >= 38, "only {} operations", ops.len());
        for (method, path, op) in ops {
            let mut named: Vec<&str> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            let empty = vec![];
            let params = op["parameters"].as_array().unwrap_or(&empty);
            let mut documented: Vec<&str> = params
                .iter()
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            named.sort_unstable();
            documented.sort_unstable();
            assert_eq!(named, documented, "{method} {path}: path parameters");
            assert!(
                op["operationId"].is_string(),
                "{method} {path}: no operationId"
            );
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{method} {path}: no success response"
            );
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let body = response.get("$ref").is_some()
                        || response["content"]["application/json"]["schema"]["$ref"]
                            == "#/components/schemas/Error";
                    assert!(body, "{method} {path} {status}: no error body");
                }
            }
            let public = is_public(&method, &path);
            assert_eq!(
                op["security"] == serde_json::json!([]),
                public,
                "{method} {path}"
            );
            assert_eq!(
                responses.contains_key("401"),
                !public,
                "{method} {path}: 401"
            );
        }
    }

    /// The document spells each text enum as serde does.
    #[test]
    fn text_enums_are_spelled_as_serialized() {
        use crate::domain::*;
        fn check<T: ToSchema + Serialize>(doc: &Value, all: &[T]) {
            let spelled: Vec<Value> = all
                .iter()
                .map(|v| serde_json::to_value(v).unwrap())
                .collect();
            let name = T::name();
            assert_eq!(
                doc["components"]["schemas"][&*name]["enum"],
                Value::from(spelled),
                "{name}"
            );
        }
        let doc = generated();
        check(&doc, Role::ALL);
        check(&doc, MemberStatus::ALL);
        check(&doc, MessageKind::ALL);
        check(&doc, JoinStatus::ALL);
        check(&doc, PaymentStatus::ALL);
        check(&doc, Asset::ALL);
        check(&doc, PluginKind::ALL);
        check(&doc, Capability::ALL);
        check(&doc, LogLevel::ALL);
        check(&doc, GateFailure::ALL);
        check(&doc, Scope::ALL);
        check(&doc, ErrorCode::ALL);
    }

    /// The router serves every documented operation, and no other method
    /// on a documented path: with an admin token, each documented
    /// operation reaches its handler (whatever it then answers) and each
    /// other method gets 405.
    #[tokio::test]
    async fn every_documented_operation_is_routed() {
        const ADMIN: &str = "openapi-test-admin-token";
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("kith.db").display());
        let store = crate::store::Store::connect(&url).await.unwrap();
        let runtime = crate::runtime::Runtime::new(None).unwrap();
        let kith = crate::dispatch::Kith::new(store, runtime, crate::dispatch::Clock::system());
        kith.bootstrap_admin(ADMIN).await.unwrap();
        let app = super::super::router(kith);
        let doc = generated();
        for (path, item) in doc["paths"].as_object().unwrap() {
            let uri = path.replace('{', "x").replace('}', "");
            for method in ["GET", "PUT", "POST", "DELETE", "PATCH"] {
                let request = Request::builder()
                    .method(Method::from_bytes(method.as_bytes()).unwrap())
                    .uri(&uri)
                    .header("authorization", format!("Bearer {ADMIN}"))
                    .body(Body::empty())
                    .unwrap();
                let response = app.clone().oneshot(request).await.unwrap();
                let status = response.status();
                let body = axum::body::to_bytes(response.into_body(), 1 << 20)
                    .await
                    .unwrap();
                let unrouted = status == StatusCode::METHOD_NOT_ALLOWED
                    || String::from_utf8_lossy(&body).contains("no such endpoint");
                let documented = item.get(method.to_lowercase()).is_some();
                assert_eq!(documented, !unrouted, "{method} {path}: {status}");
            }
        }
    }
}
