//! `TokenRepo`: refresh tokens (hashes only). Rotation is one conditional UPDATE, so of two
//! requests racing with the same token exactly one rotates it and the other sees a reuse.

use crate::database::Database;
use crate::error::DbResultExt;
use crate::models::{id_text, to_db, RefreshTokenRow};
use crate::schema::refresh_tokens as rt;
use diesel::prelude::*;
use domain::{ports::TokenRepo, user::RefreshToken, RepoError, Timestamp};
use uuid::Uuid;

impl TokenRepo for Database {
    fn insert_refresh_token(&self, token: &RefreshToken) -> Result<(), RepoError> {
        let row = RefreshTokenRow::from_domain(token);
        self.write(|conn| {
            diesel::insert_into(rt::table)
                .values(&row)
                .execute(conn)
                .repo()
                .map(|_| ())
        })
    }

    fn refresh_token(&self, token_hash: &str) -> Result<Option<RefreshToken>, RepoError> {
        self.read(|conn| {
            rt::table
                .find(token_hash)
                .select(RefreshTokenRow::as_select())
                .first(conn)
                .optional()
                .repo()?
                .map(RefreshTokenRow::into_domain)
                .transpose()
        })
    }

    fn rotate_refresh_token(
        &self,
        old_hash: &str,
        next: &RefreshToken,
        now: Timestamp,
    ) -> Result<bool, RepoError> {
        let row = RefreshTokenRow::from_domain(next);
        self.write(|conn| {
            let n = diesel::update(
                rt::table
                    .find(old_hash)
                    .filter(rt::rotated_at.is_null())
                    .filter(rt::revoked_at.is_null()),
            )
            .set(rt::rotated_at.eq(to_db(now)))
            .execute(conn)
            .repo()?;
            if n == 0 {
                return Ok(false);
            }
            diesel::insert_into(rt::table)
                .values(&row)
                .execute(conn)
                .repo()?;
            Ok(true)
        })
    }

    fn revoke_family(&self, family_id: Uuid, now: Timestamp) -> Result<(), RepoError> {
        self.write(|conn| {
            diesel::update(
                rt::table
                    .filter(rt::family_id.eq(id_text(family_id)))
                    .filter(rt::revoked_at.is_null()),
            )
            .set(rt::revoked_at.eq(to_db(now)))
            .execute(conn)
            .repo()
            .map(|_| ())
        })
    }
}
