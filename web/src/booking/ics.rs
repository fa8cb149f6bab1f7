//! The appointment as an iCalendar file (RFC 5545) to add to a calendar: the times in Madrid
//! local time with `TZID=Europe/Madrid`, and the zone's rules (`VTIMEZONE`) in the file, so
//! that a calendar in any zone shows the right hour on either side of a DST change.
//!
//! Written by hand: an event, a fixed zone block, escaping and line folding are all the file
//! needs, and the Rust iCalendar crates do not write a `VTIMEZONE`. The end-to-end tests parse
//! it with Python's `icalendar`.

use chrono::{DateTime, Utc};
use scheduler::SERVICE_TZ;

/// What the file says.
#[derive(Debug, Clone)]
pub struct Appointment<'a> {
    /// A unique id for the event (stable for one booking: a second download updates it).
    pub uid: &'a str,
    /// The slot.
    pub starts: DateTime<Utc>,
    /// Its end.
    pub ends: DateTime<Utc>,
    /// When the file was made.
    pub stamp: DateTime<Utc>,
    /// The title.
    pub summary: &'a str,
    /// The text (reference, what to bring, the page to open).
    pub description: &'a str,
}

/// Europe/Madrid's rules since 1996: CEST from the last Sunday of March at 02:00, CET from
/// the last Sunday of October at 03:00.
const MADRID: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Madrid\r\n\
BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\n\
DTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n\
BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\n\
DTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n\
END:VTIMEZONE\r\n";

/// The `.ics` text.
pub fn appointment(a: &Appointment<'_>) -> String {
    let local = |t: DateTime<Utc>| t.with_timezone(&SERVICE_TZ).format("%Y%m%dT%H%M%S");
    let mut out = String::from(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//videoreg//cita previa//ES\r\nCALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\n",
    );
    out.push_str(MADRID);
    let lines = [
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}", text(a.uid)),
        format!("DTSTAMP:{}", a.stamp.format("%Y%m%dT%H%M%SZ")),
        format!("DTSTART;TZID=Europe/Madrid:{}", local(a.starts)),
        format!("DTEND;TZID=Europe/Madrid:{}", local(a.ends)),
        format!("SUMMARY:{}", text(a.summary)),
        format!("DESCRIPTION:{}", text(a.description)),
        "BEGIN:VALARM".to_owned(),
        "ACTION:DISPLAY".to_owned(),
        format!("DESCRIPTION:{}", text(a.summary)),
        "TRIGGER:-PT15M".to_owned(),
        "END:VALARM".to_owned(),
        "END:VEVENT".to_owned(),
        "END:VCALENDAR".to_owned(),
    ];
    for line in lines {
        fold(&line, &mut out);
    }
    out
}

/// A TEXT value escaped (RFC 5545 §3.3.11).
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends `line` folded at 75 octets (continuations start with a space), never inside a
/// character, with CRLF.
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("time").to_utc()
    }

    fn sample(starts: &str, description: &str) -> String {
        appointment(&Appointment {
            uid: "b-1@videoreg",
            starts: utc(starts),
            ends: utc(starts) + chrono::TimeDelta::minutes(10),
            stamp: utc("2026-12-04T12:00:00Z"),
            summary: "Cita Cl@ve, videollamada",
            description,
        })
    }

    #[test]
    fn times_are_madrid_local_with_the_zone_in_winter_and_summer() {
        let winter = sample("2026-12-07T08:10:00Z", "x");
        assert!(winter.contains("DTSTART;TZID=Europe/Madrid:20261207T091000\r\n"));
        assert!(winter.contains("DTEND;TZID=Europe/Madrid:20261207T092000\r\n"));
        assert!(winter.contains("TZID:Europe/Madrid\r\n"));
        let summer = sample("2027-06-07T07:10:00Z", "x");
        assert!(summer.contains("DTSTART;TZID=Europe/Madrid:20270607T091000\r\n"));
        assert!(winter.starts_with("BEGIN:VCALENDAR\r\n") && winter.ends_with("END:VCALENDAR\r\n"));
    }

    #[test]
    fn text_is_escaped_and_long_lines_fold_between_characters() {
        let long = "Referencia ABCD-EFGH; traiga su DNI, y abra la página. ".repeat(4) + "\nFin";
        let ics = sample("2026-12-07T08:10:00Z", &long);
        assert!(ics.contains("ABCD-EFGH\\; traiga su DNI\\, y"));
        assert!(ics.contains("\\nFin"));
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "{line:?} is {} octets", line.len());
        }
        // Unfolded, the description is whole again.
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("DESCRIPTION:{}", text(&long))));
    }
}
