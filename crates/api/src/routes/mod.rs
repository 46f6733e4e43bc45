//! Every route of Campus, registered through the [`Registry`](crate::registry::Registry).
//! A route file exposes `pub fn routes(r: &mut Registry)`; add it to [`registry`] below.

pub mod admin;
pub mod auth;
pub mod health;
pub mod learning;
pub mod me;

use crate::registry::Registry;

/// The full route table. Built once per worker (actix builds one app per worker thread) and
/// once for the OpenAPI document and the tests.
pub fn registry() -> Registry {
    let mut r = Registry::new();
    health::routes(&mut r);
    auth::routes(&mut r);
    me::routes(&mut r);
    admin::routes(&mut r);
    learning::routes(&mut r);
    // Learning routes (topics, lessons, tasks, attempts, authoring, analytics, sessions) are
    // added here by their module's `routes(&mut r)`.
    r
}
