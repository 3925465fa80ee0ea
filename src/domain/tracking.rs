//! Tracking codes: `<OFFICE>-XXXXX-XXXXX`.
//!
//! The code part is ten Crockford base32 symbols: nine random (45 bits, so codes can't be guessed
//! or enumerated, unlike sequential ticket numbers) and one Luhn mod 32 check symbol, which catches
//! every single mistyped symbol and most swapped neighbours. Input is forgiving as Crockford
//! intended: case-insensitive, I/L read as 1, O as 0, dashes and spaces optional.

use std::fmt;
use std::str::FromStr;

use rand::Rng;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const RANDOM_LEN: usize = 9;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrackingCode {
    office: String,
    /// The ten symbols, upper-case, without dashes.
    symbols: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrackingCodeError {
    #[error("tracking code must look like KODE-XXXXX-XXXXX")]
    Shape,
    #[error("tracking code has a character that is not allowed: {0:?}")]
    BadChar(char),
    #[error("tracking code check character does not match (typo?)")]
    Check,
    #[error("office code must be 2-8 letters or digits")]
    Office,
}

fn value_of(c: char) -> Option<u32> {
    let c = match c.to_ascii_uppercase() {
        'I' | 'L' => '1',
        'O' => '0',
        other => other,
    };
    ALPHABET
        .iter()
        .position(|&a| a as char == c)
        .map(|p| p as u32)
}

/// Luhn mod N (N = 32) check symbol over `values`.
fn check_value(values: &[u32]) -> u32 {
    let mut factor = 2;
    let mut sum = 0;
    for &v in values.iter().rev() {
        let addend = factor * v;
        factor = if factor == 2 { 1 } else { 2 };
        sum += addend / 32 + addend % 32;
    }
    (32 - sum % 32) % 32
}

/// Is `office` a valid office code (2-8 ASCII letters/digits)?
pub fn valid_office(office: &str) -> bool {
    (2..=8).contains(&office.len()) && office.chars().all(|c| c.is_ascii_alphanumeric())
}

impl TrackingCode {
    /// A fresh random code for `office` (already validated by config).
    pub fn generate(office: &str) -> Result<Self, TrackingCodeError> {
        if !valid_office(office) {
            return Err(TrackingCodeError::Office);
        }
        let mut rng = rand::rng();
        let values: Vec<u32> = (0..RANDOM_LEN).map(|_| rng.random_range(0..32)).collect();
        Ok(Self::from_values(office, &values))
    }

    fn from_values(office: &str, values: &[u32]) -> Self {
        let mut symbols: String = values
            .iter()
            .map(|&v| ALPHABET[v as usize] as char)
            .collect();
        symbols.push(ALPHABET[check_value(values) as usize] as char);
        Self {
            office: office.to_ascii_uppercase(),
            symbols,
        }
    }

    /// Parse user input for a known office code, forgiving case, I/L/O and dashes.
    pub fn parse_for(office: &str, input: &str) -> Result<Self, TrackingCodeError> {
        let cleaned: String = input
            .chars()
            .filter(|c| !matches!(c, '-' | ' ' | '_' | '.'))
            .collect::<String>()
            .to_ascii_uppercase();
        let office_up = office.to_ascii_uppercase();
        // The code part itself may begin with the office's letters (PSR-PSR00-...): strip the
        // prefix only when what is left has the length of a code part.
        let body = match cleaned.strip_prefix(&office_up) {
            Some(rest) if rest.chars().count() == RANDOM_LEN + 1 => rest,
            _ => &cleaned,
        };
        Self::parse_symbols(&office_up, body)
    }

    fn parse_symbols(office: &str, body: &str) -> Result<Self, TrackingCodeError> {
        if body.chars().count() != RANDOM_LEN + 1 {
            return Err(TrackingCodeError::Shape);
        }
        let values = body
            .chars()
            .map(|c| value_of(c).ok_or(TrackingCodeError::BadChar(c)))
            .collect::<Result<Vec<_>, _>>()?;
        let (random, check) = values.split_at(RANDOM_LEN);
        if check_value(random) != check[0] {
            return Err(TrackingCodeError::Check);
        }
        Ok(Self::from_values(office, random))
    }

    pub fn office(&self) -> &str {
        &self.office
    }

    /// Find a tracking code of `office` anywhere in free text (an email subject, an OCR page).
    pub fn find_in(office: &str, text: &str) -> Option<Self> {
        let pattern = format!(
            r"(?i)\b{}[\s-]*([0-9A-Z]{{5}})[\s-]?([0-9A-Z]{{5}})\b",
            regex::escape(office)
        );
        let re = cached_regex(&pattern)?;
        let office = office.to_ascii_uppercase();
        let found = re.captures_iter(text).find_map(|c| {
            let body = format!("{}{}", &c[1], &c[2]);
            Self::parse_symbols(&office, &body).ok()
        });
        found
    }
}

impl fmt::Display for TrackingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}-{}",
            self.office,
            &self.symbols[..5],
            &self.symbols[5..]
        )
    }
}

impl FromStr for TrackingCode {
    type Err = TrackingCodeError;

    /// Parse a full code including its office prefix (`PSR-7K3M9-QXD2F`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (office, rest) = s.split_once('-').ok_or(TrackingCodeError::Shape)?;
        if !valid_office(office) {
            return Err(TrackingCodeError::Office);
        }
        Self::parse_for(office, rest)
    }
}

/// A regex built from the office code, compiled once per pattern: the patterns depend on
/// configuration, so they can't be static, and compiling them for every message (three times) was
/// a visible share of intake's CPU in the profile. The office codes of a process are
/// few, so the cache stays small.
pub(crate) fn cached_regex(pattern: &str) -> Option<regex::Regex> {
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};
    static CACHE: LazyLock<Mutex<HashMap<String, Option<regex::Regex>>>> =
        LazyLock::new(Default::default);
    let mut cache = match CACHE.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    };
    cache
        .entry(pattern.to_string())
        .or_insert_with(|| regex::Regex::new(pattern).ok())
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_codes_have_the_documented_shape() {
        let code = TrackingCode::generate("PSR").unwrap().to_string();
        assert_eq!(code.len(), "PSR-XXXXX-XXXXX".len());
        assert!(code.starts_with("PSR-"));
        assert!(!code.contains(['I', 'L', 'O', 'U']));
    }

    #[test]
    fn forgiving_input_is_accepted() {
        let code = TrackingCode::from_values("PSR", &[1, 0, 1, 5, 6, 7, 8, 9, 10]);
        let shown = code.to_string();
        let sloppy = shown
            .to_lowercase()
            .replace('-', "")
            .replace('1', "l")
            .replace('0', "o");
        assert_eq!(TrackingCode::parse_for("PSR", &sloppy).unwrap(), code);
        assert_eq!(shown.parse::<TrackingCode>().unwrap(), code);
    }

    #[test]
    fn found_in_a_reply_subject() {
        let code = TrackingCode::generate("PSR").unwrap();
        let subject = format!("Re: [{code}] Tanda terima permohonan");
        assert_eq!(TrackingCode::find_in("PSR", &subject), Some(code));
    }

    proptest! {
        #[test]
        fn any_single_typo_is_caught(values in proptest::collection::vec(0u32..32, 9), pos in 0usize..10, delta in 1u32..32) {
            let code = TrackingCode::from_values("AB", &values);
            let mut chars: Vec<char> = code.symbols.chars().collect();
            let v = value_of(chars[pos]).unwrap();
            chars[pos] = ALPHABET[((v + delta) % 32) as usize] as char;
            let typo: String = chars.into_iter().collect();
            prop_assert!(TrackingCode::parse_for("AB", &typo).is_err());
        }

        #[test]
        fn a_code_part_that_begins_with_the_office_letters_still_parses(rest in proptest::collection::vec(0u32..32, 6)) {
            let mut values = vec![22, 25, 24];
            values.extend(rest);
            let code = TrackingCode::from_values("PSR", &values);
            prop_assert_eq!(code.to_string().parse::<TrackingCode>().unwrap(), code.clone());
            prop_assert_eq!(TrackingCode::parse_for("PSR", &code.symbols).unwrap(), code);
        }

        #[test]
        fn round_trip(values in proptest::collection::vec(0u32..32, 9)) {
            let code = TrackingCode::from_values("PSR", &values);
            prop_assert_eq!(code.to_string().parse::<TrackingCode>().unwrap(), code);
        }
    }
}
