//! Telegram link codes: a short code a signed-in student gives the bot to link accounts.
//! Only the code's hash is stored; a code works once and expires.

use crate::Timestamp;
use rand::Rng;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Alphabet without look-alikes (no 0/O, 1/I/L).
const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
pub const CODE_LEN: usize = 8;
pub const CODE_TTL_MINUTES: i64 = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkCode {
    pub code_hash: String,
    pub user_id: Uuid,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

/// A new random code and the record to store for it.
pub fn new_link_code(user_id: Uuid, now: Timestamp) -> (String, LinkCode) {
    let mut rng = rand::thread_rng();
    let code: String = (0..CODE_LEN)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    let record = LinkCode {
        code_hash: hash_code(&code),
        user_id,
        created_at: now,
        expires_at: now + chrono::Duration::minutes(CODE_TTL_MINUTES),
        used_at: None,
    };
    (code, record)
}

/// Normalizes what a user typed (case, spaces) and hashes it.
pub fn hash_code(typed: &str) -> String {
    let norm: String = typed
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect();
    hex::encode(Sha256::digest(norm.as_bytes()))
}

/// SHA-256 hex of any secret-ish identifier (refresh tokens, OAuth subjects).
pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Whether a bare message is probably a pasted code rather than a word: eight characters of
/// the code alphabet (any case) with a digit, or all in upper case as the code is shown.
/// "Homework" is not; "K7QM2XPA" and "k7qm2xpa" are.
pub fn looks_like_code(text: &str) -> bool {
    let text = text.trim();
    text.chars().count() == CODE_LEN
        && text
            .chars()
            .all(|c| c.is_ascii() && ALPHABET.contains(&(c.to_ascii_uppercase() as u8)))
        && (text.chars().any(|c| c.is_ascii_digit())
            || text.chars().all(|c| !c.is_ascii_lowercase()))
}

/// Everything in `text` that could be a code: each word of eight code characters (any case,
/// punctuation around it ignored) and the whole text without spaces when that is eight. Used
/// to spend codes shown where others can read them, so it errs on the side of finding one.
pub fn code_candidates(text: &str) -> Vec<String> {
    let is_code = |s: &str| {
        s.chars().count() == CODE_LEN
            && s.chars()
                .all(|c| c.is_ascii() && ALPHABET.contains(&(c.to_ascii_uppercase() as u8)))
    };
    let mut out: Vec<String> = text
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_ascii_alphanumeric()))
        .filter(|w| is_code(w))
        .map(str::to_string)
        .collect();
    let joined: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if is_code(&joined) && !out.contains(&joined) {
        out.push(joined);
    }
    out
}

impl LinkCode {
    pub fn usable_at(&self, now: Timestamp) -> bool {
        self.used_at.is_none() && now < self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_code_matches_regardless_of_case_and_spaces() {
        let (code, rec) = new_link_code(Uuid::new_v4(), crate::now());
        let typed = format!(" {} ", code.to_lowercase());
        assert_eq!(hash_code(&typed), rec.code_hash);
    }

    #[test]
    fn codes_are_found_inside_sentences_and_split_in_two() {
        assert_eq!(code_candidates("my code is K7QM2XPA!"), ["K7QM2XPA"]);
        assert_eq!(code_candidates("K7QM 2XPA"), ["K7QM2XPA"]);
        assert_eq!(code_candidates("abcdefgh"), ["abcdefgh"]);
        assert!(code_candidates("see you tomorrow").is_empty());
        assert!(code_candidates("").is_empty());
    }

    #[test]
    fn words_are_not_taken_for_codes() {
        for word in [
            "Whatever",
            "Thankyou",
            "Password",
            "Homework",
            "tomorrow",
            "K7QM2XP",
            "K7QM2XPA1",
        ] {
            assert!(!looks_like_code(word), "{word}");
        }
        for code in ["K7QM2XPA", "k7qm2xpa", " K7QM2XPA ", "ABCDEFGH"] {
            assert!(looks_like_code(code), "{code}");
        }
        // Look-alikes are not in the alphabet, so no code contains them.
        assert!(!looks_like_code("K7QM2XP0"));
        for _ in 0..100 {
            let (code, _) = new_link_code(Uuid::new_v4(), crate::now());
            assert!(looks_like_code(&code), "{code}");
        }
    }

    #[test]
    fn expired_or_used_codes_are_not_usable() {
        let now = crate::now();
        let (_, mut rec) = new_link_code(Uuid::new_v4(), now);
        assert!(rec.usable_at(now));
        assert!(!rec.usable_at(now + chrono::Duration::minutes(CODE_TTL_MINUTES)));
        rec.used_at = Some(now);
        assert!(!rec.usable_at(now));
    }
}
