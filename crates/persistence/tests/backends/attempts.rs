use crate::common::*;
use domain::{
    attempt::{AttemptInput, AttemptStatus, Feedback, Page},
    grading::{GradeReport, TestOutcome, Verdict},
    ports::{AttemptRepo, ContentRepo},
    task::Limits,
    RepoError,
};
use persistence::{testing::execute_raw, Database};
use uuid::Uuid;

fn report(verdict: Verdict) -> GradeReport {
    let passed = verdict == Verdict::Accepted;
    GradeReport {
        verdict,
        score: if passed { 1.0 } else { 0.0 },
        tests: vec![TestOutcome {
            name: "small".into(),
            verdict,
            passed,
            time_ms: 12,
            weight: 1,
            hidden: false,
            input: Some("1 2\n".into()),
            expected: Some("3\n".into()),
            actual: Some(if passed { "3\n" } else { "4\n" }.into()),
            message: None,
        }],
        diagnostics: None,
        image_id: "sha256:abc".into(),
        limits: Limits::default(),
        duration_ms: 40,
    }
}

fn page() -> Page {
    Page::new(Some(100), None).unwrap()
}

pub fn attempt_lifecycle_records_the_first_accepted_attempt_as_the_solution_once(db: &Database) {
    let (u, k) = setup_task(db);
    let a1 = queued_attempt(&u, &k, at(1));
    let a2 = queued_attempt(&u, &k, at(2));
    let a3 = queued_attempt(&u, &k, at(3));
    for a in [&a1, &a2, &a3] {
        db.insert_attempt(a).unwrap();
    }
    assert_eq!(db.attempt(a1.id).unwrap().as_ref(), Some(&a1));

    db.set_status(a1.id, AttemptStatus::Running, at(10))
        .unwrap();
    let running = db.attempt(a1.id).unwrap().unwrap();
    assert_eq!(
        (running.status, running.started_at),
        (AttemptStatus::Running, Some(at(10)))
    );
    assert!(matches!(
        db.set_status(a1.id, AttemptStatus::Done, at(11)),
        Err(RepoError::Conflict(_))
    ));

    db.finish_attempt(a1.id, &report(Verdict::WrongAnswer), at(11))
        .unwrap();
    let done = db.attempt(a1.id).unwrap().unwrap();
    assert_eq!(done.status, AttemptStatus::Done);
    assert_eq!(done.report, Some(report(Verdict::WrongAnswer)));
    assert_eq!(done.finished_at, Some(at(11)));
    assert!(
        db.solutions_of_user(u.id, page()).unwrap().is_empty(),
        "a wrong answer solves nothing"
    );

    // Finishing twice or restarting a finished attempt is refused.
    assert!(matches!(
        db.finish_attempt(a1.id, &report(Verdict::Accepted), at(12)),
        Err(RepoError::Conflict(_))
    ));
    assert!(matches!(
        db.set_status(a1.id, AttemptStatus::Running, at(12)),
        Err(RepoError::Conflict(_))
    ));
    assert!(matches!(
        db.finish_attempt(Uuid::new_v4(), &report(Verdict::Accepted), at(12)),
        Err(RepoError::NotFound(_))
    ));

    assert!(db.claim_attempt(a2.id, at(20)).unwrap());
    db.finish_attempt(a2.id, &report(Verdict::Accepted), at(20))
        .unwrap();
    assert!(db.claim_attempt(a3.id, at(30)).unwrap());
    db.finish_attempt(a3.id, &report(Verdict::Accepted), at(30))
        .unwrap();
    let sols = db.solutions_of_user(u.id, page()).unwrap();
    assert_eq!(sols.len(), 1);
    assert_eq!(
        (sols[0].attempt_id, sols[0].task_id, sols[0].solved_at),
        (a2.id, k.id, at(20))
    );
    assert_eq!(
        db.attempt(a3.id).unwrap().unwrap().report.unwrap().verdict,
        Verdict::Accepted
    );
}

pub fn unfinished_attempts_are_listed_oldest_first(db: &Database) {
    let (u, k) = setup_task(db);
    let newer = queued_attempt(&u, &k, at(5));
    let older = queued_attempt(&u, &k, at(1));
    let done = queued_attempt(&u, &k, at(0));
    for a in [&newer, &older, &done] {
        db.insert_attempt(a).unwrap();
    }
    db.set_status(older.id, AttemptStatus::Running, at(6))
        .unwrap();
    assert!(db.claim_attempt(done.id, at(7)).unwrap());
    db.finish_attempt(done.id, &report(Verdict::WrongAnswer), at(7))
        .unwrap();
    let ids: Vec<Uuid> = db
        .unfinished_attempts()
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(ids, vec![older.id, newer.id]);
}

pub fn attempts_page_newest_first_and_filter_by_task(db: &Database) {
    let (u, k) = setup_task(db);
    let l = db.lesson(k.lesson_id).unwrap().unwrap();
    let k2 = task(db, &l, "second");
    let other = user(db, "bob");
    let mut mine = Vec::new();
    for i in 0..5 {
        let a = queued_attempt(&u, if i % 2 == 0 { &k } else { &k2 }, at(i));
        db.insert_attempt(&a).unwrap();
        mine.push(a.id);
    }
    db.insert_attempt(&queued_attempt(&other, &k, at(9)))
        .unwrap();
    let all: Vec<Uuid> = db
        .attempts_of_user(u.id, None, page())
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(all, mine.iter().rev().copied().collect::<Vec<_>>());
    let p = db
        .attempts_of_user(u.id, None, Page::new(Some(2), Some(1)).unwrap())
        .unwrap();
    assert_eq!(
        p.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![mine[3], mine[2]]
    );
    let only_k: Vec<Uuid> = db
        .attempts_of_user(u.id, Some(k.id), page())
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(only_k, vec![mine[4], mine[2], mine[0]]);
    let of_task = db.attempts_of_task(k.id).unwrap();
    assert_eq!(of_task.len(), 4);
    assert!(of_task
        .windows(2)
        .all(|w| w[0].created_at <= w[1].created_at));
}

pub fn corrupt_attempt_rows_are_rejected_on_read(db: &Database) {
    let (u, k) = setup_task(db);
    let a = queued_attempt(&u, &k, at(1));
    db.insert_attempt(&a).unwrap();
    assert!(db.claim_attempt(a.id, at(2)).unwrap());
    db.finish_attempt(a.id, &report(Verdict::Accepted), at(2))
        .unwrap();
    let cases = [
        "input = '{\"kind\":\"code\",\"cod\":\"x\"}'",
        "input = 'garbage'",
        "report = '{\"verdict\":\"accepted\"}'",
        "verdict = 'wrong_answer'",
        "report = NULL, verdict = NULL, score = NULL",
    ];
    for set in cases {
        execute_raw(
            db,
            &format!("UPDATE attempts SET {set} WHERE id = '{}'", a.id),
        )
        .unwrap();
        assert!(
            matches!(db.attempt(a.id), Err(RepoError::Internal(m)) if m.contains("attempts")),
            "{set}"
        );
        // Restore the good row for the next case.
        execute_raw(db, &format!("DELETE FROM attempts WHERE id = '{}'", a.id)).unwrap();
        db.insert_attempt(&a).unwrap();
        assert!(db.claim_attempt(a.id, at(2)).unwrap());
        db.finish_attempt(a.id, &report(Verdict::Accepted), at(2))
            .unwrap();
        assert!(db.attempt(a.id).unwrap().is_some());
    }
}

pub fn feedback_round_trips_in_order(db: &Database) {
    let (u, k) = setup_task(db);
    let a = queued_attempt(&u, &k, at(1));
    db.insert_attempt(&a).unwrap();
    let f2 = Feedback {
        id: Uuid::new_v4(),
        attempt_id: a.id,
        body: "second".into(),
        author: "gpt".into(),
        created_at: at(20),
    };
    let f1 = Feedback {
        id: Uuid::new_v4(),
        attempt_id: a.id,
        body: "first".into(),
        author: "teacher".into(),
        created_at: at(10),
    };
    db.insert_feedback(&f2).unwrap();
    db.insert_feedback(&f1).unwrap();
    assert_eq!(db.feedback_of_attempt(a.id).unwrap(), vec![f1, f2]);
    let orphan = Feedback {
        id: Uuid::new_v4(),
        attempt_id: Uuid::new_v4(),
        body: "x".into(),
        author: "y".into(),
        created_at: at(1),
    };
    assert!(matches!(
        db.insert_feedback(&orphan),
        Err(RepoError::Conflict(_))
    ));
}

pub fn attempts_for_missing_tasks_are_conflicts(db: &Database) {
    let (u, k) = setup_task(db);
    let mut a = queued_attempt(&u, &k, at(1));
    a.task_id = Uuid::new_v4();
    match db.insert_attempt(&a) {
        Err(RepoError::Conflict(m)) => assert!(m.contains("does not exist"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let mut quiz = queued_attempt(&u, &k, at(1));
    quiz.input = AttemptInput::Quiz {
        answers: vec![vec![0, 2], vec![]],
    };
    db.insert_attempt(&quiz).unwrap();
    assert_eq!(db.attempt(quiz.id).unwrap().unwrap().input, quiz.input);
    assert!(
        matches!(db.insert_attempt(&quiz), Err(RepoError::Conflict(_))),
        "same id twice"
    );
    // A finished attempt without a report (or the reverse) is refused before writing.
    let mut half = queued_attempt(&u, &k, at(2));
    half.status = AttemptStatus::Done;
    assert!(
        matches!(db.insert_attempt(&half), Err(RepoError::Invalid(e)) if e[0].field == "report")
    );
    assert_eq!(db.attempt(half.id).unwrap(), None);
}

pub fn claiming_an_attempt_succeeds_once_and_finishing_needs_a_claim(db: &Database) {
    let (u, k) = setup_task(db);
    let a = queued_attempt(&u, &k, at(1));
    db.insert_attempt(&a).unwrap();
    // Not claimed: finishing is refused.
    assert!(matches!(
        db.finish_attempt(a.id, &report(Verdict::Accepted), at(2)),
        Err(RepoError::Conflict(_))
    ));
    assert!(db.claim_attempt(a.id, at(3)).unwrap());
    assert!(
        !db.claim_attempt(a.id, at(4)).unwrap(),
        "a second claim loses"
    );
    assert!(!db.claim_attempt(Uuid::new_v4(), at(4)).unwrap());
    let running = db.attempt(a.id).unwrap().unwrap();
    assert_eq!(
        (running.status, running.started_at),
        (AttemptStatus::Running, Some(at(3)))
    );
    db.finish_attempt(a.id, &report(Verdict::Accepted), at(5))
        .unwrap();
    assert!(
        !db.claim_attempt(a.id, at(6)).unwrap(),
        "a finished attempt"
    );
}

pub fn racing_claims_of_one_attempt_let_exactly_one_win(db: &Database) {
    let (u, k) = setup_task(db);
    let a = queued_attempt(&u, &k, at(1));
    db.insert_attempt(&a).unwrap();
    let wins: usize = std::thread::scope(|s| {
        let hs: Vec<_> = (0..8)
            .map(|i| s.spawn(move || db.claim_attempt(a.id, at(10 + i)).unwrap()))
            .collect();
        hs.into_iter().map(|h| usize::from(h.join().unwrap())).sum()
    });
    assert_eq!(wins, 1);
}

pub fn only_stale_running_attempts_are_requeued(db: &Database) {
    let (u, k) = setup_task(db);
    let a = queued_attempt(&u, &k, at(1));
    db.insert_attempt(&a).unwrap();
    assert!(
        !db.requeue_stale_attempt(a.id, at(100)).unwrap(),
        "queued, not running"
    );
    assert!(db.claim_attempt(a.id, at(10)).unwrap());
    assert!(
        !db.requeue_stale_attempt(a.id, at(10)).unwrap(),
        "started at the cutoff: still live"
    );
    assert!(db.requeue_stale_attempt(a.id, at(11)).unwrap());
    assert_eq!(
        db.attempt(a.id).unwrap().unwrap().status,
        AttemptStatus::Queued
    );
    // Re-claimed by another instance: a recovery that read the old row cannot requeue it.
    assert!(db.claim_attempt(a.id, at(50)).unwrap());
    assert!(!db.requeue_stale_attempt(a.id, at(11)).unwrap());
}

pub fn the_in_flight_cap_counts_only_unfinished_attempts_of_the_user(db: &Database) {
    let (u, k) = setup_task(db);
    let other = user(db, "carol");
    let a1 = queued_attempt(&u, &k, at(1));
    let a2 = queued_attempt(&u, &k, at(2));
    let a3 = queued_attempt(&u, &k, at(3));
    assert!(db.insert_attempt_capped(&a1, 2).unwrap());
    assert!(db.insert_attempt_capped(&a2, 2).unwrap());
    assert!(!db.insert_attempt_capped(&a3, 2).unwrap());
    assert_eq!(db.attempt(a3.id).unwrap(), None, "refused: nothing stored");
    assert_eq!(db.count_unfinished_of_user(u.id).unwrap(), 2);
    assert!(db
        .insert_attempt_capped(&queued_attempt(&other, &k, at(4)), 2)
        .unwrap());
    assert!(db.claim_attempt(a1.id, at(5)).unwrap());
    assert!(!db.insert_attempt_capped(&a3, 2).unwrap(), "running counts");
    db.finish_attempt(a1.id, &report(Verdict::WrongAnswer), at(6))
        .unwrap();
    assert!(db.insert_attempt_capped(&a3, 2).unwrap());
    assert_eq!(db.count_unfinished_of_user(u.id).unwrap(), 2);
}

pub fn racing_capped_inserts_of_one_user_stay_under_the_cap(db: &Database) {
    let (u, k) = setup_task(db);
    let wins: usize = std::thread::scope(|s| {
        let hs: Vec<_> = (0..8)
            .map(|i| {
                let (u, k) = (&u, &k);
                s.spawn(move || {
                    usize::from(
                        db.insert_attempt_capped(&queued_attempt(u, k, at(i)), 2)
                            .unwrap(),
                    )
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(wins, 2);
    assert_eq!(db.count_unfinished_of_user(u.id).unwrap(), 2);
}

pub fn a_rejudge_requeues_only_finished_attempts_and_clears_their_report(db: &Database) {
    let (u, k) = setup_task(db);
    let a = queued_attempt(&u, &k, at(1));
    db.insert_attempt(&a).unwrap();
    assert!(!db.requeue_finished_attempt(a.id).unwrap(), "queued");
    assert!(db.claim_attempt(a.id, at(2)).unwrap());
    assert!(!db.requeue_finished_attempt(a.id).unwrap(), "running");
    db.finish_attempt(a.id, &report(Verdict::Accepted), at(3))
        .unwrap();
    assert!(db.requeue_finished_attempt(a.id).unwrap());
    let q = db.attempt(a.id).unwrap().unwrap();
    assert_eq!(
        (q.status, q.report, q.finished_at),
        (AttemptStatus::Queued, None, None)
    );
    assert_eq!(db.solutions_of_user(u.id, page()).unwrap().len(), 1);
    assert!(db.claim_attempt(a.id, at(4)).unwrap());
    db.finish_attempt(a.id, &report(Verdict::WrongAnswer), at(5))
        .unwrap();
    assert_eq!(
        db.attempt(a.id).unwrap().unwrap().report.unwrap().verdict,
        Verdict::WrongAnswer
    );
    assert!(
        db.solutions_of_user(u.id, page()).unwrap().is_empty(),
        "a rejudge that fails the solving attempt takes the solution away"
    );
}

pub fn a_lost_solution_moves_to_the_next_accepted_attempt(db: &Database) {
    let (u, k) = setup_task(db);
    let (a, b) = (queued_attempt(&u, &k, at(1)), queued_attempt(&u, &k, at(2)));
    for (x, t) in [(&a, 10), (&b, 20)] {
        db.insert_attempt(x).unwrap();
        assert!(db.claim_attempt(x.id, at(t)).unwrap());
        db.finish_attempt(x.id, &report(Verdict::Accepted), at(t + 1))
            .unwrap();
    }
    let solution = |db: &Database| db.solutions_of_user(u.id, page()).unwrap();
    assert_eq!(solution(db)[0].attempt_id, a.id);
    // Rejudged, `b` is graded first (still accepted), then `a` fails.
    for x in [&b, &a] {
        assert!(db.requeue_finished_attempt(x.id).unwrap());
    }
    assert!(db.claim_attempt(b.id, at(30)).unwrap());
    db.finish_attempt(b.id, &report(Verdict::Accepted), at(31))
        .unwrap();
    assert!(db.claim_attempt(a.id, at(32)).unwrap());
    db.finish_attempt(a.id, &report(Verdict::WrongAnswer), at(33))
        .unwrap();
    let now = solution(db);
    assert_eq!(now.len(), 1);
    assert_eq!(
        now[0].attempt_id, b.id,
        "the solution moved to the accepted attempt"
    );
}
