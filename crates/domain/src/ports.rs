//! Storage ports. `persistence` implements them for PostgreSQL and SQLite.
//!
//! They are synchronous on purpose: diesel is synchronous, and `api` calls them inside
//! `web::block`, never on an async worker thread. Every method is one short transaction.

use crate::{
    attempt::{Attempt, AttemptStatus, Feedback, Page, Solution},
    content::{Lesson, Topic},
    course::Course,
    grading::GradeReport,
    link::LinkCode,
    session::SavedSession,
    task::Task,
    user::{NewUser, RefreshToken, Role, User, Username},
    RepoError, Timestamp,
};
use uuid::Uuid;

pub trait UserRepo: Send + Sync {
    /// `Conflict` when the username (any case), external id or Telegram id is taken.
    fn insert_user(&self, user: &NewUser) -> Result<User, RepoError>;
    fn user_by_id(&self, id: Uuid) -> Result<Option<User>, RepoError>;
    /// Case-insensitive.
    fn user_by_username(&self, username: &Username) -> Result<Option<User>, RepoError>;
    fn user_by_external_id(&self, external_id_hash: &str) -> Result<Option<User>, RepoError>;
    fn user_by_telegram_id(&self, telegram_user_id: i64) -> Result<Option<User>, RepoError>;
    fn set_role(&self, id: Uuid, role: Role, now: Timestamp) -> Result<User, RepoError>;
    /// `Conflict` when another account holds that Telegram id.
    fn set_telegram_id(
        &self,
        id: Uuid,
        telegram_user_id: Option<i64>,
        now: Timestamp,
    ) -> Result<User, RepoError>;
    fn list_users(&self, page: Page) -> Result<Vec<User>, RepoError>;
    fn count_users(&self) -> Result<u64, RepoError>;
}

pub trait TokenRepo: Send + Sync {
    fn insert_refresh_token(&self, token: &RefreshToken) -> Result<(), RepoError>;
    fn refresh_token(&self, token_hash: &str) -> Result<Option<RefreshToken>, RepoError>;
    /// In one transaction: if `old_hash` is neither rotated nor revoked, mark it rotated and
    /// insert `next`, returning true. Otherwise change nothing and return false (a reuse).
    fn rotate_refresh_token(
        &self,
        old_hash: &str,
        next: &RefreshToken,
        now: Timestamp,
    ) -> Result<bool, RepoError>;
    fn revoke_family(&self, family_id: Uuid, now: Timestamp) -> Result<(), RepoError>;
}

/// Fields a teacher may change on a topic or lesson; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct ContentPatch {
    pub slug: Option<crate::content::Slug>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub body: Option<String>,
    pub kind: Option<crate::content::LessonKind>,
    pub published: Option<bool>,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub topics_created: u32,
    pub topics_updated: u32,
    pub lessons_created: u32,
    pub lessons_updated: u32,
    pub tasks_created: u32,
    pub tasks_updated: u32,
}

/// A topic, lesson or task, as the target of a delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentItem {
    Topic(Uuid),
    Lesson(Uuid),
    Task(Uuid),
}

impl ContentItem {
    pub fn noun(self) -> &'static str {
        match self {
            Self::Topic(_) => "topic",
            Self::Lesson(_) => "lesson",
            Self::Task(_) => "task",
        }
    }
}

/// What [`ContentRepo::delete_content`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteOutcome {
    /// Deleted, with this many students' attempts (and their solutions) under it.
    Deleted { attempts: u64 },
    /// Nothing deleted: this many attempts would have gone with it and `force` was false.
    Refused { attempts: u64 },
}

pub trait ContentRepo: Send + Sync {
    fn list_topics(&self, include_unpublished: bool) -> Result<Vec<Topic>, RepoError>;
    fn topic(&self, id: Uuid) -> Result<Option<Topic>, RepoError>;
    /// Appends at the end; `Conflict` on a duplicate slug.
    fn insert_topic(&self, topic: &Topic) -> Result<Topic, RepoError>;
    fn update_topic(
        &self,
        id: Uuid,
        patch: &ContentPatch,
        now: Timestamp,
    ) -> Result<Topic, RepoError>;
    /// Deletes its lessons, tasks and their attempts too.
    fn delete_topic(&self, id: Uuid) -> Result<(), RepoError>;
    /// `ids` must be exactly the current topics, in the new order.
    fn reorder_topics(&self, ids: &[Uuid]) -> Result<(), RepoError>;

    /// Lessons of a topic, in order.
    fn lessons(&self, topic_id: Uuid, include_unpublished: bool) -> Result<Vec<Lesson>, RepoError>;
    fn lesson(&self, id: Uuid) -> Result<Option<Lesson>, RepoError>;
    fn insert_lesson(&self, lesson: &Lesson) -> Result<Lesson, RepoError>;
    fn update_lesson(
        &self,
        id: Uuid,
        patch: &ContentPatch,
        now: Timestamp,
    ) -> Result<Lesson, RepoError>;
    fn delete_lesson(&self, id: Uuid) -> Result<(), RepoError>;
    fn reorder_lessons(&self, topic_id: Uuid, ids: &[Uuid]) -> Result<(), RepoError>;

    /// Tasks of a lesson, in order.
    fn tasks(&self, lesson_id: Uuid, include_unpublished: bool) -> Result<Vec<Task>, RepoError>;
    fn task(&self, id: Uuid) -> Result<Option<Task>, RepoError>;
    /// Validates `task.data` before writing.
    fn insert_task(&self, task: &Task) -> Result<Task, RepoError>;
    /// Replaces every field but `id`, `lesson_id`, `position` and `created_at`; validates data.
    fn update_task(&self, task: &Task) -> Result<Task, RepoError>;
    fn delete_task(&self, id: Uuid) -> Result<(), RepoError>;
    /// Deletes a topic, lesson or task with everything under it, in one transaction, unless
    /// students' attempts are under it and `force` is false: then nothing changes and the count
    /// comes back (`Refused`). New attempts cannot slip in between the count and the delete.
    /// `NotFound` when the item does not exist.
    fn delete_content(&self, item: ContentItem, force: bool) -> Result<DeleteOutcome, RepoError>;
    fn reorder_tasks(&self, lesson_id: Uuid, ids: &[Uuid]) -> Result<(), RepoError>;

    /// Every (topic, lesson) pair in course order, for previous/next navigation.
    fn outline(&self, include_unpublished: bool) -> Result<Vec<(Topic, Vec<Lesson>)>, RepoError>;

    /// Writes a validated course in one transaction, matching items by slug.
    fn import_course(&self, course: &Course, now: Timestamp) -> Result<ImportSummary, RepoError>;
    fn export_course(&self) -> Result<Course, RepoError>;
}

pub trait AttemptRepo: Send + Sync {
    fn insert_attempt(&self, attempt: &Attempt) -> Result<(), RepoError>;
    fn attempt(&self, id: Uuid) -> Result<Option<Attempt>, RepoError>;
    fn set_status(&self, id: Uuid, status: AttemptStatus, now: Timestamp) -> Result<(), RepoError>;
    /// Stores the attempt only if its user has fewer than `max_unfinished` attempts `Queued` or
    /// `Running`; the count and the insert are one transaction (concurrent submissions of one
    /// account cannot both slip under the cap). Returns false, storing nothing, when at the cap.
    fn insert_attempt_capped(
        &self,
        attempt: &Attempt,
        max_unfinished: u32,
    ) -> Result<bool, RepoError>;
    /// Attempts of a user that are `Queued` or `Running`.
    fn count_unfinished_of_user(&self, user_id: Uuid) -> Result<u64, RepoError>;
    /// Takes a `Queued` attempt for grading: one conditional update to `Running` with
    /// `started_at = now`. True for exactly one caller; false when it is not (or no longer)
    /// queued, or does not exist. Graders grade only what they claimed.
    fn claim_attempt(&self, id: Uuid, now: Timestamp) -> Result<bool, RepoError>;
    /// Puts a `Running` attempt whose `started_at` is before `started_before` back to `Queued`
    /// (its grader is presumed dead). One conditional update; false when it is not running, was
    /// started (claimed) since, or is finished.
    fn requeue_stale_attempt(&self, id: Uuid, started_before: Timestamp)
        -> Result<bool, RepoError>;
    /// A rejudge: puts a `Done` attempt back to `Queued`, clearing its report (a solution it
    /// recorded stays). False when it is not done (already queued or running).
    fn requeue_finished_attempt(&self, id: Uuid) -> Result<bool, RepoError>;
    /// Stores the report, sets `Done`, and records a solution if it is the first accepted one.
    /// Only a `Running` (claimed) attempt can be finished: otherwise `Conflict`.
    fn finish_attempt(
        &self,
        id: Uuid,
        report: &GradeReport,
        now: Timestamp,
    ) -> Result<(), RepoError>;
    /// Newest first; optionally only one task's.
    fn attempts_of_user(
        &self,
        user_id: Uuid,
        task_id: Option<Uuid>,
        page: Page,
    ) -> Result<Vec<Attempt>, RepoError>;
    fn attempts_of_task(&self, task_id: Uuid) -> Result<Vec<Attempt>, RepoError>;
    fn solutions_of_user(&self, user_id: Uuid, page: Page) -> Result<Vec<Solution>, RepoError>;
    /// Attempts left `Queued` or `Running` (by a crash), oldest first.
    fn unfinished_attempts(&self) -> Result<Vec<Attempt>, RepoError>;
    fn insert_feedback(&self, feedback: &Feedback) -> Result<(), RepoError>;
    fn feedback_of_attempt(&self, attempt_id: Uuid) -> Result<Vec<Feedback>, RepoError>;
}

pub trait SessionRepo: Send + Sync {
    fn insert_session(&self, session: &SavedSession) -> Result<(), RepoError>;
    fn session(&self, id: Uuid) -> Result<Option<SavedSession>, RepoError>;
    fn update_session(
        &self,
        id: Uuid,
        state: &serde_json::Value,
        now: Timestamp,
    ) -> Result<SavedSession, RepoError>;
    fn delete_session(&self, id: Uuid) -> Result<(), RepoError>;
}

pub trait LinkRepo: Send + Sync {
    fn insert_link_code(&self, code: &LinkCode) -> Result<(), RepoError>;
    /// In one transaction: if the code exists, is unused and unexpired, mark it used and return
    /// its user. Otherwise `None`.
    fn consume_link_code(&self, code_hash: &str, now: Timestamp)
        -> Result<Option<Uuid>, RepoError>;
}

/// Migrations and liveness, for `/ready` and the CLI.
pub trait DatabaseAdmin: Send + Sync {
    fn ping(&self) -> Result<(), RepoError>;
    /// Names of migrations not yet applied.
    fn pending_migrations(&self) -> Result<Vec<String>, RepoError>;
}
