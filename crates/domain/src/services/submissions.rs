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

/// What [`submit_code`] did.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // one per request, moved once: boxing buys nothing
pub enum CodeSubmission {
    /// Stored `Queued`; grade it against this task.
    Queued(Attempt, CodeTask),
    /// The student already has `limit` attempts queued or running: nothing was stored.
    InFlightCap { limit: u32 },
}

/// Validates a code submission and stores its attempt (`Queued`) before anything runs it, so a
/// crash between here and the grader loses nothing. A student may have at most `max_in_flight`
/// attempts queued or running at once (so one account cannot hold every grader); past that,
/// nothing is stored. The count and the insert are one transaction.
#[allow(clippy::too_many_arguments)]
pub fn submit_code(
    content: &dyn ContentRepo,
    attempts: &dyn AttemptRepo,
    outline: &[(Topic, Vec<Lesson>)],
    viewer: Viewer,
    task_id: Uuid,
    code: &str,
    max_in_flight: u32,
    now: Timestamp,
) -> Result<CodeSubmission, DomainError> {
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
    if !attempts.insert_attempt_capped(&attempt, max_in_flight)? {
        return Ok(CodeSubmission::InFlightCap {
            limit: max_in_flight,
        });
    }
    Ok(CodeSubmission::Queued(attempt, code_task))
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
    attempts.claim_attempt(attempt.id, now)?;
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

/// What recovery does with one attempt left `Queued` or `Running` by an instance that is gone.
#[derive(Debug, Clone, PartialEq)]
pub enum Recovery {
    /// `Queued` (again); hand it to the grader, which grades it only if its claim wins.
    Requeue {
        attempt_id: Uuid,
        code: String,
        task: CodeTask,
    },
    /// Its task is gone (or is no longer a code task): claimed and finished as `internal_error`.
    Failed { attempt_id: Uuid },
}

/// Which unfinished attempts recovery takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoveryCutoffs {
    /// A `Running` attempt started before this has no live grader (its grading would have ended
    /// by now): it goes back to `Queued`. Younger running attempts belong to a live instance and
    /// are left alone.
    pub running_started_before: Timestamp,
    /// `Queued` attempts created before this are handed to the grader. At start-up, `now` (all
    /// of them; the claim keeps a peer's queued attempt from being graded twice); in periodic
    /// sweeps a little earlier, so fresh submissions waiting in a live peer's queue are skipped.
    pub queued_created_before: Timestamp,
}

/// Plans the recovery of unfinished attempts, oldest first. Running attempts are re-queued only
/// when stale (one conditional update each, so two instances recovering at once, or a peer
/// claiming the attempt meanwhile, cannot both win). Every `Requeue` must go to the grader, which
/// grades only what it claims ([`AttemptRepo::claim_attempt`]), so nothing is graded twice.
pub fn recover_unfinished(
    content: &dyn ContentRepo,
    attempts: &dyn AttemptRepo,
    cutoffs: RecoveryCutoffs,
    now: Timestamp,
) -> Result<Vec<Recovery>, DomainError> {
    let mut plan = Vec::new();
    for a in attempts.unfinished_attempts()? {
        match a.status {
            AttemptStatus::Running => {
                if a.started_at
                    .is_some_and(|t| t >= cutoffs.running_started_before)
                    || !attempts.requeue_stale_attempt(a.id, cutoffs.running_started_before)?
                {
                    continue;
                }
            }
            AttemptStatus::Queued if a.created_at >= cutoffs.queued_created_before => continue,
            AttemptStatus::Queued => {}
            AttemptStatus::Done => continue,
        }
        let task = content.task(a.task_id)?;
        match (task.map(|t| t.data), a.input) {
            (Some(TaskData::Code(task)), AttemptInput::Code { code }) => {
                plan.push(Recovery::Requeue {
                    attempt_id: a.id,
                    code,
                    task,
                });
            }
            (data, _) => {
                if !attempts.claim_attempt(a.id, now)? {
                    continue;
                }
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

    fn queued(s: CodeSubmission) -> (Attempt, CodeTask) {
        match s {
            CodeSubmission::Queued(a, t) => (a, t),
            other => panic!("not queued: {other:?}"),
        }
    }

    fn submit(
        repo: &FakeRepo,
        outline: &[(Topic, Vec<Lesson>)],
        v: Viewer,
        task: Uuid,
        code: &str,
    ) -> Result<(Attempt, CodeTask), DomainError> {
        submit_code(repo, repo, outline, v, task, code, 100, now()).map(queued)
    }

    fn student() -> Viewer {
        Viewer::new(Uuid::new_v4(), Role::Student)
    }

    #[test]
    fn a_code_submission_is_stored_queued_before_grading() {
        let (repo, _, code, _) = setup();
        let outline = repo.outline(false).unwrap();
        let (a, task) = submit(&repo, &outline, student(), code, "print(3)").unwrap();
        assert_eq!(task.tests.len(), 2);
        let stored = repo.attempt(a.id).unwrap().unwrap();
        assert_eq!(stored.status, AttemptStatus::Queued);
    }

    #[test]
    fn quiz_tasks_take_no_code_and_code_over_64_kib_is_too_large() {
        let (repo, _, code, quiz) = setup();
        let outline = repo.outline(false).unwrap();
        let e = submit(&repo, &outline, student(), quiz, "print(1)").unwrap_err();
        assert!(
            matches!(e, DomainError::Validation(ref f) if f[0].field == "code"),
            "{e:?}"
        );
        let big = "#".repeat(MAX_SUBMISSION_BYTES + 1);
        let e = submit(&repo, &outline, student(), code, &big).unwrap_err();
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
        let e = submit(&repo, &outline, student(), draft, "print(1)").unwrap_err();
        assert!(matches!(e, DomainError::NotFound(_)));
        let teacher = Viewer::new(Uuid::new_v4(), Role::Teacher);
        let drafts = repo.outline(true).unwrap();
        assert!(submit(&repo, &drafts, teacher, draft, "print(1)").is_ok());
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
        let (a, _) = submit(&repo, &outline, owner, code, "print(1)").unwrap();
        assert!(readable_attempt(&repo, owner, a.id).is_ok());
        assert!(matches!(
            readable_attempt(&repo, student(), a.id),
            Err(DomainError::NotFound(_))
        ));
        assert!(readable_attempt(&repo, Viewer::new(Uuid::new_v4(), Role::Teacher), a.id).is_ok());
    }

    fn startup(now: Timestamp) -> RecoveryCutoffs {
        RecoveryCutoffs {
            running_started_before: now - chrono::Duration::minutes(12),
            queued_created_before: now,
        }
    }

    #[test]
    fn unfinished_attempts_are_requeued_or_failed_when_their_task_is_gone() {
        let (repo, l, code, _) = setup();
        let doomed = repo.add_task(l, "doomed", true, code_task_data());
        let outline = repo.outline(false).unwrap();
        let (a1, _) = submit(&repo, &outline, student(), code, "print(1)").unwrap();
        let (a2, _) = submit(&repo, &outline, student(), doomed, "print(2)").unwrap();
        // a1 was claimed by an instance that died an hour ago.
        assert!(repo
            .claim_attempt(a1.id, now() - chrono::Duration::hours(1))
            .unwrap());
        repo.forget_task(doomed);
        let plan = recover_unfinished(&repo, &repo, startup(now()), now()).unwrap();
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

    #[test]
    fn recovery_leaves_attempts_a_live_instance_is_running_alone() {
        let (repo, _, code, _) = setup();
        let outline = repo.outline(false).unwrap();
        let (live, _) = submit(&repo, &outline, student(), code, "print(1)").unwrap();
        assert!(repo.claim_attempt(live.id, now()).unwrap());
        let plan = recover_unfinished(&repo, &repo, startup(now()), now()).unwrap();
        assert!(plan.is_empty(), "{plan:?}");
        assert_eq!(
            repo.attempt(live.id).unwrap().unwrap().status,
            AttemptStatus::Running
        );
        // A queued attempt is handed out, but only one claim on it wins.
        let (q, _) = submit(&repo, &outline, student(), code, "print(2)").unwrap();
        let plan = recover_unfinished(&repo, &repo, startup(now()), now()).unwrap();
        assert!(matches!(&plan[..], [Recovery::Requeue { attempt_id, .. }] if *attempt_id == q.id));
        assert!(repo.claim_attempt(q.id, now()).unwrap());
        assert!(!repo.claim_attempt(q.id, now()).unwrap());
        // A periodic sweep skips fresh queued attempts (they sit in a live peer's queue).
        let (_fresh, _) = submit(&repo, &outline, student(), code, "print(3)").unwrap();
        let sweep = RecoveryCutoffs {
            running_started_before: now() - chrono::Duration::minutes(12),
            queued_created_before: now() - chrono::Duration::minutes(1),
        };
        assert!(recover_unfinished(&repo, &repo, sweep, now())
            .unwrap()
            .is_empty());
    }

    #[test]
    fn a_student_at_the_in_flight_cap_gets_nothing_stored() {
        let (repo, _, code, _) = setup();
        let outline = repo.outline(false).unwrap();
        let s = student();
        for i in 0..2 {
            let r = submit_code(
                &repo,
                &repo,
                &outline,
                s,
                code,
                &format!("print({i})"),
                2,
                now(),
            );
            assert!(matches!(r, Ok(CodeSubmission::Queued(..))), "{r:?}");
        }
        let r = submit_code(&repo, &repo, &outline, s, code, "print(9)", 2, now()).unwrap();
        assert_eq!(r, CodeSubmission::InFlightCap { limit: 2 });
        assert_eq!(repo.attempts_of_task(code).unwrap().len(), 2);
        // Another student is not affected.
        let r = submit_code(
            &repo,
            &repo,
            &outline,
            student(),
            code,
            "print(1)",
            2,
            now(),
        );
        assert!(matches!(r, Ok(CodeSubmission::Queued(..))));
    }
}
