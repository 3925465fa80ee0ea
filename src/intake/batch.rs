//! One scan, many envelopes: a stack of applications scanned in one go with separator sheets
//! (`loket separator-sheet`) between them is split into one PDF per application; the separator
//! pages are dropped.
//!
//! A separator page is recognised by its QR code (`LOKET-SEPARATOR`) on the page image, or by
//! its text when the sheet went in as the PDF itself rather than a scan.

use lopdf::Document;

use crate::extract::ocr::{PdfPages, RasterLimits};
use crate::extract::sniff;
use crate::notify::separator::{is_separator, SEPARATOR_MARKER};

/// The parts of a batch scan, or None when `data` is not a PDF with separator pages. With
/// `blank_pages`, empty pages (no text, almost no ink) separate applications too.
pub fn split_at_separators(data: &[u8], blank_pages: bool) -> Result<Option<Vec<Vec<u8>>>, String> {
    if sniff::sniff(data) != Some(sniff::PDF) {
        return Ok(None);
    }
    let doc = Document::load_mem(data).map_err(|e| e.to_string())?;
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    if pages.len() < 2 {
        return Ok(None);
    }
    let separators = separator_pages(&doc, data, &pages, blank_pages);
    if separators.is_empty() {
        return Ok(None);
    }
    let mut groups: Vec<Vec<u32>> = vec![Vec::new()];
    for p in &pages {
        if separators.contains(p) {
            groups.push(Vec::new());
        } else if let Some(last) = groups.last_mut() {
            last.push(*p);
        }
    }
    groups.retain(|g| !g.is_empty());
    groups
        .iter()
        .map(|keep| part(&doc, &pages, keep))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Page numbers (from 1) that are separator sheets.
fn separator_pages(doc: &Document, data: &[u8], pages: &[u32], blank_pages: bool) -> Vec<u32> {
    let scans = PdfPages::open(
        data,
        &RasterLimits {
            render_dpi: 100,
            ..RasterLimits::default()
        },
    )
    .ok();
    pages
        .iter()
        .enumerate()
        .filter(|(i, &p)| {
            let text = doc.extract_text(&[p]).unwrap_or_default();
            if text.contains(SEPARATOR_MARKER) || text.to_uppercase().contains("LEMBAR PEMISAH") {
                return true;
            }
            // A scanned page: little or no text layer, so look for the QR code.
            text.trim().len() < 20
                && scans
                    .as_ref()
                    .and_then(|s| s.page_image(*i).ok())
                    .is_some_and(|img| {
                        is_separator(&img.image) || (blank_pages && is_blank(&img.image))
                    })
        })
        .map(|(_, &p)| p)
        .collect()
}

/// A page with almost no dark pixels (scanner dust allowed).
fn is_blank(page: &image::GrayImage) -> bool {
    let total = u64::from(page.width()) * u64::from(page.height());
    let dark = page.pixels().filter(|p| p.0[0] < 128).count() as u64;
    total > 0 && dark * 1000 < total * 3
}

/// A copy of the document with only the pages in `keep`.
fn part(doc: &Document, all: &[u32], keep: &[u32]) -> Result<Vec<u8>, String> {
    let mut d = doc.clone();
    let drop: Vec<u32> = all.iter().copied().filter(|p| !keep.contains(p)).collect();
    d.delete_pages(&drop);
    d.prune_objects();
    let mut out = Vec::new();
    d.save_to(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}
