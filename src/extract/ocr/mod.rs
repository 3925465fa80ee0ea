//! OCR: page images in, text with a confidence out.
//!
//! Takes image files (JPEG with EXIF orientation, PNG, multi-page TIFF, GIF, WebP, BMP) and the pages
//! of scanned PDFs, turns each page into a grey [`PageImage`], and reads it with libtesseract 5 in a
//! pool of worker processes. Fails per page, never per worker: a bomb, a hang or a crash becomes an
//! [`OcrInputError`] or [`OcrError`] for that page, with a reason in English and in Bahasa Indonesia.
//!
//! ```text
//!  image file --raster::page_images----+
//!                                      +--> PageImage --OcrPool::ocr--> child `__ocr-worker`
//!  PDF page  --pdf_pages::PdfPages-----+     (grey, dpi,   (semaphore,     (engine: OSD, rotations,
//!              native DCT/Flate/CCITT,        `how`)        time limit,      PSM auto, mean conf)
//!              else `pdftoppm`                              respawn)
//! ```
//!
//! - [`page_images`]: every page of an image file; EXIF orientation applied, small photos upscaled.
//! - [`PdfPages`] / [`pdf_page_image`]: one PDF page's image, decoded natively where possible;
//!   [`PageImage::how`] records the path taken (`pdf-dct`, `pdf-flate`, `pdf-ccitt`, `pdf-raw`,
//!   `pdftoppm`). Pixel limits are checked from the image dictionary or the page box before decoding.
//! - [`OcrPool`]: N persistent worker processes (`<exe> __ocr-worker <languages>`, or any program
//!   given in [`OcrConfig`]) started with `OMP_THREAD_LIMIT=1`, one page each at a time, a time
//!   limit per page; a worker that times out or dies is killed and replaced.
//! - [`worker_main`]: the child side; the CLI calls it for the hidden `__ocr-worker` subcommand.
//! - [`Engine`]: in-process tesseract (used by the worker, and by tests).
//! - [`ocr_pdf_pages`]: the pages of one PDF through the pool, a bounded number in flight.

mod engine;
mod error;
mod handwriting;
mod layout;
mod pdf_decode;
mod pdf_pages;
mod pool;
mod protocol;
mod raster;
mod ruling;

pub use engine::{Engine, OcrResult};
pub use error::{OcrError, OcrInputError, PageError};
pub use handwriting::HandwritingSigns;
pub use layout::Layout;
pub use pdf_pages::{pdf_page_image, PdfPages};
pub use pool::{ocr_pdf_pages, OcrConfig, OcrPage, OcrPool};
pub use protocol::worker_main;
pub use raster::page_images;

use image::GrayImage;

/// One page ready for OCR.
#[derive(Debug, Clone)]
pub struct PageImage {
    /// Grey pixels, upright as far as the container says (EXIF, PDF /Rotate); OCR still detects
    /// pages scanned sideways or upside down.
    pub image: GrayImage,
    /// Resolution in dots per inch, measured (PDF page size, TIFF/PNG tags) or assumed (300).
    pub dpi: u32,
    /// How the pixels were obtained: `jpeg`, `png`, `tiff`, `gif`, `webp`, `bmp`, `pdf-dct`,
    /// `pdf-flate`, `pdf-ccitt`, `pdf-raw`, `pdftoppm`.
    pub how: &'static str,
}

/// Limits that keep one document from taking the worker's memory or time.
#[derive(Debug, Clone)]
pub struct RasterLimits {
    /// Largest image accepted, in pixels (width x height), checked before decoding.
    pub max_pixels: u64,
    /// Most pages read from one document; later pages are refused.
    pub max_pages: usize,
    /// Photos whose longer side is shorter than this are scaled up (at most 3x).
    pub upscale_below: u32,
    /// Resolution at which `pdftoppm` renders a page (lowered to stay within `max_pixels`).
    pub render_dpi: u32,
    /// Time limit for one `pdftoppm` run.
    pub render_timeout: std::time::Duration,
}

impl Default for RasterLimits {
    fn default() -> Self {
        RasterLimits {
            max_pixels: 60_000_000,
            max_pages: 200,
            upscale_below: 1400,
            render_dpi: 300,
            render_timeout: std::time::Duration::from_secs(30),
        }
    }
}
