//! Task data from a request body, checked against its kind with exact field paths.
//!
//! `TaskData` is tagged by `kind`; serde reads an internally tagged enum through a buffer and
//! loses the path of a bad value inside it. So the kind is read first, and the rest is
//! deserialized straight into that kind's struct, where every error has its path
//! (`data.tests[0].weight`). Semantic checks (`TaskData::validate`) follow, prefixed the same.

use crate::error::ApiError;
use domain::{
    task::{CodeTask, QuizTask, ReadingTask, TaskData, TaskKind},
    FieldError,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

pub fn parse(value: Value, prefix: &str) -> Result<TaskData, ApiError> {
    let at = |f: &str| {
        if f.is_empty() {
            prefix.to_string()
        } else {
            format!("{prefix}.{f}")
        }
    };
    let Value::Object(mut map) = value else {
        return Err(ApiError::invalid(
            prefix,
            "must be an object with a \"kind\"",
        ));
    };
    let kind: TaskKind = match map.remove("kind") {
        Some(Value::String(k)) => k
            .parse()
            .map_err(|e: FieldError| ApiError::invalid(at("kind"), e.message))?,
        Some(_) => {
            return Err(ApiError::invalid(
                at("kind"),
                format!("must be one of {}", TaskKind::allowed()),
            ))
        }
        None => return Err(ApiError::invalid(at("kind"), "is required")),
    };
    let rest = Value::Object(map);
    let data = match kind {
        TaskKind::Reading => TaskData::Reading(typed::<ReadingTask>(rest, prefix)?),
        TaskKind::Quiz => TaskData::Quiz(typed::<QuizTask>(rest, prefix)?),
        TaskKind::Code => TaskData::Code(typed::<CodeTask>(rest, prefix)?),
    };
    data.validate().map_err(|errs| {
        ApiError::Validation(errs.into_iter().map(|e| e.under(prefix)).collect())
    })?;
    Ok(data)
}

fn typed<T: DeserializeOwned>(value: Value, prefix: &str) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut path = prefix.to_string();
        for seg in e.path().iter() {
            use serde_path_to_error::Segment;
            match seg {
                Segment::Seq { index } => path.push_str(&format!("[{index}]")),
                Segment::Map { key } => path.push_str(&format!(".{key}")),
                Segment::Enum { variant } => path.push_str(&format!(".{variant}")),
                Segment::Unknown => path.push_str(".?"),
            }
        }
        let message = e.inner().to_string();
        // serde names missing and unknown fields only in its message: move the name into the path.
        let named = ["missing field `", "unknown field `"]
            .iter()
            .find_map(|p| message.strip_prefix(p))
            .and_then(|rest| rest.split('`').next());
        // For unknown fields the path already ends with the key; for missing ones it does not.
        if let Some(name) = named.filter(|n| !path.ends_with(&format!(".{n}"))) {
            path = format!("{path}.{name}");
        }
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or_default()
            .to_string();
        ApiError::Validation(vec![FieldError::new(path, message)])
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    fn fields(r: Result<TaskData, ApiError>) -> Vec<String> {
        match r {
            Err(ApiError::Validation(f)) => f.into_iter().map(|f| f.field).collect(),
            other => panic!("{other:?}"),
        }
    }

    fn code() -> Value {
        json!({"kind": "code", "statement": "s", "tests": [{"name": "a", "body": {"io": {"expected": "1"}}}]})
    }

    #[test]
    fn a_valid_code_task_parses() {
        assert_eq!(parse(code(), "data").unwrap().kind(), TaskKind::Code);
    }

    #[test]
    fn type_errors_unknown_and_missing_fields_carry_their_path() {
        let mut v = code();
        v["tests"][0]["weight"] = json!("heavy");
        assert_eq!(fields(parse(v, "data")), ["data.tests[0].weight"]);
        let mut v = code();
        v["limits"] = json!({"timeMS": 5});
        assert_eq!(fields(parse(v, "data")), ["data.limits.timeMS"]);
        assert_eq!(
            fields(parse(json!({"kind": "code", "tests": []}), "data")),
            ["data.statement"]
        );
        assert_eq!(
            fields(parse(json!({"kind": "essay"}), "data")),
            ["data.kind"]
        );
        assert_eq!(fields(parse(json!([1]), "data")), ["data"]);
    }

    #[test]
    fn every_semantic_error_is_named() {
        let mut v = code();
        v["tests"][0]["weight"] = json!(0);
        v["limits"] = json!({"timeMs": 1, "memoryMb": 128, "outputKb": 64});
        v["statement"] = json!(" ");
        let f = fields(parse(v, "data"));
        for want in [
            "data.tests[0].weight",
            "data.limits.timeMs",
            "data.statement",
        ] {
            assert!(f.contains(&want.to_string()), "{want} missing from {f:?}");
        }
    }
}
