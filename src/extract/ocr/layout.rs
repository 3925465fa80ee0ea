//! Reading order from the page's layout, decided once per page from tesseract's own blocks.
//!
//! Tesseract's automatic segmentation (PSM 3) finds the text blocks of a page well (columns,
//! headings, captions, table cells), but strings them together in an order that breaks on
//! magazine pages: a drop cap's first line after the column it opens, a caption between two
//! columns. Single-block modes (PSM 4/6) keep a form's rows together but read a two-column page
//! straight across both columns. So the page is recognised once, with PSM 3, and the order is
//! rebuilt from the block geometry (its TSV output) by a recursive XY cut:
//!
//! - the widest white band that crosses the region cuts it in two (so a title's gap wins over
//!   the step where one column ends a line before the other, and a gutter over a line's gap);
//! - a horizontal band: top, then bottom;
//! - a vertical band: both sides running text (lines filled to their block's width, two and a
//!   half words a line or more) means columns, read one after the other ([`Layout::Columns`]); otherwise the
//!   sides are the cells of a table or a form's labels and values, and the region is read row
//!   by row ([`Layout::Table`]), as PSM 4 would;
//! - a region that cannot be cut (overlapping blocks) is read by the blocks' tops.
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
    let across = widest_gap(blocks, &ids, |r| (r.top, r.bottom));
    let down = widest_gap(blocks, &ids, |r| (r.left, r.right));
    match (across, down) {
        // The widest white band decides: the gap under a title is wider than a line's, and a
        // column gutter wider than the step where one column ends a line before the other.
        (Some((gap, parts)), down) if down.as_ref().is_none_or(|(d, _)| gap >= *d) => parts
            .into_iter()
            .flat_map(|band| cut(blocks, band, layout))
            .collect(),
        (_, Some((_, parts))) => {
            let mut all = ids;
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
            all.sort_unstable();
            vec![Piece::Rows(all)]
        }
        _ => {
            // Overlapping blocks (a drop cap beside its column's first lines): the one that
            // starts higher is read first.
            let mut ids = ids;
            ids.sort_by_key(|&b| (blocks[b].rect.top, blocks[b].rect.left));
            ids.into_iter().map(Piece::Block).collect()
        }
    }
}

/// The region cut in two at its widest white band along one axis (`span` gives a block's extent
/// on it): the band's width and the two parts in page order (each in tesseract's order); `None`
/// when no band crosses the whole region.
fn widest_gap(
    blocks: &[Block],
    ids: &[usize],
    span: impl Fn(Rect) -> (i32, i32),
) -> Option<(i32, Vec<Vec<usize>>)> {
    let mut sorted = ids.to_vec();
    sorted.sort_by_key(|&b| span(blocks[b].rect));
    let mut end = i32::MIN;
    let mut best: Option<(i32, usize)> = None;
    for (i, &b) in sorted.iter().enumerate() {
        let (start, stop) = span(blocks[b].rect);
        if i > 0 && start >= end && best.is_none_or(|(g, _)| start - end > g) {
            best = Some((start - end, i));
        }
        end = end.max(stop);
    }
    let (gap, at) = best?;
    let mut first = sorted[..at].to_vec();
    let mut second = sorted[at..].to_vec();
    // Inside a part, keep tesseract's order (it reads a block's neighbours sensibly).
    first.sort_unstable();
    second.sort_unstable();
    Some((gap, vec![first, second]))
}

/// Running text: most lines reach near their block's right edge (justified or ragged prose)
/// and carry a few words; table cells and form labels are short (one or two words) and ragged.
fn is_running_text(blocks: &[Block], ids: &[usize]) -> bool {
    let lines: Vec<(&Line, Rect)> = ids
        .iter()
        .flat_map(|&b| blocks[b].lines.iter().map(move |l| (l, blocks[b].rect)))
        .collect();
    if lines.len() < 3 {
        // A heading or a caption beside a column says nothing about the rest.
        return true;
    }
    let words: usize = lines.iter().map(|(l, _)| l.words.len()).sum();
    let filled = lines
        .iter()
        .filter(|(l, b)| (l.rect.right - b.left) * 4 >= b.width() * 3)
        .count();
    words * 2 >= lines.len() * 5 && filled * 2 >= lines.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line of `words` in block `block`, `line` lines down from `top`, from x `left` to `right`.
    fn line(block: u32, line: u32, top: i32, left: i32, right: i32, text: &str) -> Vec<Word> {
        let parts: Vec<&str> = text.split(' ').collect();
        let step = (right - left) / parts.len() as i32;
        parts
            .iter()
            .enumerate()
            .map(|(i, t)| Word {
                block,
                par: 1,
                line,
                rect: Rect {
                    left: left + i as i32 * step,
                    top: top + line as i32 * 40,
                    right: left + (i as i32 + 1) * step - 10,
                    bottom: top + line as i32 * 40 + 30,
                },
                conf: 95.0,
                text: t.to_string(),
            })
            .collect()
    }

    fn column(block: u32, left: i32, first: &str) -> Vec<Word> {
        (0..4)
            .flat_map(|i| {
                let text = if i == 0 { first } else { "satu dua tiga" };
                line(block, i, 200, left, left + 500, text)
            })
            .collect()
    }

    #[test]
    fn columns_of_prose_are_read_one_after_the_other() {
        // Tesseract's order: right column, title, left column.
        let mut words = column(1, 700, "kanan mulai di sini");
        words.extend(line(2, 0, 50, 100, 1200, "JUDUL PENGUMUMAN"));
        words.extend(column(3, 100, "kiri mulai di sini"));
        let (layout, text) = reading_order(&words);
        assert_eq!(layout, Layout::Columns);
        let text = text.expect("reordered");
        let (title, left, right) = (
            text.find("JUDUL").unwrap(),
            text.find("kiri").unwrap(),
            text.find("kanan").unwrap(),
        );
        assert!(title < left && left < right, "{text}");
    }

    #[test]
    fn a_forms_labels_and_values_are_read_row_by_row() {
        let mut words = Vec::new();
        for (i, label) in ["Nama", "Alamat", "NIK"].iter().enumerate() {
            words.extend(line(1, i as u32, 100, 100, 250, label));
        }
        for (i, value) in [": Budi Santoso", ": Jl. Merdeka 4", ": 3204125708900001"]
            .iter()
            .enumerate()
        {
            words.extend(line(2, i as u32, 100, 600, 1100, value));
        }
        let (layout, text) = reading_order(&words);
        assert_eq!(layout, Layout::Table);
        assert_eq!(
            text.as_deref(),
            Some("Nama : Budi Santoso\nAlamat : Jl. Merdeka 4\nNIK : 3204125708900001")
        );
    }

    #[test]
    fn one_column_keeps_tesseracts_text() {
        let mut words = line(1, 0, 50, 100, 900, "SURAT PERMOHONAN");
        words.extend(column(2, 100, "dengan hormat saya mengajukan izin"));
        assert_eq!(reading_order(&words), (Layout::Block, None));
    }

    #[test]
    fn the_widest_band_cuts_first_so_uneven_columns_stay_whole() {
        // The left column is a line longer than the right: the step under the right column's
        // last line is narrower than the gutter, so the columns are not cut across there.
        let mut words = column(1, 100, "kiri mulai di sini");
        words.extend(line(3, 4, 200, 100, 600, "kiri akhir kolom"));
        words.extend(column(2, 700, "kanan mulai di sini"));
        words.reverse();
        let (_, text) = reading_order(&words);
        let text = text.expect("reordered");
        let (end, right) = (text.find("akhir").unwrap(), text.find("kanan").unwrap());
        assert!(end < right, "{text}");
    }

    #[test]
    fn a_drop_cap_block_is_read_before_the_column_it_opens() {
        // Tesseract put the first line (with its drop cap) after the rest of the column.
        let mut words = column(1, 100, "wandered around the house today");
        words.extend(line(2, 0, 170, 100, 600, "SHE MOPED. She sighed."));
        let (_, text) = reading_order(&words);
        let text = text.expect("reordered");
        assert!(text.starts_with("SHE MOPED."), "{text}");
    }

    #[test]
    fn tsv_rows_become_words() {
        let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
                   4\t1\t1\t1\t1\t0\t10\t10\t100\t20\t-1\t\n\
                   5\t1\t1\t1\t1\t1\t10\t10\t40\t20\t91.5\tNama\n\
                   5\t1\t1\t1\t1\t2\t60\t10\t10\t20\t95\t \n";
        let words = parse_tsv(tsv);
        assert_eq!(words.len(), 1);
        assert_eq!(words[0].text, "Nama");
        assert_eq!(words[0].rect.right, 50);
        assert!((words[0].conf - 91.5).abs() < 0.01);
    }
}
