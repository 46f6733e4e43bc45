//! Logging: one subscriber for the process, request ids on every line of a request.
//!
//! The root span of a request records its id, method and route pattern (`/users/{id}`), never
//! the query string, headers or body, so tokens and code cannot reach a log line through it.

use crate::config::{Config, LogFormat};
use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
    HttpMessage,
};
use std::time::Instant;
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder};
use tracing_subscriber::{
    fmt::MakeWriter, layer::SubscriberExt, util::SubscriberInitExt, EnvFilter,
};

/// Installs the global subscriber (once, in `main`) writing to `writer`.
/// `default_filter` applies when `RUST_LOG` is unset.
pub fn init<W>(config: &Config, default_filter: &str, writer: W) -> Result<(), String>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let directive = config.log_filter.as_deref().unwrap_or(default_filter);
    let filter = EnvFilter::try_new(directive).map_err(|e| format!("RUST_LOG: {e}"))?;
    let registry = tracing_subscriber::registry().with(filter);
    let result = match config.log_format {
        // Colour only for a person at a terminal: piped or redirected logs stay greppable.
        LogFormat::Text => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                    .with_writer(writer),
            )
            .try_init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(writer),
            )
            .try_init(),
    };
    result.map_err(|e| e.to_string())
}

/// When the request's root span began, for the latency on its last line.
struct RequestStart(Instant);

/// Root span per request: id, method, route; status and a "finished" line at the end.
pub struct CampusRootSpan;

impl RootSpanBuilder for CampusRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        request
            .extensions_mut()
            .insert(RequestStart(Instant::now()));
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "unmatched".into());
        tracing::info_span!(
            "request",
            request_id = %request_id,
            method = %request.method(),
            route = %route,
            status = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(
        span: Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        let (status, started) = match outcome {
            Ok(res) => (
                res.status(),
                res.request()
                    .extensions()
                    .get::<RequestStart>()
                    .map(|s| s.0),
            ),
            Err(e) => (e.as_response_error().status_code(), None),
        };
        let latency_ms = started
            .map(|t| t.elapsed().as_secs_f64() * 1000.0)
            .unwrap_or_default();
        span.record("status", status.as_u16());
        span.in_scope(|| tracing::info!(status = status.as_u16(), latency_ms, "request finished"));
    }
}

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Echoes the request id in `X-Request-Id`, so a client can quote it.
pub async fn request_id_header(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req.extensions().get::<RequestId>().map(ToString::to_string);
    let mut res = next.call(req).await?;
    if let Some(value) = id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        res.headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    Ok(res)
}
