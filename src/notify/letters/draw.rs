//! A tiny page model: layouts produce pages of drawing operations in millimetres (origin top
//! left, y down), and [`write_pdf`] paints them with krilla.
//!
//! Keeping layout apart from painting lets a layout break pages freely (krilla borrows the
//! document for as long as a page is open) and keeps the layout code free of PDF details.

use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::text::TextDirection;
use krilla::Document;
use qrcode::{Color, EcLevel, QrCode};

use super::fonts::{Face, Fonts};
use super::LetterError;

pub(crate) const A4_WIDTH_MM: f32 = 210.0;
pub(crate) const A4_HEIGHT_MM: f32 = 297.0;

const PT_PER_MM: f32 = 72.0 / 25.4;

/// Millimetres to points.
pub(crate) fn pt(mm: f32) -> f32 {
    mm * PT_PER_MM
}

/// Points to millimetres.
pub(crate) fn mm(pt: f32) -> f32 {
    pt / PT_PER_MM
}

/// One drawing operation; all lengths in millimetres except font sizes (points).
#[derive(Debug, Clone)]
pub(crate) enum Op {
    /// Text starting at `x` with its baseline at `y`.
    Text {
        x: f32,
        y: f32,
        face: Face,
        size: f32,
        text: String,
    },
    /// Filled black rectangles (rules, QR modules), drawn as one path.
    Rects(Vec<[f32; 4]>),
}

/// The operations of one A4 page.
#[derive(Debug, Clone, Default)]
pub(crate) struct PageOps {
    pub(crate) ops: Vec<Op>,
}

impl PageOps {
    pub(crate) fn text(&mut self, x: f32, y: f32, face: Face, size: f32, text: impl Into<String>) {
        self.ops.push(Op::Text {
            x,
            y,
            face,
            size,
            text: text.into(),
        });
    }

    /// Text whose right edge is at `right`.
    pub(crate) fn text_right(&mut self, right: f32, y: f32, face: Face, size: f32, text: &str) {
        let x = right - mm(face.width(text, size));
        self.text(x, y, face, size, text);
    }

    /// Text centred on `centre`.
    pub(crate) fn text_centred(&mut self, centre: f32, y: f32, face: Face, size: f32, text: &str) {
        let x = centre - mm(face.width(text, size)) / 2.0;
        self.text(x, y, face, size, text);
    }

    /// A horizontal rule `thickness` mm thick.
    pub(crate) fn rule(&mut self, x: f32, y: f32, width: f32, thickness: f32) {
        self.ops.push(Op::Rects(vec![[x, y, width, thickness]]));
    }

    /// A rectangle outline with lines `thickness` mm thick.
    pub(crate) fn frame(&mut self, x: f32, y: f32, w: f32, h: f32, thickness: f32) {
        self.ops.push(Op::Rects(vec![
            [x, y, w, thickness],
            [x, y + h - thickness, w, thickness],
            [x, y, thickness, h],
            [x + w - thickness, y, thickness, h],
        ]));
    }

    /// A QR code of `data` whose symbol (without quiet zone) is `size` mm wide at (`x`, `y`).
    /// The caller keeps four modules of white space around it.
    pub(crate) fn qr(
        &mut self,
        x: f32,
        y: f32,
        size: f32,
        data: &str,
        level: EcLevel,
    ) -> Result<(), LetterError> {
        let code =
            QrCode::with_error_correction_level(data, level).map_err(|source| LetterError::Qr {
                data: data.to_owned(),
                source,
            })?;
        let width = code.width();
        let module = size / width as f32;
        let colors = code.to_colors();
        let mut rects = Vec::new();
        for (row, line) in colors.chunks(width).enumerate() {
            // One rectangle per run of dark modules keeps the content stream small.
            let mut col = 0;
            while col < width {
                if line[col] == Color::Dark {
                    let start = col;
                    while col < width && line[col] == Color::Dark {
                        col += 1;
                    }
                    rects.push([
                        x + start as f32 * module,
                        y + row as f32 * module,
                        (col - start) as f32 * module,
                        module,
                    ]);
                } else {
                    col += 1;
                }
            }
        }
        self.ops.push(Op::Rects(rects));
        Ok(())
    }
}

/// Splits `text` into lines no wider than `max_width` mm. Words longer than a line (URLs, file
/// names) are broken between characters.
pub(crate) fn wrap(text: &str, face: Face, size: f32, max_width: f32) -> Vec<String> {
    let fits = |s: &str| mm(face.width(s, size)) <= max_width;
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if fits(&candidate) {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        for c in word.chars() {
            line.push(c);
            if !fits(&line) && line.chars().count() > 1 {
                line.pop();
                lines.push(std::mem::replace(&mut line, c.to_string()));
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Paints `pages` as one A4 PDF.
pub(crate) fn write_pdf(pages: &[PageOps], title: &str) -> Result<Vec<u8>, LetterError> {
    let fonts = Fonts::load()?;
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(title.to_owned())
            .language("id".to_owned())
            .creator("loket".to_owned()),
    );
    let settings =
        PageSettings::from_wh(pt(A4_WIDTH_MM), pt(A4_HEIGHT_MM)).ok_or(LetterError::PageSize)?;
    for page_ops in pages {
        let mut page = document.start_page_with(settings.clone());
        let mut surface = page.surface();
        surface.set_fill(Some(Fill::default()));
        for op in &page_ops.ops {
            match op {
                Op::Text {
                    x,
                    y,
                    face,
                    size,
                    text,
                } => surface.draw_text(
                    Point::from_xy(pt(*x), pt(*y)),
                    fonts.get(*face),
                    *size,
                    text,
                    false,
                    TextDirection::Auto,
                ),
                Op::Rects(rects) => {
                    let mut path = PathBuilder::new();
                    for [x, y, w, h] in rects {
                        if let Some(rect) = Rect::from_xywh(pt(*x), pt(*y), pt(*w), pt(*h)) {
                            path.push_rect(rect);
                        }
                    }
                    if let Some(path) = path.finish() {
                        surface.draw_path(&path);
                    }
                }
            }
        }
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| LetterError::Pdf(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_words_are_broken_and_short_text_stays_on_one_line() {
        assert_eq!(
            wrap("Tanda terima", Face::Regular, 10.0, 100.0),
            ["Tanda terima"]
        );
        let url = "https://perizinan.example.go.id/status/ABCDE-FGHIJ-KLMNO-PQRST-UVWXY";
        let lines = wrap(url, Face::Regular, 10.0, 40.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.concat(), url);
        for line in &lines {
            assert!(mm(Face::Regular.width(line, 10.0)) <= 40.0);
        }
    }

    #[test]
    fn empty_text_is_one_empty_line() {
        assert_eq!(wrap("", Face::Regular, 10.0, 50.0), [""]);
    }
}
