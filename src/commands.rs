//! The commands behind the CLI: thin glue between the library and the terminal.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::classify::{Catalogue, ClassifyInput, Decision, DocInput};
use crate::cli::{CasesCommand, Failure};
use crate::config::Config;
use crate::domain::calendar::HOLIDAYS_FILE;
use crate::domain::{Calendar, TrackingCode};
use crate::extract::document::read_document;
use crate::extract::mime::{self, MimeLimits};
use crate::filing::blobs::BlobError;
use crate::filing::views::{CaseFilter, CaseView};
use crate::filing::Store;
use crate::intake::spool::Origin;
use crate::pipeline::error_chain;
use crate::worker::{self, WorkerError};

/// Startup problems in files the office edits (rules, templates) are config errors (status 2).
fn startup(e: WorkerError) -> Failure {
    match e {
        WorkerError::Rules(_)
        | WorkerError::Template(_)
        | WorkerError::Blob(BlobError::Config(_)) => Failure::Usage(e.to_string()),
        other => Failure::Runtime(anyhow!(error_chain(&other))),
    }
}

pub async fn run(cfg: Config, once: bool) -> Result<(), Failure> {
    let command = if once { "run --once" } else { "run" };
    let ctx = worker::context(cfg, command).await.map_err(startup)?;
    if once {
        let report = worker::run_once(&ctx).await;
        ctx.close().await;
        let report = report.map_err(startup)?;
        for skipped in &report.skipped {
            eprintln!("loket: skipped {skipped}; all other work was done");
        }
        info!(
            fetched = report.fetched,
            done = report.jobs.done,
            retrying = report.jobs.retrying,
            parked = report.jobs.parked,
            moved = report.moved,
            "run --once finished"
        );
        if !report.unreachable.is_empty() {
            return Err(Failure::Runtime(anyhow!(report.unreachable.join("; "))));
        }
        return Ok(());
    }
    if let Some(mailer) = &ctx.mailer {
        if let Err(e) = mailer.check().await {
            warn!(error = %error_chain(&e), "SMTP server not reachable now; acknowledgements will wait");
        }
    }
    let cancel = CancellationToken::new();
    let known = crate::telemetry::metrics::Known {
        mailboxes: worker::mailbox_keys(&ctx.cfg),
        departments: ctx.catalogue().department_ids().map(String::from).collect(),
    };
    if let Err(e) = start_metrics(&ctx.cfg, &ctx.store, &known, &cancel).await {
        ctx.close().await;
        return Err(e);
    }
    spawn_signal_handlers(ctx.clone(), cancel.clone());
    worker::run_forever(ctx, cancel).await.map_err(startup)
}

/// The metrics listener, when `[metrics] listen` is set; stops with `stop`.
async fn start_metrics(
    cfg: &Config,
    store: &Store,
    known: &crate::telemetry::metrics::Known,
    stop: &CancellationToken,
) -> Result<(), Failure> {
    let Some(m) = &cfg.metrics else {
        return Ok(());
    };
    crate::telemetry::exporter::start(&m.listen, store.clone(), known, stop.clone())
        .await
        .map(|_| ())
        .map_err(|e| Failure::Runtime(anyhow!(error_chain(&e))))
}

/// SIGTERM/SIGINT stop the worker after in-flight steps; SIGHUP reloads the rules.
fn spawn_signal_handlers(ctx: crate::pipeline::Context, cancel: CancellationToken) {
    use tokio::signal::unix::{signal, SignalKind};
    tokio::spawn(async move {
        let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::hangup()),
        ) else {
            warn!("cannot install signal handlers");
            return;
        };
        loop {
            tokio::select! {
                _ = term.recv() => break,
                _ = int.recv() => break,
                _ = hup.recv() => worker::reload_rules(&ctx),
            }
        }
        info!("stopping: finishing steps in flight");
        cancel.cancel();
    });
}

/// `loket serve`: the desk until SIGTERM/SIGINT. Registered in `workers` like the other
/// processes (it holds no jobs), so `loket workers` shows it.
pub async fn serve(cfg: Config) -> Result<(), Failure> {
    use crate::desk::ServeError;
    let store = Store::open_with(&cfg.database.url, cfg.store_options())
        .await
        .map_err(|e| Failure::Runtime(anyhow!(error_chain(&e))))?;
    let me = crate::filing::workers::WorkerInfo::this_process("serve");
    store
        .register_worker(&me)
        .await
        .map_err(|e| Failure::Runtime(anyhow!(error_chain(&e))))?;
    let beat = {
        let (store, id) = (store.clone(), me.id.clone());
        let period = crate::pipeline::heartbeat_period(&store);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(period).await;
                if let Err(e) = store.worker_heartbeat(&id).await {
                    warn!(error = %error_chain(&e), "heartbeat failed");
                }
            }
        })
    };
    let stop_metrics = CancellationToken::new();
    let known = crate::telemetry::metrics::Known {
        mailboxes: Vec::new(),
        departments: Catalogue::load_dir(&cfg.rules.dir)
            .map(|c| c.department_ids().map(String::from).collect())
            .unwrap_or_default(),
    };
    if let Err(e) = start_metrics(&cfg, &store, &known, &stop_metrics).await {
        beat.abort();
        let _ = store.worker_stopped(&me.id).await;
        return Err(e);
    }
    let shutdown = async {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {},
                    _ = int.recv() => {},
                }
            }
            _ => std::future::pending::<()>().await,
        }
        info!("stopping the desk");
    };
    let result = crate::desk::serve(cfg, shutdown).await;
    stop_metrics.cancel();
    beat.abort();
    let _ = store.worker_stopped(&me.id).await;
    store.close().await;
    result.map_err(|e| match e {
        ServeError::Rules(_)
        | ServeError::Templates(_)
        | ServeError::Proxy(_)
        | ServeError::Blob(BlobError::Config(_)) => Failure::Usage(e.to_string()),
        other => Failure::Runtime(anyhow!(error_chain(&other))),
    })
}

/// Store each scanned file as a postal case, process them, print `CODE<TAB>FILE` per case.
pub async fn import(
    cfg: Config,
    files: &[std::path::PathBuf],
    details: crate::domain::ApplicantDetails,
    split_blank: bool,
) -> Result<(), Failure> {
    let ctx = worker::context(cfg, "import").await.map_err(startup)?;
    let result = import_with(&ctx, files, details, split_blank).await;
    ctx.close().await;
    result
}

async fn import_with(
    ctx: &crate::pipeline::Context,
    files: &[std::path::PathBuf],
    details: crate::domain::ApplicantDetails,
    split_blank: bool,
) -> Result<(), Failure> {
    let details = (!details.is_empty()).then_some(details);
    let intake = ctx.intake();
    let mut stored = Vec::new();
    let mut failed = 0;
    for (i, file) in files.iter().enumerate() {
        if std::io::IsTerminal::is_terminal(&std::io::stderr()) && files.len() > 1 {
            eprint!("\r[{}/{}] {}\x1b[K", i + 1, files.len(), file.display());
        }
        match crate::intake::spool::store_file(
            &intake,
            file,
            details.as_ref(),
            Origin::Import,
            split_blank,
        )
        .await
        {
            Ok(s) => stored.extend(s),
            Err(e) => {
                failed += 1;
                eprintln!("{}", error_chain(&e));
            }
        }
    }
    let report = crate::pipeline::drain(ctx, Some(crate::filing::now_ms()))
        .await
        .map_err(|e| Failure::Runtime(anyhow!(error_chain(&e))))?;
    if report.transient > 0 {
        warn!("some acknowledgements wait for the SMTP server; `loket run` will send them");
    }
    let mut conn = ctx
        .store
        .conn()
        .await
        .map_err(|e| Failure::Runtime(anyhow!(error_chain(&e))))?;
    for s in &stored {
        let code = crate::filing::messages::tracking_code_of(&mut conn, s.message_row)
            .await
            .map_err(|e| Failure::Runtime(anyhow!(error_chain(&e))))?;
        match code {
            Some(code) => println!("{code}\t{}", s.path.display()),
            None => {
                failed += 1;
                eprintln!("{}: not filed (see `loket run` log)", s.path.display());
            }
        }
    }
    if failed > 0 {
        return Err(Failure::Runtime(anyhow!(
            "{failed} of {} file(s) could not be filed",
            files.len()
        )));
    }
    Ok(())
}

/// Open the store for a short command (it does not register as a worker).
async fn open_store(cfg: &Config) -> Result<Store, Failure> {
    let options = crate::filing::StoreOptions {
        max_connections: 2,
        ..cfg.store_options()
    };
    Store::open_with(&cfg.database.url, options)
        .await
        .map_err(|e| Failure::Runtime(anyhow!(error_chain(&e))))
}

/// `loket workers`: the processes sharing this database, with the jobs they hold.
pub async fn workers(cfg: Config, json: bool) -> Result<(), Failure> {
    let store = open_store(&cfg).await?;
    let workers = store
        .list_workers()
        .await
        .map_err(|e| Failure::Runtime(anyhow!(error_chain(&e))))?;
    store.close().await;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&workers).context("print JSON")?
        );
        return Ok(());
    }
    for w in &workers {
        println!(
            "{}\t{}\t{}:{}\t{}\tstarted {}\theartbeat {}\t{} job(s)\t{}{}",
            w.id,
            if w.alive { "alive" } else { "gone" },
            w.host,
            w.pid,
            w.command,
            w.started_at,
            w.heartbeat_at,
            w.jobs_held,
            w.version,
            if w.mailboxes.is_empty() {
                String::new()
            } else {
                format!("\twatches {}", w.mailboxes.join(", "))
            }
        );
    }
    Ok(())
}

/// `loket blobs verify`: one line per missing or damaged blob and each row that refers to it
/// (`missing|corrupt|unreadable<TAB>SHA<TAB>document|message ID<TAB>CODE<TAB>NAME`), then exit 1;
/// a summary line and exit 0 when every blob is intact.
pub async fn blobs_verify(cfg: Config) -> Result<(), Failure> {
    use crate::filing::blobs::{self, BlobStore, VerifyError};
    let blob_store = BlobStore::open(&cfg.storage).map_err(|e| Failure::Usage(e.to_string()))?;
    let store = open_store(&cfg).await?;
    let report = blobs::verify(&store, &blob_store).await;
    store.close().await;
    let report = report.map_err(|e| match e {
        VerifyError::Unreachable(e) => anyhow!("blobs not verified: {}", error_chain(&e)),
        VerifyError::Store(e) => anyhow!(error_chain(&e)),
    })?;
    let place = blob_store.describe();
    if report.bad.is_empty() {
        println!(
            "{} blob(s) in {place}: all present and intact",
            report.checked
        );
        return Ok(());
    }
    for bad in &report.bad {
        let problem = match &bad.problem {
            BlobError::Missing { .. } => "missing",
            BlobError::Corrupt { .. } => "corrupt",
            _ => "unreadable",
        };
        for r in &bad.refs {
            println!(
                "{problem}\t{}\t{} {}\t{}\t{}",
                bad.sha256,
                r.what,
                r.id,
                r.tracking_code.as_deref().unwrap_or("-"),
                r.label.as_deref().unwrap_or("-")
            );
        }
        if !matches!(
            bad.problem,
            BlobError::Missing { .. } | BlobError::Corrupt { .. }
        ) {
            eprintln!("loket: {}", error_chain(&bad.problem));
        }
    }
    Err(Failure::Runtime(anyhow!(
        "{} of {} blob(s) in {place} missing or damaged",
        report.bad.len(),
        report.checked
    )))
}

/// `loket parked`: steps given up on, and `parked retry ID` to queue one again.
pub async fn parked(cfg: Config, json: bool, retry: Option<i64>) -> Result<(), Failure> {
    let store = open_store(&cfg).await?;
    let result = parked_with(&store, json, retry).await;
    store.close().await;
    result
}

async fn parked_with(store: &Store, json: bool, retry: Option<i64>) -> Result<(), Failure> {
    let runtime = |e: crate::filing::StoreError| Failure::Runtime(anyhow!(error_chain(&e)));
    if let Some(id) = retry {
        if !store
            .retry_parked(crate::filing::JobId(id))
            .await
            .map_err(runtime)?
        {
            return Err(Failure::Runtime(anyhow!("no parked step with id {id}")));
        }
        eprintln!("step {id} queued again; `loket run` will take it");
        return Ok(());
    }
    let parked = store.parked().await.map_err(runtime)?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&parked).context("print JSON")?
        );
        return Ok(());
    }
    for p in &parked {
        println!(
            "{}\t{}\t{}\t{}\t{} attempt(s)\t{}",
            p.id,
            p.kind,
            p.tracking_code.as_deref().unwrap_or("-"),
            p.parked_at,
            p.attempts,
            p.error.as_deref().unwrap_or("")
        );
    }
    Ok(())
}

pub async fn cases(cfg: Config, command: CasesCommand) -> Result<(), Failure> {
    let store = open_store(&cfg).await?;
    match command {
        CasesCommand::List {
            json,
            department,
            status,
            kind,
            limit,
        } => {
            let filter = CaseFilter {
                department,
                status,
                kind,
                limit,
                ..CaseFilter::default()
            };
            let cases = store
                .list_cases(&filter)
                .await
                .map_err(|e| Failure::Runtime(anyhow!(error_chain(&e))))?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&cases).context("print JSON")?
                );
            } else {
                print_case_lines(&cases);
            }
            Ok(())
        }
        CasesCommand::Show { code, json } => {
            let canonical = TrackingCode::parse_for(&cfg.office.code, &code)
                .map(|c| c.to_string())
                .unwrap_or_else(|_| code.trim().to_uppercase());
            let case = store
                .show_case(&canonical)
                .await
                .map_err(|e| Failure::Runtime(anyhow!(error_chain(&e))))?;
            let Some(case) = case else {
                return Err(Failure::Runtime(anyhow!(
                    "no case with tracking code {code}"
                )));
            };
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&case).context("print JSON")?
                );
            } else {
                print_case(&case);
            }
            Ok(())
        }
    }
}

fn print_case_lines(cases: &[CaseView]) {
    for c in cases {
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            c.tracking_code,
            c.received_at,
            c.channel,
            c.kind,
            c.permit_type
                .as_deref()
                .unwrap_or(if c.kind == "application" {
                    "(triage)"
                } else {
                    "-"
                }),
            c.department.as_deref().unwrap_or("-"),
            c.status,
            c.applicant
                .email
                .as_deref()
                .or(c.applicant.name.as_deref())
                .unwrap_or("-"),
            c.subject.as_deref().unwrap_or("")
        );
    }
}

fn print_case(c: &CaseView) {
    println!("Nomor pelacakan / tracking code: {}", c.tracking_code);
    println!("Diterima / received: {} ({})", c.received_at, c.channel);
    println!("Jenis / kind: {}   Status: {}", c.kind, c.status);
    println!(
        "Izin / permit: {}   Bidang / department: {}",
        c.permit_type_name
            .as_deref()
            .or(c.permit_type.as_deref())
            .unwrap_or("(triage)"),
        c.department_name
            .as_deref()
            .or(c.department.as_deref())
            .unwrap_or("-")
    );
    let a = &c.applicant;
    println!(
        "Pemohon / applicant: {} <{}> {} {}",
        a.name.as_deref().unwrap_or("-"),
        a.email.as_deref().unwrap_or("-"),
        a.phone.as_deref().unwrap_or(""),
        a.address.as_deref().unwrap_or("")
    );
    println!("Perihal / subject: {}", c.subject.as_deref().unwrap_or(""));
    if let Some(d) = &c.details {
        if let Some(e) = &d.error {
            println!("Kesalahan / error: {e}");
        }
        if let Some(n) = &d.no_reply {
            println!("Tidak dibalas / not acknowledged: {n}");
        }
    }
    println!("Berkas / documents:");
    for d in &c.documents {
        println!(
            "  - {} [{}; {} page(s); type {}; {} chars]{}",
            d.filename,
            d.content_type,
            d.pages.unwrap_or(0),
            d.doc_type.as_deref().unwrap_or("?"),
            d.text_chars,
            d.error
                .as_deref()
                .map(|e| format!(" ERROR: {e}"))
                .unwrap_or_default()
        );
        if !d.handwritten_pages.is_empty() {
            let pages: Vec<String> = d.handwritten_pages.iter().map(u32::to_string).collect();
            println!(
                "    tulisan tangan / handwritten: halaman {}",
                pages.join(", ")
            );
        }
    }
    println!("Persyaratan / requirements:");
    for r in &c.requirements {
        let mark = if r.satisfied { "x" } else { " " };
        let req = if r.required { "wajib" } else { "opsional" };
        println!("  [{mark}] {} ({req})", r.name);
    }
    if !c.missing.is_empty() {
        println!("Kurang / missing: {}", c.missing.join(", "));
    }
    println!("Riwayat / history:");
    for e in c.history.iter().flatten() {
        println!("  {} {} {}", e.at, e.event, e.detail);
    }
}

/// Validate the rules and the holiday list; warn (without failing) about a department whose
/// email is an address loket itself watches or sends from: its notices would come straight
/// back, so none are sent. Then how the rules score on the committed labelled sets and on the
/// officers' corrections (scores never change the exit status; an unreadable corrections file
/// named on the command line does).
pub fn rules_check(
    dir: &Path,
    own_addresses: &[String],
    corrections: &[PathBuf],
) -> Result<(), Failure> {
    let corrections = crate::rules_report::correction_sets(corrections)?;
    let catalogue = load_rules(dir);
    let calendar = load_calendar(dir);
    let (catalogue, calendar) = (catalogue?, calendar?);
    for d in catalogue.departments() {
        if own_addresses.contains(&d.email.trim().to_lowercase()) {
            eprintln!(
                "warning: department {:?} has email {} which loket itself watches or sends from: \
                 department notices to it are never sent (rules/departments.toml)",
                d.id, d.email
            );
        }
    }
    println!("{}: OK ({})", dir.display(), catalogue.summary());
    println!("{}", calendar_summary(&calendar));
    let committed = crate::rules_report::committed_sets(dir);
    crate::rules_report::print_scores(&catalogue, &committed, &corrections);
    Ok(())
}

/// The holiday list, or every problem in it on stderr and a bad-config failure, as for the rules.
pub fn load_calendar(dir: &Path) -> Result<Calendar, Failure> {
    Calendar::load(dir).map_err(|errors| {
        for e in &errors.0 {
            eprintln!("{e}");
        }
        Failure::Usage(format!(
            "{} problem(s) in {}",
            errors.0.len(),
            dir.join(HOLIDAYS_FILE).display()
        ))
    })
}

/// One line for `rules check`: how many days off per year, and which are still estimates.
fn calendar_summary(calendar: &Calendar) -> String {
    let mut years: std::collections::BTreeMap<i32, (usize, usize)> = Default::default();
    for h in calendar.holidays() {
        let entry = years.entry(h.date.year()).or_default();
        entry.0 += 1;
        entry.1 += usize::from(h.tentative);
    }
    if years.is_empty() {
        return format!("{HOLIDAYS_FILE}: none listed, deadlines skip weekends only");
    }
    let per_year: Vec<String> = years
        .iter()
        .map(|(year, (days, tentative))| match tentative {
            0 => format!("{year}: {days}"),
            t => format!("{year}: {days} ({t} tentative)"),
        })
        .collect();
    format!("{HOLIDAYS_FILE}: days off {}", per_year.join(", "))
}

/// The rule files, or every problem in them on stderr (file:line each) and a bad-config
/// failure (status 2), as for `run`.
pub fn load_rules(dir: &Path) -> Result<Catalogue, Failure> {
    Catalogue::load_dir(dir).map_err(|errors| {
        for e in &errors.0 {
            eprintln!("{e}");
        }
        Failure::Usage(format!(
            "{} problem(s) in {}",
            errors.0.len(),
            dir.display()
        ))
    })
}

/// Classify a file as intake would, without filing; print the decision and its reasons.
pub async fn rules_explain(cfg: Config, file: &Path) -> Result<(), Failure> {
    let catalogue = load_rules(&cfg.rules.dir)?;
    explain_with(&cfg, &catalogue, file)
        .await
        .map_err(Failure::Runtime)
}

async fn explain_with(cfg: &Config, catalogue: &Catalogue, file: &Path) -> anyhow::Result<()> {
    let data = std::fs::read(file).with_context(|| format!("read {}", file.display()))?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let looks_like_mail =
        name.to_lowercase().ends_with(".eml") || crate::extract::sniff::looks_like_email(&data);
    let (subject, body, files) = if looks_like_mail {
        let msg = mime::parse(&data, &MimeLimits::default()).map_err(|e| anyhow!("{e}"))?;
        let files: Vec<(String, String, Vec<u8>)> = msg
            .attachments
            .into_iter()
            .map(|a| (a.filename, a.content_type, a.data))
            .collect();
        // As the worker sorts it: what the sender wrote, not the quoted history.
        let body =
            crate::extract::reply::split_with_subject(msg.subject.as_deref(), &msg.body_text)
                .new_text;
        (msg.subject.unwrap_or_default(), body, files)
    } else {
        (
            String::new(),
            String::new(),
            vec![(name.clone(), "application/octet-stream".to_string(), data)],
        )
    };
    let pool =
        crate::extract::ocr::OcrPool::new(cfg.ocr.pool_config().context("OCR worker program")?);
    let mut docs = Vec::with_capacity(files.len());
    for (fname, declared, bytes) in files {
        let mut x = read_document(&bytes, &declared, &fname);
        crate::pipeline::ocr_fill(&pool, std::sync::Arc::new(bytes), &mut x)
            .await
            .map_err(|e| anyhow!("{e}"))?;
        docs.push((fname, x));
    }
    let texts: Vec<(String, String, String)> = docs
        .iter()
        .map(|(n, x)| (n.clone(), x.content_type.clone(), x.text()))
        .collect();
    let input = ClassifyInput {
        subject: &subject,
        body: &body,
        documents: texts
            .iter()
            .map(|(n, t, x)| DocInput {
                filename: n,
                content_type: t,
                text: x,
            })
            .collect(),
    };
    let decision = catalogue.classify(&input);
    print_decision(&decision, &docs);
    Ok(())
}

fn print_decision(d: &Decision, docs: &[(String, crate::extract::document::Extraction)]) {
    println!("kind: {}", d.kind.as_str());
    match (&d.permit_type, d.triage) {
        (Some(p), false) => println!(
            "permit_type: {p} ({})",
            d.permit_type_name.as_deref().unwrap_or("")
        ),
        _ => match &d.leading_permit_type {
            Some(lead) => println!("permit_type: none -> triage (front runner: {lead})"),
            None => println!("permit_type: none -> triage"),
        },
    }
    println!("department: {}", d.department.as_deref().unwrap_or("-"));
    println!(
        "application_type: {}",
        d.application_type.as_deref().unwrap_or("-")
    );
    println!("confidence: {:.2}", d.confidence);
    println!("reasons:");
    for r in &d.reasons {
        println!(
            "  {:+.2} {} in {}: {:?}",
            r.weight,
            r.rule,
            r.field,
            crate::classify::identifiers::mask_in_text(&r.snippet)
        );
    }
    println!("documents:");
    for ((name, x), dd) in docs.iter().zip(&d.documents) {
        let err = x
            .error
            .as_ref()
            .map(|e| format!(" ERROR: {e}"))
            .unwrap_or_default();
        println!(
            "  {name} [{}] -> {}{err}",
            x.content_type,
            dd.doc_type.as_deref().unwrap_or("?")
        );
        for r in &dd.reasons {
            println!(
                "      {:+.2} {} in {}: {:?}",
                r.weight,
                r.rule,
                r.field,
                crate::classify::identifiers::mask_in_text(&r.snippet)
            );
        }
    }
    if !d.requirements.is_empty() {
        println!("requirements:");
        for r in &d.requirements {
            println!(
                "  [{}] {} {}",
                if r.satisfied { "x" } else { " " },
                r.id,
                if r.required { "(wajib)" } else { "" }
            );
        }
    }
    println!("missing: {}", d.missing.join(", "));
    for i in &d.identifiers {
        println!(
            "identifier: {} {}",
            i.kind,
            crate::classify::identifiers::mask(&i.value)
        );
    }
}

fn maintenance_failure(e: crate::maintenance::Error) -> Failure {
    if e.is_usage() {
        Failure::Usage(e.to_string())
    } else {
        Failure::Runtime(anyhow!(error_chain(&e)))
    }
}

/// `loket backup --out DIR [--blobs-only]`.
pub async fn backup(cfg: Config, out: &Path, blobs_only: bool) -> Result<(), Failure> {
    if blobs_only {
        return backup_blobs(cfg, out).await;
    }
    let report = crate::maintenance::backup::backup(&cfg, out)
        .await
        .map_err(maintenance_failure)?;
    let m = &report.manifest;
    eprintln!(
        "backup written to {}: {} case(s), {} document(s), {} message(s), {} file(s); \
         database sha256 {}",
        report.dir.display(),
        m.counts.cases,
        m.counts.documents,
        m.counts.messages,
        m.counts.blobs - m.missing_blobs.len() as i64,
        m.database_sha256
    );
    if !m.missing_blobs.is_empty() {
        return Err(Failure::Runtime(anyhow!(
            "{} file(s) the database refers to were missing or damaged in {} and are not in \
             the backup (listed in its manifest.json): {}",
            m.missing_blobs.len(),
            storage_name(&cfg),
            m.missing_blobs.join(", ")
        )));
    }
    Ok(())
}

async fn backup_blobs(cfg: Config, out: &Path) -> Result<(), Failure> {
    let report = crate::maintenance::backup::backup_blobs(&cfg, out)
        .await
        .map_err(maintenance_failure)?;
    eprintln!(
        "documents backed up to {}: {} file(s) from {}",
        out.display(),
        report.copied,
        storage_name(&cfg)
    );
    if !report.missing.is_empty() {
        return Err(Failure::Runtime(anyhow!(
            "{} file(s) the database refers to were missing or damaged in {} and are not in \
             the backup: {}",
            report.missing.len(),
            storage_name(&cfg),
            report.missing.join(", ")
        )));
    }
    Ok(())
}

/// Where the documents are: the folder, or `s3://BUCKET/PREFIX` (never a secret).
fn storage_name(cfg: &Config) -> String {
    match &cfg.storage.url {
        Some(url) => url.clone(),
        None => cfg.storage.dir.display().to_string(),
    }
}

/// `loket restore DIR [--force | --blobs-only]`.
pub async fn restore(
    cfg: Config,
    dir: &Path,
    force: bool,
    blobs_only: bool,
) -> Result<(), Failure> {
    if blobs_only {
        let report = crate::maintenance::restore::restore_blobs(&cfg, dir)
            .await
            .map_err(maintenance_failure)?;
        eprintln!(
            "documents restored: the database refers to {} file(s); {} added to {}",
            report.referenced,
            report.added,
            storage_name(&cfg)
        );
        return Ok(());
    }
    let report = crate::maintenance::restore::restore(&cfg, dir, force)
        .await
        .map_err(maintenance_failure)?;
    let m = &report.manifest;
    eprintln!(
        "restored the backup of {} (loket {}): {} case(s), {} document(s), {} message(s); \
         {} file(s) added to {}",
        m.created_at,
        m.loket_version,
        report.counts.cases,
        report.counts.documents,
        report.counts.messages,
        report.blobs_added,
        storage_name(&cfg)
    );
    for kept in &report.kept {
        eprintln!("the previous copy is kept as {}", kept.display());
    }
    Ok(())
}

/// `loket purge --older-than DURATION [--dry-run]`: a line per case on stdout
/// (`CODE<TAB>STATUS<TAB>SINCE<TAB>documents<TAB>messages`), the totals on stderr.
pub async fn purge(
    cfg: Config,
    period: crate::maintenance::RetentionPeriod,
    dry_run: bool,
) -> Result<(), Failure> {
    let report = crate::maintenance::purge::purge(&cfg, period, dry_run)
        .await
        .map_err(maintenance_failure)?;
    for c in &report.cases {
        println!(
            "{}\t{}\t{}\t{} document(s)\t{} message(s)",
            c.tracking_code,
            c.status,
            crate::filing::rfc3339(c.closed_at),
            c.documents,
            c.messages
        );
    }
    let cutoff = crate::filing::rfc3339(report.cutoff);
    if dry_run {
        eprintln!(
            "dry run: {} case(s) closed before {cutoff} would be purged, {} file(s) \
             ({} bytes) removed; nothing was changed",
            report.cases.len(),
            report.blobs,
            report.bytes
        );
    } else {
        eprintln!(
            "{} case(s) closed before {cutoff} purged; {} file(s) ({} bytes) removed",
            report.cases.len(),
            report.blobs,
            report.bytes
        );
        if report.recent > 0 {
            eprintln!(
                "{} file(s) were stored again in the last day and stay until a later purge",
                report.recent
            );
        }
    }
    Ok(())
}
