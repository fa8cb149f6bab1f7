//! The typed values of options that are not plain numbers or text: a UDP port range and
//! what happens at closing.

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
