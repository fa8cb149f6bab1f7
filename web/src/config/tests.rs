//! Parsing and resolving the configuration.

use std::path::Path;

use chrono::TimeDelta;

use clap::Parser;

use super::*;

fn parse(args: &[&str]) -> Cli {
    Cli::try_parse_from(std::iter::once("videoreg").chain(args.iter().copied())).unwrap()
}

#[test]
fn defaults_apply_when_nothing_is_given() {
    let cli = parse(&[]);
    let s = Settings::resolve(&cli.global, &cli.serve, CommandDefaults::SERVE).unwrap();
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
    let s = Settings::resolve(&cli.global, &cli.serve, CommandDefaults::SERVE).unwrap();
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
    let err = Settings::resolve(&cli.global, &cli.serve, CommandDefaults::SERVE).unwrap_err();
    assert!(err.to_string().contains("bindd"), "{err}");
    let cli = parse(&["--verify-limit-per-id", "0"]);
    assert!(Settings::resolve(&cli.global, &cli.serve, CommandDefaults::SERVE).is_err());
    let cli = parse(&["--media-threads", "0"]);
    let err = Settings::resolve(&cli.global, &cli.serve, CommandDefaults::SERVE).unwrap_err();
    assert!(err.to_string().contains("media-threads"), "{err}");
    assert!(Cli::try_parse_from(["videoreg", "--hours", "9-14"]).is_err());
}

#[test]
fn one_media_port_is_chosen_by_option_or_file_and_ice_tcp_needs_it() {
    let cli = parse(&["--media-udp-port", "3478", "--media-tcp-port", "443"]);
    let s = Settings::resolve(&cli.global, &cli.serve, CommandDefaults::SERVE).unwrap();
    assert_eq!(
        s.media_port,
        Some(MediaPortSettings {
            udp: 3478,
            tcp: Some(443)
        })
    );
    let path = config_file("one-port", "media_udp_port = 50000\n");
    let cli = parse(&["--config", path.to_str().unwrap()]);
    let s = Settings::resolve(&cli.global, &cli.serve, CommandDefaults::SERVE).unwrap();
    assert_eq!(
        s.media_port,
        Some(MediaPortSettings {
            udp: 50000,
            tcp: None
        })
    );
    // Without either, the port range.
    let cli = parse(&[]);
    let s = Settings::resolve(&cli.global, &cli.serve, CommandDefaults::SERVE).unwrap();
    assert_eq!(s.media_port, None);
    let cli = parse(&["--media-tcp-port", "443"]);
    let err = Settings::resolve(&cli.global, &cli.serve, CommandDefaults::SERVE).unwrap_err();
    assert!(err.to_string().contains("media-udp-port"), "{err}");
    assert!(Cli::try_parse_from(["videoreg", "--media-udp-port", "70000"]).is_err());
}

/// A TOML file with `text`, named after the test.
fn config_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("videoreg-config-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("videoreg.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn every_declared_default_parses_and_fills_its_option() {
    let d = layer::declared_defaults::<ServeArgs>().unwrap();
    assert_eq!(
        d.bind.map(|b| b.to_string()).as_deref(),
        Some("127.0.0.1:8080")
    );
    assert_eq!(d.staff_mfa, Some(Toggle::On));
    assert_eq!(d.at_closing, Some(AtClosingArg::Serve));
    assert_eq!(
        d.media_ports,
        Some(PortRange {
            first: 40_000,
            last: 40_999
        })
    );
    assert_eq!(d.console.still_max_kib, Some(8192));
    assert_eq!(d.media_threads, None, "computed from the cores in resolve");
    assert!(!d.always_open && d.closed_dates.is_empty());
}

#[test]
fn the_command_line_applies_no_default_itself() {
    fn walk(command: &clap::Command, path: &str) {
        for arg in command.get_arguments() {
            assert!(
                arg.get_default_values().is_empty(),
                "{path} --{} would hide the file's value behind its default",
                arg.get_id()
            );
        }
        for sub in command.get_subcommands() {
            walk(sub, &format!("{path} {}", sub.get_name()));
        }
    }
    walk(&<Cli as clap::CommandFactory>::command(), "videoreg");
}

#[test]
fn the_console_table_lies_between_flags_and_defaults() {
    let path = config_file(
        "console",
        "[console]\nwrap_up_seconds = 45\nstill_max_side = 2048\n",
    );
    let cli = parse(&[
        "--config",
        path.to_str().unwrap(),
        "--still-max-side",
        "1024",
    ]);
    let s = Settings::resolve(&cli.global, &cli.serve, CommandDefaults::SERVE).unwrap();
    assert_eq!(s.agents.wrap_up, TimeDelta::seconds(45));
    assert_eq!(
        s.queue.wrap_up,
        TimeDelta::seconds(45),
        "the estimator plans with it"
    );
    assert_eq!(s.agents.offer_timeout, TimeDelta::seconds(30));
    assert_eq!(s.verification.stills.max_width, 1024, "the flag wins");
    for (text, expected) in [
        (
            "[console]\nwrap_up_seconds = 0\n",
            "wrap-up-seconds must be at least 1",
        ),
        (
            "[console]\nstill_max_kib = 40000\n",
            "still-max-kib must be at most 32768",
        ),
        ("[console]\nwrap_up = 3\n", "wrap_up"),
        (
            "[console.rules]\nrequired_stills = []\nitems = []\ngroups = []\nreject_reasons = []\nabort_reasons = []\n",
            "[console.rules]",
        ),
    ] {
        let path = config_file("console-bad", text);
        let cli = parse(&["--config", path.to_str().unwrap()]);
        let err = Settings::resolve(&cli.global, &cli.serve, CommandDefaults::SERVE).unwrap_err();
        assert!(err.to_string().contains(expected), "{text}: {err}");
    }
}

#[test]
fn demo_keeps_its_own_database_unless_one_is_named() {
    let cli = parse(&["demo"]);
    let Some(Command::Demo(args)) = &cli.command else {
        panic!("demo")
    };
    let s = Settings::resolve(&cli.global, args, CommandDefaults::DEMO).unwrap();
    assert_eq!(s.database_url, DEFAULT_DEMO_DATABASE_URL);
    let path = config_file("demo", "database_url = \"sqlite://file.db\"\n");
    let cli = parse(&["demo", "--config", path.to_str().unwrap()]);
    let Some(Command::Demo(args)) = &cli.command else {
        panic!("demo")
    };
    let s = Settings::resolve(&cli.global, args, CommandDefaults::DEMO).unwrap();
    assert_eq!(
        s.database_url, "sqlite://file.db",
        "the file beats the demo's default"
    );
    let cli = parse(&[
        "demo",
        "--config",
        path.to_str().unwrap(),
        "--database-url",
        "sqlite://flag.db",
    ]);
    assert_eq!(
        Settings::for_tools(&cli.global).unwrap().database_url,
        "sqlite://flag.db"
    );
}

#[test]
fn file_values_beat_declared_defaults_of_every_kind() {
    let path = config_file(
        "kinds",
        "staff_mfa = \"off\"\nat_closing = \"expire\"\nmedia_ports = \"41000-41009\"\nalways_open = true\nturn_secret = \"s\"\nturn_ttl_minutes = 0\n",
    );
    let cli = parse(&["--config", path.to_str().unwrap()]);
    let err = Settings::resolve(&cli.global, &cli.serve, CommandDefaults::SERVE).unwrap_err();
    assert!(
        err.to_string()
            .contains("turn-ttl-minutes must be at least 1 minute"),
        "{err}"
    );
    let path = config_file(
        "kinds-ok",
        "staff_mfa = \"off\"\nat_closing = \"expire\"\nmedia_ports = \"41000-41009\"\nalways_open = true\n",
    );
    let cli = parse(&["--config", path.to_str().unwrap()]);
    let s = Settings::resolve(&cli.global, &cli.serve, CommandDefaults::SERVE).unwrap();
    assert!(!s.staff.mfa_required);
    assert_eq!(s.queue.at_closing, scheduler::AtClosing::Expire);
    assert_eq!(s.media.ports, 41_000..=41_009);
    assert!(s.calendar.is_always_open());
}

#[test]
fn a_node_is_not_dead_for_missing_one_heartbeat() {
    let err = Settings::from_file_text("heartbeat_seconds = 5\nnode_dead_after_seconds = 9\n")
        .unwrap_err();
    assert!(err.to_string().contains("at least two heartbeats"), "{err}");
    let s = Settings::from_file_text(
        "heartbeat_seconds = 2\nnode_dead_after_seconds = 4\ndrain_seconds = 0\n",
    )
    .unwrap();
    assert_eq!(s.presence.heartbeat, std::time::Duration::from_secs(2));
    assert_eq!(s.presence.dead_after, TimeDelta::seconds(4));
    assert_eq!(s.presence.drain, std::time::Duration::ZERO);
    let defaults = Settings::from_file_text("").unwrap();
    assert_eq!(
        defaults.presence.heartbeat,
        std::time::Duration::from_secs(5)
    );
    assert_eq!(defaults.presence.dead_after, TimeDelta::seconds(15));
    assert_eq!(defaults.presence.drain, std::time::Duration::from_secs(30));
}

#[test]
fn the_test_clock_is_off_unless_asked_for_and_its_speed_is_at_least_one() {
    let cli = parse(&[]);
    let s = Settings::resolve(&cli.global, &cli.serve, CommandDefaults::SERVE).unwrap();
    assert_eq!(s.test_clock, None);
    let cli = parse(&[
        "demo",
        "--clock-start",
        "2026-12-02T07:59:00Z",
        "--clock-speed",
        "60",
    ]);
    let Some(Command::Demo(args)) = cli.command else {
        panic!("demo")
    };
    let s = Settings::resolve(&cli.global, &args, CommandDefaults::SERVE).unwrap();
    let start = "2026-12-02T07:59:00Z".parse().ok();
    assert_eq!(s.test_clock, Some(TestClock { start, speed: 60 }));
    let cli = parse(&["demo", "--clock-speed", "0"]);
    let Some(Command::Demo(args)) = cli.command else {
        panic!("demo")
    };
    assert!(Settings::resolve(&cli.global, &args, CommandDefaults::SERVE).is_err());
}
