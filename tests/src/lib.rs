//! End-to-end tests for videoreg live in `e2e/`; this library is empty on purpose: the crate exists to hold them.
