//! The pure engine: text in, decision and reasons out.

use super::{Catalogue, ClassifyInput, Decision};

impl Catalogue {
    /// Classify one case.
    pub fn classify(&self, input: &ClassifyInput<'_>) -> Decision {
        let _ = input;
        todo!()
    }
}
