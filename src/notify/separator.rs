//! Separator sheets for the mail room, and recognising them in scans.
//!
//! Staff put a printed separator sheet between applications and scan the whole stack at once;
//! the intake splits the scan at every page [`is_separator`] recognises. The sheet carries a
//! large QR code holding [`SEPARATOR_MARKER`] with the highest error correction, so a skewed,
//! noisy, upside-down or slightly dirty copy still decodes.

use image::imageops;
use image::GrayImage;
use qrcode::EcLevel;

use crate::notify::letters::{
    wrap, write_pdf, Face, LetterError, PageOps, A4_HEIGHT_MM, A4_WIDTH_MM,
};

/// What the separator sheet's QR code says.
pub const SEPARATOR_MARKER: &str = "LOKET-SEPARATOR";

/// Scans are reduced to at most this many pixels on their longer side before looking for the QR
/// code: about 50 dpi for A4, where one module of the sheet's code is still ~9 px wide. Shrinking
/// averages scanner noise away (a skewed, noisy 200 dpi scan failed at 1000 px and decodes at
/// 400-800 px) and keeps decoding to milliseconds whatever the scan resolution.
const DETECT_MAX_SIDE: u32 = 600;

const QR_SIZE_MM: f32 = 110.0;

/// One A4 page: the marker as a large QR code, a big "LEMBAR PEMISAH / SEPARATOR SHEET" and how
/// to use it.
pub fn separator_sheet_pdf(office_name: &str) -> Result<Vec<u8>, LetterError> {
    let centre = A4_WIDTH_MM / 2.0;
    let mut page = PageOps::default();
    page.rule(20.0, 12.0, A4_WIDTH_MM - 40.0, 3.0);
    page.text_centred(centre, 32.0, Face::Bold, 34.0, "LEMBAR PEMISAH");
    page.text_centred(centre, 45.0, Face::Bold, 22.0, "SEPARATOR SHEET");
    let top = 58.0;
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
    page.rule(20.0, A4_HEIGHT_MM - 15.0, A4_WIDTH_MM - 40.0, 3.0);
    write_pdf(&[page], "Lembar pemisah / separator sheet")
}

/// Whether a scanned page is a separator sheet: some QR code on it decodes to
/// [`SEPARATOR_MARKER`]. Pages with other QR codes (receipt letters, forms) are not separators.
pub fn is_separator(page: &GrayImage) -> bool {
    let (w, h) = page.dimensions();
    let longer = w.max(h);
    if longer == 0 {
        return false;
    }
    if longer <= DETECT_MAX_SIDE {
        return has_marker(page);
    }
    let scale = DETECT_MAX_SIDE as f32 / longer as f32;
    let (sw, sh) = (
        ((w as f32 * scale).round() as u32).max(1),
        ((h as f32 * scale).round() as u32).max(1),
    );
    // Area averaging: fast, and it smooths specks and grain instead of sampling them.
    has_marker(&imageops::thumbnail(page, sw, sh))
}

fn has_marker(image: &GrayImage) -> bool {
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        image.width() as usize,
        image.height() as usize,
        |x, y| image.get_pixel(x as u32, y as u32).0[0],
    );
    prepared.detect_grids().iter().any(|grid| {
        grid.decode()
            .is_ok_and(|(_, content)| content == SEPARATOR_MARKER)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_and_empty_images_are_not_separators() {
        assert!(!is_separator(&GrayImage::new(0, 0)));
        assert!(!is_separator(&GrayImage::from_pixel(
            1240,
            1754,
            image::Luma([255])
        )));
    }
}
