//! Plain types of the permit-office world, with no I/O.

mod applicant;
pub mod calendar;
mod case;
pub mod deadline;
mod role;
pub mod separator;
pub mod status_words;
pub mod tracking;

pub use applicant::ApplicantDetails;
pub use case::{Channel, Kind, Status};
pub use role::Role;
pub use tracking::{TrackingCode, TrackingCodeError};
