//! Every repository function, run against SQLite and against PostgreSQL.

mod cases;
mod helpers;

on_both_backends!(
    migrations_are_idempotent,
    identities_upsert_and_find,
    identity_import_is_all_or_nothing,
    large_imports_cross_statement_batches,
    applications_are_found_by_token_hash_until_they_expire,
    application_tokens_are_unique,
    verification_failures_are_counted_per_id_and_address_within_the_window,
    old_verification_failures_are_pruned,
    audit_events_append_in_order,
);
