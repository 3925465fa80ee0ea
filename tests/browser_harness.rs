//! Proves the browser harness (`tests/support/browser.rs`) can tell good pages from bad ones, on
//! small pages served here, before the desk's own browser stories rely on it: sideways
//! scrolling on a phone, an inline script that runs or is blocked by CSP, a form that reaches
//! the server, two sessions that keep their own cookies, and full-page screenshots.

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::State;
use axum::http::header::{CONTENT_SECURITY_POLICY, COOKIE, SET_COOKIE};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Form, Router};
use support::Viewport;

/// Every page a phone should lay out at its own width.
const HEAD: &str = r#"<!doctype html><html lang="id"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Uji</title></head>"#;

const XSS: &str = "<script>window.pwned=1</script>";

/// What the test server saw: every name posted to `/kirim`.
type Posted = Arc<Mutex<Vec<String>>>;

/// Serves the test pages on a random loopback port for as long as the test's runtime lives.
async fn serve_pages() -> (String, Posted) {
    let posted = Posted::default();
    let app = Router::new()
        .route(
            "/sempit",
            get(|| async { page("<h1>Daftar berkas</h1><p>Nomor: 12</p>") }),
        )
        .route(
            "/lebar",
            get(|| async {
                page(r#"<table style="width:1000px"><tr><td>Kolom</td></tr></table>"#)
            }),
        )
        .route(
            "/tanpa-viewport",
            get(|| async { Html("<!doctype html><p>Teks</p>") }),
        )
        .route("/panjang", get(|| async { page(&long_body()) }))
        .route("/skrip", get(|| async { page(XSS) }))
        .route("/skrip-csp", get(script_under_csp))
        .route("/formulir", get(form_page).post(receive_form))
        .route("/siapa", get(who_am_i))
        .with_state(posted.clone());
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind the test page server");
    let addr = listener.local_addr().expect("local_addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve test pages") });
    (format!("http://{addr}"), posted)
}

fn page(body: &str) -> Html<String> {
    Html(format!("{HEAD}<body>{body}</body></html>"))
}

/// Indonesian text with the accents and punctuation letters and names carry, tall enough to
/// need scrolling on both viewports.
fn long_body() -> String {
    let line =
        "<p>Permohonan izin usaha mikro — Ibu Siti Nurhaliza, “Warung Ĕnak”, café Bandung</p>";
    format!("<h1>Antrean berkas</h1>{}", line.repeat(80))
}

async fn script_under_csp() -> impl IntoResponse {
    ([(CONTENT_SECURITY_POLICY, "script-src 'self'")], page(XSS))
}

async fn form_page() -> Html<String> {
    page(
        r#"<form method="post" action="/formulir"><label>Nama <input id="nama" name="nama"></label>
<button id="kirim" type="submit">Kirim</button></form>"#,
    )
}

#[derive(serde::Deserialize)]
struct NameForm {
    nama: String,
}

/// Records the name and remembers it in a cookie, as a login would.
async fn receive_form(
    State(posted): State<Posted>,
    Form(form): Form<NameForm>,
) -> impl IntoResponse {
    posted.lock().expect("posted lock").push(form.nama.clone());
    let cookie = format!("nama={}; Path=/; HttpOnly", hex::encode(&form.nama));
    let body = format!(r#"<p id="hasil">Terima kasih, {}</p>"#, escape(&form.nama));
    ([(SET_COOKIE, cookie)], page(&body))
}

async fn who_am_i(headers: HeaderMap) -> Html<String> {
    let name = headers
        .get(COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("; ").find_map(|c| c.strip_prefix("nama=")))
        .and_then(|hex_name| hex::decode(hex_name).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_else(|| "tamu".to_string());
    page(&format!(r#"<p id="saya">{}</p>"#, escape(&name)))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[tokio::test]
async fn phone_is_360_css_px_wide_and_a_1000_px_table_makes_it_scroll_sideways() {
    let (base, _) = serve_pages().await;
    let started = Instant::now();
    let Some(phone) = support::browser(Viewport::Phone).await else {
        return;
    };
    phone.goto(&format!("{base}/sempit")).await;
    eprintln!("chromium session + first page: {:?}", started.elapsed());

    assert_eq!(phone.inner_width().await, 360);
    assert!(
        !phone.has_horizontal_scroll().await,
        "a narrow page fits the phone"
    );
    phone.goto(&format!("{base}/lebar")).await;
    assert!(
        phone.has_horizontal_scroll().await,
        "a 1000 px table overflows 360 px"
    );
    // Real mobile layout: a page without a viewport meta tag is laid out 980 px wide.
    phone.goto(&format!("{base}/tanpa-viewport")).await;
    assert_eq!(phone.inner_width().await, 980);
    phone.close().await;

    let Some(desktop) = support::browser(Viewport::Desktop).await else {
        return;
    };
    desktop.goto(&format!("{base}/lebar")).await;
    assert_eq!(desktop.inner_width().await, 1280);
    assert!(
        !desktop.has_horizontal_scroll().await,
        "1000 px fits 1280 px"
    );
    desktop.close().await;
}

#[tokio::test]
async fn inline_script_runs_on_a_plain_page_and_is_blocked_by_script_src_self() {
    let (base, _) = serve_pages().await;
    let Some(phone) = support::browser(Viewport::Phone).await else {
        return;
    };

    phone.goto(&format!("{base}/skrip")).await;
    assert!(
        phone.js_global_set("pwned").await,
        "without CSP the inline script runs"
    );
    phone.goto(&format!("{base}/skrip-csp")).await;
    assert!(
        !phone.js_global_set("pwned").await,
        "script-src 'self' blocks inline scripts"
    );
    assert!(!phone.js_global_set("neverSetAnywhere").await);
    phone.close().await;
}

#[tokio::test]
async fn posted_form_reaches_the_server_and_two_open_sessions_keep_their_own_cookies() {
    let (base, posted) = serve_pages().await;
    let Some(siti) = support::browser(Viewport::Phone).await else {
        return;
    };
    let Some(budi) = support::browser(Viewport::Desktop).await else {
        return;
    };

    siti.goto(&format!("{base}/formulir")).await;
    siti.fill("#nama", "Siti Nurhaliza <b>").await;
    siti.click("#kirim").await;
    assert_eq!(
        siti.text_of("#hasil").await,
        "Terima kasih, Siti Nurhaliza <b>"
    );
    assert_eq!(*posted.lock().expect("posted lock"), ["Siti Nurhaliza <b>"]);

    budi.goto(&format!("{base}/siapa")).await;
    assert_eq!(
        budi.text_of("#saya").await,
        "tamu",
        "budi's session has no cookie of siti's"
    );
    siti.goto(&format!("{base}/siapa")).await;
    assert_eq!(siti.text_of("#saya").await, "Siti Nurhaliza <b>");

    siti.close().await;
    budi.close().await;
}

#[tokio::test]
async fn screenshots_are_full_page_pngs_in_device_pixels() {
    let (base, _) = serve_pages().await;
    // Kept with LOKET_TEST_KEEP=1, to look at.
    let dir = support::root_dir();
    for (viewport, width, viewport_height) in
        [(Viewport::Desktop, 1280, 900), (Viewport::Phone, 720, 1480)]
    {
        let Some(browser) = support::browser(viewport).await else {
            return;
        };
        browser.goto(&format!("{base}/panjang")).await;
        let path = dir.join(format!("{viewport:?}.png"));
        browser.screenshot(&path).await;
        browser.close().await;

        let png = image::open(&path).unwrap_or_else(|e| panic!("decode {}: {e}", path.display()));
        assert_eq!(png.width(), width, "{viewport:?} screenshot width");
        assert!(
            png.height() > viewport_height,
            "{viewport:?} screenshot is {} px tall: the whole page, not only the viewport",
            png.height()
        );
    }
}
