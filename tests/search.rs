//! Officers search every case's subject, body and the text read from its documents (OCR
//! included) from the desk (issue 9), on SQLite (FTS5) and PostgreSQL (tsvector + GIN).
//! Everything is filed by the real pipeline from real mail.

mod app;
mod support;

use app::{fixture_from, mail_with, repo, text_mail, unique_address, Db, Part, TestApp};
use loket::filing::search::{SearchHit, SearchQuery};
use loket::filing::Store;

fn query(text: &str) -> SearchQuery {
    SearchQuery {
        text: text.into(),
        ..SearchQuery::default()
    }
}

async fn search(store: &Store, q: &SearchQuery) -> Vec<SearchHit> {
    let hits = store.search_cases(q).await.expect("search runs");
    let count = store.count_search(q).await.expect("count runs");
    assert!(count >= hits.len() as i64, "{count} < {}", hits.len());
    hits
}

fn hits_lower(hit: &SearchHit) -> Vec<String> {
    hit.snippet.hits().map(|h| h.to_lowercase()).collect()
}

async fn a_word_read_from_a_scanned_form_finds_its_case(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let siti = unique_address("siti");
    let scan = std::fs::read(repo().join("fixtures/scans/form_dct.pdf")).unwrap();
    let raw = mail_with(
        &siti,
        "Permohonan PBG rumah tinggal",
        "Dengan hormat, terlampir formulir permohonan yang sudah saya isi.",
        &[Part {
            filename: "scan_formulir.pdf",
            content_type: "application/pdf",
            data: &scan,
        }],
    );
    app.deliver(&raw).await;
    app.deliver(&fixture_from(
        "pbg-application.eml",
        &unique_address("budi"),
    ))
    .await;
    app.run_once().await;

    let store = app.store().await;
    // "Cileunyi" is only on the scanned page (the district of the building site).
    let hits = search(&store, &query("cileunyi")).await;
    assert_eq!(hits.len(), 1, "{hits:#?}");
    let case = app.show(&hits[0].tracking_code).await;
    assert_eq!(case.applicant.email.as_deref(), Some(siti.as_str()));
    assert_eq!(hits_lower(&hits[0]), ["cileunyi"], "{:#?}", hits[0].snippet);
    assert!(
        hits[0].snippet.text().contains("Kecamatan Cileunyi"),
        "{:?}",
        hits[0].snippet.text()
    );

    // A word from the text layer of Budi's KTP (a PDF attachment), and one from both.
    let hits = search(&store, &query("Petungasri")).await;
    assert_eq!(hits.len(), 1, "{hits:#?}");
    assert_ne!(
        app.show(&hits[0].tracking_code).await.applicant.email,
        Some(siti)
    );
    assert_eq!(search(&store, &query("permohonan")).await.len(), 2);
    assert_eq!(store.count_search(&query("permohonan")).await.unwrap(), 2);
    store.close().await;
}

#[tokio::test]
async fn a_word_read_from_a_scanned_form_finds_its_case_sqlite() {
    a_word_read_from_a_scanned_form_finds_its_case(Db::Sqlite).await;
}

#[tokio::test]
async fn a_word_read_from_a_scanned_form_finds_its_case_postgres() {
    a_word_read_from_a_scanned_form_finds_its_case(Db::Postgres).await;
}

async fn an_inflected_word_finds_its_base_form(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let body = "Dengan hormat, kami mohon izin untuk bangun pagar di depan toko kami.";
    app.deliver(&text_mail(&unique_address("agus"), "Pagar toko", body, ""))
        .await;
    let other = "Mohon informasi jadwal pelayanan kantor pada hari Sabtu.";
    app.deliver(&text_mail(&unique_address("nur"), "Jadwal", other, ""))
        .await;
    app.run_once().await;

    let store = app.store().await;
    for (typed, found) in [
        ("bangunan", "bangun"),
        ("bangunannya", "bangun"),
        ("perizinan", "izin"),
        ("pembangunan pagar", "bangun"),
        ("BANGUN", "bangun"),
    ] {
        let hits = search(&store, &query(typed)).await;
        assert_eq!(hits.len(), 1, "{typed}: {hits:#?}");
        assert!(
            hits_lower(&hits[0]).iter().any(|h| h == found),
            "{typed} marks {found}: {:#?}",
            hits[0].snippet
        );
    }
    // Every word must match: the second case has "pelayanan" but no "pagar".
    assert!(search(&store, &query("pelayanan pagar")).await.is_empty());
    assert_eq!(search(&store, &query("pelayanan")).await.len(), 1);
    store.close().await;
}

#[tokio::test]
async fn an_inflected_word_finds_its_base_form_sqlite() {
    an_inflected_word_finds_its_base_form(Db::Sqlite).await;
}

#[tokio::test]
async fn an_inflected_word_finds_its_base_form_postgres() {
    an_inflected_word_finds_its_base_form(Db::Postgres).await;
}

async fn an_officer_finds_only_the_cases_of_their_department(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    app.deliver(&fixture_from(
        "pbg-application.eml",
        &unique_address("budi"),
    ))
    .await;
    app.deliver(&fixture_from("sip-dokter.eml", &unique_address("renee")))
        .await;
    app.run_once().await;
    let departments: Vec<_> = app
        .cases()
        .await
        .into_iter()
        .map(|c| (c.tracking_code, c.department))
        .collect();
    let code_of = |dept: &str| {
        departments
            .iter()
            .find(|(_, d)| d.as_deref() == Some(dept))
            .map(|(code, _)| code.clone())
            .unwrap_or_else(|| panic!("a {dept} case: {departments:?}"))
    };
    let (pupr, kesehatan) = (code_of("pupr"), code_of("kesehatan"));

    let store = app.store().await;
    let in_departments = |list: &[&str]| SearchQuery {
        departments: Some(list.iter().map(|d| d.to_string()).collect()),
        ..query("permohonan")
    };
    let codes = |hits: Vec<SearchHit>| -> Vec<String> {
        hits.into_iter().map(|h| h.tracking_code).collect()
    };
    assert_eq!(
        codes(search(&store, &in_departments(&["kesehatan"])).await),
        std::slice::from_ref(&kesehatan)
    );
    assert_eq!(
        codes(search(&store, &in_departments(&["pupr"])).await),
        [pupr]
    );
    assert_eq!(
        search(&store, &in_departments(&["pupr", "kesehatan"]))
            .await
            .len(),
        2
    );
    assert!(search(&store, &in_departments(&[])).await.is_empty());
    assert_eq!(
        store
            .count_search(&in_departments(&["pupr"]))
            .await
            .unwrap(),
        1
    );
    assert_eq!(search(&store, &query("permohonan")).await.len(), 2);

    // The other filters narrow the same way.
    let with = |f: fn(&mut SearchQuery)| {
        let mut q = query("permohonan");
        f(&mut q);
        q
    };
    let sip = with(|q| q.permit_type = Some("sip_dokter".into()));
    assert_eq!(codes(search(&store, &sip).await), [kesehatan]);
    let complaints = with(|q| q.kind = Some("complaint".into()));
    assert!(search(&store, &complaints).await.is_empty());
    let closed = with(|q| q.status = Some("closed".into()));
    assert!(search(&store, &closed).await.is_empty());
    let paged = with(|q| {
        q.limit = 1;
        q.offset = 1
    });
    assert_eq!(search(&store, &paged).await.len(), 1);
    store.close().await;
}

#[tokio::test]
async fn an_officer_finds_only_the_cases_of_their_department_sqlite() {
    an_officer_finds_only_the_cases_of_their_department(Db::Sqlite).await;
}

#[tokio::test]
async fn an_officer_finds_only_the_cases_of_their_department_postgres() {
    an_officer_finds_only_the_cases_of_their_department(Db::Postgres).await;
}

async fn hostile_text_never_breaks_a_search_or_its_snippet(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    // A body with markup and with the very characters the engines mark hits with.
    let body = "Mohon diproses <script>alert('x')</script> izin kincir angin kami. \
                Bukan \u{E000}palsu\u{E001} dan \u{E002}b\u{E003} juga.";
    app.deliver(&text_mail(&unique_address("iseng"), "Permohonan", body, ""))
        .await;
    app.run_once().await;

    let store = app.store().await;
    for hostile in [
        "\"",
        "*",
        "NEAR(",
        "a:b",
        "')--",
        "NEAR(kincir angin, 2)",
        "kincir\"",
        "-kincir",
        "^kincir",
        "kincir OR",
        "AND",
        ":*",
        "!",
        "&|",
        "\\",
        "'",
        "<->",
        "(((",
        "kincir*",
        "subject:kincir",
        "kincir & !angin",
        "\u{E000}kincir\u{E001}",
        "",
    ] {
        let hits = store.search_cases(&query(hostile)).await;
        assert!(hits.is_ok(), "{hostile:?}: {hits:?}");
        assert!(
            store.count_search(&query(hostile)).await.is_ok(),
            "{hostile:?}"
        );
    }
    for nothing in ["", "   ", "\"", "*", "')--", "(((", "&|"] {
        assert!(
            search(&store, &query(nothing)).await.is_empty(),
            "{nothing:?}"
        );
    }
    assert_eq!(search(&store, &query("kincir*")).await.len(), 1);
    assert_eq!(
        search(&store, &query("NEAR(kincir angin, 2)")).await.len(),
        0
    );

    let hits = search(&store, &query("kincir")).await;
    assert_eq!(hits.len(), 1);
    let snippet = &hits[0].snippet;
    assert_eq!(hits_lower(&hits[0]), ["kincir"], "{snippet:#?}");
    let text = snippet.text();
    assert!(text.contains("<script>alert('x')</script>"), "{text:?}");
    assert!(text.contains("Bukan palsu dan b juga"), "{text:?}");
    for part in &snippet.parts {
        assert!(
            !part
                .text
                .contains(['\u{E000}', '\u{E001}', '\u{E002}', '\u{E003}']),
            "{part:?}"
        );
    }
    // A forged marker is no hit, and its word is no more searchable than any other.
    assert_eq!(search(&store, &query("palsu")).await.len(), 1);
    assert!(!hits_lower(&hits[0]).contains(&"palsu".to_string()));
    store.close().await;
}

#[tokio::test]
async fn hostile_text_never_breaks_a_search_or_its_snippet_sqlite() {
    hostile_text_never_breaks_a_search_or_its_snippet(Db::Sqlite).await;
}

#[tokio::test]
async fn hostile_text_never_breaks_a_search_or_its_snippet_postgres() {
    hostile_text_never_breaks_a_search_or_its_snippet(Db::Postgres).await;
}

/// A database made by v0.1.0 (`tests/fixtures/upgrade`, see tests/upgrade.rs): the migration
/// indexes the cases already there, with the text read from their documents back then.
async fn cases_filed_before_the_upgrade_are_found(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let fixture = repo().join("tests/fixtures/upgrade/v0.1.0");
    match db {
        Db::Sqlite => {
            std::fs::copy(fixture.join("loket.db"), app.dir.path().join("loket.db")).unwrap();
        }
        Db::Postgres => support::postgres()
            .expect("TestApp made a PostgreSQL database")
            .restore(&app.db_url, &fixture.join("postgres.sql")),
    }
    let store = app.store().await;

    let text = std::fs::read_to_string(fixture.join("expected.json")).unwrap();
    let expected: serde_json::Value = serde_json::from_str(&text).unwrap();
    let name = if db == Db::Sqlite {
        "sqlite"
    } else {
        "postgres"
    };
    let cases = expected["databases"][name]["cases"].as_array().unwrap();

    // Budi's KTP (a PDF read by v0.1.0) names his village.
    let budi = cases
        .iter()
        .find(|c| c["subject"] == "Permohonan PBG rumah tinggal - Budi Santoso")
        .and_then(|c| c["tracking_code"].as_str())
        .expect("Budi's case in the fixture");
    let hits = search(&store, &query("Petungasri")).await;
    assert!(hits.iter().any(|h| h.tracking_code == budi), "{hits:#?}");

    let mut searched = 0;
    for case in cases {
        let (Some(code), Some(subject)) =
            (case["tracking_code"].as_str(), case["subject"].as_str())
        else {
            continue;
        };
        let hits = search(
            &store,
            &SearchQuery {
                limit: 1000,
                ..query(subject)
            },
        )
        .await;
        assert!(
            hits.iter().any(|h| h.tracking_code == code),
            "{code} by its subject {subject:?}: {hits:#?}"
        );
        searched += 1;
    }
    assert!(searched >= 5, "{searched} cases with a subject");
    store.close().await;
}

#[tokio::test]
async fn cases_filed_before_the_upgrade_are_found_sqlite() {
    cases_filed_before_the_upgrade_are_found(Db::Sqlite).await;
}

#[tokio::test]
async fn cases_filed_before_the_upgrade_are_found_postgres() {
    cases_filed_before_the_upgrade_are_found(Db::Postgres).await;
}
