use super::*;

fn parse_ok(raw: &[u8]) -> ParsedMessage {
    parse(raw, &MimeLimits::default()).expect("a message")
}

fn crlf(text: &str) -> Vec<u8> {
    text.replace('\n', "\r\n").into_bytes()
}

const APPLICATION: &str = "\
Message-ID: <abc123@mail.example.id>
In-Reply-To: <prev@dpmptsp.go.id>
References: <first@dpmptsp.go.id> <prev@dpmptsp.go.id>
From: \"Budi Santoso\" <Budi.Santoso@Example.ID>
Reply-To: =?UTF-8?Q?Sekretariat_CV_Maju?= <Admin@CVMaju.co.id>
To: perizinan@dpmptsp.go.id
Subject: Permohonan =?UTF-8?Q?izin_usaha_=E2=80=94_CV_Maju?=
Date: Mon, 1 Jul 2024 10:30:00 +0700
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=\"b1\"

--b1
Content-Type: multipart/alternative; boundary=\"b2\"

--b2
Content-Type: text/plain; charset=utf-8

Yth. Bapak/Ibu, terlampir berkas permohonan.
--b2
Content-Type: text/html; charset=utf-8

<p>Yth. Bapak/Ibu, <b>terlampir</b> berkas permohonan.</p>
--b2--
--b1
Content-Type: application/pdf; name=\"formulir.pdf\"
Content-Disposition: attachment; filename=\"formulir.pdf\"
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--b1
Content-Type: image/jpeg
Content-Disposition: attachment; filename*=UTF-8''KTP%20Budi%20%E2%80%94%20depan.jpg
Content-Transfer-Encoding: base64

/9j/4AAQ
--b1--
";

#[test]
fn application_mail_gives_sender_ids_text_and_files() {
    let msg = parse_ok(&crlf(APPLICATION));
    assert_eq!(msg.message_id.as_deref(), Some("abc123@mail.example.id"));
    assert_eq!(msg.in_reply_to, vec!["prev@dpmptsp.go.id"]);
    assert_eq!(
        msg.references,
        vec!["first@dpmptsp.go.id", "prev@dpmptsp.go.id"]
    );
    let from = msg.from.clone().unwrap();
    assert_eq!(from.email, "budi.santoso@example.id");
    assert_eq!(from.name.as_deref(), Some("Budi Santoso"));
    let reply_to = msg.reply_address().unwrap();
    assert_eq!(reply_to.email, "admin@cvmaju.co.id");
    assert_eq!(reply_to.name.as_deref(), Some("Sekretariat CV Maju"));
    assert_eq!(
        msg.subject.as_deref(),
        Some("Permohonan izin usaha \u{2014} CV Maju")
    );
    let date = msg.date.unwrap();
    assert_eq!(date.unix_timestamp(), 1_719_804_600);
    assert_eq!(date.offset().whole_hours(), 7);
    assert_eq!(
        msg.body_text.trim(),
        "Yth. Bapak/Ibu, terlampir berkas permohonan."
    );
    let names: Vec<&str> = msg
        .attachments
        .iter()
        .map(|a| a.filename.as_str())
        .collect();
    assert_eq!(names, ["formulir.pdf", "KTP Budi \u{2014} depan.jpg"]);
    assert_eq!(msg.attachments[0].content_type, "application/pdf");
    assert_eq!(msg.attachments[0].data, b"%PDF-1.4\n");
    assert_eq!(msg.attachments[1].data, b"\xFF\xD8\xFF\xE0\x00\x10");
    assert!(msg.no_reply.is_none());
    assert_eq!(
        no_reply_reason(&msg, &["perizinan@dpmptsp.go.id".into()]),
        None
    );
    assert!(msg.problems.is_empty(), "{:?}", msg.problems);
}

#[test]
fn windows_1252_body_is_decoded() {
    let mut raw = crlf(
        "From: siti@example.id\nSubject: =?windows-1252?Q?Caf=E9?=\n\
         Content-Type: text/plain; charset=windows-1252\nContent-Transfer-Encoding: 8bit\n\n",
    );
    raw.extend_from_slice(b"Usaha caf\xe9 \x93Kopi Kita\x94 \x96 Bandung\r\n");
    let msg = parse_ok(&raw);
    assert_eq!(msg.subject.as_deref(), Some("Caf\u{e9}"));
    assert_eq!(
        msg.body_text.trim(),
        "Usaha caf\u{e9} \u{201c}Kopi Kita\u{201d} \u{2013} Bandung"
    );
}

#[test]
fn iso_8859_1_quoted_printable_body_is_decoded() {
    let raw = crlf(
        "From: siti@example.id\nContent-Type: text/plain; charset=\"ISO-8859-1\"\n\
         Content-Transfer-Encoding: quoted-printable\n\nJos=E9 Mart=EDnez, S.E.\n",
    );
    assert_eq!(
        parse_ok(&raw).body_text.trim(),
        "Jos\u{e9} Mart\u{ed}nez, S.E."
    );
}

#[test]
fn html_only_mail_gives_text() {
    let raw = crlf(
        "From: budi@example.id\nSubject: Izin\nContent-Type: text/html; charset=utf-8\n\n\
         <html><body><p>Mohon <b>izin</b> usaha.</p><table><tr><td>NIB</td><td>912</td></tr></table></body></html>\n",
    );
    let msg = parse_ok(&raw);
    assert!(
        msg.body_text.contains("Mohon izin usaha."),
        "{}",
        msg.body_text
    );
    assert!(msg.body_text.contains("NIB"), "{}", msg.body_text);
    assert!(!msg.body_text.contains('<'), "{}", msg.body_text);
}

#[test]
fn alternative_with_only_html_gives_text() {
    let raw = crlf(
        "From: budi@example.id\nContent-Type: multipart/alternative; boundary=x\n\n--x\n\
         Content-Type: text/html\n\n<div>Halo <i>petugas</i></div>\n--x--\n",
    );
    assert_eq!(parse_ok(&raw).body_text, "Halo petugas");
}

#[test]
fn forwarded_message_attachments_are_found() {
    let raw = crlf(
        "From: budi@example.id\nSubject: Fwd: akta\nContent-Type: multipart/mixed; boundary=outer\n\n\
         --outer\nContent-Type: text/plain\n\nSaya teruskan akta dari notaris.\n\
         --outer\nContent-Type: message/rfc822\n\n\
         From: notaris@example.id\nSubject: Akta pendirian\n\
         Content-Type: multipart/mixed; boundary=inner\n\n\
         --inner\nContent-Type: text/plain\n\nTerlampir akta.\n\
         --inner\nContent-Type: application/pdf; name=akta.pdf\nContent-Transfer-Encoding: base64\n\n\
         JVBERi0xLjQK\n--inner--\n\
         --outer--\n",
    );
    let msg = parse_ok(&raw);
    assert_eq!(msg.body_text.trim(), "Saya teruskan akta dari notaris.");
    assert_eq!(msg.attachments.len(), 1, "{:?}", msg.attachments);
    assert_eq!(msg.attachments[0].filename, "akta.pdf");
    assert_eq!(msg.attachments[0].data, b"%PDF-1.4\n");
}

#[test]
fn forwarded_letter_without_files_is_kept_as_eml() {
    let raw = crlf(
        "From: budi@example.id\nContent-Type: multipart/mixed; boundary=outer\n\n\
         --outer\nContent-Type: text/plain\n\nLihat surat di bawah.\n\
         --outer\nContent-Type: message/rfc822\n\n\
         From: camat@example.go.id\nSubject: Rekomendasi camat\n\nSurat rekomendasi untuk Budi.\n\
         --outer--\n",
    );
    let msg = parse_ok(&raw);
    assert_eq!(msg.attachments.len(), 1, "{:?}", msg.attachments);
    let eml = &msg.attachments[0];
    assert_eq!(eml.filename, "Rekomendasi camat.eml");
    assert_eq!(eml.content_type, "message/rfc822");
    let text = String::from_utf8_lossy(&eml.data);
    assert!(text.starts_with("From: camat@example.go.id"), "{text}");
    assert!(text.contains("Surat rekomendasi untuk Budi."), "{text}");
    assert!(!text.contains("--outer"), "{text}");
}

#[test]
fn base64_forwarded_message_is_followed() {
    // Some clients encode the whole forwarded message.
    let inner = "From: a@b.id\r\nContent-Type: image/png; name=peta.png\r\n\
                 Content-Disposition: attachment\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n";
    let encoded = base64_encode(inner.as_bytes());
    let raw = crlf(&format!(
        "From: budi@example.id\nContent-Type: multipart/mixed; boundary=o\n\n--o\n\
         Content-Type: text/plain\n\nFwd\n--o\nContent-Type: message/rfc822\n\
         Content-Transfer-Encoding: base64\n\n{encoded}\n--o--\n"
    ));
    let msg = parse_ok(&raw);
    assert_eq!(msg.attachments.len(), 1, "{:?}", msg.attachments);
    assert_eq!(msg.attachments[0].filename, "peta.png");
    assert_eq!(msg.attachments[0].data, b"\x89PNG\r\n\x1a\n");
}

#[test]
fn base64_forwarded_letter_is_kept_decoded() {
    let inner = "From: camat@example.go.id\r\nSubject: Rekomendasi\r\n\r\nSurat rekomendasi.\r\n";
    let encoded = base64_encode(inner.as_bytes());
    let raw = crlf(&format!(
        "From: budi@example.id\nContent-Type: multipart/mixed; boundary=o\n\n--o\n\
         Content-Type: text/plain\n\nFwd\n--o\nContent-Type: message/rfc822\n\
         Content-Transfer-Encoding: base64\n\n{encoded}\n--o--\n"
    ));
    let msg = parse_ok(&raw);
    assert_eq!(msg.attachments.len(), 1, "{:?}", msg.attachments);
    assert_eq!(msg.attachments[0].data, inner.as_bytes());
}

fn base64_encode(data: &[u8]) -> String {
    data_encoding::BASE64.encode(data)
}

#[test]
fn forwarding_too_deep_is_kept_whole() {
    let mut raw = "From: x@y.id\nSubject: terdalam\n\nisi\n".to_string();
    for level in 0..4 {
        raw = format!(
            "From: l{level}@y.id\nContent-Type: multipart/mixed; boundary=b{level}\n\n--b{level}\n\
             Content-Type: message/rfc822\n\n{raw}--b{level}--\n"
        );
    }
    let limits = MimeLimits {
        max_depth: 1,
        ..MimeLimits::default()
    };
    let msg = parse(&crlf(&raw), &limits).unwrap();
    assert_eq!(msg.attachments.len(), 1, "{:?}", msg.attachments);
    assert_eq!(msg.attachments[0].content_type, "message/rfc822");
    assert!(
        msg.problems.iter().any(|p| p.contains("nested deeper")),
        "{:?}",
        msg.problems
    );
    // The kept message is the one two levels down, cut out exactly.
    let kept = String::from_utf8_lossy(&msg.attachments[0].data);
    assert!(kept.starts_with("From: l1@y.id"), "{kept}");
    assert!(
        kept.contains("Subject: terdalam") && !kept.contains("--b2"),
        "{kept}"
    );
}

#[test]
fn inline_images_and_attached_text_are_attachments() {
    let raw = crlf(
        "From: budi@example.id\nContent-Type: multipart/related; boundary=r\n\n--r\n\
         Content-Type: text/html\n\n<p>Foto lokasi: <img src=\"cid:foto\"></p>\n--r\n\
         Content-Type: image/jpeg\nContent-ID: <foto>\nContent-Disposition: inline\n\
         Content-Transfer-Encoding: base64\n\n/9j/4AAQ\n--r--\n",
    );
    let msg = parse_ok(&raw);
    assert!(msg.body_text.contains("Foto lokasi"), "{}", msg.body_text);
    assert_eq!(msg.attachments.len(), 1);
    assert_eq!(msg.attachments[0].filename, "lampiran-1.jpg");
    assert_eq!(msg.attachments[0].original_filename, None);
}

#[test]
fn hostile_filename_is_made_safe() {
    let long = "x".repeat(500);
    let raw = crlf(&format!(
        "From: budi@example.id\nContent-Type: multipart/mixed; boundary=m\n\n--m\n\
         Content-Type: text/plain\n\nfiles\n--m\n\
         Content-Type: application/pdf\nContent-Disposition: attachment; filename=\"../../etc/passwd\"\n\n%PDF\n--m\n\
         Content-Type: application/pdf\nContent-Disposition: attachment; filename=\"{long}.pdf\"\n\n%PDF\n--m\n\
         Content-Type: application/pdf\nContent-Disposition: attachment; filename=\"=?UTF-8?B?Li4vc3VyYXQucGRm?=\"\n\n%PDF\n--m--\n"
    ));
    let msg = parse_ok(&raw);
    let names: Vec<&str> = msg
        .attachments
        .iter()
        .map(|a| a.filename.as_str())
        .collect();
    assert_eq!(names[0], "passwd");
    assert_eq!(
        msg.attachments[0].original_filename.as_deref(),
        Some("../../etc/passwd")
    );
    assert_eq!(names[1].chars().count(), 120);
    assert!(names[1].ends_with(".pdf"));
    assert_eq!(names[2], "surat.pdf");
}

#[test]
fn too_many_attachments_are_cut_and_noted() {
    let mut raw = "From: budi@example.id\nContent-Type: multipart/mixed; boundary=m\n\n--m\nContent-Type: text/plain\n\nbanyak\n".to_string();
    for i in 0..5 {
        raw.push_str(&format!(
            "--m\nContent-Type: image/png\nContent-Disposition: attachment; filename=f{i}.png\n\nx\n"
        ));
    }
    raw.push_str("--m--\n");
    let limits = MimeLimits {
        max_attachments: 3,
        ..MimeLimits::default()
    };
    let msg = parse(&crlf(&raw), &limits).unwrap();
    assert_eq!(msg.attachments.len(), 3);
    assert!(
        msg.problems
            .iter()
            .any(|p| p.contains("2 attachment(s) beyond the limit of 3")),
        "{:?}",
        msg.problems
    );
}

#[test]
fn out_of_office_reply_is_not_answered() {
    let raw = crlf(
        "From: budi@example.id\nSubject: Automatic reply: Permohonan\nAuto-Submitted: auto-replied\n\n\
         Saya sedang cuti sampai 10 Juli.\n",
    );
    let msg = parse_ok(&raw);
    assert_eq!(
        msg.no_reply,
        Some(NoReply::AutoSubmitted("auto-replied".into()))
    );
    assert_eq!(no_reply_reason(&msg, &[]), msg.no_reply);
    assert_eq!(
        msg.no_reply.unwrap().describe(),
        "automatic message (auto-replied)"
    );

    let exchange = crlf("From: budi@example.id\nX-Auto-Response-Suppress: All\n\nOut of office\n");
    assert!(matches!(
        parse_ok(&exchange).no_reply,
        Some(NoReply::AutoSubmitted(_))
    ));
    let vacation = crlf("From: budi@example.id\nX-Autoreply: yes\n\nCuti\n");
    assert!(matches!(
        parse_ok(&vacation).no_reply,
        Some(NoReply::AutoSubmitted(_))
    ));
    let human = crlf("From: budi@example.id\nAuto-Submitted: no\n\nHalo\n");
    assert_eq!(parse_ok(&human).no_reply, None);
}

#[test]
fn bounce_is_not_answered() {
    let report = crlf(
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.id>\nSubject: Undelivered Mail\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=r\n\n\
         --r\nContent-Type: text/plain\n\nGagal terkirim.\n--r--\n",
    );
    assert_eq!(parse_ok(&report).no_reply, Some(NoReply::Bounce));
    let postmaster = crlf("From: postmaster@example.id\n\nbounce\n");
    assert_eq!(parse_ok(&postmaster).no_reply, Some(NoReply::Bounce));
    let null_path = crlf("Return-Path: <>\nFrom: someone@example.id\n\nbounce\n");
    assert_eq!(parse_ok(&null_path).no_reply, Some(NoReply::Bounce));
}

#[test]
fn newsletter_is_not_answered() {
    let list = crlf(
        "From: berita@portal.example.id\nList-Unsubscribe: <mailto:unsub@portal.example.id>\n\nBerita\n",
    );
    assert_eq!(parse_ok(&list).no_reply, Some(NoReply::MailingList));
    let bulk = crlf("From: promo@toko.example.id\nPrecedence: bulk\n\nDiskon\n");
    assert_eq!(
        parse_ok(&bulk).no_reply,
        Some(NoReply::Precedence("bulk".into()))
    );
}

#[test]
fn office_does_not_answer_itself() {
    let raw =
        crlf("From: Perizinan <PERIZINAN@dpmptsp.go.id>\nSubject: Tanda terima\n\nterima kasih\n");
    let msg = parse_ok(&raw);
    assert_eq!(msg.no_reply, None);
    let office = ["perizinan@dpmptsp.go.id".to_string()];
    assert_eq!(no_reply_reason(&msg, &office), Some(NoReply::OwnAddress));
}

#[test]
fn message_without_sender_is_not_answered_and_noted() {
    let msg = parse_ok(&crlf("Subject: tanpa pengirim\n\nisi surat\n"));
    assert_eq!(msg.from, None);
    assert_eq!(no_reply_reason(&msg, &[]), Some(NoReply::NoSender));
    assert!(
        msg.problems.iter().any(|p| p.contains("no From")),
        "{:?}",
        msg.problems
    );
}

#[test]
fn empty_message_is_noted() {
    let msg = parse_ok(&crlf("From: budi@example.id\nSubject: kosong\n\n"));
    assert!(
        msg.problems.iter().any(|p| p.contains("empty")),
        "{:?}",
        msg.problems
    );
}

#[test]
fn nonsense_is_not_a_message() {
    assert!(matches!(
        parse(b"", &MimeLimits::default()),
        Err(MimeError::NotAMessage(_))
    ));
    assert!(matches!(
        parse(b"  \r\n", &MimeLimits::default()),
        Err(MimeError::NotAMessage(_))
    ));
}

fn winmail_mail(winmail: &[u8]) -> Vec<u8> {
    let b64 = data_encoding::BASE64_MIME.encode(winmail);
    crlf(&format!(
        "From: Budi <budi@example.id>\nSubject: Permohonan PBG\nMIME-Version: 1.0\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\n\n--b1\n\
         Content-Type: application/ms-tnef; name=\"winmail.dat\"\n\
         Content-Disposition: attachment; filename=\"winmail.dat\"\n\
         Content-Transfer-Encoding: base64\n\n{b64}--b1--\n"
    ))
}

#[test]
fn outlook_winmail_dat_gives_its_files_and_rtf_body() {
    let winmail = crate::extract::tnef::tests::Builder::new()
        .rtf_body(br"{\rtf1\ansi{\fonttbl{\f0 Arial;}}\pard Yth. Bapak/Ibu,\par terlampir surat permohonan.\par}")
        .file("SURATP~1.PDF", Some("Surat Permohonan.pdf"), b"%PDF-1.4 surat")
        .bytes();
    let msg = parse_ok(&winmail_mail(&winmail));
    assert_eq!(
        msg.body_text,
        "Yth. Bapak/Ibu,\nterlampir surat permohonan."
    );
    assert_eq!(msg.attachments.len(), 1, "{:?}", msg.attachments);
    let pdf = &msg.attachments[0];
    assert_eq!(pdf.filename, "Surat Permohonan.pdf");
    assert_eq!(
        pdf.original_filename.as_deref(),
        Some("winmail.dat/Surat Permohonan.pdf")
    );
    assert_eq!(pdf.content_type, "application/pdf");
    assert_eq!(pdf.data, b"%PDF-1.4 surat");
}

#[test]
fn a_corrupt_winmail_dat_stays_and_says_why() {
    let mut winmail = crate::extract::tnef::tests::Builder::new()
        .file("A.PDF", None, b"%PDF-1.4 surat")
        .bytes();
    winmail.truncate(winmail.len() - 3);
    let msg = parse_ok(&winmail_mail(&winmail));
    assert_eq!(msg.attachments.len(), 1);
    assert_eq!(msg.attachments[0].filename, "winmail.dat");
    assert!(
        msg.problems.iter().any(|p| p.contains("TNEF")),
        "{:?}",
        msg.problems
    );
    let read = crate::extract::document::read_document(
        &msg.attachments[0].data,
        "application/ms-tnef",
        "winmail.dat",
    );
    let error = read.error.expect("an error");
    assert!(
        error.to_string().contains("corrupt or unreadable TNEF"),
        "{error}"
    );
    assert_eq!(read.content_type, "application/vnd.ms-tnef");
}
