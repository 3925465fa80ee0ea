//! Image files into page images: decode with `image` (multi-page TIFF with `tiff`), apply the EXIF
//! orientation, go grey, scale small photos up. Dimensions are checked before any pixel is decoded.

use std::io::Cursor;

use image::{
    imageops::FilterType, DynamicImage, GrayImage, ImageDecoder, ImageFormat, ImageReader,
};

use super::{OcrInputError, PageImage, RasterLimits};

/// Every page of an image file, upright as its metadata says, grey, at an OCR-friendly size.
///
/// The format is sniffed from the bytes; `content_type` only names formats that cannot be read
/// (HEIC). A multi-page TIFF gives one page per image directory.
pub fn page_images(
    data: &[u8],
    content_type: &str,
    limits: &RasterLimits,
) -> Result<Vec<PageImage>, OcrInputError> {
    if is_heif(data) || content_type.contains("heic") || content_type.contains("heif") {
        // iPhone photos. Converted by libheif's `heif-convert` in a child process (like
        // `pdftoppm` for PDFs): no C binding in the worker, and a hostile file can only take
        // that process down.
        let jpeg = heif_to_jpeg(data, limits)?;
        return page_images(&jpeg, "image/jpeg", limits);
    }
    let format = image::guess_format(data)
        .map_err(|_| OcrInputError::Unsupported(content_type.to_string()))?;
    if format == ImageFormat::Tiff {
        return tiff_pages(data, limits);
    }
    let how = format_name(format);
    let img = decode_oriented(data, format, limits)?;
    Ok(vec![prepare(img, 0, how, limits)])
}

fn format_name(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Jpeg => "jpeg",
        ImageFormat::Png => "png",
        ImageFormat::Gif => "gif",
        ImageFormat::WebP => "webp",
        ImageFormat::Bmp => "bmp",
        ImageFormat::Tiff => "tiff",
        _ => "image",
    }
}

/// HEIC/HEIF to JPEG with `heif-convert` (Debian: libheif-examples), within the render time limit.
fn heif_to_jpeg(data: &[u8], limits: &RasterLimits) -> Result<Vec<u8>, OcrInputError> {
    let unsupported = |why: String| OcrInputError::Unsupported(format!("HEIC ({why})"));
    let dir = tempfile::tempdir().map_err(|e| unsupported(e.to_string()))?;
    let (input, output) = (dir.path().join("in.heic"), dir.path().join("out.jpg"));
    std::fs::write(&input, data).map_err(|e| unsupported(e.to_string()))?;
    let mut child = std::process::Command::new("heif-convert")
        .arg("-q")
        .arg("92")
        .arg(&input)
        .arg(&output)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| unsupported(format!("heif-convert: {e}")))?;
    let deadline = std::time::Instant::now() + limits.render_timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => break,
            Ok(Some(_)) => {
                return Err(OcrInputError::Corrupt {
                    kind: "HEIC",
                    detail: "heif-convert could not read it".into(),
                })
            }
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(unsupported("conversion took too long".into()));
            }
        }
    }
    std::fs::read(&output).map_err(|e| unsupported(e.to_string()))
}

fn is_heif(data: &[u8]) -> bool {
    data.len() > 12
        && &data[4..8] == b"ftyp"
        && [
            &b"heic"[..],
            b"heix",
            b"mif1",
            b"msf1",
            b"heim",
            b"heis",
            b"avif",
        ]
        .contains(&&data[8..12])
}

fn corrupt(e: impl std::fmt::Display) -> OcrInputError {
    OcrInputError::Corrupt {
        kind: "image",
        detail: e.to_string(),
    }
}

fn check_pixels(page: usize, w: u64, h: u64, limits: &RasterLimits) -> Result<(), OcrInputError> {
    if w.saturating_mul(h) > limits.max_pixels {
        return Err(OcrInputError::TooManyPixels {
            page,
            width: w,
            height: h,
            limit: limits.max_pixels,
        });
    }
    Ok(())
}

/// Decode one image, refusing it by its header dimensions first, then turn it upright (EXIF).
fn decode_oriented(
    data: &[u8],
    format: ImageFormat,
    limits: &RasterLimits,
) -> Result<DynamicImage, OcrInputError> {
    let reader = ImageReader::with_format(Cursor::new(data), format);
    let (w, h) = reader.into_dimensions().map_err(corrupt)?;
    check_pixels(0, w.into(), h.into(), limits)?;
    let mut decoder = ImageReader::with_format(Cursor::new(data), format)
        .into_decoder()
        .map_err(corrupt)?;
    let orientation = decoder.orientation().map_err(corrupt)?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    img.apply_orientation(orientation);
    Ok(img)
}

/// Grey, and scaled up when the longer side is short (phone crops, screenshots of ID cards).
pub(super) fn prepare(
    img: DynamicImage,
    dpi: u32,
    how: &'static str,
    limits: &RasterLimits,
) -> PageImage {
    let gray = img.into_luma8();
    let (image, dpi) = upscale(gray, dpi, limits.upscale_below);
    PageImage { image, dpi, how }
}

fn upscale(img: GrayImage, dpi: u32, below: u32) -> (GrayImage, u32) {
    let long = img.width().max(img.height());
    if long == 0 || long >= below {
        return (img, dpi);
    }
    let factor = (f64::from(below) / f64::from(long)).min(3.0);
    let w = (f64::from(img.width()) * factor).round() as u32;
    let h = (f64::from(img.height()) * factor).round() as u32;
    let scaled = image::imageops::resize(&img, w, h, FilterType::CatmullRom);
    (scaled, (f64::from(dpi) * factor).round() as u32)
}

/// Each directory of a TIFF as a page. Office scanners and fax servers send multi-page G4 TIFFs.
fn tiff_pages(data: &[u8], limits: &RasterLimits) -> Result<Vec<PageImage>, OcrInputError> {
    let mut dec = tiff::decoder::Decoder::new(Cursor::new(data)).map_err(corrupt)?;
    let mut pages = Vec::new();
    loop {
        let index = pages.len();
        if index >= limits.max_pages {
            return Err(OcrInputError::TooManyPages {
                pages: index + 1,
                limit: limits.max_pages,
            });
        }
        let (w, h) = dec.dimensions().map_err(corrupt)?;
        check_pixels(index, w.into(), h.into(), limits)?;
        let gray = match tiff_gray(&mut dec, w, h)? {
            Some(g) => g,
            // Colour models `tiff` leaves raw (palette, CMYK, YCbCr): the `image` crate converts
            // them, but only reads the first directory.
            None if index == 0 => decode_oriented(data, ImageFormat::Tiff, limits)?.into_luma8(),
            None => return Err(OcrInputError::Unsupported("TIFF colour model".into())),
        };
        pages.push(prepare(DynamicImage::ImageLuma8(gray), 0, "tiff", limits));
        if !dec.more_images() {
            return Ok(pages);
        }
        dec.next_image().map_err(corrupt)?;
    }
}

fn tiff_gray(
    dec: &mut tiff::decoder::Decoder<Cursor<&[u8]>>,
    w: u32,
    h: u32,
) -> Result<Option<GrayImage>, OcrInputError> {
    use tiff::decoder::DecodingResult as D;
    use tiff::ColorType as C;
    let color = dec.colortype().map_err(corrupt)?;
    let raw = dec.read_image().map_err(corrupt)?;
    let (wu, hu) = (w as usize, h as usize);
    let px: Vec<u8> = match (color, raw) {
        // Bilevel rows are packed MSB first and padded to a byte; `tiff` already turned
        // WhiteIsZero into BlackIsZero, so a set bit is white.
        (C::Gray(1), D::U8(v)) => {
            let stride = wu.div_ceil(8);
            let mut out = Vec::with_capacity(wu * hu);
            for row in v.chunks(stride).take(hu) {
                out.extend((0..wu).map(|x| {
                    if row[x / 8] & (0x80 >> (x % 8)) != 0 {
                        255
                    } else {
                        0
                    }
                }));
            }
            out
        }
        (C::Gray(8), D::U8(v)) => v,
        (C::Gray(16), D::U16(v)) => v.iter().map(|s| (s >> 8) as u8).collect(),
        (C::GrayA(8), D::U8(v)) => v.chunks(2).map(|p| p[0]).collect(),
        (C::RGB(8), D::U8(v)) => v.chunks(3).map(luma).collect(),
        (C::RGBA(8), D::U8(v)) => v.chunks(4).map(luma).collect(),
        _ => return Ok(None),
    };
    Ok(GrayImage::from_raw(w, h, px))
}

/// ITU-R BT.601 luma, as `image` computes it.
fn luma(p: &[u8]) -> u8 {
    ((u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114) / 1000) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_images_are_scaled_up_at_most_three_times() {
        let (img, dpi) = upscale(GrayImage::new(100, 50), 100, 1400);
        assert_eq!((img.width(), img.height(), dpi), (300, 150, 300));
        let (img, _) = upscale(GrayImage::new(2000, 50), 0, 1400);
        assert_eq!(img.width(), 2000);
    }

    #[test]
    fn a_broken_heic_is_refused_with_a_reason() {
        let mut data = vec![0, 0, 0, 24];
        data.extend_from_slice(b"ftypheic\0\0\0\0");
        let err = page_images(&data, "image/heic", &RasterLimits::default()).unwrap_err();
        assert!(
            matches!(
                err,
                OcrInputError::Corrupt { kind: "HEIC", .. } | OcrInputError::Unsupported(_)
            ),
            "{err:?}"
        );
    }
}
