//! What every request handler shares.

use std::sync::Arc;

use crate::classify::Catalogue;
use crate::config::Config;
use crate::filing::{BlobStore, Store};
use crate::notify::templates::Templates;

use super::client::TrustedProxy;
use super::limit::PerClient;

/// The desk's shared state: configuration, database, documents, rules, mail templates and the
/// status page's rate limiter.
pub struct Desk {
    pub cfg: Config,
    pub store: Store,
    pub blobs: BlobStore,
    pub catalogue: Arc<Catalogue>,
    pub calendar: Arc<crate::domain::calendar::Calendar>,
    pub templates: Templates,
    pub status_limit: PerClient,
    pub trusted: Vec<TrustedProxy>,
}

pub type AppState = Arc<Desk>;

impl Desk {
    /// Session lifetime without use.
    pub fn idle_ms(&self) -> i64 {
        self.cfg.web.session_idle_hours as i64 * 3_600_000
    }
}
