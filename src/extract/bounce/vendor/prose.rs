//! Reading recipients and their diagnostics out of a notice's lines. Three layouts cover
//! the MTAs we know:
//! - blocks that open with `<address>:` at the start of a line (qmail, Yahoo, Postfix),
//!   the diagnostic running to the next blank line;
//! - an address indented by two spaces with its diagnostic indented deeper (Exim);
//! - an address alone on its line with the diagnostic somewhere after it, behind a fixed
//!   sentence (Gmail: "The error that the other server returned was:"; Exchange:
//!   "Remote Server returned '...'", "#550 5.1.1 ... ##").

use std::sync::LazyLock;

use regex::Regex;

use super::super::clean_address;

/// An address and the words about it.
pub(super) type Found = (String, Option<String>);

static ANGLE_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:To:\s*)?<([^<>\s]+@[^<>\s]+)>(?:\s*\([^)]*\))?\s*(?::|\.\.\.)?\s*(.*)$")
        .expect("static regex")
});
static ANY_ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+'=-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
        .expect("static regex")
});
static SENTENCE_ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:wasn't delivered to|delivering your message to|your message to|recipient address:)\s*<?([^\s<>]+@[^\s<>]+?)>?(?:\s|$|\.\s|\.$)",
    )
    .expect("static regex")
});
static CODE_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)remote server returned|#[45][0-9]{2}[ -]|^reported error:|^status code:")
        .expect("static regex")
});

pub(super) fn recipients(format: &str, section: &str) -> Vec<Found> {
    match format {
        "exim" => indented(section),
        "gmail" => gmail(section),
        "exchange" => exchange(section),
        _ => angle_blocks(section),
    }
}

/// `<addr>: text` lines and the lines under them up to a blank line.
fn angle_blocks(section: &str) -> Vec<Found> {
    let mut found: Vec<Found> = Vec::new();
    let mut open = false;
    for line in section.lines() {
        if let Some(caps) = ANGLE_LINE.captures(line) {
            if let Some(address) = caps.get(1).and_then(|m| clean_address(m.as_str())) {
                let rest = caps.get(2).map(|m| m.as_str().trim()).unwrap_or_default();
                found.push((address, Some(rest.to_string())));
                open = true;
                continue;
            }
        }
        if line.trim().is_empty() {
            open = false;
        } else if open {
            append(&mut found, line);
        }
    }
    found
}

/// Exim: `  addr` (or `  addr: text`, `  addr <alias>: text`), diagnostic lines deeper.
fn indented(section: &str) -> Vec<Found> {
    let mut found: Vec<Found> = Vec::new();
    let mut open = false;
    for line in section.lines() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        let first = trimmed
            .split([' ', '\t'])
            .next()
            .unwrap_or_default()
            .trim_end_matches(':');
        if (1..=3).contains(&indent) {
            if let Some(address) = clean_address(first) {
                let rest = trimmed[first.len()..].trim_start_matches(':').trim();
                found.push((address, Some(rest.to_string())));
                open = true;
                continue;
            }
        }
        if trimmed.is_empty() || indent < 4 {
            open = false;
        } else if open {
            append(&mut found, line);
        }
    }
    found
}

/// Gmail: the addresses alone on a line or in "wasn't delivered to X"; one diagnostic for
/// the notice (Gmail writes one notice per recipient).
fn gmail(section: &str) -> Vec<Found> {
    let diagnostic = paragraph_after(
        section,
        &[
            "the error that the other server returned was:",
            "the response from the remote server was:",
            "technical details of permanent failure:",
            "technical details of temporary failure:",
        ],
    );
    addresses_named(section)
        .into_iter()
        .map(|address| (address, diagnostic.clone()))
        .collect()
}

/// Exchange: each address with the first code line after its last mention (the
/// administrators' section repeats the addresses with their codes).
fn exchange(section: &str) -> Vec<Found> {
    let lines: Vec<&str> = section.lines().collect();
    let code_at = |from: usize| {
        lines[from..]
            .iter()
            .find(|l| CODE_LINE.is_match(l.trim()))
            .map(|l| l.trim().to_string())
    };
    addresses_named(section)
        .into_iter()
        .map(|address| {
            let last = lines
                .iter()
                .rposition(|l| line_address(l).as_deref() == Some(address.as_str()));
            let diagnostic = last.and_then(code_at).or_else(|| code_at(0));
            (address, diagnostic)
        })
        .collect()
}

/// Generic: every address in the notice, with its line as the diagnostic.
pub(super) fn generic(section: &str) -> Vec<Found> {
    let mut found: Vec<Found> = Vec::new();
    for line in section.lines() {
        for m in ANY_ADDRESS.find_iter(line) {
            if let Some(address) = clean_address(m.as_str()) {
                if !found.iter().any(|(a, _)| *a == address) {
                    found.push((address, Some(line.trim().to_string())));
                }
            }
        }
    }
    found
}

/// Addresses alone on a line (`addr`, `addr<mailto:addr>`, `addr (addr)`) or named in a
/// fixed sentence, in order of appearance, once each.
fn addresses_named(section: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in section.lines() {
        let named = SENTENCE_ADDRESS
            .captures_iter(line)
            .filter_map(|c| c.get(1).and_then(|m| clean_address(m.as_str())));
        for address in line_address(line).into_iter().chain(named) {
            if !out.contains(&address) {
                out.push(address);
            }
        }
    }
    out
}

fn line_address(line: &str) -> Option<String> {
    let trimmed = line.trim();
    let first = trimmed
        .split(['<', ' ', '\t', '('])
        .next()
        .unwrap_or_default();
    let rest = trimmed[first.len()..].trim();
    let only_echo = rest.is_empty()
        || rest.starts_with("<mailto:")
        || (rest.starts_with('(') && rest.ends_with(')') && rest.contains('@'));
    only_echo.then(|| clean_address(first)).flatten()
}

/// The first paragraph after the first of `openers` found (its own line's rest included).
fn paragraph_after(section: &str, openers: &[&str]) -> Option<String> {
    let lower = section.to_ascii_lowercase();
    let (start, opener) = openers
        .iter()
        .find_map(|o| lower.find(o).map(|at| (at, o.len())))?;
    let rest = section.get(start + opener..)?;
    let mut text = String::new();
    for line in rest.lines() {
        if line.trim().is_empty() {
            if text.trim().is_empty() {
                continue;
            }
            break;
        }
        text.push(' ');
        text.push_str(line.trim());
    }
    let text = text.trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn append(found: &mut [Found], line: &str) {
    if let Some((_, diagnostic)) = found.last_mut() {
        let text = diagnostic.get_or_insert_with(String::new);
        text.push(' ');
        text.push_str(line.trim());
    }
}
