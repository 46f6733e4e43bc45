//! `UserRepo`: accounts. Usernames are unique regardless of case through the `username_key`
//! column (the lowercased name), which the database holds UNIQUE.

use crate::database::Database;
use crate::error::DbResultExt;
use crate::models::{id_text, to_db, UserRow};
use crate::schema::users;
use diesel::prelude::*;
use domain::{
    attempt::Page,
    ports::UserRepo,
    user::{NewUser, Role, User, Username},
    RepoError, Timestamp,
};
use uuid::Uuid;

fn load(conn: &mut crate::connection::DbConn, id: Uuid) -> Result<Option<User>, RepoError> {
    users::table
        .find(id_text(id))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
        .repo()?
        .map(UserRow::into_domain)
        .transpose()
}

fn one_by<F>(db: &Database, filter: F) -> Result<Option<User>, RepoError>
where
    F: FnOnce(
        users::BoxedQuery<'static, crate::connection::MultiBackend>,
    ) -> users::BoxedQuery<'static, crate::connection::MultiBackend>,
{
    db.read(|conn| {
        filter(users::table.into_boxed())
            .select(UserRow::as_select())
            .first(conn)
            .optional()
            .repo()?
            .map(UserRow::into_domain)
            .transpose()
    })
}

impl UserRepo for Database {
    fn insert_user(&self, user: &NewUser) -> Result<User, RepoError> {
        let row = UserRow {
            id: id_text(user.id),
            username: user.username.as_str().to_string(),
            username_key: user.username.key(),
            role: user.role.as_str().to_string(),
            password_hash: user.password_hash.clone(),
            external_id_hash: user.external_id_hash.clone(),
            telegram_user_id: user.telegram_user_id,
            created_at: to_db(user.created_at),
            updated_at: to_db(user.created_at),
        };
        self.write(|conn| {
            diesel::insert_into(users::table)
                .values(&row)
                .execute(conn)
                .repo()?;
            load(conn, user.id)?.ok_or(RepoError::NotFound("user"))
        })
    }

    fn user_by_id(&self, id: Uuid) -> Result<Option<User>, RepoError> {
        self.read(|conn| load(conn, id))
    }

    fn user_by_username(&self, username: &Username) -> Result<Option<User>, RepoError> {
        let key = username.key();
        one_by(self, |q| q.filter(users::username_key.eq(key)))
    }

    fn user_by_external_id(&self, external_id_hash: &str) -> Result<Option<User>, RepoError> {
        let hash = external_id_hash.to_string();
        one_by(self, |q| q.filter(users::external_id_hash.eq(hash)))
    }

    fn user_by_telegram_id(&self, telegram_user_id: i64) -> Result<Option<User>, RepoError> {
        one_by(self, |q| {
            q.filter(users::telegram_user_id.eq(telegram_user_id))
        })
    }

    fn set_role(&self, id: Uuid, role: Role, now: Timestamp) -> Result<User, RepoError> {
        self.write(|conn| {
            let n = diesel::update(users::table.find(id_text(id)))
                .set((
                    users::role.eq(role.as_str()),
                    users::updated_at.eq(to_db(now)),
                ))
                .execute(conn)
                .repo()?;
            if n == 0 {
                return Err(RepoError::NotFound("user"));
            }
            load(conn, id)?.ok_or(RepoError::NotFound("user"))
        })
    }

    fn set_telegram_id(
        &self,
        id: Uuid,
        telegram_user_id: Option<i64>,
        now: Timestamp,
    ) -> Result<User, RepoError> {
        self.write(|conn| {
            let n = diesel::update(users::table.find(id_text(id)))
                .set((
                    users::telegram_user_id.eq(telegram_user_id),
                    users::updated_at.eq(to_db(now)),
                ))
                .execute(conn)
                .repo()?;
            if n == 0 {
                return Err(RepoError::NotFound("user"));
            }
            load(conn, id)?.ok_or(RepoError::NotFound("user"))
        })
    }

    fn list_users(&self, page: Page) -> Result<Vec<User>, RepoError> {
        let (limit, offset) = super::limits(page);
        self.read(|conn| {
            users::table
                .order((users::created_at.asc(), users::id.asc()))
                .limit(limit)
                .offset(offset)
                .select(UserRow::as_select())
                .load(conn)
                .repo()?
                .into_iter()
                .map(UserRow::into_domain)
                .collect()
        })
    }

    fn count_users(&self) -> Result<u64, RepoError> {
        self.read(|conn| {
            let n: i64 = users::table.count().get_result(conn).repo()?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }
}
