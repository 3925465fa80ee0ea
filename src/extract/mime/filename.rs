//! Safe filenames for attachments: the name an applicant's mail program sent is displayed and
//! used when files are saved, so it must not be able to walk out of a folder, hide its real
//! extension behind bidirectional-text tricks, or exceed what file systems allow.

use std::collections::HashSet;

/// At most this many characters (the `Attachment::filename` contract)...
const MAX_CHARS: usize = 120;
/// ...and this many bytes: common file systems allow 255 bytes per name, and the filing stage
/// may add a prefix.
const MAX_BYTES: usize = 200;
/// Longer "extensions" are part of the name (`Surat.Permohonan Izin Usaha Kecil`).
const MAX_EXT_CHARS: usize = 10;

/// A safe version of `original`, or `lampiran-<number>.<ext>` when nothing usable is left.
pub(super) fn sanitize(original: Option<&str>, content_type: &str, number: usize) -> String {
    let cleaned = original.map(clean).unwrap_or_default();
    let (stem, ext) = split_extension(&cleaned);
    if stem.is_empty() {
        let ext = ext
            .map(String::from)
            .unwrap_or_else(|| extension_for(content_type).to_string());
        return format!("lampiran-{number}.{ext}");
    }
    join(stem, ext)
}

/// Makes `name` unique among `used` (case-insensitively, for Windows and macOS shares) by
/// adding `-2`, `-3`, ... before the extension.
pub(super) fn unique(name: String, used: &mut HashSet<String>) -> String {
    let mut candidate = name.clone();
    let (stem, ext) = split_extension(&name);
    let mut n = 2;
    while !used.insert(candidate.to_lowercase()) {
        candidate = join(&format!("{stem}-{n}"), ext);
        n += 1;
    }
    candidate
}

/// The last path component, with dangerous characters replaced and dangerous edges trimmed.
fn clean(original: &str) -> String {
    let base = original.rsplit(['/', '\\']).next().unwrap_or_default();
    let replaced: String = base
        .chars()
        .filter(|&c| !is_invisible(c))
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .map(|c| {
            if matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let collapsed = replaced
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    // Leading dots hide files (and `..` walks up); trailing dots and spaces are stripped by
    // Windows, which would change the extension.
    let trimmed = collapsed
        .trim_start_matches(['.', ' ', '-'])
        .trim_end_matches(['.', ' ']);
    if is_windows_device(trimmed) {
        format!("_{trimmed}")
    } else {
        trimmed.to_string()
    }
}

/// Control characters, and format characters that reorder or hide text: U+202E can make
/// `tagihan\u{202e}fdp.exe` display as `tagihanexe.pdf`.
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        || matches!(c, '\u{feff}' | '\u{00ad}' | '\u{061c}')
}

/// `CON.pdf` or `nul.txt` cannot be created on Windows shares.
fn is_windows_device(name: &str) -> bool {
    let stem = name
        .split('.')
        .next()
        .unwrap_or_default()
        .trim_end()
        .to_ascii_uppercase();
    matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.len() == 4
            && stem.as_bytes()[3].is_ascii_digit())
}

fn split_extension(name: &str) -> (&str, Option<&str>) {
    match name.rsplit_once('.') {
        Some((stem, ext))
            if !ext.is_empty()
                && ext.chars().count() <= MAX_EXT_CHARS
                && ext.chars().all(char::is_alphanumeric) =>
        {
            (stem.trim_end_matches(['.', ' ']), Some(ext))
        }
        _ => (name, None),
    }
}

/// `stem.ext`, with the stem cut so the whole fits both limits.
fn join(stem: &str, ext: Option<&str>) -> String {
    let ext_len = ext.map_or(0, |e| e.chars().count() + 1);
    let ext_bytes = ext.map_or(0, |e| e.len() + 1);
    let mut kept = String::new();
    for c in stem.chars() {
        if kept.chars().count() + 1 + ext_len > MAX_CHARS
            || kept.len() + c.len_utf8() + ext_bytes > MAX_BYTES
        {
            break;
        }
        kept.push(c);
    }
    let kept = kept.trim_end_matches(['.', ' ']);
    match ext {
        Some(ext) => format!("{kept}.{ext}"),
        None => kept.to_string(),
    }
}

/// A file extension for a content type, for invented names.
pub(super) fn extension_for(content_type: &str) -> &'static str {
    match content_type {
        "application/pdf" => "pdf",
        "image/jpeg" | "image/jpg" | "image/pjpeg" => "jpg",
        "image/png" => "png",
        "image/tiff" => "tif",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/heic" | "image/heif" => "heic",
        "image/bmp" => "bmp",
        "text/plain" => "txt",
        "text/html" => "html",
        "text/calendar" => "ics",
        "message/rfc822" => "eml",
        "application/zip" | "application/x-zip-compressed" => "zip",
        "application/msword" => "doc",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        "application/vnd.ms-excel" => "xls",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        "application/rtf" | "text/rtf" => "rtf",
        _ => "bin",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn safe(name: &str) -> String {
        sanitize(Some(name), "application/octet-stream", 1)
    }

    #[test]
    fn hostile_filename_is_made_safe() {
        assert_eq!(safe("../../etc/passwd"), "passwd");
        assert_eq!(safe("..\\..\\Windows\\system.ini"), "system.ini");
        assert_eq!(safe(".bashrc"), "bashrc");
        assert_eq!(safe("ktp\r\n\0.jpg"), "ktp.jpg");
        assert_eq!(safe("tagihan\u{202e}fdp.exe"), "tagihanfdp.exe");
        assert_eq!(safe("a<b>c:d|e?.pdf"), "a_b_c_d_e_.pdf");
        assert_eq!(safe("CON.pdf"), "_CON.pdf");
        assert_eq!(safe("surat.   "), "surat");
    }

    #[test]
    fn long_name_is_cut_but_keeps_its_extension() {
        let name = safe(&format!("{}.pdf", "a".repeat(500)));
        assert_eq!(name.chars().count(), 120);
        assert!(name.ends_with("aaa.pdf"));
        let wide = safe(&format!("{}.pdf", "\u{5bb6}".repeat(500)));
        assert!(wide.len() <= MAX_BYTES && wide.ends_with(".pdf"), "{wide}");
    }

    #[test]
    fn missing_or_empty_name_is_invented() {
        assert_eq!(sanitize(None, "image/jpeg", 3), "lampiran-3.jpg");
        assert_eq!(
            sanitize(Some("../"), "application/pdf", 1),
            "lampiran-1.pdf"
        );
        assert_eq!(
            sanitize(Some("\u{0}\u{1}"), "application/x-unknown", 2),
            "lampiran-2.bin"
        );
        assert_eq!(sanitize(Some(".pdf"), "image/png", 4), "pdf");
    }

    #[test]
    fn indonesian_names_survive() {
        assert_eq!(
            safe("Surat Permohonan  Izin (Bpk. Budi).PDF"),
            "Surat Permohonan Izin (Bpk. Budi).PDF"
        );
    }

    #[test]
    fn duplicate_names_are_numbered() {
        let mut used = HashSet::new();
        assert_eq!(unique("ktp.jpg".into(), &mut used), "ktp.jpg");
        assert_eq!(unique("KTP.jpg".into(), &mut used), "KTP-2.jpg");
        assert_eq!(unique("ktp.jpg".into(), &mut used), "ktp-3.jpg");
    }
}
