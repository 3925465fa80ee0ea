//! A real browser: Debian's headless Chromium driven over WebDriver by one chromedriver per test
//! binary, with as many sessions (each its own profile, so its own cookies) as a test wants.
//!
//! Pages must carry `<meta name="viewport" content="width=device-width, initial-scale=1">`:
//! without it a phone lays pages out 980 CSS px wide (as real phones do) and nothing overflows.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use axum::http::Method;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use reqwest::Url;
use serde_json::{json, Value};

use super::{process, server_dir, HOST};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long the helpers wait for an element to appear (after a navigation, say).
const ELEMENT_TIMEOUT: Duration = Duration::from_secs(10);

/// The screen a session emulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewport {
    /// 360 x 740 CSS px at device pixel ratio 2, touch, mobile layout (Chromium's mobile
    /// emulation): the small Android phones officers and applicants use.
    Phone,
    /// A 1280 x 900 window with scrollbars that take no room.
    Desktop,
}

/// The chromedriver of this test binary.
#[derive(Debug)]
pub struct ChromeDriver {
    pub port: u16,
    pub dir: PathBuf,
    pub log_path: PathBuf,
    next_profile: AtomicUsize,
}

/// The chromedriver shared by all tests of this binary; `None` (with a note on stderr) when
/// Chromium or chromedriver is not installed and `LOKET_REQUIRE_BROWSER` is unset.
pub fn chromedriver() -> Option<&'static ChromeDriver> {
    static DRIVER: OnceLock<Result<Option<ChromeDriver>, String>> = OnceLock::new();
    match DRIVER.get_or_init(ChromeDriver::start) {
        Ok(driver) => driver.as_ref(),
        Err(e) => panic!("{e}"),
    }
}

/// A new browser session (a fresh profile: no cookies, no storage) showing `viewport`; `None`
/// when browsers are not installed (see [`chromedriver`]). Sessions are independent and can be
/// open at the same time.
pub async fn browser(viewport: Viewport) -> Option<Browser> {
    let driver = chromedriver()?;
    let profile = driver.new_profile_dir();
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities(viewport, &profile))
        .connect(&format!("http://{HOST}:{}", driver.port))
        .await
        .unwrap_or_else(|e| {
            panic!(
                "open a {viewport:?} Chromium session: {e}\nchromedriver log {}:\n{}",
                driver.log_path.display(),
                process::log_tail(&driver.log_path)
            )
        });
    Some(Browser { client, driver })
}

fn capabilities(viewport: Viewport, profile: &Path) -> fantoccini::wd::Capabilities {
    let mut args = vec![
        "--headless=new".to_string(),
        // Chromium's sandbox refuses to run as root, which CI and the dev machines are.
        "--no-sandbox".to_string(),
        "--disable-gpu".to_string(),
        // Containers give /dev/shm 64 MB; Chromium crashes when it runs out.
        "--disable-dev-shm-usage".to_string(),
        format!("--user-data-dir={}", profile.display()),
        "--lang=id-ID".to_string(),
    ];
    let mut options = json!({ "binary": CHROMIUM });
    match viewport {
        Viewport::Phone => {
            options["mobileEmulation"] =
                json!({ "deviceMetrics": { "width": 360, "height": 740, "pixelRatio": 2 } });
        }
        Viewport::Desktop => {
            // Overlay scrollbars, as on the phone: the page gets all 1280 px and screenshots
            // are 1280 px wide whether the page scrolls or not.
            args.extend(["--window-size=1280,900", "--hide-scrollbars"].map(String::from));
        }
    }
    options["args"] = json!(args);
    let caps = json!({ "browserName": "chrome", "goog:chromeOptions": options });
    match caps {
        Value::Object(map) => map,
        _ => unreachable!("json! of an object literal is an object"),
    }
}

impl ChromeDriver {
    fn start() -> Result<Option<ChromeDriver>, String> {
        if let Some(why) = missing_programs() {
            if std::env::var_os("LOKET_REQUIRE_BROWSER").is_none() {
                eprintln!("support: skipping browser tests: {why} (set LOKET_REQUIRE_BROWSER=1 to fail instead)");
                return Ok(None);
            }
            return Err(format!("LOKET_REQUIRE_BROWSER is set but {why}"));
        }
        let dir = server_dir("chromedriver");
        let driver = ChromeDriver {
            port: super::free_port(),
            log_path: dir.join("chromedriver.log"),
            dir,
            next_profile: AtomicUsize::new(0),
        };
        driver.spawn()?;
        Ok(Some(driver))
    }

    fn spawn(&self) -> Result<(), String> {
        let log = std::fs::File::create(&self.log_path)
            .map_err(|e| format!("create {}: {e}", self.log_path.display()))?;
        let mut cmd = Command::new(CHROMEDRIVER);
        // INFO logs every command and its result (long values cut short); chrome's own stderr
        // goes to the same log, so a crashed renderer shows up in failure messages.
        cmd.arg(format!("--port={}", self.port))
            .args(["--log-level=INFO", "--enable-chrome-logs"])
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log);
        let pid = process::spawn_server(cmd, libc::SIGTERM)
            .map_err(|e| format!("start {CHROMEDRIVER}: {e}"))?;
        // chromedriver does not stop the browsers it started when it is stopped.
        process::kill_descendants_on_stop(pid);
        process::wait_listening("chromedriver", self.port, pid, &self.log_path)
    }

    fn new_profile_dir(&self) -> PathBuf {
        let n = self.next_profile.fetch_add(1, Ordering::Relaxed);
        let dir = self.dir.join(format!("profile-{n}"));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        dir
    }
}

fn missing_programs() -> Option<String> {
    [CHROMIUM, CHROMEDRIVER]
        .iter()
        .find(|p| !Path::new(p).exists())
        .map(|p| {
            format!("{p} not found (deploy/install-deps.sh installs chromium and chromium-driver)")
        })
}

/// One browser session. The helpers panic with what they were doing and the tail of the
/// chromedriver log; [`client`](Self::client) gives the full fantoccini API.
pub struct Browser {
    client: Client,
    driver: &'static ChromeDriver,
}

impl Browser {
    /// The fantoccini client, for anything the helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Loads `url` and waits for the page's load event.
    pub async fn goto(&self, url: &str) {
        let result = self.client.goto(url).await;
        self.check(result, &format!("go to {url}"));
    }

    /// Replaces the text of the input or textarea matched by `css` with `text`, typed as keys.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        let result = field.clear().await;
        self.check(result, &format!("clear {css}"));
        let result = field.send_keys(text).await;
        self.check(result, &format!("type into {css}"));
    }

    /// Clicks the element matched by `css` (the next command waits for a navigation it starts).
    pub async fn click(&self, css: &str) {
        let result = self.find(css).await.click().await;
        self.check(result, &format!("click {css}"));
    }

    /// The rendered text of the element matched by `css`, as a user sees it.
    pub async fn text_of(&self, css: &str) -> String {
        let result = self.find(css).await.text().await;
        self.check(result, &format!("read the text of {css}"))
    }

    /// `window.innerWidth` in CSS px: the layout viewport's width on a page that fits it (a
    /// phone widens it to the content of a page that does not).
    pub async fn inner_width(&self) -> u64 {
        let width = self.eval("return window.innerWidth", vec![]).await;
        width
            .as_u64()
            .unwrap_or_else(|| panic!("window.innerWidth is {width}"))
    }

    /// Whether the page is wider than the viewport, so a user must scroll sideways: the root
    /// element or the body is wider than the root's client width. Not `window.innerWidth`: on a
    /// phone Chromium widens that to the content (a 1000 px table gives 1008 there), so it never
    /// looks overflowed.
    pub async fn has_horizontal_scroll(&self) -> bool {
        let js = "const root = document.documentElement; const w = root.clientWidth; \
                  return root.scrollWidth > w \
                      || (document.body !== null && document.body.scrollWidth > w);";
        self.eval_bool(js, vec![]).await
    }

    /// Whether `window[name]` is defined: a page's script (or an injected one) has set it. Used
    /// to check that an XSS payload such as `<script>window.pwned=1</script>` did not run.
    pub async fn js_global_set(&self, name: &str) -> bool {
        let js = "return typeof window[arguments[0]] !== 'undefined';";
        self.eval_bool(js, vec![json!(name)]).await
    }

    /// Writes a PNG of the whole page (not only the viewport) to `path`, in device pixels: a
    /// phone's is 720 px wide (360 CSS px at ratio 2), a desktop's 1280.
    pub async fn screenshot(&self, path: &Path) {
        let metrics = self.cdp("Page.getLayoutMetrics", json!({})).await;
        let size = &metrics["cssContentSize"];
        let (Some(width), Some(height)) = (size["width"].as_f64(), size["height"].as_f64()) else {
            panic!("Page.getLayoutMetrics without cssContentSize: {metrics}");
        };
        let params = json!({
            "format": "png",
            "captureBeyondViewport": true,
            "clip": { "x": 0, "y": 0, "width": width, "height": height, "scale": 1 },
        });
        let shot = self.cdp("Page.captureScreenshot", params).await;
        let png = shot["data"]
            .as_str()
            .and_then(|b64| data_encoding::BASE64.decode(b64.as_bytes()).ok())
            .unwrap_or_else(|| panic!("Page.captureScreenshot returned no base64 data"));
        std::fs::write(path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// Ends the session and its browser.
    pub async fn close(self) {
        let result = self.client.clone().close().await;
        self.check(result, "close the session");
    }

    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        let result = self
            .client
            .wait()
            .at_most(ELEMENT_TIMEOUT)
            .for_element(Locator::Css(css))
            .await;
        match result {
            Ok(element) => element,
            Err(e) => {
                let page = self.describe_page().await;
                self.check(Err(format!("{e}\npage {page}")), &format!("find {css}"))
            }
        }
    }

    /// The URL and the start of the text a user sees, for "element not found" messages (the
    /// chromedriver log then only shows the polling).
    async fn describe_page(&self) -> String {
        let url = match self.client.current_url().await {
            Ok(url) => url.to_string(),
            Err(e) => format!("(unknown URL: {e})"),
        };
        let js = "return document.body === null ? '' : document.body.innerText;";
        let text = match self.client.execute(js, vec![]).await {
            Ok(Value::String(text)) => text.chars().take(1500).collect(),
            Ok(other) => other.to_string(),
            Err(e) => format!("(cannot read the page: {e})"),
        };
        format!("{url} shows:\n{text}")
    }

    async fn eval(&self, js: &str, args: Vec<Value>) -> Value {
        let result = self.client.execute(js, args).await;
        self.check(result, &format!("run `{js}`"))
    }

    async fn eval_bool(&self, js: &str, args: Vec<Value>) -> bool {
        let value = self.eval(js, args).await;
        value
            .as_bool()
            .unwrap_or_else(|| panic!("`{js}` returned {value}, not a boolean"))
    }

    /// Runs a Chrome DevTools Protocol command through chromedriver's `goog/cdp/execute`.
    async fn cdp(&self, cmd: &'static str, params: Value) -> Value {
        let result = self.client.issue_cmd(Cdp { cmd, params }).await;
        self.check(result, &format!("CDP {cmd}"))
    }

    fn check<T, E: std::fmt::Display>(&self, result: Result<T, E>, what: &str) -> T {
        result.unwrap_or_else(|e| {
            panic!(
                "browser: {what}: {e}\nchromedriver log {}:\n{}",
                self.driver.log_path.display(),
                process::log_tail(&self.driver.log_path)
            )
        })
    }
}

#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    // `<Url as FromStr>::Err` is `url::ParseError`, named without a direct dependency on `url`.
    fn endpoint(
        &self,
        base_url: &Url,
        session_id: Option<&str>,
    ) -> Result<Url, <Url as FromStr>::Err> {
        let session = session_id.unwrap_or_default();
        base_url.join(&format!("session/{session}/goog/cdp/execute"))
    }

    fn method_and_body(&self, _request_url: &Url) -> (Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (Method::POST, Some(body.to_string()))
    }
}
