//! Topics and lessons: the course's reading order.

use crate::{error::FieldError, string_enum, Timestamp};
use uuid::Uuid;

/// A URL-safe name, unique among its siblings: 1 to 80 characters of `a-z`, `0-9` and `-`,
/// not starting or ending with `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let ok_chars = raw
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if raw.is_empty()
            || raw.len() > 80
            || !ok_chars
            || raw.starts_with('-')
            || raw.ends_with('-')
        {
            return Err(FieldError::new(
                "slug",
                "must be 1 to 80 characters of a-z, 0-9 and '-', not starting or ending with '-'",
            ));
        }
        Ok(Self(raw.to_string()))
    }

    /// A slug made from any title (`"Hello, World!"` -> `hello-world`); `None` if nothing is left.
    pub fn from_title(title: &str) -> Option<Self> {
        let mut out = String::new();
        for c in title.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else if !out.ends_with('-') && !out.is_empty() {
                out.push('-');
            }
        }
        let trimmed: String = out.trim_matches('-').chars().take(80).collect();
        Self::parse(trimmed.trim_end_matches('-')).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Slug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which control characters a free-text field may hold. One rule for every backend: PostgreSQL
/// cannot store NUL in text at all, and a course exported from SQLite must import into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// Titles, names: no control character at all (C0, DEL), not even a newline or tab.
    SingleLine,
    /// Markdown, code: line feed, carriage return and tab; no other C0 control or DEL.
    MultiLine,
    /// Test data a program reads or prints (`stdin`, `expected`): anything but NUL, so a test
    /// may feed or expect other control characters (an escape sequence, a form feed).
    Data,
}

/// The first character of `value` a field of this kind may not hold, if any.
pub fn forbidden_char(value: &str, kind: TextKind) -> Option<char> {
    value.chars().find(|&c| match kind {
        TextKind::SingleLine => c.is_ascii_control(),
        TextKind::MultiLine => c.is_ascii_control() && !matches!(c, '\n' | '\r' | '\t'),
        TextKind::Data => c == '\0',
    })
}

/// Refuses control characters a field of this kind may not hold; the error names `field` and
/// the offending character's code point (`U+0000`).
pub fn check_text(field: &str, value: &str, kind: TextKind) -> Result<(), FieldError> {
    match forbidden_char(value, kind) {
        None => Ok(()),
        Some(c) => {
            let rule = match kind {
                TextKind::SingleLine => "must not contain control characters",
                TextKind::MultiLine => {
                    "must not contain control characters other than line feed, carriage return and tab"
                }
                TextKind::Data => "must not contain NUL characters",
            };
            Err(FieldError::new(
                field,
                format!("{rule} (found U+{:04X})", u32::from(c)),
            ))
        }
    }
}

/// A title: trimmed, 1 to 200 characters, one line without control characters.
pub fn check_title(raw: &str) -> Result<String, FieldError> {
    let t = raw.trim();
    if t.is_empty() || t.chars().count() > 200 {
        return Err(FieldError::new("title", "must be 1 to 200 characters"));
    }
    check_text("title", t, TextKind::SingleLine)?;
    Ok(t.to_string())
}

string_enum! {
    /// What a lesson mostly is; the front end picks its layout from it (`lessonType`).
    pub enum LessonKind {
        Article => "article",
        Video => "video",
        Practice => "practice",
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    pub id: Uuid,
    pub slug: Slug,
    pub title: String,
    pub description: String,
    pub position: i32,
    pub published: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lesson {
    pub id: Uuid,
    pub topic_id: Uuid,
    pub slug: Slug,
    pub title: String,
    pub kind: LessonKind,
    /// Markdown.
    pub body: String,
    pub position: i32,
    pub published: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn slug_from_title_is_url_safe() {
        assert_eq!(
            Slug::from_title("Hello, World!").unwrap().as_str(),
            "hello-world"
        );
        assert_eq!(
            Slug::from_title("HumanEval/12").unwrap().as_str(),
            "humaneval-12"
        );
        assert!(Slug::from_title("!!!").is_none());
    }

    #[test]
    fn bad_slugs_are_refused() {
        for bad in ["", "-a", "a-", "A", "a b", &"a".repeat(81)] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
    }
}
