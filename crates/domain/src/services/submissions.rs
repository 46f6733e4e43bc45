//! Submissions: which tasks take code, what code is accepted, who may read an attempt, and what
//! happens to attempts a crash left unfinished.

use super::{quiz::grade_quiz, reading::readable_task, Viewer};
use crate::{
    attempt::{Attempt, AttemptInput, AttemptStatus},
    content::{Lesson, Topic},
    grading::GradeReport,
    ports::{AttemptRepo, ContentRepo},
    task::{CodeTask, Limits, Task, TaskData, TaskKind, MAX_CODE_BYTES},
    DomainError, Timestamp,
};
use uuid::Uuid;

/// The largest program a student may submit, in bytes of UTF-8.
pub const MAX_SUBMISSION_BYTES: usize = MAX_CODE_BYTES;

/// Checks a program against the task it is for; returns the code task to grade it with.
pub fn check_code_submission(task: &Task, code: &str) -> Result<CodeTask, DomainError> {
    let TaskData::Code(c) = &task.data else {
        return Err(DomainError::Validation(vec![crate::FieldError::new(
            "code",
            format!(
                "this is a {} task; only code tasks take a program",
                task.kind()
            ),
        )]));
    };
    if code.len() > MAX_SUBMISSION_BYTES {
        return Err(DomainError::TooLarge(format!(
            "code is {} bytes; the limit is {MAX_SUBMISSION_BYTES} bytes",
            code.len()
        )));
    }
    if code.trim().is_empty() {
        return Err(DomainError::invalid("code", "must not be empty"));
    }
    Ok(c.clone())
}

/// A fresh attempt, `Queued`, not yet stored.
pub fn new_attempt(user_id: Uuid, task_id: Uuid, input: AttemptInput, now: Timestamp) -> Attempt {
    Attempt {
        id: Uuid::new_v4(),
        user_id,
        task_id,
        input,
        status: AttemptStatus::Queued,
        report: None,
        created_at: now,
        started_at: None,
        finished_at: None,
    }
}

/// Validates a code submission and stores its attempt (`Queued`) before anything runs it, so a
/// crash between here and the grader loses nothing. Returns the stored attempt and the task to
/// grade it against.
pub fn submit_code(
    content: &dyn ContentRepo,
    attempts: &dyn AttemptRepo,
    outline: &[(Topic, Vec<Lesson>)],
    viewer: Viewer,
    task_id: Uuid,
    code: &str,
    now: Timestamp,
) -> Result<(Attempt, CodeTask), DomainError> {
    let (task, _) = readable_task(content, outline, viewer.sees_drafts(), task_id)?;
    let code_task = check_code_submission(&task, code)?;
    let attempt = new_attempt(
        viewer.user_id,
        task.id,
        AttemptInput::Code {
            code: code.to_string(),
        },
        now,
    );
    attempts.insert_attempt(&attempt)?;
    Ok((attempt, code_task))
}

/// Grades quiz answers on the spot and stores the attempt with its report (and a solution when
/// it is the first accepted one). Field errors name `answers[i]`.
pub fn submit_quiz(
    content: &dyn ContentRepo,
    attempts: &dyn AttemptRepo,
    outline: &[(Topic, Vec<Lesson>)],
    viewer: Viewer,
    task_id: Uuid,
    answers: Vec<Vec<u32>>,
    now: Timestamp,
) -> Result<Attempt, DomainError> {
    let (task, _) = readable_task(content, outline, viewer.sees_drafts(), task_id)?;
    let TaskData::Quiz(quiz) = &task.data else {
        return Err(DomainError::invalid(
            "answers",
            format!("this is a {} task, not a quiz", task.kind()),
        ));
    };
    let report = grade_quiz(quiz, &answers)?;
    let mut attempt = new_attempt(viewer.user_id, task.id, AttemptInput::Quiz { answers }, now);
    attempts.insert_attempt(&attempt)?;
    attempts.finish_attempt(attempt.id, &report, now)?;
    attempt.status = AttemptStatus::Done;
    attempt.report = Some(report);
    attempt.started_at = Some(now);
    attempt.finished_at = Some(now);
    Ok(attempt)
}

/// An attempt for its owner, or for a teacher or admin. Anyone else gets `NotFound`, so ids of
/// other students' attempts cannot be probed.
pub fn readable_attempt(
    attempts: &dyn AttemptRepo,
    viewer: Viewer,
    id: Uuid,
) -> Result<Attempt, DomainError> {
    match attempts.attempt(id)? {
        Some(a) if a.user_id == viewer.user_id || viewer.sees_drafts() => Ok(a),
        _ => Err(DomainError::NotFound("attempt")),
    }
}

/// What start-up does with one attempt a crash left `Queued` or `Running`.
#[derive(Debug, Clone, PartialEq)]
pub enum Recovery {
    /// Back to `Queued`; grade it again against this task.
    Requeue {
        attempt_id: Uuid,
        code: String,
        task: CodeTask,
    },
    /// Its task is gone (or is no longer a code task): finished as `internal_error`.
    Failed { attempt_id: Uuid },
}

/// Re-queues or fails every unfinished attempt, oldest first. Nothing stays `Queued` or
/// `Running` without a job behind it: the caller must hand every `Requeue` to the grader.
pub fn recover_unfinished(
    content: &dyn ContentRepo,
    attempts: &dyn AttemptRepo,
    now: Timestamp,
) -> Result<Vec<Recovery>, DomainError> {
    let mut plan = Vec::new();
    for a in attempts.unfinished_attempts()? {
        let task = content.task(a.task_id)?;
        match (task.map(|t| t.data), a.input) {
            (Some(TaskData::Code(task)), AttemptInput::Code { code }) => {
                attempts.set_status(a.id, AttemptStatus::Queued, now)?;
                plan.push(Recovery::Requeue {
                    attempt_id: a.id,
                    code,
                    task,
                });
            }
            (data, _) => {
                let limits = match data {
                    Some(TaskData::Code(c)) => c.limits,
                    _ => Limits::default(),
                };
                let report = GradeReport::internal(
                    limits,
                    "the task was removed or changed kind before this attempt was graded",
                );
                attempts.finish_attempt(a.id, &report, now)?;
                plan.push(Recovery::Failed { attempt_id: a.id });
            }
        }
    }
    Ok(plan)
}

/// Attempts of a task that a rejudge should grade again: finished code attempts.
pub fn rejudge_candidates(task: &Task, attempts: &[Attempt]) -> Vec<(Uuid, String)> {
    if task.kind() != TaskKind::Code {
        return Vec::new();
    }
    attempts
        .iter()
        .filter(|a| a.status == AttemptStatus::Done)
        .filter_map(|a| match &a.input {
            AttemptInput::Code { code } => Some((a.id, code.clone())),
            AttemptInput::Quiz { .. } => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::{
        services::fakes::{code_task_data, now, quiz_task_data, FakeRepo},
        user::Role,
    };

    fn setup() -> (FakeRepo, Uuid, Uuid, Uuid) {
        let repo = FakeRepo::default();
        let t = repo.add_topic("t", true);
        let l = repo.add_lesson(t, "l", true);
        let code = repo.add_task(l, "code", true, code_task_data());
        let quiz = repo.add_task(l, "quiz", true, quiz_task_data());
        (repo, l, code, quiz)
    }

    fn student() -> Viewer {
        Viewer::new(Uuid::new_v4(), Role::Student)
    }

    #[test]
    fn a_code_submission_is_stored_queued_before_grading() {
        let (repo, _, code, _) = setup();
        let outline = repo.outline(false).unwrap();
        let (a, task) =
            submit_code(&repo, &repo, &outline, student(), code, "print(3)", now()).unwrap();
        assert_eq!(task.tests.len(), 2);
        let stored = repo.attempt(a.id).unwrap().unwrap();
        assert_eq!(stored.status, AttemptStatus::Queued);
    }

    #[test]
    fn quiz_tasks_take_no_code_and_code_over_64_kib_is_too_large() {
        let (repo, _, code, quiz) = setup();
        let outline = repo.outline(false).unwrap();
        let e =
            submit_code(&repo, &repo, &outline, student(), quiz, "print(1)", now()).unwrap_err();
        assert!(
            matches!(e, DomainError::Validation(ref f) if f[0].field == "code"),
            "{e:?}"
        );
        let big = "#".repeat(MAX_SUBMISSION_BYTES + 1);
        let e = submit_code(&repo, &repo, &outline, student(), code, &big, now()).unwrap_err();
        assert!(matches!(e, DomainError::TooLarge(_)), "{e:?}");
        assert!(
            repo.attempts_of_task(code).unwrap().is_empty(),
            "refused submissions store nothing"
        );
    }

    #[test]
    fn students_cannot_submit_to_unpublished_tasks_but_teachers_can() {
        let (repo, l, _, _) = setup();
        let draft = repo.add_task(l, "draft", false, code_task_data());
        let outline = repo.outline(false).unwrap();
        let e =
            submit_code(&repo, &repo, &outline, student(), draft, "print(1)", now()).unwrap_err();
        assert!(matches!(e, DomainError::NotFound(_)));
        let teacher = Viewer::new(Uuid::new_v4(), Role::Teacher);
        let drafts = repo.outline(true).unwrap();
        assert!(submit_code(&repo, &repo, &drafts, teacher, draft, "print(1)", now()).is_ok());
    }

    #[test]
    fn quiz_answers_are_graded_and_stored_done_with_a_solution() {
        let (repo, _, _, quiz) = setup();
        let outline = repo.outline(false).unwrap();
        let s = student();
        let a = submit_quiz(&repo, &repo, &outline, s, quiz, vec![vec![1]], now()).unwrap();
        assert_eq!(a.report.unwrap().verdict, crate::grading::Verdict::Accepted);
        let stored = repo.attempt(a.id).unwrap().unwrap();
        assert_eq!(stored.status, AttemptStatus::Done);
        let sols = repo
            .solutions_of_user(s.user_id, crate::attempt::Page::new(None, None).unwrap())
            .unwrap();
        assert_eq!(sols.len(), 1);
    }

    #[test]
    fn only_the_owner_or_a_teacher_reads_an_attempt() {
        let (repo, _, code, _) = setup();
        let outline = repo.outline(false).unwrap();
        let owner = student();
        let (a, _) = submit_code(&repo, &repo, &outline, owner, code, "print(1)", now()).unwrap();
        assert!(readable_attempt(&repo, owner, a.id).is_ok());
        assert!(matches!(
            readable_attempt(&repo, student(), a.id),
            Err(DomainError::NotFound(_))
        ));
        assert!(readable_attempt(&repo, Viewer::new(Uuid::new_v4(), Role::Teacher), a.id).is_ok());
    }

    #[test]
    fn unfinished_attempts_are_requeued_or_failed_when_their_task_is_gone() {
        let (repo, l, code, _) = setup();
        let doomed = repo.add_task(l, "doomed", true, code_task_data());
        let outline = repo.outline(false).unwrap();
        let (a1, _) =
            submit_code(&repo, &repo, &outline, student(), code, "print(1)", now()).unwrap();
        let (a2, _) =
            submit_code(&repo, &repo, &outline, student(), doomed, "print(2)", now()).unwrap();
        repo.set_status(a1.id, AttemptStatus::Running, now())
            .unwrap();
        repo.forget_task(doomed);
        let plan = recover_unfinished(&repo, &repo, now()).unwrap();
        assert_eq!(plan.len(), 2);
        assert!(
            matches!(&plan[0], Recovery::Requeue { attempt_id, code, .. } if *attempt_id == a1.id && code == "print(1)")
        );
        assert_eq!(plan[1], Recovery::Failed { attempt_id: a2.id });
        assert_eq!(
            repo.attempt(a1.id).unwrap().unwrap().status,
            AttemptStatus::Queued
        );
        let failed = repo.attempt(a2.id).unwrap().unwrap();
        assert_eq!(failed.status, AttemptStatus::Done);
        assert_eq!(
            failed.report.unwrap().verdict,
            crate::grading::Verdict::InternalError
        );
    }
}
