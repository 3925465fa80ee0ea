//! The text of one office XML part (WordprocessingML or ODF), read with a real XML parser.
//!
//! A streaming walk over the events: each element name has a [`Role`] in its dialect
//! (paragraph, table cell, line break, skipped subtree...), and text is kept only where the
//! dialect says it is the document's text. Entities (`&amp;`, `&#233;`, `&#x2014;`) arrive as
//! separate events and are decoded here. Malformed XML is an error naming the part, never a
//! panic or a silent truncation.

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::reader::NsReader;
use quick_xml::XmlVersion;

/// Most spaces one `<text:s text:c="N"/>` may stand for: a form never needs more, and a
/// hostile count must not turn a few bytes into gigabytes.
const MAX_SPACES: usize = 200;

/// Which office format a part belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// WordprocessingML (`word/*.xml` in a DOCX).
    Docx,
    /// ODF `content.xml`.
    Odt,
    /// ODF `styles.xml`: only the headers and footers of master pages are text.
    OdtStyles,
}

/// What an element means for the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Ends a line (outside tables) when it closes.
    Paragraph,
    Cell,
    Row,
    Break,
    Tab,
    /// DOCX `w:noBreakHyphen`: a hyphen written as an element.
    Hyphen,
    /// `text:s`: one or `text:c` spaces.
    Spaces,
    /// DOCX `w:t`: the only element whose text is document text.
    TextRun,
    /// ODF header/footer: in `styles.xml`, text outside these is not document text.
    Gate,
    /// A subtree with no document text (properties, field codes, duplicate fallbacks).
    Skip,
    Other,
}

/// The role of an element, by its namespace (as a conventional prefix) and local name.
fn role(dialect: Dialect, ns: &ResolveResult, qname: &str) -> Role {
    let (prefix, local) = qname.split_once(':').unwrap_or(("", qname));
    let prefix = match ns {
        ResolveResult::Bound(Namespace(uri)) => conventional_prefix(uri).unwrap_or(prefix),
        _ => prefix,
    };
    let name = (prefix, local);
    match dialect {
        Dialect::Docx => docx_role(name),
        Dialect::Odt | Dialect::OdtStyles => odt_role(name),
    }
}

/// The prefix Word and LibreOffice use for a namespace, so that a part written with other
/// prefixes (or a default namespace) reads the same. Unknown namespaces keep their prefix.
fn conventional_prefix(uri: &str) -> Option<&'static str> {
    Some(match uri {
        "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
        | "http://purl.oclc.org/ooxml/wordprocessingml/main" => "w",
        "http://schemas.openxmlformats.org/markup-compatibility/2006" => "mc",
        "urn:oasis:names:tc:opendocument:xmlns:text:1.0" => "text",
        "urn:oasis:names:tc:opendocument:xmlns:table:1.0" => "table",
        "urn:oasis:names:tc:opendocument:xmlns:style:1.0" => "style",
        "urn:oasis:names:tc:opendocument:xmlns:office:1.0" => "office",
        "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" => "svg",
        _ => return None,
    })
}

fn docx_role(name: (&str, &str)) -> Role {
    match name {
        ("w", "p") => Role::Paragraph,
        ("w", "tc") => Role::Cell,
        ("w", "tr") => Role::Row,
        ("w", "br") | ("w", "cr") => Role::Break,
        ("w", "tab") => Role::Tab,
        ("w", "t") => Role::TextRun,
        ("w", "noBreakHyphen") => Role::Hyphen,
        // `mc:Fallback` repeats a text box (`v:textbox`) already read from `mc:Choice`.
        // Properties hold `w:tab` stops that are not tabs in the text. Tracked deletions and
        // the old place of moved text are not the letter as sent.
        ("mc", "Fallback")
        | ("w", "pPr")
        | ("w", "rPr")
        | ("w", "sectPr")
        | ("w", "instrText")
        | ("w", "delText")
        | ("w", "del")
        | ("w", "moveFrom") => Role::Skip,
        _ => Role::Other,
    }
}

fn odt_role(name: (&str, &str)) -> Role {
    match name {
        ("text", "p") | ("text", "h") => Role::Paragraph,
        ("table", "table-cell") | ("table", "covered-table-cell") => Role::Cell,
        ("table", "table-row") => Role::Row,
        ("text", "line-break") => Role::Break,
        ("text", "tab") => Role::Tab,
        ("text", "s") => Role::Spaces,
        ("style", "header")
        | ("style", "footer")
        | ("style", "header-left")
        | ("style", "footer-left")
        | ("style", "header-first")
        | ("style", "footer-first") => Role::Gate,
        // Reviewers' comments and deleted text are not what the applicant wrote.
        ("office", "annotation")
        | ("text", "tracked-changes")
        | ("svg", "title")
        | ("svg", "desc") => Role::Skip,
        _ => Role::Other,
    }
}

/// Why a part could not be read.
#[derive(Debug)]
pub struct XmlError {
    pub position: u64,
    pub detail: String,
}

impl XmlError {
    fn at(reader: &NsReader<&[u8]>, detail: String) -> Self {
        Self {
            position: reader.buffer_position(),
            detail,
        }
    }
}

/// The text of one part: paragraphs as lines, table cells separated by tabs, rows as lines.
pub fn part_text(xml: &str, dialect: Dialect) -> Result<String, XmlError> {
    let mut reader = NsReader::from_str(xml);
    let mut walk = Walk::new(dialect);
    loop {
        let (ns, event) = match reader.read_resolved_event() {
            Ok(read) => read,
            Err(e) => return Err(XmlError::at(&reader, e.to_string())),
        };
        let role_of = |e: &BytesStart| role(dialect, &ns, e.name().into_inner());
        match event {
            Event::Start(e) => walk.start(role_of(&e), &e),
            Event::Empty(e) => {
                let role = role_of(&e);
                walk.start(role, &e);
                walk.end(role);
            }
            Event::End(e) => walk.end(role(dialect, &ns, e.name().into_inner())),
            Event::Text(t) => walk.text(&t.xml10_content()),
            Event::CData(t) => walk.text(&t.xml10_content()),
            Event::GeneralRef(r) => {
                if let Err(e) = walk.entity(&r) {
                    return Err(XmlError::at(&reader, e));
                }
            }
            Event::Eof if walk.depth == 0 => break,
            Event::Eof => {
                return Err(XmlError::at(
                    &reader,
                    "the XML ends inside an open element".into(),
                ))
            }
            _ => {}
        }
    }
    Ok(walk.finish())
}

/// The state of the walk over one part.
struct Walk {
    dialect: Dialect,
    out: String,
    depth: usize,
    /// Depth inside a skipped subtree (0: not skipping).
    skip: usize,
    gates: usize,
    cells: usize,
    paragraphs: usize,
    runs: usize,
    /// ODF collapses white space: a space was just written for a run of it.
    collapsed: bool,
}

impl Walk {
    fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            out: String::new(),
            depth: 0,
            skip: 0,
            gates: 0,
            cells: 0,
            paragraphs: 0,
            runs: 0,
            collapsed: false,
        }
    }

    fn start(&mut self, role: Role, e: &BytesStart) {
        self.depth += 1;
        if self.skip > 0 {
            self.skip += 1;
            return;
        }
        match role {
            Role::Skip => self.skip = 1,
            Role::Gate => self.gates += 1,
            Role::Cell => self.cells += 1,
            Role::Paragraph => self.paragraphs += 1,
            Role::TextRun => self.runs += 1,
            Role::Break if self.in_text() => self.line_break(),
            Role::Tab if self.in_text() => self.push_raw("\t"),
            Role::Hyphen if self.in_text() => self.push_raw("-"),
            Role::Spaces if self.in_text() => {
                let count = space_count(e);
                self.push_raw(&" ".repeat(count));
            }
            _ => {}
        }
    }

    fn end(&mut self, role: Role) {
        self.depth = self.depth.saturating_sub(1);
        if self.skip > 0 {
            self.skip -= 1;
            return;
        }
        let gated = self.dialect != Dialect::OdtStyles || self.gates > 0;
        match role {
            Role::Gate => self.gates = self.gates.saturating_sub(1),
            Role::TextRun => self.runs = self.runs.saturating_sub(1),
            Role::Paragraph => {
                self.paragraphs = self.paragraphs.saturating_sub(1);
                if gated {
                    self.paragraph_end();
                }
            }
            Role::Cell => {
                self.cells = self.cells.saturating_sub(1);
                if gated {
                    trim_end_spaces(&mut self.out);
                    self.push_raw("\t");
                }
            }
            Role::Row if gated => {
                self.out
                    .truncate(self.out.trim_end_matches([' ', '\t']).len());
                self.newline();
            }
            _ => {}
        }
    }

    /// Whether text here is the document's text.
    fn in_text(&self) -> bool {
        if self.skip > 0 {
            return false;
        }
        match self.dialect {
            Dialect::Docx => self.runs > 0 || self.paragraphs > 0,
            Dialect::Odt => self.paragraphs > 0,
            Dialect::OdtStyles => self.paragraphs > 0 && self.gates > 0,
        }
    }

    fn text(&mut self, text: &str) {
        let inside = match self.dialect {
            Dialect::Docx => self.runs > 0 && self.skip == 0,
            _ => self.in_text(),
        };
        if !inside {
            return;
        }
        if self.dialect == Dialect::Docx {
            self.push_raw(text);
            return;
        }
        for c in text.chars() {
            if matches!(c, ' ' | '\t' | '\n' | '\r') {
                if !self.collapsed && !self.at_line_start() {
                    self.out.push(' ');
                }
                self.collapsed = true;
            } else {
                self.out.push(c);
                self.collapsed = false;
            }
        }
    }

    fn entity(&mut self, r: &BytesRef) -> Result<(), String> {
        let decoded = match r.resolve_char_ref() {
            Ok(Some(c)) => c.to_string(),
            Ok(None) => {
                let name = r.xml10_content();
                match quick_xml::escape::resolve_xml_entity(&name) {
                    Some(s) => s.to_string(),
                    // Not defined without a DTD; keep it as written rather than lose text.
                    None => format!("&{name};"),
                }
            }
            Err(e) => return Err(e.to_string()),
        };
        let collapsed = self.collapsed;
        self.text(&decoded);
        // A decoded `&#32;` is a written space, but `text` treats it like any white space.
        if decoded.chars().all(char::is_whitespace) {
            self.collapsed = collapsed;
        }
        Ok(())
    }

    fn push_raw(&mut self, s: &str) {
        self.out.push_str(s);
        self.collapsed = false;
    }

    fn at_line_start(&self) -> bool {
        self.out.is_empty() || self.out.ends_with(['\n', '\t'])
    }

    /// A line break: a new line, or a space inside a table cell (cells stay on their row).
    fn line_break(&mut self) {
        if self.cells > 0 {
            self.push_raw(" ");
        } else {
            self.newline();
        }
    }

    fn paragraph_end(&mut self) {
        if self.cells > 0 {
            if !self.at_line_start() && !self.out.ends_with(' ') {
                self.push_raw(" ");
            }
            self.collapsed = true;
        } else {
            self.newline();
        }
    }

    fn newline(&mut self) {
        trim_end_spaces(&mut self.out);
        self.push_raw("\n");
        self.collapsed = true;
    }

    fn finish(self) -> String {
        self.out
            .lines()
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join("\n")
            .trim()
            .to_string()
    }
}

fn trim_end_spaces(s: &mut String) {
    s.truncate(s.trim_end_matches(' ').len());
}

/// The `text:c` of a `text:s` (by local name, whatever its prefix): absent means one space.
fn space_count(e: &BytesStart) -> usize {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().into_inner() == "c")
        .and_then(|a| {
            a.normalized_value(XmlVersion::Implicit1_0)
                .ok()?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(1)
        .min(MAX_SPACES)
}
