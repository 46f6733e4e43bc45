//! Progress through the course (per topic: tasks solved of tasks there) and task analytics.

use crate::{
    analytics::{task_stats, TaskStats},
    attempt::Page,
    content::{Lesson, Topic},
    ports::{AttemptRepo, ContentRepo},
    task::Task,
    DomainError,
};
use std::collections::HashSet;
use uuid::Uuid;

/// The task ids of each topic, in course order, for one audience.
pub type TaskIndex = Vec<(Uuid, Vec<Uuid>)>;

/// Collects the task ids under every lesson of `outline` (one port call per lesson, so callers
/// cache the result together with the outline).
pub fn task_index(
    repo: &dyn ContentRepo,
    outline: &[(Topic, Vec<Lesson>)],
    include_drafts: bool,
) -> Result<TaskIndex, DomainError> {
    let mut index = Vec::with_capacity(outline.len());
    for (topic, lessons) in outline {
        let mut ids = Vec::new();
        for lesson in lessons {
            ids.extend(
                repo.tasks(lesson.id, include_drafts)?
                    .into_iter()
                    .map(|t| t.id),
            );
        }
        index.push((topic.id, ids));
    }
    Ok(index)
}

/// Every task a user has solved (their solutions, all pages).
pub fn solved_tasks(
    attempts: &dyn AttemptRepo,
    user_id: Uuid,
) -> Result<HashSet<Uuid>, DomainError> {
    let mut solved = HashSet::new();
    let mut offset = 0;
    loop {
        let page = Page {
            limit: Page::MAX_LIMIT,
            offset,
        };
        let batch = attempts.solutions_of_user(user_id, page)?;
        let n = batch.len() as u32;
        solved.extend(batch.into_iter().map(|s| s.task_id));
        if n < Page::MAX_LIMIT {
            return Ok(solved);
        }
        offset += n;
    }
}

/// Every task a user has attempted at least once.
pub fn attempted_tasks(
    attempts: &dyn AttemptRepo,
    user_id: Uuid,
) -> Result<HashSet<Uuid>, DomainError> {
    let mut tried = HashSet::new();
    let mut offset = 0;
    loop {
        let page = Page {
            limit: Page::MAX_LIMIT,
            offset,
        };
        let batch = attempts.attempts_of_user(user_id, None, page)?;
        let n = batch.len() as u32;
        tried.extend(batch.into_iter().map(|a| a.task_id));
        if n < Page::MAX_LIMIT {
            return Ok(tried);
        }
        offset += n;
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicProgress {
    pub topic_id: Uuid,
    pub tasks_total: u32,
    pub tasks_attempted: u32,
    pub tasks_solved: u32,
}

/// Per topic of `index`: how many of its tasks are in `attempted` and `solved`.
pub fn course_progress(
    index: &TaskIndex,
    attempted: &HashSet<Uuid>,
    solved: &HashSet<Uuid>,
) -> Vec<TopicProgress> {
    index
        .iter()
        .map(|(topic_id, ids)| TopicProgress {
            topic_id: *topic_id,
            tasks_total: ids.len() as u32,
            tasks_attempted: ids
                .iter()
                .filter(|id| attempted.contains(id) || solved.contains(id))
                .count() as u32,
            tasks_solved: ids.iter().filter(|id| solved.contains(id)).count() as u32,
        })
        .collect()
}

/// Analytics of one task over every attempt at it.
pub fn task_analytics(
    content: &dyn ContentRepo,
    attempts: &dyn AttemptRepo,
    task_id: Uuid,
) -> Result<(Task, TaskStats), DomainError> {
    let task = content
        .task(task_id)?
        .ok_or(DomainError::NotFound("task"))?;
    let all = attempts.attempts_of_task(task_id)?;
    Ok((task, task_stats(&all)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::{
        attempt::AttemptInput,
        services::{
            fakes::{code_task_data, now, quiz_task_data, FakeRepo},
            submissions::{submit_code, submit_quiz},
            Viewer,
        },
        user::Role,
    };

    #[test]
    fn progress_counts_solved_and_attempted_tasks_per_topic() {
        let repo = FakeRepo::default();
        let t1 = repo.add_topic("a", true);
        let t2 = repo.add_topic("b", true);
        let l1 = repo.add_lesson(t1, "l1", true);
        let l2 = repo.add_lesson(t2, "l2", true);
        let q1 = repo.add_task(l1, "q1", true, quiz_task_data());
        let _q2 = repo.add_task(l1, "q2", true, quiz_task_data());
        let _draft = repo.add_task(l1, "draft", false, quiz_task_data());
        let c = repo.add_task(l2, "c", true, code_task_data());
        let s = Viewer::new(Uuid::new_v4(), Role::Student);
        let outline = repo.outline(false).unwrap();
        submit_quiz(&repo, &repo, &outline, s, q1, vec![vec![1]], now()).unwrap();
        submit_code(&repo, &repo, &outline, s, c, "print(1)", 2, now()).unwrap();
        let index = task_index(&repo, &outline, false).unwrap();
        let p = course_progress(
            &index,
            &attempted_tasks(&repo, s.user_id).unwrap(),
            &solved_tasks(&repo, s.user_id).unwrap(),
        );
        assert_eq!(
            p[0],
            TopicProgress {
                topic_id: t1,
                tasks_total: 2,
                tasks_attempted: 1,
                tasks_solved: 1
            }
        );
        assert_eq!(
            p[1],
            TopicProgress {
                topic_id: t2,
                tasks_total: 1,
                tasks_attempted: 1,
                tasks_solved: 0
            }
        );
    }

    #[test]
    fn task_analytics_uses_every_attempt_of_the_task() {
        let repo = FakeRepo::default();
        let t = repo.add_topic("a", true);
        let l = repo.add_lesson(t, "l", true);
        let q = repo.add_task(l, "q", true, quiz_task_data());
        let outline = repo.outline(false).unwrap();
        let s = Viewer::new(Uuid::new_v4(), Role::Student);
        submit_quiz(&repo, &repo, &outline, s, q, vec![vec![0]], now()).unwrap();
        submit_quiz(&repo, &repo, &outline, s, q, vec![vec![1]], now()).unwrap();
        let (task, stats) = task_analytics(&repo, &repo, q).unwrap();
        assert_eq!(task.id, q);
        assert_eq!(stats.attempts, 2);
        assert_eq!(stats.students_passed, 1);
        assert_eq!(stats.median_attempts_to_pass, Some(2.0));
        assert!(matches!(
            repo.attempts_of_task(q).unwrap()[0].input,
            AttemptInput::Quiz { .. }
        ));
    }
}
