//! Who applied: the details a case carries about its applicant.

use serde::{Deserialize, Serialize};

/// Applicant details; any field may be unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicantDetails {
    pub name: Option<String>,
    pub address: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

impl ApplicantDetails {
    /// Fill the fields that are unknown here from `other` (what the clerk typed wins over what
    /// was read from the paper).
    pub fn or(mut self, other: &ApplicantDetails) -> Self {
        self.name = self.name.or_else(|| other.name.clone());
        self.address = self.address.or_else(|| other.address.clone());
        self.email = self.email.or_else(|| other.email.clone());
        self.phone = self.phone.or_else(|| other.phone.clone());
        self
    }

    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.address.is_none()
            && self.email.is_none()
            && self.phone.is_none()
    }
}
