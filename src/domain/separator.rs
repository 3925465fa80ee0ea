//! The separator sheet as both sides know it: `notify` prints it, `intake` recognises it in
//! scans. Kept here so neither stage depends on the other.

/// What the separator sheet's QR code says (also printed under the code as text).
pub const SEPARATOR_MARKER: &str = "LOKET-SEPARATOR";

/// The sheet's title; a sheet that went in as the PDF itself is recognised by it.
pub const SEPARATOR_TITLE: &str = "LEMBAR PEMISAH";
