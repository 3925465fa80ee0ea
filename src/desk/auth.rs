//! Who is asking: sessions (cookie) for people, bearer tokens for scripts; CSRF for every
//! change made with a cookie; login with throttling; logout.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use minijinja::context;
use serde::Deserialize;

use super::error::{ApiError, DeskError, PageError};
use super::secrets;
use super::state::AppState;
use crate::filing::now_ms;
use crate::filing::users::{NewSession, User};

/// The session cookie (HttpOnly, SameSite=Lax: links from a department notice still open the
/// case page logged in, while other sites' forms don't carry it).
pub const SESSION_COOKIE: &str = "loket_session";
/// The login form's double-submit CSRF cookie (before there is a session).
pub const LOGIN_CSRF_COOKIE: &str = "loket_login_csrf";

/// Failed logins allowed per account or client address in the window.
pub const MAX_FAILURES: i64 = 5;
pub const FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;

/// How the caller proved who they are.
#[derive(Debug, Clone)]
pub enum Via {
    /// A browser session; its forms and JSON calls must carry this CSRF token.
    Session { id_hash: String, csrf: String },
    /// `Authorization: Bearer`: scripts; no CSRF (a browser never sends it on its own).
    Token,
}

/// An authenticated request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub via: Via,
    /// The client's address (behind trusted proxies: the citizen's, not the proxy's).
    pub client: String,
}

impl Caller {
    /// The CSRF token to put in this page's forms (empty for token callers).
    pub fn csrf(&self) -> &str {
        match &self.via {
            Via::Session { csrf, .. } => csrf,
            Via::Token => "",
        }
    }

    /// Check a change request's CSRF token (a form field or the X-CSRF-Token header).
    pub fn check_csrf(&self, given: Option<&str>) -> Result<(), DeskError> {
        match &self.via {
            Via::Token => Ok(()),
            Via::Session { csrf, .. } => match given {
                Some(g) if secrets::same_secret(g, csrf) => Ok(()),
                _ => Err(DeskError::Csrf),
            },
        }
    }

    pub fn username(&self) -> &str {
        &self.user.username
    }
}

/// The client's address of a request.
pub fn client_of(parts: &Parts, state: &AppState) -> String {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
    let xff = parts
        .headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    super::client::client_addr(peer, xff, &state.trusted).to_string()
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

async fn authenticate(parts: &Parts, state: &AppState) -> Result<Caller, DeskError> {
    let client = client_of(parts, state);
    if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
        let token = auth
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(DeskError::Unauthorized)?;
        let user = state
            .store
            .user_by_token(&secrets::hash_secret(token.trim()))
            .await?
            .ok_or(DeskError::Unauthorized)?;
        return Ok(Caller {
            user,
            via: Via::Token,
            client,
        });
    }
    let id = cookie(&parts.headers, SESSION_COOKIE).ok_or(DeskError::Unauthorized)?;
    let id_hash = secrets::hash_secret(id);
    let session = state
        .store
        .session(&id_hash, state.idle_ms())
        .await?
        .ok_or(DeskError::Unauthorized)?;
    Ok(Caller {
        user: session.user,
        via: Via::Session {
            id_hash,
            csrf: session.csrf_token,
        },
        client,
    })
}

/// A caller of the JSON API: failures answer as JSON.
pub struct ApiCaller(pub Caller);

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(ApiCaller(authenticate(parts, state).await?))
    }
}

/// A caller of a page: without a session, the login page (status 401).
pub struct PageCaller(pub Caller);

impl FromRequestParts<AppState> for PageCaller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match authenticate(parts, state).await {
            Ok(c) => Ok(PageCaller(c)),
            Err(DeskError::Unauthorized) => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_else(|| "/".into());
                Err(login_page(state, StatusCode::UNAUTHORIZED, None, &next))
            }
            Err(e) => Err(PageError(e).into_response()),
        }
    }
}

/// The client address of any request (public pages).
pub struct Client(pub String);

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, std::convert::Infallible> {
        Ok(Client(client_of(parts, state)))
    }
}

fn cookie_header(state: &AppState, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if state.cfg.web.secure_cookies {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Only local paths are followed after login (no open redirect).
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/"
    }
}

fn login_page(state: &AppState, status: StatusCode, error: Option<&str>, next: &str) -> Response {
    let csrf = secrets::new_secret();
    let html = super::render::page(
        "login.html",
        context! {
            office_name => &state.cfg.office.name,
            csrf => &csrf,
            error => error,
            next => safe_next(next),
        },
    );
    match html {
        Ok(html) => {
            let mut r = (status, html).into_response();
            r.headers_mut().append(
                header::SET_COOKIE,
                cookie_header(state, LOGIN_CSRF_COOKIE, &csrf, Some(3600)),
            );
            r
        }
        Err(e) => PageError(DeskError::from(e)).into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// `GET /login`
pub async fn login_form(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<NextQuery>,
) -> Response {
    login_page(
        &state,
        StatusCode::OK,
        None,
        q.next.as_deref().unwrap_or("/"),
    )
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    csrf_token: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /login`: check the password (throttled), open a fresh session, go to the queue.
pub async fn login(
    State(state): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let next = f.next.clone().unwrap_or_else(|| "/".into());
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if expected.is_empty() || !secrets::same_secret(expected, &f.csrf_token) {
        return login_page(
            &state,
            StatusCode::FORBIDDEN,
            Some("Formulir kedaluwarsa; silakan coba lagi."),
            &next,
        );
    }
    match try_login(&state, &client, &f).await {
        Ok(cookie_value) => {
            let mut r = Redirect::to(safe_next(&next)).into_response();
            let h = r.headers_mut();
            h.append(
                header::SET_COOKIE,
                cookie_header(&state, SESSION_COOKIE, &cookie_value, None),
            );
            h.append(
                header::SET_COOKIE,
                cookie_header(&state, LOGIN_CSRF_COOKIE, "", Some(0)),
            );
            r
        }
        Err(DeskError::TooMany { .. }) => login_page(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            Some("Terlalu banyak percobaan gagal. Coba lagi dalam 15 menit."),
            &next,
        ),
        Err(DeskError::Unauthorized) => login_page(
            &state,
            StatusCode::UNAUTHORIZED,
            Some("Nama pengguna atau kata sandi salah."),
            &next,
        ),
        Err(e) => PageError(e).into_response(),
    }
}

async fn try_login(state: &AppState, client: &str, f: &LoginForm) -> Result<String, DeskError> {
    let username = f.username.trim();
    let since = now_ms() - FAILURE_WINDOW_MS;
    let (by_user, by_client) = state.store.login_failures(username, client, since).await?;
    if by_user >= MAX_FAILURES || by_client >= MAX_FAILURES {
        tracing::warn!(client, "login throttled");
        return Err(DeskError::TooMany {
            retry_after_seconds: (FAILURE_WINDOW_MS / 1000) as u64,
        });
    }
    let found = state.store.user_with_hash(username).await?;
    let password = f.password.clone();
    let (user, hash) = match found {
        Some((u, h)) if !u.disabled => (Some(u), h),
        _ => (None, secrets::dummy_hash().to_string()),
    };
    let ok = tokio::task::spawn_blocking(move || secrets::verify_password(&password, &hash))
        .await
        .map_err(|e| DeskError::Internal(format!("password check: {e}")))?;
    let Some(user) = user.filter(|_| ok) else {
        state.store.login_failed(username, client).await?;
        tracing::info!(client, "failed login");
        return Err(DeskError::Unauthorized);
    };
    state.store.login_succeeded(username, since).await?;
    let secret = secrets::new_secret();
    state
        .store
        .create_session(&NewSession {
            id_hash: &secrets::hash_secret(&secret),
            user_id: user.id,
            csrf_token: &secrets::new_secret(),
            client,
            expires_at: now_ms() + state.idle_ms(),
        })
        .await?;
    tracing::info!(user = %user.username, client, "login");
    Ok(secret)
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf_token: Option<String>,
}

/// `POST /logout`: the session ends in the database at once (every `serve` process).
pub async fn logout(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    caller.check_csrf(f.csrf_token.as_deref())?;
    if let Via::Session { id_hash, .. } = &caller.via {
        state.store.end_session(id_hash).await?;
    }
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(&state, SESSION_COOKIE, "", Some(0)),
    );
    Ok(r)
}
