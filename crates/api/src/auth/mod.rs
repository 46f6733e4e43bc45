//! Accounts and access: password hashing, access tokens, refresh tokens, the extractors that
//! guard handlers, and the sign-in flows the `/auth` routes call.

pub mod accounts;
pub mod extract;
pub mod flows;
pub mod jwt;
pub mod password;

pub use extract::{Admin, CurrentUser, FrontEnd, MaybeUser, Teacher};
