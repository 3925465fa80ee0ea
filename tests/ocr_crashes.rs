//! Scans that break OCR, on the real servers with the real OCR worker: a page that crashes the
//! engine every time costs only that page (the case is still sorted and acknowledged, and the
//! applicant is told which file could not be read, without a promise that it will be tried
//! again); a worker stopped half-way through a scan resumes at the next page.

mod app;
mod support;

use app::{acks_to, mail_with, repo, unique_address, Db, Part, TestApp};
use image::GrayImage;
use loket::extract::ocr::{pdf_page_image, RasterLimits};
use loket::filing::pages::{self, PageOutcome, PageRow};
use lopdf::{dictionary, Document, Object, Stream};

/// Page images this wide make the OCR worker abort (`LOKET_TEST_CRASH_ON_WIDTH`); the scanned
/// form is wider, so only the pages cut to this width crash.
const CRASH_WIDTH: u32 = 1111;

/// The scanned PBG form of `fixtures/scans/form_dct.pdf`, as grey pixels.
fn form_page() -> GrayImage {
    let pdf = std::fs::read(repo().join("fixtures/scans/form_dct.pdf")).unwrap();
    let page = pdf_page_image(&pdf, 0, &RasterLimits::default()).unwrap();
    assert!(page.image.width() > CRASH_WIDTH, "the form is wider");
    page.image
}

/// The form cut to [`CRASH_WIDTH`] pixels.
fn narrow_page() -> GrayImage {
    let form = form_page();
    image::imageops::crop_imm(&form, 0, 0, CRASH_WIDTH, form.height()).to_image()
}

/// An image-only PDF at 150 dpi, one Flate grey image per page, as scanners write them.
fn scan_pdf(pages: &[GrayImage]) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let mut kids: Vec<Object> = Vec::new();
    for img in pages {
        let (w, h) = (img.width(), img.height());
        let mut pixels = Stream::new(
            dictionary! {"Type" => "XObject", "Subtype" => "Image", "Width" => w as i64,
            "Height" => h as i64, "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8},
            img.as_raw().clone(),
        );
        pixels.compress().unwrap();
        let image_id = doc.add_object(pixels);
        let (pw, ph) = (w as f32 * 72.0 / 150.0, h as f32 * 72.0 / 150.0);
        let draw = format!("q {pw} 0 0 {ph} 0 0 cm /Im0 Do Q");
        let content_id = doc.add_object(Stream::new(dictionary! {}, draw.into_bytes()));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
            "MediaBox" => vec![0.into(), 0.into(), pw.into(), ph.into()],
            "Resources" => dictionary! {"XObject" => dictionary! {"Im0" => image_id}},
        });
        kids.push(page_id.into());
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {"Type" => "Pages", "Kids" => kids, "Count" => count}),
    );
    let catalog_id = doc.add_object(dictionary! {"Type" => "Catalog", "Pages" => pages_id});
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// Three pages; page 2 is [`CRASH_WIDTH`] wide.
fn three_page_scan() -> Vec<u8> {
    scan_pdf(&[form_page(), narrow_page(), form_page()])
}

fn png(img: &GrayImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// The checkpoint rows of the document called `filename`.
async fn page_rows(app: &TestApp, filename: &str) -> Vec<PageRow> {
    let db = app.sql().await;
    let id: i64 = sqlx::query_scalar("SELECT id FROM documents WHERE filename = $1")
        .bind(filename)
        .fetch_one(&db)
        .await
        .unwrap();
    db.close().await;
    let store = app.store().await;
    let rows = pages::load(&store, loket::filing::DocumentId(id))
        .await
        .unwrap();
    store.close().await;
    rows
}

/// The line under a document's entry in the acknowledgement's list of received files.
fn note_on<'a>(body: &'a str, filename: &str) -> &'a str {
    let mut lines = body.lines();
    lines
        .find(|l| l.starts_with(&format!("  - {filename}")))
        .unwrap_or_else(|| panic!("{filename} listed: {body}"));
    lines.next().unwrap_or_default().trim()
}

fn text_of(row: &PageRow) -> &str {
    match &row.outcome {
        Some(PageOutcome::Text { text, .. }) => text,
        other => panic!("page {} has no text: {other:?}", row.page + 1),
    }
}

async fn a_page_that_crashes_ocr_every_time_costs_only_that_page(db: Db) {
    let Some(app) = TestApp::spawn(db).await else {
        return;
    };
    let dewi = unique_address("dewi");
    let (scan, photo) = (three_page_scan(), png(&narrow_page()));
    app.deliver(&mail_with(
        &dewi,
        "Permohonan PBG rumah tinggal",
        "Dengan hormat, terlampir formulir PBG yang sudah saya isi dan foto KTP.",
        &[
            Part {
                filename: "formulir_pbg.pdf",
                content_type: "application/pdf",
                data: &scan,
            },
            Part {
                filename: "foto_ktp.png",
                content_type: "image/png",
                data: &photo,
            },
        ],
    ))
    .await;

    let run = app
        .command()
        .args(["run", "--once"])
        .env("LOKET_TEST_CRASH_ON_WIDTH", CRASH_WIDTH.to_string())
        .status()
        .unwrap();
    assert!(run.success(), "run --once finishes: {run}");

    let cases = app.cases().await;
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].status, "queued", "sorted for an officer");
    let case = app.show(&cases[0].tracking_code).await;
    let form = &case.documents[0];
    assert!(
        form.error.is_none(),
        "two of three pages read: {:?}",
        form.error
    );
    let text = form.text.as_deref().unwrap();
    let per_page: Vec<&str> = text.split('\u{c}').collect();
    assert_eq!(per_page.len(), 3, "{text:?}");
    assert!(per_page[0].contains("PERMOHONAN") && per_page[2].contains("PERMOHONAN"));
    assert!(per_page[1].is_empty());

    let rows = page_rows(&app, "formulir_pbg.pdf").await;
    assert_eq!(rows.len(), 3, "{rows:#?}");
    assert!(text_of(&rows[0]).contains("Nama Pemohon"));
    assert!(text_of(&rows[2]).contains("Nama Pemohon"));
    assert_eq!((rows[0].crashes, rows[2].crashes), (0, 0));
    assert_eq!(rows[1].crashes, 2, "the page crashed the worker twice");
    let Some(PageOutcome::Unreadable { error, alasan }) = &rows[1].outcome else {
        panic!("page 2 recorded as unreadable: {:?}", rows[1]);
    };
    assert!(
        error.starts_with("OCR engine crashed on this page twice"),
        "{error}"
    );
    assert!(!alasan.contains("dicoba lagi"), "{alasan}");
    let photo_rows = page_rows(&app, "foto_ktp.png").await;
    assert_eq!(photo_rows[0].crashes, 2);

    let store = app.store().await;
    let jobs = store.job_counts().await.unwrap();
    store.close().await;
    assert!(jobs.is_empty(), "nothing parked or waiting: {jobs:?}");

    let acks = acks_to(&dewi, 1).await;
    assert_eq!(acks.len(), 1);
    let body = mail_parser::MessageParser::default()
        .parse(acks[0].as_bytes())
        .unwrap()
        .body_text(0)
        .unwrap()
        .to_string();
    assert!(body.contains(&case.tracking_code), "{body}");
    assert!(body.contains("formulir_pbg.pdf"), "{body}");
    assert_eq!(
        note_on(&body, "formulir_pbg.pdf"),
        "Halaman 2 TIDAK DAPAT DIBACA: mesin pembaca teks (OCR) gagal pada halaman ini. \
         Mohon kirim ulang halaman ini.",
        "the page that crashes OCR is named, with the reason: {body}"
    );
    assert_eq!(
        note_on(&body, "foto_ktp.png"),
        "TIDAK DAPAT DIBACA: mesin pembaca teks (OCR) gagal pada halaman ini. \
         Mohon kirim ulang berkas ini.",
        "so is the photo that crashes OCR: {body}"
    );
    assert!(!body.contains("dicoba lagi"), "no false promise: {body}");
}

#[tokio::test]
async fn a_page_that_crashes_ocr_every_time_costs_only_that_page_sqlite() {
    a_page_that_crashes_ocr_every_time_costs_only_that_page(Db::Sqlite).await;
}

#[tokio::test]
async fn a_page_that_crashes_ocr_every_time_costs_only_that_page_postgres() {
    a_page_that_crashes_ocr_every_time_costs_only_that_page(Db::Postgres).await;
}

#[tokio::test]
async fn a_worker_stopped_mid_scan_resumes_at_the_next_page() {
    // One OCR worker, so pages are read strictly one after another.
    let app = TestApp::spawn_with(Db::Sqlite, |t| {
        t["ocr"]
            .as_table_mut()
            .unwrap()
            .insert("workers".into(), 1.into());
    })
    .await
    .unwrap();
    let agus = unique_address("agus");
    let scan = three_page_scan();
    app.deliver(&mail_with(
        &agus,
        "Permohonan PBG",
        "Formulir terlampir.",
        &[Part {
            filename: "scan_pbg.pdf",
            content_type: "application/pdf",
            data: &scan,
        }],
    ))
    .await;

    let crashed = app
        .command()
        .args(["run", "--once"])
        .env("LOKET_TEST_CRASH_AFTER", "ocr_page_2")
        .status()
        .unwrap();
    assert!(
        !crashed.success(),
        "the test hook aborts loket after page 2"
    );
    let before = page_rows(&app, "scan_pbg.pdf").await;
    assert_eq!(
        before.len(),
        2,
        "pages 1 and 2 are checkpointed: {before:#?}"
    );
    assert!(acks_to(&agus, 0).await.is_empty(), "not acknowledged yet");

    let rerun = app.command().args(["run", "--once"]).status().unwrap();
    assert!(rerun.success());
    let after = page_rows(&app, "scan_pbg.pdf").await;
    assert_eq!(after.len(), 3);
    assert_eq!(
        after[..2],
        before[..],
        "pages 1 and 2 were not read (nor written) again"
    );
    assert!(after[2].updated_at >= before[1].updated_at);
    for row in &after {
        assert!(text_of(row).contains("PERMOHONAN"), "page {}", row.page + 1);
    }
    let case = app.show(&app.cases().await[0].tracking_code).await;
    assert_eq!(case.status, "queued");
    assert_eq!(case.documents[0].pages, Some(3));
    assert_eq!(acks_to(&agus, 1).await.len(), 1);
}

#[tokio::test]
async fn a_scan_waits_while_ocr_is_down_and_is_read_when_it_is_back() {
    let app = TestApp::spawn_with(Db::Sqlite, |t| {
        t["ocr"]
            .as_table_mut()
            .unwrap()
            .insert("worker_program".into(), "/nonexistent/loket".into());
    })
    .await
    .unwrap();
    let wati = unique_address("wati");
    app.deliver(&mail_with(
        &wati,
        "Permohonan PBG",
        "Formulir terlampir.",
        &[Part {
            filename: "scan_pbg.pdf",
            content_type: "application/pdf",
            data: &three_page_scan(),
        }],
    ))
    .await;

    let down = app.command().args(["run", "--once"]).output().unwrap();
    assert!(!down.status.success(), "run --once reports the outage");
    assert!(
        String::from_utf8_lossy(&down.stderr).contains("OCR worker could not be started"),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
    assert_eq!(app.cases().await[0].status, "received", "not sorted yet");
    assert!(page_rows(&app, "scan_pbg.pdf").await.is_empty());
    assert!(acks_to(&wati, 0).await.is_empty());

    let mut config: toml::Table =
        toml::from_str(&std::fs::read_to_string(&app.config_path).unwrap()).unwrap();
    config["ocr"]
        .as_table_mut()
        .unwrap()
        .insert("worker_program".into(), env!("CARGO_BIN_EXE_loket").into());
    std::fs::write(&app.config_path, toml::to_string(&config).unwrap()).unwrap();
    let back = app.command().args(["run", "--once"]).status().unwrap();
    assert!(back.success());
    let case = app.show(&app.cases().await[0].tracking_code).await;
    assert_eq!(case.status, "queued");
    assert!(case.documents[0].error.is_none());
    assert_eq!(page_rows(&app, "scan_pbg.pdf").await.len(), 3);
    assert_eq!(acks_to(&wati, 1).await.len(), 1);
}
