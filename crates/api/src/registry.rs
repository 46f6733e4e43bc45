//! The route registry: the only way a route gets into the app.
//!
//! Every route is added with its OpenAPI operation (`#[utoipa::path]`, which also supplies the
//! method and path), its audience and its rate-limit class. [`Registry::add`] cannot be called
//! without an audience, and the registry wraps each route in a guard that enforces it before
//! the handler runs (the handler's extractor then states it in its signature, too). The same
//! table configures actix, builds `/openapi.json`, and drives the route-audit test, so a route
//! without a decision cannot exist.

use crate::{
    auth::extract::{require_admin, require_front_end, require_teacher, require_user},
    error::ApiError,
};
use actix_web::{
    body::BoxBody,
    dev::{ServiceRequest, ServiceResponse},
    http::Method,
    middleware::{from_fn, Next},
    web, FromRequest, Handler, Responder, Route,
};
use domain::rate_limit::RouteClass;
use utoipa::openapi::{
    path::{HttpMethod, Operation, Paths},
    schema::Schema,
    security::SecurityRequirement,
    RefOr,
};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in account (student, teacher or admin).
    Student,
    /// Teachers and admins.
    Teacher,
    /// Admins only.
    Admin,
    /// The trusted front end, by `X-Api-Key`.
    ApiKey,
}

impl Audience {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Student => "any signed-in account",
            Self::Teacher => "teachers and admins",
            Self::Admin => "admins",
            Self::ApiKey => "the trusted front end (X-Api-Key)",
        }
    }
}

/// One registered route, as the audit test and the rate limiter see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    pub method: Method,
    /// The actix pattern, e.g. `/admin/users/{id}/role`.
    pub path: String,
    pub audience: Audience,
    pub class: RouteClass,
    pub operation_id: String,
}

type SchemaSink = Vec<(String, RefOr<Schema>)>;

struct Entry {
    spec: RouteSpec,
    route: Route,
    operation: Operation,
    schemas: fn(&mut SchemaSink),
}

/// Routes served outside the table because they are whole services, not handlers. All public.
pub const PUBLIC_SERVICES: &[&str] = &["/openapi.json", "/docs/"];

#[derive(Default)]
pub struct Registry {
    entries: Vec<Entry>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `handler`, documented by its `#[utoipa::path]` struct `doc` (`__path_<handler>`),
    /// which also gives the method and path.
    pub fn add<P, F, Args>(
        &mut self,
        audience: Audience,
        class: RouteClass,
        doc: P,
        handler: F,
    ) -> &mut Self
    where
        P: utoipa::Path + utoipa::__dev::SchemaReferences,
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        let _ = doc;
        let path = P::path();
        for m in P::methods() {
            let method = actix_method(&m);
            let mut operation = P::operation();
            document_audience(&mut operation, audience);
            crate::rate_limit::openapi::document(&mut operation, class);
            let operation_id = operation.operation_id.clone().unwrap_or_default();
            // A GET route answers HEAD too (same handler; actix sends no body for HEAD).
            let route = if method == Method::GET {
                web::route().guard(
                    actix_web::guard::Any(actix_web::guard::Get()).or(actix_web::guard::Head()),
                )
            } else {
                web::route().method(method.clone())
            };
            let route = route.to(handler.clone()).wrap(from_fn(
                move |req: ServiceRequest, next: Next<BoxBody>| guard(audience, req, next),
            ));
            // Wrapped after the guard, so the limit runs first.
            let route = route.wrap(crate::rate_limit::RateLimit::new(class));
            self.entries.push(Entry {
                spec: RouteSpec {
                    method,
                    path: path.clone(),
                    audience,
                    class,
                    operation_id,
                },
                route,
                operation,
                schemas: <P as utoipa::__dev::SchemaReferences>::schemas,
            });
        }
        self
    }

    pub fn specs(&self) -> Vec<RouteSpec> {
        self.entries.iter().map(|e| e.spec.clone()).collect()
    }

    /// The paths and schemas for the OpenAPI document.
    pub fn openapi_parts(&self) -> (Paths, SchemaSink) {
        let mut paths = Paths::new();
        let mut schemas = Vec::new();
        for e in &self.entries {
            paths.add_path_operation(
                &e.spec.path,
                vec![utoipa_method(&e.spec.method)],
                e.operation.clone(),
            );
            (e.schemas)(&mut schemas);
        }
        (paths, schemas)
    }

    /// Registers every route with actix: one resource per path, one route per method.
    pub fn configure(self, cfg: &mut web::ServiceConfig) {
        let mut by_path: Vec<(String, Vec<Route>, Vec<Method>)> = Vec::new();
        for e in self.entries {
            match by_path.iter_mut().find(|(p, _, _)| *p == e.spec.path) {
                Some((_, routes, methods)) => {
                    routes.push(e.route);
                    methods.push(e.spec.method);
                }
                None => by_path.push((e.spec.path, vec![e.route], vec![e.spec.method])),
            }
        }
        for (path, routes, methods) in by_path {
            let mut allowed: Vec<&str> = methods.iter().map(Method::as_str).collect();
            if methods.contains(&Method::GET) {
                allowed.push(Method::HEAD.as_str());
            }
            let allow = allowed.join(", ");
            let resource =
                routes
                    .into_iter()
                    .fold(web::resource(path), |res, route| res.route(route))
                    // A known path with another method: 405 in the JSON error shape, with `Allow`.
                    .default_service(web::to(move || {
                        let allow = allow.clone();
                        async move {
                            Err::<actix_web::HttpResponse, _>(ApiError::MethodNotAllowed(allow))
                        }
                    }));
            cfg.service(resource);
        }
    }
}

/// Refuses the request before the handler when the caller is not in the route's audience.
async fn guard(
    audience: Audience,
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let http = req.request();
    let allowed: Result<(), ApiError> = match audience {
        Audience::Public => Ok(()),
        Audience::Student => require_user(http).await.map(drop),
        Audience::Teacher => require_teacher(http).await.map(drop),
        Audience::Admin => require_admin(http).await.map(drop),
        Audience::ApiKey => require_front_end(http).map(drop),
    };
    match allowed {
        Ok(()) => next.call(req).await,
        Err(e) => Ok(req.error_response(e)),
    }
}

fn document_audience(op: &mut Operation, audience: Audience) {
    let note = format!("Audience: {}.", audience.describe());
    op.description = Some(match op.description.take() {
        Some(d) if !d.is_empty() => format!("{d}\n\n{note}"),
        _ => note,
    });
    match audience {
        Audience::Public => {}
        Audience::ApiKey => {
            op.security = Some(vec![SecurityRequirement::new::<_, _, &str>("api_key", [])])
        }
        _ => op.security = Some(vec![SecurityRequirement::new::<_, _, &str>("bearer", [])]),
    }
}

fn actix_method(m: &HttpMethod) -> Method {
    match m {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Trace => Method::TRACE,
    }
}

fn utoipa_method(m: &Method) -> HttpMethod {
    match *m {
        Method::POST => HttpMethod::Post,
        Method::PUT => HttpMethod::Put,
        Method::DELETE => HttpMethod::Delete,
        Method::OPTIONS => HttpMethod::Options,
        Method::HEAD => HttpMethod::Head,
        Method::PATCH => HttpMethod::Patch,
        Method::TRACE => HttpMethod::Trace,
        _ => HttpMethod::Get,
    }
}
