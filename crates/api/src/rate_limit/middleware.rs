//! The per-route limiter, an actix `Transform` the registry wraps around every route with the
//! route's `RouteClass`.
//!
//! Who is counted: the account, when the request carries an access token that *verifies*
//! (signature, algorithm, issuer, times; a forged or expired token counts as anonymous), else
//! the client address ([`client`](super::client)). Sign-in routes (`Auth`) always count by
//! address: a token must not give an attacker a fresh budget for guessing other accounts.
//!
//! Every limited response carries `RateLimit-Limit`, `RateLimit-Remaining` and
//! `RateLimit-Reset` (seconds until the budget is whole); a refusal is a 429 with
//! `Retry-After` and the usual JSON error body, produced before the audience guard and the
//! handler run. When a handler spends a second budget (the per-username sign-in budget), the
//! headers describe the one closest to refusing.

use super::client::{address_subject, client_addr};
use crate::{error::ApiError, state::AppState};
use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform},
    http::header::{self, HeaderMap, HeaderName, HeaderValue},
    web, Error, HttpMessage, HttpRequest,
};
use domain::rate_limit::{Decision, RouteClass};
use futures_util::future::{ready, LocalBoxFuture, Ready};
use persistence::rate_limit::bucket_key;
use std::rc::Rc;

pub const RATELIMIT_LIMIT: &str = "ratelimit-limit";
pub const RATELIMIT_REMAINING: &str = "ratelimit-remaining";
pub const RATELIMIT_RESET: &str = "ratelimit-reset";
/// For CORS: browsers may read these on cross-origin responses.
pub const EXPOSED_HEADERS: [&str; 3] = [RATELIMIT_LIMIT, RATELIMIT_REMAINING, RATELIMIT_RESET];

/// Wraps one route with the budget of `class`.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    class: RouteClass,
}

impl RateLimit {
    pub fn new(class: RouteClass) -> Self {
        Self { class }
    }
}

impl<S, B> Transform<S, ServiceRequest> for RateLimit
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = RateLimitMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RateLimitMiddleware {
            service: Rc::new(service),
            class: self.class,
        }))
    }
}

pub struct RateLimitMiddleware<S> {
    service: Rc<S>,
    class: RouteClass,
}

impl<S, B> Service<ServiceRequest> for RateLimitMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let class = self.class;
        Box::pin(async move {
            let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
                return service
                    .call(req)
                    .await
                    .map(ServiceResponse::map_into_left_body);
            };
            let Some(decision) = decide(&state, class, req.request()).await else {
                return service
                    .call(req)
                    .await
                    .map(ServiceResponse::map_into_left_body);
            };
            if !decision.allowed {
                let error = ApiError::TooManyRequests {
                    retry_after_secs: decision.retry_after_secs,
                };
                let mut res = req.error_response(error);
                set_headers(res.headers_mut(), decision);
                return Ok(res.map_into_right_body());
            }
            let mut res = service.call(req).await?;
            let binding = binding_decision(decision, res.request());
            set_headers(res.headers_mut(), binding);
            Ok(res.map_into_left_body())
        })
    }
}

/// Spends one unit of the class budget of whoever sent `req`; `None` when the class is off.
async fn decide(state: &AppState, class: RouteClass, req: &HttpRequest) -> Option<Decision> {
    let quota = state.config.rate_limit.quota(class)?;
    let subject = match (class, verified_account(state, req)) {
        (RouteClass::Auth, _) | (_, None) => {
            address_subject(client_addr(req, &state.config.trusted_proxies))
        }
        (_, Some(account)) => account,
    };
    state
        .limiter
        .check(&bucket_key(class, &subject), quota)
        .await
}

/// `user:<id>` for a bearer token that verifies; a bad token is simply anonymous here (the
/// audience guard answers 401 where it matters).
fn verified_account(state: &AppState, req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let claims = state.jwt.verify_access(token.trim()).ok()?;
    Some(format!("user:{}", claims.sub))
}

/// Extra budgets a handler spent for this request (see [`record_decision`]).
#[derive(Debug, Default, Clone)]
struct ExtraDecisions(Vec<Decision>);

/// Lets a handler report a budget it spent, so the response headers can describe it.
pub fn record_decision(req: &HttpRequest, decision: Decision) {
    let mut ext = req.extensions_mut();
    match ext.get_mut::<ExtraDecisions>() {
        Some(list) => list.0.push(decision),
        None => {
            ext.insert(ExtraDecisions(vec![decision]));
        }
    }
}

/// The budget a client should pace itself by: a refusing one, else the one with the fewest
/// requests left (the longest reset on a tie).
fn binding_decision(route: Decision, req: &HttpRequest) -> Decision {
    let ext = req.extensions();
    let extras = ext
        .get::<ExtraDecisions>()
        .map(|e| e.0.as_slice())
        .unwrap_or_default();
    std::iter::once(route)
        .chain(extras.iter().copied())
        .min_by_key(|d| (d.allowed, d.remaining, std::cmp::Reverse(d.reset_secs)))
        .unwrap_or(route)
}

fn set_headers(headers: &mut HeaderMap, d: Decision) {
    let pairs = [
        (RATELIMIT_LIMIT, d.limit),
        (RATELIMIT_REMAINING, d.remaining),
        (RATELIMIT_RESET, d.reset_secs),
    ];
    for (name, value) in pairs {
        headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
    }
    if !d.allowed {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(d.retry_after_secs));
    }
}
