//! The command line (SPEC.md): parsing and the commands' glue. Exit status 0 on success, 1 on
//! a runtime error, 2 on bad usage or bad config.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigError};

#[derive(Debug, Parser)]
#[command(
    name = "loket",
    version,
    about = "Intake worker for DPMPTSP permit offices"
)]
pub struct Cli {
    /// Config file (else $LOKET_CONFIG, else ./loket.toml).
    #[arg(
        long,
        global = true,
        env = "LOKET_CONFIG",
        default_value = "loket.toml"
    )]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Watch the mailbox and the spool folder, process, send mail; until SIGTERM/SIGINT.
    Run {
        /// Do all work available now, then exit.
        #[arg(long)]
        once: bool,
    },
    /// Mail-room upload of scanned postal files: one case per file; prints CODE<TAB>FILE.
    Import {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Applicant name (wins over what is read from the form).
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        address: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        /// Also split batch scans at blank pages (besides separator sheets).
        #[arg(long)]
        split_blank: bool,
    },
    /// Printable receipt letters for postal applicants (those not yet printed, or the named
    /// cases) as one A4 PDF.
    Letters {
        codes: Vec<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// A separator sheet to put between applications when scanning a stack in one go (with the
    /// office name from the config, if there is one).
    SeparatorSheet {
        #[arg(long)]
        out: PathBuf,
    },
    /// Cases filed so far.
    Cases {
        #[command(subcommand)]
        command: CasesCommand,
    },
    /// The rule files.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// The worker processes that share this database, alive or gone, with the jobs they hold.
    Workers {
        #[arg(long)]
        json: bool,
    },
    /// The officers' desk and the public status page over HTTP (`[web] listen`), until SIGTERM.
    Serve,
    /// Desk accounts.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// A consistent copy of database (SQLite), documents, rules and templates into a new
    /// folder, while the worker runs.
    Backup {
        #[arg(long)]
        out: PathBuf,
        /// Only the documents the database refers to (folder or object store), for any
        /// database: with PostgreSQL, run it after pg_dump.
        #[arg(long)]
        blobs_only: bool,
    },
    /// Put a backup folder back where the config says (stop `run` and `serve` first).
    Restore {
        dir: PathBuf,
        /// Replace a database that already holds cases (its files are kept beside it).
        #[arg(long, conflicts_with = "blobs_only")]
        force: bool,
        /// Only put back the documents the database refers to (after pg_restore), from a
        /// `loket backup --blobs-only` folder.
        #[arg(long)]
        blobs_only: bool,
    },
    /// Remove documents, their text and message bodies of cases approved, rejected or closed
    /// longer ago than DURATION (90d, 12w, 18m, 5y); the case record stays.
    Purge {
        #[arg(long, value_name = "DURATION")]
        older_than: crate::maintenance::RetentionPeriod,
        /// List what would go; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// The stored documents and raw messages.
    Blobs {
        #[command(subcommand)]
        command: BlobsCommand,
    },
    /// Steps given up on after repeated failures; `parked retry ID` queues one again.
    Parked {
        #[arg(long)]
        json: bool,
        #[command(subcommand)]
        command: Option<ParkedCommand>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create an account; the password is read from standard input (one line) or a file.
    Add {
        username: String,
        /// admin | head | officer | triage | mailroom
        #[arg(long)]
        role: String,
        /// The department (bidang) of a head or officer: a department id from the rules.
        #[arg(long)]
        department: Option<String>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// Every account.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Disable an account: its sessions and tokens stop working at once.
    Disable { username: String },
    /// A new password (read like `add`); the account's sessions end.
    Passwd {
        username: String,
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// Print a new API token (bearer) for scripts.
    Token { username: String },
}

#[derive(Debug, Subcommand)]
pub enum BlobsCommand {
    /// Check that every blob the database refers to is in the store and matches its hash;
    /// exit 1 with a list of the missing and damaged ones otherwise.
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum ParkedCommand {
    /// Queue a parked step again (its id from `loket parked`).
    Retry { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum CasesCommand {
    /// Cases, newest first.
    List {
        #[arg(long)]
        json: bool,
        #[arg(long)]
        department: Option<String>,
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        kind: Option<String>,
        /// Show at most this many.
        #[arg(long)]
        limit: Option<i64>,
    },
    /// One case with documents, requirements and history.
    Show {
        code: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Validate the rule files; errors name file and line. Then score the rules on the
    /// labelled sets in rules/tests/ and on officers' corrections.
    Check {
        /// A corrections file (`rules corrections --out`) or a folder of them; repeatable.
        #[arg(long, value_name = "FILE")]
        corrections: Vec<PathBuf>,
    },
    /// Extract and classify an .eml, PDF or image without filing it.
    Explain { file: PathBuf },
    /// Export the cases officers re-sorted at the desk as labelled cases (rules/tests format).
    Corrections {
        #[arg(long)]
        out: PathBuf,
    },
    /// Propose phrase and weight changes from officers' corrections, each with the cases it
    /// would fix and break; for a person to review. Never writes a rule file.
    Suggest {
        /// A corrections file (`rules corrections --out`) or a folder of them; repeatable.
        #[arg(long, value_name = "FILE", required = true)]
        corrections: Vec<PathBuf>,
        /// Also write the proposals (text and TOML snippets) to this file.
        #[arg(long)]
        out: Option<PathBuf>,
        /// A new phrase must be in at least this many corrected cases it would fix.
        #[arg(long, default_value_t = 2)]
        min_cases: usize,
    },
}

/// A failure and the exit status it maps to.
pub enum Failure {
    Usage(String),
    Runtime(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Runtime(e)
    }
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure::Usage(e.to_string())
    }
}

/// Parse arguments, run the command, print errors as one line, return the exit status.
pub fn main() -> ExitCode {
    // OCR worker processes speak a binary protocol on stdin/stdout: no CLI, no logging there.
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("__ocr-worker") {
        let languages = args.get(2).map(String::as_str).unwrap_or("ind+eng");
        return ExitCode::from(crate::extract::ocr::worker_main(languages).clamp(0, 255) as u8);
    }
    let cli = Cli::parse();
    crate::telemetry::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("loket: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(msg)) => {
            eprintln!("loket: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(e)) => {
            eprintln!("loket: {e:#}");
            ExitCode::from(1)
        }
    }
}

async fn dispatch(cli: Cli) -> Result<(), Failure> {
    // The log format follows the config from the moment it is loaded.
    let load = || Config::load(&cli.config).inspect(|cfg| crate::telemetry::apply(cfg.log.format));
    match cli.command {
        Command::Run { once } => crate::commands::run(load()?, once).await,
        Command::Import {
            files,
            name,
            address,
            email,
            phone,
            split_blank,
        } => {
            let details = crate::domain::ApplicantDetails {
                name,
                address,
                email,
                phone,
            };
            crate::commands::import(load()?, &files, details, split_blank).await
        }
        Command::Letters { codes, out } => {
            let cfg = load()?;
            let catalogue = crate::commands::load_rules(&cfg.rules.dir)?;
            let n = crate::printing::print_letters(&cfg, &catalogue, &codes, &out).await?;
            if n == 0 {
                eprintln!("no letters to print");
            } else {
                eprintln!("{n} letter(s) written to {}", out.display());
            }
            Ok(())
        }
        Command::SeparatorSheet { out } => {
            let name = office_name(&cli.config)?;
            let pdf = crate::notify::separator::separator_sheet_pdf(&name)
                .map_err(|e| anyhow::anyhow!("separator sheet: {e}"))?;
            std::fs::write(&out, pdf).with_context(|| format!("write {}", out.display()))?;
            Ok(())
        }
        Command::Cases { command } => crate::commands::cases(load()?, command).await,
        Command::Workers { json } => crate::commands::workers(load()?, json).await,
        Command::Serve => crate::commands::serve(load()?).await,
        Command::Users { command } => crate::users::run(load()?, command).await,
        Command::Blobs {
            command: BlobsCommand::Verify,
        } => crate::commands::blobs_verify(load()?).await,
        Command::Parked { json, command } => {
            let retry = command.map(|ParkedCommand::Retry { id }| id);
            crate::commands::parked(load()?, json, retry).await
        }
        Command::Backup { out, blobs_only } => {
            crate::commands::backup(load()?, &out, blobs_only).await
        }
        Command::Restore {
            dir,
            force,
            blobs_only,
        } => crate::commands::restore(load()?, &dir, force, blobs_only).await,
        Command::Purge {
            older_than,
            dry_run,
        } => crate::commands::purge(load()?, older_than, dry_run).await,
        Command::Rules {
            command: RulesCommand::Check { corrections },
        } => {
            let (dir, own) = rules_dir(&cli.config)?;
            crate::commands::rules_check(&dir, &own, &corrections)
        }
        Command::Rules {
            command:
                RulesCommand::Suggest {
                    corrections,
                    out,
                    min_cases,
                },
        } => {
            let (dir, _) = rules_dir(&cli.config)?;
            let sets = crate::rules_report::correction_sets(&corrections)?;
            let catalogue = crate::commands::load_rules(&dir)?;
            let opts = crate::classify::suggest::Options {
                min_cases: min_cases.max(1),
                ..Default::default()
            };
            crate::rules_report::suggest(&dir, &catalogue, &sets, opts, out.as_deref())
        }
        Command::Rules {
            command: RulesCommand::Corrections { out },
        } => {
            let n = crate::corrections::export(&load()?, &out).await?;
            eprintln!("{n} corrected case(s) written to {}", out.display());
            Ok(())
        }
        Command::Rules {
            command: RulesCommand::Explain { file },
        } => crate::commands::rules_explain(load()?, &file).await,
    }
}

/// `rules check` works without a complete config: the rules folder from the config if there is
/// one, else `./rules`; with the office's own addresses (none without a config).
fn rules_dir(config: &std::path::Path) -> Result<(PathBuf, Vec<String>), Failure> {
    if config.exists() {
        let cfg = Config::load(config)?;
        let own = cfg.office_addresses();
        Ok((cfg.rules.dir, own))
    } else {
        Ok((PathBuf::from("rules"), Vec::new()))
    }
}

/// The office name for `separator-sheet`: from the config if there is one (a broken config is
/// still an error), else none; the sheet works the same without it.
fn office_name(config: &std::path::Path) -> Result<String, Failure> {
    if config.exists() {
        Ok(Config::load(config)?.office.name)
    } else {
        Ok(String::new())
    }
}

/// Used by commands for runtime errors with context.
pub fn runtime<T>(
    r: Result<T, impl std::error::Error + Send + Sync + 'static>,
    what: &'static str,
) -> Result<T, Failure> {
    r.context(what).map_err(Failure::Runtime)
}
