//! The officers' desk over real HTTP (`loket::desk` served on loopback) with the real
//! Dovecot, SMTP sink and worker: who may see and do what, CSRF, sessions, the public status
//! page, the mail the desk's actions cause, downloads and the mail room.

mod app;
mod support;

use std::time::Duration;

use app::{fixture_from, unique_address, Db, TestApp};
use loket::desk::secrets::hash_password;
use loket::domain::Role;
use loket::filing::users::NewUser;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

/// A desk served in this process on a free loopback port, over a TestApp's database.
struct World {
    app: TestApp,
    base: String,
    stop: tokio::sync::oneshot::Sender<()>,
}

const PASSWORD: &str = "rahasia-desk-1";

impl World {
    async fn start(db: Db) -> Option<World> {
        Self::start_with(db, |_| {}).await
    }

    async fn start_with(db: Db, edit: impl FnOnce(&mut toml::Table)) -> Option<World> {
        let port = support::free_port();
        let app = TestApp::spawn_with(db, |t| {
            let web: toml::Table = toml::from_str(&format!(
                "listen = \"127.0.0.1:{port}\"\nbase_url = \"http://127.0.0.1:{port}\"\nsecure_cookies = false\n\
                 status_requests_per_minute = 1000\nmax_upload_bytes = 6000000"
            ))
            .unwrap();
            t.insert("web".into(), toml::Value::Table(web));
            edit(t);
        })
        .await?;
        let state =
            std::sync::Arc::new(loket::desk::desk(app.config()).await.expect("desk starts"));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(loket::desk::serve_on(listener, state, async {
            let _ = stopped.await;
        }));
        let store = app.store().await;
        for (name, role, dept) in [
            ("admin", Role::Admin, None),
            ("kabid", Role::Head, Some("pupr")),
            ("petugas", Role::Officer, Some("pupr")),
            ("dokter", Role::Officer, Some("kesehatan")),
            ("triase", Role::Triage, None),
            ("surat", Role::Mailroom, None),
        ] {
            store
                .add_user(&NewUser {
                    username: name,
                    name: Some(name),
                    email: None,
                    role,
                    department: dept,
                    password_hash: &hash_password(PASSWORD).unwrap(),
                })
                .await
                .unwrap()
                .expect("new user");
        }
        store.close().await;
        Some(World {
            base: format!("http://127.0.0.1:{port}"),
            app,
            stop,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The page at `path`, as the client (with its session) sees it.
    async fn page(&self, c: &Client, path: &str) -> String {
        c.get(self.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Log in through the form; gives a client holding the session cookie and the page's CSRF
    /// token.
    async fn login(&self, user: &str) -> (Client, String) {
        let (c, resp) = self.try_login(user, PASSWORD).await;
        assert_eq!(resp.status(), StatusCode::OK, "{user} logs in");
        let page = c
            .get(self.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = meta_csrf(&page).unwrap_or_default();
        (c, csrf)
    }

    async fn try_login(&self, user: &str, password: &str) -> (Client, reqwest::Response) {
        let c = Client::builder().cookie_store(true).build().unwrap();
        let form = c
            .get(self.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let token = hidden(&form, "csrf_token").expect("login form has a csrf_token");
        let resp = c
            .post(self.url("/login"))
            .form(&[
                ("username", user),
                ("password", password),
                ("csrf_token", &token),
            ])
            .send()
            .await
            .unwrap();
        (c, resp)
    }

    async fn token(&self, user: &str) -> String {
        let out = self
            .app
            .command()
            .args(["users", "token", user])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// Deliver the fixtures and let the worker file, sort and acknowledge them; gives the
    /// tracking codes by fixture name.
    async fn file(&self, mails: &[(&str, Vec<u8>)]) -> Vec<String> {
        let raws: Vec<Vec<u8>> = mails.iter().map(|(_, m)| m.clone()).collect();
        self.app.deliver_all(&raws).await;
        self.app.run_once().await;
        let cases = self.app.cases().await;
        mails
            .iter()
            .map(|(subject, _)| {
                cases
                    .iter()
                    .find(|c| c.subject.as_deref().is_some_and(|s| s.contains(subject)))
                    .unwrap_or_else(|| panic!("a case for {subject}"))
                    .tracking_code
                    .clone()
            })
            .collect()
    }

    async fn stop(self) {
        let _ = self.stop.send(());
    }
}

fn hidden(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &html[at + name.len() + 15..];
    Some(rest[..rest.find('"')?].to_string())
}

fn meta_csrf(html: &str) -> Option<String> {
    let prefix = "<meta name=\"csrf-token\" content=\"";
    let rest = &html[html.find(prefix)? + prefix.len()..];
    Some(rest[..rest.find('"')?].to_string())
}

async fn get_status(c: &Client, url: &str, bearer: Option<&str>) -> StatusCode {
    let mut r = c.get(url);
    if let Some(t) = bearer {
        r = r.bearer_auth(t);
    }
    r.send().await.unwrap().status()
}

async fn post_json(c: &Client, url: &str, bearer: &str, body: Value) -> (StatusCode, Value) {
    let r = c
        .post(url)
        .bearer_auth(bearer)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Two applications in two departments, filed by the real worker.
async fn two_departments(w: &World) -> (String, String, String, String) {
    let budi = unique_address("budi");
    let renee = unique_address("renee");
    let codes = w
        .file(&[
            ("Permohonan PBG", fixture_from("pbg-application.eml", &budi)),
            ("SIP Dokter", fixture_from("sip-dokter.eml", &renee)),
        ])
        .await;
    (codes[0].clone(), codes[1].clone(), budi, renee)
}

async fn role_matrix(db: Db) {
    let Some(w) = World::start(db).await else {
        return;
    };
    let (pbg, sip, _, _) = two_departments(&w).await;
    let c = Client::new();
    let officer = w.token("petugas").await;
    let head = w.token("kabid").await;
    let triage = w.token("triase").await;
    let mailroom = w.token("surat").await;
    let admin = w.token("admin").await;
    let case = |code: &str| w.url(&format!("/api/cases/{code}"));

    // Nobody without a session or token.
    assert_eq!(
        get_status(&c, &w.url("/api/cases"), None).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get_status(&c, &case(&pbg), None).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get_status(&c, &w.url("/"), None).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get_status(&c, &w.url(&format!("/cases/{pbg}")), None).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get_status(&c, &case(&pbg), Some("not-a-token")).await,
        StatusCode::UNAUTHORIZED
    );

    // An officer of PUPR sees PUPR's case, not Kesehatan's, in JSON and HTML.
    assert_eq!(
        get_status(&c, &case(&pbg), Some(&officer)).await,
        StatusCode::OK
    );
    assert_eq!(
        get_status(&c, &case(&sip), Some(&officer)).await,
        StatusCode::FORBIDDEN
    );
    let (oc, _) = w.login("petugas").await;
    assert_eq!(
        get_status(&oc, &w.url(&format!("/cases/{sip}")), None).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get_status(&oc, &w.url(&format!("/cases/{pbg}")), None).await,
        StatusCode::OK
    );
    assert_eq!(
        get_status(&oc, &w.url(&format!("/cases/{sip}/documents/0")), None).await,
        StatusCode::FORBIDDEN
    );
    let list: Vec<Value> = c
        .get(w.url("/api/cases"))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let codes: Vec<&str> = list
        .iter()
        .filter_map(|c| c["tracking_code"].as_str())
        .collect();
    assert!(
        codes.contains(&pbg.as_str()) && !codes.contains(&sip.as_str()),
        "{codes:?}"
    );
    assert!(list.iter().all(|c| c["department"] == "pupr"), "{list:?}");
    assert_eq!(
        get_status(
            &c,
            &w.url("/api/cases?department=kesehatan"),
            Some(&officer)
        )
        .await,
        StatusCode::FORBIDDEN
    );
    // The queue page shows the same.
    let queue = oc
        .get(w.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(queue.contains(&pbg) && !queue.contains(&sip));

    // The mail room has no case contents.
    assert_eq!(
        get_status(&c, &w.url("/api/cases"), Some(&mailroom)).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get_status(&c, &case(&pbg), Some(&mailroom)).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get_status(&c, &w.url("/dashboard"), Some(&mailroom)).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get_status(&c, &w.url("/mailroom"), Some(&mailroom)).await,
        StatusCode::OK
    );
    assert_eq!(
        get_status(&c, &w.url("/mailroom"), Some(&officer)).await,
        StatusCode::FORBIDDEN
    );
    // Triage and admin see everything, the dashboard too; officers don't.
    for t in [&triage, &admin] {
        assert_eq!(get_status(&c, &case(&sip), Some(t)).await, StatusCode::OK);
        assert_eq!(
            get_status(&c, &w.url("/dashboard"), Some(t)).await,
            StatusCode::OK
        );
    }
    assert_eq!(
        get_status(&c, &w.url("/dashboard"), Some(&officer)).await,
        StatusCode::FORBIDDEN
    );

    // Approving is for heads (and admins), not officers or triage.
    let status = |code: &str| w.url(&format!("/api/cases/{code}/status"));
    for t in [&officer, &triage] {
        let (s, _) = post_json(&c, &status(&pbg), t, json!({"status": "approved"})).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = post_json(&c, &status(&pbg), t, json!({"status": "rejected"})).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    let (s, _) = post_json(&c, &status(&pbg), &officer, json!({"status": "failed"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "failed is loket's own");
    let (s, _) = post_json(&c, &status(&pbg), &officer, json!({"status": "nonsense"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, body) = post_json(
        &c,
        &status(&pbg),
        &officer,
        json!({"status": "in_review", "note": "Diperiksa"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "in_review");
    let (s, _) = post_json(&c, &status(&sip), &head, json!({"status": "approved"})).await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "a head approves their own department only"
    );
    let (s, body) = post_json(
        &c,
        &status(&pbg),
        &head,
        json!({"status": "approved", "note": "Lengkap"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let history = body["history"].as_array().unwrap();
    let changed: Vec<&Value> = history
        .iter()
        .filter(|e| e["event"] == "status_changed")
        .collect();
    assert_eq!(changed.len(), 2, "{history:?}");
    assert_eq!(changed[0]["actor"], "petugas");
    assert_eq!(changed[1]["actor"], "kabid");
    assert!(changed[1]["detail"].as_str().unwrap().contains("Lengkap"));

    // Every action is refused to the mail room, allowed to the case's officer.
    for (action, body) in [
        ("notes", json!({"text": "catatan"})),
        ("reply", json!({"text": "jawaban"})),
        ("assign", json!({"user": "petugas"})),
        ("classify", json!({"permit_type": "pbg"})),
        ("request-documents", json!({"requirements": ["ktp"]})),
    ] {
        let url = w.url(&format!("/api/cases/{pbg}/{action}"));
        let (s, _) = post_json(&c, &url, &mailroom, body.clone()).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "mailroom {action}");
        let url_other = w.url(&format!("/api/cases/{sip}/{action}"));
        let (s, _) = post_json(&c, &url_other, &officer, body.clone()).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "other department {action}");
        let (s, b) = post_json(&c, &url, &officer, body).await;
        assert_eq!(s, StatusCode::OK, "officer {action}: {b}");
    }
    let (s, b) = post_json(
        &c,
        &w.url(&format!("/api/cases/{pbg}/assign")),
        &officer,
        json!({"user": "dokter"}),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "assigning to someone who can't see it: {b}"
    );
    let (s, _) = post_json(
        &c,
        &w.url(&format!("/api/cases/{pbg}/notes")),
        &officer,
        json!({"text": "  "}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = post_json(
        &c,
        &w.url("/api/cases/PSR-0000-0000/notes"),
        &officer,
        json!({"text": "x"}),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    w.stop().await;
}

#[tokio::test]
async fn each_role_sees_and_does_only_what_it_may_on_sqlite() {
    role_matrix(Db::Sqlite).await;
}

#[tokio::test]
async fn each_role_sees_and_does_only_what_it_may_on_postgres() {
    role_matrix(Db::Postgres).await;
}

#[tokio::test]
async fn changes_need_the_csrf_token_and_sessions_end_at_logout_and_disable() {
    let Some(w) = World::start(Db::Sqlite).await else {
        return;
    };
    let (pbg, _, _, _) = two_departments(&w).await;
    let (c, csrf) = w.login("petugas").await;
    assert!(!csrf.is_empty(), "desk pages carry <meta name=csrf-token>");
    let notes = w.url(&format!("/api/cases/{pbg}/notes"));
    // Session cookie without the header: refused; with it: done.
    let r = c
        .post(&notes)
        .json(&json!({"text": "a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c
        .post(&notes)
        .header("X-CSRF-Token", "wrong")
        .json(&json!({"text": "a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c
        .post(&notes)
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"text": "a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // HTML forms: the hidden field.
    let form = w.url(&format!("/cases/{pbg}/notes"));
    let r = c.post(&form).form(&[("text", "b")]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c
        .post(&form)
        .form(&[("text", "b"), ("csrf_token", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "redirected back to the case page"
    );
    assert!(r.url().path().starts_with(&format!("/cases/{pbg}")));
    // Logout needs the token too, then the session is gone.
    let r = c
        .post(w.url("/logout"))
        .form(&[("csrf_token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c
        .post(w.url("/logout"))
        .form(&[("csrf_token", &csrf)])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert_eq!(
        get_status(&c, &w.url("/api/cases"), None).await,
        StatusCode::UNAUTHORIZED
    );

    // Disabling an account ends its sessions and tokens at once.
    let (c2, _) = w.login("dokter").await;
    let token = w.token("dokter").await;
    assert_eq!(
        get_status(&c2, &w.url("/api/cases"), None).await,
        StatusCode::OK
    );
    let out = w
        .app
        .command()
        .args(["users", "disable", "dokter"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        get_status(&c2, &w.url("/api/cases"), None).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get_status(&Client::new(), &w.url("/api/cases"), Some(&token)).await,
        StatusCode::UNAUTHORIZED
    );
    let (_, r) = w.try_login("dokter", PASSWORD).await;
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "a disabled account can't log in"
    );

    // A new password ends the sessions too; the old password no longer works.
    let (c3, _) = w.login("triase").await;
    let mut cmd = w.app.command();
    cmd.args(["users", "passwd", "triase"])
        .stdin(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"sandi-baru-123\n")
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(
        get_status(&c3, &w.url("/api/cases"), None).await,
        StatusCode::UNAUTHORIZED
    );
    let (_, r) = w.try_login("triase", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let (_, r) = w.try_login("triase", "sandi-baru-123").await;
    assert_eq!(r.status(), StatusCode::OK);
    w.stop().await;
}

#[tokio::test]
async fn a_login_gets_a_fresh_session_id_and_failures_are_throttled() {
    let Some(w) = World::start(Db::Sqlite).await else {
        return;
    };
    let cookie_of = |r: &reqwest::Response| {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("loket_session="))
            .map(String::from)
    };
    // Login answers with a redirect carrying the cookie: look at it before following.
    let no_redirect = Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut seen = Vec::new();
    for _ in 0..2 {
        let form = no_redirect
            .get(w.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let token = hidden(&form, "csrf_token").unwrap();
        let r = no_redirect
            .post(w.url("/login"))
            .form(&[
                ("username", "admin"),
                ("password", PASSWORD),
                ("csrf_token", &token),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let cookie = cookie_of(&r).expect("session cookie");
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        seen.push(cookie);
    }
    assert_ne!(seen[0], seen[1], "every login is a new session id");
    // Without the login form's CSRF cookie the post is refused.
    let r = Client::new()
        .post(w.url("/login"))
        .form(&[
            ("username", "admin"),
            ("password", PASSWORD),
            ("csrf_token", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Five wrong passwords for one account: the sixth try fails even with the right one.
    for _ in 0..5 {
        let (_, r) = w.try_login("kabid", "salah-sekali").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let (_, r) = w.try_login("kabid", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // The address is throttled too: other accounts from here are refused now.
    let (_, r) = w.try_login("admin", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    w.stop().await;
}

#[tokio::test]
async fn the_public_status_page_shows_the_status_and_nothing_personal() {
    let Some(w) = World::start_with(Db::Sqlite, |t| {
        t["web"]
            .as_table_mut()
            .unwrap()
            .insert("status_requests_per_minute".into(), toml::Value::Integer(6));
    })
    .await
    else {
        return;
    };
    let (pbg, _, budi, _) = two_departments(&w).await;
    let c = Client::new();
    let typed = pbg
        .to_lowercase()
        .replace('-', "")
        .replace(&w.app.config().office.code.to_lowercase(), "psr");
    let r = c
        .get(w.url(&format!("/api/status/{typed}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let s: Value = r.json().await.unwrap();
    let keys: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
    let mut keys_sorted = keys.clone();
    keys_sorted.sort();
    assert_eq!(
        keys_sorted,
        [
            "due_date",
            "kind",
            "missing",
            "next_step",
            "permit_type_name",
            "received_at",
            "status",
            "status_label",
            "tracking_code",
            "updated_at"
        ]
    );
    assert_eq!(s["tracking_code"], pbg.as_str());
    let all = s.to_string();
    assert!(
        !all.contains("Budi") && !all.contains(&budi) && !all.contains("3514061208850003"),
        "{all}"
    );
    // The page, through the form (any spelling).
    let r = c
        .get(w.url(&format!("/status?code={typed}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.url().path(), format!("/status/{pbg}"));
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Dalam antrean") || html.contains("Diterima"),
        "{html}"
    );
    assert!(!html.contains("Budi Santoso") && !html.contains(&budi));
    assert_eq!(
        c.get(w.url("/status/PSR-AAAA-AAAA"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    // Six requests a minute per address, then 429.
    let mut last = StatusCode::OK;
    for _ in 0..6 {
        last = c
            .get(w.url(&format!("/api/status/{pbg}")))
            .send()
            .await
            .unwrap()
            .status();
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    w.stop().await;
}

#[tokio::test]
async fn an_officers_actions_reach_the_applicant_by_email_in_the_thread() {
    let Some(w) = World::start(Db::Sqlite).await else {
        return;
    };
    let (pbg, _, budi, _) = two_departments(&w).await;
    let officer = w.token("petugas").await;
    let c = Client::new();
    let url = |a: &str| w.url(&format!("/api/cases/{pbg}/{a}"));
    let (s, body) = post_json(
        &c,
        &url("request-documents"),
        &officer,
        json!({"requirements": ["sertifikat_tanah"], "note": "Mohon <legalisir> terbaru"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "needs_correction");
    let (s, _) = post_json(
        &c,
        &url("notes"),
        &officer,
        json!({"text": "RAHASIA-INTERNAL"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = post_json(
        &c,
        &url("reply"),
        &officer,
        json!({"text": "Jawaban petugas: datang hari Senin."}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    // `serve` only queues; the worker sends.
    let before = support::smtp().messages().len();
    w.app.run_once().await;
    // Each mail as its headers plus its decoded text body.
    let mails: Vec<String> = support::smtp()
        .messages()
        .into_iter()
        .filter(|m| String::from_utf8_lossy(m).contains(&budi))
        .map(|m| {
            let raw = String::from_utf8_lossy(&m).into_owned();
            let parsed = mail_parser::MessageParser::default()
                .parse(&m)
                .expect("mail parses");
            let body = parsed.body_text(0).unwrap_or_default().into_owned();
            let end = raw
                .find("\r\n\r\n")
                .or_else(|| raw.find("\n\n"))
                .unwrap_or(raw.len());
            let head = &raw[..end];
            format!("{head}\r\n\r\n{body}")
        })
        .collect();
    assert!(support::smtp().messages().len() > before);
    let request = mails
        .iter()
        .find(|m| m.contains("Mohon lengkapi berkas"))
        .expect("request mail");
    assert!(
        request.contains("sertifikat tanah"),
        "names the document: {request}"
    );
    let reply = mails
        .iter()
        .find(|m| m.contains("datang hari Senin"))
        .expect("reply mail");
    for m in [request, reply] {
        let subject = app::header(m, "Subject").unwrap_or_default();
        assert!(subject.contains(&pbg), "{subject}");
        let irt = app::header(m, "In-Reply-To").unwrap_or_default();
        assert!(
            irt.contains(".pbg.budi@example.com"),
            "threads to the applicant's message: {irt}"
        );
    }
    assert!(
        request.contains("Mohon <legalisir> terbaru"),
        "the note verbatim: {request}"
    );
    assert!(
        mails.iter().all(|m| !m.contains("RAHASIA-INTERNAL")),
        "internal notes stay internal"
    );
    // Sending again sends nothing more (the sink is shared: count this applicant's mail).
    let to_budi = || {
        support::smtp()
            .messages()
            .iter()
            .filter(|m| String::from_utf8_lossy(m).contains(&budi))
            .count()
    };
    let n = to_budi();
    w.app.run_once().await;
    assert_eq!(to_budi(), n);
    w.stop().await;
}

#[tokio::test]
async fn a_correction_moves_the_case_and_its_checklist_and_is_kept_as_an_example() {
    let Some(w) = World::start(Db::Sqlite).await else {
        return;
    };
    let (pbg, _, _, _) = two_departments(&w).await;
    let triage = w.token("triase").await;
    let doctor = w.token("dokter").await;
    let c = Client::new();
    let before: Value = c
        .get(w.url(&format!("/api/cases/{pbg}")))
        .bearer_auth(&triage)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(before["department"], "pupr");
    let (s, after) = post_json(
        &c,
        &w.url(&format!("/api/cases/{pbg}/classify")),
        &triage,
        json!({"permit_type": "sip-dokter"}),
    )
    .await;
    let (s, after) = if s == StatusCode::UNPROCESSABLE_ENTITY {
        // The rules' id for the doctors' licence.
        let id = loket::classify::Catalogue::load_dir(&app::repo().join("rules"))
            .unwrap()
            .permit_types()
            .find(|(_, _, d)| *d == "kesehatan")
            .map(|(id, _, _)| id.to_string())
            .unwrap();
        post_json(
            &c,
            &w.url(&format!("/api/cases/{pbg}/classify")),
            &triage,
            json!({"permit_type": id}),
        )
        .await
    } else {
        (s, after)
    };
    assert_eq!(s, StatusCode::OK, "{after}");
    assert_eq!(after["department"], "kesehatan");
    assert_ne!(
        after["requirements"], before["requirements"],
        "the checklist follows"
    );
    // It left PUPR's queue and is in Kesehatan's.
    assert_eq!(
        get_status(&c, &w.url(&format!("/api/cases/{pbg}")), Some(&doctor)).await,
        StatusCode::OK
    );
    let officer = w.token("petugas").await;
    assert_eq!(
        get_status(&c, &w.url(&format!("/api/cases/{pbg}")), Some(&officer)).await,
        StatusCode::FORBIDDEN
    );
    // A later re-sort (the worker) keeps the correction.
    w.app.run_once().await;
    assert_eq!(
        w.app.show(&pbg).await.department.as_deref(),
        Some("kesehatan")
    );
    let examples = w.app.store().await.sorting_examples().await.unwrap();
    assert!(
        examples
            .iter()
            .any(|e| e.tracking_code == pbg && e.field == "permit_type" && e.actor == "triase"),
        "{examples:?}"
    );
    // Exported as labelled cases for the rules' tuning sets, identifiers masked.
    let out = w.app.dir.path().join("corrections.toml");
    let run = w
        .app
        .command()
        .args(["rules", "corrections", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let file: toml::Table = toml::from_str(&text).unwrap();
    let case = &file["case"].as_array().unwrap()[0];
    assert_eq!(case["permit_type"].as_str(), after["permit_type"].as_str());
    assert_eq!(case["kind"].as_str(), Some("application"));
    assert!(!case["document"].as_array().unwrap().is_empty());
    assert!(
        !text.contains("3514061208850003") && text.contains("351406"),
        "NIK masked"
    );
    w.stop().await;
}

#[tokio::test]
async fn documents_download_as_attachments_and_every_read_is_audited() {
    let Some(w) = World::start(Db::Sqlite).await else {
        return;
    };
    let (pbg, _, _, _) = two_departments(&w).await;
    let (oc, _) = w.login("petugas").await;
    let r = oc
        .get(w.url(&format!("/cases/{pbg}/documents/0")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers();
    assert!(h["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["content-type"], "application/octet-stream");
    // Page previews are PNGs loket renders itself.
    let r = oc
        .get(w.url(&format!("/cases/{pbg}/documents/0/pages/0")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    let png = r.bytes().await.unwrap();
    assert!(image::load_from_memory(&png).unwrap().width() > 100);
    let missing_page = w.url(&format!("/cases/{pbg}/documents/0/pages/99"));
    assert_eq!(
        oc.get(missing_page).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let missing_doc = w.url(&format!("/cases/{pbg}/documents/9"));
    assert_eq!(
        oc.get(missing_doc).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    // Who am I, for scripts.
    let me: Value = Client::new()
        .get(w.url("/api/me"))
        .bearer_auth(w.token("petugas").await)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "officer");
    assert_eq!(me["department"], "pupr");
    let page = oc
        .get(w.url(&format!("/cases/{pbg}")))
        .send()
        .await
        .unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let html = page.text().await.unwrap();
    // The officer sees the NIK masked; triage sees it whole.
    assert!(
        !html.contains("3514061208850003"),
        "NIK masked for officers"
    );
    assert!(html.contains("351406********03"));
    let (tc, _) = w.login("triase").await;
    let html = tc
        .get(w.url(&format!("/cases/{pbg}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("3514061208850003"));
    // The admin sees who read and downloaded what.
    let (ac, _) = w.login("admin").await;
    let html = ac
        .get(w.url(&format!("/cases/{pbg}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let audit = &html[html.find("audit UU PDP").expect("audit section for admin")..];
    assert!(audit.contains("petugas · download"), "{audit}");
    assert!(audit.contains("petugas · view:page") && audit.contains("triase · view:page"));
    let (oc2, _) = w.login("petugas").await;
    let html = oc2
        .get(w.url(&format!("/cases/{pbg}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !html.contains("audit UU PDP"),
        "officers don't see the audit"
    );
    w.stop().await;
}

#[tokio::test]
async fn hostile_subjects_and_filenames_are_shown_as_text() {
    let Some(w) = World::start(Db::Sqlite).await else {
        return;
    };
    let from = unique_address("jahil");
    let mail = app::mail_with(
        &from,
        "<script>alert(1)</script> izin bangunan",
        "Permohonan PBG rumah, terlampir berkas.",
        &[app::Part {
            filename: "<img src=x onerror=alert(1)>.pdf",
            content_type: "application/pdf",
            data: b"%PDF-1.4 not really",
        }],
    );
    w.app.deliver(&mail).await;
    w.app.run_once().await;
    let code = w.app.cases().await[0].tracking_code.clone();
    let (ac, _) = w.login("admin").await;
    for path in [
        "/".to_string(),
        format!("/cases/{code}"),
        "/?q=rumah".to_string(),
        "/dashboard".to_string(),
    ] {
        let html = ac
            .get(w.url(&path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!html.contains("<script>alert"), "{path}");
        assert!(!html.contains("<img src=x"), "{path}");
        if path != "/dashboard" {
            assert!(
                html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
                "{path}"
            );
        }
    }
    w.stop().await;
}

#[tokio::test]
async fn the_mail_room_uploads_real_scans_beyond_two_megabytes() {
    let Some(w) = World::start(Db::Sqlite).await else {
        return;
    };
    let (mc, csrf) = w.login("surat").await;
    // The mail room's landing page is its own.
    assert!(mc
        .get(w.url("/"))
        .send()
        .await
        .unwrap()
        .url()
        .path()
        .starts_with("/mailroom"));
    let csrf = if csrf.is_empty() {
        let page = mc
            .get(w.url("/mailroom"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        meta_csrf(&page).unwrap()
    } else {
        csrf
    };
    let mut pdf =
        std::fs::read(app::repo().join("fixtures/postal/formulir-reklame-siti.pdf")).unwrap();
    // Padding after %%EOF keeps it a valid PDF and makes it a 3 MB scan.
    pdf.extend(std::iter::repeat_n(b'\n', 3_000_000));
    let form = |csrf: &str| {
        reqwest::multipart::Form::new()
            .text("csrf_token", csrf.to_string())
            .text("name", "Siti Aminah")
            .part(
                "files",
                reqwest::multipart::Part::bytes(pdf.clone()).file_name("../../etc/formulir.pdf"),
            )
    };
    let r = mc
        .post(w.url("/mailroom/upload"))
        .multipart(form("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = mc
        .post(w.url("/mailroom/upload"))
        .multipart(form(&csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("formulir.pdf: 1 berkas diterima"), "{html}");
    w.app.run_once().await;
    let cases = w.app.cases().await;
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].channel, "postal");
    assert_eq!(cases[0].applicant.name.as_deref(), Some("Siti Aminah"));
    assert_eq!(cases[0].documents[0].filename, "formulir.pdf");
    // Beyond web.max_upload_bytes: 413.
    let big = reqwest::multipart::Form::new()
        .text("csrf_token", csrf.clone())
        .part(
            "files",
            reqwest::multipart::Part::bytes(vec![b'x'; 8_000_000]).file_name("besar.pdf"),
        );
    let r = mc
        .post(w.url("/mailroom/upload"))
        .multipart(big)
        .send()
        .await;
    if let Ok(r) = r {
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
    w.stop().await;
}

/// The mail room scans a form the applicant filled in by hand, and a typed one: the officer
/// who opens the handwritten case is told that page 1 is handwriting and its OCR text is not to
/// be trusted (read the image); the typed scan's page carries no such warning.
#[tokio::test]
async fn an_officer_is_warned_that_a_handwritten_page_must_be_read_from_its_image() {
    let Some(w) = World::start(Db::Sqlite).await else {
        return;
    };
    let (mc, _) = w.login("surat").await;
    let csrf = meta_csrf(&w.page(&mc, "/mailroom").await).expect("the mail room has a CSRF token");
    for (name, file) in [
        ("Sri Wahyuni", "fixtures/handwriting/formulir_tangan.pdf"),
        ("Agus Salim", "fixtures/scans/form_dct.pdf"),
    ] {
        let pdf = std::fs::read(app::repo().join(file)).unwrap();
        let form = reqwest::multipart::Form::new()
            .text("csrf_token", csrf.clone())
            .text("name", name)
            .part(
                "files",
                reqwest::multipart::Part::bytes(pdf).file_name("formulir.pdf"),
            );
        let r = mc
            .post(w.url("/mailroom/upload"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{file}");
    }
    w.app.run_once().await;
    let cases = w.app.cases().await;
    let code_of = |name: &str| {
        cases
            .iter()
            .find(|c| c.applicant.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("a case for {name}: {cases:#?}"))
            .tracking_code
            .clone()
    };
    let (handwritten, typed) = (code_of("Sri Wahyuni"), code_of("Agus Salim"));
    let (oc, _) = w.login("triase").await;
    let html = |code: String| {
        let oc = &oc;
        let url = w.url(&format!("/cases/{code}"));
        async move {
            let r = oc.get(url).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.text().await.unwrap()
        }
    };
    let page = html(handwritten).await;
    assert!(
        page.contains("class=\"error handwritten\">Halaman 1 tulisan tangan")
            && page.contains("bacalah gambarnya"),
        "{page}"
    );
    let page = html(typed).await;
    assert!(
        page.contains("Halaman 1"),
        "the typed scan's page is shown: {page}"
    );
    assert!(!page.contains("tulisan tangan"), "{page}");
    w.stop().await;
}

#[tokio::test]
async fn health_and_readiness() {
    let Some(w) = World::start(Db::Sqlite).await else {
        return;
    };
    let c = Client::new();
    assert_eq!(
        get_status(&c, &w.url("/healthz"), None).await,
        StatusCode::OK
    );
    assert_eq!(
        get_status(&c, &w.url("/readyz"), None).await,
        StatusCode::OK
    );
    assert_eq!(
        get_status(&c, &w.url("/nowhere"), None).await,
        StatusCode::NOT_FOUND
    );
    tokio::time::sleep(Duration::from_millis(10)).await;
    w.stop().await;
}

#[test]
fn users_are_managed_from_the_command_line() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(app) = rt.block_on(TestApp::spawn(Db::Sqlite)) else {
        return;
    };
    let run = |args: &[&str], stdin: &str| {
        let mut cmd = app.command();
        cmd.args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let ok = run(
        &[
            "users",
            "add",
            "siti",
            "--role",
            "officer",
            "--department",
            "pupr",
            "--name",
            "Siti",
        ],
        "sandi-rahasia\n",
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(
        run(
            &["users", "add", "siti", "--role", "admin"],
            "sandi-rahasia\n"
        )
        .status
        .code(),
        Some(1),
        "taken"
    );
    assert_eq!(
        run(&["users", "add", "x", "--role", "king"], "sandi-rahasia\n")
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        run(
            &["users", "add", "x", "--role", "officer"],
            "sandi-rahasia\n"
        )
        .status
        .code(),
        Some(2),
        "needs a department"
    );
    assert_eq!(
        run(
            &[
                "users",
                "add",
                "x",
                "--role",
                "officer",
                "--department",
                "nowhere"
            ],
            "sandi-rahasia\n"
        )
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        run(&["users", "add", "x", "--role", "admin"], "pendek\n")
            .status
            .code(),
        Some(2),
        "short password"
    );
    let list = run(&["users", "list", "--json"], "");
    let users: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(users[0]["username"], "siti");
    assert_eq!(users[0]["role"], "officer");
    assert_eq!(users[0]["department"], "pupr");
    assert_eq!(users[0]["disabled"], false);
    assert!(
        !String::from_utf8_lossy(&list.stdout).contains("argon2"),
        "no hashes listed"
    );
    let token = run(&["users", "token", "siti"], "");
    assert!(token.status.success());
    assert!(String::from_utf8_lossy(&token.stdout).trim().len() >= 40);
    // A password can come from a file too (first line).
    let pw = app.dir.path().join("pw");
    std::fs::write(&pw, "sandi-dari-berkas\nabaikan\n").unwrap();
    let pw = pw.display().to_string();
    assert!(
        run(&["users", "passwd", "siti", "--password-file", &pw], "")
            .status
            .success()
    );
    assert!(run(
        &[
            "users",
            "add",
            "ani",
            "--role",
            "mailroom",
            "--password-file",
            &pw
        ],
        ""
    )
    .status
    .success());
    assert!(run(&["users", "disable", "siti"], "").status.success());
    let users: Value =
        serde_json::from_slice(&run(&["users", "list", "--json"], "").stdout).unwrap();
    let siti = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "siti")
        .unwrap();
    assert_eq!(siti["disabled"], true);
    assert_eq!(
        run(&["users", "disable", "nobody"], "").status.code(),
        Some(1)
    );
}

#[tokio::test]
async fn canned_replies_hand_marks_deadlines_triage_and_merges() {
    let Some(w) = World::start(Db::Sqlite).await else {
        return;
    };
    let (pbg, _, budi, _) = two_departments(&w).await;
    let (oc, _) = w.login("petugas").await;
    // A canned reply comes filled in with the case's code and what is missing.
    let html = oc
        .get(w.url(&format!("/cases/{pbg}?reply=berkas-kurang")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let textarea = &html[html.find("name=\"text\" rows=\"6\"").expect("reply box")..];
    let textarea = &textarea[..textarea.find("</textarea>").unwrap()];
    assert!(textarea.contains(&pbg), "{textarea}");
    assert!(textarea.contains("sertifikat tanah"), "{textarea}");

    // Marking every missing requirement by hand completes the file: the deadline appears.
    let officer = w.token("petugas").await;
    let c = Client::new();
    let case: Value = c
        .get(w.url(&format!("/api/cases/{pbg}")))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        case["due_date"].is_null(),
        "no deadline while documents are missing"
    );
    let missing: Vec<String> = case["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect();
    assert!(!missing.is_empty());
    let mut last = Value::Null;
    for m in &missing {
        let (s, b) = post_json(
            &c,
            &w.url(&format!("/api/cases/{pbg}/requirement")),
            &officer,
            json!({"requirement": m, "satisfied": true}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        last = b;
    }
    assert_eq!(last["missing"], json!([]));
    let due = last["due_date"]
        .as_str()
        .expect("a deadline once complete")
        .to_string();
    assert!(
        *due > loket::filing::rfc3339(loket::filing::now_ms())[..10],
        "{due}"
    );
    // Asking for a document again pauses the clock; the deadline doesn't move earlier.
    let (s, b) = post_json(
        &c,
        &w.url(&format!("/api/cases/{pbg}/request-documents")),
        &officer,
        json!({"requirements": [missing[0]]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(b["due_date"].as_str().unwrap() >= due.as_str());

    // Triage lands on unsorted cases; a plain question with no permit words goes there.
    let from = unique_address("tanya");
    w.app
        .deliver(&app::text_mail(
            &from,
            "Halo",
            "Selamat siang, saya mau bertanya.",
            "",
        ))
        .await;
    w.app.run_once().await;
    let unsorted = w
        .app
        .cases()
        .await
        .into_iter()
        .find(|c| c.applicant.email.as_deref() == Some(from.as_str()))
        .unwrap();
    let (tc, _) = w.login("triase").await;
    let queue = tc
        .get(w.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    if unsorted.department.is_none() {
        assert!(
            queue.contains(&unsorted.tracking_code),
            "triage sees the unsorted case"
        );
    }
    assert!(
        !queue.contains(&pbg),
        "sorted cases are not on the triage queue"
    );

    // The same applicant wrote twice (other files, no code: a case of its own): the second
    // case merges into the first.
    w.app
        .deliver(&app::mail_with(
            &budi,
            "Permohonan PBG rumah tinggal",
            "Dengan hormat, saya mengajukan PBG rumah tinggal. Terlampir denah.",
            &[app::Part {
                filename: "denah.docx",
                content_type:
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                data: &app::docx(&["DENAH RUMAH TINGGAL"]),
            }],
        ))
        .await;
    w.app.run_once().await;
    let dup = w
        .app
        .cases()
        .await
        .into_iter()
        .find(|c| c.tracking_code != pbg && c.applicant.email.as_deref() == Some(budi.as_str()))
        .expect("a second case");
    let docs_before = w.app.show(&pbg).await.documents.len();
    let (s, b) = post_json(
        &c,
        &w.url(&format!("/api/cases/{}/merge", dup.tracking_code)),
        &officer,
        json!({"into": pbg.to_lowercase()}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["tracking_code"], pbg.as_str());
    assert_eq!(
        w.app.show(&pbg).await.documents.len(),
        docs_before + dup.documents.len()
    );
    let merged = w.app.show(&dup.tracking_code).await;
    assert_eq!(merged.status, "closed");
    assert!(merged
        .history
        .unwrap()
        .iter()
        .any(|e| e.event == "merged" && e.detail.contains(&pbg)));
    w.stop().await;
}

#[tokio::test]
async fn a_postal_applicant_is_told_by_letter_printed_from_the_mail_room() {
    let Some(w) = World::start(Db::Sqlite).await else {
        return;
    };
    let out = w
        .app
        .command()
        .args([
            "import",
            "--name",
            "Slamet Riyadi",
            "--address",
            "Jl. Raya 1, Pasuruan",
        ])
        .arg(app::repo().join("fixtures/postal/formulir-pbg-tanpa-email.pdf"))
        .env("OMP_THREAD_LIMIT", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let code = String::from_utf8_lossy(&out.stdout)
        .split('\t')
        .next()
        .unwrap()
        .to_string();
    let admin = w.token("admin").await;
    let c = Client::new();
    let (s, b) = post_json(
        &c,
        &w.url(&format!("/api/cases/{code}/status")),
        &admin,
        json!({"status": "in_review", "note": "Survei lokasi hari Kamis"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let history = b["history"].as_array().unwrap();
    assert!(
        history.iter().any(|e| e["event"] == "applicant_notified"
            && e["detail"].as_str().unwrap().contains("letter")),
        "{history:?}"
    );
    // The mail room prints the receipt and the status notice in one PDF.
    let (mc, csrf) = w.login("surat").await;
    let page = w.page(&mc, "/mailroom").await;
    let csrf = if csrf.is_empty() {
        meta_csrf(&page).unwrap()
    } else {
        csrf
    };
    assert!(page.contains(&code));
    let r = mc
        .post(w.url("/mailroom/letters"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let pdf = r.bytes().await.unwrap();
    let doc = lopdf::Document::load_mem(&pdf).expect("a PDF");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).unwrap_or_default();
    assert!(
        text.contains("Survei lokasi hari Kamis"),
        "the note verbatim: {text}"
    );
    // Printed once: nothing is left to print.
    let r = mc
        .post(w.url("/mailroom/letters"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("Tidak ada surat"));
    w.stop().await;
}

#[tokio::test]
async fn rules_explain_shows_identifiers_masked() {
    let Some(app) = TestApp::spawn(Db::Sqlite).await else {
        return;
    };
    let out = app
        .command()
        .args(["rules", "explain"])
        .arg(app::repo().join("fixtures/mail/pbg-application.eml"))
        .env("OMP_THREAD_LIMIT", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let all = format!("{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("identifier: nik 351406********03"), "{text}");
    assert!(
        !all.contains("3514061208850003"),
        "the whole NIK never shows: {all}"
    );
}

#[tokio::test]
async fn the_dashboard_shows_figures_and_retries_parked_steps_for_admins_only() {
    let Some(w) = World::start(Db::Sqlite).await else {
        return;
    };
    two_departments(&w).await;
    let (ac, csrf) = w.login("admin").await;
    let html = ac
        .get(w.url("/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("<svg") && html.contains("Berkas masuk per hari"),
        "charts"
    );
    let retry = w.url("/dashboard/parked/999999/retry");
    let r = ac
        .post(&retry)
        .form(&[("csrf_token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "CSRF");
    let r = ac
        .post(&retry)
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "no such parked step");
    let (oc, ocsrf) = w.login("petugas").await;
    let r = oc
        .post(&retry)
        .form(&[("csrf_token", ocsrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    w.stop().await;
}

#[tokio::test]
async fn an_applicants_answer_to_an_officer_joins_the_case_and_a_bounced_address_gets_letters() {
    let Some(w) = World::start(Db::Sqlite).await else {
        return;
    };
    let (pbg, _, budi, _) = two_departments(&w).await;
    let officer = w.token("petugas").await;
    let c = Client::new();
    let (s, body) = post_json(
        &c,
        &w.url(&format!("/api/cases/{pbg}/reply")),
        &officer,
        json!({"text": "Silakan datang hari Senin membawa berkas asli."}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    w.app.run_once().await;
    let reply = app::acks_to(&budi, 2)
        .await
        .into_iter()
        .find(|m| m.contains("datang hari Senin"))
        .expect("the officer's reply reached the applicant");
    let reply_id = app::header(&reply, "Message-ID").unwrap();

    // Budi answers from his phone: no code in the subject, only the thread headers.
    let answer = String::from_utf8(app::text_mail(
        &budi,
        "Re: jawaban",
        "Baik Pak, saya datang Senin jam 9.\n\nDikirim dari iPhone saya",
        &format!("In-Reply-To: {reply_id}\r\nReferences: {reply_id}\r\n"),
    ))
    .unwrap();
    w.app.deliver(answer.as_bytes()).await;
    w.app.run_once().await;
    assert_eq!(w.app.cases().await.len(), 2, "no new case");
    let (pc, _) = w.login("petugas").await;
    let queue = pc
        .get(w.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let row = queue
        .split("<li class=\"row")
        .find(|r| r.contains(&pbg))
        .expect("the case is on the queue");
    assert!(row.contains("Ada kabar baru"), "the case has news: {row}");
    let page = pc
        .get(w.url(&format!("/cases/{pbg}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("saya datang Senin jam 9"),
        "the answer is in the thread"
    );
    let queue = pc
        .get(w.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let row = queue
        .split("<li class=\"row")
        .find(|r| r.contains(&pbg))
        .unwrap();
    assert!(!row.contains("Ada kabar baru"), "seen once opened: {row}");

    // A postal applicant whose email bounces is told by letter from then on.
    let rina = unique_address("rina");
    let form = app::repo().join("fixtures/postal/formulir-pbg-tanpa-email.pdf");
    let import = w
        .app
        .command()
        .arg("import")
        .arg(&form)
        .args([
            "--name",
            "Rina",
            "--address",
            "Jl. Anggrek 7, Bangil",
            "--email",
            &rina,
        ])
        .output()
        .unwrap();
    assert!(import.status.success());
    let code = String::from_utf8_lossy(&import.stdout)
        .split('\t')
        .next()
        .unwrap()
        .to_string();
    w.app.run_once().await;
    let ack = app::acks_to(&rina, 1).await.remove(0);
    let id = app::header(&ack, "Message-ID").unwrap();
    w.app
        .deliver(&app::bounce_of("office365.eml", &rina, &id))
        .await;
    w.app.run_once().await;
    assert!(w.app.show(&code).await.applicant.email_undeliverable);
    let admin = w.token("admin").await;
    let (s, body) = post_json(
        &c,
        &w.url(&format!("/api/cases/{code}/status")),
        &admin,
        json!({"status": "needs_correction", "note": "Mohon kirim denah."}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let history = w.app.show(&code).await.history.unwrap();
    assert!(
        history
            .iter()
            .any(|e| e.event == "applicant_notified" && e.detail.ends_with("by letter")),
        "{history:?}"
    );
    w.app.run_once().await;
    assert_eq!(
        app::acks_to(&rina, 1).await.len(),
        1,
        "no more mail to the bounced address"
    );
    w.stop().await;
}
