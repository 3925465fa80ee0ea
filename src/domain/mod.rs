//! Plain types of the permit-office world, with no I/O.

mod applicant;
mod case;
pub mod separator;
pub mod tracking;

pub use applicant::ApplicantDetails;
pub use case::{Channel, Kind, Status};
pub use tracking::{TrackingCode, TrackingCodeError};
