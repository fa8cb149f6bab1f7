//! `videoreg user …`: staff accounts from the command line, and the demo's accounts.

use std::io::BufRead;

use agent_console::accounts::{self, Accounts};
use agent_console::passwords::{self, hashing::HashPool};
use chrono::{DateTime, Utc};
use store::{StaffRole, StaffUser, Store};

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
        UserCommand::Reviewer { name, state } => {
            let on = state == crate::config::Toggle::On;
            accounts::set_reviewer(store, CLI_ACTOR, &name, on, now).await?;
            match on {
                true => println!("{name} now reviews other agents' approvals"),
                false => println!("{name} no longer reviews approvals"),
            }
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
                let reviewer = if u.reviewer { ", reviewer" } else { "" };
                println!(
                    "{:<24} {:<11} {:<8} {state}{reviewer}",
                    u.name,
                    u.role.as_str(),
                    mfa
                );
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

/// The demo's own accounts: one per role, and a second agent so that the supervisors'
/// dashboard has a team to show.
const DEMO_ACCOUNTS: [(&str, StaffRole); 4] = [
    ("agente", StaffRole::Agent),
    ("agente2", StaffRole::Agent),
    ("supervisora", StaffRole::Supervisor),
    ("auditora", StaffRole::Auditor),
];
/// The demo agent who reviews the other's approvals.
const DEMO_REVIEWER: &str = "agente2";

/// Whether `demo` may seed its accounts into a database holding `staff`: yes when every
/// account there is one of the demo's own (a fresh database, or the demo's from an earlier
/// run), or when `reset_demo` says so. Otherwise the database is in service (or belongs to
/// someone), and the demo refuses rather than reset passwords there.
pub fn demo_may_seed(staff: &[StaffUser], reset_demo: bool) -> Result<(), Error> {
    let foreign: Vec<&str> = staff
        .iter()
        .filter(|u| !DEMO_ACCOUNTS.contains(&(u.name.as_str(), u.role)))
        .map(|u| u.name.as_str())
        .collect();
    if foreign.is_empty() || reset_demo {
        return Ok(());
    }
    let shown = foreign
        .iter()
        .take(3)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    let more = foreign.len().saturating_sub(3);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    Err(Error::Refused(format!(
        "this database holds staff accounts that the demo did not create ({shown}{more}):          `demo` resets the demo accounts' passwords and is not for a database in service.          Use `videoreg serve` to serve it, point `demo` at its own database          (--database-url sqlite://./data/demo.db, the default), or pass --reset-demo if          this database really is for trying videoreg out."
    )))
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
    for (name, role) in DEMO_ACCOUNTS {
        let password = accounts::generate_password()?;
        if store.find_staff_by_name(name).await?.is_some() {
            accounts.reset_password(name, &password, now).await?;
        } else {
            accounts.add_user(name, role, &password, now).await?;
        }
        println!("  {name:<12} {:<11} {password}", role.as_str());
    }
    // The second agent also reviews the first one's approvals (second review).
    accounts::set_reviewer(store, "demo", DEMO_REVIEWER, true, now).await?;
    println!("  ({DEMO_REVIEWER} also reviews other agents' approvals at /staff/reviews)");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, role: StaffRole) -> StaffUser {
        StaffUser {
            id: name.to_owned(),
            name: name.to_owned(),
            role,
            password_hash: String::new(),
            totp_secret: None,
            totp_last_step: None,
            disabled: false,
            reviewer: false,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn the_demo_seeds_a_fresh_database_and_its_own_again() {
        assert!(demo_may_seed(&[], false).is_ok());
        let own: Vec<_> = DEMO_ACCOUNTS.iter().map(|(n, r)| user(n, *r)).collect();
        assert!(demo_may_seed(&own, false).is_ok());
    }

    #[test]
    fn the_demo_refuses_other_accounts_unless_told_to_reset() {
        let mut staff = vec![
            user("agente", StaffRole::Agent),
            user("ana", StaffRole::Agent),
        ];
        let refused = demo_may_seed(&staff, false).expect_err("refused");
        let message = refused.to_string();
        assert!(
            message.contains("ana") && message.contains("--reset-demo"),
            "{message}"
        );
        assert!(demo_may_seed(&staff, true).is_ok());
        // A demo name with another role is not the demo's account.
        staff = vec![user("auditora", StaffRole::Supervisor)];
        assert!(demo_may_seed(&staff, false).is_err());
    }
}
