//! One PDF image XObject into grey pixels, without rendering the page.
//!
//! Handled natively: DCT (JPEG, via `image`), CCITT G3 1-D and G4 (via `fax`, honouring
//! `BlackIs1` and `/Decode`), and samples behind Flate (with PNG/TIFF predictors), LZW, RunLength
//! and ASCII filters (via lopdf) in DeviceGray, DeviceRGB, DeviceCMYK, ICCBased, Cal* and Indexed
//! colour spaces at 1, 2, 4, 8 or 16 bits, and stencil masks. Everything else (JBIG2, JPX,
//! Separation/DeviceN, G3 2-D) is [`Decoded::Render`]: the caller renders the page with `pdftoppm`.

use image::GrayImage;
use lopdf::{Dictionary, Document, Object, Stream};

/// The outcome for one image.
pub(super) enum Decoded {
    Gray(GrayImage, &'static str),
    /// Not decodable here; the reason is logged and the page rendered instead.
    Render(String),
}

fn render(why: impl Into<String>) -> Decoded {
    Decoded::Render(why.into())
}

fn int(doc: &Document, d: &Dictionary, key: &[u8]) -> Option<i64> {
    let o = d.get(key).ok()?;
    doc.dereference(o).ok()?.1.as_i64().ok()
}

fn resolved<'a>(doc: &'a Document, o: &'a Object) -> &'a Object {
    doc.dereference(o).map(|(_, o)| o).unwrap_or(o)
}

/// Decode an image whose dimensions the caller has already checked against the pixel limit.
pub(super) fn decode(doc: &Document, stream: &Stream, w: u32, h: u32) -> Decoded {
    let d = &stream.dict;
    let filters: Vec<Vec<u8>> = stream
        .filters()
        .map(|f| f.into_iter().map(<[u8]>::to_vec).collect())
        .unwrap_or_default();
    let last = filters.last().map(Vec::as_slice).unwrap_or(b"");
    let inverted = decode_inverted(doc, d);
    match last {
        b"DCTDecode" | b"DCT" if filters.len() == 1 => dct(&stream.content, inverted),
        b"CCITTFaxDecode" | b"CCF" if filters.len() == 1 => {
            let parms = decode_parms(doc, d, filters.len() - 1);
            ccitt(&stream.content, parms, w, h, inverted)
        }
        b"JBIG2Decode" | b"JPXDecode" => render(format!("{} image", String::from_utf8_lossy(last))),
        b"DCTDecode" | b"CCITTFaxDecode" => render("image codec behind another filter"),
        _ => {
            let how = if filters.iter().any(|f| f == b"FlateDecode" || f == b"Fl") {
                "pdf-flate"
            } else {
                "pdf-raw"
            };
            match samples(doc, stream, w, h) {
                Ok(img) => Decoded::Gray(img, how),
                Err(why) => render(why),
            }
        }
    }
}

/// `/Decode [1 0]` (or `[1 0 1 0 ...]`): sample values are read inverted.
fn decode_inverted(doc: &Document, d: &Dictionary) -> bool {
    let Ok(o) = d.get(b"Decode") else {
        return false;
    };
    let Ok(arr) = resolved(doc, o).as_array() else {
        return false;
    };
    let num = |o: &Object| {
        o.as_float()
            .ok()
            .or_else(|| o.as_i64().ok().map(|v| v as f32))
    };
    matches!((arr.first().and_then(num), arr.get(1).and_then(num)), (Some(a), Some(b)) if a > b)
}

/// `DecodeParms` is a dictionary, or an array with one entry per filter.
fn decode_parms<'a>(doc: &'a Document, d: &'a Dictionary, index: usize) -> Option<&'a Dictionary> {
    match resolved(doc, d.get(b"DecodeParms").or_else(|_| d.get(b"DP")).ok()?) {
        Object::Dictionary(p) => Some(p),
        Object::Array(a) => resolved(doc, a.get(index)?).as_dict().ok(),
        _ => None,
    }
}

fn dct(data: &[u8], inverted: bool) -> Decoded {
    match image::load_from_memory_with_format(data, image::ImageFormat::Jpeg) {
        Ok(img) => {
            let mut g = img.into_luma8();
            if inverted {
                image::imageops::invert(&mut g);
            }
            Decoded::Gray(g, "pdf-dct")
        }
        Err(e) => render(format!("JPEG: {e}")),
    }
}

fn ccitt(data: &[u8], parms: Option<&Dictionary>, w: u32, h: u32, inverted: bool) -> Decoded {
    let get = |k: &[u8]| parms.and_then(|p| p.get(k).ok());
    let k = get(b"K").and_then(|o| o.as_i64().ok()).unwrap_or(0);
    let black_is_1 = get(b"BlackIs1")
        .and_then(|o| o.as_bool().ok())
        .unwrap_or(false);
    let columns = get(b"Columns")
        .and_then(|o| o.as_i64().ok())
        .unwrap_or(1728);
    if columns != i64::from(w) || w > u32::from(u16::MAX) || h > u32::from(u16::MAX) {
        return render("CCITT columns differ from the image width");
    }
    // The filter outputs 1 for white unless BlackIs1; a grey sample of 1 is white unless /Decode
    // inverts it. So a fax-white pel shows white exactly when neither or both flip it.
    let white = if black_is_1 != inverted { 0 } else { 255 };
    let mut img = GrayImage::from_pixel(w, h, image::Luma([white]));
    let mut row = 0u32;
    let mut put_line = |transitions: &[u16]| {
        if row < h {
            for (x, c) in fax::decoder::pels(transitions, w as u16).enumerate() {
                if c == fax::Color::Black {
                    img.put_pixel(x as u32, row, image::Luma([255 - white]));
                }
            }
        }
        row += 1;
    };
    let ok = if k < 0 {
        fax::decoder::decode_g4(
            data.iter().copied(),
            w as u16,
            Some(h as u16),
            &mut put_line,
        )
    } else if k == 0 {
        fax::decoder::decode_g3(data.iter().copied(), &mut put_line)
    } else {
        return render("CCITT G3 2-D");
    };
    // A damaged tail still leaves the lines before it; only nothing at all is a failure.
    if ok.is_none() && row == 0 {
        return render("CCITT data does not decode");
    }
    Decoded::Gray(img, "pdf-ccitt")
}

/// Colour model of an image's samples.
enum Space {
    Gray,
    Rgb,
    Cmyk,
    /// Palette lookup table (base colour space components, bytes).
    Indexed(usize, Vec<u8>),
}

fn space(doc: &Document, cs: &Object) -> Result<Space, String> {
    match resolved(doc, cs) {
        Object::Name(n) => match n.as_slice() {
            b"DeviceGray" | b"G" | b"CalGray" => Ok(Space::Gray),
            b"DeviceRGB" | b"RGB" | b"CalRGB" => Ok(Space::Rgb),
            b"DeviceCMYK" | b"CMYK" => Ok(Space::Cmyk),
            other => Err(format!("colour space {}", String::from_utf8_lossy(other))),
        },
        Object::Array(a) => {
            let family = a.first().and_then(|o| o.as_name().ok()).unwrap_or(b"");
            match family {
                b"ICCBased" => {
                    let n = a
                        .get(1)
                        .and_then(|o| resolved(doc, o).as_stream().ok())
                        .and_then(|s| int(doc, &s.dict, b"N"))
                        .unwrap_or(3);
                    Ok(match n {
                        1 => Space::Gray,
                        4 => Space::Cmyk,
                        _ => Space::Rgb,
                    })
                }
                b"CalGray" => Ok(Space::Gray),
                b"CalRGB" | b"Lab" => Ok(Space::Rgb),
                b"Indexed" | b"I" => indexed(doc, a),
                other => Err(format!("colour space {}", String::from_utf8_lossy(other))),
            }
        }
        _ => Err("colour space of unexpected type".into()),
    }
}

fn indexed(doc: &Document, a: &[Object]) -> Result<Space, String> {
    let base = match a.get(1).map(|b| space(doc, b)) {
        Some(Ok(Space::Gray)) => 1,
        Some(Ok(Space::Rgb)) => 3,
        Some(Ok(Space::Cmyk)) => 4,
        _ => return Err("indexed colour space with an unusual base".into()),
    };
    let table = match a.get(3).map(|o| resolved(doc, o)) {
        Some(Object::String(s, _)) => s.clone(),
        Some(Object::Stream(s)) => s
            .decompressed_content_with_limit(4096)
            .or_else(|_| Ok::<_, lopdf::Error>(s.content.clone()))
            .unwrap_or_default(),
        _ => return Err("indexed colour space without a table".into()),
    };
    Ok(Space::Indexed(base, table))
}

/// Raw samples (after lopdf's filters) into grey.
fn samples(doc: &Document, stream: &Stream, w: u32, h: u32) -> Result<GrayImage, String> {
    let d = &stream.dict;
    let mask = d
        .get(b"ImageMask")
        .and_then(Object::as_bool)
        .unwrap_or(false);
    let bpc = if mask {
        1
    } else {
        int(doc, d, b"BitsPerComponent").unwrap_or(8)
    } as usize;
    if ![1, 2, 4, 8, 16].contains(&bpc) {
        return Err(format!("{bpc} bits per component"));
    }
    let space = match (mask, d.get(b"ColorSpace")) {
        (true, _) | (false, Err(_)) => Space::Gray,
        (false, Ok(cs)) => space(doc, cs)?,
    };
    let comps = match &space {
        Space::Gray | Space::Indexed(..) => 1,
        Space::Rgb => 3,
        Space::Cmyk => 4,
    };
    let stride = (w as usize * comps * bpc).div_ceil(8);
    let need = stride * h as usize;
    let data = stream
        .decompressed_content_with_limit(need + 4096)
        .map_err(|e| format!("image data: {e}"))?;
    if data.len() < need {
        return Err(format!(
            "image data is {} bytes, {need} expected",
            data.len()
        ));
    }
    let inverted = decode_inverted(doc, d);
    let max = ((1u32 << bpc.min(8)) - 1) as usize;
    let mut out = Vec::with_capacity(w as usize * h as usize);
    let mut px = vec![0u8; comps];
    for row in data.chunks(stride).take(h as usize) {
        for x in 0..w as usize {
            for (c, v) in px.iter_mut().enumerate() {
                *v = sample(row, x * comps + c, bpc);
            }
            out.push(to_gray(&space, &px, max, inverted));
        }
    }
    GrayImage::from_raw(w, h, out).ok_or_else(|| "image size".to_string())
}

/// The `i`-th sample of a row, as 0-255 (or the raw index for 1-8 bit palettes via `to_gray`).
fn sample(row: &[u8], i: usize, bpc: usize) -> u8 {
    match bpc {
        8 => row[i],
        16 => row[2 * i],
        _ => {
            let bit = i * bpc;
            let byte = row[bit / 8];
            (byte >> (8 - bpc - bit % 8)) & ((1 << bpc) - 1) as u8
        }
    }
}

fn to_gray(space: &Space, px: &[u8], max: usize, inverted: bool) -> u8 {
    let scale = |v: u8| -> u8 {
        let v = if max == 255 {
            v
        } else {
            (usize::from(v) * 255 / max) as u8
        };
        if inverted {
            255 - v
        } else {
            v
        }
    };
    match space {
        Space::Gray => scale(px[0]),
        Space::Rgb => luma(scale(px[0]), scale(px[1]), scale(px[2])),
        Space::Cmyk => {
            let (c, m, y, k) = (scale(px[0]), scale(px[1]), scale(px[2]), scale(px[3]));
            let ink = |v: u8| (255 - u32::from(v)) * (255 - u32::from(k)) / 255;
            luma(ink(c) as u8, ink(m) as u8, ink(y) as u8)
        }
        Space::Indexed(base, table) => {
            let i = usize::from(px[0]) * base;
            let entry = table.get(i..i + base).unwrap_or(&[0, 0, 0, 0][..*base]);
            match base {
                1 => entry[0],
                3 => luma(entry[0], entry[1], entry[2]),
                _ => to_gray(&Space::Cmyk, entry, 255, false),
            }
        }
    }
}

fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((u32::from(r) * 299 + u32::from(g) * 587 + u32::from(b) * 114) / 1000) as u8
}
