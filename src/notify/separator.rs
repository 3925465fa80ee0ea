//! Separator sheets for the mail room.
//!
//! Staff put a printed separator sheet between applications and scan the whole stack at once;
//! the intake splits the scan at every page `intake::separator::is_separator` recognises. The
//! sheet carries a large QR code holding [`SEPARATOR_MARKER`] with the highest error correction,
//! so a skewed, noisy, upside-down or slightly dirty copy still decodes; a copy whose code is
//! smudged past reading is still known by the sheet's layout (`domain::separator::sheet`).

use qrcode::EcLevel;

use crate::domain::separator::sheet::{
    BOTTOM_RULE_MM, QR_SIZE_MM, QR_TOP_MM, RULE_MARGIN_MM, RULE_THICKNESS_MM, TOP_RULE_MM,
};
use crate::domain::separator::{SEPARATOR_MARKER, SEPARATOR_TITLE};
use crate::notify::letters::{wrap, write_pdf, Face, LetterError, PageOps, A4_WIDTH_MM};

/// One A4 page: the marker as a large QR code, a big "LEMBAR PEMISAH / SEPARATOR SHEET" and how
/// to use it.
pub fn separator_sheet_pdf(office_name: &str) -> Result<Vec<u8>, LetterError> {
    let centre = A4_WIDTH_MM / 2.0;
    let mut page = PageOps::default();
    let rule_width = A4_WIDTH_MM - 2.0 * RULE_MARGIN_MM;
    page.rule(RULE_MARGIN_MM, TOP_RULE_MM, rule_width, RULE_THICKNESS_MM);
    page.text_centred(centre, 32.0, Face::Bold, 34.0, SEPARATOR_TITLE);
    page.text_centred(centre, 45.0, Face::Bold, 22.0, "SEPARATOR SHEET");
    let top = QR_TOP_MM;
    page.qr(
        centre - QR_SIZE_MM / 2.0,
        top,
        QR_SIZE_MM,
        SEPARATOR_MARKER,
        EcLevel::H,
    )?;
    let mut y = top + QR_SIZE_MM + 14.0;
    page.text_centred(centre, y, Face::MonoBold, 11.0, SEPARATOR_MARKER);
    y += 14.0;
    let instruction = "Letakkan lembar ini di antara berkas permohonan yang berbeda saat memindai.";
    for line in wrap(instruction, Face::Bold, 14.0, 150.0) {
        page.text_centred(centre, y, Face::Bold, 14.0, &line);
        y += 7.0;
    }
    y += 3.0;
    let english = "Place this sheet between different applications when scanning.";
    page.text_centred(centre, y, Face::Regular, 11.0, english);
    y += 10.0;
    let reuse = "Lembar ini dapat dipakai berulang kali. Jangan ditulisi atau dilipat.";
    page.text_centred(centre, y, Face::Regular, 10.0, reuse);
    for (i, line) in wrap(office_name.trim(), Face::Regular, 10.0, 170.0)
        .iter()
        .enumerate()
    {
        page.text_centred(centre, 272.0 + i as f32 * 5.0, Face::Regular, 10.0, line);
    }
    page.rule(
        RULE_MARGIN_MM,
        BOTTOM_RULE_MM,
        rule_width,
        RULE_THICKNESS_MM,
    );
    write_pdf(&[page], "Lembar pemisah / separator sheet")
}
