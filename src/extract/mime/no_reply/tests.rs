//! Each rule on a message shaped like the real thing, and the people it must leave alone.

use crate::extract::mime::{is_machine_address, no_reply_reason, parse, MimeLimits, NoReply};

fn reason(text: &str) -> Option<NoReply> {
    let raw = text.replace('\n', "\r\n");
    parse(raw.as_bytes(), &MimeLimits::default())
        .expect("a message")
        .no_reply
}

/// A plain message from `from` with `subject` and extra header lines, nothing else automatic.
fn mail(from: &str, subject: &str, extra: &str) -> String {
    format!(
        "From: {from}\nTo: perizinan@dpmptsp.go.id\nSubject: {subject}\n\
         Date: Mon, 23 Nov 2026 09:15:00 +0700\nMessage-ID: <m1@example.id>\n{extra}\
         MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nIsi pesan.\n"
    )
}

fn human(from: &str, subject: &str) -> String {
    mail(from, subject, "")
}

#[test]
fn cloud_notice_from_no_reply_address_is_a_machine() {
    for from in [
        "AWS Notifications <no-reply@sns.amazonaws.com>",
        "noreply@github.com",
        "Bank <no_reply@klikbca.com>",
        "DoNotReply@microsoft.com",
        "do-not-reply@oss.go.id",
        "do_not_reply@example.id",
        "noreply-dmarc-support@google.com",
        "\"OSS RBA\" <donotreply+notif@oss.go.id>",
    ] {
        let got = reason(&human(from, "Informasi akun Anda"));
        assert!(
            matches!(got, Some(NoReply::MachineSender(_))),
            "{from}: {got:?}"
        );
    }
    assert_eq!(
        reason(&human(
            "No-Reply@SNS.amazonaws.com",
            "AWS Notification Message"
        )),
        Some(NoReply::MachineSender("no-reply@sns.amazonaws.com".into()))
    );
}

#[test]
fn bounce_and_list_robots_are_machines() {
    for from in [
        "bounce@mailer.example.com",
        "bounces@lists.example.org",
        "bounce+12345-abc=example.com@em.sendgrid.net",
        "bounces-perizinan=pasuruankab.go.id@lists.example.org",
        "bounce-123@news.example.com",
        "mailer@shop.example.com",
        "LISTSERV@LISTSERV.EXAMPLE.EDU",
        "Majordomo@example.org",
        "warga-request@lists.example.id",
        "warga-owner@lists.example.id",
        "warga-bounces@lists.example.id",
        "owner-warga@lists.example.id",
        "notifications@github.com",
        "notification@bpjs.example.id",
        "automailer@portal.example.id",
    ] {
        let got = reason(&human(from, "Re: Pengumuman"));
        assert!(
            matches!(got, Some(NoReply::MachineSender(_))),
            "{from}: {got:?}"
        );
    }
}

#[test]
fn mail_system_addresses_are_bounces_wherever_they_stand() {
    let from = reason(&human(
        "Mail Delivery Subsystem <MAILER-DAEMON@gmail.com>",
        "Hi",
    ));
    assert_eq!(from, Some(NoReply::Bounce));
    let sender = reason(&mail(
        "Kantor Pos <kantor@example.id>",
        "Pemberitahuan",
        "Sender: postmaster@example.id\n",
    ));
    assert_eq!(sender, Some(NoReply::Bounce));
    let path = reason(&mail(
        "Layanan <layanan@example.id>",
        "Pemberitahuan",
        "Return-Path: <mailer-daemon@mx.example.id>\n",
    ));
    assert_eq!(path, Some(NoReply::Bounce));
}

#[test]
fn machine_sender_or_return_path_behind_a_human_from() {
    let sender = reason(&mail(
        "Pengumuman Warga <warga@lists.example.id>",
        "Rapat bulanan",
        "Sender: warga-bounces@lists.example.id\n",
    ));
    assert_eq!(
        sender,
        Some(NoReply::MachineSender(
            "warga-bounces@lists.example.id".into()
        ))
    );
    let path = reason(&mail(
        "Toko Online <halo@toko.example.id>",
        "Pesanan Anda dikirim",
        "Return-Path: <bounces+4242-ab=pasuruankab.go.id@em123.sendgrid.net>\n",
    ));
    assert!(matches!(path, Some(NoReply::MachineSender(_))), "{path:?}");
}

#[test]
fn web_form_from_no_reply_with_the_applicant_in_reply_to_is_answered() {
    let form = mail(
        "Formulir Website <no-reply@pasuruankab.go.id>",
        "Permohonan informasi izin usaha",
        "Reply-To: Siti Aminah <siti.aminah@gmail.com>\n",
    );
    assert_eq!(reason(&form), None);
    // A machine behind a machine is still a machine.
    let robot = mail(
        "no-reply@example.com",
        "Laporan",
        "Reply-To: bounces@example.com\n",
    );
    assert!(matches!(reason(&robot), Some(NoReply::MachineSender(_))));
}

#[test]
fn people_at_role_addresses_are_not_machines() {
    for from in [
        "Info CV Maju <info@cvmaju.co.id>",
        "admin@tokobangunan.example.id",
        "cs@pt-sinar.example.id",
        "support@afw.example.com",
        "halo@kopikenangan.example.id",
        "bouncer.gym@example.id",
        "mailer.budi@example.id",
        "notif.budi@example.id",
        "owner@warungmakan.example.id",
        "request@example.id",
        "sales-owner-budi@example.id",
    ] {
        assert_eq!(
            reason(&human(from, "Permohonan izin usaha")),
            None,
            "{from} is a person"
        );
    }
}

#[test]
fn out_of_office_subjects_in_bahasa_indonesia_and_english() {
    for subject in [
        "Balasan otomatis: [PSR-7K3M9-QXD2F] Tanda terima permohonan",
        "Balasan Otomatis: Permohonan PBG",
        "Di luar kantor: Permohonan PBG",
        "Sedang di luar kantor sampai 5 Desember",
        "Pesan otomatis",
        "Otomatis: Di luar kantor (Re: Tanda terima PSR-7K3M-9QXD)",
        "Automatic reply: [PSR-7K3M9-QXD2F] Tanda terima permohonan",
        "RE: Automatic reply: Permohonan",
        "Auto reply: Permohonan",
        "Autoreply: Permohonan",
        "Auto-Reply: Permohonan",
        "AUTO-REPLY",
        "Out of Office: Permohonan",
        "Out of Office AutoReply: Permohonan",
        "out of the office",
        "Fwd: Re: Out of office",
        "[EXTERNAL] Automatic reply: Tanda terima",
        "Abwesenheitsnotiz: Antrag",
    ] {
        let got = reason(&human("Yusuf Pratama <yusuf.pratama@example.com>", subject));
        assert!(
            matches!(got, Some(NoReply::AutoReplySubject(_))),
            "{subject}: {got:?}"
        );
    }
    assert_eq!(
        reason(&human(
            "yusuf@example.com",
            "Re: Balasan Otomatis: Permohonan"
        )),
        Some(NoReply::AutoReplySubject("Balasan Otomatis".into()))
    );
}

#[test]
fn delivery_report_subjects_without_report_structure() {
    for subject in [
        "Undeliverable: Tanda terima permohonan",
        "Undelivered Mail Returned to Sender",
        "Delivery Status Notification (Failure)",
        "Delivery Failure",
        "Returned mail: see transcript for details",
        "Mail delivery failed: returning message to sender",
        "Mail System Error - Returned Mail",
        "failure notice",
        "Nondeliverable mail",
        "Tidak dapat dikirim: Tanda terima permohonan",
        "Pesan tidak terkirim",
        "Pemberitahuan Status Pengiriman (Kegagalan)",
    ] {
        let got = reason(&human("Layanan Surel <layanan@mail.example.id>", subject));
        assert!(
            matches!(got, Some(NoReply::AutoReplySubject(_))),
            "{subject}: {got:?}"
        );
    }
}

#[test]
fn applicants_who_mention_automatic_replies_are_people() {
    for subject in [
        "Permohonan izin usaha (balasan otomatis tidak saya terima)",
        "Pertanyaan: kenapa ada pesan otomatis dari OSS?",
        "Re: [PSR-7K3M9-QXD2F] Tanda terima permohonan: izin usaha",
        "Izin usaha bengkel otomotif",
        "Autoreplying is annoying",
        "Permohonan PBG - out of officer hours",
        "Surat keterangan di luar kantornya",
        "Tidak dapat dikirimkan lewat OSS, mohon bantuan",
        "Re: Fwd: Permohonan SIUP",
    ] {
        assert_eq!(
            reason(&human("Budi <budi.santoso@example.com>", subject)),
            None,
            "{subject}"
        );
    }
}

#[test]
fn loop_headers_of_any_value() {
    for (header, value) in [
        ("X-Loop", "perizinan@pasuruankab.go.id"),
        ("X-Loop", "yes"),
        ("X-No-Loop", "1"),
        ("X-OTRS-Loop", "yes"),
        ("X-MS-Exchange-Inbox-Rules-Loop", "yusuf@example.com"),
    ] {
        let got = reason(&mail(
            "Yusuf <yusuf@example.com>",
            "Re: Permohonan",
            &format!("{header}: {value}\n"),
        ));
        assert_eq!(
            got,
            Some(NoReply::LoopHeader(header.to_ascii_lowercase())),
            "{header}"
        );
    }
}

#[test]
fn staff_forward_by_inbox_rule_is_not_a_loop() {
    let forward = mail(
        "Staf Bidang <staf.bidang@pasuruankab.go.id>",
        "FW: Permohonan PBG",
        "X-MS-Exchange-Inbox-Rules-Loop: staf.bidang@pasuruankab.go.id\n\
         X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent\n",
    );
    assert_eq!(reason(&forward), None);
}

#[test]
fn automatic_headers_of_old_and_proprietary_responders() {
    for (header, value) in [
        ("X-Autoresponder", "yes"),
        ("X-Autogenerated", "Reply"),
        ("X-AutoReply-From", "yusuf@example.com"),
        ("X-Mail-Autoreply", "yes"),
        ("X-Auto-Response", "yes"),
        ("X-FC-Machinegenerated", "true"),
        ("X-Apple-Action", "vacation"),
        (
            "X-MS-Exchange-Generated-Message-Source",
            "Mailbox Rules Agent",
        ),
    ] {
        let got = reason(&mail(
            "Yusuf <yusuf@example.com>",
            "Re: Permohonan",
            &format!("{header}: {value}\n"),
        ));
        assert_eq!(
            got,
            Some(NoReply::AutoSubmitted(header.to_ascii_lowercase())),
            "{header}"
        );
    }
    let forwarded = mail(
        "Yusuf <yusuf@example.com>",
        "Permohonan",
        "X-Autogenerated: Forward\n",
    );
    assert_eq!(reason(&forwarded), None);
}

#[test]
fn x_precedence_and_list_servers_headers() {
    assert_eq!(
        reason(&mail("warga@example.id", "Rapat", "X-Precedence: bulk\n")),
        Some(NoReply::Precedence("bulk".into()))
    );
    assert_eq!(
        reason(&mail(
            "warga@example.id",
            "Rapat",
            "Precedence: auto_reply\n"
        )),
        Some(NoReply::Precedence("auto_reply".into()))
    );
    for header in [
        "X-Mailman-Version: 2.1.39",
        "Mailing-List: contact warga-help@example.id; run by ezmlm",
        "X-Mailing-List: warga@example.id",
    ] {
        assert_eq!(
            reason(&mail("warga@example.id", "Rapat", &format!("{header}\n"))),
            Some(NoReply::MailingList),
            "{header}"
        );
    }
}

#[test]
fn vacation_programs_named_in_x_mailer_or_user_agent() {
    for (header, value) in [
        ("X-Mailer", "vacation 1.2.7"),
        ("X-Mailer", "cPanel Autoresponder"),
        ("User-Agent", "Horde Vacation module"),
        ("X-Mailer", "GNU Mailman"),
        ("X-Mailer", "Majordomo 1.94.5"),
    ] {
        let got = reason(&mail(
            "Yusuf <yusuf@example.com>",
            "Re: Permohonan",
            &format!("{header}: {value}\n"),
        ));
        assert_eq!(
            got,
            Some(NoReply::AutoResponderMailer(value.into())),
            "{value}"
        );
    }
    for client in [
        "Microsoft Outlook 16.0",
        "Microsoft Exchange Server",
        "Apple Mail (2.3774)",
        "Mozilla Thunderbird",
        "Roundcube Webmail/1.6.5",
        "Zendesk Mailer",
    ] {
        let msg = mail(
            "yusuf@example.com",
            "Permohonan",
            &format!("X-Mailer: {client}\n"),
        );
        assert_eq!(reason(&msg), None, "{client}");
    }
}

#[test]
fn report_parts_anywhere_mark_a_bounce() {
    let nested = "From: Layanan <layanan@mail.example.id>\nSubject: Pemberitahuan\n\
         Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: text/plain\n\n\
         Surat Anda tidak sampai.\n--o\nContent-Type: message/delivery-status\n\n\
         Reporting-MTA: dns; mail.example.id\n\nFinal-Recipient: rfc822; x@example.id\n\
         Action: failed\nStatus: 5.1.1\n--o--\n";
    assert_eq!(reason(nested), Some(NoReply::Bounce));
    let headers_only = "From: Layanan <layanan@mail.example.id>\nSubject: Pemberitahuan\n\
         Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: text/plain\n\n\
         Gagal.\n--o\nContent-Type: text/rfc822-headers\n\nFrom: perizinan@pasuruankab.go.id\n\
         Subject: Tanda terima\n--o--\n";
    assert_eq!(reason(headers_only), Some(NoReply::Bounce));
    let receipt = "From: Yusuf <yusuf@example.com>\nSubject: Dibaca: Tanda terima\n\
         Content-Type: message/disposition-notification\n\n\
         Final-Recipient: rfc822; yusuf@example.com\nDisposition: manual-action/MDN-sent-manually; displayed\n";
    assert_eq!(reason(receipt), Some(NoReply::Bounce));
    let gmail = mail(
        "Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
        "Delivery Status Notification (Failure)",
        "X-Failed-Recipients: budi@example.comm\n",
    );
    assert_eq!(reason(&gmail), Some(NoReply::Bounce));
    let exim = mail(
        "Layanan <layanan@example.id>",
        "Pemberitahuan",
        "X-Failed-Recipients: budi@example.id\n",
    );
    assert_eq!(reason(&exim), Some(NoReply::Bounce));
}

#[test]
fn forwarded_bounce_as_attachment_is_a_person() {
    let forward =
        "From: Budi <budi.santoso@example.com>\nSubject: Mohon bantuan, surel saya ditolak\n\
         Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: text/plain\n\n\
         Surel saya ke dinas ditolak, ini laporannya.\n--o\nContent-Type: message/rfc822\n\n\
         From: MAILER-DAEMON@mx.example.com\nSubject: Undelivered Mail Returned to Sender\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=r\n\n\
         --r\nContent-Type: text/plain\n\nGagal.\n--r\nContent-Type: message/delivery-status\n\n\
         Reporting-MTA: dns; mx.example.com\n--r--\n--o--\n";
    assert_eq!(reason(forward), None);
}

#[test]
fn every_new_reason_is_described_and_kept_by_no_reply_reason() {
    let reasons = [
        NoReply::MachineSender("no-reply@sns.amazonaws.com".into()),
        NoReply::AutoReplySubject("Out of Office".into()),
        NoReply::LoopHeader("x-loop".into()),
        NoReply::AutoResponderMailer("vacation 1.2.7".into()),
    ];
    for r in reasons {
        let text = r.describe();
        assert!(
            text.contains(match &r {
                NoReply::MachineSender(s)
                | NoReply::AutoReplySubject(s)
                | NoReply::LoopHeader(s)
                | NoReply::AutoResponderMailer(s) => s.as_str(),
                _ => unreachable!(),
            }),
            "{text}"
        );
    }
    let raw = human("no-reply@sns.amazonaws.com", "AWS Notification").replace('\n', "\r\n");
    let msg = parse(raw.as_bytes(), &MimeLimits::default()).unwrap();
    assert_eq!(no_reply_reason(&msg, &[]), msg.no_reply);
    assert!(msg.no_reply.is_some());
}

#[test]
fn applicant_fixtures_are_answered() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mail");
    let machines = ["bounce.eml", "newsletter.eml", "out-of-office.eml"];
    let mut people = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.extension().is_none_or(|e| e != "eml") {
            continue;
        }
        let raw = std::fs::read(&path).unwrap();
        let got = parse(&raw, &MimeLimits::default()).unwrap().no_reply;
        if machines.contains(&name.as_str()) {
            assert!(got.is_some(), "{name} is a machine");
        } else {
            assert_eq!(got, None, "{name} is a person");
            people += 1;
        }
    }
    assert!(people >= 8, "{people} applicant fixtures");
}

#[test]
fn mail_systems_known_by_name_or_exchange_address() {
    let renamed = "From: Mail Delivery Subsystem <xxx@example.com>\nTo: perizinan@dpmptsp.go.id\n\
         Content-Type: multipart/mixed; boundary=o\n\n--o\n\nSurat dikembalikan.\n--o\n\
         Content-Type: message/rfc822\n\nFrom: perizinan@dpmptsp.go.id\nSubject: Tanda terima\n\n\
         isi\n--o--\n";
    assert_eq!(reason(renamed), Some(NoReply::Bounce));
    let exchange = human(
        "Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.onmicrosoft.com>",
        "Pemberitahuan",
    );
    assert_eq!(reason(&exchange), Some(NoReply::Bounce));
    // A person may be called "Mail" something; only the MTAs' own names count.
    assert_eq!(
        reason(&human("Mail Budi <budi@example.id>", "Permohonan")),
        None
    );
}

#[test]
fn list_digest_inside_a_table_of_contents_is_list_mail() {
    let digest = "From: Moderator <moderator@lists.example.id>\nSubject: Warga Digest, Vol 3\n\
         Content-Type: multipart/mixed; boundary=m\n\n--m\n\nDaftar isi\n--m\n\
         Content-Type: multipart/digest; boundary=d\n\n--d\n\nFrom: a@example.id\nSubject: x\n\n\
         isi\n--d--\n--m--\n";
    assert_eq!(reason(digest), Some(NoReply::MailingList));
}

proptest::proptest! {
    /// Hostile subjects and addresses never panic, and a phrase that does not open the
    /// subject never counts: "Permohonan ..." is a person whatever follows.
    #[test]
    fn subjects_and_addresses_never_panic_and_stay_anchored(s in "\\PC{0,80}", raw in "\\PC{0,60}") {
        let _ = super::subject::auto_phrase(&s);
        let _ = super::sender::machine(&raw);
        let _ = super::sender::is_mail_system_name(&raw);
        let anchored = format!("Permohonan {s}");
        proptest::prop_assert_eq!(super::subject::auto_phrase(&anchored), None);
    }

    #[test]
    fn whole_messages_with_hostile_headers_never_panic(subject in "\\PC{0,60}", from in "\\PC{0,40}", value in "\\PC{0,40}") {
        let text = format!(
            "From: {from}\nReturn-Path: {value}\nSender: {value}\nX-Mailer: {value}\n\
             X-Autogenerated: {value}\nSubject: {subject}\n\nisi\n"
        );
        let _ = parse(text.as_bytes(), &MimeLimits::default());
    }
}

#[test]
fn addresses_read_from_a_form_get_the_same_machine_check() {
    for machine in [
        "MAILER-DAEMON@mx.example.id",
        "no-reply@oss.go.id",
        "bounces+x@em.example.com",
    ] {
        assert!(is_machine_address(machine), "{machine}");
    }
    for person in [
        "info@cvmaju.co.id",
        "budi.santoso@gmail.com",
        "",
        "@",
        "not an address",
    ] {
        assert!(!is_machine_address(person), "{person}");
    }
}

#[test]
fn machine_fixtures_are_recognised() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/machine");
    let expected = [
        (
            "sns-bounce-notification.eml",
            NoReply::MachineSender("no-reply@sns.amazonaws.com".into()),
        ),
        (
            "majordomo-error.eml",
            NoReply::MachineSender("majordomo@lists.example.id".into()),
        ),
        (
            "outlook-2003-balasan-otomatis.eml",
            NoReply::AutoReplySubject("Balasan Otomatis".into()),
        ),
        (
            "carrier-gateway-failure.eml",
            NoReply::AutoReplySubject("failure notice".into()),
        ),
    ];
    for (name, reason) in expected {
        let raw = std::fs::read(dir.join(name)).unwrap();
        let msg = parse(&raw, &MimeLimits::default()).unwrap();
        assert_eq!(msg.no_reply, Some(reason), "{name}");
    }
}
