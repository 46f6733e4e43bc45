//! A short-lived in-process cache of the course outline and of lesson payloads.
//!
//! Reading is most of the traffic and changes rarely. Without a cache, `GET /lessons/{id}`
//! reads the whole outline (for previous/next) and the lesson's tasks on every call. Entries
//! are dropped at once when this process writes content, so a teacher sees their own change
//! immediately. Other instances' writes show within `ttl` (default 2 s): past it, one request
//! rebuilds the entry while the others keep serving the old one (no stampede of 64 identical
//! rebuilds), and past `MAX_STALE` everybody waits for a fresh one.

use super::dto::LessonPayload;
use crate::{
    error::ApiError,
    state::{db, AppState},
};
use actix_web::web::Bytes;
use domain::services::{
    progress::{task_index, TaskIndex},
    reading::{lesson_view, Outline},
};
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, RwLock,
    },
    time::{Duration, Instant},
};
use uuid::Uuid;

/// Past this age an entry is never served, even while another request is rebuilding it.
const MAX_STALE: Duration = Duration::from_secs(30);

struct Entry<T> {
    value: T,
    at: Instant,
    generation: u64,
    /// Set by the one request that rebuilds this expired entry.
    refreshing: AtomicBool,
}

pub struct ContentCache {
    ttl: Duration,
    generation: AtomicU64,
    /// Index 0: what students see; 1: with drafts.
    outlines: [RwLock<Option<Entry<Arc<Outline>>>>; 2],
    indexes: [RwLock<Option<Entry<Arc<TaskIndex>>>>; 2],
    lessons: RwLock<HashMap<(Uuid, bool), Entry<Bytes>>>,
}

impl Default for ContentCache {
    fn default() -> Self {
        Self::new(Duration::from_secs(2))
    }
}

fn read<T: Clone>(
    lock: &RwLock<Option<Entry<T>>>,
    usable: impl Fn(&Entry<T>) -> bool,
) -> Option<T> {
    let guard = lock.read().unwrap_or_else(|p| p.into_inner());
    guard
        .as_ref()
        .filter(|e| usable(e))
        .map(|e| e.value.clone())
}

impl ContentCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            generation: AtomicU64::new(0),
            outlines: [RwLock::new(None), RwLock::new(None)],
            indexes: [RwLock::new(None), RwLock::new(None)],
            lessons: RwLock::new(HashMap::new()),
        }
    }

    /// Forgets everything; called after every content write of this process.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.lessons
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Whether `e` may be served: fresh, or expired while another request rebuilds it. The
    /// first caller to find it expired gets `false` and rebuilds it.
    fn usable<T>(&self, e: &Entry<T>) -> bool {
        if e.generation != self.generation.load(Ordering::SeqCst) {
            return false;
        }
        let age = e.at.elapsed();
        if age < self.ttl {
            return true;
        }
        age < MAX_STALE && e.refreshing.swap(true, Ordering::SeqCst)
    }

    /// Not invalidated and not too old (for pruning).
    fn current<T>(&self, e: &Entry<T>) -> bool {
        e.generation == self.generation.load(Ordering::SeqCst) && e.at.elapsed() < MAX_STALE
    }

    fn entry<T>(&self, value: T, generation: u64) -> Entry<T> {
        Entry {
            value,
            at: Instant::now(),
            generation,
            refreshing: AtomicBool::new(false),
        }
    }

    pub async fn outline(&self, state: &AppState, drafts: bool) -> Result<Arc<Outline>, ApiError> {
        let slot = &self.outlines[usize::from(drafts)];
        if let Some(hit) = read(slot, |e| self.usable(e)) {
            return Ok(hit);
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let outline = Arc::new(db(state, move |s| s.outline(drafts)).await?);
        *slot.write().unwrap_or_else(|p| p.into_inner()) =
            Some(self.entry(outline.clone(), generation));
        Ok(outline)
    }

    /// Task ids per topic, for progress counts.
    pub async fn task_index(
        &self,
        state: &AppState,
        drafts: bool,
    ) -> Result<Arc<TaskIndex>, ApiError> {
        let slot = &self.indexes[usize::from(drafts)];
        if let Some(hit) = read(slot, |e| self.usable(e)) {
            return Ok(hit);
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let outline = self.outline(state, drafts).await?;
        let index = Arc::new(db(state, move |s| task_index(s, &outline, drafts)).await?);
        *slot.write().unwrap_or_else(|p| p.into_inner()) =
            Some(self.entry(index.clone(), generation));
        Ok(index)
    }

    /// The serialized lesson payload (`NotFound` when this audience cannot see the lesson).
    pub async fn lesson_json(
        &self,
        state: &AppState,
        drafts: bool,
        id: Uuid,
    ) -> Result<Bytes, ApiError> {
        {
            let map = self.lessons.read().unwrap_or_else(|p| p.into_inner());
            if let Some(e) = map.get(&(id, drafts)).filter(|e| self.usable(e)) {
                return Ok(e.value.clone());
            }
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let outline = self.outline(state, drafts).await?;
        let view = db(state, move |s| lesson_view(s, &outline, drafts, id)).await?;
        let bytes = Bytes::from(
            serde_json::to_vec(&LessonPayload::from(&view)).map_err(ApiError::internal)?,
        );
        let mut map = self.lessons.write().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, e| self.current(e));
        map.insert((id, drafts), self.entry(bytes.clone(), generation));
        Ok(bytes)
    }
}
