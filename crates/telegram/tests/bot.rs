//! The bot end to end: teloxide polling a fake Bot API on 127.0.0.1, a real SQLite database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{add_student, code_for, run_bot, settings, Running, TOKEN};
use domain::{
    link::{new_link_code, CODE_TTL_MINUTES},
    ports::{LinkRepo, UserRepo},
    rate_limit::Quota,
    services::telegram::{redeem_link_code, LinkOutcome},
};
use persistence::{rate_limit::MemoryLimiter, testing::fresh_sqlite, Database};
use std::{sync::Arc, time::Duration};
use telegram::{
    conversation::{CODE_BURNED, HELP_INTRO, INVALID_CODE, NOT_LINKED, PRIVATE_ONLY},
    testing::FakeBotApi,
    Conversation, Incoming, RunError,
};

#[actix_web::test]
async fn a_student_links_checks_and_unlinks_over_the_bot_api() {
    let (db, _dir) = fresh_sqlite();
    let db = Arc::new(db);
    let alice = add_student(&db, "alice");
    let code = code_for(&db, &alice);
    let bot = Running::start(db.clone()).await;

    assert!(bot.ask(555, "/me").await.contains(NOT_LINKED));
    let linked = bot.ask(555, &format!("/link {code}")).await;
    assert!(
        linked.contains("Linked to the Campus account alice"),
        "{linked}"
    );
    assert_eq!(db.user_by_telegram_id(555).unwrap().unwrap().id, alice.id);

    let me = bot.ask(555, "/me").await;
    assert_eq!(me, "Linked to alice. Solved 0 of 0 tasks.");

    // The code worked once: another Telegram account cannot use it again.
    assert_eq!(bot.ask(556, &format!("/link {code}")).await, INVALID_CODE);
    assert!(db.user_by_telegram_id(556).unwrap().is_none());

    let unlinked = bot.ask(555, "/unlink").await;
    assert!(
        unlinked.contains("Unlinked from the Campus account alice"),
        "{unlinked}"
    );
    assert!(db
        .user_by_id(alice.id)
        .unwrap()
        .unwrap()
        .telegram_user_id
        .is_none());
    assert_eq!(bot.ask(555, "/unlink").await, NOT_LINKED);

    let calls = bot.api.calls();
    for method in ["getme", "setmycommands", "getupdates", "sendmessage"] {
        assert!(
            calls.iter().any(|c| c == method),
            "{method} not called: {calls:?}"
        );
    }
    bot.stop().await.expect("the bot stops cleanly");
}

#[actix_web::test]
async fn deep_links_and_pasted_codes_link_too() {
    let (db, _dir) = fresh_sqlite();
    let db = Arc::new(db);
    let (alice, bob) = (add_student(&db, "alice"), add_student(&db, "bob"));
    let bot = Running::start(db.clone()).await;

    // t.me/<bot>?start=CODE arrives as "/start CODE".
    let a = code_for(&db, &alice);
    assert!(bot.ask(601, &format!("/start {a}")).await.contains("alice"));
    // A code pasted on its own, as shown (any case works when it has a digit; see
    // `domain::link::looks_like_code`).
    let b = code_for(&db, &bob);
    assert!(bot.ask(602, &format!(" {b} ")).await.contains("bob"));
    assert_eq!(db.user_by_telegram_id(601).unwrap().unwrap().id, alice.id);
    assert_eq!(db.user_by_telegram_id(602).unwrap().unwrap().id, bob.id);

    // Plain /start and unknown text get the help, which names every command.
    let help = bot.ask(603, "/start").await;
    for command in ["/link", "/me", "/unlink", "/help"] {
        assert!(help.contains(command), "{command} missing from {help}");
    }
    assert_eq!(bot.ask(603, "hello there").await, help);
    bot.stop().await.unwrap();
}

#[actix_web::test]
async fn account_commands_stay_out_of_groups_and_codes_shown_there_are_spent() {
    let (db, _dir) = fresh_sqlite();
    let db = Arc::new(db);
    let alice = add_student(&db, "alice");
    let bot = Running::start(db.clone()).await;
    let group = Some(-1001);

    // Sends `text` to the group and returns the bot's answer to it, if any (chatter that is not
    // for the bot gets none; a later /help proves the silence was not slowness).
    let in_group = |text: String| {
        let api = &bot.api;
        async move {
            let n = api.replies().len();
            api.send_text(700, group, &text);
            api.send_text(700, group, "/help@campus_test_bot");
            let replies = api.wait_for_replies(n + 1, Duration::from_secs(20)).await;
            let answered = replies.len() == n + 2 || !replies[n].text.starts_with(HELP_INTRO);
            let replies = if answered {
                api.wait_for_replies(n + 2, Duration::from_secs(20)).await
            } else {
                replies
            };
            assert!(replies.iter().skip(n).all(|r| r.chat_id == -1001));
            assert!(
                replies.last().unwrap().text.contains("/link"),
                "/help answers in groups"
            );
            answered.then(|| replies[n].text.clone())
        }
    };

    // A code posted in the group, as a command or bare, is spent and does not link.
    for shown in [
        format!("/link {}", code_for(&db, &alice)),
        code_for(&db, &alice),
    ] {
        let code = shown.trim_start_matches("/link ").to_string();
        assert_eq!(in_group(shown).await.as_deref(), Some(CODE_BURNED));
        assert!(db.user_by_telegram_id(700).unwrap().is_none());
        assert_eq!(bot.ask(701, &format!("/link {code}")).await, INVALID_CODE);
    }
    // Inside a sentence, or split in two, it is spent as well.
    for shown in [format!("my link code is {}, ok?", code_for(&db, &alice)), {
        let c = code_for(&db, &alice);
        format!("{} {}", &c[..4], &c[4..])
    }] {
        assert_eq!(
            in_group(shown.clone()).await.as_deref(),
            Some(CODE_BURNED),
            "{shown}"
        );
        assert!(db.user_by_telegram_id(700).unwrap().is_none());
    }
    assert_eq!(in_group("see you tomorrow".into()).await, None);
    assert_eq!(in_group("Homework".into()).await, None);

    // Linked privately, account commands still stay out of the group.
    assert!(bot
        .ask(700, &format!("/link {}", code_for(&db, &alice)))
        .await
        .contains("alice"));
    for command in ["/me", "/unlink", "/me@campus_test_bot", "/link"] {
        assert_eq!(
            in_group(command.into()).await.as_deref(),
            Some(PRIVATE_ONLY),
            "{command}"
        );
    }
    assert_eq!(
        db.user_by_telegram_id(700).unwrap().unwrap().id,
        alice.id,
        "still linked"
    );
    bot.stop().await.unwrap();
}

#[actix_web::test]
async fn words_are_not_code_attempts_and_spend_no_link_budget() {
    let (db, _dir) = fresh_sqlite();
    let db: Arc<Database> = Arc::new(db);
    let alice = add_student(&db, "alice");
    let conversation = link_limited(&db, 1);
    for word in ["Homework", "Whatever", "Thankyou", "tomorrow"] {
        let reply = conversation
            .reply(Incoming {
                telegram_user_id: 5,
                private_chat: true,
                text: word,
            })
            .await
            .unwrap();
        assert!(reply.contains("/link"), "{word} gets the help: {reply}");
    }
    let code = code_for(&db, &alice);
    let reply = conversation
        .reply(Incoming {
            telegram_user_id: 5,
            private_chat: true,
            text: &code,
        })
        .await
        .unwrap();
    assert!(
        reply.contains("alice"),
        "the one link attempt is still there: {reply}"
    );
}

#[actix_web::test]
async fn a_linked_telegram_account_must_unlink_before_linking_another() {
    let (db, _dir) = fresh_sqlite();
    let db = Arc::new(db);
    let (alice, bob) = (add_student(&db, "alice"), add_student(&db, "bob"));
    let bot = Running::start(db.clone()).await;
    bot.ask(800, &format!("/link {}", code_for(&db, &alice)))
        .await;

    let bob_code = code_for(&db, &bob);
    let refused = bot.ask(800, &format!("/link {bob_code}")).await;
    assert!(refused.contains("already linked to alice"), "{refused}");
    // Bob's code was not spent: his own Telegram account can still use it.
    assert!(bot
        .ask(801, &format!("/link {bob_code}"))
        .await
        .contains("bob"));
    assert_eq!(db.user_by_telegram_id(800).unwrap().unwrap().id, alice.id);
    bot.stop().await.unwrap();
}

#[test]
fn expired_and_malformed_codes_do_not_link() {
    let (db, _dir) = fresh_sqlite();
    let alice = add_student(&db, "alice");
    let now = domain::now();
    let (code, record) = new_link_code(alice.id, now);
    db.insert_link_code(&record).unwrap();
    let later = now + chrono::Duration::minutes(CODE_TTL_MINUTES) + chrono::Duration::seconds(1);
    assert_eq!(
        redeem_link_code(&db, &db, &code, 900, later).unwrap(),
        LinkOutcome::InvalidCode
    );
    for garbage in [
        "",
        "x",
        "'; DROP TABLE users; --",
        &"A".repeat(10_000),
        "ÄÖÜ12345",
    ] {
        assert_eq!(
            redeem_link_code(&db, &db, garbage, 900, now).unwrap(),
            LinkOutcome::InvalidCode
        );
    }
    assert!(db.user_by_telegram_id(900).unwrap().is_none());
}

#[actix_web::test]
async fn link_attempts_are_rate_limited_per_telegram_account() {
    let (db, _dir) = fresh_sqlite();
    let db: Arc<Database> = Arc::new(db);
    let alice = add_student(&db, "alice");
    let conversation = link_limited(&db, 3);
    let say = |tg: i64, text: String| {
        let c = conversation.clone();
        async move {
            c.reply(Incoming {
                telegram_user_id: tg,
                private_chat: true,
                text: &text,
            })
            .await
            .unwrap()
        }
    };
    for _ in 0..3 {
        assert_eq!(say(1, "/link WRONG234".into()).await, INVALID_CODE);
    }
    let limited = say(1, "/link WRONG234".into()).await;
    assert!(limited.starts_with("Too many"), "{limited}");
    // Even a right code waits: guessing stops at the budget, whatever is guessed.
    let code = code_for(&db, &alice);
    assert!(say(1, format!("/link {code}"))
        .await
        .starts_with("Too many"));
    assert!(db.user_by_telegram_id(1).unwrap().is_none());
    // Another Telegram account has its own budget.
    assert!(say(2, format!("/link {code}")).await.contains("alice"));
}

#[actix_web::test]
async fn a_wrong_token_stops_the_bot_at_start_without_printing_the_token() {
    let api = FakeBotApi::start(TOKEN).await.unwrap();
    let wrong = "999999:the-wrong-token-BBBBBBBBBBBBBBBBBBBBBBBBBBBB";
    let (db, _dir) = fresh_sqlite();
    let db = Arc::new(db);
    let settings = settings(wrong, &api.url);
    assert!(!format!("{settings:?}").contains("wrong-token"));
    let err = run_bot(settings, db, std::future::pending())
        .await
        .expect_err("a refused getMe is an error");
    assert!(matches!(err, RunError::Api(_)), "{err:?}");
    assert!(!err.to_string().contains("wrong-token"), "{err}");
    assert!(api.paths().iter().any(|p| p.contains("wrong-token")));
}

#[actix_web::test]
async fn an_unreachable_bot_api_is_a_clear_error() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (db, _dir) = fresh_sqlite();
    let db = Arc::new(db);
    let url = format!("http://127.0.0.1:{port}/");
    let err = run_bot(settings(TOKEN, &url), db, std::future::pending())
        .await
        .expect_err("no Bot API is an error");
    assert!(matches!(err, RunError::Api(_)), "{err:?}");
    assert!(!err.to_string().contains("test-token"), "{err}");
}

/// Asked to stop while the Bot API hangs (at start, or in a long poll), the bot still returns
/// `Ok` within its grace period.
#[actix_web::test]
async fn a_hanging_bot_api_does_not_hold_a_stop() {
    for method in ["getMe", "getUpdates"] {
        let (db, _dir) = fresh_sqlite();
        let db = Arc::new(db);
        let api = FakeBotApi::start(TOKEN).await.unwrap();
        api.hang(method);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(run_bot(settings(TOKEN, &api.url), db, async move {
            let _ = rx.await;
        }));
        // Wait until the bot is inside the hanging call.
        let lower = method.to_ascii_lowercase();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while !api.calls().contains(&lower) {
            assert!(
                std::time::Instant::now() < deadline,
                "{method} never called"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let asked = std::time::Instant::now();
        tx.send(()).unwrap();
        let result = tokio::time::timeout(telegram::bot::STOP_GRACE + Duration::from_secs(3), task)
            .await
            .unwrap_or_else(|_| panic!("stopped within the grace period while {method} hangs"))
            .unwrap();
        assert!(result.is_ok(), "{method}: {result:?}");
        assert!(asked.elapsed() <= telegram::bot::STOP_GRACE + Duration::from_secs(1));
        api.stop().await;
    }
}

#[actix_web::test]
async fn a_reply_refused_by_flood_control_is_sent_after_the_wait() {
    let (db, _dir) = fresh_sqlite();
    let bot = Running::start(Arc::new(db)).await;
    bot.api.flood(1);
    let started = std::time::Instant::now();
    let help = bot.ask(42, "/help").await;
    assert!(help.starts_with(HELP_INTRO), "{help}");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "it waited as told"
    );
    bot.stop().await.unwrap();
}

/// A conversation allowing `limit` link attempts a minute per Telegram account.
fn link_limited(db: &Arc<Database>, limit: u32) -> Conversation {
    let quota = Quota {
        limit,
        window_secs: 60,
    };
    let limiter = Arc::new(MemoryLimiter::default());
    Conversation::new(db.clone(), Some(limiter), Some(quota), None, "b")
}
