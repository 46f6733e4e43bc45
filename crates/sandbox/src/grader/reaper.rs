//! Removing labelled containers that no live run owns (at start and every `reap_interval`).

use super::Inner;
use crate::container::{LABEL_INSTANCE, LABEL_OWNER, LABEL_RUN, LABEL_SANDBOX};
use crate::error::{is_gone_or_going, SandboxError};
use crate::owner::{self, Ownership};
use bollard::query_parameters::{ListContainersOptionsBuilder, RemoveContainerOptionsBuilder};
use std::collections::HashMap;
use std::sync::Weak;
use std::time::Duration;

impl Inner {
    pub(super) async fn reap_orphans(&self) -> Result<usize, SandboxError> {
        let filters = HashMap::from([("label", vec![format!("{LABEL_SANDBOX}=1")])]);
        let opts = ListContainersOptionsBuilder::new()
            .all(true)
            .filters(&filters)
            .build();
        let list = self.docker.list_containers(Some(opts)).await?;
        let mut removed = 0;
        for c in list {
            let (Some(id), Some(labels)) = (c.id, c.labels) else {
                continue;
            };
            let get = |k: &str| labels.get(k).map_or("", String::as_str);
            let reap = match owner::classify(
                &self.instance_str,
                &self.owner,
                get(LABEL_INSTANCE),
                get(LABEL_OWNER),
            ) {
                Ownership::Mine => !self
                    .live_runs
                    .lock()
                    .map(|l| l.contains(get(LABEL_RUN)))
                    .unwrap_or(true),
                Ownership::Orphan => true,
                Ownership::Neighbour => false,
            };
            if reap {
                let opts = RemoveContainerOptionsBuilder::new()
                    .force(true)
                    .v(true)
                    .build();
                match self.docker.remove_container(&id, Some(opts)).await {
                    Ok(()) => removed += 1,
                    Err(e) if is_gone_or_going(&e) => {}
                    Err(e) => tracing::warn!(error = %e, "reaping a sandbox container failed"),
                }
            }
        }
        if removed > 0 {
            tracing::info!(removed, "reaped orphan sandbox containers");
        }
        Ok(removed)
    }
}

pub(super) async fn reaper_loop(inner: Weak<Inner>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let Some(inner) = inner.upgrade() else { return };
        if let Err(e) = inner.reap_orphans().await {
            tracing::warn!(error = %e, "periodic reap of sandbox containers failed");
        }
    }
}
