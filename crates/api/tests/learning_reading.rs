//! Reading the course over HTTP: the lesson payload's exact field names, navigation across
//! topic boundaries, and what students may never see.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod learning_common;

use domain::user::Role;
use learning_common::{ids, small_course, App, REFERENCE};
use serde_json::Value;
use std::collections::BTreeSet;

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().expect("an object").keys().cloned().collect()
}

#[actix_web::test]
async fn lesson_payload_has_exactly_the_documented_camel_case_fields() {
    let app = App::spawn(None).await;
    app.import(&small_course());
    let s = app.register(Role::Student).await;
    let id = ids(&app)["sum"];
    let (status, body) = app.get(&format!("/lessons/{id}"), &s.token).await;
    assert_eq!(status, 200, "{body}");
    // The old backend shipped `lssonLink`; this snapshot fails on any renamed or added key.
    let want: BTreeSet<String> = [
        "lessonId",
        "lessonType",
        "lessonLink",
        "lessonName",
        "topicId",
        "body",
        "tasks",
        "previous",
        "next",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(keys(&body), want);
    assert_eq!(body["lessonLink"], "/topics/basics/lessons/sum");
    assert_eq!(body["lessonType"], "article");
    assert_eq!(body["lessonName"], "Lesson sum");
    let nav: BTreeSet<String> = ["lessonId", "lessonName", "lessonLink", "topicId"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(keys(&body["previous"]), nav);
    assert_eq!(keys(&body["next"]), nav);
    let task_keys: BTreeSet<String> = [
        "id",
        "lessonId",
        "slug",
        "title",
        "kind",
        "position",
        "published",
        "data",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(keys(&body["tasks"][0]), task_keys);
    assert!(!body.to_string().contains("lssonLink"));
}

#[actix_web::test]
async fn navigation_crosses_topic_boundaries_and_skips_drafts_for_students() {
    let app = App::spawn(None).await;
    app.import(&small_course());
    let ids = ids(&app);
    let s = app.register(Role::Student).await;
    // `sum` is the last published lesson of `basics` (`wip` is a draft); next is `loops/for`.
    let (_, sum) = app.get(&format!("/lessons/{}", ids["sum"]), &s.token).await;
    assert_eq!(sum["previous"]["lessonId"], ids["intro"].to_string());
    assert_eq!(sum["next"]["lessonId"], ids["for"].to_string());
    assert_eq!(sum["next"]["topicId"], ids["loops"].to_string());
    assert_eq!(sum["next"]["lessonLink"], "/topics/loops/lessons/for");
    let (_, first_of_loops) = app.get(&format!("/lessons/{}", ids["for"]), &s.token).await;
    assert_eq!(
        first_of_loops["previous"]["lessonId"],
        ids["sum"].to_string()
    );
    assert_eq!(
        first_of_loops["previous"]["topicId"],
        ids["basics"].to_string()
    );
    assert!(
        first_of_loops["next"].is_null(),
        "the draft topic must not be linked: {first_of_loops}"
    );
    let (_, intro) = app
        .get(&format!("/lessons/{}", ids["intro"]), &s.token)
        .await;
    assert!(intro["previous"].is_null());

    for hidden in ["wip", "secret"] {
        let (status, body) = app
            .get(&format!("/lessons/{}", ids[hidden]), &s.token)
            .await;
        assert_eq!(status, 404, "{hidden}: {body}");
        assert_eq!(body["error"]["code"], "not_found");
    }
    // Teachers preview drafts, with drafts in the navigation.
    let t = app.register(Role::Teacher).await;
    let (status, sum_t) = app.get(&format!("/lessons/{}", ids["sum"]), &t.token).await;
    assert_eq!(status, 200);
    assert_eq!(sum_t["next"]["lessonId"], ids["wip"].to_string());
}

#[actix_web::test]
async fn hidden_tests_reference_solutions_and_quiz_answers_never_reach_students() {
    let app = App::spawn(None).await;
    app.import(&small_course());
    let ids = ids(&app);
    let s = app.register(Role::Student).await;
    let mut bodies = Vec::new();
    for path in [
        format!("/lessons/{}", ids["sum"]),
        format!("/lessons/{}", ids["intro"]),
        format!("/tasks/{}", ids["task:sum"]),
        format!("/tasks/{}", ids["task:quiz-1"]),
        format!("/topics/{}", ids["basics"]),
        "/topics".to_string(),
    ] {
        let (status, body) = app.get(&path, &s.token).await;
        assert_eq!(status, 200, "{path}: {body}");
        bodies.push(body.to_string());
    }
    let all = bodies.join("\n");
    for secret in [
        "secret-case",
        "REFERENCE-MARKER",
        "referenceSolution",
        "SECRET-EXPLANATION",
        "\"correct\":[1]",
        "40 2",
    ] {
        assert!(!all.contains(secret), "{secret:?} leaked to a student");
    }
    assert!(all.contains("sample"), "visible tests are shown");
    assert!(REFERENCE.contains("REFERENCE-MARKER"));
    // Only published tasks are listed, and a draft task is a 404.
    let (_, lesson) = app.get(&format!("/lessons/{}", ids["sum"]), &s.token).await;
    assert_eq!(lesson["tasks"].as_array().unwrap().len(), 1);
    let (status, _) = app
        .get(&format!("/tasks/{}", ids["task:sum-draft"]), &s.token)
        .await;
    assert_eq!(status, 404);
    // Teachers get the full task on the authoring side.
    let t = app.register(Role::Teacher).await;
    let (status, full) = app
        .get(&format!("/teacher/tasks/{}", ids["task:sum"]), &t.token)
        .await;
    assert_eq!(status, 200);
    assert!(full.to_string().contains("REFERENCE-MARKER"));
}

#[actix_web::test]
async fn topics_list_published_topics_with_the_callers_progress() {
    let app = App::spawn(None).await;
    app.import(&small_course());
    let ids = ids(&app);
    let s = app.register(Role::Student).await;
    let (status, _) = app
        .call(
            "POST",
            &format!("/tasks/{}/quiz-answers", ids["task:quiz-1"]),
            Some(&s.token),
            Some(serde_json::json!({"answers": [[1], [2, 0]]})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, topics) = app.get("/topics", &s.token).await;
    assert_eq!(status, 200);
    let slugs: Vec<&str> = topics
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["basics", "loops"]);
    assert_eq!(
        topics[0]["tasksTotal"], 2,
        "quiz-1 and sum; the draft task is not counted"
    );
    assert_eq!(topics[0]["tasksSolved"], 1);
    let (status, detail) = app
        .get(&format!("/topics/{}", ids["basics"]), &s.token)
        .await;
    assert_eq!(status, 200);
    let lessons: Vec<&str> = detail["lessons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["slug"].as_str().unwrap())
        .collect();
    assert_eq!(lessons, ["intro", "sum"]);
    let (status, _) = app
        .get(&format!("/topics/{}", ids["drafts"]), &s.token)
        .await;
    assert_eq!(status, 404);
    let (status, _) = app.call("GET", "/topics", None, None).await;
    assert_eq!(status, 401);
}
