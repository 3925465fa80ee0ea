//! Who may do what at the desk: the roles of SPEC.md "Officers' desk".

use serde::{Deserialize, Serialize};

/// An account's role. Heads and officers belong to one department (bidang); the others see
/// every department.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including accounts and the audit.
    Admin,
    /// Kepala bidang: the cases of their department; may approve and reject.
    Head,
    /// The cases of their department; every status except approved and rejected.
    Officer,
    /// Front office: every case; classifies and routes; may not approve or reject.
    Triage,
    /// Uploads scans and prints letters; never sees case contents.
    Mailroom,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Head,
        Role::Officer,
        Role::Triage,
        Role::Mailroom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Head => "head",
            Role::Officer => "officer",
            Role::Triage => "triage",
            Role::Mailroom => "mailroom",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Heads and officers must name their department; the other roles must not.
    pub fn needs_department(self) -> bool {
        matches!(self, Role::Head | Role::Officer)
    }

    /// Bahasa Indonesia, for the desk.
    pub fn label_id(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::Head => "Kepala bidang",
            Role::Officer => "Petugas",
            Role::Triage => "Front office (triase)",
            Role::Mailroom => "Ruang surat",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_parses_back() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
