//! Every metric loket exports: names, help texts, labels, and the one-line calls the pipeline
//! makes. Names start with `loket_` and follow Prometheus naming (`_total` for counters, base
//! units in the name).
//!
//! [`register`] creates every series with value 0 at start, so dashboards and alerts see a
//! metric before it first moves (a counter that appears only after the first failure cannot be
//! alerted on with `rate()`). Without `[metrics] listen` no recorder is installed and every
//! call here does nothing.
//!
//! Counters count what this process did; the queue gauges ([`set_queue`]) are read from the
//! database and are the same in every process sharing it.

use std::time::Duration;

use metrics::Unit;
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};

use crate::filing::gauges::QueueRow;
use crate::filing::jobs::{FailOutcome, Failure};
use crate::filing::JobKind;

pub const MESSAGES_FETCHED: &str = "loket_messages_fetched_total";
pub const IMAP_CONNECTED: &str = "loket_imap_connected";
pub const CASES_FILED: &str = "loket_cases_filed_total";
pub const STEPS: &str = "loket_steps_total";
pub const STEP_DURATION: &str = "loket_step_duration_seconds";
pub const JOBS: &str = "loket_jobs";
pub const QUEUE_DEPTH: &str = "loket_queue_depth";
pub const OLDEST_PENDING_AGE: &str = "loket_oldest_pending_job_age_seconds";
pub const PARKED_STEPS: &str = "loket_parked_steps";
pub const OCR_PAGES: &str = "loket_ocr_pages_total";
pub const OCR_SECONDS: &str = "loket_ocr_page_seconds";
pub const MAILS_SENT: &str = "loket_mails_sent_total";
pub const BOUNCES: &str = "loket_bounces_total";

/// Histogram buckets of [`STEP_DURATION`] (seconds): from a quick sort to a long OCR scan.
pub const STEP_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

/// Histogram buckets of [`OCR_SECONDS`]: an A4 page takes about half a second on one core.
pub const OCR_BUCKETS: &[f64] = &[0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0];

/// How a step ended ([`STEPS`] label `outcome`).
pub const STEP_OUTCOMES: &[&str] = &["done", "retry", "outage", "parked", "lost"];
/// [`JOBS`] label `state` (finished jobs are not counted, see `filing::gauges`).
pub const JOB_STATES: &[&str] = &["pending", "running", "parked"];
/// [`MAILS_SENT`] label `outcome`.
pub const MAIL_OUTCOMES: &[&str] = &["sent", "temporary_failure", "permanent_failure"];
/// [`OCR_PAGES`] label `outcome`.
pub const OCR_OUTCOMES: &[&str] = &["read", "unreadable"];
/// [`BOUNCES`] label `severity`.
pub const BOUNCE_SEVERITIES: &[&str] = &["permanent", "delayed"];
/// [`CASES_FILED`] label `kind` (`domain::Kind`).
pub const CASE_KINDS: &[&str] = &["application", "complaint", "consultation", "other"];
/// [`CASES_FILED`] label `department` for a case that went to triage.
pub const NO_DEPARTMENT: &str = "triage";

/// Help texts (shown as `# HELP`), once per process.
fn describe() {
    describe_counter!(
        MESSAGES_FETCHED,
        "Messages fetched from a mailbox and stored"
    );
    describe_gauge!(
        IMAP_CONNECTED,
        "1 while this process holds a session to the mailbox, else 0"
    );
    describe_counter!(
        CASES_FILED,
        "Cases sorted for the first time, by kind and department"
    );
    describe_counter!(STEPS, "Pipeline steps run, by step and outcome");
    describe_histogram!(STEP_DURATION, Unit::Seconds, "Time one pipeline step took");
    describe_gauge!(JOBS, "Unfinished jobs in the database, by kind and state");
    describe_gauge!(QUEUE_DEPTH, "Pending jobs whose time has come, by kind");
    describe_gauge!(
        OLDEST_PENDING_AGE,
        Unit::Seconds,
        "Age of the oldest pending job, by kind (0 when none)"
    );
    describe_gauge!(PARKED_STEPS, "Steps parked for an officer");
    describe_counter!(OCR_PAGES, "Pages read by OCR, by outcome");
    describe_histogram!(
        OCR_SECONDS,
        Unit::Seconds,
        "Time OCR took for one page (_sum: seconds spent on OCR)"
    );
    describe_counter!(MAILS_SENT, "SMTP deliveries, by outcome");
    describe_counter!(BOUNCES, "Delivery reports for mail loket sent, by severity");
}

/// What the label values are at start.
#[derive(Debug, Default, Clone)]
pub struct Known {
    /// The mailboxes this process watches (`Mailbox::state_key`); none for `serve`.
    pub mailboxes: Vec<String>,
    /// The departments of the rules.
    pub departments: Vec<String>,
}

/// Describe every metric and create each series at 0.
pub fn register(known: &Known) {
    describe();
    for mailbox in &known.mailboxes {
        register_mailbox(mailbox);
    }
    let departments = known
        .departments
        .iter()
        .map(String::as_str)
        .chain([NO_DEPARTMENT]);
    for department in departments {
        for kind in CASE_KINDS {
            counter!(CASES_FILED, "kind" => *kind, "department" => department.to_string())
                .absolute(0);
        }
    }
    for kind in JobKind::ALL.iter().map(|k| k.as_str()) {
        for outcome in STEP_OUTCOMES {
            counter!(STEPS, "step" => kind, "outcome" => *outcome).absolute(0);
        }
        let _registered = histogram!(STEP_DURATION, "step" => kind);
        for state in JOB_STATES {
            gauge!(JOBS, "kind" => kind, "state" => *state).set(0.0);
        }
        gauge!(QUEUE_DEPTH, "kind" => kind).set(0.0);
        gauge!(OLDEST_PENDING_AGE, "kind" => kind).set(0.0);
    }
    gauge!(PARKED_STEPS).set(0.0);
    for outcome in OCR_OUTCOMES {
        counter!(OCR_PAGES, "outcome" => *outcome).absolute(0);
    }
    let _registered = histogram!(OCR_SECONDS);
    for outcome in MAIL_OUTCOMES {
        counter!(MAILS_SENT, "outcome" => *outcome).absolute(0);
    }
    for severity in BOUNCE_SEVERITIES {
        counter!(BOUNCES, "severity" => *severity).absolute(0);
    }
}

/// The series of one mailbox (`Mailbox::state_key`), at 0.
pub fn register_mailbox(mailbox: &str) {
    counter!(MESSAGES_FETCHED, "mailbox" => mailbox.to_string()).absolute(0);
    gauge!(IMAP_CONNECTED, "mailbox" => mailbox.to_string()).set(0.0);
}

pub fn messages_fetched(mailbox: &str, n: usize) {
    counter!(MESSAGES_FETCHED, "mailbox" => mailbox.to_string()).increment(n as u64);
}

pub fn imap_connected(mailbox: &str, connected: bool) {
    gauge!(IMAP_CONNECTED, "mailbox" => mailbox.to_string()).set(f64::from(u8::from(connected)));
}

/// A case was sorted for the first time; `department` None: it went to triage.
pub fn case_filed(kind: &str, department: Option<&str>) {
    let department = department.unwrap_or(NO_DEPARTMENT).to_string();
    counter!(CASES_FILED, "kind" => kind.to_string(), "department" => department).increment(1);
}

/// A step ended with `outcome` (one of [`STEP_OUTCOMES`]) after `took` (None: parked without
/// running, after crashing the worker too often).
pub fn step_finished(step: JobKind, outcome: &'static str, took: Option<Duration>) {
    counter!(STEPS, "step" => step.as_str(), "outcome" => outcome).increment(1);
    if let Some(took) = took {
        histogram!(STEP_DURATION, "step" => step.as_str()).record(took.as_secs_f64());
    }
}

/// The [`STEPS`] outcome of a failed step, from what the queue made of the failure.
pub fn failed_outcome(outcome: FailOutcome, failure: Failure) -> &'static str {
    match outcome {
        FailOutcome::Retry if failure == Failure::Outage => "outage",
        FailOutcome::Retry => "retry",
        FailOutcome::Parked => "parked",
        FailOutcome::LeaseLost => "lost",
    }
}

/// One page went through OCR.
pub fn ocr_page(read: bool, took: Duration) {
    let outcome = if read { "read" } else { "unreadable" };
    counter!(OCR_PAGES, "outcome" => outcome).increment(1);
    histogram!(OCR_SECONDS).record(took.as_secs_f64());
}

/// One SMTP delivery: accepted, or refused for now or for good.
pub fn mail_sent<E>(result: &Result<(), E>, transient: impl Fn(&E) -> bool) {
    let outcome = match result {
        Ok(()) => "sent",
        Err(e) if transient(e) => "temporary_failure",
        Err(_) => "permanent_failure",
    };
    counter!(MAILS_SENT, "outcome" => outcome).increment(1);
}

/// A delivery report for mail loket sent was recorded on its case.
pub fn bounce(permanent: bool) {
    let severity = if permanent { "permanent" } else { "delayed" };
    counter!(BOUNCES, "severity" => severity).increment(1);
}

/// The queue gauges from the database's counts; kinds and states without rows go back to 0.
pub fn set_queue(rows: &[QueueRow], now_ms: i64) {
    let mut parked = 0;
    for kind in JobKind::ALL.iter().map(|k| k.as_str()) {
        let of_kind = rows.iter().filter(|r| r.kind == kind);
        for state in JOB_STATES {
            let n: i64 = of_kind
                .clone()
                .filter(|r| r.state == *state)
                .map(|r| r.jobs)
                .sum();
            gauge!(JOBS, "kind" => kind, "state" => *state).set(n as f64);
        }
        let pending = of_kind.clone().find(|r| r.state == "pending");
        let due = pending.map_or(0, |r| r.due);
        let age_ms = pending.map_or(0, |r| (now_ms - r.oldest_created_at).max(0));
        gauge!(QUEUE_DEPTH, "kind" => kind).set(due as f64);
        gauge!(OLDEST_PENDING_AGE, "kind" => kind).set(age_ms as f64 / 1000.0);
        parked += of_kind
            .filter(|r| r.state == "parked")
            .map(|r| r.jobs)
            .sum::<i64>();
    }
    gauge!(PARKED_STEPS).set(parked as f64);
}
