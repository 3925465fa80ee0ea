//! Notification: acknowledgements rendered from editable templates and sent through SMTP.
//!
//! Mails are rendered when a case is sorted and stored in the outbox in the same transaction;
//! sending is a separate job, so a dead SMTP server delays mail but never loses or repeats it.

pub mod ack;
pub mod combined;
pub mod letters;
pub mod mailer;
pub mod notices;
pub mod separator;
mod smtp_stream;
pub mod status_answer;
pub mod templates;

pub use mailer::{Mailer, SendError};
pub use templates::Templates;
