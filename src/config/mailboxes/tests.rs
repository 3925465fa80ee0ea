use std::path::Path;

use crate::config::{Config, ConfigError};
use crate::domain::Kind;

const OFFICE: &str = "[office]\ncode = \"PSR\"\nname = \"X\"\n";

fn load(toml: &str) -> Result<Config, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("loket.toml");
    std::fs::write(&path, format!("{OFFICE}{toml}")).unwrap();
    Config::load(&path)
}

fn error(toml: &str) -> String {
    load(toml).expect_err("config is refused").to_string()
}

const PERIZINAN: &str = "[imap]\nhost = \"mail\"\nport = 993\nsecurity = \"tls\"\n\
    username = \"perizinan@pasuruankab.go.id\"\npassword = \"a\"\n";

const PENGADUAN: &str = "[[mailbox]]\nhost = \"mail\"\nport = 993\nsecurity = \"tls\"\n\
    username = \"pengaduan\"\npassword = \"b\"\nkind = \"complaint\"\n\
    from = \"Pengaduan DPMPTSP <pengaduan@pasuruankab.go.id>\"\n";

#[test]
fn a_lone_imap_table_is_one_mailbox_without_kind_or_own_sender() {
    let cfg = load(PERIZINAN).unwrap();
    let all: Vec<_> = cfg.all_mailboxes().collect();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].key(), "perizinan@pasuruankab.go.id@mail:993/INBOX");
    assert_eq!(all[0].kind, None);
    assert_eq!(cfg.answer_from(Some(&all[0].key())), None);
}

#[test]
fn mailbox_tables_carry_a_kind_and_a_sender_for_their_answers() {
    let cfg = load(&format!(
        "{}{PENGADUAN}",
        PERIZINAN.replace("[imap]", "[[mailbox]]")
    ))
    .unwrap();
    assert!(cfg.imap.is_none());
    let all: Vec<_> = cfg.all_mailboxes().collect();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].kind, None);
    assert_eq!(all[1].kind, Some(Kind::Complaint));
    assert_eq!(all[1].mailbox, "INBOX", "defaults as in [imap]");
    assert_eq!(all[1].poll_seconds, 60);
    let from = cfg.answer_from(Some(&all[1].key())).unwrap();
    assert_eq!(from.email.to_string(), "pengaduan@pasuruankab.go.id");
    assert_eq!(cfg.answer_from(Some("gone@mail:993/INBOX")), None);
    // Mail from either of our own mailboxes is never answered.
    let own = cfg.office_addresses();
    assert!(own.contains(&"perizinan@pasuruankab.go.id".to_string()));
    assert!(own.contains(&"pengaduan@pasuruankab.go.id".to_string()));
}

#[test]
fn imap_and_mailbox_tables_together_watch_both_imap_first() {
    let cfg = load(&format!("{PERIZINAN}{PENGADUAN}")).unwrap();
    let users: Vec<_> = cfg.all_mailboxes().map(|m| m.username.as_str()).collect();
    assert_eq!(users, ["perizinan@pasuruankab.go.id", "pengaduan"]);
}

#[test]
fn every_kind_is_accepted_and_an_unknown_one_names_the_entry() {
    for (word, kind) in [
        ("application", Kind::Application),
        ("complaint", Kind::Complaint),
        ("consultation", Kind::Consultation),
        ("other", Kind::Other),
    ] {
        let cfg = load(&PENGADUAN.replace("\"complaint\"", &format!("\"{word}\""))).unwrap();
        assert_eq!(cfg.mailboxes[0].kind, Some(kind));
    }
    let err = error(&format!(
        "{}{}",
        PENGADUAN.replace("kind = \"complaint\"\n", ""),
        PENGADUAN.replace("\"complaint\"", "\"keluhan\"")
    ));
    assert!(err.contains("mailbox.1.kind"), "{err}");
    assert!(err.contains("keluhan"), "{err}");
}

#[test]
fn problems_name_the_entry_and_say_how_its_secret_is_given() {
    let second = PENGADUAN
        .replace("username = \"pengaduan\"", "username = \"informasi\"")
        .replace("password = \"b\"\n", "")
        .replace(
            "Pengaduan DPMPTSP <pengaduan@pasuruankab.go.id>",
            "bukan alamat",
        );
    let err = error(&format!(
        "{PENGADUAN}{second}[[mailbox]]\nhost = \"mail\"\nport = 993\nsecurity = \"tls\"\n\
         username = \"x\"\npassword = \"c\"\nbatch_size = 0\n"
    ));
    assert!(
        err.contains("mailbox.1.password or mailbox.1.password_file is required"),
        "{err}"
    );
    assert!(
        err.contains("not [[mailbox]] entries: use password_file"),
        "{err}"
    );
    assert!(err.contains("mailbox.1.from \"bukan alamat\""), "{err}");
    assert!(
        err.contains("mailbox.2.batch_size must be at least 1"),
        "{err}"
    );
    assert!(!err.contains("mailbox.0"), "the first entry is fine: {err}");
    assert!(
        !err.contains("\"b\"") && !err.contains("\"c\""),
        "no secret shown: {err}"
    );
}

#[test]
fn the_same_mailbox_twice_is_refused_naming_both() {
    let err = error(&format!("{PENGADUAN}{PENGADUAN}"));
    assert!(
        err.contains("mailbox.1 is the same mailbox as mailbox.0 (pengaduan@mail:993/INBOX)"),
        "{err}"
    );
    // Another folder of the same account is another mailbox.
    let other_folder = PENGADUAN.replace("kind", "mailbox = \"Arsip\"\nkind");
    assert!(load(&format!("{PENGADUAN}{other_folder}")).is_ok());
}

#[test]
fn a_mailbox_entry_reads_its_password_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("pengaduan.pass");
    std::fs::write(&secret, "rahasia\n").unwrap();
    let cfg = load(&PENGADUAN.replace(
        "password = \"b\"",
        &format!("password_file = \"{}\"", secret.display()),
    ))
    .unwrap();
    let mb = &cfg.mailboxes[0];
    let read = crate::config::read_secret(&mb.password, &mb.password_file, "mailbox.password");
    assert_eq!(crate::config::expose(&read.unwrap()), "rahasia");
}

#[test]
fn the_example_config_documents_mailbox_tables() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/loket.toml.example");
    let text = std::fs::read_to_string(path).unwrap();
    let example: String = text
        .lines()
        .skip_while(|l| !l.starts_with("# [[mailbox]]"))
        .take_while(|l| l.starts_with('#'))
        .map(|l| format!("{}\n", l.strip_prefix('#').unwrap_or(l).trim_start()))
        .collect();
    assert!(!example.is_empty(), "the example shows a [[mailbox]] table");
    let cfg = load(&example).expect("the commented [[mailbox]] example is valid once uncommented");
    assert_eq!(cfg.mailboxes[0].kind, Some(Kind::Complaint));
    assert!(cfg.mailboxes[0].from.is_some());
}
