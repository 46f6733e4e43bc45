//! `AttemptRepo`: attempts, solutions and feedback. Finishing an attempt stores its report and,
//! for the first accepted attempt of a (user, task), the solution, in one transaction.

use crate::connection::DbConn;
use crate::database::{savepoint, Database};
use crate::error::DbResultExt;
use crate::models::{id_text, report_json, to_db, AttemptRow, FeedbackRow, SolutionRow};
use crate::schema::{attempts, feedback, solutions};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use domain::{
    attempt::{Attempt, AttemptStatus, Feedback, Page, Solution},
    grading::{GradeReport, Verdict},
    ports::AttemptRepo,
    RepoError, Timestamp,
};
use uuid::Uuid;

fn load(conn: &mut DbConn, id: &str) -> Result<Option<AttemptRow>, RepoError> {
    attempts::table
        .find(id)
        .select(AttemptRow::as_select())
        .first(conn)
        .optional()
        .repo()
}

/// How many attempts of one user are `Queued` or `Running`.
fn count_unfinished(conn: &mut DbConn, user_id: &str) -> Result<i64, RepoError> {
    attempts::table
        .filter(attempts::user_id.eq(user_id))
        .filter(attempts::status.ne(AttemptStatus::Done.as_str()))
        .count()
        .get_result(conn)
        .repo()
}

fn to_domain(rows: Vec<AttemptRow>) -> Result<Vec<Attempt>, RepoError> {
    rows.into_iter().map(AttemptRow::into_domain).collect()
}

impl AttemptRepo for Database {
    fn insert_attempt(&self, attempt: &Attempt) -> Result<(), RepoError> {
        let row = AttemptRow::from_domain(attempt)?;
        self.write(|conn| {
            diesel::insert_into(attempts::table)
                .values(&row)
                .execute(conn)
                .repo()
                .map(|_| ())
        })
    }

    fn insert_attempt_capped(&self, attempt: &Attempt, max: u32) -> Result<bool, RepoError> {
        let row = AttemptRow::from_domain(attempt)?;
        self.write(|conn| {
            // PostgreSQL: lock the account's row so concurrent submissions of one account
            // count one after another (SQLite's `BEGIN IMMEDIATE` already serialises writers).
            if let DbConn::Postgres(pg) = conn {
                diesel::sql_query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE")
                    .bind::<diesel::sql_types::Text, _>(&row.user_id)
                    .execute(pg)
                    .repo()?;
            }
            let n = count_unfinished(conn, &row.user_id)?;
            if n >= i64::from(max) {
                return Ok(false);
            }
            diesel::insert_into(attempts::table)
                .values(&row)
                .execute(conn)
                .repo()?;
            Ok(true)
        })
    }

    fn count_unfinished_of_user(&self, user_id: Uuid) -> Result<u64, RepoError> {
        let id = id_text(user_id);
        self.read(|conn| {
            let n = count_unfinished(conn, &id)?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }

    fn claim_attempt(&self, id: Uuid, now: Timestamp) -> Result<bool, RepoError> {
        let id = id_text(id);
        self.write(|conn| {
            let n = diesel::update(
                attempts::table
                    .find(&id)
                    .filter(attempts::status.eq(AttemptStatus::Queued.as_str())),
            )
            .set((
                attempts::status.eq(AttemptStatus::Running.as_str()),
                attempts::started_at.eq(Some(to_db(now))),
            ))
            .execute(conn)
            .repo()?;
            Ok(n == 1)
        })
    }

    fn requeue_stale_attempt(&self, id: Uuid, before: Timestamp) -> Result<bool, RepoError> {
        let id = id_text(id);
        self.write(|conn| {
            let n = diesel::update(
                attempts::table
                    .find(&id)
                    .filter(attempts::status.eq(AttemptStatus::Running.as_str()))
                    .filter(attempts::started_at.lt(Some(to_db(before)))),
            )
            .set(attempts::status.eq(AttemptStatus::Queued.as_str()))
            .execute(conn)
            .repo()?;
            Ok(n == 1)
        })
    }

    fn requeue_finished_attempt(&self, id: Uuid) -> Result<bool, RepoError> {
        let id = id_text(id);
        self.write(|conn| {
            let n = diesel::update(
                attempts::table
                    .find(&id)
                    .filter(attempts::status.eq(AttemptStatus::Done.as_str())),
            )
            .set((
                attempts::status.eq(AttemptStatus::Queued.as_str()),
                attempts::verdict.eq(None::<String>),
                attempts::score.eq(None::<f64>),
                attempts::report.eq(None::<String>),
                attempts::finished_at.eq(None::<chrono::NaiveDateTime>),
            ))
            .execute(conn)
            .repo()?;
            Ok(n == 1)
        })
    }

    fn attempt(&self, id: Uuid) -> Result<Option<Attempt>, RepoError> {
        self.read(|conn| {
            load(conn, &id_text(id))?
                .map(AttemptRow::into_domain)
                .transpose()
        })
    }

    /// `Running` also sets `started_at`. `Done` is refused: only `finish_attempt` finishes, with
    /// a report. A finished attempt cannot go back (`Conflict`).
    fn set_status(&self, id: Uuid, status: AttemptStatus, now: Timestamp) -> Result<(), RepoError> {
        if status == AttemptStatus::Done {
            return Err(RepoError::Conflict(
                "an attempt is finished with its report, not by a status change".into(),
            ));
        }
        let id = id_text(id);
        self.write(|conn| {
            let target = attempts::table
                .find(&id)
                .filter(attempts::status.ne(AttemptStatus::Done.as_str()));
            let started = (status == AttemptStatus::Running)
                .then(|| attempts::started_at.eq(Some(to_db(now))));
            let n = diesel::update(target)
                .set((attempts::status.eq(status.as_str()), started))
                .execute(conn)
                .repo()?;
            if n == 0 {
                return Err(match load(conn, &id)? {
                    None => RepoError::NotFound("attempt"),
                    Some(_) => RepoError::Conflict("the attempt is already finished".into()),
                });
            }
            Ok(())
        })
    }

    fn finish_attempt(
        &self,
        id: Uuid,
        report: &GradeReport,
        now: Timestamp,
    ) -> Result<(), RepoError> {
        let id = id_text(id);
        let json = report_json(report)?;
        if !(0.0..=1.0).contains(&report.score) {
            return Err(RepoError::Invalid(vec![domain::FieldError::new(
                "score",
                "must be between 0 and 1",
            )]));
        }
        self.write(|conn| {
            let row = load(conn, &id)?.ok_or(RepoError::NotFound("attempt"))?;
            let now = to_db(now);
            let n = diesel::update(
                attempts::table
                    .find(&id)
                    .filter(attempts::status.eq(AttemptStatus::Running.as_str())),
            )
            .set((
                attempts::status.eq(AttemptStatus::Done.as_str()),
                attempts::verdict.eq(Some(report.verdict.as_str())),
                attempts::score.eq(Some(report.score)),
                attempts::report.eq(Some(&json)),
                attempts::finished_at.eq(Some(now)),
            ))
            .execute(conn)
            .repo()?;
            if n == 0 {
                return Err(RepoError::Conflict(
                    if row.status == AttemptStatus::Done.as_str() {
                        "the attempt is already finished".into()
                    } else {
                        "only a running (claimed) attempt can be finished".into()
                    },
                ));
            }
            if report.verdict == Verdict::Accepted {
                let solution = SolutionRow {
                    user_id: row.user_id,
                    task_id: row.task_id,
                    attempt_id: id.clone(),
                    solved_at: now,
                };
                // A solution already recorded (an earlier accepted attempt) stays: first one wins.
                let inserted = savepoint(conn, |c| {
                    diesel::insert_into(solutions::table)
                        .values(&solution)
                        .execute(c)
                });
                match inserted {
                    Ok(_)
                    | Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {}
                    Err(e) => return Err(crate::error::repo_error(e)),
                }
            } else {
                // A rejudge took this attempt's acceptance away: if it was the student's
                // solution, the solution moves to their earliest other accepted attempt, or goes.
                let removed =
                    diesel::delete(solutions::table.filter(solutions::attempt_id.eq(&id)))
                        .execute(conn)
                        .repo()?;
                if removed > 0 {
                    let next: Option<(String, Option<chrono::NaiveDateTime>)> = attempts::table
                        .filter(attempts::user_id.eq(&row.user_id))
                        .filter(attempts::task_id.eq(&row.task_id))
                        .filter(attempts::status.eq(AttemptStatus::Done.as_str()))
                        .filter(attempts::verdict.eq(Some(Verdict::Accepted.as_str())))
                        .filter(attempts::id.ne(&id))
                        .order((attempts::finished_at.asc(), attempts::id.asc()))
                        .select((attempts::id, attempts::finished_at))
                        .first(conn)
                        .optional()
                        .repo()?;
                    if let Some((attempt_id, finished_at)) = next {
                        diesel::insert_into(solutions::table)
                            .values(&SolutionRow {
                                user_id: row.user_id.clone(),
                                task_id: row.task_id.clone(),
                                attempt_id,
                                solved_at: finished_at.unwrap_or(now),
                            })
                            .execute(conn)
                            .repo()?;
                    }
                }
            }
            Ok(())
        })
    }

    fn attempts_of_user(
        &self,
        user_id: Uuid,
        task_id: Option<Uuid>,
        page: Page,
    ) -> Result<Vec<Attempt>, RepoError> {
        let (limit, offset) = super::limits(page);
        self.read(|conn| {
            let mut q = attempts::table
                .filter(attempts::user_id.eq(id_text(user_id)))
                .into_boxed();
            if let Some(t) = task_id {
                q = q.filter(attempts::task_id.eq(id_text(t)));
            }
            let rows = q
                .order((attempts::created_at.desc(), attempts::id.desc()))
                .limit(limit)
                .offset(offset)
                .select(AttemptRow::as_select())
                .load(conn)
                .repo()?;
            to_domain(rows)
        })
    }

    fn attempts_of_task(&self, task_id: Uuid) -> Result<Vec<Attempt>, RepoError> {
        self.read(|conn| {
            let rows = attempts::table
                .filter(attempts::task_id.eq(id_text(task_id)))
                .order((attempts::created_at.asc(), attempts::id.asc()))
                .select(AttemptRow::as_select())
                .load(conn)
                .repo()?;
            to_domain(rows)
        })
    }

    fn solutions_of_user(&self, user_id: Uuid, page: Page) -> Result<Vec<Solution>, RepoError> {
        let (limit, offset) = super::limits(page);
        self.read(|conn| {
            solutions::table
                .filter(solutions::user_id.eq(id_text(user_id)))
                .order((solutions::solved_at.desc(), solutions::task_id.asc()))
                .limit(limit)
                .offset(offset)
                .select(SolutionRow::as_select())
                .load(conn)
                .repo()?
                .into_iter()
                .map(SolutionRow::into_domain)
                .collect()
        })
    }

    fn unfinished_attempts(&self) -> Result<Vec<Attempt>, RepoError> {
        self.read(|conn| {
            let rows = attempts::table
                .filter(attempts::status.ne(AttemptStatus::Done.as_str()))
                .order((attempts::created_at.asc(), attempts::id.asc()))
                .select(AttemptRow::as_select())
                .load(conn)
                .repo()?;
            to_domain(rows)
        })
    }

    fn insert_feedback(&self, feedback: &Feedback) -> Result<(), RepoError> {
        let row = FeedbackRow::from_domain(feedback);
        self.write(|conn| {
            diesel::insert_into(feedback::table)
                .values(&row)
                .execute(conn)
                .repo()
                .map(|_| ())
        })
    }

    fn feedback_of_attempt(&self, attempt_id: Uuid) -> Result<Vec<Feedback>, RepoError> {
        self.read(|conn| {
            feedback::table
                .filter(feedback::attempt_id.eq(id_text(attempt_id)))
                .order((feedback::created_at.asc(), feedback::id.asc()))
                .select(FeedbackRow::as_select())
                .load(conn)
                .repo()?
                .into_iter()
                .map(FeedbackRow::into_domain)
                .collect()
        })
    }
}
