//! Printing for the mail room: the day's letters (receipts and status notices) and separator
//! sheets.

use std::path::Path;

use anyhow::{anyhow, Context as _};

use crate::classify::Catalogue;
use crate::config::Config;
use crate::filing::letters::{self, LetterToPrint};
use crate::filing::views::CaseView;
use crate::filing::workers::WorkerInfo;
use crate::filing::{Job, JobTarget, Store};
use crate::notify::letters::{render_batch, Letter, ReceiptLetter, StatusNoticeLetter};

const BULAN: [&str; 12] = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
];

/// `23 November 2026` in the office's time zone.
pub fn tanggal(cfg: &Config, ms: i64) -> String {
    let offset = time::UtcOffset::from_hms(cfg.office.utc_offset_hours, 0, 0)
        .unwrap_or(time::UtcOffset::UTC);
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(offset);
    format!(
        "{} {} {}",
        t.day(),
        BULAN[usize::from(u8::from(t.month())) - 1],
        t.year()
    )
}

/// The named cases' letters, receipts and status notices (a reprint: no claim, nothing
/// marked).
async fn named_letters(store: &Store, codes: &[String]) -> anyhow::Result<Vec<LetterToPrint>> {
    let mut out = Vec::with_capacity(codes.len());
    for code in codes {
        let found = store.letters_of_case(code).await?;
        if found.is_empty() {
            return Err(anyhow!("no case with tracking code {code}"));
        }
        out.extend(found);
    }
    Ok(out)
}

/// Claim every letter not printed yet: two clerks printing at the same moment get each letter
/// once between them.
async fn claim_unprinted(store: &Store) -> anyhow::Result<(Vec<Job>, Vec<LetterToPrint>)> {
    let clerk = WorkerInfo::this_process("letters");
    let jobs = store.claim_letters(&clerk.id).await?;
    let ids: Vec<_> = jobs
        .iter()
        .filter_map(|j| match j.target {
            JobTarget::Letter(id) => Some(id),
            _ => None,
        })
        .collect();
    Ok((jobs, store.letters(&ids).await?))
}

fn letter_for(
    cfg: &Config,
    catalogue: &Catalogue,
    case: &CaseView,
    created_at: i64,
) -> ReceiptLetter {
    let contact = cfg
        .smtp
        .as_ref()
        .and_then(|s| s.from.parse::<lettre::message::Mailbox>().ok())
        .map(|m| format!("Email: {}", m.email));
    ReceiptLetter {
        office_name: cfg.office.name.clone(),
        office_address: cfg.office.address.clone(),
        office_contact: contact,
        date: tanggal(cfg, created_at),
        tracking_code: case.tracking_code.clone(),
        applicant_name: case.applicant.name.clone(),
        applicant_address: case.applicant.address.clone(),
        documents: case
            .documents
            .iter()
            .map(|d| {
                match d
                    .doc_type
                    .as_deref()
                    .and_then(|t| catalogue.document_type_name(t))
                {
                    Some(t) => format!("{} ({t})", d.filename),
                    None => d.filename.clone(),
                }
            })
            .collect(),
        missing: case
            .missing
            .iter()
            .map(|m| catalogue.requirement_name(m).unwrap_or(m).to_string())
            .collect(),
        permit_type_name: case.permit_type_name.clone(),
        status_url: cfg.status_url_for(&case.tracking_code),
        kind_label: if case.channel == "postal" {
            "Berkas diterima melalui pos".into()
        } else {
            "Berkas diterima melalui email".into()
        },
    }
}

/// A status notice: the receipt's header with the new status and the officer's note.
fn status_notice(letter: ReceiptLetter, l: &LetterToPrint) -> StatusNoticeLetter {
    let status = l.status.clone().unwrap_or_default();
    let status_label = crate::domain::Status::parse(&status)
        .map(|s| s.label_id().to_string())
        .unwrap_or_else(|| status.clone());
    StatusNoticeLetter {
        letter,
        status,
        status_label,
        note: l.note.clone().unwrap_or_default(),
    }
}

/// Write the letters to `out` (one A4 PDF) and mark them printed; returns how many. The
/// caller loads the rules (permit names), so broken rules are a config error like elsewhere.
pub async fn print_letters(
    cfg: &Config,
    catalogue: &Catalogue,
    codes: &[String],
    out: &Path,
) -> anyhow::Result<usize> {
    let store = Store::open_with(&cfg.database.url, cfg.store_options()).await?;
    let result = print_with(&store, cfg, catalogue, codes, out).await;
    store.close().await;
    result
}

/// [`print_letters`] on an open store (the desk's mail-room page).
pub async fn print_with(
    store: &Store,
    cfg: &Config,
    catalogue: &Catalogue,
    codes: &[String],
    out: &Path,
) -> anyhow::Result<usize> {
    let canonical: Vec<String> = codes
        .iter()
        .map(|c| {
            crate::domain::TrackingCode::parse_for(&cfg.office.code, c)
                .map(|t| t.to_string())
                .unwrap_or_else(|_| c.clone())
        })
        .collect();
    let (jobs, due) = if canonical.is_empty() {
        claim_unprinted(store).await?
    } else {
        (Vec::new(), named_letters(store, &canonical).await?)
    };
    if due.is_empty() {
        return Ok(0);
    }
    let mut letters = Vec::with_capacity(due.len());
    for l in &due {
        let case = store
            .show_case(&l.tracking_code)
            .await?
            .ok_or_else(|| anyhow!("case {} disappeared", l.tracking_code))?;
        let receipt = letter_for(cfg, catalogue, &case, l.created_at);
        letters.push(if l.is_status_notice() {
            Letter::StatusNotice(status_notice(receipt, l))
        } else {
            Letter::Receipt(receipt)
        });
    }
    let pdf = render_batch(&letters).map_err(|e| anyhow!("render letters: {e}"))?;
    let tmp = out.with_extension("pdf.tmp");
    std::fs::write(&tmp, &pdf).with_context(|| format!("write {}", tmp.display()))?;
    std::fs::rename(&tmp, out).with_context(|| format!("write {}", out.display()))?;
    // Marked printed only once the PDF is safely written; reprints of named cases change nothing.
    if !jobs.is_empty() {
        let ids: Vec<_> = due.iter().map(|l| l.id).collect();
        let mut tx = store
            .begin_steps(jobs.iter().map(|j| j.lease.clone()).collect())
            .await?;
        letters::mark_printed(&mut tx, &ids).await?;
        tx.commit().await?;
    }
    Ok(letters.len())
}
