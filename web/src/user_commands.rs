//! `videoreg user …`: staff accounts from the command line, and the demo's accounts.

use std::io::BufRead;

use agent_console::accounts::{self, Accounts};
use agent_console::passwords::{self, hashing::HashPool};
use chrono::{DateTime, Utc};
use store::{StaffRole, Store};

use crate::Error;
use crate::config::{PasswordSource, UserCommand};

/// Who the audit trail names for changes made on the command line.
const CLI_ACTOR: &str = "cli";

/// Runs one `user` subcommand; new passwords need at least `min_chars` characters
/// ([`passwords::staff_min_chars`]).
pub async fn run(
    store: &Store,
    command: UserCommand,
    min_chars: usize,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let hashing = HashPool::new(1, 1);
    let accounts = Accounts {
        store,
        hashing: &hashing,
        actor: CLI_ACTOR,
        min_chars,
    };
    match command {
        UserCommand::Add {
            role,
            name,
            password,
        } => {
            let (pw, generated) = new_password(&name, password, min_chars)?;
            let role = StaffRole::from(role);
            accounts.add_user(&name, role, &pw, now).await?;
            println!("created {} account {name}", role.as_str());
            if generated {
                println!("password for {name} (shown once): {pw}");
            }
        }
        UserCommand::Disable { name } => {
            accounts::disable_user(store, CLI_ACTOR, &name, now).await?;
            println!("disabled {name}; their sessions have ended");
        }
        UserCommand::ResetPassword { name, password } => {
            let (pw, generated) = new_password(&name, password, min_chars)?;
            accounts.reset_password(&name, &pw, now).await?;
            println!("reset the password of {name}; the account is enabled and unlocked");
            if generated {
                println!("password for {name} (shown once): {pw}");
            }
        }
        UserCommand::ResetMfa { name } => {
            accounts::reset_mfa(store, CLI_ACTOR, &name, now).await?;
            println!("reset the second factor of {name}; they enrol again at their next sign-in");
        }
        UserCommand::List => {
            println!("{:<24} {:<11} {:<8} state", "name", "role", "2FA");
            for u in store.list_staff().await? {
                let (failures, _) = store.staff_login_failures_for_name(&u.name).await?;
                let state = if u.disabled {
                    "disabled"
                } else if failures >= agent_console::lockout::LOCK_AFTER {
                    "locked"
                } else {
                    "active"
                };
                let mfa = if u.totp_secret.is_some() {
                    "enrolled"
                } else {
                    "pending"
                };
                println!("{:<24} {:<11} {:<8} {state}", u.name, u.role.as_str(), mfa);
            }
        }
    }
    Ok(())
}

/// A new password from the chosen source, checked against the policy; and whether it was
/// generated (and so must be shown).
fn new_password(
    name: &str,
    source: PasswordSource,
    min_chars: usize,
) -> Result<(String, bool), Error> {
    if source.generate {
        return Ok((accounts::generate_password()?, true));
    }
    let password = if source.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Error::io("reading the password from standard input", e))?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        let first =
            rpassword::prompt_password(format!("New password for {name}: ")).map_err(|e| {
                Error::io(
                    "reading the password (use --generate or --password-stdin without a terminal)",
                    e,
                )
            })?;
        let second = rpassword::prompt_password("Type it again: ")
            .map_err(|e| Error::io("reading the password", e))?;
        if first != second {
            return Err(Error::Config(
                "the two passwords differ; nothing was changed".into(),
            ));
        }
        first
    };
    accounts::check_password(name, &password, min_chars)
        .map_err(|e| Error::Config(format!("{e}; nothing was changed")))?;
    Ok((password, false))
}

/// The demo's accounts, one per role, with fresh passwords printed once.
pub async fn seed_demo_accounts(store: &Store, now: DateTime<Utc>) -> Result<(), Error> {
    let hashing = HashPool::new(1, 1);
    let accounts = Accounts {
        store,
        hashing: &hashing,
        actor: "demo",
        // Generated passwords (20 characters) meet the single-factor minimum too.
        min_chars: passwords::STAFF_MIN_CHARS_SINGLE_FACTOR,
    };
    println!("Demo staff accounts (sign in at /staff/login; passwords shown once):");
    for (name, role) in [
        ("agente", StaffRole::Agent),
        // A second agent, so that the supervisors' dashboard has a team to show.
        ("agente2", StaffRole::Agent),
        ("supervisora", StaffRole::Supervisor),
        ("auditora", StaffRole::Auditor),
    ] {
        let password = accounts::generate_password()?;
        if store.find_staff_by_name(name).await?.is_some() {
            accounts.reset_password(name, &password, now).await?;
        } else {
            accounts.add_user(name, role, &password, now).await?;
        }
        println!("  {name:<12} {:<11} {password}", role.as_str());
    }
    Ok(())
}
