//! `loket users ...`: desk accounts from the command line (SPEC.md). Passwords come from
//! standard input (one line) or `--password-file`, never from the command line, where other
//! users of the machine could read them.

use std::io::BufRead;
use std::path::Path;

use anyhow::{anyhow, Context as _};

use crate::cli::{Failure, UsersCommand};
use crate::config::Config;
use crate::desk::secrets;
use crate::domain::Role;
use crate::filing::users::NewUser;
use crate::filing::Store;
use crate::pipeline::error_chain;

/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 8;

pub async fn run(cfg: Config, command: UsersCommand) -> Result<(), Failure> {
    let store = Store::open_with(&cfg.database.url, cfg.store_options())
        .await
        .map_err(|e| Failure::Runtime(anyhow!(error_chain(&e))))?;
    let result = run_with(&cfg, &store, command).await;
    store.close().await;
    result
}

fn db(e: crate::filing::StoreError) -> Failure {
    Failure::Runtime(anyhow!(error_chain(&e)))
}

async fn run_with(cfg: &Config, store: &Store, command: UsersCommand) -> Result<(), Failure> {
    match command {
        UsersCommand::Add {
            username,
            role,
            department,
            name,
            email,
            password_file,
        } => {
            let role = Role::parse(&role).ok_or_else(|| {
                Failure::Usage(format!(
                    "unknown role {role:?}: admin, head, officer, triage or mailroom"
                ))
            })?;
            check_username(&username)?;
            check_department(cfg, role, department.as_deref())?;
            let hash = new_password_hash(password_file.as_deref())?;
            let added = store
                .add_user(&NewUser {
                    username: &username,
                    name: name.as_deref(),
                    email: email.as_deref(),
                    role,
                    department: department.as_deref(),
                    password_hash: &hash,
                })
                .await
                .map_err(db)?;
            if added.is_none() {
                return Err(Failure::Runtime(anyhow!("user {username} already exists")));
            }
            eprintln!("user {username} ({role}) added");
            Ok(())
        }
        UsersCommand::List { json } => {
            let users = store.list_users().await.map_err(db)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&users).context("print JSON")?
                );
            } else {
                for u in users {
                    println!(
                        "{}\t{}\t{}\t{}{}",
                        u.username,
                        u.role,
                        u.department.as_deref().unwrap_or("-"),
                        u.name.as_deref().unwrap_or("-"),
                        if u.disabled { "\t(disabled)" } else { "" }
                    );
                }
            }
            Ok(())
        }
        UsersCommand::Disable { username } => {
            if !store.disable_user(&username).await.map_err(db)? {
                return Err(Failure::Runtime(anyhow!("no user {username}")));
            }
            eprintln!("user {username} disabled; its sessions and tokens no longer work");
            Ok(())
        }
        UsersCommand::Passwd {
            username,
            password_file,
        } => {
            if store.user(&username).await.map_err(db)?.is_none() {
                return Err(Failure::Runtime(anyhow!("no user {username}")));
            }
            let hash = new_password_hash(password_file.as_deref())?;
            store.set_password(&username, &hash).await.map_err(db)?;
            eprintln!("password of {username} changed; its sessions ended");
            Ok(())
        }
        UsersCommand::Token { username } => {
            let user = store
                .user(&username)
                .await
                .map_err(db)?
                .filter(|u| !u.disabled)
                .ok_or_else(|| Failure::Runtime(anyhow!("no enabled user {username}")))?;
            let token = secrets::new_secret();
            store
                .add_token(user.id, &secrets::hash_secret(&token))
                .await
                .map_err(db)?;
            println!("{token}");
            Ok(())
        }
    }
}

fn check_username(u: &str) -> Result<(), Failure> {
    let ok = !u.is_empty()
        && u.len() <= 64
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'));
    if ok {
        Ok(())
    } else {
        Err(Failure::Usage(format!(
            "username {u:?}: use 1-64 letters, digits, '.', '-', '_' or '@'"
        )))
    }
}

/// Heads and officers need a department the rules know; other roles take none.
fn check_department(cfg: &Config, role: Role, department: Option<&str>) -> Result<(), Failure> {
    match (role.needs_department(), department) {
        (true, None) => Err(Failure::Usage(format!(
            "role {role} needs --department (a department id from the rules)"
        ))),
        (false, Some(_)) => Err(Failure::Usage(format!(
            "role {role} sees every department: leave out --department"
        ))),
        (true, Some(d)) => {
            let catalogue = crate::commands::load_rules(&cfg.rules.dir)?;
            if catalogue.department(d).is_none() {
                let known: Vec<&str> = catalogue.department_ids().collect();
                return Err(Failure::Usage(format!(
                    "unknown department {d:?}; the rules have: {}",
                    known.join(", ")
                )));
            }
            Ok(())
        }
        (false, None) => Ok(()),
    }
}

/// Read one password line and hash it.
fn new_password_hash(file: Option<&Path>) -> Result<String, Failure> {
    let line = match file {
        Some(f) => std::fs::read_to_string(f)
            .with_context(|| format!("read password file {}", f.display()))?
            .lines()
            .next()
            .unwrap_or("")
            .to_string(),
        None => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("read password from standard input")?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    if line.chars().count() < MIN_PASSWORD {
        return Err(Failure::Usage(format!(
            "password must be at least {MIN_PASSWORD} characters"
        )));
    }
    secrets::hash_password(&line).map_err(|e| Failure::Runtime(anyhow!("{e}")))
}
