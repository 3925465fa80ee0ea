//! Several mailboxes per office: the lone `[imap]` table and any number of `[[mailbox]]` tables.
//!
//! Both forms may be used together: `[imap]` is then the first mailbox and the `[[mailbox]]`
//! entries follow in file order. Each mailbox is known by its key (account, server, folder),
//! which is also the key of its stored state and of its one watcher's lease, so two entries for
//! the same folder of the same account are refused. Environment overrides reach tables, not
//! array entries (`LOKET_IMAP__PASSWORD` works, nothing reaches `[[mailbox]]` number 2), so a
//! `[[mailbox]]` secret comes from the file itself or from `password_file`.

use super::{Config, Imap};

impl Imap {
    /// The mailbox's key: `username@host:port/folder`. Mailbox state and the watcher lease are
    /// stored under it; messages remember it (`messages.mailbox`).
    pub fn key(&self) -> String {
        format!(
            "{}@{}:{}/{}",
            self.username, self.host, self.port, self.mailbox
        )
    }

    /// The sender of answers to this mailbox's mail, if it has its own.
    pub fn from_mailbox(&self) -> Option<lettre::message::Mailbox> {
        self.from.as_deref().and_then(|f| f.parse().ok())
    }

    /// Addresses this mailbox receives or answers with (lower-case).
    pub(super) fn own_addresses(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.username.contains('@') {
            out.push(self.username.to_lowercase());
        }
        if let Some(mb) = self.from_mailbox() {
            out.push(mb.email.to_string().to_lowercase());
        }
        out
    }
}

impl Config {
    /// Every mailbox loket watches: `[imap]` first, then the `[[mailbox]]` entries in order.
    pub fn all_mailboxes(&self) -> impl Iterator<Item = &Imap> {
        self.imap.iter().chain(self.mailboxes.iter())
    }

    /// The configured mailbox with this key (see [`Imap::key`]), if it is still configured.
    pub fn mailbox_by_key(&self, key: &str) -> Option<&Imap> {
        self.all_mailboxes().find(|m| m.key() == key)
    }

    /// The From of answers to mail that came from mailbox `key`: its own `from`, else none
    /// (the mailer then uses `smtp.from`).
    pub fn answer_from(&self, key: Option<&str>) -> Option<lettre::message::Mailbox> {
        self.mailbox_by_key(key?)?.from_mailbox()
    }

    /// The authserv-id to believe for mail that came from mailbox `key` (its own, else
    /// `[imap]`'s); mail from the spool or the mail room: `[imap]`'s.
    pub fn trusted_authserv_id_for(&self, key: Option<&str>) -> Option<&str> {
        key.and_then(|k| self.mailbox_by_key(k))
            .and_then(|m| m.trusted_authserv_id.as_deref())
            .or_else(|| {
                self.imap
                    .as_ref()
                    .and_then(|i| i.trusted_authserv_id.as_deref())
            })
    }
}

/// Where a mailbox stands in the config, for error messages: `imap`, or `mailbox.N` as the
/// parser names array entries (N counts the `[[mailbox]]` tables from 0, in file order).
fn names(cfg: &Config) -> impl Iterator<Item = (String, &Imap)> {
    let first = cfg.imap.iter().map(|m| ("imap".to_string(), m));
    let rest = cfg
        .mailboxes
        .iter()
        .enumerate()
        .map(|(i, m)| (format!("mailbox.{i}"), m));
    first.chain(rest)
}

/// Every problem with the mailboxes, each naming the table (and entry index) it is in.
pub(super) fn problems(cfg: &Config) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen: Vec<(String, String)> = Vec::new();
    for (name, mb) in names(cfg) {
        if mb.password.is_none() && mb.password_file.is_none() {
            out.push(if name == "imap" {
                "imap.password or imap.password_file is required (or env LOKET_IMAP__PASSWORD)"
                    .to_string()
            } else {
                format!(
                    "{name}.password or {name}.password_file is required \
                     (environment overrides cover tables, not [[mailbox]] entries: use password_file)"
                )
            });
        }
        if mb.batch_size == 0 {
            out.push(format!("{name}.batch_size must be at least 1"));
        }
        if let Some(from) = &mb.from {
            if from.parse::<lettre::message::Mailbox>().is_err() {
                out.push(format!(
                    "{name}.from {from:?} is not an address like 'Name <a@b.go.id>'"
                ));
            }
        }
        let key = mb.key();
        if let Some((other, _)) = seen.iter().find(|(_, k)| *k == key) {
            out.push(format!(
                "{name} is the same mailbox as {other} ({key}): list each mailbox once"
            ));
        }
        seen.push((name, key));
    }
    out
}

#[cfg(test)]
mod tests;
