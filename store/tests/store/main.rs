//! Every repository function, run against SQLite and against PostgreSQL.

mod cases;
mod helpers;
mod staff;

on_both_backends!(
    staff::staff_accounts_are_created_found_listed_and_changed,
    staff::totp_steps_are_accepted_once_and_in_order,
    staff::login_failures_are_counted_by_name_and_by_address,
    staff::staff_sessions_move_through_their_stages_and_end,
    cases::migrations_are_idempotent,
    cases::identities_upsert_and_find,
    cases::identity_import_is_all_or_nothing,
    cases::large_imports_cross_statement_batches,
    cases::applications_are_found_by_token_hash_until_they_expire,
    cases::application_tokens_are_unique,
    cases::verification_failures_are_counted_per_id_and_address_within_the_window,
    cases::old_verification_failures_are_pruned,
    cases::audit_events_append_in_order,
    cases::recent_audit_lists_newest_first,
);
