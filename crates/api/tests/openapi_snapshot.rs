//! `docs/openapi.json` is the API reference kept in the repository. It must equal the document
//! the server generates from the code, so a renamed field or a new route shows up in review.
//! Regenerate with `UPDATE_OPENAPI=1 cargo test -p api --test openapi_snapshot`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

fn snapshot_path() -> PathBuf {
    let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    crate_dir.join("../../docs/openapi.json")
}

#[test]
fn committed_openapi_document_matches_the_code() {
    let doc = api::openapi::document(&api::routes::registry());
    let mut live = serde_json::to_string_pretty(&doc).unwrap();
    live.push('\n');
    let path = snapshot_path();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &live).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == live,
        "docs/openapi.json is out of date with the code; regenerate it with \
         `UPDATE_OPENAPI=1 cargo test -p api --test openapi_snapshot` and review the diff"
    );
}

#[test]
fn reference_uses_camel_case_fields_and_has_no_misspelled_lesson_link() {
    let doc = serde_json::to_value(api::openapi::document(&api::routes::registry())).unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut bad = Vec::new();
    for (name, schema) in schemas {
        if let Some(props) = schema["properties"].as_object() {
            for field in props.keys() {
                if field.contains('_') || field.starts_with(|c: char| c.is_ascii_uppercase()) {
                    bad.push(format!("{name}.{field}"));
                }
            }
        }
    }
    assert!(bad.is_empty(), "non-camelCase fields in the API: {bad:?}");
    let text = doc.to_string();
    assert!(!text.contains("lssonLink"));
    assert!(
        text.contains("lessonLink"),
        "the lesson payload lost its lessonLink field"
    );
}
