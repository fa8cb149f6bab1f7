//! `videoreg --help`, `docs/configuration.md`, the sample file and the README agree: every
//! option is listed in each, with its flag, environment variable, TOML key and default, and
//! nothing is listed that is not an option. The list of options is clap's own.

use std::collections::{BTreeMap, BTreeSet};

use clap::{Args, CommandFactory};

use super::*;

const CONFIGURATION_MD: &str = include_str!("../../../docs/configuration.md");
const SAMPLE: &str = include_str!("../../../docs/videoreg.example.toml");
const README: &str = include_str!("../../../README.md");

/// One option as clap declares it.
#[derive(Debug)]
struct Declared {
    long: String,
    /// `--long VALUE_NAME`, or `--long` for a switch, as the docs write it.
    usage: String,
    /// `--long <VALUE_NAME>`, or `--long` for a switch, as `--help` writes it.
    help_usage: String,
    env: String,
    /// Its key in the TOML file: `key`, `[console] key`, `[booking] key`, or none for
    /// `--config`.
    key: Option<String>,
    default: Option<String>,
    heading: String,
    switch: bool,
}

/// Every option of `serve`, global ones included, by long flag.
fn declared() -> BTreeMap<String, Declared> {
    let ids = |c: clap::Command| -> BTreeSet<String> {
        c.get_arguments().map(|a| a.get_id().to_string()).collect()
    };
    let console = ids(ConsoleArgs::augment_args(clap::Command::new("console")));
    let booking = ids(BookingArgs::augment_args(clap::Command::new("booking")));
    let command = ServeArgs::augment_args(GlobalArgs::augment_args(clap::Command::new("v")));
    command
        .get_arguments()
        .map(|arg| {
            let id = arg.get_id().to_string();
            let long = format!(
                "--{}",
                arg.get_long().expect("every option has a long flag")
            );
            let switch = !arg.get_action().takes_values();
            let (usage, help_usage) = match arg.get_value_names() {
                Some([name]) if !switch => (format!("{long} {name}"), format!("{long} <{name}>")),
                _ => (long.clone(), long.clone()),
            };
            let key = match id.as_str() {
                "config" => None,
                _ if console.contains(&id) => Some(format!("[console] {id}")),
                _ if booking.contains(&id) => Some(format!("[booking] {id}")),
                _ => Some(id),
            };
            let declared = Declared {
                long: long.clone(),
                usage,
                help_usage,
                env: arg
                    .get_env()
                    .expect("every option has a variable")
                    .to_string_lossy()
                    .into(),
                key,
                default: match arg.get_default_values() {
                    [] => None,
                    [one] => Some(one.to_string_lossy().into_owned()),
                    more => panic!("{long} declares {} defaults", more.len()),
                },
                heading: arg.get_help_heading().unwrap_or("Options").to_owned(),
                switch,
            };
            (long, declared)
        })
        .collect()
}

/// The cells of a Markdown table row, `\|` read as a literal `|`.
fn cells(row: &str) -> Vec<String> {
    row.replace("\\|", "\u{1}")
        .trim()
        .trim_matches('|')
        .split('|')
        .map(|c| c.trim().replace('\u{1}', "|"))
        .collect()
}

/// The option rows of `markdown`'s tables (first cell a backticked `--flag`), each with
/// the `###` heading it sits under.
fn option_rows(markdown: &str) -> Vec<(String, Vec<String>)> {
    let mut heading = String::new();
    let mut rows = Vec::new();
    for line in markdown.lines() {
        if let Some(h) = line.strip_prefix("### ") {
            heading = h.trim().to_owned();
        } else if line.starts_with("| `--") {
            rows.push((heading.clone(), cells(line)));
        }
    }
    rows
}

/// The first backticked span of a cell.
fn code(cell: &str) -> &str {
    cell.split('`').nth(1).unwrap_or_default()
}

#[test]
fn help_lists_every_option_with_its_variable_and_default() {
    let options = declared();
    let mut help = Cli::command();
    let top = help.render_long_help().to_string();
    let serve = help
        .find_subcommand_mut("serve")
        .expect("serve")
        .render_long_help()
        .to_string();
    for text in [&top, &serve] {
        for o in options.values() {
            assert!(
                text.contains(&o.help_usage),
                "help lacks {}:\n{text}",
                o.help_usage
            );
            assert!(text.contains(&o.env), "help lacks {}:\n{text}", o.env);
            if let Some(default) = &o.default {
                let shown = format!("[default: {default}]");
                assert!(text.contains(&shown), "help lacks {}'s {shown}", o.long);
            }
        }
    }
    for url in [DEFAULT_DATABASE_URL, DEFAULT_DEMO_DATABASE_URL] {
        assert!(top.contains(url), "help lacks the default database {url}");
    }
}

#[test]
fn the_configuration_page_lists_every_option_once_and_nothing_else() {
    let options = declared();
    let mut seen = BTreeSet::new();
    for (heading, row) in option_rows(CONFIGURATION_MD) {
        let [flag, env, key, default, _meaning] = row.as_slice() else {
            panic!("docs/configuration.md: a row needs five cells: {row:?}");
        };
        let usage = code(flag);
        let long = usage.split(' ').next().unwrap_or_default();
        let Some(o) = options.get(long) else {
            panic!("docs/configuration.md documents {long}, which is no option");
        };
        assert!(seen.insert(long.to_owned()), "{long} is documented twice");
        assert_eq!(usage, o.usage, "docs/configuration.md: {long}'s usage");
        assert_eq!(code(env), o.env, "docs/configuration.md: {long}'s variable");
        assert_eq!(
            heading, o.heading,
            "docs/configuration.md: {long}'s section"
        );
        match &o.key {
            Some(k) => assert_eq!(code(key), k, "docs/configuration.md: {long}'s key"),
            None => assert_eq!(key, "—", "docs/configuration.md: {long} has no key"),
        }
        if let Some(d) = &o.default {
            assert!(
                default.contains(d.as_str()),
                "docs: {long}'s default is {d}"
            );
        } else if o.switch {
            assert_eq!(
                default, "off",
                "docs/configuration.md: {long} is off by default"
            );
        }
    }
    let missing: Vec<_> = options.keys().filter(|l| !seen.contains(*l)).collect();
    assert!(
        missing.is_empty(),
        "docs/configuration.md lacks {missing:?}"
    );
}

/// The sample with every commented-out `# key = value` line put back.
fn sample_uncommented() -> String {
    SAMPLE
        .lines()
        .map(|line| {
            let rest = line.strip_prefix("# ").unwrap_or(line);
            let key = rest.split(" = ").next().unwrap_or_default();
            let is_key = rest.contains(" = ")
                && !key.is_empty()
                && key.chars().all(|c| c.is_ascii_lowercase() || c == '_');
            if is_key { rest } else { line }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_sample_file_lists_every_option_with_its_default() {
    let text = sample_uncommented();
    let dir = std::env::temp_dir().join(format!("videoreg-sample-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("videoreg.toml");
    std::fs::write(&path, &text).unwrap();
    let global = GlobalArgs {
        config: Some(path),
        database_url: None,
        recordings_dir: None,
    };
    if let Err(e) = Settings::resolve(&global, &ServeArgs::default(), CommandDefaults::SERVE) {
        panic!("docs/videoreg.example.toml, uncommented, is refused: {e}");
    }
    let table: toml::Table = toml::from_str(&text).expect("the sample parses");
    let sub = |name: &str| {
        table
            .get(name)
            .and_then(toml::Value::as_table)
            .unwrap_or_else(|| panic!("the sample has a [{name}] table"))
    };
    let (console, booking) = (sub("console"), sub("booking"));
    for o in declared().values() {
        let Some(key) = &o.key else { continue };
        let value = match (
            key.strip_prefix("[console] "),
            key.strip_prefix("[booking] "),
        ) {
            (Some(k), _) => console.get(k),
            (_, Some(k)) => booking.get(k),
            _ => table.get(key),
        };
        let Some(value) = value else {
            panic!("docs/videoreg.example.toml lacks {key}")
        };
        let text = match value {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(n) => n.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            // A list whose default is one row.
            toml::Value::Array(a) if a.len() == 1 && a[0].is_str() => {
                a[0].as_str().unwrap_or_default().to_owned()
            }
            other => format!("{other:?}"),
        };
        if let Some(default) = &o.default {
            assert_eq!(&text, default, "the sample's {key} is not the default");
        } else if o.switch {
            assert_eq!(text, "false", "the sample's {key} is not the default");
        }
    }
}

#[test]
fn the_readme_names_only_real_options() {
    let options = declared();
    let rows = option_rows(README);
    assert!(!rows.is_empty(), "README has an option table");
    for (_, row) in rows {
        let long = code(&row[0]).split(' ').next().unwrap_or_default();
        let Some(o) = options.get(long) else {
            panic!("README names {long}, which is no option")
        };
        assert_eq!(code(&row[1]), o.env, "README: {long}'s variable");
    }
}

#[test]
fn the_configuration_page_examples_are_valid_files() {
    let blocks: Vec<&str> = CONFIGURATION_MD
        .split("```toml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .collect();
    assert!(!blocks.is_empty());
    for block in blocks {
        if let Err(e) = toml::from_str::<ServeArgs>(block) {
            panic!("docs/configuration.md example is refused: {e}\n{block}");
        }
    }
}
