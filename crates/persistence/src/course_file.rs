//! Course files: `.toml` (the documented primary format, `docs/course-format.md`) or `.json` in
//! the `domain::course` format, and HumanEval's `.jsonl.gz`/`.jsonl`. Reading validates the
//! whole course; every error is one line naming the file, the item and the field.

use domain::course::{humaneval_course, Course};
use domain::FieldError;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Why a course file could not be read or written. Displays as one line starting with the file.
#[derive(Debug, thiserror::Error)]
pub enum CourseFileError {
    #[error("{file}: {message}")]
    Io { file: String, message: String },
    #[error("{file}: unknown course file type; expected .toml, .json, .jsonl or .jsonl.gz")]
    UnknownFormat { file: String },
    /// TOML or JSON that does not parse, or does not fit the format; `line` is 1-based.
    #[error("{file}: line {line}, column {column}: {message}")]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// The course parsed but breaks a rule; the first error is shown, with the count of others.
    #[error("{file}: {}{}", .errors.first().map(ToString::to_string).unwrap_or_default(), more(.errors.len()))]
    Invalid {
        file: String,
        errors: Vec<FieldError>,
    },
}

fn more(n: usize) -> String {
    match n {
        0 | 1 => String::new(),
        2 => " (and 1 more error)".into(),
        n => format!(" (and {} more errors)", n - 1),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Toml,
    Json,
    Jsonl,
    JsonlGz,
}

fn format_of(path: &Path) -> Option<Format> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    if name.ends_with(".jsonl.gz") {
        Some(Format::JsonlGz)
    } else if name.ends_with(".jsonl") {
        Some(Format::Jsonl)
    } else if name.ends_with(".json") {
        Some(Format::Json)
    } else if name.ends_with(".toml") {
        Some(Format::Toml)
    } else {
        None
    }
}

fn file_name(path: &Path) -> String {
    path.display().to_string()
}

fn io_error(path: &Path, e: &std::io::Error) -> CourseFileError {
    CourseFileError::Io {
        file: file_name(path),
        message: e.to_string(),
    }
}

/// Reads and validates a course file. Nothing is written anywhere.
pub fn read_course(path: impl AsRef<Path>) -> Result<Course, CourseFileError> {
    let path = path.as_ref();
    let file = file_name(path);
    let format =
        format_of(path).ok_or_else(|| CourseFileError::UnknownFormat { file: file.clone() })?;
    let text = match format {
        Format::JsonlGz => {
            let raw = std::fs::File::open(path).map_err(|e| io_error(path, &e))?;
            let mut text = String::new();
            flate2::read::GzDecoder::new(raw)
                .read_to_string(&mut text)
                .map_err(|e| CourseFileError::Io {
                    file: file.clone(),
                    message: format!("cannot decompress: {e}"),
                })?;
            text
        }
        _ => std::fs::read_to_string(path).map_err(|e| io_error(path, &e))?,
    };
    let course = parse_course(&file, format, &text)?;
    course
        .validate()
        .map_err(|errors| CourseFileError::Invalid { file, errors })?;
    Ok(course)
}

fn parse_course(file: &str, format: Format, text: &str) -> Result<Course, CourseFileError> {
    match format {
        Format::Toml => toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map_or((1, 1), |s| line_col(text, s.start));
            CourseFileError::Syntax {
                file: file.to_string(),
                line,
                column,
                message: one_line(e.message()),
            }
        }),
        Format::Json => serde_json::from_str(text).map_err(|e| CourseFileError::Syntax {
            file: file.to_string(),
            line: e.line(),
            column: e.column(),
            message: one_line(&strip_position(&e.to_string())),
        }),
        Format::Jsonl | Format::JsonlGz => humaneval_course(text).map_err(|e| {
            // `humaneval_course` names the line in `field` ("line 12").
            let line = e
                .field
                .strip_prefix("line ")
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            CourseFileError::Syntax {
                file: file.to_string(),
                line,
                column: 1,
                message: one_line(&strip_position(&e.message)),
            }
        }),
    }
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// serde_json appends " at line L column C"; the error already carries them.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The course as TOML text, as `write_course` writes it (for printing to stdout).
pub fn course_to_toml(course: &Course) -> Result<String, CourseFileError> {
    toml::to_string_pretty(course).map_err(|e| CourseFileError::Io {
        file: "-".into(),
        message: format!("cannot write TOML: {e}"),
    })
}

/// Writes a course as TOML, or as JSON when the path ends in `.json`. The file is written whole
/// or not at all (a temporary file is renamed over it).
pub fn write_course(path: impl AsRef<Path>, course: &Course) -> Result<(), CourseFileError> {
    let path = path.as_ref();
    let file = file_name(path);
    let text = match format_of(path) {
        Some(Format::Toml) => toml::to_string_pretty(course).map_err(|e| CourseFileError::Io {
            file: file.clone(),
            message: format!("cannot write TOML: {e}"),
        })?,
        Some(Format::Json) => serde_json::to_string_pretty(course)
            .map(|s| s + "\n")
            .map_err(|e| CourseFileError::Io {
                file: file.clone(),
                message: format!("cannot write JSON: {e}"),
            })?,
        _ => {
            return Err(CourseFileError::Io {
                file,
                message: "courses are exported as .toml or .json".to_string(),
            })
        }
    };
    let tmp: PathBuf = {
        let mut name = path
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        name.push(".tmp");
        path.with_file_name(name)
    };
    std::fs::write(&tmp, text).map_err(|e| io_error(&tmp, &e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_error(path, &e)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    const GOOD: &str = r#"
[[topics]]
slug = "basics"
title = "Basics"

[[topics.lessons]]
slug = "sum"
title = "Sum"

[[topics.lessons.tasks]]
slug = "sum"
title = "Sum two numbers"

[topics.lessons.tasks.data]
kind = "code"
statement = "Print the sum."
limits = { timeMs = 1000, memoryMb = 64, outputKb = 16 }

[[topics.lessons.tasks.data.tests]]
name = "small"
body = { io = { stdin = "1 2\n", expected = "3\n" } }
"#;

    #[test]
    fn a_good_toml_course_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let c = read_course(write(dir.path(), "course.toml", GOOD)).unwrap();
        assert_eq!(c.task_count(), 1);
    }

    #[test]
    fn one_bad_field_is_named_with_file_path_and_slug_on_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let bad = GOOD.replace("timeMs = 1000", "timeMs = 5");
        let e = read_course(write(dir.path(), "course.toml", &bad))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(
                "course.toml: topics[0].lessons[0].tasks[0].data.limits.timeMs: (task \"sum\")"
            ),
            "{e}"
        );
        assert!(e.contains("between 100 and 20000"), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }

    #[test]
    fn toml_syntax_and_type_errors_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let bad = GOOD.replace("title = \"Sum\"", "title = \"Sum");
        let e = read_course(write(dir.path(), "c.toml", &bad))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("c.toml: line 8,") || e.contains("c.toml: line 8,"),
            "{e}"
        );
        let misspelled = GOOD.replace("timeMs", "timeMS");
        let e = read_course(write(dir.path(), "c.toml", &misspelled))
            .unwrap_err()
            .to_string();
        // Inside task data (an internally tagged enum) the span is the data table's line.
        assert!(
            e.contains("c.toml: line 14,") && e.contains("unknown field `timeMS`"),
            "{e}"
        );
        assert!(!e.contains('\n'), "{e}");
    }

    #[test]
    fn json_errors_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_course(write(
            dir.path(),
            "c.json",
            "{\n  \"topics\": [\n    {\"slug\": 1}\n  ]\n}",
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("c.json: line 3, column 14: invalid type"), "{e}");
    }

    #[test]
    fn the_documented_example_is_a_valid_course() {
        let doc = include_str!("../../../docs/course-format.md");
        let start = doc.find("```toml\n").unwrap() + "```toml\n".len();
        let end = start + doc[start..].find("```").unwrap();
        let course = parse_course("course-format.md", Format::Toml, &doc[start..end]).unwrap();
        course.validate().unwrap();
        assert_eq!(course.task_count(), 2);
    }

    #[test]
    fn unknown_extension_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_course(write(dir.path(), "c.yaml", "topics: []"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown course file type"), "{e}");
    }

    #[test]
    fn write_then_read_round_trips_in_toml_and_json() {
        let dir = tempfile::tempdir().unwrap();
        let c = read_course(write(dir.path(), "in.toml", GOOD)).unwrap();
        for name in ["out.toml", "out.json"] {
            let p = dir.path().join(name);
            write_course(&p, &c).unwrap();
            assert_eq!(read_course(&p).unwrap(), c, "{name}");
        }
    }
}
