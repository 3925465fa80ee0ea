//! One scan, many envelopes: a stack of applications scanned in one go with separator sheets
//! (`loket separator-sheet`) between them is split into one PDF per application; the separator
//! pages are dropped.
//!
//! A separator page is recognised from its image: the QR code (`LOKET-SEPARATOR`), or the sheet's
//! layout when the code cannot be read ([`is_separator`]). Its words alone never make a page a
//! separator, since an applicant's letter may quote them; they only make a page with a text layer
//! worth rendering (the sheet that went in as the PDF itself). All lopdf work runs
//! behind [`crate::extract::pdf::with_document`]'s guard: a hostile PDF fails as `Corrupt`
//! instead of taking the worker down.

use lopdf::Document;

use super::separator::is_separator;
use crate::domain::separator::{SEPARATOR_MARKER, SEPARATOR_TITLE};
use crate::extract::document::DocumentError;
use crate::extract::ocr::{PdfPages, RasterLimits};
use crate::extract::pdf::{page_text, with_document};
use crate::extract::sniff;

/// The parts of a batch scan, or None when `data` is not a PDF with separator pages. With
/// `blank_pages`, empty pages (no text, almost no ink) separate applications too.
pub fn split_at_separators(
    data: &[u8],
    blank_pages: bool,
) -> Result<Option<Vec<Vec<u8>>>, DocumentError> {
    if sniff::sniff(data) != Some(sniff::PDF) {
        return Ok(None);
    }
    with_document(data, |doc, pages| split(doc, data, pages, blank_pages))
}

fn split(
    doc: &Document,
    data: &[u8],
    pages: &[u32],
    blank_pages: bool,
) -> Result<Option<Vec<Vec<u8>>>, DocumentError> {
    if pages.len() < 2 {
        return Ok(None);
    }
    let separators = separator_pages(doc, data, pages, blank_pages);
    if separators.is_empty() {
        return Ok(None);
    }
    let mut groups: Vec<Vec<u32>> = vec![Vec::new()];
    for p in pages {
        if separators.contains(p) {
            groups.push(Vec::new());
        } else if let Some(last) = groups.last_mut() {
            last.push(*p);
        }
    }
    groups.retain(|g| !g.is_empty());
    groups
        .iter()
        .map(|keep| part(doc, pages, keep))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Page numbers (from 1) that are separator sheets.
///
/// Only candidates are rendered: pages with little or no text layer (scans), and pages whose text
/// names the sheet. Applicants' text pages are never rendered here.
fn separator_pages(doc: &Document, data: &[u8], pages: &[u32], blank_pages: bool) -> Vec<u32> {
    let limits = RasterLimits {
        render_dpi: 100,
        ..RasterLimits::default()
    };
    let scans = PdfPages::from_document(doc.clone(), data, &limits);
    pages
        .iter()
        .enumerate()
        .filter(|(i, &p)| {
            let text = page_text(doc, p).unwrap_or_default();
            let scanned = text.trim().len() < 20;
            let names_the_sheet =
                text.contains(SEPARATOR_MARKER) || text.to_uppercase().contains(SEPARATOR_TITLE);
            if !scanned && !names_the_sheet {
                return false;
            }
            scans.page_image(*i).ok().is_some_and(|img| {
                is_separator(&img.image) || (blank_pages && scanned && is_blank(&img.image))
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
fn part(doc: &Document, all: &[u32], keep: &[u32]) -> Result<Vec<u8>, DocumentError> {
    let mut d = doc.clone();
    let drop: Vec<u32> = all.iter().copied().filter(|p| !keep.contains(p)).collect();
    d.delete_pages(&drop);
    d.prune_objects();
    let mut out = Vec::new();
    d.save_to(&mut out).map_err(|e| DocumentError::Corrupt {
        kind: "PDF".into(),
        detail: format!("could not write a part of the batch: {e}"),
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::pdf::tests::text_pdf;
    use crate::extract::pdf::MAX_PAGES;

    #[test]
    fn a_page_that_only_names_the_sheet_is_not_a_separator() {
        let pdf = text_pdf(
            &[
                "Formulir permohonan PBG atas nama Slamet Riyadi",
                "LEMBAR PEMISAH / SEPARATOR SHEET LOKET-SEPARATOR",
                "Formulir permohonan reklame atas nama Siti Aminah",
            ],
            None,
        );
        assert!(split_at_separators(&pdf, false).unwrap().is_none());
    }

    #[test]
    fn batches_are_parsed_with_the_same_limits_as_any_pdf() {
        let pages = vec!["Formulir permohonan izin usaha mikro"; MAX_PAGES + 1];
        let err = split_at_separators(&text_pdf(&pages, None), false).unwrap_err();
        assert!(matches!(err, DocumentError::TooLarge(_)), "{err:?}");
        let err = split_at_separators(b"%PDF-1.4\nnot really a pdf\n%%EOF", false).unwrap_err();
        assert!(matches!(err, DocumentError::Corrupt { .. }), "{err:?}");
    }
}
