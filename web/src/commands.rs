//! The subcommands: `serve` (default), `demo`, `identities import`, `user …`,
//! `audit verify`, `report` and `openapi`.

use std::future::Future;

use agent_console::passwords::staff_min_chars;
use scheduler::Clock;
use store::Store;
use tokio::net::TcpListener;

use crate::config::{
    AuditCommand, CitizenCommand, Cli, Command, CommandDefaults, IdentitiesCommand, ServeArgs,
    Settings, TestClock,
};
use crate::{AppState, Error, import};

/// Runs what the command line asks for. `shutdown` stops a server.
pub async fn execute(
    cli: Cli,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    match cli.command {
        None => serve(&cli.global, &cli.serve, false, shutdown).await,
        Some(Command::Serve(args)) => serve(&cli.global, &args, false, shutdown).await,
        Some(Command::Demo(args)) => serve(&cli.global, &args, true, shutdown).await,
        Some(Command::Identities(IdentitiesCommand::Import { file })) => {
            let url = Settings::for_tools(&cli.global)?.database_url;
            let store = Store::open(&url).await?;
            let result = import::import_file(&store, &file, Clock::System.now()).await;
            store.close().await;
            let n = result?;
            println!("imported {n} identity records from {}", file.display());
            Ok(())
        }
        Some(Command::User(command)) => {
            let settings = Settings::resolve(&cli.global, &cli.serve, CommandDefaults::SERVE)?;
            let min_chars = staff_min_chars(settings.staff.mfa_required);
            let store = Store::open(&settings.database_url).await?;
            let result =
                crate::user_commands::run(&store, command, min_chars, Clock::System.now()).await;
            store.close().await;
            result
        }
        Some(Command::Citizen(CitizenCommand::Unlock { id_number, reason })) => {
            let id = crate::identity::DniNie::parse(&id_number).map_err(|e| {
                Error::Usage(format!("{id_number:?} is not a DNI or NIE number ({e:?})"))
            })?;
            let url = Settings::for_tools(&cli.global)?.database_url;
            let store = Store::open(&url).await?;
            let detail = serde_json::json!({ "reason": reason });
            let now = Clock::System.now();
            let result = crate::citizen::limits::unlock(&store, &id, "cli", detail, now).await;
            store.close().await;
            let cleared = result?;
            println!("unlocked {}: {cleared} counters cleared", id.masked());
            Ok(())
        }
        Some(Command::Report(args)) => {
            let url = Settings::for_tools(&cli.global)?.database_url;
            let store = Store::open(&url).await?;
            let date = args
                .date
                .unwrap_or_else(|| scheduler::local_date(Clock::System.now()));
            let csv = crate::report::csv_for(&store, date).await;
            store.close().await;
            print!("{}", csv?);
            Ok(())
        }
        Some(Command::Openapi) => {
            println!("{}", crate::openapi::document_text()?);
            Ok(())
        }
        Some(Command::Audit(command)) => {
            let settings = Settings::for_tools(&cli.global)?;
            let store = Store::open(&settings.database_url).await?;
            let recordings = &settings.evidence.recordings_dir;
            let result = audit(&store, recordings, command).await;
            store.close().await;
            result
        }
    }
}

/// `audit verify [--anchor COUNT:HASH]` (the chain, then every kept recording's file
/// against its sealed hash) and `audit anchor`.
async fn audit(
    store: &Store,
    recordings: &std::path::Path,
    command: AuditCommand,
) -> Result<(), Error> {
    let broken = |report: store::ChainReport, link: store::BrokenLink| {
        Error::AuditBroken(format!(
            "audit trail BROKEN at event {}: {} ({} events verified before it)",
            link.id, link.problem, report.checked
        ))
    };
    match command {
        AuditCommand::Verify { anchor } => {
            let report = store.verify_audit_chain_against(anchor.as_ref()).await?;
            match report.broken.clone() {
                Some(link) => Err(broken(report, link)),
                None => {
                    println!("audit trail intact: {} events verified", report.checked);
                    if let Some(a) = anchor {
                        println!("the anchor's {} events are all there, unchanged", a.count);
                    }
                    let files = crate::evidence::verify_files(store, recordings).await?;
                    match files.broken {
                        Some((id, path, problem)) => Err(Error::AuditBroken(format!(
                            "recording {id} BROKEN: {problem} ({}; {} recordings verified before it)",
                            path.display(),
                            files.checked
                        ))),
                        None => {
                            println!(
                                "recordings intact: {} files match their sealed hashes",
                                files.checked
                            );
                            Ok(())
                        }
                    }
                }
            }
        }
        AuditCommand::Anchor => match store.audit_anchor().await? {
            Ok(anchor) => {
                println!("{anchor}");
                Ok(())
            }
            Err(report) => match report.broken.clone() {
                Some(link) => Err(broken(report, link)),
                None => Err(Error::AuditBroken("audit trail BROKEN".into())),
            },
        },
    }
}

async fn serve(
    global: &crate::config::GlobalArgs,
    args: &ServeArgs,
    demo: bool,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let defaults = if demo {
        CommandDefaults::DEMO
    } else {
        CommandDefaults::SERVE
    };
    let settings = Settings::resolve(global, args, defaults)?;
    if settings.reset_demo && !demo {
        return Err(Error::Usage(
            "--reset-demo is for `demo` only; `serve` never resets staff accounts".into(),
        ));
    }
    if settings.test_clock.is_some() && !demo {
        return Err(Error::Usage(
            "--clock-start and --clock-speed are for `demo` only; `serve` runs on the system clock"
                .into(),
        ));
    }
    // Held until this function returns, or the process ends however it ends.
    let node_lock = crate::node_lock::acquire(&settings.database_url)?;
    let key = crate::secrets_key::load(&settings, demo)?;
    let store = Store::open_with(&settings.database_url, settings.store)
        .await?
        .with_secrets_key(key);
    let clock = match settings.test_clock {
        None => Clock::System,
        Some(TestClock { start, speed }) => {
            let start = start.unwrap_or_else(|| Clock::System.now());
            tracing::warn!(%start, speed, "test clock: not the system's time");
            Clock::scaled(start, speed)
        }
    };
    if demo {
        // Before anything is written with the demo's key: a database in service is refused.
        prepare_demo(&store, &settings, clock.now()).await?;
    }
    if store.secrets_key().is_some() {
        // SQL migrations cannot encrypt: secrets left in clear by older versions are sealed
        // here, once the key is known.
        let sealed = store.seal_clear_totp_secrets(clock.now()).await?;
        if sealed > 0 {
            tracing::info!(sealed, "sealed TOTP secrets that were stored in clear");
        }
    }
    let listener = TcpListener::bind(settings.bind)
        .await
        .map_err(|e| Error::io(format!("binding {}", settings.bind), e))?;
    announce_evidence(&settings.evidence);
    let state =
        crate::media_port::attach(AppState::new(&settings, store.clone(), clock), &settings)?;
    let upkeep = tokio::spawn(crate::housekeeping::run_forever(state.clone()));
    let result = crate::run(listener, state, shutdown).await;
    upkeep.abort();
    store.close().await;
    drop(node_lock);
    result
}

/// Creates the recordings' directory if it is missing, and says what retention will do. A
/// directory that cannot be made is logged, not fatal: calls go on and their recordings are
/// marked incomplete.
fn announce_evidence(evidence: &crate::evidence::EvidencePolicy) {
    let dir = &evidence.recordings_dir;
    if let Err(e) = std::fs::create_dir_all(dir) {
        tracing::error!(dir = %dir.display(), error = %e, "the recordings directory cannot be created: calls will be recorded as incomplete");
    }
    match evidence.retention {
        Some(r) => tracing::info!(
            dir = %dir.display(),
            retention_days = r.decided.num_days(),
            incomplete_retention_days = r.undecided.num_days(),
            "evidence is deleted after its retention, except on legal hold"
        ),
        None => tracing::warn!(
            dir = %dir.display(),
            "no --retention-days: recordings and stills are kept until an operator chooses a retention period"
        ),
    }
}

/// The demo's registry and accounts, unless the database holds staff accounts the demo did
/// not create and `--reset-demo` was not given (see [`crate::user_commands::demo_may_seed`]).
async fn prepare_demo(
    store: &Store,
    settings: &Settings,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Error> {
    let staff = store.list_staff().await?;
    if let Err(refused) = crate::user_commands::demo_may_seed(&staff, settings.reset_demo) {
        store.close().await;
        return Err(refused);
    }
    crate::import::seed_demo(store, now).await?;
    crate::user_commands::seed_demo_accounts(store, now).await
}
