//! Building and running the HTTP server (`campus serve`), zero2prod style: `build` binds the
//! address (port 0 picks a free one) and `run` serves until SIGTERM/SIGINT, then drains.

use crate::{
    auth::{jwt::JwtKeys, password},
    config::Config,
    database, extract, openapi, routes,
    state::{AppState, Store},
    telemetry::{self, CampusRootSpan},
};
use actix_cors::Cors;
use actix_web::{
    dev::Server as ActixServer, http::header, middleware::from_fn, web, App, HttpServer,
};
use anyhow::Context;
use domain::grading::Grader;
use std::{net::TcpListener, sync::Arc};
use tracing_actix_web::TracingLogger;
use utoipa_swagger_ui::SwaggerUi;

/// What the server talks to, opened by [`Server::build`] or handed in by tests.
pub struct Dependencies {
    pub db: Arc<dyn Store>,
    pub grader: Option<Arc<dyn Grader>>,
}

pub struct Server {
    port: u16,
    server: ActixServer,
    state: AppState,
}

impl Server {
    /// Binds `CAMPUS_ADDR` (first, so a taken port fails before anything is opened), opens the
    /// database (migrating a SQLite file; refusing a PostgreSQL database with pending
    /// migrations) and connects the grader if Docker is there.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let listener = bind(&config)?;
        let cfg = config.clone();
        let db = tokio::task::spawn_blocking(move || database::open_for_serving(&cfg)).await??;
        let grader = crate::grading::connect(&config).await;
        let deps = Dependencies {
            db: Arc::new(db),
            grader: Some(grader),
        };
        Self::build_on(listener, config, deps).await
    }

    /// Like [`Server::build`], with the database and grader handed in (tests).
    pub async fn build_with(config: Config, deps: Dependencies) -> anyhow::Result<Self> {
        let listener = bind(&config)?;
        Self::build_on(listener, config, deps).await
    }

    async fn build_on(
        listener: TcpListener,
        config: Config,
        deps: Dependencies,
    ) -> anyhow::Result<Self> {
        let port = listener
            .local_addr()
            .context("CAMPUS_ADDR: no local address")?
            .port();
        let dummy = tokio::task::spawn_blocking(password::dummy_hash)
            .await?
            .map_err(|e| anyhow::anyhow!("cannot hash: {e}"))?;
        let worker = crate::grading_worker::WorkerSettings {
            concurrency: crate::grading::sandbox_config(&config).max_concurrent,
            ..Default::default()
        };
        let learning =
            routes::learning::Learning::start(deps.db.clone(), deps.grader.clone(), worker);
        let limiter = crate::rate_limit::Limiter::start(&config).await?;
        let llm = crate::language_model::connect(&config)?;
        let state = AppState {
            llm,
            limiter,
            accounts: crate::auth::accounts::AccountCache::new(config.account_cache_ttl),
            learning,
            jwt: Arc::new(JwtKeys::new(&config.jwt_secret, config.access_token_ttl)),
            config: Arc::new(config),
            db: deps.db,
            grader: deps.grader,
            dummy_password_hash: dummy.into(),
        };
        routes::learning::recover(&state)
            .await
            .map_err(|e| anyhow::anyhow!("recovering unfinished attempts: {e}"))?;
        crate::language_model::start_feedback(&state);
        let server = serve(listener, state.clone())?;
        tracing::info!(addr = %state.config.addr, port, "listening");
        Ok(Self {
            port,
            server,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting and lets requests in flight finish.
    /// Then releases the grader's pre-created containers, so a graceful stop leaves none.
    pub async fn run(self) -> std::io::Result<()> {
        let served = self.server.await;
        if let Some(grader) = &self.state.grader {
            grader.shutdown().await;
        }
        served
    }
}

fn bind(config: &Config) -> anyhow::Result<TcpListener> {
    TcpListener::bind(config.addr)
        .with_context(|| format!("CAMPUS_ADDR: cannot listen on {}", config.addr))
}

fn serve(listener: TcpListener, state: AppState) -> anyhow::Result<ActixServer> {
    let doc = openapi::document(&routes::registry());
    let data = web::Data::new(state.clone());
    let config = Arc::clone(&state.config);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .configure(|cfg| extract::configure(cfg, config.max_body_bytes))
            .configure(|cfg| routes::registry().configure(cfg))
            .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", doc.clone()))
            .default_service(web::to(not_found))
            .wrap(cors(&config.cors_origins))
            // Outside CORS, so its refusals get the JSON error shape too.
            .wrap(
                actix_web::middleware::ErrorHandlers::new()
                    .default_handler(crate::error::json_error_bodies),
            )
            .wrap(from_fn(telemetry::request_id_header))
            .wrap(TracingLogger::<CampusRootSpan>::new())
    })
    .shutdown_timeout(15)
    .listen(listener)
    .context("cannot start the HTTP server")?
    .run();
    Ok(server)
}

async fn not_found() -> Result<actix_web::HttpResponse, crate::error::ApiError> {
    Err(crate::error::ApiError::NotFound("route".into()))
}

/// Exactly the configured origins; none by default. Bearer tokens, not cookies, carry identity,
/// so credentials are not allowed.
fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .allowed_header("x-api-key")
        .expose_headers([
            header::HeaderName::from_static(telemetry::REQUEST_ID_HEADER),
            header::RETRY_AFTER,
        ])
        .expose_headers(crate::rate_limit::middleware::EXPOSED_HEADERS)
        .max_age(3600);
    for o in origins {
        cors = cors.allowed_origin(o);
    }
    cors
}
