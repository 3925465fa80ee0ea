//! Rate limits and loops: at most `notify.max_acks_per_sender_per_hour` automatic messages
//! (acknowledgements, status answers, combined acknowledgements) to one address in any rolling
//! hour, and no answers to a mail loop. Everything is still filed.
//!
//! - [`admit`] says whether one more automatic message may go to an address now. The classify
//!   step asks it for every acknowledgement ([`queue_ack`]): one over the limit is stored as a
//!   `held` outbox row with an `acknowledgement_held` event on its case, and no send job.
//! - [`release_held`] (from `loket run`) writes, for each address whose oldest held row is an
//!   hour old, ONE combined message listing every held case's code, subject and what it still
//!   misses; a business that sent twelve applications at once hears about all twelve. Several
//!   processes may release at once: the address's row lock and a conditional update let one win.
//! - [`loop_reason`] recognises a loop (the same sender sending the same subject again and
//!   again); the intake step records it as the message's no-reply reason.

use tracing::info;

use super::{Context, JobError};
use crate::classify::Catalogue;
use crate::config::Config;
use crate::domain::Kind;
use crate::filing::jobs::{enqueue, JobTarget};
use crate::filing::outbox::{self, NewOutbox};
use crate::filing::ratelimit::{self as store, HeldAck};
use crate::filing::{cases, now_ms, store::commit, Conn, StoreError};
use crate::notify::combined::{self, CombinedContext, CombinedItem};

/// The rolling window of the limit and of loop detection.
pub const HOUR_MS: i64 = 3_600_000;

/// Earlier messages with the same subject from one sender in an hour that make a loop.
pub const LOOP_REPEATS: usize = 3;

/// May one more automatic message go to this address now?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    Send,
    /// Over the limit (or acknowledgements to it are already waiting): hold it back.
    Hold,
}

/// What [`assess`] found for an address.
struct Standing {
    admit: Admit,
    /// Automatic messages written to it in the last hour.
    recent: i64,
    /// Acknowledgements to it held and not combined yet.
    held: i64,
}

/// Ask before writing an automatic message to `to_addr`, in the transaction that writes it.
/// Holds when `notify.max_acks_per_sender_per_hour` messages went there in the last hour, or
/// when acknowledgements to it are waiting for their combined message (so that one lists them
/// all, in order). Concurrent askers for one address wait for each other.
pub async fn admit(conn: &mut Conn, cfg: &Config, to_addr: &str) -> Result<Admit, JobError> {
    Ok(assess(conn, cfg, to_addr).await?.admit)
}

async fn assess(conn: &mut Conn, cfg: &Config, to_addr: &str) -> Result<Standing, StoreError> {
    store::take_address(conn, to_addr).await?;
    let (recent, held) = store::standing(conn, to_addr, now_ms() - HOUR_MS).await?;
    let limit = i64::from(cfg.notify.max_acks_per_sender_per_hour);
    let admit = if recent >= limit || held > 0 {
        Admit::Hold
    } else {
        Admit::Send
    };
    Ok(Standing {
        admit,
        recent,
        held,
    })
}

/// Write an acknowledgement: to send now (a send job), or held back by the limit (an
/// `acknowledgement_held` event on its case). Nothing if it was written before.
pub(crate) async fn queue_ack(
    ctx: &Context,
    conn: &mut Conn,
    mail: &NewOutbox<'_>,
) -> Result<(), JobError> {
    let standing = assess(conn, &ctx.cfg, mail.to_addr).await?;
    if standing.admit == Admit::Send {
        if let Some(id) = outbox::insert(conn, mail).await? {
            enqueue(conn, JobTarget::Send(id)).await?;
        }
        return Ok(());
    }
    if outbox::insert_held(conn, mail).await?.is_none() {
        return Ok(());
    }
    let detail = if standing.held > 0 {
        format!(
            "{} earlier acknowledgement(s) to {} are held; held too, will go out combined with them",
            standing.held, mail.to_addr
        )
    } else {
        format!(
            "{} automatic messages to {} in the last hour; held, will go out combined",
            standing.recent, mail.to_addr
        )
    };
    if let Some(case_id) = mail.case_id {
        cases::add_event(conn, case_id, "acknowledgement_held", &detail).await?;
    }
    info!(to = %mail.to_addr, "acknowledgement held back by the rate limit");
    Ok(())
}

/// Write the combined acknowledgement for every address whose oldest held acknowledgement is
/// an hour old; returns how many were written (their send jobs are queued).
pub async fn release_held(ctx: &Context) -> Result<usize, JobError> {
    let now = now_ms();
    let mut conn = ctx.store.conn().await?;
    let due = store::due_addresses(&mut conn, now - HOUR_MS).await?;
    drop(conn);
    let mut written = 0;
    for address in &due {
        written += usize::from(release_address(ctx, address, now).await?);
    }
    if written > 0 {
        ctx.wake.notify_waiters();
    }
    Ok(written)
}

/// One address's combined acknowledgement, in one transaction; false when another process
/// wrote it first (or nothing is due any more).
async fn release_address(ctx: &Context, address: &str, now: i64) -> Result<bool, JobError> {
    let mut tx = ctx.store.begin_write().await?;
    // Waits for a releaser or an acknowledgement to this address that is under way.
    store::take_address(&mut tx, address).await?;
    let held = store::held_for(&mut tx, address).await?;
    let Some(first) = held.first() else {
        return Ok(false);
    };
    if first.created_at + HOUR_MS > now {
        return Ok(false);
    }
    let ids: Vec<_> = held.iter().map(|h| h.id).collect();
    if !store::mark_combined(&mut tx, &ids).await? {
        // Dropping the transaction rolls it back: the other releaser's mail is the one.
        return Ok(false);
    }
    let (subject, body) = combined::render(&ctx.templates, &context(ctx, &held))?;
    let purpose = format!("combined:{}", first.id);
    let message_id = format!("combined.{}@{}", first.id, mail_domain(ctx));
    let mail = NewOutbox {
        case_id: Some(first.case_id),
        purpose: &purpose,
        to_addr: &first.to_addr,
        subject: &subject,
        body: &body,
        message_id: &message_id,
        in_reply_to: None,
        references: "",
    };
    let Some(outbox_id) = outbox::insert(&mut tx, &mail).await? else {
        return Ok(false);
    };
    enqueue(&mut tx, JobTarget::Send(outbox_id)).await?;
    let detail = format!(
        "listed in one combined email to {} with {} case(s)",
        first.to_addr,
        held.len()
    );
    for h in &held {
        cases::add_event(&mut tx, h.case_id, "acknowledgement_combined", &detail).await?;
    }
    commit(tx).await?;
    info!(to = %first.to_addr, cases = held.len(), "combined acknowledgement written");
    Ok(true)
}

fn context(ctx: &Context, held: &[HeldAck]) -> CombinedContext {
    let catalogue = ctx.catalogue();
    CombinedContext {
        office_name: ctx.cfg.office.name.clone(),
        applicant_name: held.iter().find_map(|h| h.applicant_name.clone()),
        per_hour: ctx.cfg.notify.max_acks_per_sender_per_hour,
        cases: held.iter().map(|h| item(ctx, &catalogue, h)).collect(),
    }
}

fn item(ctx: &Context, catalogue: &Catalogue, h: &HeldAck) -> CombinedItem {
    let missing: Vec<String> = h
        .missing
        .as_deref()
        .and_then(|m| serde_json::from_str(m).ok())
        .unwrap_or_default();
    CombinedItem {
        tracking_code: h.tracking_code.clone(),
        subject: CombinedItem::plain_subject(h.subject.as_deref()),
        kind_label: Kind::parse(&h.kind)
            .unwrap_or_default()
            .label_id()
            .to_string(),
        permit_type_name: h
            .permit_type
            .as_deref()
            .filter(|_| h.triage == 0)
            .and_then(|p| catalogue.permit_type_name(p))
            .map(String::from),
        missing: missing
            .iter()
            .map(|id| catalogue.requirement_name(id).unwrap_or(id).to_string())
            .collect(),
        status_url: ctx.cfg.status_url_for(&h.tracking_code),
    }
}

/// The domain of loket's own Message-IDs (the sender's).
fn mail_domain(ctx: &Context) -> String {
    ctx.mailer
        .as_ref()
        .map(|m| m.from_address().email.domain().to_string())
        .unwrap_or_else(|| "loket.invalid".into())
}

/// Why a message from `sender` is part of a mail loop: [`LOOP_REPEATS`] or more of its earlier
/// messages in the hour before `now_ms` had the same [`normalised_subject`]. Pass the message's
/// own `received_at` as `now_ms` (only messages strictly before it count, so it does not count
/// itself). An empty subject never makes a loop: people send photos without one.
pub async fn loop_reason(
    conn: &mut Conn,
    sender: &str,
    subject: Option<&str>,
    now_ms: i64,
) -> Result<Option<String>, StoreError> {
    let wanted = normalised_subject(subject.unwrap_or(""));
    if wanted.is_empty() || sender.trim().is_empty() {
        return Ok(None);
    }
    let earlier = store::subjects_from(conn, sender.trim(), now_ms - HOUR_MS, now_ms).await?;
    let same = earlier
        .iter()
        .filter(|s| normalised_subject(s.as_deref().unwrap_or("")) == wanted)
        .count();
    Ok((same >= LOOP_REPEATS).then(|| {
        format!(
            "mail loop: the same subject came {} times in an hour",
            same + 1
        )
    }))
}

/// Reply and forward prefixes, in the languages loket's correspondents write (compared in
/// lower case, before the colon).
const PREFIXES: &[&str] = &["re", "aw", "fwd", "fw", "balas", "bls", "wg", "tr", "sv"];

/// A subject as a loop compares it: reply and forward prefixes (`Re:`, `AW:`, `Fwd:`, `FW:`,
/// `Balas:`, `Bls:`, also `Re[2]:` and `Re :`) stripped however often they repeat, whitespace
/// collapsed, lower case.
pub fn normalised_subject(subject: &str) -> String {
    let mut rest = subject.trim();
    while let Some(stripped) = strip_prefix(rest) {
        rest = stripped.trim_start();
    }
    rest.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Whether the subject starts with a reply or forward prefix (`Re:`, `Balas:`, ...).
pub fn is_reply_subject(subject: &str) -> bool {
    strip_prefix(subject.trim()).is_some()
}

/// `rest` without one leading reply/forward prefix, or None.
fn strip_prefix(rest: &str) -> Option<&str> {
    let (head, tail) = rest.split_once(':')?;
    let word = head.trim_end();
    // `Re[2]` and `Re(2)`: a counter some clients add.
    let word = match word.find(['[', '(']) {
        Some(i)
            if word[i + 1..]
                .trim_end_matches([']', ')'])
                .bytes()
                .all(|b| b.is_ascii_digit()) =>
        {
            &word[..i]
        }
        _ => word,
    };
    PREFIXES
        .iter()
        .any(|p| word.eq_ignore_ascii_case(p))
        .then_some(tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_and_forward_prefixes_in_any_language_are_one_subject() {
        let plain = normalised_subject("Permohonan PBG gudang");
        for s in [
            "Re: Permohonan PBG gudang",
            "RE: re:  Permohonan   PBG gudang",
            "AW: Permohonan PBG gudang",
            "Fwd: FW: Permohonan PBG gudang",
            "Balas: Bls: Permohonan PBG gudang",
            "Re[2]: Permohonan PBG gudang",
            "Re : permohonan pbg GUDANG ",
        ] {
            assert_eq!(normalised_subject(s), plain, "{s}");
        }
    }

    #[test]
    fn words_that_only_look_like_prefixes_stay() {
        assert_eq!(
            normalised_subject("Retribusi: PBG gudang"),
            "retribusi: pbg gudang"
        );
        assert_eq!(
            normalised_subject("[PSR-7K3M9-QXD2F] Tanda terima: Re: x"),
            "[psr-7k3m9-qxd2f] tanda terima: re: x"
        );
        assert_eq!(normalised_subject("Re:"), "");
        assert_eq!(normalised_subject("Re[x]: a"), "re[x]: a");
    }
}
