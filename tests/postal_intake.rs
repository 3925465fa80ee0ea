//! Postal applications: the mail room imports scans or drops them in the spool folder; each
//! becomes a postal case, applicants are read from the form, and get a receipt.

mod app;
mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use app::{acks_to, repo, Db, TestApp};
use loket::intake::spool::SpoolDir;

fn import(app: &TestApp, args: &[&str]) -> (i32, String, String) {
    let out = app.command().arg("import").args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn mail_room_imports_a_form_and_the_applicant_named_on_it_gets_an_email_receipt() {
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    let form = repo().join("fixtures/postal/formulir-reklame-siti.pdf");
    let (code, stdout, stderr) = import(&app, &[form.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let line = stdout.lines().next().expect("one line per case");
    let (tracking, file) = line.split_once('\t').expect("CODE<TAB>FILE");
    assert_eq!(file, form.to_str().unwrap());

    let case = app.show(tracking).await;
    assert_eq!(case.channel, "postal");
    assert_eq!(case.applicant.name.as_deref(), Some("Siti Aminah"));
    assert_eq!(
        case.applicant.email.as_deref(),
        Some("siti.aminah@example.net")
    );
    assert_eq!(case.applicant.phone.as_deref(), Some("081234567890"));
    assert_eq!(case.permit_type.as_deref(), Some("reklame"), "{case:#?}");
    // Other tests import the same form (the sink is shared): count this case's mail only.
    let acks = acks_to("siti.aminah@example.net", 1).await;
    assert_eq!(acks.iter().filter(|a| a.contains(tracking)).count(), 1);

    // Handing in the same scan again files nothing new.
    let (code, again, _) = import(&app, &[form.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(again.starts_with(tracking), "{again}");
    assert_eq!(app.cases().await.len(), 1);
}

#[tokio::test]
async fn what_the_clerk_types_wins_and_a_form_without_email_gets_no_email() {
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    let form = repo().join("fixtures/postal/formulir-pbg-tanpa-email.pdf");
    let (code, stdout, stderr) = import(
        &app,
        &[
            form.to_str().unwrap(),
            "--name",
            "Bpk. Slamet Riyadi",
            "--phone",
            "0811111111",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let tracking = stdout.split('\t').next().unwrap();
    let case = app.show(tracking).await;
    assert_eq!(case.applicant.name.as_deref(), Some("Bpk. Slamet Riyadi"));
    assert_eq!(case.applicant.phone.as_deref(), Some("0811111111"));
    assert_eq!(
        case.applicant.address.as_deref(),
        Some("Dusun Krajan RT 02 RW 03, Desa Sukorejo, Kec. Bangil")
    );
    assert_eq!(case.applicant.email, None);
    let history: Vec<_> = case.history.unwrap().into_iter().map(|e| e.event).collect();
    assert!(
        !history.contains(&"acknowledged".to_string()),
        "{history:?}"
    );
}

#[tokio::test]
async fn the_offices_letterhead_address_on_a_form_is_never_written_to() {
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    let form = repo().join("fixtures/postal/formulir-pbg-kop-kantor.pdf");
    let (code, stdout, stderr) = import(&app, &[form.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let tracking = stdout.split('\t').next().unwrap();
    let case = app.show(tracking).await;
    assert_eq!(case.applicant.name.as_deref(), Some("Joko Susilo"));
    assert_eq!(
        case.applicant.email, None,
        "neither the office's address nor the consultant's"
    );
    let history = case.history.unwrap();
    assert!(
        history.iter().any(|e| e.event == "applicant_email_ignored"
            && e.detail.contains("perizinan@pasuruankab.go.id")),
        "{history:?}"
    );
    assert!(acks_to("perizinan@pasuruankab.go.id", 0).await.is_empty());
    assert!(acks_to("cv.griya@example.com", 0).await.is_empty());
}

/// A TestApp without a mailbox whose spool takes files after `settle_seconds`.
async fn spool_app(settle_seconds: i64, max_file_bytes: Option<usize>) -> (TestApp, PathBuf) {
    let app = TestApp::spawn_with(Db::Sqlite, |t| {
        let spool = t["spool"].as_table_mut().unwrap();
        spool.insert("settle_seconds".into(), settle_seconds.into());
        if let Some(max) = max_file_bytes {
            spool.insert("max_file_bytes".into(), (max as i64).into());
        }
        t.remove("imap");
    })
    .await
    .unwrap();
    let spool = app.dir.path().join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    (app, spool)
}

fn form() -> Vec<u8> {
    std::fs::read(repo().join("fixtures/postal/formulir-pbg-tanpa-email.pdf")).unwrap()
}

/// What `cp -p` and many scanner uploads do: the file carries the original's old time.
fn keep_old_time(path: &Path) {
    let old = SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(old)
        .unwrap();
}

#[tokio::test]
async fn a_copy_that_keeps_its_old_time_is_taken_only_once_it_is_fully_written() {
    let (app, spool_dir) = spool_app(1, None).await;
    let form = form();
    let copy = spool_dir.join("scan-001.pdf");
    std::fs::write(&copy, &form[..form.len() / 2]).unwrap();
    keep_old_time(&copy);

    let ctx = app.context().await;
    let mut spool = SpoolDir::new(&spool_dir, 1, false);
    let first = spool.scan(&ctx.intake()).await.unwrap();
    assert_eq!(
        (first.stored, first.settling),
        (0, 1),
        "an hour old, but never looked at"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // The copy goes on, and the tool sets the old time again.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&copy)
        .unwrap()
        .write_all(&form[form.len() / 2..])
        .unwrap();
    keep_old_time(&copy);
    let second = spool.scan(&ctx.intake()).await.unwrap();
    assert_eq!(
        (second.stored, second.failed),
        (0, 0),
        "changed since the last look: not taken half-written"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let third = spool.scan(&ctx.intake()).await.unwrap();
    assert_eq!((third.stored, third.failed), (1, 0));
    ctx.close().await;

    app.run_once().await;
    let cases = app.cases().await;
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].documents[0].size, form.len() as i64);
    assert_eq!(cases[0].documents[0].error, None);
    assert_eq!(
        std::fs::read(spool_dir.join("processed/scan-001.pdf")).unwrap(),
        form
    );
    assert!(!spool_dir.join("failed").exists());
}

#[tokio::test]
async fn bad_files_in_the_spool_never_hold_up_the_good_one_after_them() {
    let form = form();
    let (app, spool) = spool_app(1, Some(form.len() + 100)).await;
    // Each of these fails differently, and all sort before the good scan.
    std::os::unix::fs::symlink("/nonexistent/scan.pdf", spool.join("1-tautan.pdf")).unwrap();
    let fifo = std::ffi::CString::new(spool.join("2-antrean.pdf").to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    std::fs::write(
        spool.join("3-rusak.pdf"),
        b"%PDF-1.4 this is not really a pdf",
    )
    .unwrap();
    let mut big = form.clone();
    big.extend(std::iter::repeat_n(b' ', 4096));
    std::fs::write(spool.join("4-besar.pdf"), &big).unwrap();
    std::fs::write(spool.join("5-formulir.pdf"), &form).unwrap();

    // Dropped a moment ago: the `run --once` scan waits for them to settle, then takes them.
    let ctx = app.context().await;
    let report = SpoolDir::new(&spool, 1, false)
        .scan_settled(&ctx.intake())
        .await
        .unwrap();
    ctx.close().await;
    assert_eq!(
        (
            report.stored,
            report.failed,
            report.unopenable,
            report.settling
        ),
        (1, 2, 2, 0),
        "{report:?}"
    );
    assert!(report.errors.is_empty(), "{report:?}");
    app.run_once().await;
    let cases = app.cases().await;
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].channel, "postal");
    assert!(spool.join("processed/5-formulir.pdf").exists());
    assert!(!spool.join("5-formulir.pdf").exists());

    for (name, says) in [("3-rusak.pdf", "PDF"), ("4-besar.pdf", "max_file_bytes")] {
        assert!(
            spool.join("failed").join(name).exists(),
            "{name} in failed/"
        );
        let reason =
            std::fs::read_to_string(spool.join(format!("failed/{name}.reason.txt"))).unwrap();
        assert!(reason.contains(says), "{name}: {reason}");
    }
    // What can't even be opened stays where it is, for someone to look at.
    for name in ["1-tautan.pdf", "2-antrean.pdf"] {
        assert!(
            std::fs::symlink_metadata(spool.join(name)).is_ok(),
            "{name}"
        );
    }
}

#[tokio::test]
async fn run_once_right_after_a_scan_is_dropped_waits_for_it_and_says_so() {
    let (app, spool) = spool_app(1, None).await;
    std::fs::write(spool.join("scan.pdf"), form()).unwrap();
    let out = app
        .command()
        .args(["run", "--once"])
        .env("LOKET_LOG", "info")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("waiting for files in the spool folder to settle"),
        "{stderr}"
    );
    assert!(spool.join("processed/scan.pdf").exists());
    assert_eq!(app.cases().await.len(), 1);
}

fn tool(name: &str) -> bool {
    std::process::Command::new(name).arg("-v").output().is_ok()
}

#[tokio::test]
async fn a_batch_scan_with_separator_sheets_gives_one_case_per_envelope_and_letters_for_the_post() {
    if !tool("pdfunite") || !tool("pdftotext") {
        eprintln!("SKIP: poppler-utils missing");
        return;
    }
    let app = TestApp::spawn_with(Db::Sqlite, |t| {
        t["office"].as_table_mut().unwrap().insert(
            "status_url".into(),
            "https://perizinan.example.go.id/status/{code}".into(),
        );
        t["office"].as_table_mut().unwrap().insert(
            "address".into(),
            "Jl. Raya Raci Km. 9, Bangil, Pasuruan".into(),
        );
    })
    .await
    .unwrap();
    let dir = app.dir.path();
    let sheet = dir.join("sheet.pdf");
    assert!(app
        .command()
        .args(["separator-sheet", "--out"])
        .arg(&sheet)
        .status()
        .unwrap()
        .success());
    let postal = repo().join("fixtures/postal");
    let batch = dir.join("tumpukan.pdf");
    let status = std::process::Command::new("pdfunite")
        .arg(postal.join("formulir-reklame-siti.pdf"))
        .arg(&sheet)
        .arg(postal.join("formulir-sipa-andi.pdf"))
        .arg(&sheet)
        .arg(postal.join("formulir-pbg-tanpa-email.pdf"))
        .arg(&batch)
        .status()
        .unwrap();
    assert!(status.success());

    let (code, stdout, stderr) = import(&app, &[batch.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let codes: Vec<&str> = stdout
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(codes.len(), 3, "{stdout}");
    let mut names = Vec::new();
    for c in &codes {
        let case = app.show(c).await;
        assert_eq!(case.channel, "postal");
        names.push((
            case.applicant.name.clone().unwrap_or_default(),
            case.documents[0].pages,
        ));
    }
    assert_eq!(
        names,
        [
            ("Siti Aminah".to_string(), Some(1)),
            ("Andi Wijaya".to_string(), Some(2)),
            ("Slamet Riyadi".to_string(), Some(1))
        ]
    );
    // Applicants with an email address on the form got one; all get a letter.
    let andi = acks_to("andi.wijaya@example.org", 1).await;
    assert_eq!(andi.iter().filter(|a| a.contains(codes[1])).count(), 1);

    let letters = dir.join("surat.pdf");
    let out = app
        .command()
        .args(["letters", "--out"])
        .arg(&letters)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::process::Command::new("pdftotext")
        .arg(&letters)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    for c in &codes {
        assert!(text.contains(c), "letters contain {c}");
    }
    assert!(text.contains("Slamet Riyadi"));

    // The QR code on the first letter points to the status page.
    let png = dir.join("page");
    assert!(std::process::Command::new("pdftoppm")
        .args([
            "-r",
            "150",
            "-gray",
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile"
        ])
        .arg(&letters)
        .arg(&png)
        .status()
        .unwrap()
        .success());
    let img = image::open(dir.join("page.png")).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        img.width() as usize,
        img.height() as usize,
        |x, y| img.get_pixel(x as u32, y as u32).0[0],
    );
    let decoded: Vec<String> = prepared
        .detect_grids()
        .iter()
        .filter_map(|g| g.decode().ok())
        .map(|(_, s)| s)
        .collect();
    let urls: Vec<String> = codes
        .iter()
        .map(|c| format!("https://perizinan.example.go.id/status/{c}"))
        .collect();
    assert!(decoded.iter().any(|d| urls.contains(d)), "{decoded:?}");

    // Printed once: the next run has nothing new.
    let again = app
        .command()
        .args(["letters", "--out"])
        .arg(dir.join("lagi.pdf"))
        .output()
        .unwrap();
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("no letters"));
    assert!(!dir.join("lagi.pdf").exists());
}

/// The separator sheet as a scanner gives it back: page 1 of `sheet` rendered at 150 dpi, with
/// a dark smear over a third of its QR code (finder pattern included), in an image-only PDF.
fn smudged_sheet_scan(sheet: &Path, dir: &Path) -> Vec<u8> {
    let png = dir.join("sheet-scan");
    assert!(std::process::Command::new("pdftoppm")
        .args(["-r", "150", "-gray", "-png", "-singlefile"])
        .arg(sheet)
        .arg(&png)
        .status()
        .unwrap()
        .success());
    let mut page = image::open(dir.join("sheet-scan.png")).unwrap().to_luma8();
    let mm = page.width() as f32 / 210.0;
    let (cx, cy, rx, ry) = (80.0 * mm, 88.0 * mm, 34.0 * mm, 26.0 * mm);
    for (x, y, pixel) in page.enumerate_pixels_mut() {
        let d = ((x as f32 - cx) / rx).powi(2) + ((y as f32 - cy) / ry).powi(2);
        if d < 1.0 {
            pixel.0[0] = pixel.0[0].min((40.0 + 60.0 * d) as u8);
        }
    }
    assert!(
        !loket::intake::separator::has_separator_code(&page),
        "the smudge hides the code"
    );
    image_pdf(&page, 150)
}

/// An image-only PDF of one grey page, as scanners write them.
fn image_pdf(img: &image::GrayImage, dpi: u32) -> Vec<u8> {
    use lopdf::{dictionary, Document, Object, Stream};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let (w, h) = (img.width(), img.height());
    let mut pixels = Stream::new(
        dictionary! {"Type" => "XObject", "Subtype" => "Image", "Width" => w as i64,
        "Height" => h as i64, "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8},
        img.as_raw().clone(),
    );
    pixels.compress().unwrap();
    let image_id = doc.add_object(pixels);
    let scale = 72.0 / dpi as f32;
    let (pw, ph) = (w as f32 * scale, h as f32 * scale);
    let draw = format!("q {pw} 0 0 {ph} 0 0 cm /Im0 Do Q");
    let content_id = doc.add_object(Stream::new(dictionary! {}, draw.into_bytes()));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
        "MediaBox" => vec![0.into(), 0.into(), pw.into(), ph.into()],
        "Resources" => dictionary! {"XObject" => dictionary! {"Im0" => image_id}},
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(
            dictionary! {"Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1},
        ),
    );
    let catalog_id = doc.add_object(dictionary! {"Type" => "Catalog", "Pages" => pages_id});
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// A clerk scans a stack where one separator sheet has a smudged code and one applicant's letter
/// quotes "LEMBAR PEMISAH": the smudged sheet still splits the stack, the letter stays with its
/// application.
#[tokio::test]
async fn a_smudged_separator_still_splits_and_a_letter_quoting_lembar_pemisah_stays() {
    if !tool("pdfunite") || !tool("pdftoppm") {
        eprintln!("SKIP: poppler-utils missing");
        return;
    }
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    let dir = app.dir.path();
    let sheet = dir.join("sheet.pdf");
    assert!(app
        .command()
        .args(["separator-sheet", "--out"])
        .arg(&sheet)
        .status()
        .unwrap()
        .success());
    let smudged = dir.join("sheet-smudged.pdf");
    std::fs::write(&smudged, smudged_sheet_scan(&sheet, dir)).unwrap();
    let postal = repo().join("fixtures/postal");
    let batch = dir.join("tumpukan.pdf");
    assert!(std::process::Command::new("pdfunite")
        .arg(postal.join("formulir-reklame-siti.pdf"))
        .arg(&smudged)
        .arg(postal.join("formulir-sipa-andi.pdf"))
        .arg(postal.join("surat-kutip-lembar-pemisah.pdf"))
        .arg(&sheet)
        .arg(postal.join("formulir-pbg-tanpa-email.pdf"))
        .arg(&batch)
        .status()
        .unwrap()
        .success());

    let (code, stdout, stderr) = import(&app, &[batch.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let mut got = Vec::new();
    for line in stdout.lines() {
        let case = app.show(line.split('\t').next().unwrap()).await;
        got.push((
            case.applicant.name.clone().unwrap_or_default(),
            case.documents[0].pages,
        ));
    }
    assert_eq!(
        got,
        [
            ("Siti Aminah".to_string(), Some(1)),
            ("Andi Wijaya".to_string(), Some(3)),
            ("Slamet Riyadi".to_string(), Some(1))
        ],
        "{stdout}"
    );
}

#[tokio::test]
async fn blank_pages_split_a_batch_only_when_asked_and_a_crash_mid_import_files_nothing_twice() {
    if !tool("pdfunite") {
        eprintln!("SKIP: poppler-utils missing");
        return;
    }
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    let postal = repo().join("fixtures/postal");
    let batch = app.dir.path().join("dua.pdf");
    assert!(std::process::Command::new("pdfunite")
        .arg(postal.join("formulir-reklame-siti.pdf"))
        .arg(postal.join("halaman-kosong.pdf"))
        .arg(postal.join("formulir-pbg-tanpa-email.pdf"))
        .arg(&batch)
        .status()
        .unwrap()
        .success());

    // The worker dies right after filing the first application of the batch.
    let crashed = app
        .command()
        .args(["import", "--split-blank"])
        .arg(&batch)
        .env("LOKET_TEST_CRASH_AFTER", "intake")
        .status()
        .unwrap();
    assert!(!crashed.success());
    let (code, stdout, stderr) = import(&app, &["--split-blank", batch.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert_eq!(app.cases().await.len(), 2, "two envelopes, each filed once");

    let other = TestApp::spawn(Db::Sqlite).await.unwrap();
    let (code, stdout, _) = import(&other, &[batch.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(
        stdout.lines().count(),
        1,
        "without --split-blank a blank page is just a page"
    );
}

#[tokio::test]
async fn two_clerks_printing_at_the_same_moment_print_each_letter_once() {
    if !tool("pdftotext") {
        return;
    }
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    let mut codes = Vec::new();
    for name in [
        "formulir-pbg-tanpa-email.pdf",
        "formulir-reklame-siti.pdf",
        "formulir-sipa-andi.pdf",
    ] {
        let path = repo().join("fixtures/postal").join(name);
        let (code, stdout, stderr) = import(&app, &[path.to_str().unwrap()]);
        assert_eq!(code, 0, "{stderr}");
        codes.push(stdout.split('\t').next().unwrap().to_string());
    }
    let dir = app.dir.path();
    // Both clerks press "print" together.
    let clerks: Vec<_> = ["a.pdf", "b.pdf"]
        .iter()
        .map(|out| {
            app.command()
                .args(["letters", "--out"])
                .arg(dir.join(out))
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in clerks {
        assert!(c.wait().unwrap().success());
    }
    let texts: Vec<String> = ["a.pdf", "b.pdf"]
        .iter()
        .filter(|out| dir.join(out).exists())
        .map(|out| {
            let text = std::process::Command::new("pdftotext")
                .arg(dir.join(out))
                .arg("-")
                .output()
                .unwrap();
            String::from_utf8_lossy(&text.stdout).into_owned()
        })
        .collect();
    assert!(!texts.is_empty(), "someone printed");
    for c in &codes {
        let in_pdfs = texts.iter().filter(|t| t.contains(c.as_str())).count();
        assert_eq!(in_pdfs, 1, "{c} is printed by exactly one clerk");
    }
    // Naming a case reprints it, even though it was printed.
    let reprint = app
        .command()
        .args(["letters", &codes[0], "--out"])
        .arg(dir.join("ulang.pdf"))
        .output()
        .unwrap();
    assert!(reprint.status.success());
    assert!(dir.join("ulang.pdf").exists());
}

/// A form filled in by hand comes by post: loket does not sort it on what OCR made of the
/// handwriting; the case waits in triage, the page is marked handwritten in `cases show` (text
/// and JSON), and the reason says which page. A typed scan of a form is sorted as before.
#[tokio::test]
async fn a_handwritten_form_goes_to_triage_with_its_page_marked_and_a_typed_scan_does_not() {
    for db in [Db::Sqlite, Db::Postgres] {
        let app = TestApp::spawn(db).await.unwrap();
        let handwritten = repo().join("fixtures/handwriting/formulir_tangan.pdf");
        let typed = repo().join("fixtures/scans/form_dct.pdf");
        let (code, stdout, stderr) = import(
            &app,
            &[handwritten.to_str().unwrap(), typed.to_str().unwrap()],
        );
        assert_eq!(code, 0, "{stderr}");
        let codes: Vec<&str> = stdout
            .lines()
            .map(|l| l.split('\t').next().unwrap())
            .collect();
        assert_eq!(codes.len(), 2, "{stdout}");

        let case = app.show(codes[0]).await;
        assert_eq!(case.documents[0].handwritten_pages, [1], "{case:#?}");
        let details = case.details.as_ref().expect("details");
        assert!(details.triage, "handwritten form to triage: {case:#?}");
        let reasons = details.decision.as_ref().expect("decision")["reasons"].to_string();
        assert!(
            reasons.contains("triage:handwriting")
                && reasons.contains("formulir_tangan.pdf: halaman 1 tulisan tangan"),
            "{reasons}"
        );
        let out = app
            .command()
            .args(["cases", "show", codes[0]])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("tulisan tangan / handwritten: halaman 1"),
            "{text}"
        );
        let out = app
            .command()
            .args(["cases", "show", "--json", codes[0]])
            .output()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            json["documents"][0]["handwritten_pages"],
            serde_json::json!([1])
        );

        let typed = app.show(codes[1]).await;
        assert!(typed.documents[0].handwritten_pages.is_empty());
        assert_eq!(typed.permit_type.as_deref(), Some("pbg"), "{typed:#?}");
        let json = serde_json::to_value(&typed).unwrap();
        assert!(json["documents"][0].get("handwritten_pages").is_none());
    }
}
