//! Campus's main job on real input, end to end over HTTP: a fresh database, HumanEval imported,
//! a student registered over HTTP, all 164 canonical solutions submitted over HTTP and accepted,
//! and 164 bodies that only `return None` all not accepted. Prints the counts and wall time.
//!
//! Needs the Docker engine and the sandbox image (`scripts/build-sandbox-image`): without them
//! this test fails with a message saying so. It never skips.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod learning_common;

use domain::user::Role;
use futures_util::{stream, StreamExt};
use learning_common::{test_config, App};
use serde_json::json;
use std::{collections::HashMap, io::Read, path::PathBuf, time::Instant};

fn humaneval_path() -> PathBuf {
    if let Some(p) = std::env::var_os("HUMANEVAL_PATH") {
        return PathBuf::from(p);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = std::process::Command::new(root.join("scripts/fetch-humaneval"))
        .output()
        .expect("cannot run scripts/fetch-humaneval");
    assert!(
        out.status.success(),
        "scripts/fetch-humaneval failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

#[derive(serde::Deserialize)]
struct Problem {
    task_id: String,
    prompt: String,
    canonical_solution: String,
}

fn problems(path: &PathBuf) -> Vec<Problem> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[actix_web::test]
async fn all_humaneval_canonical_solutions_pass_over_http_and_none_bodies_fail() {
    let grader = api::grading::connect(&test_config()).await;
    if let Err(e) = grader.ready().await {
        panic!(
            "this test needs the Docker engine and the sandbox image: start Docker (scripts/setup-docker) and \
             build the image (scripts/build-sandbox-image): {e}"
        )
    }
    let started = Instant::now();
    let app = App::spawn(Some(grader)).await;
    let path = humaneval_path();
    let course = persistence::read_course(&path).expect("HumanEval reads as a course");
    app.import(&course);
    let problems = problems(&path);
    assert_eq!(problems.len(), 164);

    let s = app.register(Role::Student).await;
    let (status, topics) = app.get("/topics", &s.token).await;
    assert_eq!(status, 200);
    let topic = topics
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["slug"] == "humaneval")
        .expect("humaneval topic");
    let (_, detail) = app
        .get(
            &format!("/topics/{}", topic["id"].as_str().unwrap()),
            &s.token,
        )
        .await;
    let mut task_by_title = HashMap::new();
    for l in detail["lessons"].as_array().unwrap() {
        let (status, lesson) = app
            .get(
                &format!("/lessons/{}", l["lessonId"].as_str().unwrap()),
                &s.token,
            )
            .await;
        assert_eq!(status, 200);
        for t in lesson["tasks"].as_array().unwrap() {
            assert!(t["data"].get("referenceSolution").is_none());
            task_by_title.insert(
                t["title"].as_str().unwrap().to_string(),
                t["id"].as_str().unwrap().to_string(),
            );
        }
    }
    assert_eq!(
        task_by_title.len(),
        164,
        "every task is reachable over HTTP"
    );

    let mut jobs = Vec::new();
    for p in &problems {
        let task = task_by_title[&p.task_id].clone();
        jobs.push((
            true,
            p.task_id.clone(),
            task.clone(),
            format!("{}{}", p.prompt, p.canonical_solution),
        ));
        jobs.push((
            false,
            p.task_id.clone(),
            task,
            format!("{}    return None\n", p.prompt),
        ));
    }
    let results: Vec<(bool, String, String)> = stream::iter(jobs)
        .map(|(canonical, title, task, code)| {
            let (app, token) = (&app, s.token.clone());
            async move {
                let (status, body) = app
                    .call(
                        "POST",
                        &format!("/tasks/{task}/submissions"),
                        Some(&token),
                        Some(json!({"code": code})),
                    )
                    .await;
                assert_eq!(status, 202, "{title}: {body}");
                let id = body["attemptId"].as_str().unwrap().to_string();
                for _ in 0..20 {
                    let (status, a) = app.get(&format!("/attempts/{id}?wait=30"), &token).await;
                    assert_eq!(status, 200);
                    if a["status"] == "done" {
                        return (canonical, title, a["verdict"].as_str().unwrap().to_string());
                    }
                }
                (canonical, title, "never finished".to_string())
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;

    let accepted = |want: bool| {
        results
            .iter()
            .filter(|(c, _, v)| *c == want && v == "accepted")
            .count()
    };
    let not_accepted: Vec<String> = results
        .iter()
        .filter(|(c, _, v)| *c && v != "accepted")
        .map(|(_, t, v)| format!("{t}={v}"))
        .collect();
    let wall = started.elapsed();
    println!(
        "HumanEval over HTTP: canonical solutions accepted {}/164",
        accepted(true)
    );
    println!(
        "HumanEval over HTTP: `return None` bodies accepted {}/164",
        accepted(false)
    );
    println!(
        "HumanEval over HTTP: wall time {:.1} s for {} submissions",
        wall.as_secs_f64(),
        results.len()
    );
    assert_eq!(accepted(true), 164, "not accepted: {not_accepted:?}");
    assert_eq!(accepted(false), 0, "a body that returns None was accepted");

    // The student's solutions list holds exactly the 164 tasks.
    let mut solved = 0;
    let mut offset = 0;
    loop {
        let (_, page) = app
            .get(
                &format!("/me/solutions?limit=100&offset={offset}"),
                &s.token,
            )
            .await;
        let n = page["items"].as_array().unwrap().len();
        solved += n;
        offset += n;
        if n < 100 {
            break;
        }
    }
    assert_eq!(solved, 164);
}
