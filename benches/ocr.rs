//! OCR throughput and memory. Run: `cargo bench --bench ocr` (release) or, quicker to build,
//! `LOKET_BENCH=1 cargo test --bench ocr` (dependencies are optimised in dev builds too).
//!
//! 1. 20 scanned A4 pages (the fixture forms, 150 dpi) through the pool (2 workers) against the
//!    `tesseract` CLI one page after another on the same page images, `OMP_THREAD_LIMIT=1`.
//! 2. Peak memory (this process plus its OCR workers) while reading a 50-page scanned PDF.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use loket::extract::ocr::{
    ocr_pdf_pages, page_images, pdf_page_image, OcrConfig, OcrPool, PageImage, PdfPages,
    RasterLimits,
};

fn main() {
    let asked =
        std::env::args().any(|a| a == "--bench") || std::env::var_os("LOKET_BENCH").is_some();
    if !asked {
        eprintln!("ocr bench: skipped (run with `cargo bench --bench ocr` or LOKET_BENCH=1)");
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let pages = twenty_pages();
    throughput(&rt, &pages);
    memory(&rt);
}

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/scans")
}

fn twenty_pages() -> Vec<PageImage> {
    let limits = RasterLimits::default();
    let mut base = Vec::new();
    for name in ["form_dct.pdf", "form_flate.pdf", "form_ccitt.pdf"] {
        let data = std::fs::read(fixtures().join(name)).expect("fixture");
        base.push(pdf_page_image(&data, 0, &limits).expect("page"));
    }
    let tif = std::fs::read(fixtures().join("forms_g4.tif")).expect("fixture");
    base.extend(page_images(&tif, "image/tiff", &limits).expect("tiff"));
    base.iter().cycle().take(20).cloned().collect()
}

fn pool(workers: usize) -> OcrPool {
    OcrPool::new(OcrConfig {
        program: env!("CARGO_BIN_EXE_loket-ocr-worker").into(),
        args: vec![],
        languages: "ind+eng".into(),
        workers,
        page_timeout: Duration::from_secs(120),
        start_timeout: Duration::from_secs(30),
    })
}

fn throughput(rt: &tokio::runtime::Runtime, pages: &[PageImage]) {
    let dir = std::env::temp_dir().join(format!("loket-ocr-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let files: Vec<_> = pages
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let path = dir.join(format!("page{i:02}.png"));
            p.image.save(&path).expect("save page");
            path
        })
        .collect();

    let started = Instant::now();
    for f in &files {
        let out = std::process::Command::new("tesseract")
            .arg(f)
            .args(["-", "-l", "ind+eng", "--psm", "3", "--dpi", "150"])
            .env("OMP_THREAD_LIMIT", "1")
            .output()
            .expect("tesseract CLI");
        assert!(out.status.success());
    }
    let cli = started.elapsed().as_secs_f64();

    let pool = pool(2);
    // Start both workers first: a long-running service pays that once.
    rt.block_on(futures::future::join_all(
        pages[..2].iter().cloned().map(|p| pool.ocr(p)),
    ));
    let started = Instant::now();
    let results = rt.block_on(futures::future::join_all(
        pages.iter().cloned().map(|p| pool.ocr(p)),
    ));
    let ours = started.elapsed().as_secs_f64();
    assert!(results.iter().all(Result::is_ok));
    let n = pages.len() as f64;
    println!(
        "20 A4 pages: tesseract CLI sequential {cli:.1} s = {:.2} pages/s; pool of 2 {ours:.1} s = {:.2} pages/s; ratio {:.2}x",
        n / cli,
        n / ours,
        cli / ours
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn memory(rt: &tokio::runtime::Runtime) {
    let pdf = fifty_page_pdf();
    let peak = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, stop) = (Arc::clone(&peak), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                peak.fetch_max(rss_with_children_kb(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let before = rss_with_children_kb();
    let pool = pool(2);
    let started = Instant::now();
    let doc = Arc::new(PdfPages::open(&pdf, &RasterLimits::default()).expect("pdf"));
    let pages: Vec<usize> = (0..doc.page_count()).collect();
    let done = rt.block_on(ocr_pdf_pages(&pool, doc, &pages));
    let took = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    assert_eq!(done.len(), 50);
    assert!(done.iter().all(|p| p.result.is_ok()));
    println!(
        "50-page scanned PDF ({} KB): {took:.1} s; peak RSS this process + workers {} MB (before {} MB)",
        pdf.len() / 1024,
        peak.load(Ordering::Relaxed) / 1024,
        before / 1024
    );
}

/// Fifty DCT pages: the fixture scan's JPEG, once per page.
fn fifty_page_pdf() -> Vec<u8> {
    use lopdf::{dictionary, Document, Object, Stream};
    let src = std::fs::read(fixtures().join("form_dct.pdf")).expect("fixture");
    let src = Document::load_mem(&src).expect("fixture pdf");
    let page = *src.get_pages().values().next().expect("page");
    let image = src.get_page_images(page).expect("images").remove(0);
    let (w, h, jpeg) = (image.width, image.height, image.content.to_vec());
    let mut doc = Document::with_version("1.4");
    let pages_id = doc.new_object_id();
    let mut kids = Vec::new();
    for _ in 0..50 {
        let img = doc.add_object(Stream::new(
            dictionary! {"Type" => "XObject", "Subtype" => "Image", "Width" => w, "Height" => h,
            "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8, "Filter" => "DCTDecode"},
            jpeg.clone(),
        ));
        let (pw, ph) = (w as f32 * 72.0 / 150.0, h as f32 * 72.0 / 150.0);
        let content = format!("q {pw} 0 0 {ph} 0 0 cm /Im0 Do Q");
        let content = doc.add_object(Stream::new(dictionary! {}, content.into_bytes()));
        let page = doc.add_object(dictionary! {"Type" => "Page", "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), pw.into(), ph.into()],
        "Resources" => dictionary! {"XObject" => dictionary! {"Im0" => img}},
        "Contents" => content});
        kids.push(Object::Reference(page));
    }
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {"Type" => "Pages", "Count" => 50, "Kids" => kids}),
    );
    let catalog = doc.add_object(dictionary! {"Type" => "Catalog", "Pages" => pages_id});
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("save");
    out
}

/// Resident memory of this process and its direct children, in KB.
fn rss_with_children_kb() -> u64 {
    let me = std::process::id().to_string();
    let mut total = rss_kb("self");
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let pid = e.file_name().to_string_lossy().to_string();
            if !pid.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let ppid = stat
                .rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().nth(1));
            if ppid == Some(me.as_str()) {
                total += rss_kb(&pid);
            }
        }
    }
    total
}

fn rss_kb(pid: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}
