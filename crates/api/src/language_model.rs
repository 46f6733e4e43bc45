//! The language model: built from `LLM_*` at start-up, and the feedback writer, which asks it
//! about every code attempt this instance grades and stores the answer as the attempt's
//! feedback. Feedback runs after the verdict is stored and never delays or changes it; a model
//! that is slow or down means an attempt without feedback, never a failed attempt.

use crate::{
    config::Config,
    routes::learning::learning,
    state::{db, AppState},
};
use domain::llm::{feedback_request, new_feedback, LanguageModel};
use std::sync::Arc;
use tokio::sync::{broadcast::error::RecvError, Semaphore};
use uuid::Uuid;

/// Longest feedback answer asked for.
const FEEDBACK_MAX_TOKENS: u32 = 400;
/// Feedback requests in flight at once, per instance.
const FEEDBACK_CONCURRENCY: usize = 4;

/// The configured model, or `None` when `LLM_BASE_URL` is unset.
pub fn connect(config: &Config) -> anyhow::Result<Option<Arc<dyn LanguageModel>>> {
    let Some(s) = &config.llm else {
        tracing::info!("no language model configured (LLM_BASE_URL): no feedback, no task drafts");
        return Ok(None);
    };
    let model = llm::OpenAiCompatible::new(llm::LlmConfig {
        base_url: s.base_url.clone(),
        api_key: s.api_key.clone(),
        model: s.model.clone(),
        timeout: s.timeout,
        temperature: 0.2,
    })
    .map_err(|e| anyhow::anyhow!("LLM_BASE_URL: {e}"))?;
    tracing::info!(model = %s.model, feedback = s.feedback, "language model configured");
    Ok(Some(Arc::new(model)))
}

/// Starts writing feedback for attempts as this instance finishes grading them (when a model
/// is configured with `LLM_FEEDBACK=on` and there is a grading worker).
pub fn start_feedback(state: &AppState) {
    let (Some(model), Some(queue)) = (state.llm.clone(), learning(state).queue.clone()) else {
        return;
    };
    if !state.config.llm.as_ref().is_some_and(|s| s.feedback) {
        return;
    }
    let mut finished = queue.subscribe();
    let state = state.clone();
    let permits = Arc::new(Semaphore::new(FEEDBACK_CONCURRENCY));
    tokio::spawn(async move {
        loop {
            let id = match finished.recv().await {
                Ok(id) => id,
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(
                        missed,
                        "feedback writer fell behind; some attempts get no feedback"
                    );
                    continue;
                }
                Err(RecvError::Closed) => return,
            };
            let Ok(permit) = permits.clone().acquire_owned().await else {
                return;
            };
            let (state, model) = (state.clone(), model.clone());
            tokio::spawn(async move {
                write_feedback(&state, model.as_ref(), id).await;
                drop(permit);
            });
        }
    });
}

/// Asks the model about attempt `id` and stores its answer. Failures are logged (without the
/// prompt or the answer, which hold student code) and otherwise ignored.
pub async fn write_feedback(state: &AppState, model: &dyn LanguageModel, id: Uuid) {
    let loaded = db(state, move |s| -> Result<_, domain::RepoError> {
        let Some(attempt) = s.attempt(id)? else {
            return Ok(None);
        };
        Ok(s.task(attempt.task_id)?.map(|task| (attempt, task)))
    })
    .await;
    let prompt = match loaded {
        Ok(Some((attempt, task))) => feedback_request(&attempt, &task),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(attempt_id = %id, error = %e, "cannot load the attempt for feedback");
            None
        }
    };
    let Some(prompt) = prompt else {
        return;
    };
    let feedback = match model.chat(&prompt, FEEDBACK_MAX_TOKENS).await {
        Ok(reply) => new_feedback(id, &reply, model.name(), domain::now()),
        Err(e) => Err(e),
    };
    match feedback {
        Ok(f) => match db(state, move |s| s.insert_feedback(&f)).await {
            Ok(()) => tracing::info!(attempt_id = %id, "feedback stored"),
            Err(e) => tracing::warn!(attempt_id = %id, error = %e, "cannot store feedback"),
        },
        Err(e) => tracing::warn!(attempt_id = %id, error = %e, "no feedback for this attempt"),
    }
}
