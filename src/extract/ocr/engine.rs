//! In-process tesseract: one grey page in, text, mean confidence and the rotation that made it
//! readable out. Runs inside an OCR worker process (see `protocol`), or directly in tests.
//!
//! Orientation: the page is read as it comes; when that reading is poor, tesseract's OSD (the
//! `osd` traineddata) proposes a quarter turn, which is tried first, then the others, and the most
//! confident reading wins. A few degrees of skew are left to tesseract's own layout analysis.

use std::ffi::CString;

use image::{imageops, GrayImage};
use serde::{Deserialize, Serialize};
use tesseract::{PageSegMode, Tesseract};

use super::handwriting::HandwritingSigns;
use super::layout::{parse_tsv, reading_order, Layout};
use super::ruling::erase_rulings;

/// The text of one page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OcrResult {
    pub text: String,
    /// Tesseract's mean word confidence, 0-100.
    pub confidence: f32,
    /// Clockwise quarter turn (0, 90, 180, 270) applied to the page before it was read. A sideways
    /// page may also be read at 0: tesseract reads vertical text lines itself.
    pub rotation: u16,
    /// How the text was put in reading order (see [`super::layout`]).
    #[serde(default)]
    pub layout: Layout,
    /// What the words say about handwriting (see [`super::handwriting`]).
    #[serde(default)]
    pub handwriting: HandwritingSigns,
}

/// A reading this confident is accepted without trying other orientations.
const GOOD_CONFIDENCE: f32 = 65.0;
/// OSD below this confidence is ignored (short texts, photos).
const OSD_MIN_CONFIDENCE: f32 = 1.5;

/// A tesseract instance for the configured languages, plus OSD when its data is installed.
pub struct Engine {
    languages: String,
    tess: Option<Tesseract>,
    osd: Option<Osd>,
}

impl Engine {
    /// Load the languages (e.g. `ind+eng`). Fails when their traineddata is missing.
    pub fn new(languages: &str) -> Result<Engine, String> {
        let tess = Some(load(languages)?);
        Ok(Engine {
            languages: languages.to_string(),
            tess,
            osd: Osd::new(),
        })
    }

    /// Read one page. `dpi` 0 means unknown (tesseract estimates it from the text size).
    ///
    /// Ruled lines are erased first (see [`super::ruling`]). Most pages arrive upright, so the
    /// page is read as it is first; only a poor reading asks
    /// OSD (which costs about as much as reading the page) and then tries the other turns.
    pub fn recognize(&mut self, img: &GrayImage, dpi: u32) -> Result<OcrResult, String> {
        let erased = erase_rulings(img, dpi);
        let img = erased.as_ref().unwrap_or(img);
        let mut best = self.read_rotated(img, dpi, 0)?;
        if best.confidence >= GOOD_CONFIDENCE || alnum_count(&best.text) < 3 {
            return Ok(best);
        }
        let proposed = self.osd.as_mut().and_then(|o| o.rotation(img));
        let mut turns = vec![180, 90, 270];
        if let Some(p) = proposed.filter(|p| *p != 0) {
            turns.retain(|t| *t != p);
            turns.insert(0, p);
        }
        for rotation in turns {
            let other = self.read_rotated(img, dpi, rotation)?;
            if other.confidence > best.confidence + 5.0 {
                best = other;
            }
            if best.confidence >= GOOD_CONFIDENCE {
                break;
            }
        }
        Ok(best)
    }

    fn read_rotated(
        &mut self,
        img: &GrayImage,
        dpi: u32,
        rotation: u16,
    ) -> Result<OcrResult, String> {
        let turned;
        let page = match rotation {
            90 => {
                turned = imageops::rotate90(img);
                &turned
            }
            180 => {
                turned = imageops::rotate180(img);
                &turned
            }
            270 => {
                turned = imageops::rotate270(img);
                &turned
            }
            _ => img,
        };
        let (text, confidence, layout, handwriting) = self.read(page, dpi)?;
        Ok(OcrResult {
            text,
            confidence,
            rotation,
            layout,
            handwriting,
        })
    }

    /// One recognition with automatic segmentation; the reading order is then chosen from the
    /// blocks it found (see [`super::layout`]), so no page is read twice for its layout.
    fn read(&mut self, img: &GrayImage, dpi: u32) -> Result<Reading, String> {
        // The wrapper's builder methods consume the instance; after an error a fresh one is loaded.
        let tess = match self.tess.take() {
            Some(t) => t,
            None => load(&self.languages)?,
        };
        let (w, h) = (to_int(img.width())?, to_int(img.height())?);
        let mut tess = tess
            .set_frame(img.as_raw(), w, h, 1, w)
            .map_err(|e| format!("set image: {e}"))?;
        if dpi >= 70 {
            tess = tess.set_source_resolution(to_int(dpi)?);
        }
        let mut tess = tess.recognize().map_err(|e| format!("recognize: {e}"))?;
        let text = tess.get_text().map_err(|e| format!("get text: {e}"))?;
        let confidence = tess.mean_text_conf() as f32;
        let tsv = tess
            .get_tsv_text(0)
            .map_err(|e| format!("get words: {e}"))?;
        self.tess = Some(tess);
        let words = parse_tsv(&tsv);
        let (layout, ordered) = reading_order(&words);
        let text = ordered.unwrap_or(text);
        let signs = HandwritingSigns::of(&words);
        Ok((text.trim_end().to_string(), confidence, layout, signs))
    }
}

/// Text, mean confidence, reading order, handwriting signs.
type Reading = (String, f32, Layout, HandwritingSigns);

fn load(languages: &str) -> Result<Tesseract, String> {
    let mut tess = Tesseract::new(None, Some(languages))
        .map_err(|e| format!("load languages {languages}: {e}"))?;
    // The C API defaults to one uniform block; automatic segmentation reads forms far better and
    // finds columns; `layout` then puts its blocks in reading order.
    tess.set_page_seg_mode(PageSegMode::PsmAuto);
    // Resolution guesses and similar notes would go to the worker's stderr for every page.
    tess.set_variable("debug_file", "/dev/null")
        .map_err(|e| format!("set variable: {e}"))
}

fn to_int(v: u32) -> Result<i32, String> {
    i32::try_from(v).map_err(|_| format!("dimension {v} too large"))
}

fn alnum_count(s: &str) -> usize {
    s.chars().filter(|c| c.is_alphanumeric()).count()
}

/// Orientation detection through the C API (the safe wrapper does not expose it).
struct Osd(*mut tesseract_sys::TessBaseAPI);

// SAFETY: a TessBaseAPI handle has no thread affinity; `Osd` is used by one thread at a time (&mut).
unsafe impl Send for Osd {}

impl Osd {
    /// `None` when the `osd` traineddata is not installed.
    fn new() -> Option<Osd> {
        let lang = CString::new("osd").ok()?;
        // SAFETY: a fresh handle, initialised once, deleted in Drop.
        unsafe {
            let handle = tesseract_sys::TessBaseAPICreate();
            if handle.is_null() {
                return None;
            }
            let osd = Osd(handle);
            let debug = c"debug_file";
            let devnull = c"/dev/null";
            tesseract_sys::TessBaseAPISetVariable(handle, debug.as_ptr(), devnull.as_ptr());
            if tesseract_sys::TessBaseAPIInit3(handle, std::ptr::null(), lang.as_ptr()) != 0 {
                return None;
            }
            Some(osd)
        }
    }

    /// The clockwise quarter turn that makes the page upright, when OSD is confident.
    fn rotation(&mut self, img: &GrayImage) -> Option<u16> {
        let (w, h) = (to_int(img.width()).ok()?, to_int(img.height()).ok()?);
        let (mut deg, mut conf, mut script_conf) = (0, 0.0f32, 0.0f32);
        let mut script: *const std::os::raw::c_char = std::ptr::null();
        // SAFETY: the pixel buffer outlives both calls; w*h bytes at 1 byte per pixel.
        let ok = unsafe {
            tesseract_sys::TessBaseAPISetImage(self.0, img.as_raw().as_ptr(), w, h, 1, w);
            let ok = tesseract_sys::TessBaseAPIDetectOrientationScript(
                self.0,
                &mut deg,
                &mut conf,
                &mut script,
                &mut script_conf,
            );
            tesseract_sys::TessBaseAPIClear(self.0);
            ok
        };
        if ok == 0 || conf < OSD_MIN_CONFIDENCE {
            return None;
        }
        // OSD reports how far the page is turned counter-clockwise; undo it clockwise.
        Some(((360 - deg.rem_euclid(360)) % 360) as u16)
    }
}

impl Drop for Osd {
    fn drop(&mut self) {
        // SAFETY: the handle came from TessBaseAPICreate and is deleted once.
        unsafe {
            tesseract_sys::TessBaseAPIEnd(self.0);
            tesseract_sys::TessBaseAPIDelete(self.0);
        }
    }
}
