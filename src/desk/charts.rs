//! Charts for the admin dashboard, drawn on the server as SVG: no JavaScript, nothing fetched,
//! so they pass a strict Content-Security-Policy and work on an old phone.
//!
//! Every label comes from rule files or mail data, so every one is XML-escaped (and stripped of
//! characters XML cannot carry); the output is a well-formed standalone SVG that may also be
//! inlined into HTML. The drawing is 360 units wide with a `viewBox` and `width="100%"`: at a
//! phone's 360 px the text is drawn at its nominal 11-13 px, and it scales up on wider screens.
//! Colours come from a fixed colour-blind-safe palette (Okabe-Ito), one per series in order of
//! first appearance; each bar segment carries a `<title>` with its exact value.

use std::fmt::Write as _;

/// Okabe-Ito colours, distinguishable with the common colour-vision deficiencies.
const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
];

const WIDTH: f64 = 360.0;
const TITLE_H: f64 = 24.0;
const LEGEND_ROW_H: f64 = 18.0;
const FONT: &str = "font-family=\"sans-serif\"";
/// Labels longer than this are shortened with "…" (the full text stays in the tooltip).
const MAX_LABEL_CHARS: usize = 44;

/// Stacked vertical bars, one per entry of `bars` (e.g. a day), each stacked by series (e.g.
/// channel or kind): `bars = [("01-07", [("email", 12), ("postal", 3)]), ...]`.
pub fn bar_chart(title: &str, bars: &[(String, Vec<(String, u64)>)]) -> String {
    let series = series_names(bars);
    let (left, right, plot_h) = (40.0, 8.0, 160.0);
    let top = TITLE_H + 8.0;
    let legend = Legend::layout(&series, top + plot_h + 22.0);
    let mut svg = Svg::start(title, legend.bottom + 4.0);
    let plot_w = WIDTH - left - right;
    let max = bars.iter().map(|(_, v)| total(v)).max().unwrap_or(0);
    if max == 0 {
        svg.no_data(top + plot_h / 2.0);
        return svg.finish();
    }
    let scale_max = nice_ceiling(max);
    let y = |v: u64| top + plot_h - plot_h * v as f64 / scale_max as f64;
    for tick in [0, scale_max / 2, scale_max] {
        let ty = y(tick);
        svg.line(left, ty, WIDTH - right, ty, "#dddddd");
        svg.text(left - 4.0, ty + 4.0, "end", 11.0, &number(tick));
    }
    let slot = plot_w / bars.len() as f64;
    let bar_w = (slot * 0.7).max(1.0);
    // At most one x label per 44 units, so they never overlap.
    let every = ((44.0 / slot).ceil() as usize).max(1);
    for (i, (label, values)) in bars.iter().enumerate() {
        let x = left + slot * i as f64 + (slot - bar_w) / 2.0;
        let mut base = 0;
        for (name, value) in values.iter().filter(|(_, v)| *v > 0) {
            let (y0, y1) = (y(base), y(base + value));
            let tip = format!("{label} · {name}: {}", number(*value));
            svg.rect(x, y1, bar_w, y0 - y1, colour(&series, name), &tip);
            base += value;
        }
        if i % every == 0 {
            let lx = x + bar_w / 2.0;
            svg.text(lx, top + plot_h + 14.0, "middle", 11.0, &shorten(label, 8));
        }
    }
    legend.draw(&mut svg, &series);
    svg.finish()
}

/// Horizontal stacked bars, one row per entry of `rows` (e.g. a department), stacked by segment
/// (e.g. an age bucket of its open cases), with the row's label above its bar and its total
/// after it.
pub fn horizontal_bars(title: &str, rows: &[(String, Vec<(String, u64)>)]) -> String {
    let series = series_names(rows);
    let (left, right, row_h) = (8.0, 44.0, 36.0);
    let top = TITLE_H + 8.0;
    let body_h = row_h * rows.len().max(1) as f64;
    let legend = Legend::layout(&series, top + body_h + 8.0);
    let mut svg = Svg::start(title, legend.bottom + 4.0);
    let max = rows.iter().map(|(_, v)| total(v)).max().unwrap_or(0);
    if max == 0 {
        svg.no_data(top + body_h / 2.0);
        return svg.finish();
    }
    let plot_w = WIDTH - left - right;
    for (i, (label, values)) in rows.iter().enumerate() {
        let ry = top + row_h * i as f64;
        svg.text(
            left,
            ry + 12.0,
            "start",
            12.0,
            &shorten(label, MAX_LABEL_CHARS),
        );
        let mut x = left;
        for (name, value) in values.iter().filter(|(_, v)| *v > 0) {
            let w = plot_w * *value as f64 / max as f64;
            let tip = format!("{label} · {name}: {}", number(*value));
            svg.rect(x, ry + 16.0, w, 14.0, colour(&series, name), &tip);
            x += w;
        }
        svg.text(x + 4.0, ry + 27.0, "start", 12.0, &number(total(values)));
    }
    legend.draw(&mut svg, &series);
    svg.finish()
}

/// Series names in order of first appearance.
fn series_names(groups: &[(String, Vec<(String, u64)>)]) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for (name, _) in groups.iter().flat_map(|(_, v)| v) {
        if !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    names
}

fn colour(series: &[&str], name: &str) -> &'static str {
    let i = series.iter().position(|s| *s == name).unwrap_or(0);
    PALETTE[i % PALETTE.len()]
}

fn total(values: &[(String, u64)]) -> u64 {
    values
        .iter()
        .map(|(_, v)| v)
        .fold(0u64, |a, v| a.saturating_add(*v))
}

/// The smallest of 2, 4, 6, 8, 10 × 10ⁿ (even, so the middle tick is whole) at or above `v`.
fn nice_ceiling(v: u64) -> u64 {
    let mut step = 1u64;
    loop {
        for m in [2, 4, 6, 8, 10] {
            let c = step.saturating_mul(m);
            if c >= v || c == u64::MAX {
                return c;
            }
        }
        step = step.saturating_mul(10);
    }
}

/// `12345` as `12.345`, the Indonesian way.
fn number(v: u64) -> String {
    let digits = v.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

fn shorten(label: &str, max_chars: usize) -> String {
    if label.chars().count() <= max_chars {
        label.to_string()
    } else {
        let cut: String = label.chars().take(max_chars.saturating_sub(1)).collect();
        // Prefer ending at a word when that keeps most of the label.
        let cut = match cut.rfind(' ') {
            Some(i) if i > cut.len() / 2 => &cut[..i],
            _ => cut.as_str(),
        };
        format!("{}…", cut.trim_end())
    }
}

/// Text for XML content and attribute values: markup characters escaped, characters XML 1.0
/// cannot carry (most control characters) dropped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || matches!(c, '\u{FFFE}' | '\u{FFFF}') => {}
            c => out.push(c),
        }
    }
    out
}

/// Where the legend goes: swatch and name per series, wrapped to the width.
struct Legend {
    items: Vec<(f64, f64)>,
    bottom: f64,
}

impl Legend {
    fn layout(series: &[&str], top: f64) -> Legend {
        let (mut x, mut y) = (8.0, top);
        let mut items = Vec::new();
        for name in series {
            // About 6.5 units per character at 11 px, plus the swatch.
            let w = 18.0 + 6.5 * shorten(name, 24).chars().count() as f64 + 10.0;
            if x + w > WIDTH - 8.0 && x > 8.0 {
                x = 8.0;
                y += LEGEND_ROW_H;
            }
            items.push((x, y));
            x += w;
        }
        let bottom = if series.is_empty() {
            top
        } else {
            y + LEGEND_ROW_H
        };
        Legend { items, bottom }
    }

    fn draw(&self, svg: &mut Svg, series: &[&str]) {
        for ((x, y), name) in self.items.iter().zip(series) {
            svg.rect(*x, *y + 2.0, 12.0, 12.0, colour(series, name), name);
            svg.text(*x + 16.0, *y + 12.0, "start", 11.0, &shorten(name, 24));
        }
    }
}

/// An SVG document being written.
struct Svg(String);

impl Svg {
    fn start(title: &str, height: f64) -> Svg {
        let t = escape(title);
        let mut s = String::new();
        let _ = write!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height:.0}\" \
             width=\"100%\" role=\"img\" aria-label=\"{t}\" {FONT}>\
             <title>{t}</title>\
             <text x=\"8\" y=\"17\" font-size=\"13\" font-weight=\"bold\" fill=\"#222222\">{t}</text>"
        );
        Svg(s)
    }

    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, tip: &str) {
        let _ = write!(
            self.0,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{fill}\">\
             <title>{}</title></rect>",
            escape(tip)
        );
    }

    fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str) {
        let _ = write!(
            self.0,
            "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"{stroke}\"/>"
        );
    }

    fn text(&mut self, x: f64, y: f64, anchor: &str, size: f64, text: &str) {
        let _ = write!(
            self.0,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"{anchor}\" font-size=\"{size}\" \
             fill=\"#222222\">{}</text>",
            escape(text)
        );
    }

    fn no_data(&mut self, y: f64) {
        self.text(WIDTH / 2.0, y, "middle", 12.0, "Belum ada data");
    }

    fn finish(mut self) -> String {
        self.0.push_str("</svg>");
        self.0
    }
}

#[cfg(test)]
mod tests;
