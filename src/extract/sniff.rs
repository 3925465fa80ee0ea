//! What a document really is, judged by its bytes rather than its name or declared type.
//!
//! Takes the first bytes of a file, gives a lower-case content type (`application/pdf`,
//! `image/jpeg`, ...) or `None` when the bytes match nothing we know. Never fails: applicants
//! rename files freely (a phone photo saved as `KTP.pdf` is still a JPEG), so the name and the
//! declared type are only a fallback for display.

pub const PDF: &str = "application/pdf";
pub const JPEG: &str = "image/jpeg";
pub const PNG: &str = "image/png";
pub const GIF: &str = "image/gif";
pub const TIFF: &str = "image/tiff";
pub const WEBP: &str = "image/webp";
pub const HEIC: &str = "image/heic";
pub const HEIF: &str = "image/heif";
pub const BMP: &str = "image/bmp";
pub const ZIP: &str = "application/zip";
pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const PPTX: &str = "application/vnd.openxmlformats-officedocument.presentationml.presentation";
pub const ODT: &str = "application/vnd.oasis.opendocument.text";
pub const ODS: &str = "application/vnd.oasis.opendocument.spreadsheet";
pub const RTF: &str = "application/rtf";
/// Outlook's `winmail.dat` (unpacked at intake by [`tnef`](super::tnef)).
pub const TNEF: &str = "application/vnd.ms-tnef";
pub const HTML: &str = "text/html";
pub const TEXT: &str = "text/plain";
pub const EMAIL: &str = "message/rfc822";

/// How far into a file the text heuristics look. Enough for headers and a doctype.
const TEXT_SAMPLE: usize = 8 * 1024;
/// How far into a ZIP to look for the entries that name an office format.
const ZIP_SAMPLE: usize = 64 * 1024;

/// The content type of `data`, or `None` if unknown.
pub fn sniff(data: &[u8]) -> Option<&'static str> {
    if data.is_empty() {
        return None;
    }
    binary_type(data).or_else(|| text_type(data))
}

/// True for the image types the OCR stage takes.
pub fn is_image(content_type: &str) -> bool {
    matches!(
        content_type,
        JPEG | PNG | GIF | TIFF | WEBP | HEIC | HEIF | BMP
    )
}

/// True for the types [`sniff`] can recognise.
pub fn is_known(content_type: &str) -> bool {
    short_name(content_type) != "?"
}

/// A short name for people: `PDF`, `JPEG`, `DOCX`...; `?` for types we do not recognise.
pub fn short_name(content_type: &str) -> &'static str {
    match content_type {
        PDF => "PDF",
        JPEG => "JPEG",
        PNG => "PNG",
        GIF => "GIF",
        TIFF => "TIFF",
        WEBP => "WEBP",
        HEIC => "HEIC",
        HEIF => "HEIF",
        BMP => "BMP",
        ZIP => "ZIP",
        DOCX => "DOCX",
        XLSX => "XLSX",
        PPTX => "PPTX",
        ODT => "ODT",
        ODS => "ODS",
        RTF => "RTF",
        TNEF => "TNEF",
        HTML => "HTML",
        TEXT => "text",
        EMAIL => "email",
        _ => "?",
    }
}

/// The binary type a file extension claims (lower-case, without the dot), if we know it.
/// Text types are left out: any bytes without control characters already sniff as text.
pub fn type_for_extension(ext: &str) -> Option<&'static str> {
    Some(match ext {
        "pdf" => PDF,
        "jpg" | "jpeg" | "jpe" | "jfif" => JPEG,
        "png" => PNG,
        "gif" => GIF,
        "tif" | "tiff" => TIFF,
        "webp" => WEBP,
        "heic" => HEIC,
        "heif" => HEIF,
        "bmp" => BMP,
        "zip" => ZIP,
        "docx" => DOCX,
        "xlsx" => XLSX,
        "pptx" => PPTX,
        "odt" => ODT,
        "ods" => ODS,
        "rtf" => RTF,
        _ => return None,
    })
}

fn binary_type(data: &[u8]) -> Option<&'static str> {
    let starts = |magic: &[u8]| data.starts_with(magic);
    // Before PDF: a winmail.dat holding a PDF has `%PDF-` near its start.
    if starts(&super::tnef::SIGNATURE) {
        Some(TNEF)
    } else if is_pdf(data) {
        Some(PDF)
    } else if starts(b"\xFF\xD8\xFF") {
        Some(JPEG)
    } else if starts(b"\x89PNG\r\n\x1A\n") {
        Some(PNG)
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Some(GIF)
    } else if starts(b"II*\0") || starts(b"MM\0*") {
        Some(TIFF)
    } else if starts(b"RIFF") && data.get(8..12) == Some(b"WEBP") {
        Some(WEBP)
    } else if let Some(heif) = heif_type(data) {
        Some(heif)
    } else if is_bmp(data) {
        Some(BMP)
    } else if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") {
        Some(zip_type(data))
    } else if starts(b"{\\rtf") {
        Some(RTF)
    } else {
        None
    }
}

/// PDF readers accept up to 1024 bytes of junk before `%PDF-` (ISO 32000-1, annex H), and some
/// scanners and mail gateways do write a preamble there.
fn is_pdf(data: &[u8]) -> bool {
    let head = &data[..data.len().min(1024)];
    find(head, b"%PDF-").is_some()
}

/// HEIF family: an ISO-BMFF `ftyp` box whose major brand is an HEIF brand.
fn heif_type(data: &[u8]) -> Option<&'static str> {
    if data.get(4..8) != Some(b"ftyp") {
        return None;
    }
    match data.get(8..12)? {
        b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" => Some(HEIC),
        b"mif1" | b"msf1" => Some(HEIF),
        _ => None,
    }
}

/// `BM` alone is too weak (text can start with "BM"): also check the reserved bytes and the
/// size of the info header, which has only a handful of legal values.
fn is_bmp(data: &[u8]) -> bool {
    if !data.starts_with(b"BM") || data.len() < 26 {
        return false;
    }
    let reserved_zero = data[6..10].iter().all(|&b| b == 0);
    let info_size = u32::from_le_bytes([data[14], data[15], data[16], data[17]]);
    reserved_zero && matches!(info_size, 12 | 16 | 40 | 52 | 56 | 64 | 108 | 124)
}

/// Office documents are ZIPs; name them from the entries near the start. OOXML writers put
/// `[Content_Types].xml` first, ODF puts an uncompressed `mimetype` entry first (ODF 1.2 part 3,
/// section 3.3), so looking at the first bytes is enough without reading the archive.
fn zip_type(data: &[u8]) -> &'static str {
    let head = &data[..data.len().min(ZIP_SAMPLE)];
    if find(head, b"mimetypeapplication/vnd.oasis.opendocument.text").is_some() {
        return ODT;
    }
    if find(
        head,
        b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet",
    )
    .is_some()
    {
        return ODS;
    }
    if find(head, b"[Content_Types].xml").is_some() {
        if find(head, b"word/").is_some() {
            return DOCX;
        }
        if find(head, b"xl/").is_some() {
            return XLSX;
        }
        if find(head, b"ppt/").is_some() {
            return PPTX;
        }
    }
    ZIP
}

fn text_type(data: &[u8]) -> Option<&'static str> {
    let sample = &data[..data.len().min(TEXT_SAMPLE)];
    if !looks_like_text(sample) {
        return None;
    }
    let lower = String::from_utf8_lossy(sample).to_ascii_lowercase();
    let trimmed = lower.trim_start_matches('\u{feff}').trim_start();
    if is_html(trimmed) {
        Some(HTML)
    } else if is_email(trimmed) {
        Some(EMAIL)
    } else {
        Some(TEXT)
    }
}

/// Text, in UTF-8 or a single-byte charset: no NULs and no control characters other than the
/// usual whitespace (a cut-off multibyte sequence at the end of the sample is fine).
fn looks_like_text(sample: &[u8]) -> bool {
    sample
        .iter()
        .all(|&b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1A | 0x1B))
}

fn is_html(lower: &str) -> bool {
    const OPENERS: [&str; 5] = ["<!doctype html", "<html", "<head", "<body", "<meta"];
    OPENERS.iter().any(|o| lower.starts_with(o))
        || (lower.starts_with('<') && lower.contains("<html"))
        || (lower.starts_with("<!--") && lower.contains("<html"))
}

/// A saved email: the text starts with a header block in which several well-known message
/// headers appear. One header alone is not enough ("Date: ..." can start any letter).
fn is_email(lower: &str) -> bool {
    const KNOWN: [&str; 10] = [
        "from:",
        "to:",
        "date:",
        "subject:",
        "message-id:",
        "received:",
        "mime-version:",
        "return-path:",
        "delivered-to:",
        "content-type:",
    ];
    let mut known = 0;
    for line in lower.lines().take(60) {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let Some((name, _)) = line.split_once(':') else {
            return false;
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return false;
        }
        if KNOWN.iter().any(|k| line.starts_with(k)) {
            known += 1;
        }
    }
    known >= 2
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Does `data` look like an RFC 5322 message (for `rules explain` on files without `.eml`)?
pub fn looks_like_email(data: &[u8]) -> bool {
    sniff(data) == Some(EMAIL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_name_the_common_formats() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some(PDF));
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0\0\x10JFIF"), Some(JPEG));
        assert_eq!(sniff(b"\x89PNG\r\n\x1A\n\0\0\0\rIHDR"), Some(PNG));
        assert_eq!(sniff(b"GIF89a\x01\0"), Some(GIF));
        assert_eq!(sniff(b"II*\0\x08\0\0\0"), Some(TIFF));
        assert_eq!(sniff(b"MM\0*\0\0\0\x08"), Some(TIFF));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Some(WEBP));
        assert_eq!(sniff(b"\0\0\0\x18ftypheic\0\0\0\0"), Some(HEIC));
        assert_eq!(sniff(b"\0\0\0\x18ftypmif1\0\0\0\0"), Some(HEIF));
        assert_eq!(sniff(b"{\\rtf1\\ansi"), Some(RTF));
    }

    #[test]
    fn pdf_with_scanner_preamble_is_a_pdf() {
        assert_eq!(
            sniff(b"\r\n\0garbage from a gateway\n%PDF-1.4\n"),
            Some(PDF)
        );
    }

    #[test]
    fn bmp_needs_more_than_two_letters() {
        let mut bmp = b"BM\x36\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0".to_vec();
        bmp.resize(64, 0);
        assert_eq!(sniff(&bmp), Some(BMP));
        assert_eq!(sniff(b"BMW motor, tahun 2019, warna hitam"), Some(TEXT));
    }

    #[test]
    fn office_documents_are_told_apart_from_plain_zips() {
        let docx = b"PK\x03\x04\x14\0\0\0\x08\0[Content_Types].xml....PK\x03\x04word/document.xml";
        assert_eq!(sniff(docx), Some(DOCX));
        let odt = b"PK\x03\x04\x0a\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x08\0\0\0mimetypeapplication/vnd.oasis.opendocument.text";
        assert_eq!(sniff(odt), Some(ODT));
        assert_eq!(sniff(b"PK\x03\x04\x14\0\0\0scan1.jpg"), Some(ZIP));
    }

    #[test]
    fn text_html_and_saved_mail_are_told_apart() {
        assert_eq!(
            sniff("Nama: Budi Santoso\nNIK: 3201\n".as_bytes()),
            Some(TEXT)
        );
        assert_eq!(
            sniff(b"Permohonan izin usaha, caf\xe9 di Bandung"),
            Some(TEXT)
        );
        assert_eq!(
            sniff(b"\xEF\xBB\xBF  <!DOCTYPE html><html><body>Hi"),
            Some(HTML)
        );
        assert_eq!(sniff(b"<p>hello</p>"), Some(TEXT));
        let eml = b"Received: from x\r\n  by y\r\nFrom: a@b.id\r\nSubject: Izin\r\n\r\nBody";
        assert_eq!(sniff(eml), Some(EMAIL));
        assert_eq!(sniff(b"Date: besok\n\nSampai jumpa"), Some(TEXT));
    }

    #[test]
    fn binary_junk_is_unknown() {
        assert_eq!(sniff(b"\0\x01\x02\x03binary"), None);
        assert_eq!(sniff(b""), None);
    }
}
