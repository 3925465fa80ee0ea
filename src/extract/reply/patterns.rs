//! Line recognisers for [`super::split`]: quote markers, reply headers ("splitters"), forward
//! markers, signature delimiters and mobile footers, in Bahasa Indonesia and English (with the
//! commonest European forms, since applicants' phones are set to all sorts of languages).
//!
//! Every recogniser demands the *shape* of what a mail client writes, not a keyword: a reply
//! header ends in "wrote:"/"menulis:" and carries a time or an address; an Outlook header block
//! has a From line, a Sent/Date line with a time, and a To or Subject line. A letter that begins
//! "Dari: Budi Santoso, Desa ..." or a sentence "Pada tanggal 5 Januari saya ..." is content.
//! The lists follow talon (`quotations.py`: `RE_ON_DATE_SMB_WROTE`, `RE_ORIGINAL_MESSAGE`,
//! `RE_FROM_COLON_OR_DATE_COLON`) and email_reply_parser (multi-line "On ... wrote:").

use std::sync::LazyLock;

use regex::Regex;

/// Gmail wraps a long "On ... wrote:" over two lines, sometimes three.
const ATTRIBUTION_MAX_LINES: usize = 3;
/// No client writes a longer attribution; longer lines are prose.
const ATTRIBUTION_MAX_CHARS: usize = 400;
/// Lines of an Outlook header block looked at (To/Cc lists wrap).
const HEADER_BLOCK_MAX_LINES: usize = 10;
/// "Sent from Yahoo Mail for Android" has 6 words; a sentence that starts "Dikirim dari" is longer.
const FOOTER_MAX_WORDS: usize = 9;
/// A bare `--` (no trailing space, as HTML conversion leaves it) only starts a signature this short.
pub(super) const LOOSE_SIGNATURE_MAX_LINES: usize = 10;

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("static reply regex")
}

/// "On <date>, <person> wrote:" and its translations, matched on the joined lines.
static ATTRIBUTIONS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"(?i)^(on|pada)\s.+\s(wrote|writes|menulis)\s*:$",
        r"(?i)^le\s.+\sa\s+écrit\s*:$",
        r"(?i)^am\s.+\sschrieb\b.*:$",
        r"(?i)^op\s.+\sschreef\b.*:$",
        r"(?i)^el\s.+\sescribió\s*:$",
        r"(?i)^em\s.+\sescreveu\s*:$",
        // Older Gmail: "2014-10-17 11:28 GMT+07:00 Budi <budi@example.com>:"
        r"(?i)^\d{4}-\d{2}-\d{2}\s+\d{1,2}[:.]\d{2}\b.*@.*:$",
        // Samsung Email: "Budi <budi@example.com> wrote:" with no date.
        r"(?i)^[^<>]{0,80}<[^<>\s]+@[^<>\s]+>\s*(wrote|menulis)\s*:$",
    ]
    .iter()
    .map(|p| regex(p))
    .collect()
});

/// A clock time (09:15, 09.15, 9:15:00): every client puts one in its reply header.
static TIME: LazyLock<Regex> = LazyLock::new(|| regex(r"\b\d{1,2}[:.]\d{2}\b"));

/// A year or a numeric date: clients date their reply headers, prose ("Pada hari Senin pukul
/// 10.00 petugas menulis:") rarely does.
static DATE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b(19|20)\d{2}\b|\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b"));

/// "-----Original Message-----" (Outlook), "-------- Pesan asli --------" (Samsung Email).
static ORIGINAL_MESSAGE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^\s*-{2,}\s*(original message|pesan asli|pesan awal|pesan orisinal|reply message|pesan balasan|ursprüngliche nachricht|message d'origine|mensaje original|mensagem original)\s*-{2,}\s*$",
    )
});

/// The rule Outlook puts above the quoted header block.
static UNDERSCORES: LazyLock<Regex> = LazyLock::new(|| regex(r"^\s*_{10,}\s*$"));

/// `From: x`, `*From:* x`, `**Dari:** x`: a header-like line; the key is mapped by [`header_key`].
static HEADER_LINE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^\s*\*{0,2}([\p{L}][\p{L} -]{0,20}?)\*{0,2}\s*:\*{0,2}\s*(.*)$"));

/// A forward the sender made on purpose: its content is the content.
static FORWARD: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"(?i)^\s*-{2,}\s*(forwarded message|pesan terusan|pesan yang diteruskan|weitergeleitete nachricht|message transféré|mensaje reenviado|mensagem encaminhada)\s*-{2,}\s*$",
        r"(?i)^\s*(begin forwarded message|awal pesan yang diteruskan|pesan yang diteruskan)\s*:\s*$",
    ]
    .iter()
    .map(|p| regex(p))
    .collect()
});

/// Footers mobile and web clients add: "Sent from my iPhone", "Dikirim dari iPhone saya",
/// "Get Outlook for Android", "Dapatkan Outlook untuk Android".
static FOOTERS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"(?i)^(sent|dikirim|terkirim)\s+(from|with|via|dari|melalui|menggunakan|dengan)\s+\S",
        r"(?i)^(get|dapatkan|unduh)\s+outlook\s+(for|untuk)\s+(android|ios)\b",
    ]
    .iter()
    .map(|p| regex(p))
    .collect()
});

/// What a header line says, for recognising an Outlook header block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeaderKey {
    From,
    Date,
    To,
    Cc,
    Subject,
}

fn header_key(name: &str) -> Option<HeaderKey> {
    let key = match name.trim().to_lowercase().as_str() {
        "from" | "dari" | "von" | "de" | "van" | "fra" => HeaderKey::From,
        "sent" | "date" | "dikirim" | "terkirim" | "tanggal" | "waktu" | "gesendet" | "datum"
        | "envoyé" | "enviado" | "fecha" => HeaderKey::Date,
        "to" | "kepada" | "untuk" | "ke" | "an" | "à" | "para" | "aan" => HeaderKey::To,
        "cc" | "bcc" | "tembusan" | "kopie" => HeaderKey::Cc,
        "subject" | "subjek" | "perihal" | "hal" | "judul" | "betreff" | "objet" | "asunto"
        | "assunto" | "onderwerp" => HeaderKey::Subject,
        _ => return None,
    };
    Some(key)
}

fn parse_header(line: &str) -> Option<(HeaderKey, &str)> {
    let caps = HEADER_LINE.captures(line)?;
    let key = header_key(caps.get(1)?.as_str())?;
    Some((key, caps.get(2).map_or("", |m| m.as_str())))
}

/// A line of a `>` quote block. `previous` guards against a wrapped link whose closing `>`
/// starts the next line (talon replaces link brackets for the same reason).
pub(super) fn is_quote_line(line: &str, previous: Option<&str>) -> bool {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 || !line.trim_start_matches(' ').starts_with('>') {
        return false;
    }
    let open_link = previous.is_some_and(|p| match (p.rfind('<'), p.rfind('>')) {
        (Some(open), Some(close)) => open > close,
        (Some(_), None) => true,
        _ => false,
    });
    !open_link
}

pub(super) fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

/// A reply attribution found by [`attribution_at`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Attribution {
    /// Lines it spans (1 to 3).
    pub lines: usize,
    /// It names an address (`<budi@example.com>`): strong enough to cut text that is not
    /// marked with `>` (Yahoo). Without one it counts only above a `>` block (Thunderbird).
    pub has_address: bool,
}

/// The reply attribution starting at `lines[i]`, if one does: a client's shape
/// ("On"/"Pada" ... "wrote:"/"menulis:") with an address, or with a date and a time.
pub(super) fn attribution_at(lines: &[&str], i: usize) -> Option<Attribution> {
    let mut joined = String::new();
    for (k, line) in lines.iter().enumerate().skip(i).take(ATTRIBUTION_MAX_LINES) {
        let line = line.trim();
        // Gmail wraps inside the header, never after a sentence.
        let sentence_ended = joined.ends_with(['.', '!', '?', ':']);
        if line.is_empty() || sentence_ended || joined.len() + line.len() > ATTRIBUTION_MAX_CHARS {
            return None;
        }
        if !joined.is_empty() {
            joined.push(' ');
        }
        joined.push_str(line);
        if joined.ends_with(':') && is_attribution(&joined) {
            return Some(Attribution {
                lines: k - i + 1,
                has_address: joined.contains('@'),
            });
        }
    }
    None
}

fn is_attribution(joined: &str) -> bool {
    (joined.contains('@') || (TIME.is_match(joined) && DATE.is_match(joined)))
        && ATTRIBUTIONS.iter().any(|re| re.is_match(joined))
}

/// "-----Original Message-----", or Outlook's underscore rule directly above a From/Dari line.
pub(super) fn is_separator_line(lines: &[&str], i: usize) -> bool {
    let Some(line) = lines.get(i) else {
        return false;
    };
    if ORIGINAL_MESSAGE.is_match(line) {
        return true;
    }
    if !UNDERSCORES.is_match(line) {
        return false;
    }
    let next = lines
        .iter()
        .enumerate()
        .skip(i + 1)
        .take(3)
        .find(|(_, l)| !is_blank(l));
    next.is_some_and(|(j, l)| {
        matches!(parse_header(l), Some((HeaderKey::From, _))) && header_block_len(lines, j) >= 2
    })
}

/// An Outlook-style quoted header block starting at `lines[i]`: a From/Dari line, then (before a
/// blank line) a Sent/Date/Dikirim line whose value has a time and a To or Subject line.
/// Requiring the time keeps an Indonesian letter's "Dari: / Tanggal: / Perihal:" as content.
pub(super) fn is_header_block(lines: &[&str], i: usize) -> bool {
    if !matches!(
        lines.get(i).and_then(|l| parse_header(l)),
        Some((HeaderKey::From, _))
    ) {
        return false;
    }
    let (mut dated, mut addressed) = (false, false);
    for line in lines.iter().skip(i + 1).take(HEADER_BLOCK_MAX_LINES) {
        if is_blank(line) {
            break;
        }
        match parse_header(line) {
            Some((HeaderKey::Date, value)) => dated |= TIME.is_match(value),
            Some((HeaderKey::To | HeaderKey::Subject, _)) => addressed = true,
            _ => {}
        }
    }
    dated && addressed
}

/// Header lines in the block starting at `lines[i]` (continuation lines not counted).
fn header_block_len(lines: &[&str], i: usize) -> usize {
    lines
        .iter()
        .skip(i)
        .take(HEADER_BLOCK_MAX_LINES)
        .take_while(|l| !is_blank(l))
        .filter(|l| parse_header(l).is_some())
        .count()
}

pub(super) fn is_forward_marker(line: &str) -> bool {
    FORWARD.iter().any(|re| re.is_match(line))
}

pub(super) fn is_mobile_footer(line: &str) -> bool {
    let line = line.trim();
    line.split_whitespace().count() <= FOOTER_MAX_WORDS
        && FOOTERS.iter().any(|re| re.is_match(line))
}

/// How sure a signature delimiter is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Delimiter {
    /// Exactly "-- " (RFC 3676 section 4.3).
    Strict,
    /// "--": the trailing space was lost (HTML conversion, editors, copy and paste).
    Loose,
}

pub(super) fn signature_delimiter(line: &str) -> Option<Delimiter> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line == "-- " {
        Some(Delimiter::Strict)
    } else if line.trim_end() == "--" {
        Some(Delimiter::Loose)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_gmail_attribution_is_found_over_two_lines() {
        let lines = [
            "On Mon, Dec 1, 2026 at 9:15 AM DPMPTSP Kabupaten Pasuruan <",
            "perizinan@example.go.id> wrote:",
        ];
        let found = attribution_at(&lines, 0).map(|a| (a.lines, a.has_address));
        assert_eq!(found, Some((2, true)));
    }

    #[test]
    fn sentences_that_start_like_headers_are_not_headers() {
        let lines = [
            "Pada tanggal 5 Januari 2026 saya sudah mengirim berkas ke kantor desa.",
            "Pada 12 Januari 2026 pukul 10.00 petugas menulis:",
        ];
        assert_eq!(attribution_at(&lines, 0), None);
        // Shaped like Thunderbird's header, but with no address it needs a `>` block below.
        assert_eq!(
            attribution_at(&lines, 1).map(|a| a.has_address),
            Some(false)
        );
        let letter = [
            "Dari: Budi Santoso, Desa Sukamaju",
            "Tanggal: 5 Januari 2026",
            "Perihal: Permohonan PBG",
        ];
        assert!(!is_header_block(&letter, 0));
    }

    #[test]
    fn a_wrapped_link_is_not_a_quote() {
        assert!(!is_quote_line(
            "> lanjutan",
            Some("lihat <https://example.go.id/a")
        ));
        assert!(is_quote_line("> Yth. Bapak", Some("")));
    }
}
