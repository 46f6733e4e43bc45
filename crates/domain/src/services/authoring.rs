//! Authoring rules: what a teacher's create/update/reorder/publish may write.
//!
//! These functions turn checked input into the domain values the ports store, collecting every
//! bad field (paths as a client sees them: `slug`, `data.tests[0].weight`) into one
//! `DomainError::Validation`. Publishing a code task that carries a reference solution needs a
//! sandbox run; [`publish_check`] says when, and [`accept_reference_run`] judges its result.

use crate::{
    content::{check_text, check_title, Lesson, LessonKind, Slug, TextKind, Topic},
    error::FieldError,
    grading::{GradeReport, Verdict},
    ports::{ContentItem, ContentPatch, ContentRepo, DeleteOutcome},
    task::{CodeTask, Task, TaskData, MAX_TEXT_BYTES},
    DomainError, Timestamp,
};
use uuid::Uuid;

/// The longest topic description kept, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;

#[derive(Debug, Clone, Default)]
pub struct TopicInput {
    /// Derived from the title when absent.
    pub slug: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub published: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct LessonInput {
    pub slug: Option<String>,
    pub title: String,
    pub kind: Option<LessonKind>,
    pub body: Option<String>,
    pub published: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct TaskInput {
    pub slug: Option<String>,
    pub title: String,
    pub data: TaskData,
    pub published: Option<bool>,
}

/// Changes to a topic or lesson; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct ContentChanges {
    pub slug: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub body: Option<String>,
    pub kind: Option<LessonKind>,
    pub published: Option<bool>,
}

/// Changes to a task; `None` leaves a field alone. `data` replaces the whole task data.
#[derive(Debug, Clone, Default)]
pub struct TaskChanges {
    pub slug: Option<String>,
    pub title: Option<String>,
    pub data: Option<TaskData>,
    pub published: Option<bool>,
}

fn done<T>(value: T, errs: Vec<FieldError>) -> Result<T, DomainError> {
    if errs.is_empty() {
        Ok(value)
    } else {
        Err(DomainError::Validation(errs))
    }
}

fn slug_or_title(slug: Option<&str>, title: &str, errs: &mut Vec<FieldError>) -> Option<Slug> {
    match slug {
        Some(s) => Slug::parse(s).map_err(|e| errs.push(e)).ok(),
        None => {
            let derived = Slug::from_title(title);
            if derived.is_none() && check_title(title).is_ok() {
                errs.push(FieldError::new(
                    "slug",
                    "cannot be derived from the title; give one",
                ));
            }
            derived
        }
    }
}

fn title(raw: &str, errs: &mut Vec<FieldError>) -> String {
    check_title(raw)
        .map_err(|e| errs.push(e))
        .unwrap_or_default()
}

fn check_description(d: &str, errs: &mut Vec<FieldError>) {
    if d.chars().count() > MAX_DESCRIPTION_CHARS {
        errs.push(FieldError::new(
            "description",
            "must be at most 10000 characters",
        ));
    }
    if let Err(e) = check_text("description", d, TextKind::MultiLine) {
        errs.push(e);
    }
}

fn check_body(b: &str, errs: &mut Vec<FieldError>) {
    if b.len() > MAX_TEXT_BYTES {
        errs.push(FieldError::new("body", "is larger than 256 KiB"));
    }
    if let Err(e) = check_text("body", b, TextKind::MultiLine) {
        errs.push(e);
    }
}

fn check_data(data: &TaskData, errs: &mut Vec<FieldError>) {
    if let Err(es) = data.validate() {
        errs.extend(es.into_iter().map(|e| e.under("data")));
    }
}

/// Deletes a topic, lesson or task. Students' attempts (and solutions) under it would be lost
/// with it, so unless `force` is given that is a `Conflict` naming how many, and nothing is
/// deleted. Returns how many attempts were deleted.
pub fn delete_item(
    content: &dyn ContentRepo,
    item: ContentItem,
    force: bool,
) -> Result<u64, DomainError> {
    match content.delete_content(item, force)? {
        DeleteOutcome::Deleted { attempts } => Ok(attempts),
        DeleteOutcome::Refused { attempts } => Err(DomainError::Conflict(format!(
            "{attempts} student attempt{} (and any solutions they hold) would be deleted with this {}; \
             unpublish it instead, or repeat with ?force=true to delete them too",
            if attempts == 1 { "" } else { "s" },
            item.noun()
        ))),
    }
}

/// A new topic (position is set by the store: appended at the end). Unpublished unless asked.
pub fn new_topic(input: TopicInput, now: Timestamp) -> Result<Topic, DomainError> {
    let mut errs = Vec::new();
    let title = title(&input.title, &mut errs);
    let slug = slug_or_title(input.slug.as_deref(), &input.title, &mut errs);
    let description = input.description.unwrap_or_default();
    check_description(&description, &mut errs);
    let Some(slug) = slug else {
        return Err(DomainError::Validation(errs));
    };
    done(
        Topic {
            id: Uuid::new_v4(),
            slug,
            title,
            description,
            position: 0,
            published: input.published.unwrap_or(false),
            created_at: now,
            updated_at: now,
        },
        errs,
    )
}

/// A new lesson of `topic_id`, appended at the end. Unpublished unless asked.
pub fn new_lesson(
    topic_id: Uuid,
    input: LessonInput,
    now: Timestamp,
) -> Result<Lesson, DomainError> {
    let mut errs = Vec::new();
    let title = title(&input.title, &mut errs);
    let slug = slug_or_title(input.slug.as_deref(), &input.title, &mut errs);
    let body = input.body.unwrap_or_default();
    check_body(&body, &mut errs);
    let Some(slug) = slug else {
        return Err(DomainError::Validation(errs));
    };
    done(
        Lesson {
            id: Uuid::new_v4(),
            topic_id,
            slug,
            title,
            kind: input.kind.unwrap_or(LessonKind::Article),
            body,
            position: 0,
            published: input.published.unwrap_or(false),
            created_at: now,
            updated_at: now,
        },
        errs,
    )
}

/// A new task of `lesson_id`, appended at the end, its data validated against its kind.
pub fn new_task(lesson_id: Uuid, input: TaskInput, now: Timestamp) -> Result<Task, DomainError> {
    let mut errs = Vec::new();
    let title = title(&input.title, &mut errs);
    let slug = slug_or_title(input.slug.as_deref(), &input.title, &mut errs);
    check_data(&input.data, &mut errs);
    let Some(slug) = slug else {
        return Err(DomainError::Validation(errs));
    };
    done(
        Task {
            id: Uuid::new_v4(),
            lesson_id,
            slug,
            title,
            position: 0,
            published: input.published.unwrap_or(false),
            data: input.data,
            created_at: now,
            updated_at: now,
        },
        errs,
    )
}

/// Checks topic or lesson changes and turns them into the port's patch. `description` applies
/// to topics, `body` and `kind` to lessons; the store ignores what does not apply.
pub fn content_patch(changes: ContentChanges) -> Result<ContentPatch, DomainError> {
    let mut errs = Vec::new();
    let slug = changes
        .slug
        .as_deref()
        .and_then(|s| Slug::parse(s).map_err(|e| errs.push(e)).ok());
    let title = changes.title.as_deref().map(|t| title(t, &mut errs));
    if let Some(d) = &changes.description {
        check_description(d, &mut errs);
    }
    if let Some(b) = &changes.body {
        check_body(b, &mut errs);
    }
    done(
        ContentPatch {
            slug,
            title,
            description: changes.description,
            body: changes.body,
            kind: changes.kind,
            published: changes.published,
        },
        errs,
    )
}

/// The task after `changes`, validated as a whole.
pub fn changed_task(
    before: &Task,
    changes: TaskChanges,
    now: Timestamp,
) -> Result<Task, DomainError> {
    let mut errs = Vec::new();
    let mut after = before.clone();
    if let Some(s) = changes.slug.as_deref() {
        if let Ok(s) = Slug::parse(s).map_err(|e| errs.push(e)) {
            after.slug = s;
        }
    }
    if let Some(t) = changes.title.as_deref() {
        after.title = title(t, &mut errs);
    }
    if let Some(data) = changes.data {
        check_data(&data, &mut errs);
        after.data = data;
    }
    if let Some(p) = changes.published {
        after.published = p;
    }
    after.updated_at = now;
    done(after, errs)
}

/// Whether a write that leaves the task as `after` (from `before`, `None` for a new task) must
/// first run the reference solution: the task ends up published, is a code task with a
/// reference solution, and either was not published before or its data changed.
pub fn publish_check(before: Option<&Task>, after: &Task) -> Option<(String, CodeTask)> {
    let TaskData::Code(code) = &after.data else {
        return None;
    };
    let reference = code.reference_solution.as_ref()?;
    let already_checked = before.is_some_and(|b| b.published && b.data == after.data);
    (after.published && !already_checked).then(|| (reference.clone(), code.clone()))
}

/// Judges a reference run: only `accepted` lets the task be published. Anything else is a 422
/// on `data.referenceSolution` that says what the sandbox answered.
pub fn accept_reference_run(report: &GradeReport) -> Result<(), DomainError> {
    if report.verdict == Verdict::Accepted {
        return Ok(());
    }
    let failed: Vec<&str> = report
        .tests
        .iter()
        .filter(|t| !t.passed)
        .map(|t| t.name.as_str())
        .collect();
    let mut message = format!(
        "did not pass the task's own tests (verdict {})",
        report.verdict
    );
    if !failed.is_empty() {
        message.push_str(&format!("; failed: {}", failed.join(", ")));
    }
    Err(DomainError::invalid("data.referenceSolution", message))
}

/// Whether the tests (or the limits they run under) differ, so old verdicts may be stale.
pub fn tests_changed(before: &Task, after: &Task) -> bool {
    match (&before.data, &after.data) {
        (TaskData::Code(b), TaskData::Code(a)) => {
            b.tests != a.tests || b.limits != a.limits || b.entry_point != a.entry_point
        }
        (b, a) => b != a,
    }
}

/// A reorder must name exactly the current items, each once.
pub fn check_reorder(current: &[Uuid], proposed: &[Uuid]) -> Result<(), DomainError> {
    let mut want: Vec<Uuid> = current.to_vec();
    let mut got: Vec<Uuid> = proposed.to_vec();
    want.sort();
    got.sort();
    if got.windows(2).any(|w| w[0] == w[1]) {
        return Err(DomainError::invalid("ids", "names an item more than once"));
    }
    if want != got {
        return Err(DomainError::invalid(
            "ids",
            format!(
                "must list exactly the {} current items, in the new order",
                current.len()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::{
        grading::TestOutcome,
        services::fakes::{code_task_data, now},
        task::Limits,
    };

    fn fields(e: DomainError) -> Vec<String> {
        match e {
            DomainError::Validation(es) => es.into_iter().map(|e| e.field).collect(),
            other => panic!("expected validation, got {other:?}"),
        }
    }

    #[test]
    fn a_slug_is_derived_from_the_title_and_bad_ones_are_named() {
        let t = new_topic(
            TopicInput {
                title: "Loops & Lists".into(),
                ..Default::default()
            },
            now(),
        )
        .unwrap();
        assert_eq!(t.slug.as_str(), "loops-lists");
        assert!(!t.published);
        let e = new_topic(
            TopicInput {
                slug: Some("Bad Slug".into()),
                title: " ".into(),
                ..Default::default()
            },
            now(),
        )
        .unwrap_err();
        assert_eq!(fields(e), ["title", "slug"]);
    }

    #[test]
    fn control_characters_are_refused_in_every_free_text_field() {
        let nul = "Hello\u{0}World";
        let e = new_topic(
            TopicInput {
                title: nul.into(),
                slug: Some("t".into()),
                description: Some("a\u{1b}b".into()),
                ..Default::default()
            },
            now(),
        )
        .unwrap_err();
        assert_eq!(fields(e), ["title", "description"]);
        let e = new_lesson(
            Uuid::new_v4(),
            LessonInput {
                title: "new\nline".into(),
                slug: Some("l".into()),
                body: Some("x\u{0}y".into()),
                ..Default::default()
            },
            now(),
        )
        .unwrap_err();
        assert_eq!(fields(e), ["title", "body"]);
        // Multi-line text keeps line feeds, carriage returns and tabs.
        new_lesson(
            Uuid::new_v4(),
            LessonInput {
                title: "Fine".into(),
                body: Some("a\r\n\tb".into()),
                ..Default::default()
            },
            now(),
        )
        .unwrap();
        let e = content_patch(ContentChanges {
            title: Some("T\u{0}".into()),
            description: Some("\u{0}".into()),
            body: Some("\u{7f}".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(fields(e), ["title", "description", "body"]);
        let mut data = code_task_data();
        if let TaskData::Code(c) = &mut data {
            c.statement = nul.into();
            c.starter_code = "x = 1\u{0}".into();
            if let crate::task::TestBody::Io(io) = &mut c.tests[0].body {
                io.stdin = "\u{1b}[1m\n".into(); // other control characters are test data
                io.expected = "\u{0}".into();
            }
        }
        let e = new_task(
            Uuid::new_v4(),
            TaskInput {
                slug: None,
                title: "Sum".into(),
                data,
                published: None,
            },
            now(),
        )
        .unwrap_err();
        assert_eq!(
            fields(e),
            [
                "data.statement",
                "data.starterCode",
                "data.tests[0].body.io.expected"
            ]
        );
    }

    #[test]
    fn task_data_errors_are_prefixed_with_data() {
        let mut data = code_task_data();
        if let TaskData::Code(c) = &mut data {
            c.tests[0].weight = 0;
            c.limits.time_ms = 1;
        }
        let e = new_task(
            Uuid::new_v4(),
            TaskInput {
                slug: None,
                title: "Sum".into(),
                data,
                published: None,
            },
            now(),
        )
        .unwrap_err();
        let f = fields(e);
        assert!(f.contains(&"data.tests[0].weight".to_string()), "{f:?}");
        assert!(f.contains(&"data.limits.timeMs".to_string()), "{f:?}");
    }

    #[test]
    fn publishing_a_code_task_with_a_reference_needs_a_run_once() {
        let draft = new_task(
            Uuid::new_v4(),
            TaskInput {
                slug: None,
                title: "Sum".into(),
                data: code_task_data(),
                published: None,
            },
            now(),
        )
        .unwrap();
        assert!(publish_check(None, &draft).is_none(), "drafts need no run");
        let published = changed_task(
            &draft,
            TaskChanges {
                published: Some(true),
                ..Default::default()
            },
            now(),
        )
        .unwrap();
        assert!(publish_check(Some(&draft), &published).is_some());
        let retitled = changed_task(
            &published,
            TaskChanges {
                title: Some("Sum 2".into()),
                ..Default::default()
            },
            now(),
        )
        .unwrap();
        assert!(
            publish_check(Some(&published), &retitled).is_none(),
            "a title change keeps the old check"
        );
        let mut data = code_task_data();
        if let TaskData::Code(c) = &mut data {
            c.tests[0].weight = 3;
        }
        let retested = changed_task(
            &published,
            TaskChanges {
                data: Some(data),
                ..Default::default()
            },
            now(),
        )
        .unwrap();
        assert!(publish_check(Some(&published), &retested).is_some());
        assert!(tests_changed(&published, &retested));
        assert!(!tests_changed(&published, &retitled));
    }

    #[test]
    fn only_an_accepted_reference_run_allows_publishing() {
        let mut report = GradeReport::internal(Limits::default(), "x");
        assert_eq!(
            fields(accept_reference_run(&report).unwrap_err()),
            ["data.referenceSolution"]
        );
        report.verdict = Verdict::WrongAnswer;
        report.tests.push(TestOutcome {
            name: "sample".into(),
            verdict: Verdict::WrongAnswer,
            passed: false,
            time_ms: 1,
            weight: 1,
            hidden: false,
            input: None,
            expected: None,
            actual: None,
            message: None,
        });
        let DomainError::Validation(es) = accept_reference_run(&report).unwrap_err() else {
            panic!()
        };
        assert!(es[0].message.contains("sample"));
        report.verdict = Verdict::Accepted;
        assert!(accept_reference_run(&report).is_ok());
    }

    #[test]
    fn reorder_must_name_every_current_item_once() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        assert!(check_reorder(&[a, b], &[b, a]).is_ok());
        assert!(check_reorder(&[a, b], &[a]).is_err());
        assert!(check_reorder(&[a, b], &[a, a]).is_err());
        assert!(check_reorder(&[a, b], &[a, b, Uuid::new_v4()]).is_err());
    }

    #[test]
    fn content_patch_checks_only_given_fields() {
        let p = content_patch(ContentChanges {
            title: Some(" New ".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(p.title.as_deref(), Some("New"));
        assert!(p.slug.is_none());
        let e = content_patch(ContentChanges {
            slug: Some("-x".into()),
            body: Some("x".repeat(MAX_TEXT_BYTES + 1)),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(fields(e), ["slug", "body"]);
    }
}
