//! The typed values of options that are not plain numbers or text: a UDP port range, what
//! happens at closing, and the rows of the booking hour tables.

use serde::Deserialize;

/// A range of UDP ports, `FIRST-LAST`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct PortRange {
    /// First port.
    pub first: u16,
    /// Last port (inclusive).
    pub last: u16,
}

impl std::str::FromStr for PortRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("invalid port range {s:?}: expected FIRST-LAST, e.g. 40000-40999");
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let (first, last): (u16, u16) = (
            a.trim().parse().map_err(|_| bad())?,
            b.trim().parse().map_err(|_| bad())?,
        );
        if first == 0 || last < first {
            return Err(bad());
        }
        Ok(Self { first, last })
    }
}

impl TryFrom<String> for PortRange {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

/// What happens at closing, as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AtClosingArg {
    /// Serve everyone admitted.
    Serve,
    /// End the waiting tickets.
    Expire,
}

/// One row of an hour table (`--booking-capacity`, `--booking-staffing`): `DAYS HOURS=N`,
/// e.g. `mon-fri 09-14=3`, checked by the table's own parser.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct HourRow {
    /// `DAYS HOURS`.
    pub key: String,
    /// `N`.
    pub value: u32,
}

impl std::str::FromStr for HourRow {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = |why: String| {
            format!("invalid row {s:?}: {why}; expected DAYS HOURS=N, e.g. mon-fri 09-14=3")
        };
        let (key, value) = s.split_once('=').ok_or_else(|| bad("no '='".into()))?;
        let value: u32 = value
            .trim()
            .parse()
            .map_err(|_| bad("N is not a whole number".into()))?;
        let key = key.trim().to_owned();
        scheduler::booking::HourTable::parse([(key.as_str(), value)])
            .map_err(|e| bad(e.to_string()))?;
        Ok(Self { key, value })
    }
}

impl TryFrom<String> for HourRow {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}
