//! The fonts embedded in the binary, and text measurement for line wrapping.
//!
//! DejaVu is committed under `assets/fonts/` (Bitstream Vera licence, see `LICENSE-DejaVu.txt`) so
//! a letter looks the same on every machine and never depends on what fonts a server has. krilla
//! subsets each font when writing, so a letter carries only the glyphs it uses (tens of KB).

use krilla::text::Font;
use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

use super::LetterError;

const SANS: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
const SANS_BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");
const MONO_BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSansMono-Bold.ttf");

/// Which of the embedded faces a piece of text uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Face {
    Regular,
    Bold,
    /// For tracking codes: fixed width and a slashed zero, so `0` and `O` are not confused.
    MonoBold,
}

impl Face {
    fn bytes(self) -> &'static [u8] {
        match self {
            Face::Regular => SANS,
            Face::Bold => SANS_BOLD,
            Face::MonoBold => MONO_BOLD,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Face::Regular => "DejaVuSans.ttf",
            Face::Bold => "DejaVuSans-Bold.ttf",
            Face::MonoBold => "DejaVuSansMono-Bold.ttf",
        }
    }

    /// Width of `text` in points at `size` points, from the fonts' advance widths.
    ///
    /// Kerning is ignored: DejaVu's kerning only narrows a line, so a wrapped line never overflows.
    pub(crate) fn width(self, text: &str, size: f32) -> f32 {
        let Ok(font) = FontRef::new(self.bytes()) else {
            return 0.0;
        };
        let charmap = font.charmap();
        let metrics = font.glyph_metrics(Size::new(size), LocationRef::default());
        text.chars()
            .map(|c| {
                let glyph = charmap.map(c).unwrap_or_default();
                metrics.advance_width(glyph).unwrap_or(size * 0.6)
            })
            .sum()
    }
}

/// The faces loaded for krilla, once per document.
#[derive(Clone)]
pub(crate) struct Fonts {
    regular: Font,
    bold: Font,
    mono_bold: Font,
}

impl Fonts {
    pub(crate) fn load() -> Result<Self, LetterError> {
        let load = |face: Face| {
            Font::new(face.bytes().into(), 0).ok_or(LetterError::Font { name: face.name() })
        };
        Ok(Fonts {
            regular: load(Face::Regular)?,
            bold: load(Face::Bold)?,
            mono_bold: load(Face::MonoBold)?,
        })
    }

    pub(crate) fn get(&self, face: Face) -> Font {
        match face {
            Face::Regular => self.regular.clone(),
            Face::Bold => self.bold.clone(),
            Face::MonoBold => self.mono_bold.clone(),
        }
    }
}
