//! The image of one PDF page, for pages whose text layer is missing or too thin.
//!
//! Native path: the page's one large image XObject is decoded as it is stored (see `pdf_decode`),
//! then turned by the page's `/Rotate`. Render path (`pdftoppm`): pages with no image, several
//! large images, a small image on a larger page, or an image codec not decoded here (JBIG2, JPX).
//! Both paths check the pixel limit before any pixel is made: an image by its `/Width` and
//! `/Height`, a rendering by the page size at the chosen resolution.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use image::{imageops, GrayImage};
use lopdf::{Dictionary, Document, Object, ObjectId, Stream};

use super::pdf_decode::{decode, Decoded};
use super::{OcrInputError, PageImage, RasterLimits};
use crate::extract::pdf::load_guarded;

/// Renderings below this resolution read poorly; a page that only fits the pixel limit below it
/// is refused rather than rendered.
const MIN_RENDER_DPI: f64 = 100.0;

/// A parsed PDF whose pages can be turned into images one at a time (parse once, read many).
pub struct PdfPages {
    doc: Document,
    data: Arc<[u8]>,
    pages: Vec<ObjectId>,
    limits: RasterLimits,
}

/// The image of one page; parses the PDF each call (use [`PdfPages`] for several pages).
pub fn pdf_page_image(
    pdf: &[u8],
    page_index: usize,
    limits: &RasterLimits,
) -> Result<PageImage, OcrInputError> {
    PdfPages::open(pdf, limits)?.page_image(page_index)
}

impl PdfPages {
    /// Parse `pdf` behind the guard of [`crate::extract::pdf::load_guarded`] (bounded streams,
    /// page limit, a lopdf panic becomes `Corrupt`).
    pub fn open(pdf: &[u8], limits: &RasterLimits) -> Result<PdfPages, OcrInputError> {
        let doc = load_guarded(pdf).map_err(|e| OcrInputError::Corrupt {
            kind: "PDF",
            detail: e.to_string(),
        })?;
        Ok(Self::from_document(doc, pdf, limits))
    }

    /// Pages of a document already parsed (by [`crate::extract::pdf::with_document`]); `pdf`
    /// is its source, for pages that are rendered.
    pub fn from_document(doc: Document, pdf: &[u8], limits: &RasterLimits) -> PdfPages {
        let pages = doc.get_pages().into_values().collect();
        PdfPages {
            doc,
            data: pdf.into(),
            pages,
            limits: limits.clone(),
        }
    }

    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// The page's image (index from 0); [`PageImage::how`] says which path made it.
    pub fn page_image(&self, index: usize) -> Result<PageImage, OcrInputError> {
        if index >= self.limits.max_pages {
            return Err(OcrInputError::TooManyPages {
                pages: self.pages.len(),
                limit: self.limits.max_pages,
            });
        }
        let Some(&id) = self.pages.get(index) else {
            return Err(OcrInputError::NoSuchPage {
                page: index,
                pages: self.pages.len(),
            });
        };
        let page = self
            .doc
            .get_dictionary(id)
            .map_err(|e| OcrInputError::Corrupt {
                kind: "PDF",
                detail: format!("page {}: {e}", index + 1),
            })?;
        let geometry = Geometry::of(&self.doc, page);
        let why = match self.native(index, page, &geometry)? {
            Ok(img) => return Ok(img),
            Err(why) => why,
        };
        tracing::debug!(page = index + 1, why = %why, "rendering PDF page with pdftoppm");
        self.render(index, &geometry)
    }

    /// `Ok(Err(reason))`: not decodable here, render instead.
    fn native(
        &self,
        index: usize,
        page: &Dictionary,
        g: &Geometry,
    ) -> Result<Result<PageImage, String>, OcrInputError> {
        let mut images = page_images(&self.doc, page);
        images.sort_by_key(|(w, h, _)| std::cmp::Reverse(u64::from(*w) * u64::from(*h)));
        let Some(&(w, h, stream)) = images.first() else {
            return Ok(Err("no image on the page".into()));
        };
        let area = u64::from(w) * u64::from(h);
        if area > self.limits.max_pixels {
            return Err(OcrInputError::TooManyPixels {
                page: index,
                width: w.into(),
                height: h.into(),
                limit: self.limits.max_pixels,
            });
        }
        if images
            .get(1)
            .is_some_and(|(w2, h2, _)| u64::from(*w2) * u64::from(*h2) * 10 >= area)
        {
            return Ok(Err("several images make up the page".into()));
        }
        // Assume the image fills the page (as scanners write it); if that gives a silly
        // resolution it is a picture on a vector page, and the page is what must be read.
        let (pw, ph) = if g.rotate.is_multiple_of(180) {
            (g.w_in, g.h_in)
        } else {
            (g.h_in, g.w_in)
        };
        if !square_pixels(w, h, g) && self.render_dpi(g).is_some() {
            return Ok(Err(format!(
                "the {w}x{h} image is stretched to fill the page (pixels not square)"
            )));
        }
        let mut dpi = f64::from(w.max(h)) / pw.max(ph);
        if dpi < 70.0 {
            if self.render_dpi(g).is_some() {
                return Ok(Err(format!("image at {dpi:.0} dpi does not fill the page")));
            }
            // A page too large to render (a poster with /UserUnit): its image is all there is.
            dpi = 0.0;
        }
        match decode(&self.doc, stream, w, h) {
            Decoded::Gray(img, how) => Ok(Ok(PageImage {
                image: rotate(img, g.rotate),
                dpi: dpi.round() as u32,
                how,
            })),
            Decoded::Render(why) => Ok(Err(why)),
        }
    }

    /// The resolution to render the page at within the pixel limit, if a useful one exists.
    fn render_dpi(&self, g: &Geometry) -> Option<u32> {
        let area_in = (g.w_in * g.h_in).max(1e-6);
        let fit = (self.limits.max_pixels as f64 / area_in).sqrt();
        let dpi = f64::from(self.limits.render_dpi).min(fit);
        (dpi >= MIN_RENDER_DPI).then(|| dpi.floor() as u32)
    }

    fn render(&self, index: usize, g: &Geometry) -> Result<PageImage, OcrInputError> {
        let Some(dpi) = self.render_dpi(g) else {
            return Err(OcrInputError::TooManyPixels {
                page: index,
                width: (g.w_in * MIN_RENDER_DPI) as u64,
                height: (g.h_in * MIN_RENDER_DPI) as u64,
                limit: self.limits.max_pixels,
            });
        };
        let image = pdftoppm(&self.data, index, dpi, self.limits.render_timeout)?;
        Ok(PageImage {
            image,
            dpi,
            how: "pdftoppm",
        })
    }
}

/// Page size in inches (MediaBox x UserUnit) and `/Rotate`, both inheritable.
struct Geometry {
    w_in: f64,
    h_in: f64,
    rotate: u32,
}

impl Geometry {
    fn of(doc: &Document, page: &Dictionary) -> Geometry {
        let num = |o: &Object| -> Option<f64> {
            let o = doc.dereference(o).ok()?.1;
            o.as_float()
                .ok()
                .map(f64::from)
                .or_else(|| o.as_i64().ok().map(|v| v as f64))
        };
        let media = inherited(doc, page, b"MediaBox")
            .and_then(|o| doc.dereference(o).ok()?.1.as_array().ok())
            .and_then(|a| {
                Some([
                    num(a.first()?)?,
                    num(a.get(1)?)?,
                    num(a.get(2)?)?,
                    num(a.get(3)?)?,
                ])
            })
            .unwrap_or([0.0, 0.0, 612.0, 792.0]);
        let unit = page.get(b"UserUnit").ok().and_then(num).unwrap_or(1.0);
        let rotate = inherited(doc, page, b"Rotate").and_then(num).unwrap_or(0.0) as i64;
        Geometry {
            w_in: (media[2] - media[0]).abs() * unit / 72.0,
            h_in: (media[3] - media[1]).abs() * unit / 72.0,
            rotate: rotate.rem_euclid(360) as u32 / 90 * 90,
        }
    }
}

/// A page attribute, looked up through the page tree's /Parent chain.
fn inherited<'a>(doc: &'a Document, page: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
    let mut node = page;
    for _ in 0..32 {
        if let Ok(v) = node.get(key) {
            return Some(v);
        }
        node = doc
            .get_dictionary(node.get(b"Parent").ok()?.as_reference().ok()?)
            .ok()?;
    }
    None
}

/// Image XObjects in the page's resources, with their declared size. Images inside form
/// XObjects are not looked at: such pages are rendered.
fn page_images<'a>(doc: &'a Document, page: &'a Dictionary) -> Vec<(u32, u32, &'a Stream)> {
    let resources =
        inherited(doc, page, b"Resources").and_then(|o| doc.dereference(o).ok()?.1.as_dict().ok());
    let xobjects = resources
        .and_then(|r| r.get(b"XObject").ok())
        .and_then(|o| doc.dereference(o).ok()?.1.as_dict().ok());
    let Some(xobjects) = xobjects else {
        return Vec::new();
    };
    let dim = |d: &Dictionary, k: &[u8]| -> Option<u32> {
        let v = doc.dereference(d.get(k).ok()?).ok()?.1.as_i64().ok()?;
        u32::try_from(v).ok().filter(|v| *v > 0)
    };
    xobjects
        .iter()
        .filter_map(|(_, o)| doc.dereference(o).ok()?.1.as_stream().ok())
        .filter(|s| s.dict.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Image"))
        .filter_map(|s| Some((dim(&s.dict, b"Width")?, dim(&s.dict, b"Height")?, s)))
        .collect()
}

/// Turn the image clockwise by the page's /Rotate, as a viewer shows it.
/// Whether a `w` x `h` image that fills the page has (about) the same resolution across and
/// down, either way round. A fax at 200 x 100 dpi, drawn stretched to the page, must be read as
/// it looks on the page: decoded as it is, every letter is half its height and OCR finds nothing.
/// Which way round the image is drawn is not known here (scanners draw it turned under /Rotate),
/// so either way counts; on A-series paper a 2:1 stretch happens to look like a turned square.
fn square_pixels(w: u32, h: u32, g: &Geometry) -> bool {
    let (w, h) = (f64::from(w), f64::from(h));
    let square = |across: f64, down: f64| {
        let ratio = (w / across) / (h / down);
        (0.9..=1.1).contains(&ratio)
    };
    square(g.w_in, g.h_in) || square(g.h_in, g.w_in)
}

fn rotate(img: GrayImage, degrees: u32) -> GrayImage {
    match degrees {
        90 => imageops::rotate90(&img),
        180 => imageops::rotate180(&img),
        270 => imageops::rotate270(&img),
        _ => img,
    }
}

/// Render one page to grey with poppler's `pdftoppm`, the PDF on its stdin, PGM on its stdout.
fn pdftoppm(
    pdf: &Arc<[u8]>,
    index: usize,
    dpi: u32,
    limit: Duration,
) -> Result<GrayImage, OcrInputError> {
    let page = index + 1;
    let failed = |detail: String| OcrInputError::Render {
        page: index,
        detail,
    };
    let mut child = Command::new("pdftoppm")
        .args(["-f", &page.to_string(), "-l", &page.to_string()])
        .args(["-r", &dpi.to_string(), "-gray", "fd://0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| failed(format!("cannot start pdftoppm: {e}")))?;
    let (Some(mut stdin), Some(mut stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(failed("no pipes".into()));
    };
    let input = Arc::clone(pdf);
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        stdout.read_to_end(&mut out).map(|_| out)
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(OcrInputError::RenderTimeout {
                    page: index,
                    secs: limit.as_secs(),
                });
            }
        }
    };
    let _ = writer.join();
    let out = reader
        .join()
        .map_err(|_| failed("reader thread".into()))?
        .map_err(|e| failed(e.to_string()))?;
    if !status.success() {
        return Err(failed(format!("pdftoppm {status}")));
    }
    parse_pgm(out).ok_or_else(|| failed("unreadable PGM output".into()))
}

/// A binary PGM (`P5`, 8-bit) as pdftoppm writes it.
fn parse_pgm(data: Vec<u8>) -> Option<GrayImage> {
    let mut fields = Vec::new();
    let mut pos = 0;
    while fields.len() < 4 {
        while data.get(pos)?.is_ascii_whitespace() {
            pos += 1;
        }
        let start = pos;
        while !data.get(pos)?.is_ascii_whitespace() {
            pos += 1;
        }
        fields.push(std::str::from_utf8(&data[start..pos]).ok()?.to_string());
    }
    let (w, h): (u32, u32) = (fields[1].parse().ok()?, fields[2].parse().ok()?);
    if fields[0] != "P5" || fields[3] != "255" {
        return None;
    }
    let pixels = data
        .get(pos + 1..pos + 1 + (w as usize) * (h as usize))?
        .to_vec();
    GrayImage::from_raw(w, h, pixels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgm_header_is_parsed() {
        let mut data = b"P5\n3 2\n255\n".to_vec();
        data.extend_from_slice(&[1, 2, 3, 4, 5, 6]);
        let img = parse_pgm(data).unwrap();
        assert_eq!(
            (img.width(), img.height(), img.get_pixel(2, 1).0[0]),
            (3, 2, 6)
        );
    }

    #[test]
    fn a_fax_at_200_by_100_dpi_is_not_square_but_a_scan_either_way_round_is() {
        let letter = Geometry {
            w_in: 8.5,
            h_in: 11.0,
            rotate: 0,
        };
        assert!(square_pixels(2550, 3300, &letter), "300 dpi scan");
        assert!(square_pixels(3300, 2550, &letter), "drawn sideways");
        assert!(!square_pixels(1700, 1100, &letter), "200 x 100 dpi");
        // OCRmyPDF's aspect.pdf: 1000x400 pixels on a 5 x 4 inch page.
        let card = Geometry {
            w_in: 5.0,
            h_in: 4.0,
            rotate: 0,
        };
        assert!(!square_pixels(1000, 400, &card));
    }
}
