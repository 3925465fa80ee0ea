//! Printing for the mail room: the day's receipt letters and separator sheets.

use std::path::Path;

use anyhow::{anyhow, Context as _};
use sqlx::Row;

use crate::classify::Catalogue;
use crate::config::Config;
use crate::filing::views::CaseView;
use crate::filing::{now_ms, Store};
use crate::notify::letters::{render_letters, ReceiptLetter};

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

/// Which letters to print: the named cases' receipts, or every letter not printed yet.
async fn letters_due(store: &Store, codes: &[String]) -> anyhow::Result<Vec<(i64, String, i64)>> {
    let rows = if codes.is_empty() {
        sqlx::query(
            "SELECT l.id, c.tracking_code, l.created_at FROM letters l JOIN cases c ON c.id = l.case_id \
             WHERE l.printed_at IS NULL ORDER BY l.id",
        )
        .fetch_all(&store.pool)
        .await?
    } else {
        let mut rows = Vec::new();
        for code in codes {
            let found = sqlx::query(
                "SELECT COALESCE(MIN(l.id), 0) AS id, c.tracking_code, COALESCE(MIN(l.created_at), c.received_at) AS created_at \
                 FROM cases c LEFT JOIN letters l ON l.case_id = c.id WHERE c.tracking_code = $1 \
                 GROUP BY c.tracking_code, c.received_at",
            )
            .bind(code)
            .fetch_optional(&store.pool)
            .await?
            .ok_or_else(|| anyhow!("no case with tracking code {code}"))?;
            rows.push(found);
        }
        rows
    };
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                r.try_get("tracking_code")?,
                r.try_get("created_at")?,
            ))
        })
        .collect::<Result<_, sqlx::Error>>()
        .context("read letters")
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
        status_url: cfg.office.status_url_for(&case.tracking_code),
        kind_label: if case.channel == "postal" {
            "Berkas diterima melalui pos".into()
        } else {
            "Berkas diterima melalui email".into()
        },
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
    let store = Store::open(&cfg.database.url, 2).await?;
    let canonical: Vec<String> = codes
        .iter()
        .map(|c| {
            crate::domain::TrackingCode::parse_for(&cfg.office.code, c)
                .map(|t| t.to_string())
                .unwrap_or_else(|_| c.clone())
        })
        .collect();
    let due = letters_due(&store, &canonical).await?;
    if due.is_empty() {
        return Ok(0);
    }
    let mut letters = Vec::with_capacity(due.len());
    for (_, code, created_at) in &due {
        let case = store
            .show_case(code)
            .await?
            .ok_or_else(|| anyhow!("case {code} disappeared"))?;
        letters.push(letter_for(cfg, catalogue, &case, *created_at));
    }
    let pdf = render_letters(&letters).map_err(|e| anyhow!("render letters: {e}"))?;
    let tmp = out.with_extension("pdf.tmp");
    std::fs::write(&tmp, &pdf).with_context(|| format!("write {}", tmp.display()))?;
    std::fs::rename(&tmp, out).with_context(|| format!("write {}", out.display()))?;
    // Marked printed only once the PDF is safely written.
    for (id, _, _) in &due {
        sqlx::query("UPDATE letters SET printed_at = $1 WHERE id = $2 AND printed_at IS NULL")
            .bind(now_ms())
            .bind(id)
            .execute(&store.pool)
            .await?;
    }
    Ok(letters.len())
}
