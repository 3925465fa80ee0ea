//! ZIP archives: unpacking attachments sent as a ZIP, and the text of office forms (DOCX, ODT),
//! which are ZIPs of XML.
//!
//! Archives are hostile input: entry count, bytes per entry, total bytes and compression ratio
//! are all limited, and sizes are measured while reading (the sizes an archive declares can lie),
//! so a zip bomb is refused after reading at most the limit.

use std::io::{Cursor, Read};

use super::document::DocumentError;
use office::Dialect;

mod office;
#[cfg(test)]
mod office_tests;

/// Limits for one archive.
#[derive(Debug, Clone, Copy)]
pub struct ArchiveLimits {
    pub max_entries: usize,
    pub max_entry_bytes: u64,
    pub max_total_bytes: u64,
    /// Uncompressed / compressed; real documents stay far below 100.
    pub max_ratio: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        Self {
            max_entries: 100,
            max_entry_bytes: 50 << 20,
            max_total_bytes: 200 << 20,
            max_ratio: 200,
        }
    }
}

/// One file from an archive.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The path inside the archive (not yet made safe: callers sanitise it).
    pub name: String,
    pub data: Vec<u8>,
}

fn corrupt(detail: impl ToString) -> DocumentError {
    DocumentError::Corrupt {
        kind: "ZIP".into(),
        detail: detail.to_string(),
    }
}

/// Every file in a ZIP, within `limits`; directories are skipped.
pub fn unpack(data: &[u8], limits: &ArchiveLimits) -> Result<Vec<Entry>, DocumentError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(data)).map_err(corrupt)?;
    let files = (0..zip.len())
        .filter(|&i| zip.by_index_raw(i).is_ok_and(|f| !f.is_dir()))
        .count();
    if files > limits.max_entries {
        return Err(DocumentError::TooLarge(format!(
            "ZIP with {files} files (limit {})",
            limits.max_entries
        )));
    }
    let mut out = Vec::new();
    let mut total = 0u64;
    for i in 0..zip.len() {
        let mut file = match zip.by_index(i) {
            Ok(f) => f,
            Err(zip::result::ZipError::UnsupportedArchive(msg))
                if msg.to_lowercase().contains("password") =>
            {
                return Err(DocumentError::Encrypted("ZIP".to_string()))
            }
            Err(e) => return Err(corrupt(e)),
        };
        if file.is_dir() {
            continue;
        }
        let name = file.name().map_err(corrupt)?.to_string();
        let compressed = file.compressed_size();
        let budget = limits.max_entry_bytes.min(limits.max_total_bytes - total);
        let data = read_limited(&mut file, budget, &name)?;
        let size = data.len() as u64;
        check_ratio(size, compressed, &name, limits)?;
        total += size;
        out.push(Entry { name, data });
    }
    Ok(out)
}

/// Refuse an entry that unpacked to over `max_ratio` times its compressed size (past 1 MB).
fn check_ratio(
    size: u64,
    compressed: u64,
    name: &str,
    limits: &ArchiveLimits,
) -> Result<(), DocumentError> {
    if size / compressed.max(1) > limits.max_ratio && size > 1 << 20 {
        return Err(DocumentError::TooLarge(format!(
            "{name}: compression ratio over {} (zip bomb?)",
            limits.max_ratio
        )));
    }
    Ok(())
}

/// Read at most `budget` bytes; more is an error, not a truncation.
fn read_limited(reader: &mut impl Read, budget: u64, name: &str) -> Result<Vec<u8>, DocumentError> {
    let mut data = Vec::new();
    reader
        .take(budget + 1)
        .read_to_end(&mut data)
        .map_err(|e| corrupt(format!("{name}: {e}")))?;
    if data.len() as u64 > budget {
        return Err(DocumentError::TooLarge(format!(
            "{name}: over {} MB unpacked",
            budget >> 20
        )));
    }
    Ok(data)
}

/// The text of a DOCX or ODT form: paragraphs on their own lines, table cells separated by tabs.
///
/// DOCX: the body (with its text boxes, once), then headers, footnotes, endnotes, footers.
/// ODT: the body of `content.xml`, then the master pages' headers and footers in `styles.xml`.
/// Every part read counts against the same [`ArchiveLimits`] as an unpacked ZIP.
pub fn office_text(data: &[u8], odt: bool) -> Result<String, DocumentError> {
    let limits = ArchiveLimits::default();
    let kind = if odt { "ODT" } else { "DOCX" };
    let bad = |detail: String| DocumentError::Corrupt {
        kind: kind.into(),
        detail,
    };
    let mut zip = zip::ZipArchive::new(Cursor::new(data)).map_err(|e| bad(e.to_string()))?;
    let parts = if odt {
        vec![
            ("content.xml".to_string(), Dialect::Odt),
            ("styles.xml".to_string(), Dialect::OdtStyles),
        ]
    } else {
        docx_parts(&zip)
    };
    let mut total = 0u64;
    let mut texts = Vec::new();
    for (i, (part, dialect)) in parts.iter().enumerate() {
        let mut file = match zip.by_name(part) {
            Ok(f) => f,
            // Only the main part must be there; headers and styles are optional.
            Err(zip::result::ZipError::FileNotFound) if i > 0 => continue,
            Err(e) => return Err(bad(format!("{part}: {e}"))),
        };
        let compressed = file.compressed_size();
        let budget = limits.max_entry_bytes.min(limits.max_total_bytes - total);
        let xml = read_limited(&mut file, budget, part)?;
        check_ratio(xml.len() as u64, compressed, part, &limits)?;
        total += xml.len() as u64;
        let text = office::part_text(&String::from_utf8_lossy(&xml), *dialect).map_err(|e| {
            bad(format!(
                "{part}: malformed XML at byte {}: {}",
                e.position, e.detail
            ))
        })?;
        if !text.is_empty() {
            texts.push(text);
        }
    }
    Ok(texts.join("\n"))
}

/// The DOCX parts with text, in reading order: the body first (it must exist), then headers,
/// footnotes, endnotes and footers, each kind in number order (`header2` before `header10`).
fn docx_parts<R: Read + std::io::Seek>(zip: &zip::ZipArchive<R>) -> Vec<(String, Dialect)> {
    let mut parts = vec![("word/document.xml".to_string(), Dialect::Docx)];
    for kind in ["header", "footnotes", "endnotes", "footer"] {
        let mut names: Vec<String> = zip
            .file_names()
            .filter_map(Result::ok)
            .map(|n| n.into_owned())
            .filter(|n| {
                n.strip_prefix("word/")
                    .and_then(|n| n.strip_prefix(kind))
                    .and_then(|n| n.strip_suffix(".xml"))
                    .is_some_and(|num| num.chars().all(|c| c.is_ascii_digit()))
            })
            .collect();
        names.sort_by_key(|n| (n.len(), n.clone()));
        parts.extend(names.into_iter().map(|n| (n, Dialect::Docx)));
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut buf = Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in files {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap();
        buf.into_inner()
    }

    #[test]
    fn a_zip_of_scans_gives_its_files() {
        let z = zip_of(&[
            ("berkas/ktp.jpg", b"\xff\xd8\xff\xe0jpeg"),
            ("surat.pdf", b"%PDF-1.4"),
        ]);
        let entries = unpack(&z, &ArchiveLimits::default()).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].name, "berkas/ktp.jpg");
    }

    #[test]
    fn a_zip_bomb_is_refused() {
        let zeros = vec![0u8; 20 << 20];
        let z = zip_of(&[("nol.bin", &zeros)]);
        let err = unpack(&z, &ArchiveLimits::default()).unwrap_err();
        assert!(matches!(err, DocumentError::TooLarge(_)), "{err}");
        let small = ArchiveLimits {
            max_entry_bytes: 1 << 20,
            ..ArchiveLimits::default()
        };
        assert!(matches!(
            unpack(&z, &small),
            Err(DocumentError::TooLarge(_))
        ));
    }

    #[test]
    fn too_many_files_are_refused() {
        let files: Vec<(String, Vec<u8>)> = (0..150)
            .map(|i| (format!("f{i}.txt"), b"x".to_vec()))
            .collect();
        let refs: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_slice()))
            .collect();
        assert!(matches!(
            unpack(&zip_of(&refs), &ArchiveLimits::default()),
            Err(DocumentError::TooLarge(_))
        ));
    }

    #[test]
    fn docx_form_text_keeps_lines_and_cells() {
        let xml = r#"<w:document><w:body><w:p><w:r><w:t>Nama Pemohon</w:t></w:r><w:r><w:tab/><w:t>: Budi &amp; Sri</w:t></w:r></w:p><w:tbl><w:tr><w:tc><w:p><w:r><w:t>NIK</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>3514061208850003</w:t></w:r></w:p></w:tc></w:tr></w:tbl></w:body></w:document>"#;
        let z = zip_of(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("word/document.xml", xml.as_bytes()),
        ]);
        let text = office_text(&z, false).unwrap();
        assert!(text.contains("Nama Pemohon\t: Budi & Sri"), "{text}");
        assert!(text.contains("NIK"));
        assert!(text.contains("3514061208850003"));
    }

    #[test]
    fn odt_form_text() {
        let xml = r#"<office:document-content><office:body><office:text><text:h>FORMULIR</text:h><text:p>Alamat: Jl. Merdeka</text:p></office:text></office:body></office:document-content>"#;
        let z = zip_of(&[
            ("mimetype", b"application/vnd.oasis.opendocument.text"),
            ("content.xml", xml.as_bytes()),
        ]);
        assert_eq!(
            office_text(&z, true).unwrap(),
            "FORMULIR\nAlamat: Jl. Merdeka"
        );
    }
}
