//! Filling the identity registry: `videoreg identities import FILE.csv`, and the fictional
//! records the demo seeds.
//!
//! CSV columns (header row required, any order): `id_number`, `full_name`, `valid_until`,
//! `issued_on`, `support_number`, and optionally `birth_date`. Dates are `YYYY-MM-DD`. A DNI needs `valid_until`
//! (`9999-01-01` for a permanent DNI, which then needs `issued_on`); a NIE needs
//! `support_number` (E or C and 8 digits). Every line is checked before anything is written;
//! one bad line and nothing is imported.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use store::{IdentityKind, IdentityRecord, Store};

use crate::Error;
use crate::identity::{DniNie, IdKind, PERMANENT, parse_iso, parse_support_number};

/// Files larger than this are refused before reading.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;
/// At most this many records per file.
pub const MAX_RECORDS: usize = 2_000_000;
/// At most this many bad lines are listed; the count of the rest follows.
const MAX_REPORTED: usize = 50;
const COLUMNS: [&str; 6] = [
    "id_number",
    "full_name",
    "valid_until",
    "issued_on",
    "support_number",
    "birth_date",
];

/// Reads, checks and imports a CSV file; returns how many records were written.
pub async fn import_file(store: &Store, path: &Path, now: DateTime<Utc>) -> Result<u64, Error> {
    let size = std::fs::metadata(path)
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(Error::Import(format!(
            "{} is larger than 256 MiB; split it",
            path.display()
        )));
    }
    let bytes =
        std::fs::read(path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    let records = parse_csv(&bytes).map_err(|lines| {
        Error::Import(format!(
            "{}: nothing was imported.\n{}",
            path.display(),
            lines.join("\n")
        ))
    })?;
    Ok(store.upsert_identities(&records, now).await?)
}

/// Checks every line; returns the records, or one message per bad line.
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<IdentityRecord>, Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(bytes);
    let header = reader
        .headers()
        .map_err(|e| vec![format!("line 1: {e}")])?
        .clone();
    let mut index = HashMap::new();
    let mut errors = Vec::new();
    for (i, name) in header.iter().enumerate() {
        if !COLUMNS.contains(&name) {
            errors.push(format!(
                "line 1: unknown column {name:?} (expected {})",
                COLUMNS.join(", ")
            ));
        } else if index.insert(name.to_owned(), i).is_some() {
            errors.push(format!("line 1: column {name:?} appears twice"));
        }
    }
    for needed in ["id_number", "full_name"] {
        if !index.contains_key(needed) {
            errors.push(format!("line 1: missing column {needed:?}"));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut records = Vec::new();
    let mut first_seen: HashMap<String, u64> = HashMap::new();
    let mut bad = 0usize;
    for row in reader.records() {
        let (line, result) = match row {
            Ok(r) => {
                let line = r.position().map_or(0, |p| p.line());
                let field = |name: &str| {
                    index
                        .get(name)
                        .and_then(|&i| r.get(i))
                        .unwrap_or("")
                        .to_owned()
                };
                let row = Row {
                    id_number: field("id_number"),
                    full_name: field("full_name"),
                    valid_until: field("valid_until"),
                    issued_on: field("issued_on"),
                    support_number: field("support_number"),
                    birth_date: field("birth_date"),
                };
                (line, check_row(row))
            }
            Err(e) => (e.position().map_or(0, |p| p.line()), Err(e.to_string())),
        };
        match result {
            Ok(record) => {
                if let Some(first) = first_seen.insert(record.id_number.clone(), line) {
                    bad += 1;
                    errors.push(format!(
                        "line {line}: {} already appears on line {first}",
                        record.id_number
                    ));
                } else if records.len() >= MAX_RECORDS {
                    return Err(vec![format!(
                        "more than {MAX_RECORDS} records; split the file"
                    )]);
                } else {
                    records.push(record);
                }
            }
            Err(message) => {
                bad += 1;
                if errors.len() < MAX_REPORTED {
                    errors.push(format!("line {line}: {message}"));
                }
            }
        }
    }
    if bad > errors.len() {
        errors.push(format!("… and {} more bad lines", bad - errors.len()));
    }
    if errors.is_empty() {
        Ok(records)
    } else {
        Err(errors)
    }
}

/// One CSV line's fields; absent columns are empty.
struct Row {
    id_number: String,
    full_name: String,
    valid_until: String,
    issued_on: String,
    support_number: String,
    birth_date: String,
}

fn check_row(row: Row) -> Result<IdentityRecord, String> {
    let id = DniNie::parse(&row.id_number).map_err(|e| {
        format!(
            "id_number {:?} is not a valid DNI or NIE ({e:?})",
            row.id_number
        )
    })?;
    let full_name = row.full_name;
    if full_name.is_empty()
        || full_name.chars().count() > 200
        || full_name.chars().any(char::is_control)
    {
        return Err("full_name must be 1 to 200 printable characters".to_owned());
    }
    let date = |name: &str, value: &str| -> Result<Option<String>, String> {
        match value {
            "" => Ok(None),
            s => parse_iso(s)
                .map(|d| Some(d.format("%Y-%m-%d").to_string()))
                .ok_or_else(|| format!("{name} {s:?} is not a date YYYY-MM-DD")),
        }
    };
    let valid_until = date("valid_until", &row.valid_until)?;
    let issued_on = date("issued_on", &row.issued_on)?;
    let birth_date = date("birth_date", &row.birth_date)?;
    let support = row.support_number.as_str();
    let (kind, support_number) = match id.kind() {
        IdKind::Dni => {
            let Some(valid) = valid_until.as_deref() else {
                return Err("a DNI needs valid_until".to_owned());
            };
            if parse_iso(valid) == Some(PERMANENT) && issued_on.is_none() {
                return Err("a permanent DNI (valid_until 9999-01-01) needs issued_on".to_owned());
            }
            if !support.is_empty() {
                return Err("a DNI has no support_number".to_owned());
            }
            (IdentityKind::Dni, None)
        }
        IdKind::Nie => {
            let s = parse_support_number(support).ok_or_else(|| {
                format!("a NIE needs support_number, E or C and 8 digits (got {support:?})")
            })?;
            (IdentityKind::Nie, Some(s))
        }
    };
    Ok(IdentityRecord {
        id_number: id.as_str().to_owned(),
        kind,
        full_name,
        valid_until,
        issued_on,
        support_number,
        birth_date,
    })
}

/// The demo's fictional registry, as CSV: valid check letters, invented names.
pub const DEMO_IDENTITIES: &str = "\
id_number,full_name,valid_until,issued_on,support_number,birth_date
12345678Z,Lucía Martín Ficticia,2031-03-15,2021-03-15,,1985-07-02
00000000T,Antonio Pérez Inventado,9999-01-01,2019-06-20,,1948-11-23
11111111H,Carmen Ruiz Ejemplo,2024-01-10,2014-01-10,,1990-02-14
X1234567L,Amina Haddad Demo,,,E00012345,1993-09-30
Y7654321G,John Smith Example,,,C00098765,1979-04-08
";

/// Writes the demo registry and prints how to use it.
pub async fn seed_demo(store: &Store, now: DateTime<Utc>) -> Result<(), Error> {
    let records = parse_csv(DEMO_IDENTITIES.as_bytes())
        .map_err(|lines| Error::Import(format!("demo registry: {}", lines.join("; "))))?;
    store.upsert_identities(&records, now).await?;
    println!("Demo identity registry (fictional people):");
    println!("  ID number   contrast data to type        note");
    println!("  12345678Z   15-03-2031 (validity date)   DNI");
    println!("  00000000T   20-06-2019 (issue date)      permanent DNI");
    println!("  11111111H   10-01-2024 (validity date)   expired DNI: refused");
    println!("  X1234567L   E00012345 (support number)   NIE");
    println!("  Y7654321G   C00098765 (support number)   NIE");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_registry_is_valid() {
        let records = parse_csv(DEMO_IDENTITIES.as_bytes()).unwrap();
        assert_eq!(records.len(), 5);
        assert_eq!(records[3].support_number.as_deref(), Some("E00012345"));
    }

    #[test]
    fn every_bad_line_is_reported_by_number() {
        let csv = "id_number,full_name,valid_until,issued_on,support_number\n\
                   12345678Z,Ana,2031-01-01,,\n\
                   12345678A,Bad Letter,2031-01-01,,\n\
                   00000000T,Permanent,9999-01-01,,\n\
                   X1234567L,No Support,,,\n\
                   12345678z,Twice,2031-01-01,,\n\
                   99999999R,,2031-01-01,,\n\
                   99999999R,Bad Date,31/01/2031,,\n";
        let errors = parse_csv(csv.as_bytes()).unwrap_err();
        let lines: Vec<&str> = errors
            .iter()
            .map(|e| e.split(':').next().unwrap())
            .collect();
        assert_eq!(
            lines,
            ["line 3", "line 4", "line 5", "line 6", "line 7", "line 8"],
            "{errors:#?}"
        );
        assert!(
            errors[3].contains("already appears on line 2"),
            "{}",
            errors[3]
        );
    }

    #[test]
    fn unknown_or_missing_columns_are_refused() {
        assert!(parse_csv(b"id_number,name\n12345678Z,Ana\n").is_err());
        assert!(parse_csv(b"id_number,valid_until\n12345678Z,2031-01-01\n").is_err());
        let ok =
            parse_csv(b"full_name,id_number,valid_until\nAna,12345678-z,2031-01-01\n").unwrap();
        assert_eq!(
            ok[0].id_number, "12345678Z",
            "columns in any order, ids normalised"
        );
    }

    #[test]
    fn a_ragged_line_is_reported() {
        let errors = parse_csv(b"id_number,full_name,valid_until\n12345678Z,Ana\n").unwrap_err();
        assert!(errors[0].starts_with("line 2"), "{errors:?}");
    }
}
