//! `loket serve` behind the committed nginx example (`deploy/nginx-loket.conf`), over real TLS:
//! the file is rendered with loopback ports and test paths only (the server name stays), nginx
//! (Debian's `nginx-light`) runs in the foreground, and a citizen and an officer use it through
//! HTTPS. loket believes X-Forwarded-For from nginx (`web.trusted_proxies`) and only from it.
//!
//! Clients connect from 127.0.0.2 and 127.0.0.3 (all of 127/8 is loopback on Linux), nginx
//! reaches loket from 127.0.0.1: so the address loket records can only be the citizen's if it
//! came through the header nginx wrote.

mod app;
mod support;

use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use app::{unique_address, Db, TestApp};
use loket::desk::secrets::hash_password;
use loket::domain::Role;
use loket::filing::users::NewUser;
use reqwest::{Client, StatusCode};

/// The server name in the committed example; clients resolve it to loopback.
const HOST: &str = "perizinan.pasuruankab.go.id";
const PASSWORD: &str = "rahasia-proxy-1";
/// Status page requests per minute per address, small so the test reaches it.
const PER_MINUTE: u32 = 4;

fn nginx_binary() -> Option<PathBuf> {
    let found = ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var_os("LOKET_REQUIRE_NGINX").is_none(),
            "nginx not found (deploy/install-deps.sh installs nginx-light)"
        );
        eprintln!("SKIPPED: nginx not found (apt-get install nginx-light)");
    }
    found
}

/// A process of the test, killed when dropped.
struct Running {
    child: Child,
    log: PathBuf,
}

impl Running {
    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_listening(port: u16, what: &Running) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nothing listens on {addr}: {}",
            what.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A self-signed certificate for [`HOST`] (CA:FALSE, the name in subjectAltName: what rustls
/// accepts as a server certificate it was told to trust).
fn certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("fullchain.pem"), dir.join("privkey.pem"));
    let out = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
        .args(["-subj", &format!("/CN={HOST}")])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .args(["-addext", &format!("subjectAltName=DNS:{HOST}")])
        .args(["-addext", "extendedKeyUsage=serverAuth"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (cert, key)
}

struct Ports {
    http: u16,
    https: u16,
    desk: u16,
}

/// The committed example with loopback ports and this test's paths: nothing else changes.
fn render(example: &str, ports: &Ports, cert: &Path, key: &Path, webroot: &Path) -> String {
    let live = format!("/etc/letsencrypt/live/{HOST}");
    let replacements = [
        ("listen 80;", format!("listen 127.0.0.1:{};", ports.http)),
        ("listen [::]:80;", format!("listen [::1]:{};", ports.http)),
        ("listen 443 ", format!("listen 127.0.0.1:{} ", ports.https)),
        ("listen [::]:443 ", format!("listen [::1]:{} ", ports.https)),
        (
            "http://127.0.0.1:8080",
            format!("http://127.0.0.1:{}", ports.desk),
        ),
        (&format!("{live}/fullchain.pem"), cert.display().to_string()),
        (&format!("{live}/privkey.pem"), key.display().to_string()),
        (
            "root /var/www/html;",
            format!("root {};", webroot.display()),
        ),
    ];
    let mut text = example.to_string();
    for (from, to) in replacements {
        assert!(text.contains(from), "the example has {from:?}");
        text = text.replace(from, &to);
    }
    text
}

/// nginx in the foreground with the rendered site, its files under `dir` (the `http` block an
/// installed nginx.conf gives a site in sites-enabled/).
fn start_nginx(nginx: &Path, dir: &Path, site: &str) -> Running {
    let site_path = dir.join("loket.conf");
    std::fs::write(&site_path, site).unwrap();
    let d = dir.display();
    let main = format!(
        "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log info;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/body;\n\
           proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n\
           uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
           include {};\n}}\n",
        site_path.display()
    );
    let conf = dir.join("nginx.conf");
    std::fs::write(&conf, main).unwrap();
    let test = Command::new(nginx)
        .arg("-t")
        .arg("-e")
        .arg(dir.join("error.log"))
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&conf)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&test.stderr).into_owned();
    assert!(test.status.success(), "nginx -t: {said}");
    assert!(!said.contains("[warn]"), "nginx -t warns: {said}");
    let log = dir.join("stderr.log");
    let child = Command::new(nginx)
        .arg("-e")
        .arg(dir.join("error.log"))
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    Running { child, log }
}

/// A client connecting from `from`, trusting the test certificate, resolving [`HOST`] to the
/// proxy, keeping cookies, not following redirects (to look at each answer).
fn client(from: [u8; 4], https: u16, cert: &Path) -> Client {
    let pem = std::fs::read(cert).unwrap();
    Client::builder()
        .local_address(IpAddr::from(from))
        .resolve(HOST, SocketAddr::from(([127, 0, 0, 1], https)))
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .tls_built_in_root_certs(false)
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn hidden(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &html[at + name.len() + 15..];
    Some(rest[..rest.find('"')?].to_string())
}

/// Log in through the form; the answer to the POST.
async fn login(c: &Client, base: &str, user: &str, password: &str) -> reqwest::Response {
    let form = c
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = hidden(&form, "csrf_token").expect("the login form has a csrf_token");
    c.post(format!("{base}/login"))
        .form(&[
            ("username", user),
            ("password", password),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap()
}

/// The client addresses loket recorded failed logins from.
async fn failed_login_clients(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar("SELECT client FROM login_failures ORDER BY id")
        .fetch_all(&app.sql().await)
        .await
        .unwrap()
}

async fn office(ports: &Ports, metrics: u16) -> TestApp {
    let app = TestApp::spawn_with(Db::Sqlite, |t| {
        let web: toml::Table = toml::from_str(&format!(
            "listen = \"127.0.0.1:{}\"\nbase_url = \"https://{HOST}\"\n\
             trusted_proxies = [\"127.0.0.1\"]\nsecure_cookies = true\n\
             status_requests_per_minute = {PER_MINUTE}",
            ports.desk
        ))
        .unwrap();
        t.insert("web".into(), toml::Value::Table(web));
        let mut m = toml::Table::new();
        m.insert("listen".into(), format!("127.0.0.1:{metrics}").into());
        t.insert("metrics".into(), m.into());
    })
    .await
    .unwrap();
    let store = app.store().await;
    store
        .add_user(&NewUser {
            username: "admin",
            name: Some("Admin Kantor"),
            email: None,
            role: Role::Admin,
            department: None,
            password_hash: &hash_password(PASSWORD).unwrap(),
        })
        .await
        .unwrap()
        .expect("a new user");
    store.close().await;
    app
}

#[tokio::test]
async fn the_desk_and_the_status_page_work_through_nginx_with_tls_and_forwarded_addresses() {
    let Some(nginx) = nginx_binary() else {
        return;
    };
    let ports = Ports {
        http: support::free_port(),
        https: support::free_port(),
        desk: support::free_port(),
    };
    let metrics = support::free_port();
    let app = office(&ports, metrics).await;
    let citizen = unique_address("warga");
    app.deliver(&app::text_mail(
        &citizen,
        "Permohonan izin reklame",
        "Dengan hormat, kami mengajukan izin reklame di Jl. Raya Bangil.",
        "",
    ))
    .await;
    app.run_once().await;
    let code = app.cases().await[0].tracking_code.clone();

    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(dir.path());
    let webroot = dir.path().join("www");
    std::fs::create_dir_all(&webroot).unwrap();
    let example = std::fs::read_to_string(app::repo().join("deploy/nginx-loket.conf")).unwrap();
    let site = render(&example, &ports, &cert, &key, &webroot);
    let serve_log = app.dir.path().join("serve.log");
    let serve = Running {
        child: app
            .command()
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&serve_log).unwrap())
            .spawn()
            .unwrap(),
        log: serve_log,
    };
    wait_listening(ports.desk, &serve);
    let proxy = start_nginx(&nginx, dir.path(), &site);
    wait_listening(ports.https, &proxy);
    let base = format!("https://{HOST}:{}", ports.https);
    let citizen_a = client([127, 0, 0, 2], ports.https, &cert);

    // Plain http is sent to https.
    let plain = Client::builder()
        .resolve(HOST, SocketAddr::from(([127, 0, 0, 1], ports.http)))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = plain
        .get(format!("http://{HOST}:{}/status/{code}", ports.http))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::MOVED_PERMANENTLY);
    let to = r.headers()["location"].to_str().unwrap();
    assert_eq!(to, format!("https://{HOST}/status/{code}"));

    // The public status page, over TLS, with HSTS.
    let r = citizen_a
        .get(format!("{base}/status/{code}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", proxy.log_text());
    assert!(r.headers().contains_key("strict-transport-security"));
    let html = r.text().await.unwrap();
    assert!(html.contains(&code), "{html}");

    // An officer logs in; the session cookie is Secure, and works through the proxy.
    let officer = client([127, 0, 0, 3], ports.https, &cert);
    let r = login(&officer, &base, "admin", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("loket_session="))
        .expect("a session cookie")
        .to_string();
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let r = officer.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text().await.unwrap().contains(&code),
        "the officer sees the case"
    );

    // loket records the address nginx forwards, not nginx's own; a client's own
    // X-Forwarded-For is replaced by nginx and never believed.
    let r = login(&citizen_a, &base, "admin", "salah").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let forged = citizen_a
        .get(format!("{base}/login"))
        .header("x-forwarded-for", "203.0.113.7")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = hidden(&forged, "csrf_token").unwrap();
    let r = citizen_a
        .post(format!("{base}/login"))
        .header("x-forwarded-for", "203.0.113.7, 127.0.0.1")
        .form(&[
            ("username", "admin"),
            ("password", "salah lagi"),
            ("csrf_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        failed_login_clients(&app).await,
        ["127.0.0.2", "127.0.0.2"],
        "the citizen's address, twice; not nginx's, not the forged one"
    );

    // The status page limit counts per citizen address: forging the header does not buy a
    // fresh allowance, and another citizen behind the same proxy is not held up.
    let status = |c: &Client, forged: Option<&'static str>| {
        let mut req = c.get(format!("{base}/api/status/{code}"));
        if let Some(addr) = forged {
            req = req.header("x-forwarded-for", addr);
        }
        async move { req.send().await.unwrap().status() }
    };
    let mut seen = Vec::new();
    for i in 0..PER_MINUTE + 2 {
        let fake = ["198.51.100.1", "198.51.100.2", "198.51.100.3"][i as usize % 3];
        seen.push(status(&citizen_a, Some(fake)).await);
    }
    assert_eq!(
        seen.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "forged addresses share the citizen's limit: {seen:?}"
    );
    let citizen_b = client([127, 0, 0, 4], ports.https, &cert);
    assert_eq!(status(&citizen_b, None).await, StatusCode::OK);

    // Metrics are not on the proxied listener; they are on their own, not proxied.
    let r = citizen_b
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let direct = reqwest::get(format!("http://127.0.0.1:{metrics}/metrics"))
        .await
        .unwrap();
    assert_eq!(direct.status(), StatusCode::OK);
    assert!(direct.text().await.unwrap().contains("loket_"));

    drop(proxy);
    drop(serve);
}
