//! Recognising separator sheets (`loket separator-sheet`) in scanned pages.
//!
//! Takes a page image, says whether it is a separator: some QR code on it decodes to
//! [`SEPARATOR_MARKER`]. Never fails; an undecodable page is just not a separator.

use image::imageops;
use image::GrayImage;

use crate::domain::separator::SEPARATOR_MARKER;

/// Scans are reduced to at most this many pixels on their longer side before looking for the QR
/// code: about 50 dpi for A4, where one module of the sheet's code is still ~9 px wide. Shrinking
/// averages scanner noise away (a skewed, noisy 200 dpi scan failed at 1000 px and decodes at
/// 400-800 px) and keeps decoding to milliseconds whatever the scan resolution.
const DETECT_MAX_SIDE: u32 = 600;

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
