use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::dispatch::{FieldProblem, ServiceError};

/// Every error the API returns, as `{"error": {"code", "message"}}`.
/// Internal details are logged, never sent.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed (bad JSON, a missing or invalid field).
    #[error("{0}")]
    BadRequest(String),
    /// 401: no token, or one that is unknown or revoked.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the token's scope does not allow this call.
    #[error("{0}")]
    Forbidden(String),
    /// 404: the group, member, plugin or token does not exist.
    #[error("{0}")]
    NotFound(String),
    /// 409: the request clashes with existing state.
    #[error("{0}")]
    Conflict(String),
    /// 422: well-formed, but breaks a rule (config vs schema, funds).
    #[error("{0}")]
    Unprocessable(String),
    /// 422 naming the field of each problem (a config against its schema),
    /// sent as `error.details`.
    #[error("{message}")]
    InvalidFields {
        /// Every problem in one text.
        message: String,
        /// One entry per problem, with the field's path.
        details: Vec<FieldProblem>,
    },
    /// 413: the body is over the limit.
    #[error("{0}")]
    TooLarge(String),
    /// 415: the body is not of the expected content type.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 408: the body did not arrive in time.
    #[error("{0}")]
    RequestTimeout(String),
    /// 429: over a rate limit; retry after the given time (sent as `Retry-After`).
    #[error("{message}")]
    RateLimited {
        /// What limit was hit.
        message: String,
        /// When the caller may try again.
        retry_after: std::time::Duration,
    },
    /// 500: anything else; the cause is logged, the caller sees "internal error".
    #[error("internal error")]
    Internal(anyhow::Error),
}

impl ApiError {
    fn code(&self) -> ErrorCode {
        match self {
            ApiError::BadRequest(_) => ErrorCode::BadRequest,
            ApiError::Unauthorized(_) => ErrorCode::Unauthorized,
            ApiError::Forbidden(_) => ErrorCode::Forbidden,
            ApiError::NotFound(_) => ErrorCode::NotFound,
            ApiError::Conflict(_) => ErrorCode::Conflict,
            ApiError::Unprocessable(_) | ApiError::InvalidFields { .. } => ErrorCode::Unprocessable,
            ApiError::TooLarge(_) => ErrorCode::TooLarge,
            ApiError::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            ApiError::RequestTimeout(_) => ErrorCode::RequestTimeout,
            ApiError::RateLimited { .. } => ErrorCode::RateLimited,
            ApiError::Internal(_) => ErrorCode::Internal,
        }
    }
}

/// The machine-readable kind of an error, one per HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    Unprocessable,
    #[serde(rename = "payload_too_large")]
    TooLarge,
    UnsupportedMediaType,
    RequestTimeout,
    RateLimited,
    Internal,
}

impl ErrorCode {
    /// Every code, for the document's shared responses.
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::BadRequest,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::Unprocessable,
        ErrorCode::TooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::RequestTimeout,
        ErrorCode::RateLimited,
        ErrorCode::Internal,
    ];

    /// The HTTP status the code is sent with.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The code sent with an HTTP status (given as the document's key).
    pub fn from_status(status: &str) -> Option<ErrorCode> {
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.status().as_str() == status)
    }

    /// Its shared response's name in the OpenAPI document.
    pub fn response_name(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "BadRequest",
            ErrorCode::Unauthorized => "Unauthorized",
            ErrorCode::Forbidden => "Forbidden",
            ErrorCode::NotFound => "NotFound",
            ErrorCode::Conflict => "Conflict",
            ErrorCode::Unprocessable => "Unprocessable",
            ErrorCode::TooLarge => "PayloadTooLarge",
            ErrorCode::UnsupportedMediaType => "UnsupportedMediaType",
            ErrorCode::RequestTimeout => "RequestTimeout",
            ErrorCode::RateLimited => "TooManyRequests",
            ErrorCode::Internal => "Internal",
        }
    }

    /// When the code is sent, for the document.
    pub fn description(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "Malformed request: invalid path or query parameter \
                (including unknown query parameters), malformed JSON, or a value the server rejects.",
            ErrorCode::Unauthorized => "Missing or invalid API token.",
            ErrorCode::Forbidden => "The token's scope does not allow this endpoint or group.",
            ErrorCode::NotFound => "The group, member, plugin or enablement does not exist.",
            ErrorCode::Conflict => "The request conflicts with the current state.",
            ErrorCode::Unprocessable => "The JSON body does not match the schema (missing, \
                unknown or mistyped fields), or the request breaks a rule.",
            ErrorCode::TooLarge => "The body is larger than the limit (1 MiB for JSON).",
            ErrorCode::UnsupportedMediaType => "The Content-Type is not the one expected.",
            ErrorCode::RequestTimeout => "The body did not arrive within the body timeout \
                (`kith serve --body-timeout-ms`, default 30 s); the connection is closed.",
            ErrorCode::RateLimited => "Over the request rate of the API token or of the client \
                address; retry after the `Retry-After` header's seconds.",
            ErrorCode::Internal => "Internal error; details are logged, not returned.",
        }
    }
}

/// The body of every error response.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
struct ErrorDetail {
    /// Machine-readable error code.
    code: ErrorCode,
    /// Human-readable explanation. Internal errors say only `internal error`.
    message: String,
    /// For a config that does not match its plugin's schema (422): each
    /// problem with the field it is about. Absent otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    details: Vec<FieldProblem>,
}

impl ErrorBody {
    /// A reference to the schema, for the document's error responses.
    pub fn schema_ref() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::Ref::from_schema_name(<Self as ToSchema>::name()).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.code();
        if let ApiError::Internal(e) = &self {
            tracing::error!("internal error: {e:#}");
        }
        let message = self.to_string();
        let details = match &self {
            ApiError::InvalidFields { details, .. } => details.clone(),
            _ => vec![],
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code,
                message,
                details,
            },
        };
        let mut response = (code.status(), axum::Json(body)).into_response();
        if let ApiError::RateLimited { retry_after, .. } = self {
            // Whole seconds, rounded up: a client retrying sooner is refused again.
            let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.max(1).into());
        }
        response
    }
}

impl From<crate::edge::Limited> for ApiError {
    fn from(l: crate::edge::Limited) -> Self {
        ApiError::RateLimited {
            message: format!(
                "too many requests from {}; retry in {} ms",
                l.what,
                l.retry_after.as_millis().max(1)
            ),
            retry_after: l.retry_after,
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound(what) => ApiError::NotFound(format!("{what} not found")),
            ServiceError::Invalid(m) => ApiError::BadRequest(m),
            ServiceError::Conflict(m) => ApiError::Conflict(m),
            ServiceError::Unprocessable(m) => ApiError::Unprocessable(m),
            ServiceError::InvalidConfig { message, problems } => ApiError::InvalidFields {
                message,
                details: problems,
            },
            ServiceError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        ServiceError::from(e).into()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
                "expected a JSON body with Content-Type: application/json".into(),
            ),
            JsonRejection::BytesRejection(_) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::TooLarge(format!(
                    "the body is larger than {} bytes",
                    super::MAX_JSON_BODY
                ))
            }
            JsonRejection::JsonDataError(e) => ApiError::Unprocessable(e.body_text()),
            other => ApiError::BadRequest(other.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::BadRequest(r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::BadRequest(r.body_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every error code the API can send is in the OpenAPI document, with
    /// the status it is sent with.
    #[test]
    fn every_code_is_documented() {
        let doc = serde_json::to_value(crate::http::api().1).unwrap();
        let documented = &doc["components"]["schemas"]["ErrorCode"]["enum"];
        for code in ErrorCode::ALL {
            let text = serde_json::to_value(code).unwrap();
            assert!(
                documented.as_array().unwrap().contains(&text),
                "{text} is not in the document"
            );
            let shared = &doc["components"]["responses"][code.response_name()];
            assert_eq!(
                shared["content"]["application/json"]["example"]["error"]["code"], text,
                "{text}"
            );
            assert_eq!(ErrorCode::from_status(code.status().as_str()), Some(*code));
        }
    }
}
