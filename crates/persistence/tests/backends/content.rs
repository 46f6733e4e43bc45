use crate::common::*;
use domain::{
    attempt::Page,
    content::{LessonKind, Slug},
    ports::{AttemptRepo, ContentPatch, ContentRepo},
    task::{TaskData, TestBody},
    RepoError,
};
use persistence::{testing::execute_raw, Database};

pub fn slugs_are_unique_per_parent(db: &Database) {
    let a = topic(db, "a");
    let b = topic(db, "b");
    match db.insert_topic(&topic_value("a")) {
        Err(RepoError::Conflict(m)) => assert!(m.contains("topic with this slug"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let la = lesson(db, &a, "intro");
    lesson(db, &b, "intro"); // same slug under another topic is fine
    match db.insert_lesson(&lesson_value(&a, "intro")) {
        Err(RepoError::Conflict(m)) => assert!(m.contains("lesson with this slug"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let lb = lesson(db, &a, "second");
    task(db, &la, "t");
    task(db, &lb, "t");
    match db.insert_task(&task_value(&la, "t")) {
        Err(RepoError::Conflict(m)) => assert!(m.contains("task with this slug"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    // Renaming into a taken slug is refused the same way.
    let patch = ContentPatch {
        slug: Some(Slug::parse("b").unwrap()),
        ..Default::default()
    };
    assert!(matches!(
        db.update_topic(a.id, &patch, at(1)),
        Err(RepoError::Conflict(_))
    ));
    // A lesson for a topic that does not exist is refused.
    let mut orphan = lesson_value(&a, "orphan");
    orphan.topic_id = uuid::Uuid::new_v4();
    assert!(matches!(
        db.insert_lesson(&orphan),
        Err(RepoError::NotFound(_) | RepoError::Conflict(_))
    ));
}

pub fn deleting_a_topic_cascades_to_lessons_tasks_and_attempts(db: &Database) {
    let (u, t) = setup_task(db);
    let l = db.lesson(t.lesson_id).unwrap().unwrap();
    let a = queued_attempt(&u, &t, at(1));
    db.insert_attempt(&a).unwrap();
    let other_topic = topic(db, "other");
    let other_lesson = lesson(db, &other_topic, "keep");
    let kept = task(db, &other_lesson, "keep");
    db.insert_attempt(&queued_attempt(&u, &kept, at(2)))
        .unwrap();

    db.delete_topic(l.topic_id).unwrap();
    assert_eq!(db.topic(l.topic_id).unwrap(), None);
    assert_eq!(db.lesson(l.id).unwrap(), None);
    assert_eq!(db.task(t.id).unwrap(), None);
    assert_eq!(db.attempt(a.id).unwrap(), None);
    assert_eq!(
        db.attempts_of_user(u.id, None, Page::new(None, None).unwrap())
            .unwrap()
            .len(),
        1
    );
    assert!(db.task(kept.id).unwrap().is_some());
    assert!(matches!(
        db.delete_topic(l.topic_id),
        Err(RepoError::NotFound(_))
    ));

    db.delete_lesson(other_lesson.id).unwrap();
    assert_eq!(db.task(kept.id).unwrap(), None);
    assert!(db.unfinished_attempts().unwrap().is_empty());
}

/// F3: a delete that would take students' attempts with it is refused (with the count) unless
/// forced; an item without attempts is deleted; a missing one is `NotFound`.
pub fn deleting_content_with_attempts_needs_force(db: &Database) {
    use domain::ports::{ContentItem, DeleteOutcome};
    let (u, t) = setup_task(db);
    let l = db.lesson(t.lesson_id).unwrap().unwrap();
    for i in 0..3 {
        db.insert_attempt(&queued_attempt(&u, &t, at(i))).unwrap();
    }
    let empty = task(db, &l, "empty");
    for item in [
        ContentItem::Task(t.id),
        ContentItem::Lesson(l.id),
        ContentItem::Topic(l.topic_id),
    ] {
        assert_eq!(
            db.delete_content(item, false).unwrap(),
            DeleteOutcome::Refused { attempts: 3 },
            "{item:?}"
        );
    }
    assert!(db.task(t.id).unwrap().is_some(), "nothing was deleted");
    assert_eq!(db.attempts_of_task(t.id).unwrap().len(), 3);
    // No attempts under it: deleted without force.
    assert_eq!(
        db.delete_content(ContentItem::Task(empty.id), false)
            .unwrap(),
        DeleteOutcome::Deleted { attempts: 0 }
    );
    assert_eq!(db.task(empty.id).unwrap(), None);
    assert!(matches!(
        db.delete_content(ContentItem::Task(empty.id), true),
        Err(RepoError::NotFound("task"))
    ));
    assert_eq!(
        db.delete_content(ContentItem::Topic(l.topic_id), true)
            .unwrap(),
        DeleteOutcome::Deleted { attempts: 3 }
    );
    assert_eq!(db.lesson(l.id).unwrap(), None);
    assert!(db.attempts_of_task(t.id).unwrap().is_empty());
    assert!(matches!(
        db.delete_content(ContentItem::Lesson(l.id), true),
        Err(RepoError::NotFound("lesson"))
    ));
}

pub fn new_items_are_appended_and_reorder_needs_every_item(db: &Database) {
    let ts: Vec<_> = ["x", "y", "z"].iter().map(|s| topic(db, s)).collect();
    assert_eq!(
        ts.iter().map(|t| t.position).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
    db.reorder_topics(&[ts[2].id, ts[0].id, ts[1].id]).unwrap();
    let order: Vec<String> = db
        .list_topics(true)
        .unwrap()
        .iter()
        .map(|t| t.slug.to_string())
        .collect();
    assert_eq!(order, ["z", "x", "y"]);
    for bad in [
        vec![ts[0].id, ts[1].id],
        vec![ts[0].id, ts[0].id, ts[1].id],
        vec![ts[0].id, ts[1].id, uuid::Uuid::new_v4()],
    ] {
        assert!(
            matches!(db.reorder_topics(&bad), Err(RepoError::Conflict(_))),
            "{bad:?}"
        );
    }

    let ls: Vec<_> = ["l1", "l2"].iter().map(|s| lesson(db, &ts[0], s)).collect();
    db.reorder_lessons(ts[0].id, &[ls[1].id, ls[0].id]).unwrap();
    let order: Vec<String> = db
        .lessons(ts[0].id, true)
        .unwrap()
        .iter()
        .map(|l| l.slug.to_string())
        .collect();
    assert_eq!(order, ["l2", "l1"]);
    let ks: Vec<_> = ["k1", "k2", "k3"]
        .iter()
        .map(|s| task(db, &ls[0], s))
        .collect();
    assert_eq!(
        ks.iter().map(|k| k.position).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
    db.reorder_tasks(ls[0].id, &[ks[1].id, ks[2].id, ks[0].id])
        .unwrap();
    let order: Vec<String> = db
        .tasks(ls[0].id, true)
        .unwrap()
        .iter()
        .map(|k| k.slug.to_string())
        .collect();
    assert_eq!(order, ["k2", "k3", "k1"]);
    assert!(matches!(
        db.reorder_tasks(ls[1].id, &[ks[0].id]),
        Err(RepoError::Conflict(_))
    ));

    let outline = db.outline(true).unwrap();
    assert_eq!(outline.len(), 3);
    assert_eq!(outline[1].0.slug.as_str(), "x");
    assert_eq!(outline[1].1.len(), 2);
}

pub fn patches_change_only_given_fields_and_unpublished_items_hide(db: &Database) {
    let t = topic(db, "a");
    let patch = ContentPatch {
        title: Some("New".into()),
        published: Some(false),
        ..Default::default()
    };
    let t2 = db.update_topic(t.id, &patch, at(9)).unwrap();
    assert_eq!(
        (t2.title.as_str(), t2.published, t2.slug.as_str()),
        ("New", false, "a")
    );
    assert_eq!(t2.description, t.description);
    assert_eq!(t2.updated_at, at(9));
    assert!(db.list_topics(false).unwrap().is_empty());
    assert_eq!(db.list_topics(true).unwrap().len(), 1);
    assert!(db.outline(false).unwrap().is_empty());

    let l = lesson(db, &t, "l");
    let patch = ContentPatch {
        kind: Some(LessonKind::Video),
        body: Some("new body".into()),
        ..Default::default()
    };
    let l2 = db.update_lesson(l.id, &patch, at(10)).unwrap();
    assert_eq!(
        (l2.kind, l2.body.as_str(), l2.title.as_str()),
        (LessonKind::Video, "new body", l.title.as_str())
    );
    db.update_lesson(
        l.id,
        &ContentPatch {
            published: Some(false),
            ..Default::default()
        },
        at(11),
    )
    .unwrap();
    assert!(db.lessons(t.id, false).unwrap().is_empty());
    assert_eq!(db.lessons(t.id, true).unwrap().len(), 1);

    let mut k = task(db, &l, "k");
    k.published = false;
    k.title = "Renamed".into();
    k.updated_at = at(12);
    let k2 = db.update_task(&k).unwrap();
    assert_eq!(k2, k, "update_task stores every field it is given");
    assert!(db.tasks(l.id, false).unwrap().is_empty());
    assert!(matches!(
        db.update_topic(uuid::Uuid::new_v4(), &ContentPatch::default(), at(1)),
        Err(RepoError::NotFound(_))
    ));
}

pub fn task_data_is_validated_on_write(db: &Database) {
    let t = topic(db, "a");
    let l = lesson(db, &t, "l");
    let mut bad = task_value(&l, "bad");
    let TaskData::Code(code) = &mut bad.data else {
        unreachable!()
    };
    code.limits.time_ms = 5;
    code.tests[0].body = TestBody::Assert(domain::task::AssertTest {
        code: "assert f(1) == 1".into(),
    });
    match db.insert_task(&bad) {
        Err(RepoError::Invalid(errs)) => {
            let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
            assert!(fields.contains(&"data.limits.timeMs"), "{fields:?}");
            assert!(fields.contains(&"data.entryPoint"), "{fields:?}");
        }
        other => panic!("expected invalid, got {other:?}"),
    }
    assert!(
        db.tasks(l.id, true).unwrap().is_empty(),
        "nothing was written"
    );

    let mut good = task(db, &l, "good");
    let TaskData::Code(code) = &mut good.data else {
        unreachable!()
    };
    code.tests.clear();
    assert!(
        matches!(db.update_task(&good), Err(RepoError::Invalid(e)) if e[0].field == "data.tests")
    );
    assert_eq!(
        db.task(good.id).unwrap().unwrap().data,
        code_data(),
        "the stored task is unchanged"
    );
}

pub fn corrupt_task_data_row_is_rejected_on_read(db: &Database) {
    let t = topic(db, "a");
    let l = lesson(db, &t, "l");
    let k = task(db, &l, "k");
    let cases = [
        // not JSON at all
        "'{not json'",
        // a misspelled field (the old backend's `lssonLink` class)
        r#"'{"kind":"code","statement":"s","tests":[],"lmits":{}}'"#,
        // well-formed but invalid: a time limit out of range
        r#"'{"kind":"code","statement":"s","limits":{"timeMs":1,"memoryMb":64,"outputKb":8},"tests":[{"name":"a","body":{"io":{"expected":"1"}}}]}'"#,
        // valid data of another kind than the row's kind column
        r#"'{"kind":"reading","body":"hello"}'"#,
    ];
    for json in cases {
        execute_raw(
            db,
            &format!("UPDATE tasks SET data = {json} WHERE id = '{}'", k.id),
        )
        .unwrap();
        match db.task(k.id) {
            Err(RepoError::Internal(m)) => {
                assert!(m.contains("tasks") && m.contains("data"), "{m}")
            }
            other => panic!("{json}: expected a corrupt-row error, got {other:?}"),
        }
        assert!(db.tasks(l.id, true).is_err(), "{json}: listing fails too");
        assert!(db.export_course().is_err(), "{json}: export fails too");
    }
}

pub fn check_constraints_refuse_unknown_enum_values(db: &Database) {
    let (u, k) = setup_task(db);
    let l = db.lesson(k.lesson_id).unwrap().unwrap();
    let now = "'2026-12-03 10:00:00'";
    let bad_rows = [
        format!("INSERT INTO users (id, username, username_key, role, created_at, updated_at) VALUES ('x1', 'eve', 'eve', 'superuser', {now}, {now})"),
        format!("INSERT INTO users (id, username, username_key, role, created_at, updated_at) VALUES ('x2', 'Eve', 'Eve', 'student', {now}, {now})"),
        format!("INSERT INTO lessons (id, topic_id, slug, title, kind, body, position, published, created_at, updated_at) VALUES ('x3', '{}', 's', 't', 'podcast', '', 0, true, {now}, {now})", l.topic_id),
        format!("INSERT INTO tasks (id, lesson_id, slug, title, kind, position, published, data, created_at, updated_at) VALUES ('x4', '{}', 's', 't', 'essay', 0, true, '{{}}', {now}, {now})", l.id),
        format!("INSERT INTO attempts (id, user_id, task_id, input, status, created_at) VALUES ('x5', '{}', '{}', '{{}}', 'paused', {now})", u.id, k.id),
        format!("INSERT INTO attempts (id, user_id, task_id, input, status, verdict, created_at) VALUES ('x6', '{}', '{}', '{{}}', 'done', 'Accepted', {now})", u.id, k.id),
    ];
    for sql in &bad_rows {
        let e = execute_raw(db, sql).expect_err(sql);
        let m = e.to_string().to_lowercase();
        assert!(m.contains("check"), "{sql}: {m}");
    }
    // The same statements with valid values go through, so the refusals above were the CHECKs.
    let ok = bad_rows[0].replace("'superuser'", "'student'");
    execute_raw(db, &ok).unwrap();
}
