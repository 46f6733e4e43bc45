//! Analytics for teachers: per task and per student, as JSON or CSV (`?format=csv`).

use super::dto::{Format, FormatQuery, StudentProgressDto, TaskStatsDto, TopicProgressDto};
use super::learning;
use crate::{
    auth::Teacher,
    error::{ApiError, ErrorBody},
    extract::Query,
    state::{db, AppState},
};
use actix_web::{http::header, web, HttpResponse};
use domain::{
    services::progress::{attempted_tasks, course_progress, solved_tasks, task_analytics},
    DomainError,
};
use uuid::Uuid;

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, carriage return at the
/// start) is written with a leading `'`; numbers stay numbers (OWASP's CSV injection advice).
fn neutralize(cell: String) -> String {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell.parse::<f64>().is_err() {
        format!("'{cell}")
    } else {
        cell
    }
}

fn csv_response(name: &str, rows: Vec<Vec<String>>) -> Result<HttpResponse, ApiError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        let row: Vec<String> = row.into_iter().map(neutralize).collect();
        w.write_record(&row).map_err(ApiError::internal)?;
    }
    let bytes = w.into_inner().map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.csv\""),
        ))
        .body(bytes))
}

/// Attempts, students who tried and passed, pass rate, median attempts to pass, and the most
/// failed tests of one task.
#[utoipa::path(
    get, path = "/teacher/analytics/tasks/{id}", tag = "analytics",
    params(("id" = Uuid, Path, description = "Task id"), FormatQuery),
    responses(
        (status = 200, body = TaskStatsDto, content_type = "application/json"),
        (status = 200, body = String, content_type = "text/csv",
            description = "With `?format=csv`: one header row, one row per metric and failed test"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn task_stats(
    state: web::Data<AppState>,
    _t: Teacher,
    id: web::Path<Uuid>,
    query: Query<FormatQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let (task, stats) = db(&state, move |s| task_analytics(s, s, id)).await?;
    let dto = TaskStatsDto::of(&task, &stats);
    if query.into_inner().format != Some(Format::Csv) {
        return Ok(HttpResponse::Ok().json(dto));
    }
    let mut rows = vec![vec!["metric".to_string(), "value".to_string()]];
    let mut put = |k: &str, v: String| rows.push(vec![k.to_string(), v]);
    put("taskId", dto.task_id.to_string());
    put("taskTitle", dto.task_title.clone());
    put("attempts", dto.attempts.to_string());
    put("studentsTried", dto.students_tried.to_string());
    put("studentsPassed", dto.students_passed.to_string());
    put("passRate", format!("{:.4}", dto.pass_rate));
    put(
        "medianAttemptsToPass",
        dto.median_attempts_to_pass
            .map(|m| m.to_string())
            .unwrap_or_default(),
    );
    for f in &dto.most_failed_tests {
        put(&format!("failedTest:{}", f.name), f.failures.to_string());
    }
    csv_response(&format!("task-{id}"), rows)
}

/// A student's progress through the course: per topic, tasks attempted and solved of the total.
#[utoipa::path(
    get, path = "/teacher/analytics/students/{id}", tag = "analytics",
    params(("id" = Uuid, Path, description = "User id of the student"), FormatQuery),
    responses(
        (status = 200, body = StudentProgressDto, content_type = "application/json"),
        (status = 200, body = String, content_type = "text/csv",
            description = "With `?format=csv`: topicId,topicTitle,tasksTotal,tasksAttempted,tasksSolved"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn student_progress(
    state: web::Data<AppState>,
    _t: Teacher,
    id: web::Path<Uuid>,
    query: Query<FormatQuery>,
) -> Result<HttpResponse, ApiError> {
    let uid = id.into_inner();
    let user = db(&state, move |s| {
        s.user_by_id(uid)?.ok_or(DomainError::NotFound("student"))
    })
    .await?;
    // Progress through what students can see: the published course.
    let cache = &learning(&state).cache;
    let outline = cache.outline(&state, false).await?;
    let index = cache.task_index(&state, false).await?;
    let (solved, attempted) = db(&state, move |s| {
        Ok::<_, DomainError>((solved_tasks(s, uid)?, attempted_tasks(s, uid)?))
    })
    .await?;
    let progress = course_progress(&index, &attempted, &solved);
    let topics: Vec<TopicProgressDto> = progress
        .iter()
        .map(|p| {
            let title = outline
                .iter()
                .find(|(t, _)| t.id == p.topic_id)
                .map(|(t, _)| t.title.as_str())
                .unwrap_or("");
            TopicProgressDto::of(title, p)
        })
        .collect();
    let dto = StudentProgressDto {
        user_id: user.id,
        username: user.username.to_string(),
        tasks_total: topics.iter().map(|t| t.tasks_total).sum(),
        tasks_solved: topics.iter().map(|t| t.tasks_solved).sum(),
        topics,
    };
    if query.into_inner().format != Some(Format::Csv) {
        return Ok(HttpResponse::Ok().json(dto));
    }
    let mut rows = vec![[
        "topicId",
        "topicTitle",
        "tasksTotal",
        "tasksAttempted",
        "tasksSolved",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect::<Vec<_>>()];
    for t in &dto.topics {
        rows.push(vec![
            t.topic_id.to_string(),
            t.topic_title.clone(),
            t.tasks_total.to_string(),
            t.tasks_attempted.to_string(),
            t.tasks_solved.to_string(),
        ]);
    }
    csv_response(&format!("student-{}", dto.username), rows)
}

#[cfg(test)]
mod tests {
    use super::neutralize;

    #[test]
    fn formula_cells_are_defused_and_numbers_kept() {
        for (cell, out) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("@SUM(1+1)", "'@SUM(1+1)"),
            ("+cmd", "'+cmd"),
            ("-2+3", "'-2+3"),
            ("\tx", "'\tx"),
            ("-1.5", "-1.5"),
            ("0.75", "0.75"),
            ("Lists", "Lists"),
            ("failedTest:=x", "failedTest:=x"),
        ] {
            assert_eq!(neutralize(cell.to_string()), out, "{cell}");
        }
    }
}
