//! Row structs: private to this crate, converted to domain types at the boundary.
//!
//! Reading a row checks it: UUIDs parse, enum columns go through the domain enums' `FromStr`,
//! JSON columns deserialize into their domain types and are validated. A row that fails is a
//! `RepoError::Internal` naming the table, the row and the column, never a half-valid value.

use crate::error::corrupt;
use crate::schema::{
    attempts, feedback, lessons, link_codes, refresh_tokens, saved_sessions, solutions, tasks,
    topics, users,
};
use chrono::{NaiveDateTime, SubsecRound, TimeZone, Utc};
use diesel::prelude::*;
use domain::{
    attempt::{Attempt, AttemptInput, AttemptStatus, Feedback, Solution},
    content::{Lesson, Topic},
    content::{LessonKind, Slug},
    grading::{GradeReport, Verdict},
    link::LinkCode,
    session::SavedSession,
    task::{Task, TaskData, TaskKind},
    user::{RefreshToken, Role, User, Username},
    RepoError, Timestamp,
};
use std::str::FromStr;
use uuid::Uuid;

/// Timestamps are stored as UTC to the microsecond (PostgreSQL's precision), on both backends.
pub(crate) fn to_db(t: Timestamp) -> NaiveDateTime {
    t.trunc_subsecs(6).naive_utc()
}

pub(crate) fn from_db(t: NaiveDateTime) -> Timestamp {
    Utc.from_utc_datetime(&t)
}

pub(crate) fn id_text(id: Uuid) -> String {
    id.hyphenated().to_string()
}

fn uuid(table: &str, row: &str, field: &str, raw: &str) -> Result<Uuid, RepoError> {
    Uuid::parse_str(raw).map_err(|e| corrupt(table, row, field, e))
}

fn enum_value<E: FromStr<Err = domain::FieldError>>(
    table: &str,
    row: &str,
    field: &str,
    raw: &str,
) -> Result<E, RepoError> {
    raw.parse()
        .map_err(|e: domain::FieldError| corrupt(table, row, field, e.message))
}

fn slug(table: &str, row: &str, raw: &str) -> Result<Slug, RepoError> {
    Slug::parse(raw).map_err(|e| corrupt(table, row, "slug", e.message))
}

// ---- users ----

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    pub id: String,
    pub username: String,
    pub username_key: String,
    pub role: String,
    pub password_hash: Option<String>,
    pub external_id_hash: Option<String>,
    pub telegram_user_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl UserRow {
    pub fn into_domain(self) -> Result<User, RepoError> {
        let t = "users";
        Ok(User {
            id: uuid(t, &self.id, "id", &self.id)?,
            username: Username::parse(&self.username)
                .map_err(|e| corrupt(t, &self.id, "username", e.message))?,
            role: enum_value::<Role>(t, &self.id, "role", &self.role)?,
            password_hash: self.password_hash,
            external_id_hash: self.external_id_hash,
            telegram_user_id: self.telegram_user_id,
            created_at: from_db(self.created_at),
            updated_at: from_db(self.updated_at),
        })
    }
}

// ---- refresh tokens ----

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub(crate) struct RefreshTokenRow {
    pub token_hash: String,
    pub family_id: String,
    pub user_id: String,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub rotated_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

impl RefreshTokenRow {
    pub fn from_domain(t: &RefreshToken) -> Self {
        Self {
            token_hash: t.token_hash.clone(),
            family_id: id_text(t.family_id),
            user_id: id_text(t.user_id),
            expires_at: to_db(t.expires_at),
            created_at: to_db(t.created_at),
            rotated_at: t.rotated_at.map(to_db),
            revoked_at: t.revoked_at.map(to_db),
        }
    }

    pub fn into_domain(self) -> Result<RefreshToken, RepoError> {
        let t = "refresh_tokens";
        let row = "token";
        Ok(RefreshToken {
            family_id: uuid(t, row, "family_id", &self.family_id)?,
            user_id: uuid(t, row, "user_id", &self.user_id)?,
            token_hash: self.token_hash,
            expires_at: from_db(self.expires_at),
            created_at: from_db(self.created_at),
            rotated_at: self.rotated_at.map(from_db),
            revoked_at: self.revoked_at.map(from_db),
        })
    }
}

// ---- topics, lessons, tasks ----

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = topics)]
pub(crate) struct TopicRow {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub position: i32,
    pub published: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl TopicRow {
    pub fn from_domain(t: &Topic) -> Self {
        Self {
            id: id_text(t.id),
            slug: t.slug.to_string(),
            title: t.title.clone(),
            description: t.description.clone(),
            position: t.position,
            published: t.published,
            created_at: to_db(t.created_at),
            updated_at: to_db(t.updated_at),
        }
    }

    pub fn into_domain(self) -> Result<Topic, RepoError> {
        let t = "topics";
        Ok(Topic {
            id: uuid(t, &self.id, "id", &self.id)?,
            slug: slug(t, &self.id, &self.slug)?,
            title: self.title,
            description: self.description,
            position: self.position,
            published: self.published,
            created_at: from_db(self.created_at),
            updated_at: from_db(self.updated_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = lessons)]
pub(crate) struct LessonRow {
    pub id: String,
    pub topic_id: String,
    pub slug: String,
    pub title: String,
    pub kind: String,
    pub body: String,
    pub position: i32,
    pub published: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl LessonRow {
    pub fn from_domain(l: &Lesson) -> Self {
        Self {
            id: id_text(l.id),
            topic_id: id_text(l.topic_id),
            slug: l.slug.to_string(),
            title: l.title.clone(),
            kind: l.kind.as_str().to_string(),
            body: l.body.clone(),
            position: l.position,
            published: l.published,
            created_at: to_db(l.created_at),
            updated_at: to_db(l.updated_at),
        }
    }

    pub fn into_domain(self) -> Result<Lesson, RepoError> {
        let t = "lessons";
        Ok(Lesson {
            id: uuid(t, &self.id, "id", &self.id)?,
            topic_id: uuid(t, &self.id, "topic_id", &self.topic_id)?,
            slug: slug(t, &self.id, &self.slug)?,
            title: self.title,
            kind: enum_value::<LessonKind>(t, &self.id, "kind", &self.kind)?,
            body: self.body,
            position: self.position,
            published: self.published,
            created_at: from_db(self.created_at),
            updated_at: from_db(self.updated_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = tasks)]
pub(crate) struct TaskRow {
    pub id: String,
    pub lesson_id: String,
    pub slug: String,
    pub title: String,
    pub kind: String,
    pub position: i32,
    pub published: bool,
    pub data: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Task data as stored: validated first, so nothing invalid is ever written.
pub(crate) fn task_data_json(data: &TaskData) -> Result<String, RepoError> {
    data.validate()
        .map_err(|errs| RepoError::Invalid(errs.into_iter().map(|e| e.under("data")).collect()))?;
    serde_json::to_string(data)
        .map_err(|e| RepoError::Internal(format!("cannot serialize task data: {e}")))
}

/// Task data as read: parsed strictly and validated, and its kind must match the `kind` column.
pub(crate) fn task_data_from_json(
    row_id: &str,
    kind: &str,
    json: &str,
) -> Result<TaskData, RepoError> {
    let t = "tasks";
    let kind = enum_value::<TaskKind>(t, row_id, "kind", kind)?;
    let data: TaskData = serde_json::from_str(json).map_err(|e| corrupt(t, row_id, "data", e))?;
    if let Err(errs) = data.validate() {
        let list = errs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        return Err(corrupt(t, row_id, "data", list));
    }
    if data.kind() != kind {
        return Err(corrupt(
            t,
            row_id,
            "data",
            format!("holds a {} task but kind is {kind}", data.kind()),
        ));
    }
    Ok(data)
}

impl TaskRow {
    pub fn from_domain(task: &Task) -> Result<Self, RepoError> {
        Ok(Self {
            id: id_text(task.id),
            lesson_id: id_text(task.lesson_id),
            slug: task.slug.to_string(),
            title: task.title.clone(),
            kind: task.kind().as_str().to_string(),
            position: task.position,
            published: task.published,
            data: task_data_json(&task.data)?,
            created_at: to_db(task.created_at),
            updated_at: to_db(task.updated_at),
        })
    }

    pub fn into_domain(self) -> Result<Task, RepoError> {
        let t = "tasks";
        Ok(Task {
            id: uuid(t, &self.id, "id", &self.id)?,
            lesson_id: uuid(t, &self.id, "lesson_id", &self.lesson_id)?,
            slug: slug(t, &self.id, &self.slug)?,
            data: task_data_from_json(&self.id, &self.kind, &self.data)?,
            title: self.title,
            position: self.position,
            published: self.published,
            created_at: from_db(self.created_at),
            updated_at: from_db(self.updated_at),
        })
    }
}

// ---- attempts, solutions, feedback ----

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = attempts)]
pub(crate) struct AttemptRow {
    pub id: String,
    pub user_id: String,
    pub task_id: String,
    pub input: String,
    pub status: String,
    pub verdict: Option<String>,
    pub score: Option<f64>,
    pub report: Option<String>,
    pub created_at: NaiveDateTime,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
}

pub(crate) fn report_json(report: &GradeReport) -> Result<String, RepoError> {
    serde_json::to_string(report)
        .map_err(|e| RepoError::Internal(format!("cannot serialize grade report: {e}")))
}

impl AttemptRow {
    pub fn from_domain(a: &Attempt) -> Result<Self, RepoError> {
        if a.report.is_some() != (a.status == AttemptStatus::Done) {
            return Err(RepoError::Invalid(vec![domain::FieldError::new(
                "report",
                "a finished attempt has a report and an unfinished one has none",
            )]));
        }
        let input = serde_json::to_string(&a.input)
            .map_err(|e| RepoError::Internal(format!("cannot serialize attempt input: {e}")))?;
        Ok(Self {
            id: id_text(a.id),
            user_id: id_text(a.user_id),
            task_id: id_text(a.task_id),
            input,
            status: a.status.as_str().to_string(),
            verdict: a.report.as_ref().map(|r| r.verdict.as_str().to_string()),
            score: a.report.as_ref().map(|r| r.score),
            report: a.report.as_ref().map(report_json).transpose()?,
            created_at: to_db(a.created_at),
            started_at: a.started_at.map(to_db),
            finished_at: a.finished_at.map(to_db),
        })
    }

    pub fn into_domain(self) -> Result<Attempt, RepoError> {
        let t = "attempts";
        let id = &self.id;
        let input: AttemptInput =
            serde_json::from_str(&self.input).map_err(|e| corrupt(t, id, "input", e))?;
        let status = enum_value::<AttemptStatus>(t, id, "status", &self.status)?;
        let verdict = self
            .verdict
            .as_deref()
            .map(|v| enum_value::<Verdict>(t, id, "verdict", v))
            .transpose()?;
        let report: Option<GradeReport> = self
            .report
            .as_deref()
            .map(|r| serde_json::from_str(r).map_err(|e| corrupt(t, id, "report", e)))
            .transpose()?;
        // The columns and the report must tell the same story.
        match (&report, status) {
            (Some(_), AttemptStatus::Done)
            | (None, AttemptStatus::Queued | AttemptStatus::Running) => {}
            _ => {
                return Err(corrupt(
                    t,
                    id,
                    "report",
                    format!("present/absent does not fit status {status}"),
                ))
            }
        }
        if report.as_ref().map(|r| r.verdict) != verdict {
            return Err(corrupt(t, id, "verdict", "does not match the report"));
        }
        if let Some(r) = &report {
            if !(0.0..=1.0).contains(&r.score) || self.score != Some(r.score) {
                return Err(corrupt(
                    t,
                    id,
                    "score",
                    "out of range or does not match the report",
                ));
            }
        }
        Ok(Attempt {
            id: uuid(t, id, "id", id)?,
            user_id: uuid(t, id, "user_id", &self.user_id)?,
            task_id: uuid(t, id, "task_id", &self.task_id)?,
            input,
            status,
            report,
            created_at: from_db(self.created_at),
            started_at: self.started_at.map(from_db),
            finished_at: self.finished_at.map(from_db),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = solutions)]
pub(crate) struct SolutionRow {
    pub user_id: String,
    pub task_id: String,
    pub attempt_id: String,
    pub solved_at: NaiveDateTime,
}

impl SolutionRow {
    pub fn into_domain(self) -> Result<Solution, RepoError> {
        let t = "solutions";
        let row = &self.attempt_id;
        Ok(Solution {
            user_id: uuid(t, row, "user_id", &self.user_id)?,
            task_id: uuid(t, row, "task_id", &self.task_id)?,
            attempt_id: uuid(t, row, "attempt_id", &self.attempt_id)?,
            solved_at: from_db(self.solved_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = feedback)]
pub(crate) struct FeedbackRow {
    pub id: String,
    pub attempt_id: String,
    pub body: String,
    pub author: String,
    pub created_at: NaiveDateTime,
}

impl FeedbackRow {
    pub fn from_domain(f: &Feedback) -> Self {
        Self {
            id: id_text(f.id),
            attempt_id: id_text(f.attempt_id),
            body: f.body.clone(),
            author: f.author.clone(),
            created_at: to_db(f.created_at),
        }
    }

    pub fn into_domain(self) -> Result<Feedback, RepoError> {
        let t = "feedback";
        Ok(Feedback {
            id: uuid(t, &self.id, "id", &self.id)?,
            attempt_id: uuid(t, &self.id, "attempt_id", &self.attempt_id)?,
            body: self.body,
            author: self.author,
            created_at: from_db(self.created_at),
        })
    }
}

// ---- saved sessions, link codes ----

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = saved_sessions)]
pub(crate) struct SessionRow {
    pub id: String,
    pub owner_id: String,
    pub task_id: Option<String>,
    pub state: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// An editor state as stored: a JSON object within the size cap.
pub(crate) fn session_state_json(state: &serde_json::Value) -> Result<String, RepoError> {
    domain::session::check_state_shape(state).map_err(|e| RepoError::Invalid(vec![e]))?;
    domain::session::check_state_size(state).map_err(|n| {
        RepoError::Invalid(vec![domain::FieldError::new(
            "state",
            format!(
                "is {n} bytes; at most {} are kept",
                domain::session::MAX_SESSION_BYTES
            ),
        )])
    })?;
    serde_json::to_string(state)
        .map_err(|e| RepoError::Internal(format!("cannot serialize session state: {e}")))
}

impl SessionRow {
    pub fn from_domain(s: &SavedSession) -> Result<Self, RepoError> {
        Ok(Self {
            id: id_text(s.id),
            owner_id: id_text(s.owner_id),
            task_id: s.task_id.map(id_text),
            state: session_state_json(&s.state)?,
            created_at: to_db(s.created_at),
            updated_at: to_db(s.updated_at),
        })
    }

    pub fn into_domain(self) -> Result<SavedSession, RepoError> {
        let t = "saved_sessions";
        let id = &self.id;
        let state: serde_json::Value =
            serde_json::from_str(&self.state).map_err(|e| corrupt(t, id, "state", e))?;
        domain::session::check_state_shape(&state)
            .map_err(|e| corrupt(t, id, "state", e.message))?;
        Ok(SavedSession {
            id: uuid(t, id, "id", id)?,
            owner_id: uuid(t, id, "owner_id", &self.owner_id)?,
            task_id: self
                .task_id
                .as_deref()
                .map(|x| uuid(t, id, "task_id", x))
                .transpose()?,
            state,
            created_at: from_db(self.created_at),
            updated_at: from_db(self.updated_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = link_codes)]
pub(crate) struct LinkCodeRow {
    pub code_hash: String,
    pub user_id: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

impl LinkCodeRow {
    pub fn from_domain(c: &LinkCode) -> Self {
        Self {
            code_hash: c.code_hash.clone(),
            user_id: id_text(c.user_id),
            created_at: to_db(c.created_at),
            expires_at: to_db(c.expires_at),
            used_at: c.used_at.map(to_db),
        }
    }
}
