//! Handwriting on a page, told from how tesseract read it.
//!
//! Tesseract's models are trained on print: handwriting comes back as words it is unsure of
//! (word confidence well under 60) in letters of uneven height. Print that is merely poor (a
//! dim phone photo, a speckled fax) lowers every word a little, and photos give a few junk
//! "words" of one or two characters; neither makes a large share of the page's written area
//! doubtful. So a page is handwritten when a substantial share of the area of its real words
//! (three or more letters or digits) was read with low confidence, in more than a handful of
//! words.

use serde::{Deserialize, Serialize};

use super::layout::Word;

/// A word read below this confidence (0-100) is doubtful.
const WEAK_CONFIDENCE: f32 = 60.0;
/// The page is handwritten when at least this share of its words' area is doubtful...
const WEAK_AREA_SHARE: f32 = 0.35;
/// ...in at least this many doubtful words (a stamp, a signature or a chart's legend alone
/// does not make a page handwritten: the legend of the ocrmypdf corpus's `graph.pdf` has 3 or
/// 4 of its 11-13 words doubtful, more than a third of their area).
const MIN_WEAK_WORDS: usize = 6;

/// What the words of a page say about handwriting.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct HandwritingSigns {
    /// Words of three or more letters or digits.
    pub words: usize,
    /// Of those, read with confidence under 60.
    pub weak_words: usize,
    /// Share of the words' area (0-1) in weak words.
    pub weak_area: f32,
}

impl HandwritingSigns {
    pub(super) fn of(words: &[Word]) -> HandwritingSigns {
        let real: Vec<&Word> = words
            .iter()
            .filter(|w| w.text.chars().filter(|c| c.is_alphanumeric()).count() >= 3)
            .collect();
        let area = |w: &&Word| {
            (w.rect.right - w.rect.left).max(0) as f64 * (w.rect.bottom - w.rect.top).max(0) as f64
        };
        let total: f64 = real.iter().map(area).sum();
        let weak: Vec<&&Word> = real.iter().filter(|w| w.conf < WEAK_CONFIDENCE).collect();
        let weak_total: f64 = weak.iter().map(|w| area(w)).sum();
        HandwritingSigns {
            words: real.len(),
            weak_words: weak.len(),
            weak_area: if total > 0.0 {
                (weak_total / total) as f32
            } else {
                0.0
            },
        }
    }

    /// Whether the page looks handwritten.
    pub fn handwritten(&self) -> bool {
        self.weak_words >= MIN_WEAK_WORDS && self.weak_area >= WEAK_AREA_SHARE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::ocr::layout::Rect;

    fn word(text: &str, conf: f32, width: i32) -> Word {
        Word {
            block: 1,
            par: 1,
            line: 1,
            rect: Rect {
                left: 0,
                top: 0,
                right: width,
                bottom: 30,
            },
            conf,
            text: text.into(),
        }
    }

    #[test]
    fn big_doubtful_words_make_a_page_handwritten_and_junk_specks_do_not() {
        let mut page: Vec<Word> = (0..6).map(|_| word("Nama", 95.0, 100)).collect();
        assert!(!HandwritingSigns::of(&page).handwritten());
        // Specks of a photo read as one- or two-letter junk are not words.
        page.extend((0..20).map(|_| word("~i", 10.0, 400)));
        assert!(!HandwritingSigns::of(&page).handwritten());
        page.extend((0..6).map(|_| word("Sutrisno", 35.0, 300)));
        let signs = HandwritingSigns::of(&page);
        assert_eq!((signs.words, signs.weak_words), (12, 6));
        assert!(signs.handwritten(), "{signs:?}");
        // A stamp, a signature or a chart's legend alone is too little.
        assert!(!HandwritingSigns::of(&page[..30]).handwritten());
    }
}
