//! Ruled lines erased before reading: table borders, form boxes, the lines under a form's fields.
//!
//! Tesseract takes a ruled table for a picture (its grid is one big connected shape) and reads
//! little or nothing inside it. Print and handwriting are made of short strokes; a ruling is a
//! long, thin run of ink. So a dark pixel is erased when it lies on a horizontal run at least 0.4
//! an inch long whose vertical run through it is thin (a 25th of an inch or less), or the same
//! turned a quarter. Letters touching a line keep their strokes (their runs across the line are
//! not thin); dark photos and banners are left alone (their runs are long both ways).

use image::GrayImage;

/// Darker than this is ink.
const INK: u8 = 128;

/// The page with its ruled lines erased, or `None` when it has none.
pub(super) fn erase_rulings(img: &GrayImage, dpi: u32) -> Option<GrayImage> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w == 0 || h == 0 {
        return None;
    }
    let dpi = if dpi >= 70 {
        dpi as usize
    } else {
        // Unknown: assume the longer side is an A4 page's (11.7 inches).
        (w.max(h) * 10 / 117).clamp(70, 600)
    };
    let (long, thin) = (dpi * 2 / 5, (dpi / 25).max(2));
    let px = img.as_raw();
    let across = runs(w, h, |x, y| px[y * w + x] < INK, false);
    let down = runs(w, h, |x, y| px[y * w + x] < INK, true);
    // 1: on a horizontal ruling, 2: on a vertical one.
    let mut rule = vec![0u8; w * h];
    let mut found = false;
    for i in 0..w * h {
        let (a, d) = (usize::from(across[i]), usize::from(down[i]));
        if a >= long && d <= thin {
            rule[i] = 1;
            found = true;
        } else if d >= long && a <= thin {
            rule[i] = 2;
            found = true;
        }
    }
    if !found {
        return None;
    }
    let mut page = img.clone();
    let out = page.as_mut();
    // A ruling's ragged edge (a scan's noise breaks its outer rows into short runs) goes with
    // it: the thin run across the ruling through each of its pixels is erased whole.
    erase_across(w, h, &down, &rule, 1, thin, true, out);
    erase_across(w, h, &across, &rule, 2, thin, false, out);
    Some(page)
}

/// Erase every ink run along columns (`vertical`) or rows no longer than `thin` that holds a
/// pixel marked `mark`.
#[allow(clippy::too_many_arguments)]
fn erase_across(
    w: usize,
    h: usize,
    lengths: &[u16],
    rule: &[u8],
    mark: u8,
    thin: usize,
    vertical: bool,
    out: &mut [u8],
) {
    let halo = (thin / 3).max(1);
    let (lines, len) = if vertical { (w, h) } else { (h, w) };
    let at = |line: usize, pos: usize| {
        if vertical {
            pos * w + line
        } else {
            line * w + pos
        }
    };
    for line in 0..lines {
        let mut pos = 0;
        while pos < len {
            let run = usize::from(lengths[at(line, pos)]);
            if run == 0 {
                pos += 1;
                continue;
            }
            let end = (pos + run).min(len);
            if run <= thin && (pos..end).any(|p| rule[at(line, p)] == mark) {
                // With the grey fringe a scan's blur leaves on both sides.
                for p in pos.saturating_sub(halo)..(end + halo).min(len) {
                    out[at(line, p)] = 255;
                }
            }
            pos = end;
        }
    }
}

/// For every pixel, the length of the ink run through it along rows (`vertical` false) or
/// columns (true); 0 for paper. Lengths are capped at `u16::MAX`.
fn runs(w: usize, h: usize, ink: impl Fn(usize, usize) -> bool, vertical: bool) -> Vec<u16> {
    let mut out = vec![0u16; w * h];
    let (lines, len) = if vertical { (w, h) } else { (h, w) };
    let at = |line: usize, pos: usize| {
        if vertical {
            pos * w + line
        } else {
            line * w + pos
        }
    };
    for line in 0..lines {
        let mut pos = 0;
        while pos < len {
            let (x, y) = if vertical { (line, pos) } else { (pos, line) };
            if !ink(x, y) {
                pos += 1;
                continue;
            }
            let start = pos;
            while pos < len && {
                let (x, y) = if vertical { (line, pos) } else { (pos, line) };
                ink(x, y)
            } {
                pos += 1;
            }
            let run = u16::try_from(pos - start).unwrap_or(u16::MAX);
            for p in start..pos {
                out[at(line, p)] = run;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    #[test]
    fn a_grid_is_erased_and_letters_and_blocks_of_ink_stay() {
        // 300 dpi: lines of 3 px, a 40 px letter stroke, a 200 x 200 dark photo.
        let mut page = GrayImage::from_pixel(1000, 1000, Luma([255]));
        for x in 100..900 {
            for y in 100..103 {
                page.put_pixel(x, y, Luma([30]));
            }
        }
        for y in 100..900 {
            for x in 500..503 {
                page.put_pixel(x, y, Luma([30]));
            }
        }
        for y in 60..100 {
            for x in 200..204 {
                page.put_pixel(x, y, Luma([20])); // a letter's stem standing on the line
            }
        }
        for y in 600..800 {
            for x in 100..300 {
                page.put_pixel(x, y, Luma([40]));
            }
        }
        let clean = erase_rulings(&page, 300).expect("lines found");
        assert_eq!(
            clean.get_pixel(700, 101).0[0],
            255,
            "horizontal line erased"
        );
        assert_eq!(clean.get_pixel(501, 400).0[0], 255, "vertical line erased");
        assert_eq!(clean.get_pixel(202, 80).0[0], 20, "letter kept");
        assert_eq!(
            clean.get_pixel(202, 101).0[0],
            30,
            "letter's foot on the line kept"
        );
        assert_eq!(clean.get_pixel(200, 700).0[0], 40, "photo kept");
        let plain = GrayImage::from_pixel(100, 100, Luma([255]));
        assert!(erase_rulings(&plain, 300).is_none());
    }
}
