use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use scheduler::{Calendar, DailyHours, SERVICE_TZ};

pub fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test instants are RFC 3339")
        .to_utc()
}

pub fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test dates are YYYY-MM-DD")
}

/// An instant given as Madrid wall-clock time, `YYYY-MM-DD HH:MM`.
pub fn madrid(s: &str) -> DateTime<Utc> {
    let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
        .expect("test local times are YYYY-MM-DD HH:MM");
    SERVICE_TZ
        .from_local_datetime(&naive)
        .single()
        .expect("test local times are unambiguous")
        .to_utc()
}

pub fn standard() -> Calendar {
    Calendar::new(DailyHours::standard())
}
