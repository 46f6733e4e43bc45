//! Campus's Telegram bot.
//!
//! A student asks the web API for a one-time link code (`POST /me/telegram/link-code`) and sends
//! it to the bot (`/link CODE`, a `t.me/<bot>?start=CODE` deep link, or just the code); the bot
//! links the Telegram account that sent it to their Campus account. `/me` shows the linked
//! account and its progress, `/unlink` undoes the link.
//!
//! - [`conversation`]: what the bot answers to one message, over `domain`'s ports and services
//!   (no Telegram types; storage calls run on the blocking pool).
//! - [`bot`]: the teloxide long-polling loop around it, with a graceful stop.
//! - `testing` (feature): a fake Telegram Bot API server on 127.0.0.1 for tests.
//!
//! Exactly one bot process may poll one token (Telegram refuses a second `getUpdates`), so the
//! bot runs as its own command (`campus bot`), not inside every API instance.

pub mod bot;
pub mod conversation;
#[cfg(feature = "testing")]
pub mod testing;

pub use bot::{run, BotSettings, RunError};
pub use conversation::{Conversation, Incoming, Store};
