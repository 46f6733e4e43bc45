//! Linking a Telegram account to a Campus account, and what the bot may tell a linked student.
//!
//! A signed-in student asks the web API for a one-time code ([`issue_link_code`]); they send it
//! to the bot, which redeems it for the Telegram account that sent it ([`redeem_link_code`]).
//! One Telegram account is linked to at most one Campus account (a unique column); linking a
//! Campus account that already had another Telegram account replaces that link.

use crate::{
    link::{hash_code, new_link_code, CODE_LEN},
    ports::{AttemptRepo, ContentRepo, LinkRepo, UserRepo},
    services::progress::{solved_tasks, task_index},
    DomainError, RepoError, Timestamp,
};
use uuid::Uuid;

/// A code to show the student once; only its hash is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCode {
    pub code: String,
    pub expires_at: Timestamp,
}

/// Stores a fresh code for `user_id` and returns it in clear, once.
pub fn issue_link_code(
    links: &dyn LinkRepo,
    user_id: Uuid,
    now: Timestamp,
) -> Result<IssuedCode, DomainError> {
    let (code, record) = new_link_code(user_id, now);
    links.insert_link_code(&record)?;
    Ok(IssuedCode {
        code,
        expires_at: record.expires_at,
    })
}

/// What redeeming a code did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkOutcome {
    /// The Telegram account now belongs to this Campus account.
    Linked { username: String },
    /// Unknown, used, expired or malformed code. Nothing changed.
    InvalidCode,
    /// This Telegram account is already linked (to `username`); it must unlink first. The code
    /// was not spent, except when another request linked this Telegram account at the same
    /// moment.
    AlreadyLinked { username: String },
}

/// Whether `typed` can be a code at all (so garbage never reaches the database).
fn plausible(typed: &str) -> bool {
    let n = typed.chars().filter(|c| !c.is_whitespace()).count();
    n == CODE_LEN
        && typed
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c.is_whitespace())
}

/// Redeems `typed` for the Telegram account `telegram_user_id`.
pub fn redeem_link_code(
    users: &dyn UserRepo,
    links: &dyn LinkRepo,
    typed: &str,
    telegram_user_id: i64,
    now: Timestamp,
) -> Result<LinkOutcome, DomainError> {
    if !plausible(typed) {
        return Ok(LinkOutcome::InvalidCode);
    }
    if let Some(holder) = users.user_by_telegram_id(telegram_user_id)? {
        return Ok(LinkOutcome::AlreadyLinked {
            username: holder.username.as_str().to_string(),
        });
    }
    let Some(user_id) = links.consume_link_code(&hash_code(typed), now)? else {
        return Ok(LinkOutcome::InvalidCode);
    };
    match users.set_telegram_id(user_id, Some(telegram_user_id), now) {
        Ok(user) => Ok(LinkOutcome::Linked {
            username: user.username.as_str().to_string(),
        }),
        // Another request linked this Telegram account between the check above and now; the
        // code is spent (it was consumed above) and the student asks for a new one.
        Err(RepoError::Conflict(_)) => match users.user_by_telegram_id(telegram_user_id)? {
            Some(holder) => Ok(LinkOutcome::AlreadyLinked {
                username: holder.username.as_str().to_string(),
            }),
            None => Err(DomainError::Conflict(
                "this Telegram account is being linked by another request".into(),
            )),
        },
        // The account was deleted after the code was issued.
        Err(RepoError::NotFound(_)) => Ok(LinkOutcome::InvalidCode),
        Err(e) => Err(e.into()),
    }
}

/// Spends `typed` without linking anything (a code shown in a group chat must not stay usable
/// by whoever read it). Whether it was a live code.
pub fn burn_link_code(
    links: &dyn LinkRepo,
    typed: &str,
    now: Timestamp,
) -> Result<bool, DomainError> {
    if !plausible(typed) {
        return Ok(false);
    }
    Ok(links.consume_link_code(&hash_code(typed), now)?.is_some())
}

/// Unlinks the Campus account linked to `telegram_user_id`; its username, or `None` when the
/// Telegram account was not linked.
pub fn unlink_telegram(
    users: &dyn UserRepo,
    telegram_user_id: i64,
    now: Timestamp,
) -> Result<Option<String>, DomainError> {
    let Some(user) = users.user_by_telegram_id(telegram_user_id)? else {
        return Ok(None);
    };
    users.set_telegram_id(user.id, None, now)?;
    Ok(Some(user.username.as_str().to_string()))
}

/// What the bot shows a linked student.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudentSummary {
    pub username: String,
    /// Published tasks the student has solved.
    pub tasks_solved: u32,
    /// Published tasks in the course.
    pub tasks_total: u32,
}

/// The summary of the account linked to `telegram_user_id`, or `None` when it is not linked.
pub fn linked_summary(
    users: &dyn UserRepo,
    content: &dyn ContentRepo,
    attempts: &dyn AttemptRepo,
    telegram_user_id: i64,
) -> Result<Option<StudentSummary>, DomainError> {
    let Some(user) = users.user_by_telegram_id(telegram_user_id)? else {
        return Ok(None);
    };
    let outline = content.outline(false)?;
    let index = task_index(content, &outline, false)?;
    let solved = solved_tasks(attempts, user.id)?;
    let published: Vec<Uuid> = index.into_iter().flat_map(|(_, ids)| ids).collect();
    Ok(Some(StudentSummary {
        username: user.username.as_str().to_string(),
        tasks_solved: published.iter().filter(|id| solved.contains(id)).count() as u32,
        tasks_total: published.len() as u32,
    }))
}

#[cfg(test)]
mod tests {
    use super::plausible;

    #[test]
    fn only_code_shaped_input_is_plausible() {
        assert!(plausible("ABCD2345"));
        assert!(plausible(" abcd 2345 "));
        assert!(!plausible("ABCD234"));
        assert!(!plausible("ABCD23456"));
        assert!(!plausible("ABCD-2345"));
        assert!(!plausible(""));
        assert!(!plausible("ÄBCD2345"));
    }
}
