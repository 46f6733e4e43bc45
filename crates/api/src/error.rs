//! The one HTTP error of Campus, and the one place domain errors become status codes.
//!
//! Every error body has the same shape:
//! `{"error":{"code":"validation","message":"...","fields":[{"field":"username","message":"..."}]}}`.
//! Internal causes are logged (inside the request's span, so with its request id) and never
//! sent: the client gets a generic message.

use actix_web::{
    http::{header, StatusCode},
    HttpResponse, ResponseError,
};
use domain::{grading::GradeError, DomainError, FieldError, RepoError};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 422: the request is well-formed but a value is wrong.
    #[error("invalid input: {}", join(.0))]
    Validation(Vec<FieldError>),
    /// 400: the body is not JSON, or some other malformed request.
    #[error("bad request: {message}")]
    BadRequest {
        code: &'static str,
        message: String,
        fields: Vec<FieldError>,
    },
    #[error("not signed in: {0}")]
    Unauthorized(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    /// 405; holds the allowed methods (`GET, POST`).
    #[error("method not allowed (allowed: {0})")]
    MethodNotAllowed(String),
    #[error("conflict: {message}")]
    Conflict {
        message: String,
        fields: Vec<FieldError>,
    },
    #[error("payload too large: {0}")]
    TooLarge(String),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u32 },
    /// 503: busy or a dependency is down. `public` is sent; `cause` is only logged.
    #[error("unavailable: {public} ({cause})")]
    Unavailable { public: String, cause: String },
    /// 502: a service Campus relies on (the language model) answered something unusable.
    /// `public` and `fields` are sent; `cause` is only logged.
    #[error("bad gateway: {public} ({cause})")]
    BadGateway {
        public: String,
        cause: String,
        fields: Vec<FieldError>,
    },
    /// 500. The cause is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

fn join(fields: &[FieldError]) -> String {
    fields
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    /// Stable machine-readable code: `validation`, `malformed_json`, `unauthorized`, `forbidden`,
    /// `not_found`, `conflict`, `too_large`, `unsupported_media_type`, `rate_limited`,
    /// `unavailable`, `bad_gateway`, `internal`.
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldErrorDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldErrorDto {
    /// camelCase path of the field (`tests[2].weight`); `body` for the body as a whole.
    pub field: String,
    pub message: String,
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    pub fn unauthorized() -> Self {
        Self::Unauthorized("a valid access token is required".into())
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation",
            Self::BadRequest { code, .. } => code,
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::Conflict { .. } => "conflict",
            Self::TooLarge(_) => "too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::TooManyRequests { .. } => "rate_limited",
            Self::Unavailable { .. } => "unavailable",
            Self::BadGateway { .. } => "bad_gateway",
            Self::Internal(_) => "internal",
        }
    }

    fn public_message(&self) -> String {
        match self {
            Self::Validation(_) => "some fields are invalid".into(),
            Self::BadRequest { message, .. } => message.clone(),
            Self::Unauthorized(m)
            | Self::Forbidden(m)
            | Self::TooLarge(m)
            | Self::UnsupportedMediaType(m) => m.clone(),
            Self::NotFound(what) => format!("{what} not found"),
            Self::MethodNotAllowed(allow) => format!("this route accepts only {allow}"),
            Self::Conflict { message, .. } => message.clone(),
            Self::TooManyRequests { retry_after_secs } => {
                format!("too many requests; retry in {retry_after_secs} s")
            }
            Self::Unavailable { public, .. } => public.clone(),
            Self::BadGateway { public, .. } => public.clone(),
            Self::Internal(_) => {
                "internal server error; the request id identifies it in the logs".into()
            }
        }
    }

    fn fields(&self) -> &[FieldError] {
        match self {
            Self::Validation(f)
            | Self::BadRequest { fields: f, .. }
            | Self::Conflict { fields: f, .. }
            | Self::BadGateway { fields: f, .. } => f,
            _ => &[],
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code().to_string(),
                message: self.public_message(),
                fields: self
                    .fields()
                    .iter()
                    .map(|f| FieldErrorDto {
                        field: f.field.clone(),
                        message: f.message.clone(),
                    })
                    .collect(),
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::BadGateway { .. } => StatusCode::BAD_GATEWAY,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        // Called inside the request's span, so these lines carry its request id.
        match self {
            Self::Internal(cause) => tracing::error!(cause = %cause, "internal error"),
            Self::Unavailable { cause, .. } => {
                tracing::warn!(cause = %cause, "dependency unavailable")
            }
            Self::BadGateway { cause, .. } => {
                tracing::warn!(cause = %cause, "dependency answered something unusable")
            }
            _ => {}
        }
        let mut res = HttpResponse::build(self.status_code());
        match self {
            Self::Unauthorized(_) => {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            Self::TooManyRequests { retry_after_secs } => {
                res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            Self::MethodNotAllowed(allow) => {
                res.insert_header((header::ALLOW, allow.clone()));
            }
            _ => {}
        }
        res.json(self.body())
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Validation(fields) => Self::Validation(fields),
            DomainError::NotFound(what) => Self::NotFound(what.to_string()),
            DomainError::Conflict(message) => Self::Conflict {
                message,
                fields: Vec::new(),
            },
            DomainError::Unauthorized => Self::unauthorized(),
            DomainError::Forbidden => Self::Forbidden("your role does not allow this".into()),
            DomainError::TooLarge(m) => Self::TooLarge(m),
            DomainError::Busy(m) => Self::Unavailable {
                public: m.clone(),
                cause: m,
            },
            DomainError::Unavailable(m) => Self::Unavailable {
                public: m.clone(),
                cause: m,
            },
            DomainError::Internal(m) => Self::Internal(m),
        }
    }
}

impl From<RepoError> for ApiError {
    fn from(e: RepoError) -> Self {
        match e {
            // The database's own words may name servers or hosts: log them, send a plain message.
            RepoError::Unavailable(cause) => Self::Unavailable {
                public: "the database is unavailable".into(),
                cause,
            },
            other => DomainError::from(other).into(),
        }
    }
}

impl From<GradeError> for ApiError {
    fn from(e: GradeError) -> Self {
        match e {
            GradeError::Busy => Self::Unavailable {
                public: "every grader is busy; try again in a few seconds".into(),
                cause: "grader queue full".into(),
            },
            GradeError::Unavailable(cause) => Self::Unavailable {
                public: "code grading is unavailable right now".into(),
                cause,
            },
            GradeError::Internal(cause) => Self::Internal(cause),
        }
    }
}

impl From<domain::llm::LlmError> for ApiError {
    fn from(e: domain::llm::LlmError) -> Self {
        use domain::llm::LlmError as E;
        match e {
            // Each kind is named; the provider's own words stay in the log.
            E::Unavailable(_) => Self::Unavailable {
                public: "the language model is unavailable right now (unreachable, failing or \
                         slower than LLM_TIMEOUT_SECS); try again later"
                    .into(),
                cause: e.to_string(),
            },
            E::RateLimited => Self::Unavailable {
                public: "the language model's provider is rate limiting Campus; try again later"
                    .into(),
                cause: e.to_string(),
            },
            E::Refused(_) => Self::BadGateway {
                public: "the language model's provider refused the request; an administrator \
                         should check LLM_API_KEY and LLM_MODEL"
                    .into(),
                cause: e.to_string(),
                fields: Vec::new(),
            },
            E::Malformed(_) => Self::BadGateway {
                public: "the language model's answer was not a usable chat completion".into(),
                cause: e.to_string(),
                fields: Vec::new(),
            },
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self::Internal(format!("blocking task failed: {e}"))
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        Self::Validation(vec![e])
    }
}

impl From<Vec<FieldError>> for ApiError {
    fn from(e: Vec<FieldError>) -> Self {
        Self::Validation(e)
    }
}

/// The last line of "every error body is JSON": error responses that did not come from
/// [`ApiError`] (actix-cors refusing a preflight, actix's own plain-text errors) are rewritten
/// into the same shape, keeping their status and headers. A 4xx keeps its text as the message
/// (it names what was refused); a 5xx never shows its text.
pub fn json_error_bodies<B>(
    res: actix_web::dev::ServiceResponse<B>,
) -> actix_web::Result<actix_web::middleware::ErrorHandlerResponse<B>>
where
    B: actix_web::body::MessageBody + 'static,
{
    use actix_web::middleware::ErrorHandlerResponse;
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    Ok(ErrorHandlerResponse::Future(Box::pin(async move {
        let status = res.status();
        let (req, res) = res.into_parts();
        let (head, body) = res.into_parts();
        let text = actix_web::body::to_bytes(body)
            .await
            .map(|b| String::from_utf8_lossy(&b).trim().to_string())
            .unwrap_or_default();
        let reason = status.canonical_reason().unwrap_or("error").to_lowercase();
        let message = if status.is_client_error() && !text.is_empty() && text.len() <= 300 {
            text
        } else {
            reason
        };
        let code = match status.as_u16() {
            401 => "unauthorized",
            403 => "forbidden",
            404 => "not_found",
            405 => "method_not_allowed",
            409 => "conflict",
            413 => "too_large",
            415 => "unsupported_media_type",
            429 => "rate_limited",
            503 => "unavailable",
            500..=599 => "internal",
            _ => "bad_request",
        };
        let mut out = HttpResponse::build(status);
        for (name, value) in head.headers() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                out.append_header((name.clone(), value.clone()));
            }
        }
        let out = out.json(ErrorBody {
            error: ErrorDetail {
                code: code.into(),
                message,
                fields: Vec::new(),
            },
        });
        Ok(actix_web::dev::ServiceResponse::new(req, out).map_into_right_body())
    })))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use actix_web::body::to_bytes;

    async fn render(e: ApiError) -> (u16, serde_json::Value) {
        let res = e.error_response();
        let status = res.status().as_u16();
        let body = to_bytes(res.into_body()).await.unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[actix_web::test]
    async fn validation_names_the_field() {
        let (status, body) = render(DomainError::invalid("username", "too short").into()).await;
        assert_eq!(status, 422);
        assert_eq!(body["error"]["code"], "validation");
        assert_eq!(body["error"]["fields"][0]["field"], "username");
    }

    #[actix_web::test]
    async fn internal_causes_are_never_sent() {
        let (status, body) = render(ApiError::internal("password=hunter2 at db.rs:12")).await;
        assert_eq!(status, 500);
        assert!(!body.to_string().contains("hunter2"));
        let (status, body) =
            render(RepoError::Unavailable("postgres://u:pw@db".into()).into()).await;
        assert_eq!(status, 503);
        assert!(!body.to_string().contains("pw@db"));
    }

    #[actix_web::test]
    async fn each_domain_error_has_its_status() {
        let cases: Vec<(DomainError, u16)> = vec![
            (DomainError::NotFound("task"), 404),
            (DomainError::Conflict("taken".into()), 409),
            (DomainError::Unauthorized, 401),
            (DomainError::Forbidden, 403),
            (DomainError::TooLarge("big".into()), 413),
            (DomainError::Busy("busy".into()), 503),
            (DomainError::Unavailable("down".into()), 503),
            (DomainError::Internal("x".into()), 500),
        ];
        for (e, want) in cases {
            assert_eq!(render(e.into()).await.0, want);
        }
        assert_eq!(render(GradeError::Busy.into()).await.0, 503);
        assert_eq!(
            render(ApiError::TooManyRequests {
                retry_after_secs: 3
            })
            .await
            .0,
            429
        );
    }
}
