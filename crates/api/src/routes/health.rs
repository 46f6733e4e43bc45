//! `/health` (the process answers) and `/ready` (it can serve: database reachable, schema current).

use crate::{
    registry::{Audience, Registry},
    state::{db, AppState},
};
use actix_web::{web, HttpResponse};
use domain::rate_limit::RouteClass;
use serde::Serialize;
use utoipa::ToSchema;

pub fn routes(r: &mut Registry) {
    r.add(Audience::Public, RouteClass::General, __path_health, health)
        .add(Audience::Public, RouteClass::General, __path_ready, ready);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthResponse {
    /// Always `ok`.
    pub status: String,
}

#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, description = "The process is alive", body = HealthResponse)))]
pub async fn health() -> web::Json<HealthResponse> {
    web::Json(HealthResponse {
        status: "ok".into(),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Ok,
    /// Works, with a fallback (e.g. a local rate limiter while Redis is down).
    Degraded,
    Failed,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    pub name: String,
    pub status: CheckStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReadyResponse {
    /// `ok`, `degraded` (serving with a fallback) or `failed` (not ready: 503).
    pub status: CheckStatus,
    pub checks: Vec<Check>,
}

#[utoipa::path(get, path = "/ready", tag = "operations",
    responses(
        (status = 200, description = "Ready (status `ok` or `degraded`)", body = ReadyResponse),
        (status = 503, description = "Not ready; the failing check says why", body = ReadyResponse)))]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let mut checks = vec![database_check(&state).await];
    let grader = state.ready_grader().await;
    checks.push(Check {
        name: "grader".into(),
        status: if grader.is_ok() {
            CheckStatus::Ok
        } else {
            CheckStatus::Degraded
        },
        detail: grader.err().map(|_| {
            "sandbox unreachable: code submissions answer 503 until it is back (see the log)".into()
        }),
    });
    checks.push(state.limiter.ready_check().await);
    let status = if checks.iter().any(|c| c.status == CheckStatus::Failed) {
        CheckStatus::Failed
    } else if checks.iter().any(|c| c.status == CheckStatus::Degraded) {
        CheckStatus::Degraded
    } else {
        CheckStatus::Ok
    };
    let body = ReadyResponse { status, checks };
    if status == CheckStatus::Failed {
        HttpResponse::ServiceUnavailable().json(body)
    } else {
        HttpResponse::Ok().json(body)
    }
}

async fn database_check(state: &AppState) -> Check {
    let result = db(state, |db| {
        db.ping()?;
        db.pending_migrations()
    })
    .await;
    let (status, detail) = match result {
        Ok(pending) if pending.is_empty() => (CheckStatus::Ok, None),
        Ok(pending) => (
            CheckStatus::Failed,
            Some(format!(
                "{} migration(s) pending ({}); run `campus migrate`",
                pending.len(),
                pending.join(", ")
            )),
        ),
        // The cause (hosts, paths) is logged by the error mapping, not shown here.
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database check failed");
            (
                CheckStatus::Failed,
                Some("the database does not answer".into()),
            )
        }
    };
    Check {
        name: "database".into(),
        status,
        detail,
    }
}
