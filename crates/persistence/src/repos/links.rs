//! `LinkRepo`: Telegram link codes (hashes only; spent and expired ones are cleared as new ones
//! are stored). Consuming is one conditional UPDATE, so a
//! code works once even when two requests race with it.

use crate::database::Database;
use crate::error::DbResultExt;
use crate::models::{to_db, LinkCodeRow};
use crate::schema::link_codes as lc;
use diesel::prelude::*;
use domain::{link::LinkCode, ports::LinkRepo, RepoError, Timestamp};
use uuid::Uuid;

impl LinkRepo for Database {
    fn insert_link_code(&self, code: &LinkCode) -> Result<(), RepoError> {
        let row = LinkCodeRow::from_domain(code);
        let now = to_db(code.created_at);
        self.write(|conn| {
            // Spent and expired codes are of no use to anyone: each new code clears them, so
            // the table holds only the codes of the last few minutes.
            diesel::delete(lc::table.filter(lc::expires_at.le(now).or(lc::used_at.is_not_null())))
                .execute(conn)
                .repo()?;
            diesel::insert_into(lc::table)
                .values(&row)
                .execute(conn)
                .repo()
                .map(|_| ())
        })
    }

    fn consume_link_code(
        &self,
        code_hash: &str,
        now: Timestamp,
    ) -> Result<Option<Uuid>, RepoError> {
        let now = to_db(now);
        self.write(|conn| {
            let n = diesel::update(
                lc::table
                    .find(code_hash)
                    .filter(lc::used_at.is_null())
                    .filter(lc::expires_at.gt(now)),
            )
            .set(lc::used_at.eq(now))
            .execute(conn)
            .repo()?;
            if n == 0 {
                return Ok(None);
            }
            let user: String = lc::table
                .find(code_hash)
                .select(lc::user_id)
                .first(conn)
                .repo()?;
            Uuid::parse_str(&user)
                .map(Some)
                .map_err(|e| crate::error::corrupt("link_codes", "code", "user_id", e))
        })
    }
}
