//! Reading order from the page's layout, decided once per page from tesseract's own blocks.
//!
//! Tesseract's automatic segmentation (PSM 3) finds the text blocks of a page well (columns,
//! headings, captions, table cells), but strings them together in an order that breaks on
//! magazine pages: a drop cap's first line after the column it opens, a caption between two
//! columns. Single-block modes (PSM 4/6) keep a form's rows together but read a two-column page
//! straight across both columns. So the page is recognised once, with PSM 3, and the order is
//! rebuilt from the block geometry (its TSV output) by a recursive XY cut:
//!
//! - a horizontal white band across the region splits it top to bottom;
//! - else a vertical white band splits it left to right. Both sides running text (lines filled
//!   to their block's width, several words each) means columns, read one after the other
//!   ([`Layout::Columns`]); otherwise the sides are the cells of a table or a form's labels and
//!   values, and the region is read row by row ([`Layout::Table`]), as PSM 4 would;
//! - a region that cannot be cut keeps tesseract's order.
//!
//! A page whose order comes out as tesseract's keeps tesseract's own text ([`Layout::Block`]).

use serde::{Deserialize, Serialize};

/// How a page's text was put in reading order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// One column of blocks, top to bottom (letters, most forms): tesseract's text as it is.
    #[default]
    Block,
    /// Columns of running text, each read to its end before the next.
    Columns,
    /// Side-by-side cells read row by row (tables, label/value forms).
    Table,
}

/// A box in page pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Rect {
    pub left: i32,
    pub top: i32,
    pub right: i32,
    pub bottom: i32,
}

impl Rect {
    fn union(self, o: Rect) -> Rect {
        Rect {
            left: self.left.min(o.left),
            top: self.top.min(o.top),
            right: self.right.max(o.right),
            bottom: self.bottom.max(o.bottom),
        }
    }

    fn height(self) -> i32 {
        self.bottom - self.top
    }

    fn width(self) -> i32 {
        self.right - self.left
    }
}

/// One recognised word of the TSV output.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Word {
    pub block: u32,
    pub par: u32,
    pub line: u32,
    pub rect: Rect,
    /// 0-100.
    pub conf: f32,
    pub text: String,
}

/// The words of tesseract's TSV output (level 5 rows with text); other rows are skipped.
pub(super) fn parse_tsv(tsv: &str) -> Vec<Word> {
    tsv.lines().filter_map(parse_word).collect()
}

fn parse_word(row: &str) -> Option<Word> {
    let f: Vec<&str> = row.splitn(12, '\t').collect();
    if f.len() < 12 || f[0] != "5" {
        return None;
    }
    let text = f[11].trim();
    if text.is_empty() {
        return None;
    }
    let n = |i: usize| f[i].trim().parse::<i32>().ok();
    let (left, top, width, height) = (n(6)?, n(7)?, n(8)?, n(9)?);
    Some(Word {
        block: f[2].parse().ok()?,
        par: f[3].parse().ok()?,
        line: f[4].parse().ok()?,
        rect: Rect {
            left,
            top,
            right: left + width,
            bottom: top + height,
        },
        conf: f[10].trim().parse().ok()?,
        text: text.to_string(),
    })
}

#[derive(Debug, Clone)]
struct Line {
    rect: Rect,
    /// Paragraph and line number inside the block.
    id: (u32, u32),
    words: Vec<String>,
}

impl Line {
    fn of(w: &Word) -> Line {
        Line {
            rect: w.rect,
            id: (w.par, w.line),
            words: vec![w.text.clone()],
        }
    }
}

#[derive(Debug, Clone)]
struct Block {
    rect: Rect,
    lines: Vec<Line>,
}

/// Text in reading order and how it was ordered. `None` text: tesseract's own order stands.
pub(super) fn reading_order(words: &[Word]) -> (Layout, Option<String>) {
    let blocks = blocks(words);
    if blocks.len() < 2 {
        return (Layout::Block, None);
    }
    let ids: Vec<usize> = (0..blocks.len()).collect();
    let mut layout = Layout::Block;
    let pieces = cut(&blocks, ids, &mut layout);
    let in_tesseract_order = pieces
        .iter()
        .enumerate()
        .all(|(i, p)| matches!(p, Piece::Block(b) if *b == i));
    if in_tesseract_order {
        return (Layout::Block, None);
    }
    if layout == Layout::Block {
        // Only horizontal cuts, yet not tesseract's order: still one column, top to bottom.
        layout = Layout::Columns;
    }
    let text: Vec<String> = pieces.iter().map(|p| p.render(&blocks)).collect();
    (layout, Some(text.join("\n\n")))
}

/// Words grouped into blocks and lines, in tesseract's order.
fn blocks(words: &[Word]) -> Vec<Block> {
    let mut out: Vec<(u32, Block)> = Vec::new();
    for w in words {
        match out.last_mut() {
            Some((id, block)) if *id == w.block => {
                block.rect = block.rect.union(w.rect);
                match block.lines.last_mut() {
                    Some(line) if line.id == (w.par, w.line) => {
                        line.rect = line.rect.union(w.rect);
                        line.words.push(w.text.clone());
                    }
                    _ => block.lines.push(Line::of(w)),
                }
            }
            _ => out.push((
                w.block,
                Block {
                    rect: w.rect,
                    lines: vec![Line::of(w)],
                },
            )),
        }
    }
    out.into_iter().map(|(_, b)| b).collect()
}

#[derive(Debug)]
enum Piece {
    Block(usize),
    Rows(Vec<usize>),
}

impl Piece {
    fn render(&self, blocks: &[Block]) -> String {
        match self {
            Piece::Block(b) => render_block(&blocks[*b]),
            Piece::Rows(ids) => render_rows(blocks, ids),
        }
    }
}

fn render_block(b: &Block) -> String {
    let mut out = String::new();
    let mut par = None;
    for line in &b.lines {
        if !out.is_empty() {
            out.push('\n');
            if par != Some(line.id.0) {
                out.push('\n');
            }
        }
        par = Some(line.id.0);
        out.push_str(&line.words.join(" "));
    }
    out
}

/// Lines of several blocks merged into rows by their vertical overlap, each row left to right.
fn render_rows(blocks: &[Block], ids: &[usize]) -> String {
    let mut lines: Vec<&Line> = ids.iter().flat_map(|&b| &blocks[b].lines).collect();
    lines.sort_by_key(|l| l.rect.top + l.rect.bottom);
    let mut rows: Vec<(Rect, Vec<&Line>)> = Vec::new();
    for line in lines {
        match rows.last_mut() {
            Some((rect, row)) if overlaps_vertically(*rect, line.rect) => {
                *rect = rect.union(line.rect);
                row.push(line);
            }
            _ => rows.push((line.rect, vec![line])),
        }
    }
    rows.into_iter()
        .map(|(_, mut row)| {
            row.sort_by_key(|l| l.rect.left);
            row.iter()
                .map(|l| l.words.join(" "))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether a line belongs to a row: their vertical ranges share half of the smaller height.
fn overlaps_vertically(row: Rect, line: Rect) -> bool {
    let shared = row.bottom.min(line.bottom) - row.top.max(line.top);
    shared * 2 >= row.height().min(line.height()).max(1)
}

/// The XY cut of a region (block ids in tesseract's order) into pieces in reading order.
fn cut(blocks: &[Block], ids: Vec<usize>, layout: &mut Layout) -> Vec<Piece> {
    if ids.len() < 2 {
        return ids.into_iter().map(Piece::Block).collect();
    }
    if let Some(bands) = split(blocks, &ids, |r| (r.top, r.bottom)) {
        return bands
            .into_iter()
            .flat_map(|band| cut(blocks, band, layout))
            .collect();
    }
    if let Some(parts) = split(blocks, &ids, |r| (r.left, r.right)) {
        if parts.iter().all(|p| is_running_text(blocks, p)) {
            *layout = Layout::Columns;
            return parts
                .into_iter()
                .flat_map(|part| cut(blocks, part, layout))
                .collect();
        }
        if *layout == Layout::Block {
            *layout = Layout::Table;
        }
        let mut all = ids;
        all.sort_unstable();
        return vec![Piece::Rows(all)];
    }
    // Overlapping blocks (a drop cap beside its column's first lines): the one that starts
    // higher is read first.
    let mut ids = ids;
    ids.sort_by_key(|&b| (blocks[b].rect.top, blocks[b].rect.left));
    ids.into_iter().map(Piece::Block).collect()
}

/// The region split at every white band along one axis (`span` gives a block's extent on it),
/// parts in page order; `None` when no band crosses the whole region.
fn split(
    blocks: &[Block],
    ids: &[usize],
    span: impl Fn(Rect) -> (i32, i32),
) -> Option<Vec<Vec<usize>>> {
    let mut sorted = ids.to_vec();
    sorted.sort_by_key(|&b| span(blocks[b].rect));
    let mut parts: Vec<Vec<usize>> = Vec::new();
    let mut end = i32::MIN;
    for b in sorted {
        let (start, stop) = span(blocks[b].rect);
        match parts.last_mut() {
            Some(part) if start < end => part.push(b),
            _ => parts.push(vec![b]),
        }
        end = end.max(stop);
    }
    if parts.len() < 2 {
        return None;
    }
    // Inside a part, keep tesseract's order (it reads a block's neighbours sensibly).
    for part in &mut parts {
        part.sort_unstable();
    }
    Some(parts)
}

/// Running text: most lines carry several words and reach near their block's right edge
/// (justified or ragged prose); table cells and form labels are short and ragged.
fn is_running_text(blocks: &[Block], ids: &[usize]) -> bool {
    let lines: Vec<(&Line, Rect)> = ids
        .iter()
        .flat_map(|&b| blocks[b].lines.iter().map(move |l| (l, blocks[b].rect)))
        .collect();
    if lines.len() < 3 {
        // A heading or a caption beside a column says nothing about the rest.
        return true;
    }
    let wordy = lines.iter().filter(|(l, _)| l.words.len() >= 4).count();
    let filled = lines
        .iter()
        .filter(|(l, b)| (l.rect.right - b.left) * 4 >= b.width() * 3)
        .count();
    wordy * 2 >= lines.len() && filled * 2 >= lines.len()
}
