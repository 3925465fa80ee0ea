//! OCR within the extract step: pages marked `NeedsOcr` get their text from the OCR pool.
//!
//! PDF pages are turned into images one at a time (native decoding, or `pdftoppm` for what we
//! can't decode) and read in parallel by the pool's worker processes; image files give one page
//! per image (multi-page TIFF: several). A page that fails keeps its reason; a document none of
//! whose pages could be read gets that reason as its error, in both languages.
//!
//! Each page is checkpointed as soon as it is read ([`PageLog`]): a step that stops half-way
//! through a long scan resumes at the next page. How a page can fail:
//! - the OCR worker can't be started: OCR is down; the step stops and is retried later;
//! - the worker dies on the page: the page is tried again at once (the pool starts a fresh
//!   worker); after [`OcrError::CRASH_LIMIT`] deaths, counted across attempts, the page is
//!   unreadable and the document goes on without it;
//! - anything else (time limit, engine error, a page that can't be made into an image) is
//!   permanent for that page.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use tracing::warn;

use super::{crash_point, JobError};
use crate::extract::document::{DocumentError, Extraction, PageSource, PageText};
use crate::extract::ocr::{
    page_images, OcrError, OcrInputError, OcrPool, PageError, PageImage, PdfPages, RasterLimits,
};
use crate::extract::sniff;
use crate::filing::pages::{self, PageOutcome};
use crate::filing::DocumentId;
use crate::filing::Store;

/// Fill in the OCR pages of `x` without keeping checkpoints (`rules explain`); an error only
/// when OCR itself is unavailable (retry later).
pub async fn fill(pool: &OcrPool, data: Arc<Vec<u8>>, x: &mut Extraction) -> Result<(), JobError> {
    fill_checkpointed(pool, data, x, &PageLog::in_memory()).await
}

/// Fill in the OCR pages of `x`, skipping the pages `log` already holds and adding each page
/// to it as soon as it is read.
pub(crate) async fn fill_checkpointed(
    pool: &OcrPool,
    data: Arc<Vec<u8>>,
    x: &mut Extraction,
    log: &PageLog,
) -> Result<(), JobError> {
    if x.error.is_some() || !x.pages.iter().any(|p| p.source == PageSource::NeedsOcr) {
        return Ok(());
    }
    let Some((pages, indices)) = open(data, x).await? else {
        return Ok(());
    };
    let mut reads = log.finished().await?;
    let todo: Vec<usize> = indices
        .iter()
        .copied()
        .filter(|i| !reads.contains_key(i))
        .collect();
    let fresh = futures::stream::iter(todo)
        .map(|index| {
            let pages = &pages;
            async move { read_page(pool, log, pages, index).await.map(|r| (index, r)) }
        })
        .buffered(pool.workers())
        .collect::<Vec<_>>()
        .await;
    for result in fresh {
        let (index, read) = result?;
        reads.insert(index, read);
    }
    apply(x, &indices, reads);
    Ok(())
}

/// One page's result: how its image was made, and its text or why it has none.
#[derive(Debug, Clone)]
struct Read {
    how: Option<String>,
    outcome: PageOutcome,
}

impl Read {
    fn failed(how: Option<&str>, e: &PageError) -> Read {
        Read {
            how: how.map(String::from),
            outcome: PageOutcome::Unreadable {
                error: e.to_string(),
                alasan: e.alasan(),
            },
        }
    }
}

/// Where page results are kept between attempts of the extract step.
pub(crate) struct PageLog {
    /// The document's rows in the database; `None`: results live only as long as this value.
    store: Option<(Store, DocumentId)>,
    crashes: Mutex<HashMap<usize, u32>>,
}

impl PageLog {
    /// Checkpoints of document `document_id` in `page_results`.
    pub(crate) fn checkpointed(store: Store, document_id: DocumentId) -> PageLog {
        PageLog {
            store: Some((store, document_id)),
            crashes: Mutex::default(),
        }
    }

    pub(crate) fn in_memory() -> PageLog {
        PageLog {
            store: None,
            crashes: Mutex::default(),
        }
    }

    /// The pages read in earlier attempts.
    async fn finished(&self) -> Result<BTreeMap<usize, Read>, JobError> {
        let Some((store, doc)) = &self.store else {
            return Ok(BTreeMap::new());
        };
        let rows = pages::load(store, *doc).await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let how = r.how;
                r.outcome.map(|outcome| (r.page, Read { how, outcome }))
            })
            .collect())
    }

    async fn save(&self, index: usize, read: &Read) -> Result<(), JobError> {
        if let Some((store, doc)) = &self.store {
            pages::save(store, *doc, index, read.how.as_deref(), &read.outcome).await?;
        }
        Ok(())
    }

    /// Count a worker that died on the page; how many have, in this and earlier attempts.
    async fn crashed(&self, index: usize) -> Result<u32, JobError> {
        if let Some((store, doc)) = &self.store {
            return Ok(pages::record_crash(store, *doc, index).await?);
        }
        let mut crashes = self.crashes.lock().unwrap_or_else(|p| p.into_inner());
        let n = crashes.entry(index).or_default();
        *n += 1;
        Ok(*n)
    }
}

/// Where page images come from.
enum Pages {
    /// Decoded one page at a time, so memory stays bounded however long the document.
    Pdf(Arc<PdfPages>),
    /// The pages of an image file, all decoded already.
    Images(Vec<PageImage>),
}

impl Pages {
    async fn image(&self, index: usize) -> Result<PageImage, PageError> {
        match self {
            Pages::Pdf(pdf) => {
                let pdf = Arc::clone(pdf);
                tokio::task::spawn_blocking(move || pdf.page_image(index))
                    .await
                    .map_err(|e| OcrInputError::Corrupt {
                        kind: "PDF",
                        detail: format!("page {}: decoder stopped: {e}", index + 1),
                    })?
                    .map_err(PageError::from)
            }
            Pages::Images(images) => images.get(index).cloned().ok_or_else(|| {
                OcrInputError::NoSuchPage {
                    page: index,
                    pages: images.len(),
                }
                .into()
            }),
        }
    }
}

/// The document's page images and the indices of the pages OCR must read; `None` (with
/// `x.error` set) when the file gives no images at all.
async fn open(
    data: Arc<Vec<u8>>,
    x: &mut Extraction,
) -> Result<Option<(Pages, Vec<usize>)>, JobError> {
    let opened = if x.content_type == sniff::PDF {
        tokio::task::spawn_blocking(move || PdfPages::open(&data, &RasterLimits::default()))
            .await
            .map_err(|e| JobError::Panic(e.to_string()))?
            .map(|pdf| Pages::Pdf(Arc::new(pdf)))
    } else {
        let ct = x.content_type.clone();
        tokio::task::spawn_blocking(move || page_images(&data, &ct, &RasterLimits::default()))
            .await
            .map_err(|e| JobError::Panic(e.to_string()))?
            .map(Pages::Images)
    };
    let pages = match opened {
        Ok(pages) => pages,
        Err(e) => {
            x.error = Some(DocumentError::Unreadable {
                detail: e.to_string(),
                alasan: e.alasan(),
            });
            return Ok(None);
        }
    };
    if let Pages::Images(images) = &pages {
        x.pages = images.iter().map(|_| needs_ocr()).collect();
    }
    let indices = x
        .pages
        .iter()
        .enumerate()
        .filter(|(_, p)| p.source == PageSource::NeedsOcr)
        .map(|(i, _)| i)
        .collect();
    Ok(Some((pages, indices)))
}

/// Read one page and checkpoint it at once.
async fn read_page(
    pool: &OcrPool,
    log: &PageLog,
    pages: &Pages,
    index: usize,
) -> Result<Read, JobError> {
    let read = loop {
        let image = match pages.image(index).await {
            Ok(image) => image,
            Err(e) => break Read::failed(None, &e),
        };
        let how = image.how;
        let started = std::time::Instant::now();
        let result = pool.ocr(image).await;
        if !matches!(result, Err(OcrError::Spawn { .. })) {
            crate::telemetry::metrics::ocr_page(result.is_ok(), started.elapsed());
        }
        match result {
            Ok(r) => {
                break Read {
                    how: Some(how.into()),
                    outcome: PageOutcome::Text {
                        handwriting: r.handwriting.handwritten(),
                        text: r.text,
                        confidence: r.confidence,
                    },
                }
            }
            Err(e @ OcrError::Spawn { .. }) => return Err(JobError::OcrUnavailable(e.to_string())),
            Err(OcrError::WorkerDied(why)) => {
                let crashes = log.crashed(index).await?;
                warn!(page = index + 1, crashes, why = %why, "OCR worker died reading a page");
                if crashes >= OcrError::CRASH_LIMIT {
                    break Read::failed(Some(how), &OcrError::CrashedTwice(why).into());
                }
            }
            Err(e) => break Read::failed(Some(how), &e.into()),
        }
    };
    log.save(index, &read).await?;
    crash_point(&format!("ocr_page_{}", index + 1));
    Ok(read)
}

fn needs_ocr() -> PageText {
    PageText {
        text: String::new(),
        source: PageSource::NeedsOcr,
        confidence: None,
        how: None,
        error: None,
        handwriting: false,
    }
}

/// Put the page results into the pages; a document none of whose OCR pages could be read is
/// unreadable, with the first page's reason.
fn apply(x: &mut Extraction, indices: &[usize], mut reads: BTreeMap<usize, Read>) {
    let mut failed: Vec<(String, String)> = Vec::new();
    for &index in indices {
        let (Some(page), Some(read)) = (x.pages.get_mut(index), reads.remove(&index)) else {
            continue;
        };
        page.how = read.how;
        match read.outcome {
            PageOutcome::Text {
                text,
                confidence,
                handwriting,
            } => {
                page.text = text;
                page.source = PageSource::Ocr;
                page.confidence = Some(confidence);
                page.handwriting = handwriting;
            }
            PageOutcome::Unreadable { error, alasan } => {
                page.error = Some(error.clone());
                failed.push((error, alasan));
            }
        }
    }
    if !indices.is_empty() && failed.len() == indices.len() {
        let (detail, alasan) = failed.swap_remove(0);
        x.error = Some(DocumentError::Unreadable { detail, alasan });
    }
}
