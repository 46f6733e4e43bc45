//! Builders shared by the behaviour tests.

use chrono::{TimeZone, Utc};
use domain::{
    attempt::{Attempt, AttemptInput, AttemptStatus},
    content::{Lesson, LessonKind, Slug, Topic},
    ports::{ContentRepo, UserRepo},
    task::{Checker, CodeTask, IoTest, Limits, Task, TaskData, TestBody, TestCase},
    user::{NewUser, Role, User, Username},
    Timestamp,
};
use persistence::Database;
use uuid::Uuid;

/// A fixed instant with microseconds, so round trips can compare exactly.
pub fn t0() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 12, 3, 10, 0, 0).unwrap() + chrono::Duration::microseconds(123_456)
}

pub fn at(secs: i64) -> Timestamp {
    t0() + chrono::Duration::seconds(secs)
}

pub fn new_user(name: &str) -> NewUser {
    NewUser {
        id: Uuid::new_v4(),
        username: Username::parse(name).unwrap(),
        role: Role::Student,
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        external_id_hash: None,
        telegram_user_id: None,
        created_at: t0(),
    }
}

pub fn user(db: &Database, name: &str) -> User {
    db.insert_user(&new_user(name)).unwrap()
}

pub fn topic_value(slug: &str) -> Topic {
    Topic {
        id: Uuid::new_v4(),
        slug: Slug::parse(slug).unwrap(),
        title: format!("Topic {slug}"),
        description: String::new(),
        position: 0,
        published: true,
        created_at: t0(),
        updated_at: t0(),
    }
}

pub fn topic(db: &Database, slug: &str) -> Topic {
    db.insert_topic(&topic_value(slug)).unwrap()
}

pub fn lesson_value(topic: &Topic, slug: &str) -> Lesson {
    Lesson {
        id: Uuid::new_v4(),
        topic_id: topic.id,
        slug: Slug::parse(slug).unwrap(),
        title: format!("Lesson {slug}"),
        kind: LessonKind::Article,
        body: "# Hello".into(),
        position: 0,
        published: true,
        created_at: t0(),
        updated_at: t0(),
    }
}

pub fn lesson(db: &Database, topic: &Topic, slug: &str) -> Lesson {
    db.insert_lesson(&lesson_value(topic, slug)).unwrap()
}

pub fn code_data() -> TaskData {
    TaskData::Code(CodeTask {
        statement: "Print the sum of two integers.".into(),
        starter_code: String::new(),
        limits: Limits::default(),
        entry_point: None,
        tests: vec![TestCase {
            name: "small".into(),
            hidden: false,
            weight: 1,
            body: TestBody::Io(IoTest {
                stdin: "1 2\n".into(),
                expected: "3\n".into(),
                checker: Checker::Lines,
            }),
        }],
        reference_solution: Some("print(sum(map(int, input().split())))\n".into()),
    })
}

pub fn task_value(lesson: &Lesson, slug: &str) -> Task {
    Task {
        id: Uuid::new_v4(),
        lesson_id: lesson.id,
        slug: Slug::parse(slug).unwrap(),
        title: format!("Task {slug}"),
        position: 0,
        published: true,
        data: code_data(),
        created_at: t0(),
        updated_at: t0(),
    }
}

pub fn task(db: &Database, lesson: &Lesson, slug: &str) -> Task {
    db.insert_task(&task_value(lesson, slug)).unwrap()
}

/// A user, a topic, a lesson and a code task.
pub fn setup_task(db: &Database) -> (User, Task) {
    let u = user(db, "ann");
    let t = topic(db, "basics");
    let l = lesson(db, &t, "sum");
    (u, task(db, &l, "sum"))
}

pub fn queued_attempt(user: &User, task: &Task, created: Timestamp) -> Attempt {
    Attempt {
        id: Uuid::new_v4(),
        user_id: user.id,
        task_id: task.id,
        input: AttemptInput::Code {
            code: "print(3)".into(),
        },
        status: AttemptStatus::Queued,
        report: None,
        created_at: created,
        started_at: None,
        finished_at: None,
    }
}
