//! A short-lived per-process cache of "who is this account now" (id, username, role).
//!
//! Every authenticated request needs the account behind its token. Reading it from the
//! database each time was most of the cost of a cached lesson payload on PostgreSQL (one round
//! trip per request, on a path that otherwise touches no database at all). The cache keeps an
//! account for `ACCOUNT_CACHE_SECS` (default 2 s; 0 turns it off):
//!
//! - routes for any signed-in account (`Audience::Student`) may use a cached entry, so a role
//!   change or a deleted account shows there within the TTL;
//! - teacher and admin routes always read the database (`Freshness::Fresh`) and refresh the
//!   entry, so a demoted teacher loses authoring at their very next request;
//! - this process drops an entry as soon as it changes that account (`invalidate`).
//!
//! Concurrent misses for one account share a single database read (moka coalesces them).

use super::extract::CurrentUser;
use crate::{
    error::ApiError,
    state::{db, AppState},
};
use moka::future::Cache;
use std::{sync::Arc, time::Duration};
use uuid::Uuid;

/// How recent the account data behind a request must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Read from the database by this request.
    Fresh,
    /// At most `ACCOUNT_CACHE_SECS` old.
    Cached,
}

/// Most accounts kept at once; past it the least recently used go first.
const CAPACITY: u64 = 100_000;

#[derive(Clone)]
pub struct AccountCache {
    /// `None` when the TTL is zero: every request reads the database.
    cache: Option<Cache<Uuid, CurrentUser>>,
}

impl AccountCache {
    pub fn new(ttl: Duration) -> Self {
        let cache = (!ttl.is_zero()).then(|| {
            Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(ttl)
                .build()
        });
        Self { cache }
    }

    /// The account `id` as the database knows it now, or within the TTL for `Cached`.
    /// `None` when the account no longer exists (never cached).
    pub async fn get(
        &self,
        state: &AppState,
        id: Uuid,
        freshness: Freshness,
    ) -> Result<Option<CurrentUser>, ApiError> {
        let cache = match (&self.cache, freshness) {
            (Some(cache), Freshness::Cached) => cache,
            (cache, _) => {
                let found = load(state, id).await?;
                if let Some(cache) = cache {
                    match &found {
                        Some(user) => cache.insert(id, user.clone()).await,
                        None => cache.invalidate(&id).await,
                    }
                }
                return Ok(found);
            }
        };
        match cache
            .try_get_with(id, async { load(state, id).await?.ok_or(Missing::Account) })
            .await
        {
            Ok(user) => Ok(Some(user)),
            Err(e) => match Arc::try_unwrap(e) {
                Ok(Missing::Account) => Ok(None),
                Ok(Missing::Error(e)) => Err(e),
                // Another request waited on the same read: it gets a copy of the failure.
                Err(shared) => match &*shared {
                    Missing::Account => Ok(None),
                    Missing::Error(ApiError::Unavailable { public, cause }) => {
                        Err(ApiError::Unavailable {
                            public: public.clone(),
                            cause: cause.clone(),
                        })
                    }
                    Missing::Error(e) => Err(ApiError::internal(e)),
                },
            },
        }
    }

    /// Forgets `id` in this process, after this process changed the account.
    pub async fn invalidate(&self, id: Uuid) {
        if let Some(cache) = &self.cache {
            cache.invalidate(&id).await;
        }
    }
}

enum Missing {
    Account,
    Error(ApiError),
}

impl From<ApiError> for Missing {
    fn from(e: ApiError) -> Self {
        Missing::Error(e)
    }
}

async fn load(state: &AppState, id: Uuid) -> Result<Option<CurrentUser>, ApiError> {
    Ok(db(state, move |db| db.user_by_id(id))
        .await?
        .map(|user| CurrentUser {
            id: user.id,
            username: user.username,
            role: user.role,
        }))
}
