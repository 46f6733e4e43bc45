//! The persistence behaviour suite, run against BOTH backends: every test listed in
//! `on_both_backends!` below becomes `sqlite::<name>` (a fresh SQLite file) and
//! `postgres::<name>` (a fresh PostgreSQL schema). PostgreSQL missing fails the postgres tests
//! with instructions; nothing is skipped.
//!
//! Run: `cargo test -p persistence --features testing --test backends`
//! (`-- sqlite::` or `-- postgres::` for one backend).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod attempts;
mod common;
mod content;
mod course;
mod links;
mod migrations;
mod schema;
mod sessions;
mod tokens;
mod users;

macro_rules! on_both_backends {
    ($($module:ident :: $name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    let (db, _dir) = persistence::testing::fresh_sqlite();
                    crate::$module::$name(&db);
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    let db = persistence::testing::fresh_postgres();
                    crate::$module::$name(&db);
                }
            )*
        }
    };
}

on_both_backends! {
    users::usernames_are_unique_regardless_of_case,
    users::racing_signups_for_one_username_let_exactly_one_win,
    users::external_and_telegram_ids_are_unique,
    users::users_are_found_by_every_key_and_role_changes_stick,
    users::stored_times_come_back_equal_and_utc,
    tokens::refresh_token_rotates_once_and_reuse_returns_false,
    tokens::racing_rotations_of_one_token_let_exactly_one_win,
    tokens::revoking_a_family_stops_its_rotation,
    links::link_code_is_consumed_once,
    links::expired_link_code_is_rejected,
    links::spent_and_expired_codes_are_cleared_by_new_ones,
    content::slugs_are_unique_per_parent,
    content::deleting_a_topic_cascades_to_lessons_tasks_and_attempts,
    content::deleting_content_with_attempts_needs_force,
    content::new_items_are_appended_and_reorder_needs_every_item,
    content::patches_change_only_given_fields_and_unpublished_items_hide,
    content::task_data_is_validated_on_write,
    content::corrupt_task_data_row_is_rejected_on_read,
    content::check_constraints_refuse_unknown_enum_values,
    attempts::attempt_lifecycle_records_the_first_accepted_attempt_as_the_solution_once,
    attempts::unfinished_attempts_are_listed_oldest_first,
    attempts::claiming_an_attempt_succeeds_once_and_finishing_needs_a_claim,
    attempts::racing_claims_of_one_attempt_let_exactly_one_win,
    attempts::only_stale_running_attempts_are_requeued,
    attempts::the_in_flight_cap_counts_only_unfinished_attempts_of_the_user,
    attempts::racing_capped_inserts_of_one_user_stay_under_the_cap,
    attempts::a_rejudge_requeues_only_finished_attempts_and_clears_their_report,
    attempts::a_lost_solution_moves_to_the_next_accepted_attempt,
    attempts::attempts_page_newest_first_and_filter_by_task,
    attempts::corrupt_attempt_rows_are_rejected_on_read,
    attempts::feedback_round_trips_in_order,
    attempts::attempts_for_missing_tasks_are_conflicts,
    sessions::saved_session_is_found_by_the_id_it_was_saved_under,
    sessions::session_state_must_be_an_object_within_the_cap,
    course::humaneval_import_is_idempotent,
    course::course_with_one_bad_field_writes_nothing,
    course::course_with_control_characters_is_refused_naming_item_and_field,
    course::import_failing_midway_writes_nothing,
    course::export_then_import_is_a_round_trip,
    course::reimport_updates_in_place_and_keeps_unlisted_items,
    migrations::migrations_go_up_down_and_up_again,
    schema::schema_rs_matches_the_migrated_tables,
}
