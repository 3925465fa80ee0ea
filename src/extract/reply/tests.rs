use std::path::PathBuf;

use proptest::prelude::*;

use super::*;

const CODE: &str = "PSR-7K3M9-QXD2F";

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/replies")
}

/// Every `fixtures/replies/<style>.txt` next to its `<style>.expected.txt`; all mismatches are
/// reported at once, by file name.
#[test]
fn every_reply_style_gives_the_expected_new_text() {
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            name.ends_with(".txt") && !name.ends_with(".expected.txt")
        })
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 30, "only {} golden inputs", inputs.len());
    let mut failures = Vec::new();
    for input in &inputs {
        let expected_path = input.with_extension("expected.txt");
        let name = input.file_name().unwrap().to_string_lossy().to_string();
        let Ok(expected) = std::fs::read_to_string(&expected_path) else {
            failures.push(format!("{name}: no {}", expected_path.display()));
            continue;
        };
        let body = std::fs::read_to_string(input).unwrap();
        let got = split(&body).new_text;
        if got != expected.trim() {
            failures.push(format!(
                "{name}:\n--- expected\n{}\n--- got\n{got}\n",
                expected.trim()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixtures_dir().join(name)).unwrap()
}

#[test]
fn applicant_sends_the_missing_certificate_and_the_quoted_code_is_history() {
    for style in [
        "gmail-id.txt",
        "outlook-pesan-asli-id.txt",
        "samsung-id.txt",
        "yahoo-en.txt",
    ] {
        let parts = split(&fixture(style));
        assert!(parts.has_quote(), "{style}");
        assert!(
            !parts.new_text.contains(CODE),
            "{style}: {}",
            parts.new_text
        );
        assert!(parts.quoted.as_deref().unwrap().contains(CODE), "{style}");
    }
}

#[test]
fn signatures_and_phone_footers_are_kept_apart_not_lost() {
    let parts = split(&fixture("thunderbird-id-bottom.txt"));
    let signature = parts.signature.unwrap();
    assert!(signature.starts_with("--"), "{signature}");
    assert!(signature.contains("HP 0812-3456-7890"));
    let parts = split(&fixture("apple-mail-iphone-id.txt"));
    assert_eq!(parts.signature.as_deref(), Some("Dikirim dari iPhone saya"));
    let parts = split(&fixture("outlook-android-id.txt"));
    assert_eq!(
        parts.signature.as_deref(),
        Some("Dapatkan Outlook untuk Android<https://aka.ms/AAb9ysg>")
    );
}

#[test]
fn a_forward_is_content_even_when_it_carries_quotes() {
    let body = fixture("forward-gmail-en.txt");
    let parts = split(&body);
    assert_eq!(parts.new_text, body.trim());
    assert!(!parts.has_quote());
    assert!(parts.new_text.contains("Saya Ahmad Fauzi mengajukan"));
}

#[test]
fn an_outlook_forward_is_known_by_its_subject() {
    let body = "Mohon diproses.\n\n-----Original Message-----\nFrom: Ahmad <a@example.net>\n\
                Sent: Monday, December 1, 2026 9:15 AM\nTo: Rina\nSubject: PBG\n\nPermohonan PBG ruko.\n";
    assert_eq!(split(body).new_text, "Mohon diproses.");
    let forwarded = split_with_subject(Some("FW: PBG"), body);
    assert_eq!(forwarded.new_text, body.trim());
    assert!(!forwarded.has_quote());
    let reply = split_with_subject(Some("RE: FW: PBG"), body);
    assert_eq!(reply.new_text, "Mohon diproses.");
}

#[test]
fn unrecognised_bodies_come_back_trimmed_and_byte_for_byte() {
    for body in [
        "",
        "   \r\n  ",
        "  Saya mengajukan izin usaha.\r\nTerima kasih.\r\n\r\n\r\n",
        "Baris satu\n\n\n\nBaris dua",
    ] {
        let parts = split(body);
        assert_eq!(parts.new_text, body.trim(), "{body:?}");
        assert_eq!((parts.quoted, parts.signature), (None, None));
    }
}

#[test]
fn crlf_bodies_are_split_like_lf_bodies() {
    let lf = fixture("gmail-en-wrapped.txt");
    let crlf = lf.replace('\n', "\r\n");
    assert_eq!(
        split(&crlf).new_text.replace("\r\n", "\n"),
        split(&lf).new_text
    );
    let lf = fixture("interleaved-id.txt");
    let crlf = lf.replace('\n', "\r\n");
    assert_eq!(
        split(&crlf).new_text.replace("\r\n", "\n"),
        split(&lf).new_text
    );
}

#[test]
fn a_reply_that_only_quotes_has_no_new_text() {
    let body = "On Mon, Dec 1, 2026 at 9:15 AM DPMPTSP <perizinan@example.go.id> wrote:\n\
                > NOMOR PELACAKAN: PSR-7K3M9-QXD2F\n> Mohon lengkapi.\n";
    let parts = split(body);
    assert_eq!(parts.new_text, "");
    assert!(parts.quoted.unwrap().starts_with("On Mon"));
}

#[test]
fn a_body_that_starts_with_a_dash_line_is_not_a_signature() {
    let body = "--\nSaya Budi mengajukan izin reklame.\nTerima kasih.";
    assert_eq!(split(body).new_text, body);
}

/// Lines a hostile or odd body is made of: headers, quotes, delimiters, prose, junk.
fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("On Mon, Dec 1, 2026 at 9:15 AM Budi <b@x.id> wrote:".to_string()),
        Just("Pada 01/12/2026 09.15, Budi menulis:".to_string()),
        Just("-----Original Message-----".to_string()),
        Just("________________________________".to_string()),
        Just("From: Budi <b@x.id>".to_string()),
        Just("Sent: Monday, 1 December 2026 09:15".to_string()),
        Just("Subject: x".to_string()),
        Just("---------- Forwarded message ---------".to_string()),
        Just("-- ".to_string()),
        Just("--".to_string()),
        Just("Sent from my iPhone".to_string()),
        Just("> quoted".to_string()),
        Just(">".to_string()),
        Just(String::new()),
        Just("\r".to_string()),
        "[a-zA-Z0-9 .,:<>@_-]{0,40}",
        "\\PC{0,20}",
    ]
}

proptest! {
    #[test]
    fn any_body_splits_into_lines_of_that_body(lines in prop::collection::vec(line(), 0..30)) {
        let body = lines.join("\n");
        let parts = split(&body);
        prop_assert_eq!(parts.new_text.trim(), parts.new_text.as_str());
        let mut remaining = body.lines().map(str::trim);
        for line in parts.new_text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            prop_assert!(remaining.any(|b| b == line), "invented line {:?}", line);
        }
    }
}

#[test]
fn an_html_only_gmail_reply_is_split_after_conversion() {
    let html = r#"<div dir="ltr">Sertifikat tanah terlampir.<br><br>Budi</div><br>
<div class="gmail_quote"><div dir="ltr" class="gmail_attr">Pada tanggal Sen, 1 Des 2026 pukul 09.15
DPMPTSP Kabupaten Pasuruan &lt;<a href="mailto:perizinan@example.go.id">perizinan@example.go.id</a>&gt;
menulis:<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex">
Yth. Budi Santoso,<br><br>NOMOR PELACAKAN: PSR-7K3M9-QXD2F<br>Mohon lengkapi persyaratan.</blockquote></div>"#;
    let text = crate::extract::html::to_text(html);
    let parts = split(&text);
    assert_eq!(
        parts.new_text, "Sertifikat tanah terlampir.\n\nBudi",
        "from {text:?}"
    );
    assert!(parts.quoted.unwrap().contains(CODE));
}

#[test]
fn an_outlook_html_reply_is_split_after_conversion() {
    let html = r#"<div>Sertifikat tanah sudah saya lampirkan.</div><div><br></div>
<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">
<p><b>Dari:</b> DPMPTSP Kabupaten Pasuruan &lt;perizinan@example.go.id&gt;<br>
<b>Dikirim:</b> Senin, 01 Desember 2026 09.15<br><b>Kepada:</b> Budi Santoso<br>
<b>Subjek:</b> [PSR-7K3M9-QXD2F] Tanda terima permohonan</p></div>
<p>Yth. Budi Santoso,</p><p>NOMOR PELACAKAN: PSR-7K3M9-QXD2F</p>"#;
    let text = crate::extract::html::to_text(html);
    let parts = split(&text);
    assert_eq!(
        parts.new_text, "Sertifikat tanah sudah saya lampirkan.",
        "from {text:?}"
    );
    assert!(parts.quoted.unwrap().contains(CODE));
}

/// Hostile mail is normal: a huge body of would-be delimiters and headers is split in linear time.
#[test]
fn a_huge_body_of_delimiters_is_split_quickly() {
    let unit = "--\nbaris\nbaris\nbaris\nbaris\nbaris\nbaris\nbaris\nbaris\nbaris\nbaris\nbaris\n\
                From: a\nOn 1 Dec 2026 09:15 x wrote:\n\n\n";
    let body = format!("Halo\n{}", unit.repeat(20_000));
    let started = std::time::Instant::now();
    let parts = split(&body);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert!(parts.new_text.starts_with("Halo"));
}
