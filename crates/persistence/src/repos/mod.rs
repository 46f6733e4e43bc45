//! `domain::ports` implemented on [`crate::Database`], one file per port.

mod admin;
mod attempts;
mod content;
mod course_import;
mod links;
mod sessions;
mod tokens;
mod users;

use domain::attempt::Page;

/// `LIMIT`/`OFFSET` of a page, as the database wants them.
pub(crate) fn limits(page: Page) -> (i64, i64) {
    (i64::from(page.limit), i64::from(page.offset))
}
