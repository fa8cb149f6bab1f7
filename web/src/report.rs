//! `videoreg report --date YYYY-MM-DD`: the daily report as CSV on standard output, the same
//! rows as `/supervisor/report?format=csv`.

use agent_console::supervisor::day::DayFacts;
use agent_console::supervisor::report;
use chrono::NaiveDate;
use store::Store;

use crate::Error;

/// The report of a Madrid date as CSV text.
pub async fn csv_for(store: &Store, date: NaiveDate) -> Result<String, Error> {
    let facts = DayFacts::load(store, date).await.map_err(console_error)?;
    let rows: Vec<_> = facts.rows.iter().map(report::row).collect();
    report::to_csv(&rows).map_err(console_error)
}

fn console_error(e: agent_console::Error) -> Error {
    Error::Report(e.to_string())
}
