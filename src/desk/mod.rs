//! The officers' desk and the public status page (`loket serve`).

pub mod charts;
pub mod client;
pub mod limit;
