//! Request and response types of the learning API. Domain values never go out as they are:
//! each response is built here, field by field, in camelCase, and documented in OpenAPI.

use chrono::{DateTime, Utc};
use domain::{
    analytics::TaskStats,
    attempt::{Attempt, AttemptInput, Solution},
    content::{Lesson, Topic},
    grading::{GradeReport, TestOutcome},
    services::{
        progress::TopicProgress,
        reading::{lesson_link, LessonView, NavLink},
    },
    session::SavedSession,
    task::{Limits, Task, TaskKind},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

// ---------- reading ----------

/// A link to a neighbouring lesson.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NavLinkDto {
    pub lesson_id: Uuid,
    pub lesson_name: String,
    /// Front-end path of the lesson: `/topics/{topicSlug}/lessons/{lessonSlug}`.
    pub lesson_link: String,
    pub topic_id: Uuid,
}

impl From<&NavLink> for NavLinkDto {
    fn from(n: &NavLink) -> Self {
        Self {
            lesson_id: n.lesson_id,
            lesson_name: n.lesson_name.clone(),
            lesson_link: n.lesson_link.clone(),
            topic_id: n.topic_id,
        }
    }
}

/// A task as a student sees it: no hidden tests, no reference solution, no quiz answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicTaskDto {
    pub id: Uuid,
    pub lesson_id: Uuid,
    pub slug: String,
    pub title: String,
    /// `reading`, `quiz` or `code`.
    pub kind: String,
    pub position: i32,
    pub published: bool,
    /// The task's content for its kind (see `docs/course-format.md`), reduced to its public view.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl PublicTaskDto {
    /// `task` must already be a public view (`services::reading::public_task`).
    pub fn of_public(task: &Task) -> Self {
        Self {
            id: task.id,
            lesson_id: task.lesson_id,
            slug: task.slug.to_string(),
            title: task.title.clone(),
            kind: task.kind().to_string(),
            position: task.position,
            published: task.published,
            data: serde_json::to_value(&task.data).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// The lesson payload.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LessonPayload {
    pub lesson_id: Uuid,
    /// `article`, `video` or `practice`.
    pub lesson_type: String,
    /// Front-end path of the lesson: `/topics/{topicSlug}/lessons/{lessonSlug}`.
    pub lesson_link: String,
    pub lesson_name: String,
    pub topic_id: Uuid,
    /// Markdown.
    pub body: String,
    pub tasks: Vec<PublicTaskDto>,
    pub previous: Option<NavLinkDto>,
    pub next: Option<NavLinkDto>,
}

impl From<&LessonView> for LessonPayload {
    fn from(v: &LessonView) -> Self {
        let (topic, lesson) = (&v.located.topic, &v.located.lesson);
        Self {
            lesson_id: lesson.id,
            lesson_type: lesson.kind.to_string(),
            lesson_link: lesson_link(topic, lesson),
            lesson_name: lesson.title.clone(),
            topic_id: topic.id,
            body: lesson.body.clone(),
            tasks: v.tasks.iter().map(PublicTaskDto::of_public).collect(),
            previous: v.located.previous.as_ref().map(NavLinkDto::from),
            next: v.located.next.as_ref().map(NavLinkDto::from),
        }
    }
}

/// A published topic with the caller's progress in it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TopicSummaryDto {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub position: i32,
    pub published: bool,
    pub lesson_count: u32,
    pub tasks_total: u32,
    pub tasks_solved: u32,
}

/// A lesson in a topic's list.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LessonSummaryDto {
    pub lesson_id: Uuid,
    pub lesson_type: String,
    pub lesson_link: String,
    pub lesson_name: String,
    pub slug: String,
    pub position: i32,
    pub published: bool,
}

impl LessonSummaryDto {
    pub fn of(topic: &Topic, l: &Lesson) -> Self {
        Self {
            lesson_id: l.id,
            lesson_type: l.kind.to_string(),
            lesson_link: lesson_link(topic, l),
            lesson_name: l.title.clone(),
            slug: l.slug.to_string(),
            position: l.position,
            published: l.published,
        }
    }
}

/// A topic with its lessons in order.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TopicDetailDto {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub position: i32,
    pub published: bool,
    pub lessons: Vec<LessonSummaryDto>,
}

/// A task with the lesson and topic it belongs to.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskPageDto {
    pub task: PublicTaskDto,
    pub lesson_id: Uuid,
    pub lesson_name: String,
    pub lesson_link: String,
    pub topic_id: Uuid,
}

// ---------- attempts ----------

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubmitCodeRequest {
    /// The Python program, at most 64 KiB.
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubmissionAccepted {
    pub attempt_id: Uuid,
    /// `queued` when accepted.
    pub status: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuizAnswersRequest {
    /// One entry per question: the indexes of the chosen options.
    #[validate(length(min = 1, max = 1000))]
    pub answers: Vec<Vec<u32>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LimitsDto {
    pub time_ms: u32,
    pub memory_mb: u32,
    pub output_kb: u32,
}

impl From<Limits> for LimitsDto {
    fn from(l: Limits) -> Self {
        Self {
            time_ms: l.time_ms,
            memory_mb: l.memory_mb,
            output_kb: l.output_kb,
        }
    }
}

/// The result of one test. Hidden tests carry no input, expected or actual output.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestOutcomeDto {
    pub name: String,
    pub verdict: String,
    pub passed: bool,
    pub time_ms: u32,
    pub weight: u32,
    pub hidden: bool,
    pub input: Option<String>,
    pub expected: Option<String>,
    pub actual: Option<String>,
    pub message: Option<String>,
}

impl From<&TestOutcome> for TestOutcomeDto {
    fn from(t: &TestOutcome) -> Self {
        // Belt and braces: whatever a grader put there, a hidden test shows only pass/fail.
        let visible = |s: &Option<String>| if t.hidden { None } else { s.clone() };
        Self {
            name: t.name.clone(),
            verdict: t.verdict.to_string(),
            passed: t.passed,
            time_ms: t.time_ms,
            weight: t.weight,
            hidden: t.hidden,
            input: visible(&t.input),
            expected: visible(&t.expected),
            actual: visible(&t.actual),
            message: visible(&t.message),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GradeReportDto {
    /// `accepted`, `wrong_answer`, `time_limit`, `memory_limit`, `output_limit`,
    /// `runtime_error`, `syntax_error` or `internal_error`.
    pub verdict: String,
    pub score: f64,
    pub tests: Vec<TestOutcomeDto>,
    pub diagnostics: Option<String>,
    pub image_id: String,
    pub limits: LimitsDto,
    pub duration_ms: u32,
}

impl From<&GradeReport> for GradeReportDto {
    fn from(r: &GradeReport) -> Self {
        Self {
            verdict: r.verdict.to_string(),
            score: r.score,
            tests: r.tests.iter().map(TestOutcomeDto::from).collect(),
            diagnostics: r.diagnostics.clone(),
            image_id: r.image_id.clone(),
            limits: r.limits.into(),
            duration_ms: r.duration_ms,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptDto {
    pub id: Uuid,
    pub task_id: Uuid,
    pub user_id: Uuid,
    /// `queued`, `running` or `done`.
    pub status: String,
    /// `code` or `quiz`.
    #[schema(value_type = String, example = "code")]
    pub kind: TaskKind,
    pub code: Option<String>,
    pub answers: Option<Vec<Vec<u32>>>,
    /// The overall verdict once `done`.
    pub verdict: Option<String>,
    pub score: Option<f64>,
    pub report: Option<GradeReportDto>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<&Attempt> for AttemptDto {
    fn from(a: &Attempt) -> Self {
        let (kind, code, answers) = match &a.input {
            AttemptInput::Code { code } => (TaskKind::Code, Some(code.clone()), None),
            AttemptInput::Quiz { answers } => (TaskKind::Quiz, None, Some(answers.clone())),
        };
        Self {
            id: a.id,
            task_id: a.task_id,
            user_id: a.user_id,
            status: a.status.to_string(),
            kind,
            code,
            answers,
            verdict: a.report.as_ref().map(|r| r.verdict.to_string()),
            score: a.report.as_ref().map(|r| r.score),
            report: a.report.as_ref().map(GradeReportDto::from),
            created_at: a.created_at,
            started_at: a.started_at,
            finished_at: a.finished_at,
        }
    }
}

/// Feedback written about an attempt (by the language model).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeedbackDto {
    pub id: Uuid,
    /// Markdown.
    pub body: String,
    /// Who wrote it: `llm:<model>`.
    pub author: String,
    pub created_at: DateTime<Utc>,
}

impl From<&domain::attempt::Feedback> for FeedbackDto {
    fn from(f: &domain::attempt::Feedback) -> Self {
        Self {
            id: f.id,
            body: f.body.clone(),
            author: f.author.clone(),
            created_at: f.created_at,
        }
    }
}

/// One attempt with its feedback (`GET /attempts/{id}`). Feedback arrives a few seconds after
/// the verdict when a language model is configured; until then the list is empty.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptDetailDto {
    #[serde(flatten)]
    pub attempt: AttemptDto,
    pub feedback: Vec<FeedbackDto>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Delete even when students' attempts (and solutions) would be deleted with the item.
    /// Without it such a delete is a 409 naming how many attempts would be lost.
    pub force: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WaitQuery {
    /// Seconds to wait for the attempt to finish (0 to 30); answers at once when it is done.
    #[validate(range(min = 0, max = 30))]
    pub wait: Option<u32>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MyAttemptsQuery {
    /// Only this task's attempts.
    pub task_id: Option<Uuid>,
    /// 1 to 100, default 20.
    #[validate(range(min = 1, max = 100))]
    pub limit: Option<u32>,
    #[validate(range(max = 1_000_000))]
    pub offset: Option<u32>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1 to 100, default 20.
    #[validate(range(min = 1, max = 100))]
    pub limit: Option<u32>,
    #[validate(range(max = 1_000_000))]
    pub offset: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptPage {
    pub items: Vec<AttemptDto>,
    pub limit: u32,
    pub offset: u32,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SolutionDto {
    pub task_id: Uuid,
    pub attempt_id: Uuid,
    pub solved_at: DateTime<Utc>,
}

impl From<&Solution> for SolutionDto {
    fn from(s: &Solution) -> Self {
        Self {
            task_id: s.task_id,
            attempt_id: s.attempt_id,
            solved_at: s.solved_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SolutionPage {
    pub items: Vec<SolutionDto>,
    pub limit: u32,
    pub offset: u32,
}

// ---------- sessions ----------

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateSessionRequest {
    pub task_id: Option<Uuid>,
    /// The editor state: any JSON object, at most 64 KiB.
    #[schema(value_type = Object)]
    pub state: serde_json::Value,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateSessionRequest {
    #[schema(value_type = Object)]
    pub state: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionDto {
    pub id: Uuid,
    pub task_id: Option<Uuid>,
    #[schema(value_type = Object)]
    pub state: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&SavedSession> for SessionDto {
    fn from(s: &SavedSession) -> Self {
        Self {
            id: s.id,
            task_id: s.task_id,
            state: s.state.clone(),
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

// ---------- analytics ----------

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// `json` (default) or `csv`.
    #[param(inline)]
    pub format: Option<Format>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Json,
    Csv,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FailedTestDto {
    pub name: String,
    pub failures: u64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskStatsDto {
    pub task_id: Uuid,
    pub task_title: String,
    pub attempts: u64,
    pub students_tried: u64,
    pub students_passed: u64,
    pub pass_rate: f64,
    pub median_attempts_to_pass: Option<f64>,
    pub most_failed_tests: Vec<FailedTestDto>,
}

impl TaskStatsDto {
    pub fn of(task: &Task, s: &TaskStats) -> Self {
        Self {
            task_id: task.id,
            task_title: task.title.clone(),
            attempts: s.attempts,
            students_tried: s.students_tried,
            students_passed: s.students_passed,
            pass_rate: s.pass_rate,
            median_attempts_to_pass: s.median_attempts_to_pass,
            most_failed_tests: s
                .most_failed_tests
                .iter()
                .map(|(name, failures)| FailedTestDto {
                    name: name.clone(),
                    failures: *failures,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TopicProgressDto {
    pub topic_id: Uuid,
    pub topic_title: String,
    pub tasks_total: u32,
    pub tasks_attempted: u32,
    pub tasks_solved: u32,
}

impl TopicProgressDto {
    pub fn of(title: &str, p: &TopicProgress) -> Self {
        Self {
            topic_id: p.topic_id,
            topic_title: title.to_string(),
            tasks_total: p.tasks_total,
            tasks_attempted: p.tasks_attempted,
            tasks_solved: p.tasks_solved,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StudentProgressDto {
    pub user_id: Uuid,
    pub username: String,
    pub tasks_total: u32,
    pub tasks_solved: u32,
    pub topics: Vec<TopicProgressDto>,
}
