//! `ContentRepo`: topics, lessons and tasks (course import/export is in `course_import.rs`).
//! Slugs are unique per parent in the database; deleting a topic or lesson cascades to its
//! lessons, tasks and their attempts through the foreign keys.

use crate::connection::DbConn;
use crate::database::Database;
use crate::error::DbResultExt;
use crate::models::{id_text, task_data_json, to_db, LessonRow, TaskRow, TopicRow};
use crate::schema::{attempts, lessons, tasks, topics};
use diesel::prelude::*;
use domain::{
    content::{Lesson, Topic},
    course::Course,
    ports::{ContentItem, ContentPatch, ContentRepo, DeleteOutcome, ImportSummary},
    task::Task,
    RepoError, Timestamp,
};
use std::collections::HashSet;
use uuid::Uuid;

pub(crate) fn load_topic(conn: &mut DbConn, id: &str) -> Result<Option<Topic>, RepoError> {
    topics::table
        .find(id)
        .select(TopicRow::as_select())
        .first(conn)
        .optional()
        .repo()?
        .map(TopicRow::into_domain)
        .transpose()
}

pub(crate) fn load_lesson(conn: &mut DbConn, id: &str) -> Result<Option<Lesson>, RepoError> {
    lessons::table
        .find(id)
        .select(LessonRow::as_select())
        .first(conn)
        .optional()
        .repo()?
        .map(LessonRow::into_domain)
        .transpose()
}

pub(crate) fn load_task(conn: &mut DbConn, id: &str) -> Result<Option<Task>, RepoError> {
    tasks::table
        .find(id)
        .select(TaskRow::as_select())
        .first(conn)
        .optional()
        .repo()?
        .map(TaskRow::into_domain)
        .transpose()
}

pub(crate) fn all_topics(
    conn: &mut DbConn,
    include_unpublished: bool,
) -> Result<Vec<Topic>, RepoError> {
    let mut q = topics::table.into_boxed();
    if !include_unpublished {
        q = q.filter(topics::published.eq(true));
    }
    q.order((
        topics::position.asc(),
        topics::created_at.asc(),
        topics::id.asc(),
    ))
    .select(TopicRow::as_select())
    .load(conn)
    .repo()?
    .into_iter()
    .map(TopicRow::into_domain)
    .collect()
}

pub(crate) fn lessons_of(
    conn: &mut DbConn,
    topic_id: &str,
    include_unpublished: bool,
) -> Result<Vec<Lesson>, RepoError> {
    let mut q = lessons::table
        .filter(lessons::topic_id.eq(topic_id.to_string()))
        .into_boxed();
    if !include_unpublished {
        q = q.filter(lessons::published.eq(true));
    }
    q.order((
        lessons::position.asc(),
        lessons::created_at.asc(),
        lessons::id.asc(),
    ))
    .select(LessonRow::as_select())
    .load(conn)
    .repo()?
    .into_iter()
    .map(LessonRow::into_domain)
    .collect()
}

pub(crate) fn tasks_of(
    conn: &mut DbConn,
    lesson_id: &str,
    include_unpublished: bool,
) -> Result<Vec<Task>, RepoError> {
    let mut q = tasks::table
        .filter(tasks::lesson_id.eq(lesson_id.to_string()))
        .into_boxed();
    if !include_unpublished {
        q = q.filter(tasks::published.eq(true));
    }
    q.order((
        tasks::position.asc(),
        tasks::created_at.asc(),
        tasks::id.asc(),
    ))
    .select(TaskRow::as_select())
    .load(conn)
    .repo()?
    .into_iter()
    .map(TaskRow::into_domain)
    .collect()
}

/// `ids` must name each of `current` exactly once.
fn check_order(current: &[String], ids: &[Uuid], what: &str) -> Result<(), RepoError> {
    let wanted: Vec<String> = ids.iter().map(|id| id_text(*id)).collect();
    let unique: HashSet<&String> = wanted.iter().collect();
    let have: HashSet<&String> = current.iter().collect();
    if unique.len() != wanted.len() || unique != have {
        return Err(RepoError::Conflict(format!(
            "the new order must name each of the {} current {what} exactly once",
            current.len()
        )));
    }
    Ok(())
}

fn next_position(max: Option<i32>) -> i32 {
    max.map_or(0, |m| m.saturating_add(1))
}

impl ContentRepo for Database {
    fn list_topics(&self, include_unpublished: bool) -> Result<Vec<Topic>, RepoError> {
        self.read(|conn| all_topics(conn, include_unpublished))
    }

    fn topic(&self, id: Uuid) -> Result<Option<Topic>, RepoError> {
        self.read(|conn| load_topic(conn, &id_text(id)))
    }

    fn insert_topic(&self, topic: &Topic) -> Result<Topic, RepoError> {
        let mut row = TopicRow::from_domain(topic);
        self.write(|conn| {
            let max: Option<i32> = topics::table
                .select(diesel::dsl::max(topics::position))
                .first(conn)
                .repo()?;
            row.position = next_position(max);
            diesel::insert_into(topics::table)
                .values(&row)
                .execute(conn)
                .repo()?;
            load_topic(conn, &row.id)?.ok_or(RepoError::NotFound("topic"))
        })
    }

    fn update_topic(
        &self,
        id: Uuid,
        patch: &ContentPatch,
        now: Timestamp,
    ) -> Result<Topic, RepoError> {
        let id = id_text(id);
        self.write(|conn| {
            let n = diesel::update(topics::table.find(&id))
                .set((
                    patch
                        .slug
                        .as_ref()
                        .map(|s| topics::slug.eq(s.as_str().to_string())),
                    patch.title.as_ref().map(|t| topics::title.eq(t.clone())),
                    patch
                        .description
                        .as_ref()
                        .map(|d| topics::description.eq(d.clone())),
                    patch.published.map(|p| topics::published.eq(p)),
                    topics::updated_at.eq(to_db(now)),
                ))
                .execute(conn)
                .repo()?;
            if n == 0 {
                return Err(RepoError::NotFound("topic"));
            }
            load_topic(conn, &id)?.ok_or(RepoError::NotFound("topic"))
        })
    }

    fn delete_topic(&self, id: Uuid) -> Result<(), RepoError> {
        self.write(|conn| {
            match diesel::delete(topics::table.find(id_text(id)))
                .execute(conn)
                .repo()?
            {
                0 => Err(RepoError::NotFound("topic")),
                _ => Ok(()),
            }
        })
    }

    fn reorder_topics(&self, ids: &[Uuid]) -> Result<(), RepoError> {
        self.write(|conn| {
            let current: Vec<String> = topics::table.select(topics::id).load(conn).repo()?;
            check_order(&current, ids, "topics")?;
            for (pos, id) in ids.iter().enumerate() {
                let pos = i32::try_from(pos)
                    .map_err(|_| RepoError::Conflict("too many topics".into()))?;
                diesel::update(topics::table.find(id_text(*id)))
                    .set(topics::position.eq(pos))
                    .execute(conn)
                    .repo()?;
            }
            Ok(())
        })
    }

    fn lessons(&self, topic_id: Uuid, include_unpublished: bool) -> Result<Vec<Lesson>, RepoError> {
        self.read(|conn| lessons_of(conn, &id_text(topic_id), include_unpublished))
    }

    fn lesson(&self, id: Uuid) -> Result<Option<Lesson>, RepoError> {
        self.read(|conn| load_lesson(conn, &id_text(id)))
    }

    fn insert_lesson(&self, lesson: &Lesson) -> Result<Lesson, RepoError> {
        let mut row = LessonRow::from_domain(lesson);
        self.write(|conn| {
            if load_topic(conn, &row.topic_id)?.is_none() {
                return Err(RepoError::NotFound("topic"));
            }
            let max: Option<i32> = lessons::table
                .filter(lessons::topic_id.eq(&row.topic_id))
                .select(diesel::dsl::max(lessons::position))
                .first(conn)
                .repo()?;
            row.position = next_position(max);
            diesel::insert_into(lessons::table)
                .values(&row)
                .execute(conn)
                .repo()?;
            load_lesson(conn, &row.id)?.ok_or(RepoError::NotFound("lesson"))
        })
    }

    fn update_lesson(
        &self,
        id: Uuid,
        patch: &ContentPatch,
        now: Timestamp,
    ) -> Result<Lesson, RepoError> {
        let id = id_text(id);
        self.write(|conn| {
            let n = diesel::update(lessons::table.find(&id))
                .set((
                    patch
                        .slug
                        .as_ref()
                        .map(|s| lessons::slug.eq(s.as_str().to_string())),
                    patch.title.as_ref().map(|t| lessons::title.eq(t.clone())),
                    patch.body.as_ref().map(|b| lessons::body.eq(b.clone())),
                    patch.kind.map(|k| lessons::kind.eq(k.as_str())),
                    patch.published.map(|p| lessons::published.eq(p)),
                    lessons::updated_at.eq(to_db(now)),
                ))
                .execute(conn)
                .repo()?;
            if n == 0 {
                return Err(RepoError::NotFound("lesson"));
            }
            load_lesson(conn, &id)?.ok_or(RepoError::NotFound("lesson"))
        })
    }

    fn delete_lesson(&self, id: Uuid) -> Result<(), RepoError> {
        self.write(|conn| {
            match diesel::delete(lessons::table.find(id_text(id)))
                .execute(conn)
                .repo()?
            {
                0 => Err(RepoError::NotFound("lesson")),
                _ => Ok(()),
            }
        })
    }

    fn reorder_lessons(&self, topic_id: Uuid, ids: &[Uuid]) -> Result<(), RepoError> {
        let topic_id = id_text(topic_id);
        self.write(|conn| {
            let current: Vec<String> = lessons::table
                .filter(lessons::topic_id.eq(&topic_id))
                .select(lessons::id)
                .load(conn)
                .repo()?;
            check_order(&current, ids, "lessons of this topic")?;
            for (pos, id) in ids.iter().enumerate() {
                let pos = i32::try_from(pos)
                    .map_err(|_| RepoError::Conflict("too many lessons".into()))?;
                diesel::update(lessons::table.find(id_text(*id)))
                    .set(lessons::position.eq(pos))
                    .execute(conn)
                    .repo()?;
            }
            Ok(())
        })
    }

    fn tasks(&self, lesson_id: Uuid, include_unpublished: bool) -> Result<Vec<Task>, RepoError> {
        self.read(|conn| tasks_of(conn, &id_text(lesson_id), include_unpublished))
    }

    fn task(&self, id: Uuid) -> Result<Option<Task>, RepoError> {
        self.read(|conn| load_task(conn, &id_text(id)))
    }

    fn insert_task(&self, task: &Task) -> Result<Task, RepoError> {
        let mut row = TaskRow::from_domain(task)?;
        self.write(|conn| {
            if load_lesson(conn, &row.lesson_id)?.is_none() {
                return Err(RepoError::NotFound("lesson"));
            }
            let max: Option<i32> = tasks::table
                .filter(tasks::lesson_id.eq(&row.lesson_id))
                .select(diesel::dsl::max(tasks::position))
                .first(conn)
                .repo()?;
            row.position = next_position(max);
            diesel::insert_into(tasks::table)
                .values(&row)
                .execute(conn)
                .repo()?;
            load_task(conn, &row.id)?.ok_or(RepoError::NotFound("task"))
        })
    }

    fn update_task(&self, task: &Task) -> Result<Task, RepoError> {
        let data = task_data_json(&task.data)?;
        let id = id_text(task.id);
        self.write(|conn| {
            let n = diesel::update(tasks::table.find(&id))
                .set((
                    tasks::slug.eq(task.slug.as_str()),
                    tasks::title.eq(&task.title),
                    tasks::kind.eq(task.kind().as_str()),
                    tasks::published.eq(task.published),
                    tasks::data.eq(&data),
                    tasks::updated_at.eq(to_db(task.updated_at)),
                ))
                .execute(conn)
                .repo()?;
            if n == 0 {
                return Err(RepoError::NotFound("task"));
            }
            load_task(conn, &id)?.ok_or(RepoError::NotFound("task"))
        })
    }

    fn delete_task(&self, id: Uuid) -> Result<(), RepoError> {
        self.write(|conn| {
            match diesel::delete(tasks::table.find(id_text(id)))
                .execute(conn)
                .repo()?
            {
                0 => Err(RepoError::NotFound("task")),
                _ => Ok(()),
            }
        })
    }

    fn delete_content(&self, item: ContentItem, force: bool) -> Result<DeleteOutcome, RepoError> {
        self.write(|conn| {
            let (id, exists) = match item {
                ContentItem::Topic(id) => {
                    let id = id_text(id);
                    let n: i64 = topics::table.find(&id).count().get_result(conn).repo()?;
                    (id, n > 0)
                }
                ContentItem::Lesson(id) => {
                    let id = id_text(id);
                    let n: i64 = lessons::table.find(&id).count().get_result(conn).repo()?;
                    (id, n > 0)
                }
                ContentItem::Task(id) => {
                    let id = id_text(id);
                    let n: i64 = tasks::table.find(&id).count().get_result(conn).repo()?;
                    (id, n > 0)
                }
            };
            if !exists {
                return Err(RepoError::NotFound(item.noun()));
            }
            let task_ids: Vec<String> = match item {
                ContentItem::Task(_) => vec![id.clone()],
                ContentItem::Lesson(_) => tasks::table
                    .filter(tasks::lesson_id.eq(&id))
                    .select(tasks::id)
                    .load(conn)
                    .repo()?,
                ContentItem::Topic(_) => tasks::table
                    .inner_join(lessons::table)
                    .filter(lessons::topic_id.eq(&id))
                    .select(tasks::id)
                    .load(conn)
                    .repo()?,
            };
            // PostgreSQL: lock the tasks, so an attempt being inserted now (its foreign key
            // takes a share lock on its task) waits for this transaction and cannot be lost
            // uncounted. SQLite's `BEGIN IMMEDIATE` already keeps other writers out.
            if let DbConn::Postgres(pg) = conn {
                tasks::table
                    .filter(tasks::id.eq_any(&task_ids))
                    .select(tasks::id)
                    .for_update()
                    .load::<String>(pg)
                    .repo()?;
            }
            let n: i64 = attempts::table
                .filter(attempts::task_id.eq_any(&task_ids))
                .count()
                .get_result(conn)
                .repo()?;
            let attempts = u64::try_from(n).unwrap_or(0);
            if attempts > 0 && !force {
                return Ok(DeleteOutcome::Refused { attempts });
            }
            match item {
                ContentItem::Topic(_) => diesel::delete(topics::table.find(&id)).execute(conn),
                ContentItem::Lesson(_) => diesel::delete(lessons::table.find(&id)).execute(conn),
                ContentItem::Task(_) => diesel::delete(tasks::table.find(&id)).execute(conn),
            }
            .repo()?;
            Ok(DeleteOutcome::Deleted { attempts })
        })
    }

    fn reorder_tasks(&self, lesson_id: Uuid, ids: &[Uuid]) -> Result<(), RepoError> {
        let lesson_id = id_text(lesson_id);
        self.write(|conn| {
            let current: Vec<String> = tasks::table
                .filter(tasks::lesson_id.eq(&lesson_id))
                .select(tasks::id)
                .load(conn)
                .repo()?;
            check_order(&current, ids, "tasks of this lesson")?;
            for (pos, id) in ids.iter().enumerate() {
                let pos =
                    i32::try_from(pos).map_err(|_| RepoError::Conflict("too many tasks".into()))?;
                diesel::update(tasks::table.find(id_text(*id)))
                    .set(tasks::position.eq(pos))
                    .execute(conn)
                    .repo()?;
            }
            Ok(())
        })
    }

    fn outline(&self, include_unpublished: bool) -> Result<Vec<(Topic, Vec<Lesson>)>, RepoError> {
        self.snapshot(|conn| {
            let topics = all_topics(conn, include_unpublished)?;
            let mut out = Vec::with_capacity(topics.len());
            for t in topics {
                let ls = lessons_of(conn, &id_text(t.id), include_unpublished)?;
                out.push((t, ls));
            }
            Ok(out)
        })
    }

    fn import_course(&self, course: &Course, now: Timestamp) -> Result<ImportSummary, RepoError> {
        course.validate().map_err(RepoError::Invalid)?;
        self.write(|conn| super::course_import::import(conn, course, now))
    }

    fn export_course(&self) -> Result<Course, RepoError> {
        self.snapshot(super::course_import::export)
    }
}
