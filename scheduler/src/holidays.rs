//! Spain's national holidays (fiestas nacionales de ámbito estatal), including Good Friday,
//! which moves with Easter.

use chrono::{Datelike, Days, NaiveDate};

/// Easter Sunday of `year` in the Gregorian calendar (anonymous Gregorian algorithm, valid
/// for every year chrono can represent after 1583). `None` only if the date is out of range.
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

/// The national holidays of `year`, in date order: 1 Jan, 6 Jan, Good Friday, 1 May, 15 Aug,
/// 12 Oct, 1 Nov, 6 Dec, 8 Dec and 25 Dec.
pub fn national_holidays(year: i32) -> Vec<NaiveDate> {
    let fixed = [
        (1, 1),
        (1, 6),
        (5, 1),
        (8, 15),
        (10, 12),
        (11, 1),
        (12, 6),
        (12, 8),
        (12, 25),
    ];
    let mut days: Vec<NaiveDate> = fixed
        .iter()
        .filter_map(|&(m, d)| NaiveDate::from_ymd_opt(year, m, d))
        .collect();
    if let Some(good_friday) = easter_sunday(year).and_then(|e| e.checked_sub_days(Days::new(2))) {
        days.push(good_friday);
    }
    days.sort();
    days
}

/// Whether `date` is a national holiday.
pub fn is_national_holiday(date: NaiveDate) -> bool {
    national_holidays(date.year()).contains(&date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn easter_matches_published_dates() {
        assert_eq!(easter_sunday(2024), Some(d(2024, 3, 31)));
        assert_eq!(easter_sunday(2025), Some(d(2025, 4, 20)));
        assert_eq!(easter_sunday(2026), Some(d(2026, 4, 5)));
        assert_eq!(easter_sunday(2027), Some(d(2027, 3, 28)));
        assert_eq!(easter_sunday(2028), Some(d(2028, 4, 16)));
        assert_eq!(easter_sunday(2029), Some(d(2029, 4, 1)));
        assert_eq!(easter_sunday(2030), Some(d(2030, 4, 21)));
        assert_eq!(easter_sunday(2038), Some(d(2038, 4, 25)));
        assert_eq!(easter_sunday(2285), Some(d(2285, 3, 22)));
    }

    #[test]
    fn good_friday_is_two_days_before_easter() {
        assert!(national_holidays(2026).contains(&d(2026, 4, 3)));
        assert!(national_holidays(2027).contains(&d(2027, 3, 26)));
        assert!(
            !national_holidays(2026).contains(&d(2026, 4, 6)),
            "Easter Monday is regional"
        );
    }

    #[test]
    fn a_year_has_ten_national_holidays() {
        for year in 2026..=2030 {
            assert_eq!(national_holidays(year).len(), 10, "{year}");
        }
    }
}
