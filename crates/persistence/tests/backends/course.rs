use crate::common::*;
use domain::{
    course::Course,
    ports::{ContentRepo, ImportSummary},
    task::TaskData,
    RepoError,
};
use persistence::{read_course, testing::execute_raw, write_course, Backend, Database};
use std::path::PathBuf;
use std::sync::OnceLock;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `HUMANEVAL_PATH`, or the file `scripts/fetch-humaneval` downloads (it prints the path).
fn humaneval_path() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        if let Some(p) = std::env::var_os("HUMANEVAL_PATH").filter(|p| !p.is_empty()) {
            return PathBuf::from(p);
        }
        let script = repo_root().join("scripts/fetch-humaneval");
        let out = std::process::Command::new("bash").arg(&script).output().unwrap_or_else(|e| {
            panic!("cannot run {}: {e}; set HUMANEVAL_PATH to HumanEval.jsonl.gz", script.display())
        });
        assert!(
            out.status.success(),
            "{} failed ({}): {}\nThe HumanEval data set is needed: run the script by hand, or set HUMANEVAL_PATH",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    })
    .clone()
}

fn humaneval() -> Course {
    let path = humaneval_path();
    assert!(
        path.is_file(),
        "HumanEval file {} is missing; run scripts/fetch-humaneval",
        path.display()
    );
    read_course(&path).unwrap()
}

fn example_course() -> Course {
    read_course(repo_root().join("docs/examples/intro-course.toml")).unwrap()
}

fn count_tasks(db: &Database) -> usize {
    let mut n = 0;
    for t in db.list_topics(true).unwrap() {
        for l in db.lessons(t.id, true).unwrap() {
            n += db.tasks(l.id, true).unwrap().len();
        }
    }
    n
}

pub fn humaneval_import_is_idempotent(db: &Database) {
    let course = humaneval();
    assert_eq!(course.task_count(), 164);
    let first = db.import_course(&course, t0()).unwrap();
    assert_eq!(
        (
            first.topics_created,
            first.lessons_created,
            first.tasks_created
        ),
        (1, 164, 164)
    );
    assert_eq!(count_tasks(db), 164);

    let second = db.import_course(&course, at(60)).unwrap();
    assert_eq!(
        second,
        ImportSummary::default(),
        "nothing changed, nothing created"
    );
    assert_eq!(count_tasks(db), 164);
    let topics = db.list_topics(true).unwrap();
    assert_eq!(topics.len(), 1);
    let lessons = db.lessons(topics[0].id, true).unwrap();
    assert_eq!(lessons[0].slug.as_str(), "humaneval-0");
    assert_eq!(lessons[163].slug.as_str(), "humaneval-163");
    let k = &db.tasks(lessons[0].id, true).unwrap()[0];
    let TaskData::Code(code) = &k.data else {
        panic!("HumanEval tasks are code tasks")
    };
    assert_eq!(code.entry_point.as_deref(), Some("has_close_elements"));
}

pub fn course_with_one_bad_field_writes_nothing(db: &Database) {
    let mut course = example_course();
    // Break the LAST task only, so a non-transactional importer would have written the rest.
    let last_topic = course.topics.len() - 1;
    let last_lesson = course.topics[last_topic].lessons.len() - 1;
    let last_task = course.topics[last_topic].lessons[last_lesson].tasks.len() - 1;
    let target = &mut course.topics[last_topic].lessons[last_lesson].tasks[last_task];
    let TaskData::Code(code) = &mut target.data else {
        panic!("the example's last task is a code task")
    };
    code.limits.memory_mb = 4096;
    match db.import_course(&course, t0()) {
        Err(RepoError::Invalid(errs)) => {
            assert_eq!(errs.len(), 1, "{errs:?}");
            assert_eq!(
                errs[0].field,
                format!("topics[{last_topic}].lessons[{last_lesson}].tasks[{last_task}].data.limits.memoryMb")
            );
        }
        other => panic!("expected invalid, got {other:?}"),
    }
    assert!(
        db.list_topics(true).unwrap().is_empty(),
        "nothing was written"
    );

    // The same through a file: the error names file, path and field; still nothing written.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.toml");
    write_course(&file, &course).unwrap();
    let e = read_course(&file).unwrap_err().to_string();
    assert!(
        e.contains("broken.toml: topics[") && e.contains("data.limits.memoryMb"),
        "{e}"
    );
    assert!(db.list_topics(true).unwrap().is_empty());
}

/// F1: a NUL (or other control character) in a title, description, body or task text is
/// refused naming the item and the field, the same on both backends (PostgreSQL cannot store NUL
/// in text; SQLite would have); nothing is written. Also through a TOML file, as `campus import`.
pub fn course_with_control_characters_is_refused_naming_item_and_field(db: &Database) {
    let mut course = example_course();
    let last = course.topics.len() - 1;
    course.topics[last].title = "Hello\u{0}World".into();
    course.topics[0].lessons[0].body = "body\u{0}".into();
    let ll = course.topics[last].lessons.len() - 1;
    let lk = course.topics[last].lessons[ll].tasks.len() - 1;
    let TaskData::Code(code) = &mut course.topics[last].lessons[ll].tasks[lk].data else {
        panic!("the example's last task is a code task")
    };
    code.statement = "a\u{1}b".into();
    let statement = format!("topics[{last}].lessons[{ll}].tasks[{lk}].data.statement");
    let check = |errs: &[domain::FieldError]| {
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "topics[0].lessons[0].body".to_string(),
                format!("topics[{last}].title"),
                statement.clone(),
            ],
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .all(|e| e.message.contains("control characters")),
            "{errs:?}"
        );
    };
    match db.import_course(&course, t0()) {
        Err(RepoError::Invalid(errs)) => check(&errs),
        other => panic!("expected invalid, got {other:?}"),
    }
    assert!(
        db.list_topics(true).unwrap().is_empty(),
        "nothing was written"
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nul.toml");
    // Written by hand (write_course validates nothing, but be explicit about the escape).
    write_course(&file, &course).unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("\\u0000"),
        "the file holds the NUL as a TOML escape"
    );
    // The CLI's message names the file, the item (its path and slug) and the field.
    let e = read_course(&file).unwrap_err().to_string();
    assert!(
        e.contains("nul.toml: topics[0].lessons[0].body")
            && e.contains("control characters")
            && e.contains("and 2 more"),
        "{e}"
    );
    assert!(db.list_topics(true).unwrap().is_empty());
}

/// A failure the validator cannot foresee (here a trigger refusing the last task) rolls the
/// whole import back: one transaction.
pub fn import_failing_midway_writes_nothing(db: &Database) {
    let trigger = match db.backend() {
        Backend::Sqlite => "CREATE TRIGGER refuse_palindrome BEFORE INSERT ON tasks \
             WHEN NEW.slug = 'is-palindrome' BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END;"
            .to_string(),
        Backend::Postgres => "CREATE FUNCTION refuse_palindrome() RETURNS trigger AS $$ BEGIN \
             IF NEW.slug = 'is-palindrome' THEN RAISE EXCEPTION 'refused by test trigger'; END IF; \
             RETURN NEW; END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER refuse_palindrome BEFORE INSERT ON tasks \
             FOR EACH ROW EXECUTE FUNCTION refuse_palindrome();"
            .to_string(),
    };
    execute_raw(db, &trigger).unwrap();
    let course = example_course();
    let e = db.import_course(&course, t0()).unwrap_err();
    assert!(e.to_string().contains("refused by test trigger"), "{e}");
    assert!(
        db.list_topics(true).unwrap().is_empty(),
        "the earlier topics were rolled back"
    );
    assert_eq!(count_tasks(db), 0);
}

pub fn export_then_import_is_a_round_trip(db: &Database) {
    let original = example_course();
    db.import_course(&original, t0()).unwrap();
    let e1 = db.export_course().unwrap();
    assert_eq!(e1, original, "a fresh database exports what was imported");

    let dir = tempfile::tempdir().unwrap();
    for name in ["export.toml", "export.json"] {
        let file = dir.path().join(name);
        write_course(&file, &e1).unwrap();
        let read_back = read_course(&file).unwrap();
        assert_eq!(read_back, e1, "{name}");
        assert_eq!(
            db.import_course(&read_back, at(10)).unwrap(),
            ImportSummary::default()
        );
    }
    let e2 = db.export_course().unwrap();
    assert_eq!(e2, e1);
}

pub fn reimport_updates_in_place_and_keeps_unlisted_items(db: &Database) {
    let mut course = example_course();
    db.import_course(&course, t0()).unwrap();
    let before = db.list_topics(true).unwrap();
    let first_task_id = {
        let l = &db.lessons(before[0].id, true).unwrap()[0];
        db.tasks(l.id, true).unwrap()[0].id
    };

    // Change one title, swap the topic order, drop the last topic from the file.
    course.topics[0].lessons[0].tasks[0].title = "Renamed task".into();
    let dropped = course.topics.pop().unwrap();
    course.topics.reverse();
    let summary = db.import_course(&course, at(5)).unwrap();
    assert_eq!(summary.tasks_updated, 1, "{summary:?}");
    assert_eq!(
        summary.tasks_created + summary.lessons_created + summary.topics_created,
        0
    );

    let after = db.list_topics(true).unwrap();
    assert_eq!(
        after.len(),
        before.len(),
        "a topic missing from the file is kept"
    );
    let slugs: Vec<&str> = after.iter().map(|t| t.slug.as_str()).collect();
    let mut expected: Vec<&str> = course.topics.iter().map(|t| t.slug.as_str()).collect();
    expected.push(dropped.slug.as_str());
    assert_eq!(slugs, expected, "file order first, then the rest");
    let k = db
        .task(first_task_id)
        .unwrap()
        .expect("updated in place, same id");
    assert_eq!((k.title.as_str(), k.updated_at), ("Renamed task", at(5)));
}
