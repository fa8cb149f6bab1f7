//! Parsing and resolving the configuration.

use std::path::Path;

use clap::Parser;

use super::*;

fn parse(args: &[&str]) -> Cli {
    Cli::try_parse_from(std::iter::once("videoreg").chain(args.iter().copied())).unwrap()
}

#[test]
fn defaults_apply_when_nothing_is_given() {
    let cli = parse(&[]);
    let s = Settings::resolve(&cli.global, &cli.serve, DEFAULT_DATABASE_URL).unwrap();
    assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
    assert_eq!(s.database_url, DEFAULT_DATABASE_URL);
    assert_eq!(s.verify.per_id, 5);
    assert!(!s.calendar.is_always_open());
    assert!(s.media_threads >= 1);
}

#[test]
fn global_options_are_accepted_after_the_subcommand() {
    let cli = parse(&[
        "identities",
        "import",
        "--database-url",
        "sqlite://x.db",
        "f.csv",
    ]);
    assert_eq!(cli.global.database_url.as_deref(), Some("sqlite://x.db"));
    let cli = parse(&["serve", "--bind", "127.0.0.1:0", "--config", "c.toml"]);
    assert!(matches!(
        cli.command,
        Some(Command::Serve(ServeArgs { bind: Some(_), .. }))
    ));
    assert_eq!(cli.global.config.as_deref(), Some(Path::new("c.toml")));
}

#[test]
fn flags_beat_the_file_and_the_file_beats_defaults() {
    let dir = std::env::temp_dir().join(format!("videoreg-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("videoreg.toml");
    std::fs::write(
        &path,
        "bind = \"127.0.0.1:9000\"\nhours = \"08:00-15:00\"\nverify_limit_per_id = 3\nclosed_dates = [\"2026-12-24\"]\n",
    )
    .unwrap();
    let config = path.to_str().unwrap();
    let cli = parse(&[
        "--config",
        config,
        "--bind",
        "127.0.0.1:0",
        "--verify-limit-per-address",
        "7",
    ]);
    let s = Settings::resolve(&cli.global, &cli.serve, DEFAULT_DATABASE_URL).unwrap();
    assert_eq!(s.bind.port(), 0, "the flag wins");
    assert_eq!(s.verify.per_id, 3, "the file fills what flags leave out");
    assert_eq!(s.verify.per_address, 7);
    let eve = NaiveDate::from_ymd_opt(2026, 12, 24).unwrap();
    assert_eq!(s.calendar.hours_on(eve), None);
    let ordinary = NaiveDate::from_ymd_opt(2026, 12, 23).unwrap();
    assert_eq!(
        s.calendar.hours_on(ordinary).map(|h| h.to_string()),
        Some("08:00-15:00".into())
    );
}

#[test]
fn bad_files_and_values_are_refused_with_a_reason() {
    let dir = std::env::temp_dir().join(format!("videoreg-config-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.toml");
    std::fs::write(&path, "bindd = \"x\"\n").unwrap();
    let cli = parse(&["--config", path.to_str().unwrap()]);
    let err = Settings::resolve(&cli.global, &cli.serve, DEFAULT_DATABASE_URL).unwrap_err();
    assert!(err.to_string().contains("bindd"), "{err}");
    let cli = parse(&["--verify-limit-per-id", "0"]);
    assert!(Settings::resolve(&cli.global, &cli.serve, DEFAULT_DATABASE_URL).is_err());
    let cli = parse(&["--media-threads", "0"]);
    let err = Settings::resolve(&cli.global, &cli.serve, DEFAULT_DATABASE_URL).unwrap_err();
    assert!(err.to_string().contains("media-threads"), "{err}");
    assert!(Cli::try_parse_from(["videoreg", "--hours", "9-14"]).is_err());
}
