//! OCR within the extract step: pages marked `NeedsOcr` get their text from the OCR pool.
//!
//! PDF pages are turned into images one at a time (native decoding, or `pdftoppm` for what we
//! can't decode) and read in parallel by the pool's worker processes; image files give one page
//! per image (multi-page TIFF: several). A page that fails keeps its reason; a document none of
//! whose pages could be read gets that reason as its error, in both languages.

use std::sync::Arc;

use futures::StreamExt;

use super::JobError;
use crate::extract::document::{DocumentError, Extraction, PageSource, PageText};
use crate::extract::ocr::{
    ocr_pdf_pages, page_images, OcrPool, OcrResult, PageError, PdfPages, RasterLimits,
};
use crate::extract::sniff;

/// Fill in the OCR pages of `x`; an error only when OCR itself is unavailable (retry later).
pub async fn fill(pool: &OcrPool, data: Arc<Vec<u8>>, x: &mut Extraction) -> Result<(), JobError> {
    if x.error.is_some() || !x.pages.iter().any(|p| p.source == PageSource::NeedsOcr) {
        return Ok(());
    }
    let results = if x.content_type == sniff::PDF {
        pdf_pages(pool, data, x).await?
    } else {
        let ct = x.content_type.clone();
        let images =
            tokio::task::spawn_blocking(move || page_images(&data, &ct, &RasterLimits::default()))
                .await
                .map_err(|e| JobError::Panic(e.to_string()))?;
        match images {
            Ok(images) => {
                x.pages = images.iter().map(|_| needs_ocr()).collect();
                let read = futures::stream::iter(images.into_iter().enumerate())
                    .map(|(i, img)| async move {
                        let how = img.how;
                        (i, Some(how), pool.ocr(img).await.map_err(PageError::from))
                    })
                    .buffered(pool.workers())
                    .collect::<Vec<_>>()
                    .await;
                read
            }
            Err(e) => {
                x.error = Some(DocumentError::Unreadable {
                    detail: e.to_string(),
                    alasan: e.alasan(),
                });
                return Ok(());
            }
        }
    };
    apply(x, results)
}

type PageOutcome = (usize, Option<&'static str>, Result<OcrResult, PageError>);

async fn pdf_pages(
    pool: &OcrPool,
    data: Arc<Vec<u8>>,
    x: &mut Extraction,
) -> Result<Vec<PageOutcome>, JobError> {
    let indices: Vec<usize> = x
        .pages
        .iter()
        .enumerate()
        .filter(|(_, p)| p.source == PageSource::NeedsOcr)
        .map(|(i, _)| i)
        .collect();
    let opened =
        tokio::task::spawn_blocking(move || PdfPages::open(&data, &RasterLimits::default()))
            .await
            .map_err(|e| JobError::Panic(e.to_string()))?;
    let pdf = match opened {
        Ok(pdf) => Arc::new(pdf),
        Err(e) => {
            x.error = Some(DocumentError::Unreadable {
                detail: e.to_string(),
                alasan: e.alasan(),
            });
            return Ok(Vec::new());
        }
    };
    let pages = ocr_pdf_pages(pool, pdf, &indices).await;
    Ok(pages
        .into_iter()
        .map(|p| (p.index, p.how, p.result))
        .collect())
}

fn needs_ocr() -> PageText {
    PageText {
        text: String::new(),
        source: PageSource::NeedsOcr,
        confidence: None,
        how: None,
        error: None,
    }
}

/// Put the OCR results into the pages; decide what a total failure means.
fn apply(x: &mut Extraction, results: Vec<PageOutcome>) -> Result<(), JobError> {
    if results.is_empty() {
        return Ok(());
    }
    let total = results.len();
    let mut failed: Vec<PageError> = Vec::new();
    for (index, how, result) in results {
        let Some(page) = x.pages.get_mut(index) else {
            continue;
        };
        page.how = how.map(String::from);
        match result {
            Ok(r) => {
                page.text = r.text;
                page.source = PageSource::Ocr;
                page.confidence = Some(r.confidence);
            }
            Err(e) => {
                page.error = Some(e.to_string());
                failed.push(e);
            }
        }
    }
    if failed.len() == total {
        let first = &failed[0];
        if failed.iter().all(PageError::is_transient) {
            // OCR itself is down (workers can't start): try the document again later.
            return Err(JobError::OcrUnavailable(first.to_string()));
        }
        x.error = Some(DocumentError::Unreadable {
            detail: first.to_string(),
            alasan: first.alasan(),
        });
    }
    Ok(())
}
