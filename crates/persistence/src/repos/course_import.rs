//! Course import and export. Import runs inside one transaction (the caller's), matching items
//! by slug: topic slug, lesson slug within its topic, task slug within its lesson. Items in the
//! file take positions from file order; items already stored but absent from the file are kept
//! (their attempts matter) and moved after the file's items, in their previous order. Only items
//! whose content changed count as updated, so re-importing the same file reports no changes.

use super::content::{all_topics, lessons_of, tasks_of};
use crate::connection::DbConn;
use crate::error::DbResultExt;
use crate::models::{id_text, task_data_json, to_db, LessonRow, TaskRow, TopicRow};
use crate::schema::{lessons, tasks, topics};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use domain::{
    course::{Course, CourseLesson, CourseTask, CourseTopic},
    ports::ImportSummary,
    RepoError, Timestamp,
};
use uuid::Uuid;

fn position(i: usize) -> Result<i32, RepoError> {
    i32::try_from(i).map_err(|_| RepoError::Conflict("the course has too many items".into()))
}

pub(crate) fn import(
    conn: &mut DbConn,
    course: &Course,
    now: Timestamp,
) -> Result<ImportSummary, RepoError> {
    let now = to_db(now);
    let mut sum = ImportSummary::default();
    let mut topic_ids = Vec::with_capacity(course.topics.len());
    for (ti, t) in course.topics.iter().enumerate() {
        let topic_id = upsert_topic(conn, t, position(ti)?, now, &mut sum)?;
        let mut lesson_ids = Vec::with_capacity(t.lessons.len());
        for (li, l) in t.lessons.iter().enumerate() {
            let lesson_id = upsert_lesson(conn, &topic_id, l, position(li)?, now, &mut sum)?;
            let mut task_ids = Vec::with_capacity(l.tasks.len());
            for (ki, k) in l.tasks.iter().enumerate() {
                task_ids.push(upsert_task(
                    conn,
                    &lesson_id,
                    k,
                    position(ki)?,
                    now,
                    &mut sum,
                )?);
            }
            let rest: Vec<String> = tasks::table
                .filter(tasks::lesson_id.eq(&lesson_id))
                .filter(tasks::id.ne_all(&task_ids))
                .order((
                    tasks::position.asc(),
                    tasks::created_at.asc(),
                    tasks::id.asc(),
                ))
                .select(tasks::id)
                .load(conn)
                .repo()?;
            for (i, id) in rest.iter().enumerate() {
                let p = position(task_ids.len() + i)?;
                diesel::update(tasks::table.find(id))
                    .set(tasks::position.eq(p))
                    .execute(conn)
                    .repo()?;
            }
            lesson_ids.push(lesson_id);
        }
        let rest: Vec<String> = lessons::table
            .filter(lessons::topic_id.eq(&topic_id))
            .filter(lessons::id.ne_all(&lesson_ids))
            .order((
                lessons::position.asc(),
                lessons::created_at.asc(),
                lessons::id.asc(),
            ))
            .select(lessons::id)
            .load(conn)
            .repo()?;
        for (i, id) in rest.iter().enumerate() {
            let p = position(lesson_ids.len() + i)?;
            diesel::update(lessons::table.find(id))
                .set(lessons::position.eq(p))
                .execute(conn)
                .repo()?;
        }
        topic_ids.push(topic_id);
    }
    let rest: Vec<String> = topics::table
        .filter(topics::id.ne_all(&topic_ids))
        .order((
            topics::position.asc(),
            topics::created_at.asc(),
            topics::id.asc(),
        ))
        .select(topics::id)
        .load(conn)
        .repo()?;
    for (i, id) in rest.iter().enumerate() {
        let p = position(topic_ids.len() + i)?;
        diesel::update(topics::table.find(id))
            .set(topics::position.eq(p))
            .execute(conn)
            .repo()?;
    }
    Ok(sum)
}

fn upsert_topic(
    conn: &mut DbConn,
    t: &CourseTopic,
    pos: i32,
    now: NaiveDateTime,
    sum: &mut ImportSummary,
) -> Result<String, RepoError> {
    let existing: Option<TopicRow> = topics::table
        .filter(topics::slug.eq(&t.slug))
        .select(TopicRow::as_select())
        .first(conn)
        .optional()
        .repo()?;
    match existing {
        Some(row) => {
            if row.title != t.title
                || row.description != t.description
                || row.published != t.published
            {
                diesel::update(topics::table.find(&row.id))
                    .set((
                        topics::title.eq(&t.title),
                        topics::description.eq(&t.description),
                        topics::published.eq(t.published),
                        topics::updated_at.eq(now),
                    ))
                    .execute(conn)
                    .repo()?;
                sum.topics_updated += 1;
            }
            if row.position != pos {
                diesel::update(topics::table.find(&row.id))
                    .set(topics::position.eq(pos))
                    .execute(conn)
                    .repo()?;
            }
            Ok(row.id)
        }
        None => {
            let row = TopicRow {
                id: id_text(Uuid::new_v4()),
                slug: t.slug.clone(),
                title: t.title.clone(),
                description: t.description.clone(),
                position: pos,
                published: t.published,
                created_at: now,
                updated_at: now,
            };
            diesel::insert_into(topics::table)
                .values(&row)
                .execute(conn)
                .repo()?;
            sum.topics_created += 1;
            Ok(row.id)
        }
    }
}

fn upsert_lesson(
    conn: &mut DbConn,
    topic_id: &str,
    l: &CourseLesson,
    pos: i32,
    now: NaiveDateTime,
    sum: &mut ImportSummary,
) -> Result<String, RepoError> {
    let existing: Option<LessonRow> = lessons::table
        .filter(lessons::topic_id.eq(topic_id))
        .filter(lessons::slug.eq(&l.slug))
        .select(LessonRow::as_select())
        .first(conn)
        .optional()
        .repo()?;
    let kind = l.kind.as_str();
    match existing {
        Some(row) => {
            if row.title != l.title
                || row.kind != kind
                || row.body != l.body
                || row.published != l.published
            {
                diesel::update(lessons::table.find(&row.id))
                    .set((
                        lessons::title.eq(&l.title),
                        lessons::kind.eq(kind),
                        lessons::body.eq(&l.body),
                        lessons::published.eq(l.published),
                        lessons::updated_at.eq(now),
                    ))
                    .execute(conn)
                    .repo()?;
                sum.lessons_updated += 1;
            }
            if row.position != pos {
                diesel::update(lessons::table.find(&row.id))
                    .set(lessons::position.eq(pos))
                    .execute(conn)
                    .repo()?;
            }
            Ok(row.id)
        }
        None => {
            let row = LessonRow {
                id: id_text(Uuid::new_v4()),
                topic_id: topic_id.to_string(),
                slug: l.slug.clone(),
                title: l.title.clone(),
                kind: kind.to_string(),
                body: l.body.clone(),
                position: pos,
                published: l.published,
                created_at: now,
                updated_at: now,
            };
            diesel::insert_into(lessons::table)
                .values(&row)
                .execute(conn)
                .repo()?;
            sum.lessons_created += 1;
            Ok(row.id)
        }
    }
}

fn upsert_task(
    conn: &mut DbConn,
    lesson_id: &str,
    k: &CourseTask,
    pos: i32,
    now: NaiveDateTime,
    sum: &mut ImportSummary,
) -> Result<String, RepoError> {
    let data = task_data_json(&k.data)?;
    let kind = k.data.kind().as_str();
    let existing: Option<TaskRow> = tasks::table
        .filter(tasks::lesson_id.eq(lesson_id))
        .filter(tasks::slug.eq(&k.slug))
        .select(TaskRow::as_select())
        .first(conn)
        .optional()
        .repo()?;
    match existing {
        Some(row) => {
            if row.title != k.title
                || row.kind != kind
                || row.data != data
                || row.published != k.published
            {
                diesel::update(tasks::table.find(&row.id))
                    .set((
                        tasks::title.eq(&k.title),
                        tasks::kind.eq(kind),
                        tasks::data.eq(&data),
                        tasks::published.eq(k.published),
                        tasks::updated_at.eq(now),
                    ))
                    .execute(conn)
                    .repo()?;
                sum.tasks_updated += 1;
            }
            if row.position != pos {
                diesel::update(tasks::table.find(&row.id))
                    .set(tasks::position.eq(pos))
                    .execute(conn)
                    .repo()?;
            }
            Ok(row.id)
        }
        None => {
            let row = TaskRow {
                id: id_text(Uuid::new_v4()),
                lesson_id: lesson_id.to_string(),
                slug: k.slug.clone(),
                title: k.title.clone(),
                kind: kind.to_string(),
                position: pos,
                published: k.published,
                data,
                created_at: now,
                updated_at: now,
            };
            diesel::insert_into(tasks::table)
                .values(&row)
                .execute(conn)
                .repo()?;
            sum.tasks_created += 1;
            Ok(row.id)
        }
    }
}

/// The whole course, in order, unpublished items included.
pub(crate) fn export(conn: &mut DbConn) -> Result<Course, RepoError> {
    let mut course = Course::default();
    for t in all_topics(conn, true)? {
        let mut lessons = Vec::new();
        for l in lessons_of(conn, &id_text(t.id), true)? {
            let tasks = tasks_of(conn, &id_text(l.id), true)?
                .into_iter()
                .map(|k| CourseTask {
                    slug: k.slug.to_string(),
                    title: k.title,
                    published: k.published,
                    data: k.data,
                })
                .collect();
            lessons.push(CourseLesson {
                slug: l.slug.to_string(),
                title: l.title,
                kind: l.kind,
                body: l.body,
                published: l.published,
                tasks,
            });
        }
        course.topics.push(CourseTopic {
            slug: t.slug.to_string(),
            title: t.title,
            description: t.description,
            published: t.published,
            lessons,
        });
    }
    Ok(course)
}
