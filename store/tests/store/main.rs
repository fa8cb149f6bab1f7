//! Every repository function, run against SQLite and against PostgreSQL.

mod bookings;
mod cases;
mod challenges;
mod citizens;
mod evidence;
mod helpers;
mod queue;
mod reports;
mod retention;
mod reviews;
mod service_order;
mod staff;
mod throttle;
mod transitions;
mod verification;

on_both_backends!(
    bookings::a_slot_fills_to_its_capacity_and_an_id_number_has_one_live_booking,
    bookings::simultaneous_bookings_never_overfill_a_slot,
    bookings::a_booking_is_settled_once_and_missed_ones_become_no_shows,
    queue::one_live_ticket_per_id_number_and_a_second_tab_gets_the_same_place,
    queue::the_queue_is_fifo_and_requeued_tickets_go_to_the_head,
    queue::concurrent_claims_never_give_two_agents_the_same_citizen,
    queue::calls_record_every_instant_and_handle_times_come_from_them,
    queue::abandonment_counts_who_left_and_how_long_everyone_waited,
    queue::disconnected_citizens_are_abandoned_after_the_grace_period,
    queue::agent_states_are_kept_and_counted,
    queue::simultaneous_joins_all_get_a_place_in_arrival_order,
    service_order::claims_follow_the_scheduler_service_order,
    transitions::calls_whose_citizen_stays_away_end,
    transitions::a_step_and_its_audit_event_are_written_together_or_not_at_all,
    staff::staff_accounts_are_created_found_listed_and_changed,
    staff::totp_steps_are_accepted_once_and_in_order,
    staff::staff_sessions_move_through_their_stages_and_end,
    reports::a_days_tickets_decisions_and_state_changes_are_read_back,
    cases::migrations_are_idempotent,
    cases::identities_upsert_and_find,
    cases::identity_import_is_all_or_nothing,
    cases::large_imports_cross_statement_batches,
    cases::applications_are_found_by_token_hash_until_they_expire,
    cases::application_tokens_are_unique,
    cases::audit_events_append_in_order,
    cases::recent_audit_lists_newest_first,
    cases::a_test_call_result_is_taken_once_before_it_expires,
    cases::test_calls_are_counted_by_network_path_within_a_day,
    cases::the_bus_carries_small_and_large_messages_between_nodes,
    verification::stills_are_stored_with_their_audit_event_and_read_back,
    challenges::a_challenge_is_settled_once_and_never_after_it_expires,
    reviews::a_flag_stops_activation_until_an_auditor_clears_it,
    reviews::a_revoked_registration_stays_stopped,
    challenges::a_new_challenge_replaces_the_live_one_and_only_a_pass_in_the_call_counts,
    verification::an_approval_writes_ticket_registration_code_decision_and_audit_at_once,
    verification::an_id_number_is_registered_once_and_a_refused_approval_writes_nothing,
    verification::an_abort_puts_the_citizen_back_at_the_head,
    verification::unaccepted_offers_lapse_and_wrap_ups_end,
    verification::the_audit_chain_verifies_and_finds_an_edited_row,
    verification::the_audit_chain_finds_a_deleted_row_and_a_deleted_newest_row,
    verification::concurrent_appends_keep_one_chain,
    citizens::activation_uses_the_code_once_and_sets_the_credential,
    citizens::activation_says_why_nothing_was_written,
    throttle::concurrent_attempts_are_each_counted_exactly_once,
    throttle::a_refused_attempt_rolls_its_count_back,
    throttle::a_quiet_counter_starts_again_and_is_pruned,
    throttle::an_id_numbers_counters_are_cleared_together,
    throttle::staff_failures_read_back_from_the_name_counter,
    throttle::a_test_call_allows_a_few_contrast_checks_even_concurrently,
    evidence::a_null_hash_reset_of_the_audit_chain_fails_verification,
    evidence::a_head_whose_count_disagrees_with_the_chain_fails_verification,
    evidence::a_deleted_newest_event_with_a_rewound_head_fails_against_the_anchor,
    evidence::a_rewritten_chain_fails_against_the_anchor_and_a_longer_one_passes,
    evidence::totp_secrets_are_not_readable_in_the_database,
    evidence::clear_totp_secrets_of_older_versions_are_sealed_once,
    retention::a_sealed_recording_is_read_back_with_its_audit_event_and_sealed_once,
    retention::recordings_are_due_by_their_own_retention_and_never_when_held,
    retention::two_purging_at_once_purge_each_recording_once_and_the_chain_verifies,
    retention::purged_stills_lose_their_bytes_and_keep_their_row,
);
