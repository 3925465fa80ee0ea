//! The separator sheet as both sides know it: `notify` prints it, `intake` recognises it in
//! scans. Kept here so neither stage depends on the other.

/// What the separator sheet's QR code says (also printed under the code as text).
pub const SEPARATOR_MARKER: &str = "LOKET-SEPARATOR";

/// The sheet's title; a sheet that went in as the PDF itself is recognised by it.
pub const SEPARATOR_TITLE: &str = "LEMBAR PEMISAH";

/// Where the sheet puts its parts, in millimetres on A4 (210 x 297): `notify` draws them there
/// and `intake` looks for them when the QR code cannot be read.
pub mod sheet {
    /// Side of the QR symbol (without quiet zone), centred across the page.
    pub const QR_SIZE_MM: f32 = 110.0;
    /// Top edge of the QR symbol.
    pub const QR_TOP_MM: f32 = 58.0;
    /// The two heavy rules across the page: their top edges, left margin and thickness.
    pub const TOP_RULE_MM: f32 = 12.0;
    pub const BOTTOM_RULE_MM: f32 = 282.0;
    pub const RULE_MARGIN_MM: f32 = 20.0;
    pub const RULE_THICKNESS_MM: f32 = 3.0;
}
