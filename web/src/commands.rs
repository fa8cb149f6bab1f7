//! The subcommands: `serve` (default), `demo`, `identities import`, `user …`,
//! `audit verify` and `report`.

use std::future::Future;

use agent_console::passwords::staff_min_chars;
use scheduler::Clock;
use store::Store;
use tokio::net::TcpListener;

use crate::config::{
    AuditCommand, Cli, Command, DEFAULT_DATABASE_URL, DEFAULT_DEMO_DATABASE_URL, IdentitiesCommand,
    ServeArgs, Settings,
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
            let url = Settings::database_url_only(&cli.global)?;
            let store = Store::open(&url).await?;
            let result = import::import_file(&store, &file, Clock::System.now()).await;
            store.close().await;
            let n = result?;
            println!("imported {n} identity records from {}", file.display());
            Ok(())
        }
        Some(Command::User(command)) => {
            let settings = Settings::resolve(&cli.global, &cli.serve, DEFAULT_DATABASE_URL)?;
            let min_chars = staff_min_chars(settings.staff.mfa_required);
            let store = Store::open(&settings.database_url).await?;
            let result =
                crate::user_commands::run(&store, command, min_chars, Clock::System.now()).await;
            store.close().await;
            result
        }
        Some(Command::Report(args)) => {
            let url = Settings::database_url_only(&cli.global)?;
            let store = Store::open(&url).await?;
            let date = args
                .date
                .unwrap_or_else(|| scheduler::local_date(Clock::System.now()));
            let csv = crate::report::csv_for(&store, date).await;
            store.close().await;
            print!("{}", csv?);
            Ok(())
        }
        Some(Command::Audit(AuditCommand::Verify)) => {
            let url = Settings::database_url_only(&cli.global)?;
            let store = Store::open(&url).await?;
            let report = store.verify_audit_chain().await;
            store.close().await;
            let report = report?;
            if report.unchained > 0 {
                println!(
                    "{} events written before the chain began (not covered)",
                    report.unchained
                );
            }
            match report.broken {
                None => {
                    println!("audit trail intact: {} events verified", report.checked);
                    Ok(())
                }
                Some(link) => Err(Error::AuditBroken(format!(
                    "audit trail BROKEN at event {}: {} ({} events verified before it)",
                    link.id, link.problem, report.checked
                ))),
            }
        }
    }
}

async fn serve(
    global: &crate::config::GlobalArgs,
    args: &ServeArgs,
    demo: bool,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let default_url = if demo {
        DEFAULT_DEMO_DATABASE_URL
    } else {
        DEFAULT_DATABASE_URL
    };
    let settings = Settings::resolve(global, args, default_url)?;
    let store = Store::open(&settings.database_url).await?;
    let clock = Clock::System;
    if demo {
        crate::import::seed_demo(&store, clock.now()).await?;
        crate::user_commands::seed_demo_accounts(&store, clock.now()).await?;
    }
    let listener = TcpListener::bind(settings.bind)
        .await
        .map_err(|e| Error::io(format!("binding {}", settings.bind), e))?;
    let state = AppState::new(&settings, store.clone(), clock);
    let upkeep = tokio::spawn(crate::housekeeping::run_forever(state.clone()));
    let result = crate::run(listener, state, shutdown).await;
    upkeep.abort();
    store.close().await;
    result
}
