//! `SessionRepo`: saved editor sessions, found again by the id they were saved under (the old
//! backend looked up a fresh random id and always answered 404).

use crate::database::Database;
use crate::error::DbResultExt;
use crate::models::{id_text, session_state_json, to_db, SessionRow};
use crate::schema::saved_sessions as ss;
use diesel::prelude::*;
use domain::{ports::SessionRepo, session::SavedSession, RepoError, Timestamp};
use uuid::Uuid;

fn load(conn: &mut crate::connection::DbConn, id: Uuid) -> Result<Option<SavedSession>, RepoError> {
    ss::table
        .find(id_text(id))
        .select(SessionRow::as_select())
        .first(conn)
        .optional()
        .repo()?
        .map(SessionRow::into_domain)
        .transpose()
}

impl SessionRepo for Database {
    fn insert_session(&self, session: &SavedSession) -> Result<(), RepoError> {
        let row = SessionRow::from_domain(session)?;
        self.write(|conn| {
            diesel::insert_into(ss::table)
                .values(&row)
                .execute(conn)
                .repo()
                .map(|_| ())
        })
    }

    fn session(&self, id: Uuid) -> Result<Option<SavedSession>, RepoError> {
        self.read(|conn| load(conn, id))
    }

    fn update_session(
        &self,
        id: Uuid,
        state: &serde_json::Value,
        now: Timestamp,
    ) -> Result<SavedSession, RepoError> {
        let json = session_state_json(state)?;
        self.write(|conn| {
            let n = diesel::update(ss::table.find(id_text(id)))
                .set((ss::state.eq(json), ss::updated_at.eq(to_db(now))))
                .execute(conn)
                .repo()?;
            if n == 0 {
                return Err(RepoError::NotFound("session"));
            }
            load(conn, id)?.ok_or(RepoError::NotFound("session"))
        })
    }

    fn delete_session(&self, id: Uuid) -> Result<(), RepoError> {
        self.write(|conn| {
            let n = diesel::delete(ss::table.find(id_text(id)))
                .execute(conn)
                .repo()?;
            if n == 0 {
                Err(RepoError::NotFound("session"))
            } else {
                Ok(())
            }
        })
    }
}
