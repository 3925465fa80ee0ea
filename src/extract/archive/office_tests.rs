//! DOCX and ODT forms as Word and LibreOffice write them, built in memory.

use std::io::{Cursor, Write};

use super::office_text;
use crate::extract::document::DocumentError;

const W: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main""#;

fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
    let mut buf = Cursor::new(Vec::new());
    let mut w = zip::ZipWriter::new(&mut buf);
    let opts = zip::write::SimpleFileOptions::default();
    for (name, data) in files {
        w.start_file(*name, opts).unwrap();
        w.write_all(data.as_bytes()).unwrap();
    }
    w.finish().unwrap();
    buf.into_inner()
}

fn docx(parts: &[(&str, &str)]) -> String {
    let mut files = vec![("[Content_Types].xml", "<Types/>")];
    files.extend_from_slice(parts);
    office_text(&zip_of(&files), false).unwrap()
}

fn body(inner: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {W}><w:body>{inner}<w:sectPr/></w:body></w:document>"#
    )
}

fn odt(content: &str, styles: Option<&str>) -> String {
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"><office:body><office:text>{content}</office:text></office:body></office:document-content>"#
    );
    let mut files = vec![
        ("mimetype", "application/vnd.oasis.opendocument.text"),
        ("content.xml", content.as_str()),
    ];
    if let Some(s) = styles {
        files.push(("styles.xml", s));
    }
    office_text(&zip_of(&files), true).unwrap()
}

#[test]
fn docx_entities_numeric_and_named_are_decoded() {
    let text = docx(&[(
        "word/document.xml",
        &body(
            "<w:p><w:r><w:t>Caf&#233; &#x2014; Budi &amp; Sri &lt;PT&gt; &quot;Maju&quot; &apos;90</w:t></w:r></w:p>",
        ),
    )]);
    assert_eq!(text, "Café — Budi & Sri <PT> \"Maju\" '90");
}

#[test]
fn docx_table_cells_are_tabs_and_rows_are_lines() {
    let row = |a: &str, b: &str| {
        format!("<w:tr><w:tc><w:tcPr/><w:p><w:r><w:t>{a}</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>{b}</w:t></w:r></w:p><w:p><w:r><w:t>lanjutan</w:t></w:r></w:p></w:tc></w:tr>")
    };
    let xml = body(&format!(
        "<w:p><w:r><w:t>DATA PEMOHON</w:t></w:r></w:p><w:tbl><w:tblPr/>{}{}</w:tbl><w:p><w:r><w:t>Hormat kami</w:t></w:r></w:p>",
        row("Nama", "Budi"),
        row("NIK", "3514061208850003")
    ));
    let text = docx(&[("word/document.xml", &xml)]);
    assert_eq!(
        text,
        "DATA PEMOHON\nNama\tBudi lanjutan\nNIK\t3514061208850003 lanjutan\nHormat kami"
    );
}

#[test]
fn docx_breaks_and_tabs_but_not_tab_stops_or_field_codes() {
    let xml = body(
        r#"<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="2880"/></w:tabs></w:pPr><w:r><w:t>Nama</w:t><w:tab/><w:t xml:space="preserve">: Budi </w:t><w:br/><w:t>Alamat</w:t></w:r><w:r><w:instrText> PAGE </w:instrText></w:r></w:p>"#,
    );
    assert_eq!(docx(&[("word/document.xml", &xml)]), "Nama\t: Budi\nAlamat");
}

#[test]
fn docx_headers_footers_and_notes_are_read_in_order() {
    let part = |root: &str, inner: &str| {
        format!(r#"<w:{root} {W}><w:p><w:r><w:t>{inner}</w:t></w:r></w:p></w:{root}>"#)
    };
    let h1 = part("hdr", "PEMERINTAH KABUPATEN PASURUAN");
    let f1 = part("ftr", "Halaman 1");
    let notes = format!(
        r#"<w:footnotes {W}><w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote><w:footnote w:id="1"><w:p><w:r><w:t>Lampiran sertifikat</w:t></w:r></w:p></w:footnote></w:footnotes>"#
    );
    let text = docx(&[
        ("word/footer1.xml", &f1),
        (
            "word/document.xml",
            &body("<w:p><w:r><w:t>Isi surat</w:t></w:r></w:p>"),
        ),
        ("word/header1.xml", &h1),
        ("word/footnotes.xml", &notes),
    ]);
    assert_eq!(
        text,
        "Isi surat\nPEMERINTAH KABUPATEN PASURUAN\nLampiran sertifikat\nHalaman 1"
    );
}

#[test]
fn docx_text_box_is_read_once_not_again_from_its_fallback() {
    let box_text = "<w:txbxContent><w:p><w:r><w:t>Kotak: PBG</w:t></w:r></w:p></w:txbxContent>";
    let xml = body(&format!(
        r#"<w:p><w:r><w:t>Sebelum</w:t></w:r><w:r><mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"><mc:Choice Requires="wps"><w:drawing><wp:anchor><a:graphic><a:graphicData><wps:wsp><wps:txbx>{box_text}</wps:txbx></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice><mc:Fallback><w:pict><v:shape><v:textbox>{box_text}</v:textbox></v:shape></w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p>"#
    ));
    let text = docx(&[("word/document.xml", &xml)]);
    assert_eq!(text.matches("Kotak: PBG").count(), 1, "{text}");
    assert!(text.contains("Sebelum"), "{text}");
}

#[test]
fn malformed_docx_is_a_corrupt_document_naming_the_part() {
    for broken in [
        body("<w:p><w:r><w:t>Nama</w:r></w:p>"),
        format!("<w:document {W}><w:body><w:p><w:r><w:t>tidak selesai"),
        body("<w:p><w:r><w:t>&#xZZ;</w:t></w:r></w:p>"),
    ] {
        let z = zip_of(&[("word/document.xml", &broken)]);
        match office_text(&z, false) {
            Err(DocumentError::Corrupt { kind, detail }) => {
                assert_eq!(kind, "DOCX");
                assert!(detail.contains("word/document.xml"), "{detail}");
            }
            other => panic!("{broken}: {other:?}"),
        }
    }
}

#[test]
fn a_docx_without_its_body_is_corrupt() {
    let z = zip_of(&[("word/header1.xml", "<w:hdr/>")]);
    assert!(matches!(
        office_text(&z, false),
        Err(DocumentError::Corrupt { .. })
    ));
}

#[test]
fn odt_spaces_tabs_breaks_and_collapsed_white_space() {
    let text = odt(
        "<text:h text:outline-level=\"1\">FORMULIR   PERMOHONAN</text:h>\n  <text:p>NIK<text:s text:c=\"3\"/>:<text:s/>3514<text:tab/>x<text:line-break/><text:span>Jl. Merdeka</text:span> 5</text:p>",
        None,
    );
    assert_eq!(text, "FORMULIR PERMOHONAN\nNIK   : 3514\tx\nJl. Merdeka 5");
}

#[test]
fn odt_tables_and_text_boxes() {
    let text = odt(
        r#"<table:table><table:table-row><table:table-cell><text:p>Nama</text:p></table:table-cell><table:table-cell><text:p>Sri &amp; Budi</text:p></table:table-cell></table:table-row></table:table><text:p><draw:frame><draw:text-box><text:p>Jenis izin: PBG</text:p></draw:text-box></draw:frame></text:p>"#,
        None,
    );
    assert_eq!(text, "Nama\tSri & Budi\nJenis izin: PBG");
}

#[test]
fn odt_headers_and_footers_come_from_master_pages_only() {
    let styles = r#"<office:document-styles xmlns:office="o" xmlns:style="s" xmlns:text="t"><office:styles><style:style style:name="P1"/></office:styles><office:master-styles><style:master-page style:name="Standard"><style:header><text:p>DINAS PENANAMAN MODAL</text:p></style:header><style:footer><text:p>Halaman <text:page-number>1</text:page-number></text:p></style:footer></style:master-page></office:master-styles></office:document-styles>"#;
    let text = odt("<text:p>Isi</text:p>", Some(styles));
    assert_eq!(text, "Isi\nDINAS PENANAMAN MODAL\nHalaman 1");
}

#[test]
fn odt_hostile_space_count_is_bounded() {
    let text = odt(r#"<text:p>a<text:s text:c="999999999"/>b</text:p>"#, None);
    assert!(text.len() < 300, "{}", text.len());
}

#[test]
fn docx_tracked_deletions_are_left_out_and_no_break_hyphens_kept() {
    let xml = body(
        r#"<w:p><w:r><w:t>RT 03</w:t></w:r><w:del w:id="1"><w:r><w:delText>/RW 9</w:delText></w:r></w:del><w:moveFrom><w:r><w:t>lama</w:t></w:r></w:moveFrom><w:r><w:noBreakHyphen/><w:t>05</w:t></w:r></w:p>"#,
    );
    assert_eq!(docx(&[("word/document.xml", &xml)]), "RT 03-05");
}

#[test]
fn every_truncation_of_a_form_is_text_or_a_corrupt_document_never_a_panic() {
    let xml = body(
        r#"<w:p><w:r><w:t>Caf&#233; &amp; &#x2014;</w:t><w:tab/></w:r></w:p><w:tbl><w:tr><w:tc><w:p><w:r><w:t>a</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"#,
    );
    for end in 0..xml.len() {
        let Some(prefix) = xml.get(..end) else {
            continue;
        };
        let z = zip_of(&[("word/document.xml", prefix)]);
        match office_text(&z, false) {
            Ok(_) | Err(DocumentError::Corrupt { .. }) => {}
            Err(e) => panic!("{prefix}: {e:?}"),
        }
    }
}

#[test]
fn namespaces_decide_not_prefixes() {
    let xml = r#"<document xmlns="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:x="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><body><p><r><t>Nama</t><x:tab/><t>Budi</t></r></p><x:p><x:r><x:t>NIK</x:t></x:r></x:p></body></document>"#;
    assert_eq!(docx(&[("word/document.xml", xml)]), "Nama\tBudi\nNIK");
    let content = r#"<o:document-content xmlns:o="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:t="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><o:body><o:text><t:p>a<t:s t:c="2"/>b</t:p></o:text></o:body></o:document-content>"#;
    let z = zip_of(&[("content.xml", content)]);
    assert_eq!(office_text(&z, true).unwrap(), "a  b");
}

#[test]
fn a_broken_word_form_is_named_as_such_to_the_applicant() {
    let z = zip_of(&[
        ("[Content_Types].xml", "<Types/>"),
        ("word/document.xml", "<w:document><w:body><w:p>"),
    ]);
    let got = crate::extract::document::read_document(&z, "application/octet-stream", "surat.docx");
    let err = got.error.expect("an error");
    assert_eq!(err.alasan(), "berkas DOCX rusak atau tidak dapat dibaca");
    assert!(err.to_string().contains("word/document.xml"), "{err}");
}
