//! Outlook's TNEF (`winmail.dat`, `application/ms-tnef`): the files and the body inside.
//!
//! Outlook sends "rich text" mail as one opaque `winmail.dat` attachment holding the real
//! attachments and the body. The applicant's PDFs are inside, so intake unpacks them here like
//! the files of a ZIP (same [`ArchiveLimits`]), and takes the body (plain text if Outlook put
//! one in, else the compressed RTF, decompressed per MS-OXRTFCP) when the mail has no other.
//!
//! Format (MS-OXTNEF): signature `0x223E9F78`, a u16 key, then attributes, each a level byte,
//! a u32 id, a u32 length, the data and a u16 checksum (sum of the data bytes). An
//! `attAttachRendData` attribute starts an attachment; the attributes after it describe it:
//! `attAttachTitle` (the 8.3 name), `attAttachData` (the bytes), `attAttachment` (MAPI
//! properties, where the long filename is). The message's `attMAPIProps` may hold the body.
//!
//! CONTRACT: hostile input; every length is checked against what is left, nothing panics, and a
//! file that is not valid TNEF gives `DocumentError::Corrupt` saying where it went wrong.

use super::archive::{ArchiveLimits, Entry};
use super::document::DocumentError;

/// `0x223E9F78`, little-endian, the first four bytes of every TNEF stream.
pub const SIGNATURE: [u8; 4] = [0x78, 0x9F, 0x3E, 0x22];

const ATT_ATTACH_REND_DATA: u32 = 0x0006_9002;
const ATT_ATTACH_TITLE: u32 = 0x0001_8010;
const ATT_ATTACH_DATA: u32 = 0x0006_800F;
const ATT_ATTACHMENT: u32 = 0x0006_9005;
const ATT_MAPI_PROPS: u32 = 0x0006_9003;
const ATT_BODY: u32 = 0x0002_800C;

const PR_BODY: u16 = 0x1000;
const PR_RTF_COMPRESSED: u16 = 0x1009;
const PR_DISPLAY_NAME: u16 = 0x3001;
const PR_ATTACH_DATA: u16 = 0x3701;
const PR_ATTACH_FILENAME: u16 = 0x3704;
const PR_ATTACH_LONG_FILENAME: u16 = 0x3707;

/// What a TNEF stream holds.
#[derive(Debug, Clone, Default)]
pub struct Tnef {
    /// The attached files, in order; names as Outlook gave them (callers sanitise them).
    pub files: Vec<Entry>,
    /// The plain text body, when Outlook included one.
    pub body_text: Option<String>,
    /// The RTF body, decompressed.
    pub body_rtf: Option<Vec<u8>>,
    /// What could not be taken out though the stream is sound (English): embedded messages
    /// and OLE objects, property lists that don't parse, a body that doesn't decompress.
    pub problems: Vec<String>,
}

impl Tnef {
    /// The body as text: the plain body if any, else the RTF converted crudely.
    pub fn body(&self) -> Option<String> {
        let text = match (&self.body_text, &self.body_rtf) {
            (Some(text), _) if !text.trim().is_empty() => text.clone(),
            (_, Some(rtf)) => rtf_to_text(rtf),
            _ => return None,
        };
        let text = text.trim();
        (!text.is_empty()).then(|| text.to_string())
    }
}

/// Whether `data` starts like a TNEF stream.
pub fn is_tnef(data: &[u8]) -> bool {
    data.starts_with(&SIGNATURE)
}

fn corrupt(detail: impl ToString) -> DocumentError {
    DocumentError::Corrupt {
        kind: "TNEF (winmail.dat)".into(),
        detail: detail.to_string(),
    }
}

/// A bounds-checked reader over a byte slice.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    fn left(&self) -> usize {
        self.data.len() - self.pos
    }

    fn bytes(&mut self, n: usize, what: &str) -> Result<&'a [u8], DocumentError> {
        if n > self.left() {
            return Err(corrupt(format!(
                "{what} at byte {} needs {n} bytes, {} left",
                self.pos,
                self.left()
            )));
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn u8(&mut self, what: &str) -> Result<u8, DocumentError> {
        Ok(self.bytes(1, what)?[0])
    }

    fn u16(&mut self, what: &str) -> Result<u16, DocumentError> {
        let b = self.bytes(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &str) -> Result<u32, DocumentError> {
        let b = self.bytes(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A u32 length followed by that many bytes, padded to a multiple of 4.
    fn padded_value(&mut self, what: &str) -> Result<&'a [u8], DocumentError> {
        let len = self.u32(what)? as usize;
        let value = self.bytes(len, what)?;
        let pad = (4 - len % 4) % 4;
        self.bytes(pad.min(self.left()), what)?;
        Ok(value)
    }
}

/// One attachment being assembled from its attributes.
#[derive(Default)]
struct Pending {
    title: Option<String>,
    long_name: Option<String>,
    data: Option<Vec<u8>>,
}

/// The files and body of a TNEF stream, within `limits` (count and bytes, as for a ZIP).
pub fn unpack(data: &[u8], limits: &ArchiveLimits) -> Result<Tnef, DocumentError> {
    let mut r = Reader::new(data);
    if r.u32("signature")?.to_le_bytes() != SIGNATURE {
        return Err(corrupt("no TNEF signature"));
    }
    r.u16("key")?;
    let mut out = Tnef::default();
    let mut current: Option<Pending> = None;
    let mut total = 0u64;
    // Less than an attribute header after the last attribute: trailing junk (a newline added
    // by a mail program), ignored as Outlook does.
    while r.left() >= 11 {
        let level = r.u8("attribute level")?;
        if level != 1 && level != 2 {
            return Err(corrupt(format!(
                "attribute level {level} at byte {}",
                r.pos - 1
            )));
        }
        let id = r.u32("attribute id")?;
        let len = r.u32("attribute length")? as usize;
        let value = r.bytes(len, "attribute data")?;
        let checksum = r.u16("attribute checksum")?;
        let sum = value
            .iter()
            .fold(0u16, |s, &b| s.wrapping_add(u16::from(b)));
        if sum != checksum {
            return Err(corrupt(format!(
                "checksum mismatch in attribute {id:#010x} at byte {}",
                r.pos - len - 2
            )));
        }
        match (level, id) {
            (2, ATT_ATTACH_REND_DATA) => {
                finish(current.take(), &mut out, &mut total, limits)?;
                current = Some(Pending::default());
            }
            (2, ATT_ATTACH_TITLE) => {
                if let Some(p) = current.as_mut() {
                    p.title = Some(string8(value));
                }
            }
            (2, ATT_ATTACH_DATA) => {
                if let Some(p) = current.as_mut() {
                    check_size(value.len() as u64, total, limits)?;
                    p.data = Some(value.to_vec());
                }
            }
            (2, ATT_ATTACHMENT) => {
                if let Some(p) = current.as_mut() {
                    // The file is still there without its long name.
                    soft(attachment_props(value, p, total, limits), &mut out.problems)?;
                }
            }
            (1, ATT_BODY) => out.body_text = Some(string8(value)),
            (1, ATT_MAPI_PROPS) => {
                let mut body = Tnef::default();
                soft(message_props(value, &mut body, limits), &mut out.problems)?;
                out.body_text = body.body_text.or(out.body_text.take());
                out.body_rtf = body.body_rtf.or(out.body_rtf.take());
            }
            _ => {}
        }
    }
    if r.left() > 0
        && r.data[r.pos..]
            .iter()
            .any(|b| !b.is_ascii_whitespace() && *b != 0)
    {
        out.problems.push(format!(
            "{} byte(s) after the last attribute ignored (the file may be cut short)",
            r.left()
        ));
    }
    finish(current.take(), &mut out, &mut total, limits)?;
    Ok(out)
}

/// A problem in a property list is noted and parsing goes on (the files are in other
/// attributes); a file over the limits still stops it.
fn soft(
    result: Result<(), DocumentError>,
    problems: &mut Vec<String>,
) -> Result<(), DocumentError> {
    match result {
        Err(DocumentError::TooLarge(what)) => Err(DocumentError::TooLarge(what)),
        Err(e) => {
            problems.push(e.to_string());
            Ok(())
        }
        Ok(()) => Ok(()),
    }
}

/// Refuse a file that would pass the per-file or total limit.
fn check_size(size: u64, total: u64, limits: &ArchiveLimits) -> Result<(), DocumentError> {
    if size > limits.max_entry_bytes || total + size > limits.max_total_bytes {
        return Err(DocumentError::TooLarge(format!(
            "TNEF file of {size} bytes over the limit ({} MB each, {} MB in all)",
            limits.max_entry_bytes >> 20,
            limits.max_total_bytes >> 20
        )));
    }
    Ok(())
}

/// Add the assembled attachment, if it has bytes (an embedded message or OLE object has none
/// here and is counted as skipped).
fn finish(
    pending: Option<Pending>,
    out: &mut Tnef,
    total: &mut u64,
    limits: &ArchiveLimits,
) -> Result<(), DocumentError> {
    let Some(p) = pending else { return Ok(()) };
    let Some(data) = p.data else {
        let name = p.long_name.or(p.title).unwrap_or_default();
        out.problems.push(format!(
            "attachment {name:?} has no file data (an embedded message or object) and was not \
             taken out"
        ));
        return Ok(());
    };
    let files = &mut out.files;
    if files.len() >= limits.max_entries {
        return Err(DocumentError::TooLarge(format!(
            "TNEF with more than {} files",
            limits.max_entries
        )));
    }
    *total += data.len() as u64;
    let name = p
        .long_name
        .or(p.title)
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| format!("attachment-{}", files.len() + 1));
    files.push(Entry { name, data });
    Ok(())
}

/// A null-terminated 8-bit string: UTF-8 if valid, else Windows-1252 (Outlook's usual code page).
fn string8(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let bytes = &bytes[..end];
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => match mail_parser::decoders::charsets::map::charset_decoder(b"windows-1252") {
            Some(decode) => decode(bytes),
            None => String::from_utf8_lossy(bytes).into_owned(),
        },
    }
}

/// A null-terminated UTF-16LE string.
fn unicode(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|&u| u != 0)
        .collect();
    String::from_utf16_lossy(&units)
}

/// One MAPI property value that matters here.
enum Value<'a> {
    Text(String),
    Binary(&'a [u8]),
    Other,
}

/// Walk a MAPI property list (MS-OXTNEF 2.1.3.4), calling `each` with (property id, value).
fn mapi_props<'a>(
    data: &'a [u8],
    mut each: impl FnMut(u16, Value<'a>) -> Result<(), DocumentError>,
) -> Result<(), DocumentError> {
    let mut r = Reader::new(data);
    let count = r.u32("MAPI property count")?;
    for _ in 0..count {
        let kind = r.u16("MAPI property type")?;
        let id = r.u16("MAPI property id")?;
        if id >= 0x8000 {
            // A named property: GUID, then a number or a name.
            r.bytes(16, "MAPI property GUID")?;
            if r.u32("MAPI property name kind")? == 0 {
                r.u32("MAPI property name id")?;
            } else {
                r.padded_value("MAPI property name")?;
            }
        }
        let multi = kind & 0x1000 != 0;
        let base = kind & !0x1000;
        let values = if multi || is_variable(base) {
            r.u32("MAPI value count")?
        } else {
            1
        };
        if values as usize > r.left() {
            return Err(corrupt(format!("MAPI value count {values} past the end")));
        }
        for _ in 0..values {
            let value = match base {
                0x001E => Value::Text(string8(r.padded_value("MAPI string")?)),
                0x001F => Value::Text(unicode(r.padded_value("MAPI string")?)),
                0x0102 | 0x000D => Value::Binary(r.padded_value("MAPI binary")?),
                other => {
                    let size = fixed_size(other).ok_or_else(|| {
                        corrupt(format!("unknown MAPI property type {other:#06x}"))
                    })?;
                    r.bytes(size, "MAPI value")?;
                    Value::Other
                }
            };
            each(id, value)?;
        }
    }
    Ok(())
}

fn is_variable(base: u16) -> bool {
    matches!(base, 0x001E | 0x001F | 0x0102 | 0x000D)
}

/// Bytes a fixed-size MAPI value takes in TNEF (short and boolean values are padded to 4).
fn fixed_size(base: u16) -> Option<usize> {
    match base {
        0x0000 | 0x0001 | 0x0002 | 0x0003 | 0x0004 | 0x000A | 0x000B => Some(4),
        0x0005..=0x0007 | 0x0014 | 0x0040 => Some(8),
        0x0048 => Some(16),
        _ => None,
    }
}

fn attachment_props(
    data: &[u8],
    p: &mut Pending,
    total: u64,
    limits: &ArchiveLimits,
) -> Result<(), DocumentError> {
    mapi_props(data, |id, value| {
        match (id, value) {
            (PR_ATTACH_LONG_FILENAME, Value::Text(name)) => p.long_name = Some(name),
            (PR_ATTACH_FILENAME | PR_DISPLAY_NAME, Value::Text(name)) if p.title.is_none() => {
                p.title = Some(name)
            }
            (PR_ATTACH_DATA, Value::Binary(bytes)) if p.data.is_none() => {
                check_size(bytes.len() as u64, total, limits)?;
                p.data = Some(bytes.to_vec());
            }
            _ => {}
        }
        Ok(())
    })
}

fn message_props(data: &[u8], out: &mut Tnef, limits: &ArchiveLimits) -> Result<(), DocumentError> {
    mapi_props(data, |id, value| {
        match (id, value) {
            (PR_BODY, Value::Text(text)) => out.body_text = Some(text),
            (PR_RTF_COMPRESSED, Value::Binary(bytes)) => {
                out.body_rtf = Some(decompress_rtf(bytes, limits.max_entry_bytes)?)
            }
            _ => {}
        }
        Ok(())
    })
}

/// The dictionary's initial contents (MS-OXRTFCP 2.1.2.1), 207 bytes.
const RTF_PREBUF: &[u8] = b"{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss \\fmodern \\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier{\\colortbl\\red0\\green0\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx";

const COMPRESSED: u32 = 0x7546_5A4C; // "LZFu"
const UNCOMPRESSED: u32 = 0x414C_454D; // "MELA"

/// Decompress `PR_RTF_COMPRESSED` (MS-OXRTFCP): LZ77 over a 4096-byte ring, at most `max` bytes.
pub fn decompress_rtf(data: &[u8], max: u64) -> Result<Vec<u8>, DocumentError> {
    let mut r = Reader::new(data);
    let comp_size = r.u32("RTF compressed size")? as usize;
    let raw_size = r.u32("RTF raw size")? as usize;
    let kind = r.u32("RTF compression type")?;
    r.u32("RTF CRC")?;
    let body = &data[r.pos..];
    let body = &body[..comp_size.saturating_sub(12).min(body.len())];
    if raw_size as u64 > max {
        return Err(DocumentError::TooLarge(format!(
            "RTF body of {raw_size} bytes"
        )));
    }
    match kind {
        UNCOMPRESSED => Ok(body[..raw_size.min(body.len())].to_vec()),
        COMPRESSED => Ok(lzfu(body, raw_size)),
        other => Err(corrupt(format!("unknown RTF compression {other:#010x}"))),
    }
}

/// The LZFu decoder: a control byte, then 8 tokens (LSB first): 0 a literal byte, 1 a big-endian
/// u16 reference (12-bit offset into the ring, 4-bit length - 2). A reference to the write
/// position ends the stream. Output stops at `raw_size`, so a loop of references can't grow it.
fn lzfu(body: &[u8], raw_size: usize) -> Vec<u8> {
    let mut ring = [0u8; 4096];
    ring[..RTF_PREBUF.len()].copy_from_slice(RTF_PREBUF);
    let mut write = RTF_PREBUF.len();
    let mut out = Vec::with_capacity(raw_size);
    let mut input = body.iter().copied();
    'stream: while let Some(control) = input.next() {
        for bit in 0..8 {
            if out.len() >= raw_size {
                break 'stream;
            }
            if control & (1 << bit) == 0 {
                let Some(b) = input.next() else {
                    break 'stream;
                };
                out.push(b);
                ring[write] = b;
                write = (write + 1) % 4096;
                continue;
            }
            let (Some(hi), Some(lo)) = (input.next(), input.next()) else {
                break 'stream;
            };
            let token = u16::from_be_bytes([hi, lo]) as usize;
            let offset = token >> 4;
            let len = (token & 0xF) + 2;
            if offset == write {
                break 'stream;
            }
            for i in 0..len {
                let b = ring[(offset + i) % 4096];
                out.push(b);
                ring[write] = b;
                write = (write + 1) % 4096;
            }
        }
    }
    out.truncate(raw_size);
    out
}

/// Crude RTF to text: groups of destinations that are not text (font and colour tables,
/// pictures, `\*` groups) are dropped, control words dropped except paragraph and tab breaks,
/// `\'hh` decoded as Windows-1252 and `\uN` as Unicode (skipping the fallback character).
pub fn rtf_to_text(rtf: &[u8]) -> String {
    let mut text = Vec::<u8>::new(); // Windows-1252 bytes and UTF-8 mixed: see `flush`.
    let mut out = String::new();
    // For each open group: whether its text is skipped.
    let mut skip_stack: Vec<bool> = Vec::new();
    let mut skipping = false;
    let mut pending_skip = 0usize; // fallback chars to skip after \uN
    let mut i = 0;
    while i < rtf.len() {
        let c = rtf[i];
        match c {
            b'{' => {
                skip_stack.push(skipping);
                i += 1;
            }
            b'}' => {
                skipping = skip_stack.pop().unwrap_or(false);
                i += 1;
            }
            b'\\' => {
                let (word, arg, next) = control(rtf, i + 1);
                i = next;
                if skipping {
                    continue;
                }
                match word.as_str() {
                    "par" | "line" | "row" | "sect" | "page" => {
                        flush(&mut text, &mut out);
                        out.push('\n');
                    }
                    "tab" | "cell" => {
                        flush(&mut text, &mut out);
                        out.push('\t');
                    }
                    "'" => {
                        if pending_skip > 0 {
                            pending_skip -= 1;
                        } else if let Some(b) = arg.and_then(|a| u8::try_from(a).ok()) {
                            text.push(b);
                        }
                    }
                    "u" => {
                        flush(&mut text, &mut out);
                        if let Some(n) = arg {
                            let n = if n < 0 { n + 65536 } else { n };
                            if let Some(ch) = u32::try_from(n).ok().and_then(char::from_u32) {
                                out.push(ch);
                            }
                        }
                        pending_skip = 1;
                    }
                    "*" | "fonttbl" | "colortbl" | "stylesheet" | "info" | "pict" | "object"
                    | "header" | "footer" | "listtable" | "listoverridetable" | "themedata"
                    | "datastore" | "latentstyles" | "rsidtbl" | "generator" | "xmlnstbl"
                    | "mmathPr" => skipping = true,
                    "\\" | "{" | "}" => text.push(word.as_bytes()[0]),
                    "~" => text.push(b' '),
                    _ => {}
                }
            }
            b'\r' | b'\n' => i += 1,
            _ => {
                if !skipping {
                    if pending_skip > 0 {
                        pending_skip -= 1;
                    } else {
                        text.push(c);
                    }
                }
                i += 1;
            }
        }
    }
    flush(&mut text, &mut out);
    out.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

/// Move 8-bit text into `out`, decoded as Windows-1252.
fn flush(text: &mut Vec<u8>, out: &mut String) {
    if !text.is_empty() {
        out.push_str(&string8(text));
        text.clear();
    }
}

/// The control word starting at `i` (just after the backslash): its name, numeric argument and
/// the index after it (and after the space that ends it). Symbols (`\'`, `\\`, `\*`) have a
/// one-character name; `\'hh` has its hex value as argument.
fn control(rtf: &[u8], i: usize) -> (String, Option<i64>, usize) {
    let Some(&c) = rtf.get(i) else {
        return (String::new(), None, i);
    };
    if c == b'\'' {
        let hex = rtf.get(i + 1..i + 3);
        let value = hex
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| i64::from_str_radix(h, 16).ok());
        let next = if value.is_some() { i + 3 } else { i + 1 };
        return ("'".to_string(), value, next);
    }
    if !c.is_ascii_alphabetic() {
        return ((c as char).to_string(), None, i + 1);
    }
    let mut j = i;
    while j < rtf.len() && rtf[j].is_ascii_alphabetic() && j - i < 32 {
        j += 1;
    }
    let word = String::from_utf8_lossy(&rtf[i..j]).into_owned();
    let start = j;
    if j < rtf.len() && rtf[j] == b'-' {
        j += 1;
    }
    while j < rtf.len() && rtf[j].is_ascii_digit() && j - start < 10 {
        j += 1;
    }
    let arg = std::str::from_utf8(&rtf[start..j])
        .ok()
        .and_then(|s| s.parse::<i64>().ok());
    if j < rtf.len() && rtf[j] == b' ' {
        j += 1;
    }
    (word, arg, j)
}

#[cfg(test)]
pub(crate) mod tests;
