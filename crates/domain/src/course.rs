//! The course exchange format (`docs/course-format.md`): what `campus import` reads and
//! `campus export` writes. Order in the file is order in the course; slugs are identity, so a
//! second import updates in place.

use crate::{
    content::{check_text, check_title, LessonKind, Slug, TextKind},
    error::FieldError,
    task::{AssertTest, CodeTask, Limits, TaskData, TestBody, TestCase},
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Course {
    #[serde(default)]
    pub topics: Vec<CourseTopic>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CourseTopic {
    pub slug: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "yes")]
    pub published: bool,
    #[serde(default)]
    pub lessons: Vec<CourseLesson>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CourseLesson {
    pub slug: String,
    pub title: String,
    #[serde(default = "article")]
    pub kind: LessonKind,
    #[serde(default)]
    pub body: String,
    #[serde(default = "yes")]
    pub published: bool,
    #[serde(default)]
    pub tasks: Vec<CourseTask>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CourseTask {
    pub slug: String,
    pub title: String,
    #[serde(default = "yes")]
    pub published: bool,
    pub data: TaskData,
}

fn yes() -> bool {
    true
}
fn article() -> LessonKind {
    LessonKind::Article
}

impl Course {
    /// Checks the whole course; every error's field is a full path such as
    /// `topics[0].lessons[2].tasks[1].data.limits.timeMs`, and its message names the item's slug.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errs = Vec::new();
        let mut topic_slugs = std::collections::HashSet::new();
        for (ti, t) in self.topics.iter().enumerate() {
            let tp = format!("topics[{ti}]");
            check_item(&tp, &t.slug, &t.title, &mut topic_slugs, &mut errs);
            check_long_text(&tp, &t.slug, "description", &t.description, &mut errs);
            let mut lesson_slugs = std::collections::HashSet::new();
            for (li, l) in t.lessons.iter().enumerate() {
                let lp = format!("{tp}.lessons[{li}]");
                check_item(&lp, &l.slug, &l.title, &mut lesson_slugs, &mut errs);
                check_long_text(&lp, &l.slug, "body", &l.body, &mut errs);
                let mut task_slugs = std::collections::HashSet::new();
                for (ki, k) in l.tasks.iter().enumerate() {
                    let kp = format!("{lp}.tasks[{ki}]");
                    check_item(&kp, &k.slug, &k.title, &mut task_slugs, &mut errs);
                    if let Err(es) = k.data.validate() {
                        errs.extend(es.into_iter().map(|e| FieldError {
                            message: format!("(task {:?}) {}", k.slug, e.message),
                            ..e.under(&format!("{kp}.data"))
                        }));
                    }
                }
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs)
        }
    }

    pub fn task_count(&self) -> usize {
        self.topics
            .iter()
            .flat_map(|t| &t.lessons)
            .map(|l| l.tasks.len())
            .sum()
    }
}

/// A topic's description or a lesson's body: multi-line text without other control characters.
fn check_long_text(path: &str, slug: &str, field: &str, value: &str, errs: &mut Vec<FieldError>) {
    if let Err(e) = check_text(&format!("{path}.{field}"), value, TextKind::MultiLine) {
        errs.push(FieldError {
            message: format!("({slug:?}) {}", e.message),
            ..e
        });
    }
}

fn check_item<'a>(
    path: &str,
    slug: &'a str,
    title: &str,
    seen: &mut std::collections::HashSet<&'a str>,
    errs: &mut Vec<FieldError>,
) {
    if let Err(e) = Slug::parse(slug) {
        errs.push(FieldError::new(
            format!("{path}.slug"),
            format!("{slug:?} {}", e.message),
        ));
    } else if !seen.insert(slug) {
        errs.push(FieldError::new(
            format!("{path}.slug"),
            format!("{slug:?} is used twice under one parent"),
        ));
    }
    if let Err(e) = check_title(title) {
        errs.push(FieldError::new(
            format!("{path}.title"),
            format!("({slug:?}) {}", e.message),
        ));
    }
}

/// One line of HumanEval's `HumanEval.jsonl`.
#[derive(Debug, Clone, Deserialize)]
pub struct HumanEvalProblem {
    pub task_id: String,
    pub prompt: String,
    pub canonical_solution: String,
    pub test: String,
    pub entry_point: String,
}

impl HumanEvalProblem {
    /// `HumanEval/12` -> `humaneval-12`.
    pub fn slug(&self) -> String {
        Slug::from_title(&self.task_id).map_or_else(|| "humaneval".into(), |s| s.to_string())
    }

    /// The problem as a code task: the prompt is the starter code, the test is its `check`
    /// function called on the entry point, the canonical solution is the reference.
    pub fn to_course_task(&self) -> CourseTask {
        let slug = self.slug();
        CourseTask {
            slug: slug.clone(),
            title: self.task_id.clone(),
            published: true,
            data: TaskData::Code(CodeTask {
                statement: format!(
                    "Complete the function `{}`.\n\n```python\n{}```\n",
                    self.entry_point, self.prompt
                ),
                starter_code: self.prompt.clone(),
                limits: Limits {
                    time_ms: 5_000,
                    ..Limits::default()
                },
                entry_point: Some(self.entry_point.clone()),
                tests: vec![TestCase {
                    name: "check".into(),
                    hidden: false,
                    weight: 1,
                    body: TestBody::Assert(AssertTest {
                        code: format!("{}\n\ncheck({})\n", self.test, self.entry_point),
                    }),
                }],
                reference_solution: Some(format!("{}{}", self.prompt, self.canonical_solution)),
            }),
        }
    }
}

/// Builds the HumanEval course (one topic, one lesson and one code task per problem) from the
/// lines of `HumanEval.jsonl`. Errors name the line.
pub fn humaneval_course(jsonl: &str) -> Result<Course, FieldError> {
    let mut lessons = Vec::new();
    for (i, line) in jsonl
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let p: HumanEvalProblem = serde_json::from_str(line)
            .map_err(|e| FieldError::new(format!("line {}", i + 1), e.to_string()))?;
        let task = p.to_course_task();
        lessons.push(CourseLesson {
            slug: task.slug.clone(),
            title: p.task_id.clone(),
            kind: LessonKind::Practice,
            body: String::new(),
            published: true,
            tasks: vec![task],
        });
    }
    Ok(Course {
        topics: vec![CourseTopic {
            slug: "humaneval".into(),
            title: "HumanEval".into(),
            description: "The 164 hand-written problems of OpenAI's HumanEval data set.".into(),
            published: true,
            lessons,
        }],
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const LINE: &str = r#"{"task_id": "HumanEval/0", "prompt": "def f(x):\n", "canonical_solution": "    return x\n", "test": "def check(c):\n    assert c(1) == 1\n", "entry_point": "f"}"#;

    #[test]
    fn humaneval_line_becomes_a_valid_code_task() {
        let c = humaneval_course(LINE).unwrap();
        assert_eq!(c.task_count(), 1);
        c.validate().unwrap();
        let t = &c.topics[0].lessons[0].tasks[0];
        assert_eq!(t.slug, "humaneval-0");
        let TaskData::Code(code) = &t.data else {
            panic!("not code")
        };
        let TestBody::Assert(a) = &code.tests[0].body else {
            panic!("not assert")
        };
        assert!(a.code.ends_with("check(f)\n"));
    }

    #[test]
    fn one_bad_field_is_named_with_its_full_path() {
        let mut c = humaneval_course(LINE).unwrap();
        if let TaskData::Code(code) = &mut c.topics[0].lessons[0].tasks[0].data {
            code.limits.time_ms = 0;
        }
        let errs = c.validate().unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(
            errs[0].field,
            "topics[0].lessons[0].tasks[0].data.limits.timeMs"
        );
        assert!(errs[0].message.contains("humaneval-0"));
    }

    #[test]
    fn duplicate_slugs_under_one_parent_are_refused() {
        let mut c = humaneval_course(LINE).unwrap();
        let dup = c.topics[0].lessons[0].clone();
        c.topics[0].lessons.push(dup);
        let errs = c.validate().unwrap_err();
        assert_eq!(errs[0].field, "topics[0].lessons[1].slug");
    }

    #[test]
    fn control_characters_are_named_with_the_item_and_field() {
        let mut c = humaneval_course(LINE).unwrap();
        c.topics[0].title = "Hello\u{0}World".into();
        c.topics[0].description = "line one\nline two\u{7}".into();
        c.topics[0].lessons[0].title = "tab\there".into();
        c.topics[0].lessons[0].body = "ok\r\n\ttab".into();
        if let TaskData::Code(code) = &mut c.topics[0].lessons[0].tasks[0].data {
            code.statement = "a\u{0}b".into();
            code.tests[0].name = "two\nlines".into();
        }
        let errs = c.validate().unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "topics[0].title",
                "topics[0].description",
                "topics[0].lessons[0].title",
                "topics[0].lessons[0].tasks[0].data.statement",
                "topics[0].lessons[0].tasks[0].data.tests[0].name",
            ]
        );
        assert!(errs[0].message.contains("control characters"), "{errs:?}");
        assert!(errs[0].message.contains("U+0000"), "{errs:?}");
        assert!(errs[3].message.contains("humaneval-0"), "{errs:?}");
    }
}
