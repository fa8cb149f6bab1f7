//! Citizen identity checks: the ID number's format and check letter, the contrast data, and
//! the verification against the identity registry that turns them into an application.

mod contrast;
mod id_number;
mod verify;

pub use contrast::{Contrast, ContrastError, PERMANENT, parse_iso, parse_support_number};
pub use id_number::{DniNie, IdKind, IdNumberError, check_letter};
pub use verify::{Issued, Outcome, TestCall, VerifyPolicy, issue_application, verify_and_apply};
