//! Campus's storage adapter: PostgreSQL or SQLite through one diesel code base.
//!
//! [`Database`] is an r2d2 pool of a `MultiConnection` (PostgreSQL or SQLite, chosen explicitly
//! from the [`DatabaseUrl`] scheme) and implements every port of `domain::ports`. It also runs the
//! embedded migrations and reads/writes course files ([`read_course`], [`write_course`]).
//!
//! Limits: every method blocks (diesel is synchronous), so async callers run them in
//! `web::block`/`spawn_blocking`. Row types never leave this crate; callers see domain types.
//! Nothing here reads the environment or starts work by itself: the caller passes the URL and
//! decides when to migrate. With the `testing` feature, [`testing`] hands out fresh databases.

mod connection;
mod course_file;
mod database;
mod error;
mod migrations;
mod models;
mod repos;
mod schema;
mod url;

pub mod rate_limit;

#[cfg(feature = "testing")]
pub mod testing;

pub use course_file::{course_to_toml, read_course, write_course, CourseFileError};
pub use database::{Backend, Database};
pub use error::DbError;
pub use url::{DatabaseUrl, UrlError};

/// The URL used when none is configured (the api's config applies it).
pub const DEFAULT_DATABASE_URL: &str = "sqlite://campus.db";
