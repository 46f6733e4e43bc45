//! The one diesel schema for both backends. It mirrors `migrations/{postgres,sqlite}`; the test
//! `schema_rs_matches_the_migrated_tables` compares this file with the migrated databases, so a
//! table or column missing on either side fails the build's tests.

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        username_key -> Text,
        role -> Text,
        password_hash -> Nullable<Text>,
        external_id_hash -> Nullable<Text>,
        telegram_user_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        family_id -> Text,
        user_id -> Text,
        expires_at -> Timestamp,
        created_at -> Timestamp,
        rotated_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    topics (id) {
        id -> Text,
        slug -> Text,
        title -> Text,
        description -> Text,
        position -> Integer,
        published -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    lessons (id) {
        id -> Text,
        topic_id -> Text,
        slug -> Text,
        title -> Text,
        kind -> Text,
        body -> Text,
        position -> Integer,
        published -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    tasks (id) {
        id -> Text,
        lesson_id -> Text,
        slug -> Text,
        title -> Text,
        kind -> Text,
        position -> Integer,
        published -> Bool,
        data -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    attempts (id) {
        id -> Text,
        user_id -> Text,
        task_id -> Text,
        input -> Text,
        status -> Text,
        verdict -> Nullable<Text>,
        score -> Nullable<Double>,
        report -> Nullable<Text>,
        created_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    solutions (user_id, task_id) {
        user_id -> Text,
        task_id -> Text,
        attempt_id -> Text,
        solved_at -> Timestamp,
    }
}

diesel::table! {
    feedback (id) {
        id -> Text,
        attempt_id -> Text,
        body -> Text,
        author -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    saved_sessions (id) {
        id -> Text,
        owner_id -> Text,
        task_id -> Nullable<Text>,
        state -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    link_codes (code_hash) {
        code_hash -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(lessons -> topics (topic_id));
diesel::joinable!(tasks -> lessons (lesson_id));
diesel::joinable!(attempts -> users (user_id));
diesel::joinable!(attempts -> tasks (task_id));
diesel::joinable!(solutions -> attempts (attempt_id));
diesel::joinable!(feedback -> attempts (attempt_id));
diesel::joinable!(saved_sessions -> users (owner_id));
diesel::joinable!(link_codes -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    refresh_tokens,
    topics,
    lessons,
    tasks,
    attempts,
    solutions,
    feedback,
    saved_sessions,
    link_codes,
);
