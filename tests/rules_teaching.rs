//! Officers teach the rules: corrections made at the desk are kept as labelled cases,
//! `loket rules corrections` exports them, `loket rules check --corrections` scores the rules
//! on them and on the committed sets, and `loket rules suggest` proposes phrase and weight
//! changes with the cases each would fix and break, without touching a rule file.

mod app;
mod support;

use std::path::Path;
use std::process::{Command, Output};

use app::{fixture_from, unique_address, Db, TestApp};
use loket::desk::secrets::hash_password;
use loket::domain::Role;
use loket::filing::users::NewUser;
use reqwest::{Client, StatusCode};

const PASSWORD: &str = "rahasia-desk-1";

/// A desk served in this process over a TestApp's database, with one triage officer.
struct Desk {
    app: TestApp,
    base: String,
    stop: tokio::sync::oneshot::Sender<()>,
}

impl Desk {
    async fn start(db: Db) -> Option<Desk> {
        let port = support::free_port();
        let app = TestApp::spawn_with(db, |t| {
            let web: toml::Table = toml::from_str(&format!(
                "listen = \"127.0.0.1:{port}\"\nbase_url = \"http://127.0.0.1:{port}\"\nsecure_cookies = false"
            ))
            .unwrap();
            t.insert("web".into(), toml::Value::Table(web));
        })
        .await?;
        let state = std::sync::Arc::new(loket::desk::desk(app.config()).await.expect("desk"));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(loket::desk::serve_on(listener, state, async {
            let _ = stopped.await;
        }));
        let store = app.store().await;
        store
            .add_user(&NewUser {
                username: "triase",
                name: Some("Petugas Triase"),
                email: None,
                role: Role::Triage,
                department: None,
                password_hash: &hash_password(PASSWORD).unwrap(),
            })
            .await
            .unwrap()
            .expect("new user");
        store.close().await;
        Some(Desk {
            app,
            base: format!("http://127.0.0.1:{port}"),
            stop,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Log in through the form; gives a client holding the session cookie.
    async fn login(&self) -> Client {
        let c = Client::builder().cookie_store(true).build().unwrap();
        let form = c.get(self.url("/login")).send().await.unwrap();
        let token = hidden(&form.text().await.unwrap(), "csrf_token").expect("csrf");
        let r = c
            .post(self.url("/login"))
            .form(&[
                ("username", "triase"),
                ("password", PASSWORD),
                ("csrf_token", &token),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        c
    }

    /// Submit one of the case page's forms, as the officer's browser does.
    async fn submit(&self, c: &Client, code: &str, action: &str, fields: &[(&str, &str)]) {
        let page = c
            .get(self.url(&format!("/cases/{code}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = hidden(&page, "csrf_token").expect("the case page has forms");
        let mut form: Vec<(&str, &str)> = vec![("csrf_token", &csrf)];
        form.extend_from_slice(fields);
        let r = c
            .post(self.url(&format!("/cases/{code}/{action}")))
            .form(&form)
            .send()
            .await
            .unwrap();
        let status = r.status();
        assert!(
            status.is_success(),
            "{action}: {status} {}",
            r.text().await.unwrap()
        );
    }
}

fn hidden(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &html[at + name.len() + 15..];
    Some(rest[..rest.find('"')?].to_string())
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The mail with an older message quoted under it, as mail clients do.
fn with_quoted_history(mut raw: Vec<u8>) -> Vec<u8> {
    raw.extend_from_slice(
        b"\r\nPada Sen, 2 Nov 2026 Hendra Gunawan menulis:\r\n> Mohon izin reklame baliho di depan toko\r\n> saya, terima kasih.\r\n",
    );
    raw
}

async fn corrections_at_the_desk_are_scored_and_mined(db: Db) {
    let Some(desk) = Desk::start(db).await else {
        return;
    };
    let (budi, sari) = (unique_address("budi"), unique_address("sari"));
    desk.app
        .deliver_all(&[
            fixture_from("pbg-application.eml", &budi),
            with_quoted_history(fixture_from("pengaduan.eml", &sari)),
        ])
        .await;
    desk.app.run_once().await;
    let cases = desk.app.cases().await;
    let by_subject = |s: &str| {
        cases
            .iter()
            .find(|c| c.subject.as_deref().is_some_and(|x| x.contains(s)))
            .unwrap_or_else(|| panic!("a case {s}"))
            .clone()
    };
    let case = by_subject("PBG");
    let code = case.tracking_code.clone();
    let complaint = by_subject("Pengaduan");
    assert_eq!(complaint.kind, "complaint");
    assert_eq!(
        case.permit_type.as_deref(),
        Some("pbg"),
        "the rules say PBG"
    );
    let ktp = desk.app.show(&code).await.documents[1].clone();
    assert_eq!(ktp.filename, "ktp-budi.pdf");

    // The officer reads it: the applicant asks for the land-use approval (KKPR) first, and the
    // second scan is the family card, not the KTP.
    let c = desk.login().await;
    desk.submit(&c, &code, "classify", &[("permit_type", "kkpr")])
        .await;
    desk.submit(
        &c,
        &code,
        "doc-type",
        &[("document", "1"), ("doc_type", "kartu_keluarga")],
    )
    .await;
    // The other one asks how long a permit takes: a question, not a complaint.
    let other = complaint.tracking_code.clone();
    desk.submit(&c, &other, "classify", &[("kind", "consultation")])
        .await;
    let examples = desk.app.store().await.sorting_examples().await.unwrap();
    for (case, field) in [
        (&code, "permit_type"),
        (&code, "department"),
        (&code, "doc_type"),
        (&other, "kind"),
    ] {
        assert!(
            examples
                .iter()
                .any(|e| &e.tracking_code == case && e.field == field && e.actor == "triase"),
            "{field} kept: {examples:?}"
        );
    }

    let file = desk.app.dir.path().join("koreksi.toml");
    let out = desk
        .app
        .command()
        .args(["rules", "corrections", "--out"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&file).unwrap();
    let exported: toml::Table = toml::from_str(&text).unwrap();
    let named = |code: &str| {
        let name = format!("correction_{}", code.to_lowercase().replace('-', "_"));
        exported["case"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"].as_str() == Some(name.as_str()))
            .unwrap_or_else(|| panic!("{name} exported"))
            .clone()
    };
    let labelled = named(&code);
    assert_eq!(labelled["permit_type"].as_str(), Some("kkpr"));
    assert_eq!(
        labelled["department"].as_str(),
        Some("pupr"),
        "routed with it"
    );
    let question = named(&other);
    assert_eq!(question["kind"].as_str(), Some("consultation"));
    assert!(question.get("permit_type").is_none(), "{question}");
    let body = question["body"].as_str().unwrap();
    assert!(
        body.contains("pengaduan") && !body.contains("baliho"),
        "the body as the engine read it, without the quoted mail: {body}"
    );
    let docs = labelled["document"].as_array().unwrap();
    assert_eq!(docs[1]["filename"].as_str(), Some("ktp-budi.pdf"));
    assert_eq!(docs[1]["doc_type"].as_str(), Some("kartu_keluarga"));
    // The text the engine read, with the NIK replaced by a made-up one of the same region.
    let engine_text = ktp.text.unwrap_or_default();
    let words = |t: &str| {
        t.split_whitespace()
            .filter(|w| !w.chars().any(|c| c.is_ascii_digit()))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        words(docs[1]["text"].as_str().unwrap()),
        words(&engine_text)
    );
    assert!(!text.contains("3514061208850003") && text.contains("351406"));

    // The current rules disagree with the officer, and `rules check` says so.
    let out = desk
        .app
        .command()
        .args(["rules", "check", "--corrections"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = stdout(&out);
    let row = report
        .lines()
        .find(|l| l.starts_with(&format!("| {} |", file.display())))
        .unwrap_or_else(|| panic!("a row for the corrections: {report}"));
    // Both are wrong by the current rules; the PBG one confidently.
    assert!(row.contains("| 2 | 0 (0.0%) | "), "{row}");
    assert!(
        row.ends_with("(0 of 1) |") || row.ends_with("(1 of 2) |"),
        "the family card is missed: {row}"
    );
    assert!(report.contains(&format!("confidently wrong: {}", file.display())));
    assert!(report.contains("**all committed sets**"), "{report}");

    // `rules suggest` reads the same file.
    let out = desk
        .app
        .command()
        .args(["rules", "suggest", "--corrections"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("from 2 corrected case(s)"),
        "{}",
        stdout(&out)
    );
    let _ = desk.stop.send(());
}

#[tokio::test]
async fn corrections_at_the_desk_are_scored_and_mined_sqlite() {
    corrections_at_the_desk_are_scored_and_mined(Db::Sqlite).await;
}

#[tokio::test]
async fn corrections_at_the_desk_are_scored_and_mined_postgres() {
    corrections_at_the_desk_are_scored_and_mined(Db::Postgres).await;
}

/// A small office: two permit types, two committed cases, and the officers' corrections.
fn office() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("rules/tests")).unwrap();
    std::fs::write(dir.path().join("rules/pupr.toml"), RULES).unwrap();
    std::fs::write(dir.path().join("rules/tests/office.toml"), COMMITTED).unwrap();
    std::fs::write(dir.path().join("koreksi.toml"), CORRECTIONS).unwrap();
    dir
}

// Weights well above `confident_score`: with the default calibration a lone 4.0 phrase
// leaves a case in triage (confidence 0.69 < 0.80).
const RULES: &str = r#"
[[department]]
id = "pupr"
name = "Bidang PUPR"
email = "pupr@dpmptsp.example.go.id"

[[permit]]
id = "reklame"
name = "Izin Reklame"
department = "pupr"
sla_days = 5
[[permit.match]]
phrases = ["reklame"]
weight = 6.0
[[permit.match]]
phrases = ["baliho", "spanduk"]
weight = 3.0

[[permit]]
id = "pbg"
name = "Persetujuan Bangunan Gedung"
department = "pupr"
sla_days = 10
[[permit.match]]
phrases = ["pbg", "izin mendirikan bangunan"]
weight = 6.0
[[permit.match]]
phrases = ["bangun rumah"]
weight = 3.0
"#;

const COMMITTED: &str = r#"
[[case]]
name = "reklame_plain"
subject = "Permohonan reklame"
body = "Dengan hormat, kami mohon diproses."
kind = "application"
permit_type = "reklame"

[[case]]
name = "pbg_rumah"
subject = "Permohonan PBG"
body = "Kami akan bangun rumah dua lantai."
kind = "application"
permit_type = "pbg"
"#;

/// Three videotron applications the rules do not know, and a PBG the reklame word ties.
const CORRECTIONS: &str = r#"
[[case]]
name = "correction_1"
subject = "videotron"
body = "Kami ingin memasang videotron di depan toko."
kind = "application"
permit_type = "reklame"

[[case]]
name = "correction_2"
subject = "Tanya"
body = "Rencana videotron LED di simpang tiga, mohon info."
kind = "application"
permit_type = "reklame"

[[case]]
name = "correction_3"
subject = "berkas"
body = "Berikut berkas videotron untuk kantor cabang."
kind = "application"
permit_type = "reklame"

[[case]]
name = "correction_4"
subject = "Mohon PBG untuk toko kami"
body = "Nanti ada papan reklame di depan."
kind = "application"
permit_type = "pbg"
"#;

fn loket(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_loket"))
        .args(args)
        .current_dir(dir)
        .env_remove("LOKET_CONFIG")
        .output()
        .unwrap()
}

/// The proposal block whose title contains `title`: its lines up to the next proposal.
fn proposal<'a>(report: &'a str, title: &str) -> &'a str {
    let start = report
        .find(title)
        .unwrap_or_else(|| panic!("a proposal {title:?} in:\n{report}"));
    let rest = &report[start..];
    // Proposals are separated by a blank line.
    &rest[..rest.find("\n\n").map_or(rest.len(), |e| e + 1)]
}

#[test]
fn suggest_proposes_the_missing_phrase_with_the_cases_it_fixes() {
    let office = office();
    let rules_before = std::fs::read(office.path().join("rules/pupr.toml")).unwrap();
    let out = loket(
        office.path(),
        &[
            "rules",
            "suggest",
            "--corrections",
            "koreksi.toml",
            "--out",
            "usul.toml",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = stdout(&out);
    let p = proposal(&report, "add the phrase \"videotron\" to permit `reklame`");
    assert!(
        p.contains("fixes (3): correction_1 (koreksi.toml), correction_2 (koreksi.toml), correction_3 (koreksi.toml)"),
        "{p}"
    );
    assert!(p.contains("breaks (0): none"), "{p}");
    assert!(
        p.contains("in rules/pupr.toml, [[permit]] id = \"reklame\""),
        "{p}"
    );
    // The snippet is TOML a person can paste under the permit type.
    let snippet: String = p
        .lines()
        .skip(1)
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let entry: toml::Table = toml::from_str(&snippet).unwrap();
    let m = &entry["permit"]["match"].as_array().unwrap()[0];
    assert_eq!(
        m["phrases"].as_array().unwrap()[0].as_str(),
        Some("videotron")
    );
    assert!(m["weight"].as_float().unwrap() >= 4.0, "{p}");
    // Fewer corrected cases than --min-cases: no phrase.
    let out = loket(
        office.path(),
        &[
            "rules",
            "suggest",
            "--corrections",
            "koreksi.toml",
            "--min-cases",
            "4",
        ],
    );
    assert!(!stdout(&out).contains("videotron"), "{}", stdout(&out));
    // The same text in the file, and no rule file changed.
    assert_eq!(
        std::fs::read_to_string(office.path().join("usul.toml")).unwrap(),
        report
    );
    assert_eq!(
        std::fs::read(office.path().join("rules/pupr.toml")).unwrap(),
        rules_before
    );
    assert_eq!(
        std::fs::read_dir(office.path().join("rules"))
            .unwrap()
            .count(),
        2
    );

    // Pasted in, the rules now sort the videotron cases.
    let mut rules = String::from_utf8(rules_before).unwrap();
    let at = rules.find("[[permit]]\nid = \"pbg\"").unwrap();
    rules.insert_str(at, &format!("{snippet}\n\n"));
    std::fs::write(office.path().join("rules/pupr.toml"), rules).unwrap();
    let out = loket(
        office.path(),
        &["rules", "check", "--corrections", "koreksi.toml"],
    );
    assert!(
        stdout(&out).contains("| koreksi.toml | 4 | 3 (75.0%) | 0 | 1 |"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn suggest_says_when_a_proposal_would_break_a_committed_case() {
    let office = office();
    let out = loket(
        office.path(),
        &["rules", "suggest", "--corrections", "koreksi.toml"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = stdout(&out);
    let p = proposal(
        &report,
        "lower the weight of match 1 of permit `reklame` from 6.0 to 3.0",
    );
    assert!(p.contains("fixes (1): correction_4 (koreksi.toml)"), "{p}");
    assert!(
        p.contains("breaks (1): reklame_plain (rules/tests/office.toml)"),
        "{p}"
    );
    assert!(p.contains("committed sets 1/2 right"), "{p}");
    assert!(p.contains("phrases = [\"reklame\"]\nweight = 3.0"), "{p}");
}

#[test]
fn check_scores_the_committed_sets_and_the_corrections() {
    let office = office();
    let out = loket(office.path(), &["rules", "check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(
            "| rules/tests/office.toml | 2 | 2 (100.0%) | 0 | 0 | 100.0% | 100.0% (0 of 0) |"
        ),
        "{}",
        stdout(&out)
    );
    // A folder of corrections counts each file; the scores never fail the check.
    std::fs::create_dir(office.path().join("koreksi")).unwrap();
    std::fs::copy(
        office.path().join("koreksi.toml"),
        office.path().join("koreksi/november.toml"),
    )
    .unwrap();
    let out = loket(
        office.path(),
        &["rules", "check", "--corrections", "koreksi"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = stdout(&out);
    assert!(
        report.contains("| koreksi/november.toml | 4 | 0 (0.0%) | 3 | 1 |"),
        "{report}"
    );
    assert!(
        report.contains("confidently wrong: koreksi/november.toml: correction_1: got other, want application reklame"),
        "{report}"
    );
    // A case routed by hand is right only in the department the officer chose.
    std::fs::write(
        office.path().join("routed.toml"),
        "[[case]]\nname = \"r\"\nsubject = \"Permohonan reklame\"\nkind = \"application\"\n\
         permit_type = \"reklame\"\ndepartment = \"kecamatan\"\n",
    )
    .unwrap();
    let out = loket(
        office.path(),
        &["rules", "check", "--corrections", "routed.toml"],
    );
    assert!(
        stdout(&out).contains("| routed.toml | 1 | 0 (0.0%) | 1 |"),
        "{}",
        stdout(&out)
    );
    // A corrections file that is not one is bad usage, named with its line.
    std::fs::write(
        office.path().join("rusak.toml"),
        "[[case]]\nname = \"x\"\nwarna = 1\n",
    )
    .unwrap();
    let out = loket(
        office.path(),
        &["rules", "check", "--corrections", "rusak.toml"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("rusak.toml:3:"), "{}", stderr(&out));
    // A broken file among the committed sets is left out with a warning; the check still passes.
    std::fs::rename(
        office.path().join("rusak.toml"),
        office.path().join("rules/tests/rusak.toml"),
    )
    .unwrap();
    let out = loket(office.path(), &["rules", "check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: labelled set left out: rules/tests/rusak.toml:3:"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("| rules/tests/office.toml | 2 |"));
}

/// Two site photos the rules cannot type yet, in cases the officers otherwise agreed with.
const DOCUMENT_CORRECTIONS: &str = r#"
[[case]]
name = "correction_5"
subject = "Permohonan reklame"
body = "Foto terlampir."
kind = "application"
permit_type = "reklame"
[[case.document]]
filename = "IMG_0001.jpg"
text = "FOTO TITIK LOKASI pemasangan, tampak depan jalan raya"
doc_type = "foto_lokasi"

[[case]]
name = "correction_6"
subject = "Permohonan reklame baliho"
body = "Bersama ini."
kind = "application"
permit_type = "reklame"
[[case.document]]
filename = "IMG_0002.jpg"
text = "Foto titik lokasi rencana baliho"
doc_type = "foto_lokasi"
"#;

#[test]
fn suggest_proposes_a_phrase_for_a_document_type_officers_set() {
    let office = office();
    let rules = office.path().join("rules/pupr.toml");
    let mut text = std::fs::read_to_string(&rules).unwrap();
    text.push_str(
        "\n[[doctype]]\nid = \"foto_lokasi\"\nname = \"Foto lokasi\"\n\
         [[doctype.match]]\nphrases = [\"foto lokasi\"]\nweight = 2.0\n",
    );
    std::fs::write(&rules, text).unwrap();
    std::fs::write(office.path().join("dokumen.toml"), DOCUMENT_CORRECTIONS).unwrap();
    let out = loket(
        office.path(),
        &["rules", "check", "--corrections", "dokumen.toml"],
    );
    assert!(
        stdout(&out).contains("| dokumen.toml | 2 | 2 (100.0%) | 0 | 0 | 100.0% | 0.0% (0 of 2) |"),
        "{}",
        stdout(&out)
    );
    let out = loket(
        office.path(),
        &["rules", "suggest", "--corrections", "dokumen.toml"],
    );
    let report = stdout(&out);
    let p = proposal(
        &report,
        "add the phrase \"lokasi\" to doctype `foto_lokasi`",
    );
    assert!(
        p.contains("fixes (2): correction_5 / IMG_0001.jpg (dokumen.toml), correction_6 / IMG_0002.jpg (dokumen.toml)"),
        "{p}"
    );
    assert!(p.contains("fields = [\"document\"]"), "{p}");
    // The more specific phrases that do the same, for the reviewer to choose.
    assert!(
        p.contains("same effect: ") && p.contains("\"titik lokasi\""),
        "{p}"
    );
}

#[test]
fn suggest_never_looks_at_the_held_out_set() {
    let office = office();
    // A held-out case that would veto "videotron" (another permit type uses the word).
    std::fs::create_dir_all(office.path().join("rules/tests/heldout")).unwrap();
    std::fs::write(
        office.path().join("rules/tests/heldout/pbg.toml"),
        "[[case]]\nname = \"ho_pbg_videotron\"\nsubject = \"PBG gedung videotron\"\n\
         kind = \"application\"\npermit_type = \"pbg\"\n",
    )
    .unwrap();
    let out = loket(office.path(), &["rules", "check"]);
    assert!(
        stdout(&out).contains("| rules/tests/heldout/pbg.toml (held out) | 1 | 1 (100.0%) |"),
        "{}",
        stdout(&out)
    );
    let out = loket(
        office.path(),
        &["rules", "suggest", "--corrections", "koreksi.toml"],
    );
    let report = stdout(&out);
    assert!(
        report.contains("add the phrase \"videotron\" to permit `reklame`"),
        "{report}"
    );
    assert!(!report.contains("ho_pbg_videotron"), "{report}");
}
