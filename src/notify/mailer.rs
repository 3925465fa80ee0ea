//! Sending stored outbox mails with lettre over SMTP (TLS, STARTTLS or plain on loopback), on
//! connections kept across mails.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters,
};
use lettre::transport::smtp::extension::ClientId;
use lettre::Message;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;

use super::smtp_stream::{is_closed, CoalescingStream, Probe, TlsCoalescing};
use crate::config::{expose, read_secret, Security, Smtp};

/// A mail ready to send (an outbox row).
#[derive(Debug, Clone)]
pub struct OutgoingMail {
    /// The sender when it is not `smtp.from`: answers to mail of a `[[mailbox]]` with its own
    /// `from`.
    pub from: Option<Mailbox>,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// Without angle brackets.
    pub message_id: String,
    pub in_reply_to: Option<String>,
    /// Space-separated ids, without angle brackets.
    pub references: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("SMTP setup: {0}")]
    Setup(String),
    #[error("cannot build mail to {to}: {reason}")]
    Build { to: String, reason: String },
    #[error("SMTP {server}: {source}")]
    Smtp {
        server: String,
        #[source]
        source: lettre::transport::smtp::Error,
    },
    #[error("SMTP {server}: cannot connect: {source}")]
    Connect {
        server: String,
        #[source]
        source: std::io::Error,
    },
    /// The TLS handshake (from the first byte, or after STARTTLS) failed: most often a
    /// certificate that `smtp.ca_file` does not vouch for, or a server without STARTTLS.
    #[error("SMTP {server}: {handshake} failed: {reason}")]
    Tls {
        server: String,
        /// `TLS handshake` or `STARTTLS`.
        handshake: &'static str,
        reason: String,
    },
    #[error("SMTP {server}: no answer within {seconds} s")]
    Timeout { server: String, seconds: u64 },
}

impl SendError {
    /// A 5xx answer or an unusable address will not get better by waiting; anything else
    /// (server down, 4xx, timeout) will be retried. So is a refused certificate: the mail waits
    /// until the server or `smtp.ca_file` is fixed, instead of being given up.
    pub fn is_transient(&self) -> bool {
        match self {
            SendError::Smtp { source, .. } => !source.is_permanent(),
            SendError::Timeout { .. } | SendError::Connect { .. } | SendError::Tls { .. } => true,
            SendError::Setup(_) | SendError::Build { .. } => false,
        }
    }
}

/// How long an unused connection is kept for the next mail. Servers close idle sessions after
/// a few minutes (RFC 5321 asks them to wait at least five); well below that, a kept connection
/// saves the TCP, greeting, EHLO (and TLS, AUTH) round trips of a new one.
const IDLE_KEEP: Duration = Duration::from_secs(30);

/// Connections kept at most (one per mail runner, see `pipeline::SEND_RUNNERS`, and some).
const IDLE_MAX: usize = 16;

/// An SMTP client with the office's sender address. Connections are opened over a socket loket
/// configures ([`smtp_stream`]: TCP_NODELAY, one write per command and per message) and reused
/// across mails; an idle one is checked without a round trip (no NOOP per mail).
#[derive(Clone)]
pub struct Mailer {
    inner: Arc<Inner>,
    from: Mailbox,
    server: String,
    timeout: Duration,
}

struct Inner {
    host: String,
    port: u16,
    security: Security,
    /// For STARTTLS (lettre upgrades its own stream).
    starttls: Option<TlsParameters>,
    /// For TLS from the first byte.
    tls_config: Option<Arc<rustls::ClientConfig>>,
    credentials: Option<Credentials>,
    hello: ClientId,
    idle: Mutex<Vec<Pooled>>,
}

/// An open session waiting for the next mail.
struct Pooled {
    conn: AsyncSmtpConnection,
    probe: Probe,
    since: Instant,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mailer({})", self.server)
    }
}

impl Mailer {
    pub fn new(cfg: &Smtp) -> Result<Self, SendError> {
        let from: Mailbox = cfg
            .from
            .parse()
            .map_err(|e| SendError::Setup(format!("smtp.from: {e}")))?;
        let timeout = Duration::from_secs(cfg.timeout_seconds.max(1));
        let credentials = match &cfg.username {
            Some(user) => {
                let password = read_secret(&cfg.password, &cfg.password_file, "smtp.password")
                    .map_err(SendError::Setup)?;
                Some(Credentials::new(
                    user.clone(),
                    expose(&password).to_string(),
                ))
            }
            None => None,
        };
        let starttls = match cfg.security {
            Security::Starttls => Some(tls_parameters(cfg)?),
            _ => None,
        };
        let tls_config = match cfg.security {
            Security::Tls => Some(
                crate::intake::tls::client_config(cfg.ca_file.as_deref())
                    .map_err(|e| SendError::Setup(format!("smtp.{e}")))?,
            ),
            _ => None,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                host: cfg.host.clone(),
                port: cfg.port,
                security: cfg.security,
                starttls,
                tls_config,
                credentials,
                hello: ClientId::default(),
                idle: Mutex::new(Vec::new()),
            }),
            from,
            server: format!("{}:{}", cfg.host, cfg.port),
            timeout,
        })
    }

    pub fn from_address(&self) -> &Mailbox {
        &self.from
    }

    /// Check that the server answers (used by `run` at start for a clear error).
    pub async fn check(&self) -> Result<(), SendError> {
        let checked = async {
            let mut pooled = self.connect().await?;
            pooled.conn.quit().await.map_err(|e| self.smtp_error(e))?;
            Ok(())
        };
        match tokio::time::timeout(self.timeout, checked).await {
            Ok(result) => result,
            Err(_) => Err(self.timed_out(1)),
        }
    }

    /// Send one mail, on a kept connection when there is one.
    pub async fn send(&self, mail: &OutgoingMail) -> Result<(), SendError> {
        let message = self.build(mail)?;
        let envelope = message.envelope().clone();
        let bytes = message.formatted();
        let sent = async {
            let mut pooled = match self.take_idle() {
                Some(pooled) => pooled,
                None => self.connect().await?,
            };
            pooled
                .conn
                .send(&envelope, &bytes)
                .await
                .map_err(|e| self.smtp_error(e))?;
            self.put_back(pooled);
            Ok(())
        };
        match tokio::time::timeout(self.timeout * 2, sent).await {
            Ok(result) => result,
            Err(_) => Err(self.timed_out(2)),
        }
    }

    fn smtp_error(&self, source: lettre::transport::smtp::Error) -> SendError {
        SendError::Smtp {
            server: self.server.clone(),
            source,
        }
    }

    /// Names the handshake and the innermost cause (lettre nests its own errors, which would
    /// say "Connection error" twice and not why).
    fn tls_error(&self, handshake: &'static str, error: &dyn std::error::Error) -> SendError {
        let mut cause = error;
        while let Some(inner) = cause.source() {
            cause = inner;
        }
        SendError::Tls {
            server: self.server.clone(),
            handshake,
            reason: cause.to_string(),
        }
    }

    fn timed_out(&self, times: u64) -> SendError {
        SendError::Timeout {
            server: self.server.clone(),
            seconds: self.timeout.as_secs() * times,
        }
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Pooled>> {
        match self.inner.idle.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The most recently used kept connection that is still open.
    fn take_idle(&self) -> Option<Pooled> {
        let mut idle = self.idle();
        idle.retain(|p| p.since.elapsed() < IDLE_KEEP);
        while let Some(pooled) = idle.pop() {
            if !is_closed(&pooled.probe) {
                return Some(pooled);
            }
        }
        None
    }

    fn put_back(&self, mut pooled: Pooled) {
        if pooled.conn.has_broken() {
            return;
        }
        pooled.since = Instant::now();
        let mut idle = self.idle();
        if idle.len() < IDLE_MAX {
            idle.push(pooled);
        }
    }

    /// A new session: TCP (TCP_NODELAY), TLS or STARTTLS as configured, EHLO, AUTH.
    async fn connect(&self) -> Result<Pooled, SendError> {
        let inner = &self.inner;
        let io_error = |source: std::io::Error| SendError::Connect {
            server: self.server.clone(),
            source,
        };
        let tcp = TcpStream::connect((inner.host.as_str(), inner.port))
            .await
            .map_err(io_error)?;
        let (stream, probe) = CoalescingStream::new(tcp).map_err(io_error)?;
        let stream: Box<dyn AsyncTokioStream> = match &inner.tls_config {
            Some(config) => {
                let name = ServerName::try_from(inner.host.clone())
                    .map_err(|e| SendError::Setup(format!("smtp.host: {e}")))?;
                let tls = tokio_rustls::TlsConnector::from(config.clone())
                    .connect(name, stream)
                    .await
                    .map_err(|e| self.tls_error("TLS handshake", &e))?;
                Box::new(TlsCoalescing(tls))
            }
            None => Box::new(stream),
        };
        let mut conn = AsyncSmtpConnection::connect_with_transport(stream, &inner.hello)
            .await
            .map_err(|e| self.smtp_error(e))?;
        if inner.security == Security::Starttls {
            let params = inner
                .starttls
                .clone()
                .ok_or_else(|| SendError::Setup("STARTTLS without TLS parameters".to_string()))?;
            conn.starttls(params, &inner.hello)
                .await
                .map_err(|e| match e.status() {
                    // The server answered STARTTLS with an SMTP code: judged like any answer.
                    Some(_) => self.smtp_error(e),
                    None => self.tls_error("STARTTLS", &e),
                })?;
        }
        if let Some(credentials) = &inner.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials)
                .await
                .map_err(|e| self.smtp_error(e))?;
        }
        Ok(Pooled {
            conn,
            probe,
            since: Instant::now(),
        })
    }

    fn build(&self, mail: &OutgoingMail) -> Result<Message, SendError> {
        let bad = |reason: String| SendError::Build {
            to: mail.to.clone(),
            reason,
        };
        let to: Mailbox = mail.to.parse().map_err(|e| bad(format!("address: {e}")))?;
        let mut builder = Message::builder()
            .from(mail.from.clone().unwrap_or_else(|| self.from.clone()))
            .to(to)
            .subject(mail.subject.clone())
            .message_id(Some(format!("<{}>", mail.message_id)))
            .header(ContentType::TEXT_PLAIN)
            // RFC 3834: mark the mail as an automatic reply so other robots don't answer it.
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-replied".into(),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("X-Auto-Response-Suppress"),
                "All".into(),
            ));
        if let Some(parent) = &mail.in_reply_to {
            builder = builder.in_reply_to(format!("<{parent}>"));
        }
        let refs: Vec<String> = mail
            .references
            .split_whitespace()
            .map(|r| format!("<{r}>"))
            .collect();
        if !refs.is_empty() {
            builder = builder.references(refs.join(" "));
        }
        builder
            .body(mail.body.clone())
            .map_err(|e| bad(e.to_string()))
    }
}

/// lettre's TLS settings for STARTTLS: the public roots plus `smtp.ca_file`.
fn tls_parameters(cfg: &Smtp) -> Result<TlsParameters, SendError> {
    let mut params = TlsParameters::builder(cfg.host.clone());
    if let Some(ca) = &cfg.ca_file {
        let pem = std::fs::read(ca)
            .map_err(|e| SendError::Setup(format!("smtp.ca_file {}: {e}", ca.display())))?;
        let cert = Certificate::from_pem(&pem)
            .map_err(|e| SendError::Setup(format!("smtp.ca_file: {e}")))?;
        params = params.add_root_certificate(cert);
    }
    params
        .build_rustls()
        .map_err(|e| SendError::Setup(format!("TLS: {e}")))
}
