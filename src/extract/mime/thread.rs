//! What a message says about the conversation it belongs to, beyond the threading headers: who
//! wrote a forwarded original, and what the office's own mail server concluded about the sender
//! (`Authentication-Results`, RFC 8601).

use std::sync::LazyLock;

use mail_parser::{Message, PartType};
use regex::Regex;

use super::Mailbox;

/// The sender of the forwarded original: the From of the first attached `message/rfc822`, else
/// the `From:`/`Dari:` line under an inline "Forwarded message" marker.
pub(super) fn forwarded_from(msg: &Message<'_>, body_text: &str) -> Option<Mailbox> {
    for part in msg.attachments() {
        if let PartType::Message(inner) = &part.body {
            if let Some(m) = super::mailbox(inner.from()) {
                return Some(m);
            }
        }
    }
    inline_forwarded_from(body_text)
}

static FORWARD_MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?im)^[\s>]*-{2,}\s*(?:forwarded message|original message|pesan terusan|pesan yang diteruskan|pesan asli|begin forwarded message)\s*-{0,}\s*:?\s*$|^[\s>]*(?:begin forwarded message|awal pesan yang diteruskan)\s*:\s*$",
    )
    .expect("static regex")
});

static FROM_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?im)^[\s>*]*(?:from|dari)\s*:\s*\**\s*(.*?)\s*$").expect("static regex")
});

static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+").expect("static regex")
});

/// The address on the first From line within a few lines after a forward marker.
fn inline_forwarded_from(body: &str) -> Option<Mailbox> {
    let marker = FORWARD_MARKER.find(body)?;
    let after: String = body[marker.end()..]
        .lines()
        .take(8)
        .collect::<Vec<_>>()
        .join("\n");
    let line = FROM_LINE.captures(&after)?.get(1)?.as_str();
    let email = ADDRESS.find(line)?.as_str().to_lowercase();
    let name = line
        .split(['<', '['])
        .next()
        .map(|n| n.trim().trim_matches('"').trim())
        .filter(|n| !n.is_empty() && !n.contains('@'))
        .map(String::from);
    Some(Mailbox { name, email })
}

/// What the trusted mail server said about the sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SenderCheck {
    /// DMARC passed, or DKIM passed with no DMARC verdict.
    Pass,
    /// DMARC failed, or DKIM failed with nothing passing: the From may be forged.
    Fail(String),
    /// No header from the trusted server, or nothing conclusive in it.
    Unknown,
}

/// Judge the `Authentication-Results` values stamped by `trusted` (its authserv-id); headers
/// of any other id are ignored, since anyone can write them.
pub fn sender_check(results: &[String], trusted: Option<&str>) -> SenderCheck {
    let Some(trusted) = trusted.map(str::trim).filter(|t| !t.is_empty()) else {
        return SenderCheck::Unknown;
    };
    let mut dmarc = None;
    let mut dkim_pass = false;
    let mut dkim_fail = false;
    for value in results {
        let mut parts = value.split(';');
        let id = parts.next().unwrap_or_default();
        // "authserv-id [version]"
        let id = id.split_whitespace().next().unwrap_or_default();
        if !id.eq_ignore_ascii_case(trusted) {
            continue;
        }
        for method in parts {
            let method = method.trim().to_ascii_lowercase();
            let Some((name, rest)) = method.split_once('=') else {
                continue;
            };
            let verdict = rest.split_whitespace().next().unwrap_or_default();
            match name.trim() {
                "dmarc" => dmarc = Some(verdict.to_string()),
                "dkim" if verdict == "pass" => dkim_pass = true,
                "dkim" if verdict == "fail" || verdict == "permerror" => dkim_fail = true,
                _ => {}
            }
        }
    }
    match dmarc.as_deref() {
        Some("pass") => SenderCheck::Pass,
        Some("fail") => SenderCheck::Fail("dmarc=fail".into()),
        _ if dkim_pass => SenderCheck::Pass,
        _ if dkim_fail => SenderCheck::Fail("dkim=fail".into()),
        _ => SenderCheck::Unknown,
    }
}

/// The raw values of every `Authentication-Results` header, top first.
pub(super) fn authentication_results(msg: &Message<'_>) -> Vec<String> {
    msg.headers()
        .iter()
        .filter(|h| h.name().eq_ignore_ascii_case("Authentication-Results"))
        .filter_map(|h| {
            msg.raw_message()
                .get(h.offset_start() as usize..h.offset_end() as usize)
        })
        .map(|raw| {
            String::from_utf8_lossy(raw)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn only_the_trusted_servers_verdict_counts() {
        let forged = results(&[
            "mx.evil.example; dmarc=pass header.from=kab.go.id",
            "mail.pasuruankab.go.id; dkim=fail header.d=gmail.com; dmarc=fail (p=none) header.from=gmail.com",
        ]);
        assert_eq!(
            sender_check(&forged, Some("mail.pasuruankab.go.id")),
            SenderCheck::Fail("dmarc=fail".into())
        );
        assert_eq!(
            sender_check(&forged, Some("mx.evil.example")),
            SenderCheck::Pass
        );
        assert_eq!(sender_check(&forged, None), SenderCheck::Unknown);
    }

    #[test]
    fn dkim_decides_when_there_is_no_dmarc_verdict() {
        let r =
            results(&["mail.kab.go.id 1; spf=pass smtp.mailfrom=x.com; dkim=pass header.d=x.com"]);
        assert_eq!(sender_check(&r, Some("MAIL.KAB.GO.ID")), SenderCheck::Pass);
        let r = results(&["mail.kab.go.id; dkim=fail (bad signature) header.d=x.com; spf=none"]);
        assert_eq!(
            sender_check(&r, Some("mail.kab.go.id")),
            SenderCheck::Fail("dkim=fail".into())
        );
        let r = results(&["mail.kab.go.id; spf=softfail"]);
        assert_eq!(
            sender_check(&r, Some("mail.kab.go.id")),
            SenderCheck::Unknown
        );
    }

    #[test]
    fn an_inline_forward_names_the_original_sender() {
        let body = "Mohon diproses.\n\n---------- Forwarded message ---------\nFrom: Budi Santoso <Budi.S@gmail.com>\nDate: Sen, 1 Des 2026\nSubject: Permohonan PBG\n\nDengan hormat ...";
        let m = inline_forwarded_from(body).unwrap();
        assert_eq!(m.email, "budi.s@gmail.com");
        assert_eq!(m.name.as_deref(), Some("Budi Santoso"));
        let id = "Terusan dari loket depan.\n\n-------- Pesan Terusan --------\nDari: siti@yahoo.co.id\nTanggal: 1 Des 2026\n\nIsi";
        assert_eq!(inline_forwarded_from(id).unwrap().email, "siti@yahoo.co.id");
        assert_eq!(
            inline_forwarded_from("Dari: Budi, Desa Sukorejo\nsaya mohon izin"),
            None,
            "a From line without a forward marker is not a forward"
        );
    }
}
