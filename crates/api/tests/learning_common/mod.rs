//! Support for the learning API tests: the real server on port 0 over a fresh SQLite database,
//! accounts registered over HTTP, and a small course imported through the import port.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use api::{
    config::Config,
    server::{Dependencies, Server},
};
use domain::{
    course::{Course, CourseLesson, CourseTask, CourseTopic},
    grading::{GradeReport, Grader, TestOutcome},
    ports::{ContentRepo, UserRepo},
    task::{CodeTask, TaskData},
    user::Role,
};
use persistence::{testing::TempDir, Database};
use serde_json::{json, Value};
use std::sync::Arc;

pub struct App {
    pub base: String,
    pub http: reqwest::Client,
    pub db: Arc<Database>,
    pub state: api::state::AppState,
    _dir: TempDir,
}

pub struct Account {
    pub id: uuid::Uuid,
    pub username: String,
    pub token: String,
}

pub fn test_config() -> Config {
    test_config_with(&[])
}

/// [`test_config`] with some variables set.
pub fn test_config_with(extra: &[(&str, &str)]) -> Config {
    Config::from_lookup(|name| {
        if let Some((_, v)) = extra.iter().find(|(k, _)| *k == name) {
            return Some(v.to_string());
        }
        match name {
            "CAMPUS_ADDR" => Some("127.0.0.1:0".into()),
            "RUST_LOG" => Some("warn".into()),
            // These tests are about the learning API, not budgets (the rate-limit tests own
            // those); the end-to-end test sends 328 submissions from one student, 16 at a time.
            "RATE_LIMIT_SUBMIT" | "RATE_LIMIT_GENERAL" | "RATE_LIMIT_AUTH" => Some("off".into()),
            "SUBMIT_MAX_IN_FLIGHT" => Some("64".into()),
            _ => None,
        }
    })
    .expect("test config")
}

impl App {
    pub async fn spawn(grader: Option<Arc<dyn Grader>>) -> App {
        let (db, dir) = persistence::testing::fresh_sqlite();
        Self::spawn_on(Arc::new(db), dir, grader).await
    }

    pub async fn spawn_on(db: Arc<Database>, dir: TempDir, grader: Option<Arc<dyn Grader>>) -> App {
        Self::spawn_with(test_config(), db, dir, grader).await
    }

    pub async fn spawn_with(
        config: Config,
        db: Arc<Database>,
        dir: TempDir,
        grader: Option<Arc<dyn Grader>>,
    ) -> App {
        let server = Server::build_with(
            config,
            Dependencies {
                db: db.clone(),
                grader,
            },
        )
        .await
        .expect("server");
        let base = format!("http://127.0.0.1:{}", server.port());
        let state = server.state().clone();
        tokio::spawn(server.run());
        App {
            base,
            http: reqwest::Client::new(),
            db,
            state,
            _dir: dir,
        }
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let (status, text, _) = self.raw(method, path, token, body).await;
        let v = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, v)
    }

    /// Status, body text and content type.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, String, String) {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let ct = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, res.text().await.unwrap(), ct)
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.call("GET", path, Some(token), None).await
    }

    pub async fn register(&self, role: Role) -> Account {
        let username = format!("u{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let (status, body) = self
            .call(
                "POST",
                "/auth/register",
                None,
                Some(json!({"username": username, "password": "a-long-password-1"})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let id: uuid::Uuid = body["user"]["id"].as_str().unwrap().parse().unwrap();
        if role != Role::Student {
            self.db.set_role(id, role, chrono::Utc::now()).unwrap();
        }
        Account {
            id,
            username,
            token: body["accessToken"].as_str().unwrap().to_string(),
        }
    }

    pub fn import(&self, course: &Course) {
        course.validate().expect("fixture course is valid");
        self.db
            .import_course(course, chrono::Utc::now())
            .expect("import");
    }
}

pub fn code_data(reference: &str) -> TaskData {
    serde_json::from_value(json!({
        "kind": "code",
        "statement": "Print the sum of two numbers.",
        "starterCode": "a, b = map(int, input().split())\n",
        "tests": [
            {"name": "sample", "body": {"io": {"stdin": "1 2\n", "expected": "3\n"}}},
            {"name": "secret-case", "hidden": true, "weight": 2,
             "body": {"io": {"stdin": "40 2\n", "expected": "42\n"}}}
        ],
        "referenceSolution": reference
    }))
    .unwrap()
}

pub fn quiz_data() -> TaskData {
    serde_json::from_value(json!({
        "kind": "quiz",
        "questions": [
            {"prompt": "2+2?", "options": ["3", "4"], "correct": [1], "explanation": "SECRET-EXPLANATION"},
            {"prompt": "even?", "options": ["2", "3", "4"], "correct": [0, 2]}
        ]
    }))
    .unwrap()
}

pub const REFERENCE: &str = "a, b = map(int, input().split())\nprint(a + b)  # REFERENCE-MARKER\n";

fn task(slug: &str, data: TaskData, published: bool) -> CourseTask {
    CourseTask {
        slug: slug.into(),
        title: slug.to_uppercase(),
        published,
        data,
    }
}

fn lesson(slug: &str, published: bool, tasks: Vec<CourseTask>) -> CourseLesson {
    CourseLesson {
        slug: slug.into(),
        title: format!("Lesson {slug}"),
        kind: domain::content::LessonKind::Article,
        body: format!("# {slug}\n"),
        published,
        tasks,
    }
}

/// Two published topics (`basics`: intro, sum, wip (draft); `loops`: for), one draft topic.
pub fn small_course() -> Course {
    Course {
        topics: vec![
            CourseTopic {
                slug: "basics".into(),
                title: "Basics".into(),
                description: "First steps".into(),
                published: true,
                lessons: vec![
                    lesson("intro", true, vec![task("quiz-1", quiz_data(), true)]),
                    lesson(
                        "sum",
                        true,
                        vec![
                            task("sum", code_data(REFERENCE), true),
                            task("sum-draft", code_data(REFERENCE), false),
                        ],
                    ),
                    lesson("wip", false, vec![]),
                ],
            },
            CourseTopic {
                slug: "loops".into(),
                title: "Loops".into(),
                description: String::new(),
                published: true,
                lessons: vec![lesson("for", true, vec![])],
            },
            CourseTopic {
                slug: "drafts".into(),
                title: "Drafts".into(),
                description: String::new(),
                published: false,
                lessons: vec![lesson("secret", true, vec![])],
            },
        ],
    }
}

/// Ids by slug, looked up through the store.
pub fn ids(app: &App) -> std::collections::HashMap<String, uuid::Uuid> {
    let mut m = std::collections::HashMap::new();
    for (t, lessons) in app.db.outline(true).unwrap() {
        m.insert(t.slug.to_string(), t.id);
        for l in lessons {
            m.insert(l.slug.to_string(), l.id);
            for k in app.db.tasks(l.id, true).unwrap() {
                m.insert(format!("task:{}", k.slug), k.id);
            }
        }
    }
    m
}

/// The field names of an error body (`error.fields[].field`).
pub fn error_fields(body: &Value) -> Vec<String> {
    body["error"]["fields"]
        .as_array()
        .map(|f| {
            f.iter()
                .map(|x| x["field"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A stand-in grader's report: `tests` as graded, overall verdict and score derived the way
/// the sandbox derives them.
pub fn stand_in_report(task: &CodeTask, tests: Vec<TestOutcome>) -> GradeReport {
    GradeReport {
        verdict: domain::grading::overall_verdict(&tests),
        score: domain::grading::weighted_score(&tests),
        tests,
        diagnostics: None,
        image_id: "sha256:stand-in".into(),
        limits: task.limits,
        duration_ms: 1,
    }
}

/// F1: a control character in any free-text field is a 422 naming the field, on every backend;
/// nothing is written. `"Hello\u0000World"` was a 500 on PostgreSQL and stored on SQLite.
pub async fn control_characters_are_422s_naming_the_field(app: &App) {
    let t = app.register(Role::Teacher).await;
    let nul = "Hello\u{0}World";
    let named = error_fields;
    let tok = Some(t.token.as_str());
    let (status, body) = app
        .call("POST", "/teacher/topics", tok, Some(json!({"title": nul})))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(named(&body), ["title"], "{body}");
    assert!(body.to_string().contains("control characters"), "{body}");
    let (status, topic) = app
        .call(
            "POST",
            "/teacher/topics",
            tok,
            Some(json!({"title": "Fine", "slug": "fine"})),
        )
        .await;
    assert_eq!(status, 201, "{topic}");
    let tid = topic["id"].as_str().unwrap();
    let (status, body) = app
        .call(
            "PATCH",
            &format!("/teacher/topics/{tid}"),
            tok,
            Some(json!({"description": "a\u{0}b"})),
        )
        .await;
    assert_eq!(
        (status, named(&body)),
        (422, vec!["description".to_string()]),
        "{body}"
    );
    let (status, body) = app
        .call(
            "POST",
            &format!("/teacher/topics/{tid}/lessons"),
            tok,
            Some(json!({"title": "L", "body": "x\u{0}y"})),
        )
        .await;
    assert_eq!(
        (status, named(&body)),
        (422, vec!["body".to_string()]),
        "{body}"
    );
    let (status, lesson) = app
        .call(
            "POST",
            &format!("/teacher/topics/{tid}/lessons"),
            tok,
            Some(json!({"title": "L", "body": "line\n\tindented\r\n"})),
        )
        .await;
    assert_eq!(status, 201, "multi-line text keeps \\n, \\t, \\r: {lesson}");
    let lid = lesson["id"].as_str().unwrap();
    let good = serde_json::to_value(code_data("print(1)")).unwrap();
    let mut bad = good.clone();
    bad["statement"] = json!(nul);
    bad["tests"][0]["name"] = json!("two\nlines");
    let tasks = format!("/teacher/lessons/{lid}/tasks");
    let (status, body) = app
        .call(
            "POST",
            &tasks,
            tok,
            Some(json!({"title": "T", "data": bad})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        named(&body),
        ["data.statement", "data.tests[0].name"],
        "{body}"
    );
    let (status, body) = app
        .call(
            "POST",
            &tasks,
            tok,
            Some(json!({"title": "T\u{7}", "data": good})),
        )
        .await;
    assert_eq!(
        (status, named(&body)),
        (422, vec!["title".to_string()]),
        "{body}"
    );
    // Nothing was written: one topic, one lesson, no task.
    let topics = app.db.list_topics(true).unwrap();
    assert_eq!(topics.len(), 1);
    assert_eq!(topics[0].description, "");
    let lessons = app.db.lessons(topics[0].id, true).unwrap();
    assert_eq!(lessons.len(), 1);
    assert!(app.db.tasks(lessons[0].id, true).unwrap().is_empty());
}
