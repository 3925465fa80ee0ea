//! No mail to machines, even without the standard headers: real bounces, vacation replies and
//! list mail from the shared corpora are recognised and, on the real servers, filed and never
//! answered, while real people's mail from the same corpora still would be.

mod app;
mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use app::{acks_to, fixture_from, header, unique_address, Db, TestApp};
use loket::extract::mime::{parse, MimeLimits, NoReply};

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
}

/// Every `.eml`/`.txt` file under `dir`, sorted; empty when `dir` is absent.
fn mail_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "eml" || x == "txt") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}

/// CPython's email test corpus (`test/test_email/data`), if this Python has it.
fn cpython_email_data() -> Option<PathBuf> {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import test, os; print(os.path.dirname(test.__file__))",
        ])
        .output()
        .ok()?;
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("test_email/data");
    dir.is_dir().then_some(dir)
}

fn reason_of(path: &Path) -> Option<NoReply> {
    let raw = std::fs::read(path).expect("corpus file reads");
    parse(&raw, &MimeLimits::default())
        .ok()
        .and_then(|m| m.no_reply)
}

/// The corpus's bounces as they would arrive: each with a Message-ID of its own (two files are
/// byte-identical and two share an id, which loket would rightly take as one message).
fn bounces() -> Vec<(PathBuf, Vec<u8>)> {
    mail_files(&shared().join("bounces"))
        .into_iter()
        .map(|p| {
            let raw = std::fs::read(&p).expect("bounce reads");
            let unique = with_fresh_message_id(&raw);
            (p, unique)
        })
        .collect()
}

fn with_fresh_message_id(raw: &[u8]) -> Vec<u8> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let head_end = find(raw, b"\n\n")
        .or_else(|| find(raw, b"\r\n\r\n"))
        .unwrap_or(raw.len());
    let lower = raw[..head_end].to_ascii_lowercase();
    let existing = [&b"\nmessage-id:"[..]]
        .iter()
        .find_map(|pat| find(&lower, pat))
        .and_then(|at| find(&raw[at..head_end], b"<").map(|lt| at + lt + 1));
    let mut out = Vec::with_capacity(raw.len() + 60);
    match existing {
        Some(at) => {
            out.extend_from_slice(&raw[..at]);
            out.extend_from_slice(format!("{id}.").as_bytes());
            out.extend_from_slice(&raw[at..]);
        }
        None => {
            // After an mbox "From " line, if there is one.
            let start = if raw.starts_with(b"From ") {
                find(raw, b"\n").map_or(0, |n| n + 1)
            } else {
                0
            };
            out.extend_from_slice(&raw[..start]);
            out.extend_from_slice(format!("Message-ID: <{id}@corpus.test>\r\n").as_bytes());
            out.extend_from_slice(&raw[start..]);
        }
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn every_real_bounce_and_report_is_recognised() {
    let files = mail_files(&shared().join("bounces"));
    if files.is_empty() {
        eprintln!("SKIP: ../shared/corpus/bounces is absent");
        return;
    }
    let mut missed = Vec::new();
    for f in &files {
        let reason = reason_of(f);
        println!("{:<60} {reason:?}", f.display());
        if reason.is_none() {
            missed.push(f.display().to_string());
        }
    }
    assert!(
        missed.is_empty(),
        "not recognised as machine mail: {missed:#?}"
    );
    assert!(files.len() >= 20, "{} bounces", files.len());
}

/// Hand-checked: each of these is a delivery report, a list or digest message, or a message
/// sent by a mail system. Paths relative to the corpus folder they come from.
const MAIL_PARSER_MACHINES: &[&str] = &[
    "rfc/004.eml",        // "Internet Digest, volume 42": multipart/digest from a moderator
    "thirdparty/007.eml", // a digest
    "thirdparty/014.eml", // Mailman list post (List-Id, Precedence: list)
];
const CPYTHON_MACHINES: &[&str] = &[
    "msg_02.txt", // Mailman digest from ppp-request@
    "msg_05.txt", // multipart/report
    "msg_16.txt", // DSN from postmaster@ucla.edu relayed by a list
    "msg_25.txt", // sendmail DSN from MAILER-DAEMON
    "msg_32.txt", // FreeBSD list mail (Precedence: bulk, X-Loop, owner- Sender)
    "msg_33.txt", // the same, signed
    "msg_42.txt", // "Mail Delivery Subsystem" returning a message, no report structure
    "msg_43.txt", // virus-scanner report from "MAILER DAEMON <>"
                  // (msg_28, msg_30 and msg_34 are hand-made multipart/digest test messages: flagged as
                  // digests, in neither list.)
];

/// Hand-checked: people writing (test mail of mail clients, replies, forwards).
const MAIL_PARSER_PEOPLE: &[&str] = &[
    "rfc/000.eml",
    "rfc/002.eml", // "[Fwd: Map of Argentina ...]" from Al Gore
    "rfc/003.eml",
    "rfc/005.eml",
    "rfc/009.eml",
    "thirdparty/011.eml",
    "thirdparty/015.eml", // "Re: (#5290765) Proxmox Shop E-Mails": a person's reply
    "malformed/015.eml",
    "malformed/020.eml",
];
const CPYTHON_PEOPLE: &[&str] = &[
    "msg_01.txt",
    "msg_04.txt",
    "msg_06.txt", // "forwarded message from Barry A. Warsaw"
    "msg_07.txt",
    "msg_08.txt",
    "msg_13.txt",
    "msg_21.txt",
    "msg_24.txt",
    "msg_26.txt",
    "msg_27.txt",
    "msg_35.txt",
    "msg_45.txt",
    "msg_46.txt", // GroupWise forward: message/rfc822 at the top
];

/// Prints every flagged message with its reason, then checks the hand-made lists. Every
/// `legacy/` message of mail-parser (Outlook, Netscape, Pine test mail by one person) is a
/// person too.
#[test]
fn corpus_machines_are_told_apart_from_people() {
    let eml = shared().join("mail-parser-eml/resources/eml");
    let python = cpython_email_data();
    if !eml.is_dir() && python.is_none() {
        eprintln!("SKIP: ../shared/corpus/mail-parser-eml and CPython's test_email are absent");
        return;
    }
    let mut checked = 0;
    let mut check = |root: &Path, machines: &[&str], people: &[&str], also_people: &str| {
        let files = mail_files(root);
        if files.is_empty() {
            eprintln!("SKIP: {} is absent", root.display());
            return;
        }
        let mut wrong = Vec::new();
        for f in &files {
            let rel = f
                .strip_prefix(root)
                .unwrap_or(f)
                .to_string_lossy()
                .into_owned();
            let reason = reason_of(f);
            if let Some(r) = &reason {
                println!("flagged {rel:<22} {}", r.describe());
            }
            let machine = machines.contains(&rel.as_str());
            let person = people.contains(&rel.as_str())
                || (!also_people.is_empty() && rel.starts_with(also_people));
            if (machine && reason.is_none()) || (person && reason.is_some()) {
                wrong.push(format!("{rel}: {reason:?}"));
            }
            checked += usize::from(machine || person);
        }
        assert!(
            wrong.is_empty(),
            "misjudged in {}: {wrong:#?}",
            root.display()
        );
    };
    check(&eml, MAIL_PARSER_MACHINES, MAIL_PARSER_PEOPLE, "legacy/");
    if let Some(dir) = &python {
        // Only the msg_*.txt messages; the folder holds other test data too.
        let msgs = tempfile::tempdir().expect("temp dir");
        for f in mail_files(dir) {
            let name = f.file_name().unwrap_or_default();
            if name.to_string_lossy().starts_with("msg_") {
                std::fs::copy(&f, msgs.path().join(name)).expect("copy");
            }
        }
        check(msgs.path(), CPYTHON_MACHINES, CPYTHON_PEOPLE, "");
    }
    println!("{checked} hand-checked messages");
}

async fn out_of_office_reply_without_auto_submitted_gets_nothing(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let yusuf = unique_address("yusuf");
    app.deliver(&fixture_from("pbg-application.eml", &yusuf))
        .await;
    app.run_once().await;
    let acks = acks_to(&yusuf, 1).await;
    assert_eq!(acks.len(), 1);
    let ack_subject = header(&acks[0], "Subject").expect("the acknowledgement has a subject");
    let ack_id = header(&acks[0], "Message-ID").expect("the acknowledgement has a Message-ID");

    // An older Outlook rule answers for Yusuf: no Auto-Submitted, no X-Auto-Response-Suppress,
    // nothing but its subject and its habits.
    let ooo = format!(
        "From: Yusuf Pratama <{yusuf}>\r\nTo: perizinan@pasuruankab.go.id\r\n\
         Subject: Balasan otomatis: {ack_subject}\r\nIn-Reply-To: {ack_id}\r\n\
         References: {ack_id}\r\nMessage-ID: <{}@example.com>\r\n\
         Date: Mon, 23 Nov 2026 09:20:00 +0700\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n\
         Terima kasih atas pesan Anda. Saya sedang cuti sampai 7 Desember 2026 dan\r\n\
         akan membalas setelah kembali.\r\n",
        uuid::Uuid::new_v4().simple()
    );
    app.deliver(ooo.as_bytes()).await;
    let report = app.run_once().await;
    assert!(report.unreachable.is_empty(), "{:?}", report.unreachable);

    assert_eq!(
        acks_to(&yusuf, 0).await.len(),
        1,
        "the out-of-office reply is not acknowledged"
    );
    assert!(app.inbox().await.is_empty(), "the reply is taken in");
    let mut reasons = Vec::new();
    for case in app.cases().await {
        let shown = app.show(&case.tracking_code).await;
        for e in shown.history.unwrap_or_default() {
            if e.event == "no_acknowledgement" {
                reasons.push(e.detail);
            }
        }
    }
    assert!(
        reasons.iter().any(|r| r.contains("Balasan otomatis")),
        "the reason is recorded: {reasons:?}"
    );
}

async fn every_corpus_bounce_is_filed_and_none_is_answered(db: Db) {
    let messages = bounces();
    if messages.is_empty() {
        eprintln!("SKIP: ../shared/corpus/bounces is absent");
        return;
    }
    // A sink of our own: anything at all that reaches it is an answer to a machine.
    let sink = support::new_smtp_sink();
    let Some(app) = TestApp::spawn_with(db, |t| {
        t["smtp"]["port"] = toml::Value::Integer(i64::from(sink.port));
    })
    .await
    else {
        return;
    };
    let mut raws: Vec<Vec<u8>> = messages.iter().map(|(_, raw)| raw.clone()).collect();
    // The other machine mail of the corpora (lists, digests, DSNs), hand-checked above.
    let eml = shared().join("mail-parser-eml/resources/eml");
    let mut others: Vec<PathBuf> = MAIL_PARSER_MACHINES.iter().map(|p| eml.join(p)).collect();
    if let Some(dir) = cpython_email_data() {
        others.extend(CPYTHON_MACHINES.iter().map(|p| dir.join(p)));
    }
    for path in others.iter().filter(|p| p.is_file()) {
        raws.push(with_fresh_message_id(
            &std::fs::read(path).expect("corpus file reads"),
        ));
    }
    // One person among the machines, so a silent sink proves something.
    let siti = unique_address("siti");
    raws.push(fixture_from("konsultasi.eml", &siti));
    app.deliver_all(&raws).await;

    let report = app.run_once().await;
    assert_eq!(report.jobs.parked, 0, "{report:?}");
    assert!(app.inbox().await.is_empty(), "every bounce is taken in");
    let cases = app.cases().await;
    assert_eq!(
        cases.len(),
        raws.len(),
        "each machine message is a case of its own"
    );
    for case in cases
        .iter()
        .filter(|c| c.applicant.email.as_deref() != Some(siti.as_str()))
    {
        let shown = app.show(&case.tracking_code).await;
        let no_reply = shown.details.as_ref().and_then(|d| d.no_reply.clone());
        let events = shown.history.clone().unwrap_or_default();
        let recorded = events
            .iter()
            .find(|e| e.event == "no_acknowledgement")
            .map(|e| e.detail.clone());
        assert!(
            no_reply.is_some() && recorded.is_some(),
            "{} ({:?}) must be recorded as not to be answered: {no_reply:?} {events:#?}",
            case.tracking_code,
            case.subject
        );
    }
    assert_eq!(
        sink.wait_for(&siti, 1, Duration::from_secs(10)).await.len(),
        1
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let sent = sink.messages();
    assert!(
        sent.len() == 1,
        "{} answer(s) went to machines: {:#?}",
        sent.len() - 1,
        sent.iter()
            .map(|m| String::from_utf8_lossy(m)
                .lines()
                .take(12)
                .collect::<Vec<_>>()
                .join("\n"))
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn out_of_office_reply_without_auto_submitted_gets_nothing_sqlite() {
    out_of_office_reply_without_auto_submitted_gets_nothing(Db::Sqlite).await;
}

#[tokio::test]
async fn out_of_office_reply_without_auto_submitted_gets_nothing_postgres() {
    out_of_office_reply_without_auto_submitted_gets_nothing(Db::Postgres).await;
}

#[tokio::test]
async fn every_corpus_bounce_is_filed_and_none_is_answered_sqlite() {
    every_corpus_bounce_is_filed_and_none_is_answered(Db::Sqlite).await;
}

#[tokio::test]
async fn every_corpus_bounce_is_filed_and_none_is_answered_postgres() {
    every_corpus_bounce_is_filed_and_none_is_answered(Db::Postgres).await;
}
