//! Request extractors that answer bad input with Campus's JSON error, naming the field.
//!
//! Handlers take `extract::Json<T>` and `extract::Query<T>` (not actix's): they deserialize
//! with the path of the failing field (`limits.timeMs`, `tests[2].weight`) and then run
//! `validator` rules, so a handler only ever sees a valid value. Request types carry
//! `#[serde(deny_unknown_fields, rename_all = "camelCase")]`. [`configure`] also sets actix's
//! own `JsonConfig`/`PathConfig`/`QueryConfig` handlers, so nothing answers in plain text.

use crate::error::ApiError;
use actix_web::{
    dev::Payload,
    error::{JsonPayloadError, PathError, QueryPayloadError},
    web, FromRequest, HttpRequest,
};
use domain::FieldError;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

/// A JSON body, deserialized with field paths and validated.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // actix reads the body (content type, size limit, syntax) under `JsonConfig`; the typed
        // step below knows where a value went wrong.
        let raw = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let value = raw.await?.into_inner();
            // Every request body of this API is an object; serde would also take a struct
            // written as an array (`["ann", "pw"]`), which no client should rely on.
            if !value.is_object() {
                return Err(ApiError::Validation(vec![FieldError::new(
                    "body",
                    "must be a JSON object",
                )])
                .into());
            }
            let parsed: T = serde_path_to_error::deserialize(value).map_err(|e| {
                let path = render_path(e.path());
                ApiError::Validation(vec![serde_field_error(
                    &path,
                    &e.inner().to_string(),
                    "body",
                )])
            })?;
            validate(&parsed)?;
            Ok(Json(parsed))
        })
    }
}

/// A query string, deserialized with field names and validated.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + Validate> FromRequest for Query<T> {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            parse_query(req.query_string())
                .map(Query)
                .map_err(Into::into),
        )
    }
}

fn parse_query<T: DeserializeOwned + Validate>(qs: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(qs.as_bytes()));
    let parsed: T = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = render_path(e.path());
        ApiError::Validation(vec![serde_field_error(
            &path,
            &e.inner().to_string(),
            "query",
        )])
    })?;
    validate(&parsed)?;
    Ok(parsed)
}

/// Runs `validator` rules and reports each failure under its camelCase field path.
pub fn validate<T: Validate>(value: &T) -> Result<(), ApiError> {
    value.validate().map_err(|errors| {
        let mut out = Vec::new();
        flatten("", &errors, &mut out);
        out.sort_by(|a, b| a.field.cmp(&b.field));
        ApiError::Validation(out)
    })
}

fn flatten(prefix: &str, errors: &ValidationErrors, out: &mut Vec<FieldError>) {
    for (name, kind) in errors.errors() {
        let name = camel_case(name);
        let path = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}.{name}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    out.push(FieldError::new(path.clone(), describe(e)));
                }
            }
            ValidationErrorsKind::Struct(inner) => flatten(&path, inner, out),
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    flatten(&format!("{path}[{i}]"), inner, out);
                }
            }
        }
    }
}

fn describe(e: &validator::ValidationError) -> String {
    if let Some(m) = &e.message {
        return m.to_string();
    }
    let p = |k: &str| e.params.get(k).map(ToString::to_string);
    match e.code.as_ref() {
        "length" => match (p("min"), p("max"), p("equal")) {
            (_, _, Some(n)) => format!("must have length {n}"),
            (Some(a), Some(b), _) => format!("must have length between {a} and {b}"),
            (Some(a), None, _) => format!("must have length at least {a}"),
            (None, Some(b), _) => format!("must have length at most {b}"),
            _ => "has an invalid length".into(),
        },
        "range" => match (p("min"), p("max")) {
            (Some(a), Some(b)) => format!("must be between {a} and {b}"),
            (Some(a), None) => format!("must be at least {a}"),
            (None, Some(b)) => format!("must be at most {b}"),
            _ => "is out of range".into(),
        },
        "email" => "must be an email address".into(),
        "url" => "must be a URL".into(),
        other => format!("is invalid ({other})"),
    }
}

/// `snake_case` -> `camelCase`, for field names coming from Rust identifiers.
pub fn camel_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut upper = false;
    for c in s.chars() {
        if c == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn render_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => push_key(&mut out, key),
            Segment::Enum { variant } => push_key(&mut out, variant),
            Segment::Unknown => push_key(&mut out, "?"),
        }
    }
    out
}

fn push_key(out: &mut String, key: &str) {
    if !out.is_empty() {
        out.push('.');
    }
    out.push_str(key);
}

/// serde names the field only in its message for missing, unknown and repeated fields; put it
/// in the path. `whole` names the value itself (`body`, `query`) when no field is at fault.
fn serde_field_error(path: &str, message: &str, whole: &str) -> FieldError {
    let named = ["missing field `", "unknown field `", "duplicate field `"]
        .iter()
        .find_map(|p| message.strip_prefix(p))
        .and_then(|rest| rest.split('`').next());
    let field = match (named, path.is_empty()) {
        (Some(name), true) => name.to_string(),
        // For unknown fields the path already ends with the key; for missing ones it does not.
        (Some(name), false) if path == name || path.ends_with(&format!(".{name}")) => {
            path.to_string()
        }
        (Some(name), false) => format!("{path}.{name}"),
        (None, true) => whole.to_string(),
        (None, false) => path.to_string(),
    };
    let message = match message.find(" at line ") {
        Some(i) => &message[..i],
        None => message,
    };
    FieldError::new(field, message)
}

/// actix's own extractors, answered in the same shape (used by `web::Json`, `web::Path`,
/// `web::Query` anywhere in the app, including `Json<Value>` under [`Json`]).
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req| json_error(err).into())
}

fn json_error(err: JsonPayloadError) -> ApiError {
    match err {
        JsonPayloadError::OverflowKnownLength { limit, .. }
        | JsonPayloadError::Overflow { limit } => {
            ApiError::TooLarge(format!("the request body is larger than {limit} bytes"))
        }
        JsonPayloadError::ContentType => ApiError::UnsupportedMediaType(
            "the request body must be JSON (Content-Type: application/json)".into(),
        ),
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            ApiError::Validation(vec![serde_field_error("", &e.to_string(), "body")])
        }
        JsonPayloadError::Deserialize(e) => ApiError::BadRequest {
            code: "malformed_json",
            message: format!("the request body is not valid JSON: {e}"),
            fields: vec![FieldError::new("body", e.to_string())],
        },
        JsonPayloadError::Payload(e) => {
            use actix_web::error::PayloadError as P;
            // Said in words: some of actix's own messages carry Rust debug output.
            let why = match e {
                P::Overflow => {
                    return ApiError::TooLarge("the request body is too large".into());
                }
                // actix reports a decoder failure as Incomplete with the decoder's error.
                P::EncodingCorrupted | P::Incomplete(Some(_)) => {
                    "its Content-Encoding does not match its bytes"
                }
                P::Incomplete(None) => "it ended before its announced length",
                _ => "the connection failed while it was sent",
            };
            ApiError::BadRequest {
                code: "bad_request",
                message: format!("the request body could not be read: {why}"),
                fields: vec![FieldError::new("body", why)],
            }
        }
        other => ApiError::internal(other),
    }
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, req| {
        let message = match err {
            PathError::Deserialize(e) => e.to_string(),
            other => other.to_string(),
        };
        // The failing segment is not in serde's message; with one segment (the common case)
        // it is that one, otherwise every segment is named.
        let names: Vec<&str> = req.match_info().iter().map(|(name, _)| name).collect();
        let field = if names.is_empty() {
            "path".to_string()
        } else {
            names.join(",")
        };
        ApiError::invalid(field, format!("invalid path parameter: {message}")).into()
    })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        let message = match err {
            QueryPayloadError::Deserialize(e) => e.to_string(),
            other => other.to_string(),
        };
        ApiError::Validation(vec![serde_field_error("", &message, "query")]).into()
    })
}

/// Size limits and error handlers for every body, path and query extractor.
pub fn configure(cfg: &mut web::ServiceConfig, max_body_bytes: usize) {
    cfg.app_data(json_config(max_body_bytes))
        .app_data(web::PayloadConfig::new(max_body_bytes))
        .app_data(path_config())
        .app_data(query_config());
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, Validate)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Inner {
        #[validate(range(min = 1, max = 10))]
        time_ms: u32,
    }

    #[derive(Debug, Deserialize, Validate)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Outer {
        #[validate(length(min = 3))]
        user_name: String,
        #[validate(nested)]
        limits: Vec<Inner>,
    }

    fn parse_json(v: serde_json::Value) -> Result<Outer, Vec<FieldError>> {
        let parsed: Outer = serde_path_to_error::deserialize(v).map_err(|e| {
            vec![serde_field_error(
                &render_path(e.path()),
                &e.inner().to_string(),
                "body",
            )]
        })?;
        match validate(&parsed) {
            Ok(()) => Ok(parsed),
            Err(ApiError::Validation(f)) => Err(f),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn wrong_types_name_the_nested_field() {
        let e = parse_json(
            serde_json::json!({"userName": "ann", "limits": [{"timeMs": 1}, {"timeMs": "x"}]}),
        )
        .unwrap_err();
        assert_eq!(e[0].field, "limits[1].timeMs");
    }

    #[test]
    fn unknown_and_missing_fields_are_named() {
        let e = parse_json(serde_json::json!({"userName": "ann", "limits": [], "role": "admin"}))
            .unwrap_err();
        assert_eq!(e[0].field, "role");
        let e = parse_json(serde_json::json!({"limits": []})).unwrap_err();
        assert_eq!(e[0].field, "userName");
        let e = parse_json(serde_json::json!({"userName": "ann", "limits": [{}]})).unwrap_err();
        assert_eq!(e[0].field, "limits[0].timeMs");
    }

    #[test]
    fn validator_failures_use_camel_case_paths() {
        let e = parse_json(serde_json::json!({"userName": "an", "limits": [{"timeMs": 50}]}))
            .unwrap_err();
        let fields: Vec<&str> = e.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["limits[0].timeMs", "userName"]);
    }

    #[derive(Debug, Deserialize, Validate)]
    #[serde(deny_unknown_fields)]
    struct Paging {
        #[validate(range(min = 1, max = 100))]
        limit: Option<u32>,
    }

    #[test]
    fn query_errors_name_the_parameter() {
        let e = parse_query::<Paging>("limit=abc").unwrap_err();
        assert!(
            matches!(&e, ApiError::Validation(f) if f[0].field == "limit"),
            "{e:?}"
        );
        let e = parse_query::<Paging>("limit=1000").unwrap_err();
        assert!(
            matches!(&e, ApiError::Validation(f) if f[0].field == "limit"),
            "{e:?}"
        );
        let e = parse_query::<Paging>("lmit=1").unwrap_err();
        assert!(
            matches!(&e, ApiError::Validation(f) if f[0].field == "lmit"),
            "{e:?}"
        );
        assert_eq!(parse_query::<Paging>("limit=5").unwrap().limit, Some(5));
        // A repeated parameter is named, not blamed on the body.
        let e = parse_query::<Paging>("limit=5&limit=6").unwrap_err();
        assert!(
            matches!(&e, ApiError::Validation(f) if f[0].field == "limit"),
            "{e:?}"
        );
    }

    #[test]
    fn camel_case_converts_rust_names() {
        assert_eq!(camel_case("time_ms"), "timeMs");
        assert_eq!(camel_case("username"), "username");
    }
}
