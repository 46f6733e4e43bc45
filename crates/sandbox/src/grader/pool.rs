//! Containers created ahead of need (created, never started), for the memory size asked for last.

use super::{ContainerGuard, Inner};
use domain::grading::GradeError;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::Notify;

pub(super) struct Pooled {
    pub(super) id: String,
    pub(super) run: String,
    pub(super) memory_mb: u32,
}

impl Inner {
    /// A container for this memory size: a pooled one if there is one, else a new one. A job
    /// large enough to matter (`extra_mb` > 0) gets a container of its own with room for it.
    pub(super) async fn container(
        self: &Arc<Self>,
        task_memory_mb: u32,
        extra_mb: u32,
    ) -> Result<ContainerGuard, GradeError> {
        let memory_mb = task_memory_mb.saturating_add(extra_mb);
        let pooled = if extra_mb == 0 {
            self.wanted_memory_mb
                .store(memory_mb as usize, Ordering::Relaxed);
            self.pool.lock().ok().and_then(|mut p| {
                let i = p.iter().position(|c| c.memory_mb == memory_mb)?;
                Some(p.swap_remove(i))
            })
        } else {
            None
        };
        self.refill.notify_one();
        let (id, run) = match pooled {
            Some(p) => (p.id, p.run),
            None => self.create(memory_mb).await?,
        };
        Ok(ContainerGuard {
            inner: self.clone(),
            id,
            run,
        })
    }

    pub(super) async fn fill_pool(self: &Arc<Self>) {
        let want = self.wanted_memory_mb.load(Ordering::Relaxed) as u32;
        // Containers made for another memory size are not what runs ask for now.
        let stale: Vec<Pooled> = match self.pool.lock() {
            Ok(mut p) => {
                let (keep, stale) = std::mem::take(&mut *p)
                    .into_iter()
                    .partition(|c| c.memory_mb == want);
                *p = keep;
                stale
            }
            Err(_) => return,
        };
        for s in stale {
            self.remove(&s.id, &s.run).await;
        }
        loop {
            let have = self.pool.lock().map(|p| p.len()).unwrap_or(usize::MAX);
            if have >= self.config.prestart {
                return;
            }
            match self.create(want).await {
                Ok((id, run)) => {
                    if let Ok(mut p) = self.pool.lock() {
                        p.push(Pooled {
                            id,
                            run,
                            memory_mb: want,
                        });
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "pre-creating a sandbox container failed");
                    return;
                }
            }
        }
    }
}

pub(super) async fn pool_loop(inner: Weak<Inner>, refill: Arc<Notify>) {
    loop {
        {
            let Some(inner) = inner.upgrade() else { return };
            if inner.config.prestart > 0 {
                inner.fill_pool().await;
            }
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), refill.notified()).await;
    }
}
