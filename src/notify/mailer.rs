//! Sending stored outbox mails with lettre over SMTP (TLS, STARTTLS or plain on loopback).

use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

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
    #[error("SMTP {server}: no answer within {seconds} s")]
    Timeout { server: String, seconds: u64 },
}

impl SendError {
    /// A 5xx answer or an unusable address will not get better by waiting; anything else
    /// (server down, 4xx, timeout) will be retried.
    pub fn is_transient(&self) -> bool {
        match self {
            SendError::Smtp { source, .. } => !source.is_permanent(),
            SendError::Timeout { .. } => true,
            SendError::Setup(_) | SendError::Build { .. } => false,
        }
    }
}

/// An SMTP connection pool with the office's sender address.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    server: String,
    timeout: Duration,
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
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(cfg.host.clone())
            .port(cfg.port)
            .timeout(Some(timeout))
            .tls(tls_for(cfg)?);
        if let Some(user) = &cfg.username {
            let password = read_secret(&cfg.password, &cfg.password_file, "smtp.password")
                .map_err(SendError::Setup)?;
            builder = builder.credentials(Credentials::new(
                user.clone(),
                expose(&password).to_string(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
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
        match tokio::time::timeout(self.timeout, self.transport.test_connection()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(source)) => Err(SendError::Smtp {
                server: self.server.clone(),
                source,
            }),
            Err(_) => Err(SendError::Timeout {
                server: self.server.clone(),
                seconds: self.timeout.as_secs(),
            }),
        }
    }

    /// Send one mail.
    pub async fn send(&self, mail: &OutgoingMail) -> Result<(), SendError> {
        let message = self.build(mail)?;
        match tokio::time::timeout(self.timeout * 2, self.transport.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(source)) => Err(SendError::Smtp {
                server: self.server.clone(),
                source,
            }),
            Err(_) => Err(SendError::Timeout {
                server: self.server.clone(),
                seconds: self.timeout.as_secs() * 2,
            }),
        }
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

fn tls_for(cfg: &Smtp) -> Result<Tls, SendError> {
    if cfg.security == Security::None {
        return Ok(Tls::None);
    }
    let mut params = TlsParameters::builder(cfg.host.clone());
    if let Some(ca) = &cfg.ca_file {
        let pem = std::fs::read(ca)
            .map_err(|e| SendError::Setup(format!("smtp.ca_file {}: {e}", ca.display())))?;
        let cert = Certificate::from_pem(&pem)
            .map_err(|e| SendError::Setup(format!("smtp.ca_file: {e}")))?;
        params = params.add_root_certificate(cert);
    }
    let params = params
        .build_rustls()
        .map_err(|e| SendError::Setup(format!("TLS: {e}")))?;
    Ok(match cfg.security {
        Security::Tls => Tls::Wrapper(params),
        _ => Tls::Required(params),
    })
}
