//! Recognising separator sheets (`loket separator-sheet`) in scanned pages.
//!
//! Takes a page image, says whether it is a separator: some QR code on it decodes to
//! [`SEPARATOR_MARKER`], or, when no code can be read (a smudge, a fold, a faint copy), the page
//! has the sheet's own layout (see [`has_sheet_layout`]). Never fails; an unrecognised page is just
//! not a separator. Words are never enough: an applicant's letter may quote the sheet's title.

use image::imageops;
use image::GrayImage;

use crate::domain::separator::SEPARATOR_MARKER;

/// Scans are reduced to at most this many pixels on their longer side before looking for the QR
/// code: about 50 dpi for A4, where one module of the sheet's code is still ~9 px wide. Shrinking
/// averages scanner noise away (a skewed, noisy 200 dpi scan failed at 1000 px and decodes at
/// 400-800 px) and keeps decoding to milliseconds whatever the scan resolution.
const DETECT_MAX_SIDE: u32 = 600;

/// Whether a scanned page is a separator sheet: some QR code on it decodes to
/// [`SEPARATOR_MARKER`], or the page has the sheet's layout. Pages with other QR codes (receipt
/// letters, forms) are not separators.
pub fn is_separator(page: &GrayImage) -> bool {
    has_separator_code(page) || has_sheet_layout(page)
}

/// Whether some QR code on the page decodes to [`SEPARATOR_MARKER`].
pub fn has_separator_code(page: &GrayImage) -> bool {
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

/// Whether the page looks like the printed sheet (`domain::separator::sheet`), read at about one
/// pixel per millimetre: an A4 page, upright or upside down, with a square of QR-like texture
/// (dense, many dark/light changes per row) where the code is printed, white space around it,
/// and the two heavy rules across the top and the bottom. A few degrees of skew, scanner noise
/// and a smudge over the code are tolerated; letters, forms and photos have none of the
/// square-in-a-white-frame between two rules.
pub fn has_sheet_layout(page: &GrayImage) -> bool {
    let (w, h) = page.dimensions();
    if w < 100 || h < 100 {
        return false;
    }
    let aspect = h as f32 / w as f32;
    if !(1.30..=1.52).contains(&aspect) {
        return false;
    }
    let mm = imageops::thumbnail(page, 210, (210.0 * aspect).round() as u32);
    let ink = Ink::of(&mm);
    square_in_place(&ink) && rules_across(&ink)
}

/// Dark pixels of a small page with an integral image for box counts.
struct Ink {
    w: usize,
    h: usize,
    dark: Vec<bool>,
    sums: Vec<u32>,
}

impl Ink {
    fn of(img: &GrayImage) -> Ink {
        let (w, h) = (img.width() as usize, img.height() as usize);
        let dark: Vec<bool> = img.pixels().map(|p| p.0[0] < 128).collect();
        let mut sums = vec![0u32; (w + 1) * (h + 1)];
        for y in 0..h {
            let mut row = 0;
            for x in 0..w {
                row += u32::from(dark[y * w + x]);
                sums[(y + 1) * (w + 1) + x + 1] = sums[y * (w + 1) + x + 1] + row;
            }
        }
        Ink { w, h, dark, sums }
    }

    /// Dark pixels in [x0, x1) x [y0, y1), clamped to the page.
    fn count(&self, x0: i64, y0: i64, x1: i64, y1: i64) -> u32 {
        let cx = |v: i64| v.clamp(0, self.w as i64) as usize;
        let cy = |v: i64| v.clamp(0, self.h as i64) as usize;
        let (x0, x1, y0, y1) = (cx(x0), cx(x1), cy(y0), cy(y1));
        if x1 <= x0 || y1 <= y0 {
            return 0;
        }
        let at = |x: usize, y: usize| self.sums[y * (self.w + 1) + x];
        at(x1, y1) + at(x0, y0) - at(x0, y1) - at(x1, y0)
    }

    fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark[y * self.w + x]
    }
}

/// The densest QR-sized square is where the sheet prints its code (or upside down, where that
/// lands), is textured like a code, and has white space around it.
fn square_in_place(ink: &Ink) -> bool {
    use crate::domain::separator::sheet::{QR_SIZE_MM, QR_TOP_MM};
    let scale = ink.w as f32 / 210.0;
    let side = (QR_SIZE_MM * scale).round() as i64;
    let (w, h) = (ink.w as i64, ink.h as i64);
    let mut best = (0u32, 0i64, 0i64);
    for y in 0..=(h - side).max(0) {
        for x in 0..=(w - side).max(0) {
            let n = ink.count(x, y, x + side, y + side);
            if n > best.0 {
                best = (n, x, y);
            }
        }
    }
    let (n, x, y) = best;
    let area = (side * side) as f32;
    if (n as f32) < 0.30 * area {
        return false;
    }
    let centre_x = (x + side / 2) as f32 / w as f32;
    let centre_y = (y + side / 2) as f32 / h as f32;
    let printed_y = (QR_TOP_MM + QR_SIZE_MM / 2.0) / 297.0;
    let placed = (centre_x - 0.5).abs() <= 0.06
        && ((centre_y - printed_y).abs() <= 0.05 || (centre_y - (1.0 - printed_y)).abs() <= 0.05);
    if !placed {
        return false;
    }
    // The quiet zone: a frame from 3 to 9 mm outside the square is nearly white.
    let (near, far) = ((3.0 * scale) as i64, (9.0 * scale) as i64);
    let outer = ink.count(x - far, y - far, x + side + far, y + side + far);
    let inner = ink.count(x - near, y - near, x + side + near, y + side + near);
    let frame_area = ((side + 2 * far).pow(2) - (side + 2 * near).pow(2)) as f32;
    if (outer - inner) as f32 > 0.04 * frame_area {
        return false;
    }
    textured(ink, x, y, side)
}

/// Most rows of the square change between dark and light several times, as a code's modules do
/// (a smudge or a photo is mostly smooth).
fn textured(ink: &Ink, x: i64, y: i64, side: i64) -> bool {
    let (x, y, side) = (x as usize, y as usize, side as usize);
    let busy = (y..y + side)
        .filter(|&row| {
            (x + 1..x + side)
                .filter(|&col| ink.is_dark(col, row) != ink.is_dark(col - 1, row))
                .count()
                >= 6
        })
        .count();
    busy * 2 >= side
}

/// Heavy rules across the top and the bottom: nearly every column of the middle of the page has
/// ink in the top and in the bottom tenth.
fn rules_across(ink: &Ink) -> bool {
    let band = ink.h / 10;
    let (from, to) = (ink.w / 5, ink.w * 4 / 5);
    let covered = |rows: std::ops::Range<usize>| {
        let hits = (from..to)
            .filter(|&x| rows.clone().any(|y| ink.is_dark(x, y)))
            .count();
        hits * 10 >= (to - from) * 9
    };
    covered(0..band) && covered(ink.h - band..ink.h)
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
