//! Identifiers found in free text: NIK, NPWP, NIB, phone numbers and e-mail addresses.
//!
//! Takes any text, gives the identifiers that pass validation (a 16-digit number that is not a
//! real NIK is dropped, not reported). Never fails.

use std::sync::LazyLock;

use regex::Regex;

use super::Identifier;

/// Province codes of Kemendagri (first two digits of a NIK).
const PROVINCES: &[u8] = &[
    11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 31, 32, 33, 34, 35, 36, 51, 52, 53, 61, 62, 63, 64, 65,
    71, 72, 73, 74, 75, 76, 81, 82, 91, 92, 93, 94, 95, 96,
];

static DIGITS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\d[\d .\-]*\d").expect("regex"));
static NPWP15: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b\d{2}\.\d{3}\.\d{3}\.\d-\d{3}\.\d{3}\b").expect("regex"));
static PHONE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:\+62|\b62|\b0)[ \-.]?8[\d \-.]{7,14}\d").expect("regex"));
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b").expect("regex")
});
static NPWP_LABEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)npwp[^0-9\n]{0,25}$").expect("regex"));

/// True when `digits` (16 ASCII digits) is a plausible NIK: real province, non-zero regency and
/// district, an existing birth date (day + 40 for women) and a non-zero serial.
pub fn valid_nik(digits: &str) -> bool {
    let b = digits.as_bytes();
    if b.len() != 16 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let num = |i: usize| u32::from((b[i] - b'0') * 10 + (b[i + 1] - b'0'));
    if !PROVINCES.contains(&(num(0) as u8)) || num(2) == 0 || num(4) == 0 {
        return false;
    }
    let mut day = num(6);
    if day > 40 {
        day -= 40;
    }
    let (month, year) = (num(8), num(10));
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        // YY is ambiguous between 19YY and 20YY; 2000 was a leap year, so YY % 4 is enough.
        2 if year % 4 == 0 => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days_in_month).contains(&day) && &digits[12..] != "0000"
}

/// A formatted 15-digit NPWP `99.999.999.9-999.999` with a plausible tax office part.
pub fn valid_npwp15(formatted: &str) -> bool {
    NPWP15.is_match(formatted) && formatted.bytes().filter(u8::is_ascii_digit).count() == 15
}

/// Every valid identifier in `text`, deduplicated, in order of appearance.
pub fn extract(text: &str) -> Vec<Identifier> {
    let mut out: Vec<Identifier> = Vec::new();
    let mut push = |kind: &str, value: String| {
        if !out.iter().any(|i| i.kind == kind && i.value == value) {
            out.push(Identifier {
                kind: kind.to_string(),
                value,
            });
        }
    };
    for m in NPWP15.find_iter(text) {
        if valid_npwp15(m.as_str()) {
            push("npwp", m.as_str().to_string());
        }
    }
    for m in PHONE.find_iter(text) {
        let digits: String = m.as_str().chars().filter(char::is_ascii_digit).collect();
        let local = match digits.strip_prefix("62") {
            Some(rest) if !m.as_str().starts_with('0') => format!("0{rest}"),
            _ => digits,
        };
        if (10..=13).contains(&local.len()) && local.starts_with("08") {
            push("phone", local);
        }
    }
    for m in DIGITS.find_iter(text) {
        // Numbers written in groups ("3201 0123 ...") are common on scans; dotted ones are NPWP.
        if m.as_str().contains('.') && NPWP15.is_match(m.as_str()) {
            continue;
        }
        let digits: String = m.as_str().chars().filter(char::is_ascii_digit).collect();
        match digits.len() {
            16 if valid_nik(&digits) => {
                let before = &text[..m.start()];
                if NPWP_LABEL.is_match(before) {
                    push("npwp", digits.clone());
                }
                push("nik", digits);
            }
            13 if !digits.starts_with('0') && !digits.starts_with("62") => push("nib", digits),
            _ => {}
        }
    }
    for m in EMAIL.find_iter(text) {
        push("email", m.as_str().to_lowercase());
    }
    out
}

/// An identifier as `rules explain`, logs and officers see it: the first 6 and the last 2
/// digits stay, every other digit becomes `*` (separators are kept), so a NIK still shows its
/// region and an NPWP its taxpayer prefix, and neither can be copied whole.
pub fn mask(value: &str) -> String {
    let total = value.chars().filter(|c| c.is_ascii_digit()).count();
    if total <= 8 {
        return value
            .chars()
            .map(|c| if c.is_ascii_digit() { '*' } else { c })
            .collect();
    }
    middle_digits(value, total, |_| '*')
}

/// `value` with every digit but the first 6 and the last 2 of its `total` replaced by
/// `with(n)`, n counting the replaced digits from 0; separators stay.
fn middle_digits(value: &str, total: usize, with: impl Fn(usize) -> char) -> String {
    let mut seen = 0;
    value
        .chars()
        .map(|c| {
            if !c.is_ascii_digit() {
                return c;
            }
            seen += 1;
            if seen <= 6 || seen > total - 2 {
                c
            } else {
                with(seen - 7)
            }
        })
        .collect()
}

/// Free text with every NIK and NPWP in it masked like [`mask`] (a run of 15 or 16 digits,
/// spaces or dots allowed between groups, and the dotted NPWP form).
pub fn mask_in_text(text: &str) -> String {
    replace_long_runs(text, mask)
}

/// A run of 15 or 16 digits (spaces, dots or dashes allowed between them): a NIK or an NPWP.
static LONG_RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b\d(?:[ .\-]?\d){14,15}\b").expect("regex"));

/// Every NIK or NPWP of `text` replaced by `with`. `_` counts as a separator (it is a word
/// character to `\b`): a file named `KTP_3576014508900002.jpg` holds a NIK too. The runs are
/// found on a copy with `_` as a space (same byte positions) and replaced in the original.
fn replace_long_runs(text: &str, with: fn(&str) -> String) -> String {
    let spaced = text.replace('_', " ");
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for m in LONG_RUN.find_iter(&spaced) {
        out.push_str(&text[last..m.start()]);
        out.push_str(&with(&text[m.start()..m.end()]));
        last = m.end();
    }
    out.push_str(&text[last..]);
    out
}

/// Free text with every NIK and NPWP replaced like [`mask_in_text`] (the first 6 and the last 2
/// digits stay), but with made-up digits instead of `*`, so that the rules still see an
/// identifier of the same kind: a labelled example (`loket rules corrections`) must score as the
/// case did, and a KTP is partly recognised by its valid NIK. A valid NIK stays valid (born
/// 01-01-90, a woman's day + 40 kept); any other number gets zeros.
pub fn pseudonymise_in_text(text: &str) -> String {
    replace_long_runs(text, pseudonym)
}

fn pseudonym(value: &str) -> String {
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    let filler: Vec<char> = if valid_nik(&digits) {
        let day = if &digits[6..8] > "40" { "41" } else { "01" };
        let serial = if &digits[14..] == "00" { "01" } else { "00" };
        format!("{day}0190{serial}").chars().collect()
    } else {
        vec!['0'; digits.len().saturating_sub(8)]
    };
    middle_digits(value, digits.len(), |n| {
        filler.get(n).copied().unwrap_or('0')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(String, String)> {
        extract(text)
            .into_iter()
            .map(|i| (i.kind, i.value))
            .collect()
    }

    #[test]
    fn pseudonyms_keep_the_kind_of_identifier_but_not_the_number() {
        let text = "NIK 3576014508900002, no. 3201 0145 0890 0001, NPWP 01.234.567.8-901.000";
        let p = pseudonymise_in_text(text);
        assert!(
            !p.contains("3576014508900002") && p.contains("357601"),
            "{p}"
        );
        let found = kinds(&p);
        assert_eq!(
            found.iter().filter(|(k, _)| k == "nik").count(),
            2,
            "{p}: {found:?}"
        );
        assert!(found
            .iter()
            .any(|(k, v)| k == "npwp" && v.starts_with("01.234.5")));
        assert!(p.contains("3201 0141 0190 0001"), "separators kept: {p}");
    }

    #[test]
    fn nik_is_validated_by_region_and_birth_date() {
        assert!(valid_nik("3201014508900001")); // woman born 05-08-1990
        assert!(valid_nik("3578011201850003"));
        assert!(!valid_nik("9901011201850003")); // no province 99
        assert!(!valid_nik("3201013102850003")); // 31 February
        assert!(!valid_nik("3201017308900001")); // 33 + 40
        assert!(!valid_nik("3201011201850000")); // serial 0000
    }

    #[test]
    fn identifiers_are_found_in_informal_text() {
        let found = kinds(
            "NIK: 3201 0145 0890 0001, npwp 01.234.567.8-901.000, NIB 9120001234567, \
             hp/wa +62 812-3456-7890 atau 0813 1111 2222, email Budi@Example.co.id",
        );
        assert!(found.contains(&("nik".into(), "3201014508900001".into())));
        assert!(found.contains(&("npwp".into(), "01.234.567.8-901.000".into())));
        assert!(found.contains(&("nib".into(), "9120001234567".into())));
        assert!(found.contains(&("phone".into(), "081234567890".into())));
        assert!(found.contains(&("phone".into(), "081311112222".into())));
        assert!(found.contains(&("email".into(), "budi@example.co.id".into())));
    }

    #[test]
    fn identifiers_in_file_names_are_masked_but_longer_numbers_are_not() {
        assert_eq!(
            mask_in_text("KTP_3576014508900002.jpg"),
            "KTP_357601********02.jpg"
        );
        assert_eq!(
            mask_in_text("12 3576014508900002_KK.pdf"),
            "12 357601********02_KK.pdf"
        );
        // 20 digits (an account or reference number) are not a NIK.
        assert_eq!(
            mask_in_text("ref 35760145089000021234"),
            "ref 35760145089000021234"
        );
    }

    #[test]
    fn identifiers_are_masked_to_their_first_six_and_last_two_digits() {
        assert_eq!(mask("3514061208850003"), "351406********03");
        assert_eq!(mask("01.234.567.8-901.000"), "01.234.5**.*-***.*00");
        assert_eq!(
            mask_in_text("NIK : 3514 0612 0885 0003, NPWP 01.234.567.8-901.000; telp 081234567"),
            "NIK : 3514 06** **** **03, NPWP 01.234.5**.*-***.*00; telp 081234567"
        );
    }

    #[test]
    fn a_sixteen_digit_npwp_is_a_nik() {
        let found = kinds("NPWP: 3201014508900001");
        assert!(found.contains(&("npwp".into(), "3201014508900001".into())));
    }
}
