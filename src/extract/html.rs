//! HTML (a mail body or an `.html` attachment) into plain text for reading and classifying.
//!
//! Takes HTML as a string, gives wrapped plain text. Never fails: if html2text gives up (it can
//! on pathological nesting), the tags are stripped crudely instead, because some text is worth
//! more to an officer than none.

/// Wide enough that sentences stay on one line; officers read this in a browser, not a terminal.
const WIDTH: usize = 100;

/// The text of an HTML document, without link footnotes or image placeholders.
pub fn to_text(html: &str) -> String {
    let config = html2text::config::with_decorator(html2text::render::TrivialDecorator::new())
        .link_footnotes(false)
        .no_table_borders()
        .allow_width_overflow();
    match config.string_from_read(html.as_bytes(), WIDTH) {
        Ok(text) => tidy(&text),
        Err(_) => tidy(&strip_tags(html)),
    }
}

/// Trailing spaces and runs of blank lines carry no meaning and upset the classifier's
/// line-based rules.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim().to_string()
}

/// Last resort: drop everything between `<` and `>`.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_letter_reads_as_text() {
        let html = "<html><head><style>p{color:red}</style></head><body>\
                    <p>Yth. Bapak/Ibu,</p><p>Saya mengajukan <b>izin usaha</b> \
                    <a href=\"https://example.id\">di sini</a>.</p>\
                    <table><tr><td>NIK</td><td>3201</td></tr></table></body></html>";
        let text = to_text(html);
        assert!(text.contains("Yth. Bapak/Ibu,"), "{text}");
        assert!(
            text.contains("Saya mengajukan izin usaha di sini."),
            "{text}"
        );
        assert!(text.contains("NIK"), "{text}");
        assert!(!text.contains("color:red"), "{text}");
        assert!(!text.contains('<'), "{text}");
    }

    #[test]
    fn deeply_nested_html_still_gives_text() {
        let html = format!(
            "{}halo{}",
            "<div><table><tr><td>".repeat(300),
            "</td></tr></table></div>".repeat(300)
        );
        assert!(to_text(&html).contains("halo"));
    }
}
