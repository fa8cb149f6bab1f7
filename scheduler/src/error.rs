/// Everything that can go wrong when building a calendar from configuration.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// Hours were not written as `HH:MM-HH:MM`.
    #[error("invalid hours {0:?}: expected HH:MM-HH:MM, for example 09:00-14:00")]
    InvalidHours(String),
    /// The closing time is not after the opening time.
    #[error("invalid hours {0:?}: closing time must be after opening time")]
    EmptyHours(String),
    /// A date was not written as `YYYY-MM-DD`.
    #[error("invalid date {0:?}: expected YYYY-MM-DD")]
    InvalidDate(String),
    /// A special-hours entry was not written as `YYYY-MM-DD=HH:MM-HH:MM`.
    #[error("invalid special hours {0:?}: expected YYYY-MM-DD=HH:MM-HH:MM")]
    InvalidSpecialHours(String),
    /// A capacity or staffing row was not written as `"DAYS HOURS" = number`.
    #[error(
        "invalid capacity row {0:?}: expected \"DAYS HOURS\" = number, for example \"mon-fri 09-14\" = 3"
    )]
    InvalidCapacity(String),
    /// Slot rules that cannot make slots.
    #[error("invalid booking rules: {0}")]
    InvalidBookingRules(String),
}
