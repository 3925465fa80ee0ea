//! Plain types of the permit-office world, with no I/O (but for [`Calendar::load`] reading
//! the holiday list).

mod applicant;
pub mod calendar;
mod case;
pub mod deadline;
mod role;
pub mod separator;
pub mod status_words;
pub mod tracking;

pub use applicant::ApplicantDetails;
pub use calendar::{Calendar, CalendarError};
pub use case::{Channel, Kind, Status};
pub use deadline::{due_date, local_date, urgency, Urgency};
pub use role::Role;
pub use status_words::{next_step, status_label};
pub use tracking::{TrackingCode, TrackingCodeError};
