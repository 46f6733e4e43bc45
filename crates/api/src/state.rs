//! What every handler can reach, and the one door to the database.

use crate::{auth::jwt::JwtKeys, config::Config, error::ApiError};
use actix_web::web;
use domain::{
    grading::Grader,
    ports::{AttemptRepo, ContentRepo, DatabaseAdmin, LinkRepo, SessionRepo, TokenRepo, UserRepo},
};
use std::sync::Arc;

/// Every storage port at once. `persistence::Database` is one; tests may hand in another.
pub trait Store:
    UserRepo
    + TokenRepo
    + ContentRepo
    + AttemptRepo
    + SessionRepo
    + LinkRepo
    + DatabaseAdmin
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: UserRepo
        + TokenRepo
        + ContentRepo
        + AttemptRepo
        + SessionRepo
        + LinkRepo
        + DatabaseAdmin
        + Send
        + Sync
        + 'static
{
}

/// Shared by every worker; cheap to clone (all `Arc`s).
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Arc<dyn Store>,
    /// The sandbox grader; it may be unreachable at a given moment (`ready_grader`). `None`
    /// only where a server is built without one (tests): code submissions then answer 503.
    pub grader: Option<Arc<dyn Grader>>,
    pub jwt: Arc<JwtKeys>,
    /// An argon2 hash of a random password, verified against when a username is unknown so
    /// that "no such user" takes as long as "wrong password".
    pub dummy_password_hash: Arc<str>,
    /// The learning routes' content cache and grading queue.
    pub learning: Arc<crate::routes::learning::Learning>,
    /// Rate limits: Redis shared by every instance, or in-process (see `rate_limit`).
    pub limiter: crate::rate_limit::Limiter,
    /// The language model (`LLM_*`), if configured: feedback on attempts, task drafts.
    pub llm: Option<Arc<dyn domain::llm::LanguageModel>>,
    /// Recently read accounts (`ACCOUNT_CACHE_SECS`), for routes open to any signed-in account.
    pub accounts: crate::auth::accounts::AccountCache,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .field("grader", &self.grader.is_some())
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// The grader, or the 503 a submission gets when there is none.
    pub fn grader(&self) -> Result<Arc<dyn Grader>, ApiError> {
        self.grader.clone().ok_or_else(|| ApiError::Unavailable {
            public: "code grading is unavailable: this server has no sandbox grader".into(),
            cause: "no grader configured".into(),
        })
    }

    /// The grader if it can grade now (a lazily connected one tries to connect here), or the
    /// 503 to answer before anything is stored.
    pub async fn ready_grader(&self) -> Result<Arc<dyn Grader>, ApiError> {
        let grader = self.grader()?;
        match grader.ready().await {
            Ok(()) => Ok(grader),
            Err(e) => Err(ApiError::Unavailable {
                public: "code grading is unavailable right now (the sandbox is not reachable); \
                         nothing was stored, try again later"
                    .into(),
                cause: e.to_string(),
            }),
        }
    }
}

/// Runs `f` against the database on the blocking thread pool and maps its error.
/// Every database call in `api` goes through here: diesel blocks, and an actix worker is a
/// single-threaded runtime that must never wait on it.
pub async fn db<T, E, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&dyn Store) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: Into<ApiError> + Send + 'static,
{
    let store = Arc::clone(&state.db);
    web::block(move || f(store.as_ref()))
        .await?
        .map_err(Into::into)
}

/// Runs CPU-heavy work (password hashing) on the blocking pool.
pub async fn blocking<T, E, F>(f: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: Into<ApiError> + Send + 'static,
{
    web::block(f).await?.map_err(Into::into)
}
