//! Reading what a teacher grades from the command line (`campus check`): a task in the course
//! format, and HumanEval's `HumanEval.jsonl(.gz)`. No database is involved.

use domain::course::{Course, CourseTask};
use domain::task::{CodeTask, TaskData};
use std::io::Read;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a task in the course format: {detail}")]
    Format { path: String, detail: String },
    #[error("{path} holds an invalid task: {errors}")]
    Invalid { path: String, errors: String },
}

fn read(path: &Path) -> Result<Vec<u8>, FileError> {
    let raw = std::fs::read(path).map_err(|source| FileError::Read {
        path: path.display().to_string(),
        source,
    })?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .map_err(|source| FileError::Read {
                path: path.display().to_string(),
                source,
            })?;
        return Ok(out);
    }
    Ok(raw)
}

fn parse<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> Result<T, String> {
    let toml_like = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    if toml_like {
        toml::from_str(text).map_err(|e| e.to_string())
    } else {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }
}

/// Reads one code task from a TOML or JSON file holding, in the course format, either one task
/// (`slug`, `title`, `data` with `kind = "code"`), or a task's `data` alone, or a whole course
/// with exactly one code task. The task is validated like an import would.
pub fn load_code_task(path: &Path) -> Result<(String, CodeTask), FileError> {
    let p = path.display().to_string();
    let bytes = read(path)?;
    let text = String::from_utf8(bytes).map_err(|e| FileError::Format {
        path: p.clone(),
        detail: e.to_string(),
    })?;
    let (name, data) = match parse::<CourseTask>(path, &text) {
        Ok(t) => (t.slug, t.data),
        Err(as_task) => {
            match parse::<TaskData>(path, &text) {
                Ok(d) => (
                    path.file_stem()
                        .map_or_else(String::new, |s| s.to_string_lossy().into_owned()),
                    d,
                ),
                Err(_) => match parse::<Course>(path, &text) {
                    Ok(c) => {
                        let mut code: Vec<CourseTask> = c
                            .topics
                            .into_iter()
                            .flat_map(|t| t.lessons)
                            .flat_map(|l| l.tasks)
                            .filter(|t| matches!(t.data, TaskData::Code(_)))
                            .collect();
                        if code.len() != 1 {
                            return Err(FileError::Format {
                            path: p,
                            detail: format!("a course file must hold exactly one code task, this one has {}", code.len()),
                        });
                        }
                        let t = code.remove(0);
                        (t.slug, t.data)
                    }
                    Err(_) => {
                        return Err(FileError::Format {
                            path: p,
                            detail: as_task,
                        })
                    }
                },
            }
        }
    };
    if let Err(errs) = data.validate() {
        let errors = errs
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(FileError::Invalid { path: p, errors });
    }
    match data {
        TaskData::Code(c) => Ok((name, c)),
        other => Err(FileError::Format {
            path: p,
            detail: format!("the task is a {} task, not a code task", other.kind()),
        }),
    }
}

/// The text of `HumanEval.jsonl`, gzip-compressed or not.
pub fn read_humaneval(path: &Path) -> Result<String, FileError> {
    let bytes = read(path)?;
    String::from_utf8(bytes).map_err(|e| FileError::Format {
        path: path.display().to_string(),
        detail: e.to_string(),
    })
}

/// Every HumanEval problem as `(task_id, reference solution, task)`.
pub fn humaneval_tasks(path: &Path) -> Result<Vec<(String, String, CodeTask)>, FileError> {
    let text = read_humaneval(path)?;
    let p = path.display().to_string();
    let course = domain::course::humaneval_course(&text).map_err(|e| FileError::Format {
        path: p.clone(),
        detail: format!("{}: {}", e.field, e.message),
    })?;
    let mut out = Vec::new();
    for task in course
        .topics
        .into_iter()
        .flat_map(|t| t.lessons)
        .flat_map(|l| l.tasks)
    {
        if let TaskData::Code(c) = task.data {
            let solution = c.reference_solution.clone().unwrap_or_default();
            out.push((task.title, solution, c));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_task_file_in_toml_is_read_and_validated() {
        let dir = std::env::temp_dir().join(format!("campus-files-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("add.toml");
        std::fs::write(
            &path,
            r#"
slug = "add"
title = "Add"
[data]
kind = "code"
statement = "Add two numbers"
[[data.tests]]
name = "one"
[data.tests.body.io]
stdin = "1 2\n"
expected = "3\n"
"#,
        )
        .unwrap();
        let (name, task) = load_code_task(&path).unwrap();
        assert_eq!(name, "add");
        assert_eq!(task.tests.len(), 1);
        std::fs::write(&path, "slug = \"add\"\ntitle = \"Add\"\n[data]\nkind = \"code\"\nstatement = \"x\"\ntests = []\n").unwrap();
        let err = load_code_task(&path).unwrap_err().to_string();
        assert!(err.contains("tests"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
