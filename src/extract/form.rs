//! Applicant details read from a filled-in application form (OCR or text layer).
//!
//! Indonesian forms put a label and a value on one line: `Nama Pemohon : Budi Santoso`,
//! `Alamat : Jl. Merdeka 5`, `No. HP : 0812...`, `Email : ...`, `NIK : 3514...`. OCR turns colons
//! into `;` or `.` or drops them, so the separator is optional.

use std::sync::LazyLock;

use regex::Regex;

use crate::domain::ApplicantDetails;

struct Label {
    re: Regex,
    field: Field,
}

#[derive(Clone, Copy, PartialEq)]
enum Field {
    Name,
    Address,
    Phone,
    Email,
}

fn label(pattern: &str, field: Field) -> Label {
    let re = Regex::new(&format!(
        r"(?im)^[ \t\-•*\d.)]*(?:{pattern})[ \t]*[:;=.]?[ \t]*(\S.*)$"
    ))
    .expect("static label regex");
    Label { re, field }
}

static LABELS: LazyLock<Vec<Label>> = LazyLock::new(|| {
    vec![
        label(
            r"nama\s+(?:lengkap\s+)?pemohon|nama\s+lengkap|nama(?:\s+\(sesuai\s+ktp\))?(?:\s|:|;|=)",
            Field::Name,
        ),
        label(
            r"alamat\s+(?:lengkap|pemohon|rumah|domisili|sesuai\s+ktp)|alamat",
            Field::Address,
        ),
        label(
            r"(?:no\.?|nomor)\s*(?:hp|handphone|telp\.?|telepon|wa|whatsapp)(?:\s*/\s*wa)?|telepon|hp\s*/\s*wa|hp",
            Field::Phone,
        ),
        label(r"e-?mail|surel|alamat\s+email", Field::Email),
    ]
});

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b")
        .expect("static regex")
});
static PHONE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:\+62|62|0)[\s.-]?8[\d\s.-]{7,14}\d").expect("static regex"));

/// Details found on a form; fields not found are `None`.
pub fn applicant_from_form(text: &str) -> ApplicantDetails {
    let mut out = ApplicantDetails::default();
    for l in LABELS.iter() {
        for cap in l.re.captures_iter(text) {
            let value = clean(&cap[1]);
            if value.is_empty() {
                continue;
            }
            let slot = match l.field {
                Field::Name => &mut out.name,
                Field::Address => &mut out.address,
                Field::Phone => &mut out.phone,
                Field::Email => &mut out.email,
            };
            if slot.is_none() {
                *slot = normalise(l.field, &value);
            }
        }
    }
    // Only the form's own email field counts: an address anywhere else on the page (a
    // letterhead, a consultant, a third party) is not the applicant's.
    out
}

/// Strip dotted fill-in lines and stray separators around a value.
fn clean(value: &str) -> String {
    value
        .trim_matches(|c: char| c.is_whitespace() || matches!(c, ':' | ';' | '.' | '_' | '…'))
        .trim()
        .to_string()
}

fn normalise(field: Field, value: &str) -> Option<String> {
    match field {
        Field::Email => EMAIL.find(value).map(|m| m.as_str().to_lowercase()),
        Field::Phone => PHONE.find(value).map(|m| {
            m.as_str()
                .chars()
                .filter(|c| c.is_ascii_digit() || *c == '+')
                .collect()
        }),
        Field::Name => {
            // `Nama Usaha : ...`, `Nama Perusahaan : ...` name something else than the applicant.
            let first = value.split_whitespace().next().unwrap_or("").to_lowercase();
            const OTHER: &[&str] = &[
                "usaha",
                "perusahaan",
                "badan",
                "kuasa",
                "jalan",
                "toko",
                "ibu",
                "ayah",
                "bank",
                "instansi",
                "kegiatan",
                "bangunan",
            ];
            if OTHER.contains(&first.as_str()) {
                return None;
            }
            let letters = value.chars().filter(|c| c.is_alphabetic()).count();
            (letters >= 2 && value.chars().count() <= 80).then(|| value.to_string())
        }
        Field::Address => (value.chars().count() >= 4).then(|| value.chars().take(200).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_read_from_a_typical_form() {
        let text = "FORMULIR PERMOHONAN\nNama Pemohon : Siti Aminah\nNIK : 3514014501900003\n\
                    Alamat ; Jl. Raya Bangil No. 12, Pasuruan\nNo. HP : 0812-3456-7890\nE-mail: Siti.Aminah@Example.com\n";
        let d = applicant_from_form(text);
        assert_eq!(d.name.as_deref(), Some("Siti Aminah"));
        assert_eq!(
            d.address.as_deref(),
            Some("Jl. Raya Bangil No. 12, Pasuruan")
        );
        assert_eq!(d.phone.as_deref(), Some("081234567890"));
        assert_eq!(d.email.as_deref(), Some("siti.aminah@example.com"));
    }

    #[test]
    fn an_address_outside_the_email_field_is_not_the_applicants() {
        let text = "DINAS PENANAMAN MODAL DAN PTSP\nJl. Raya 1, surel: dpmptsp@pasuruankab.go.id\n\
                    FORMULIR PERMOHONAN\nNama Pemohon : Budi\nKonsultan: cv.maju@gmail.com\nEmail : ....";
        assert_eq!(applicant_from_form(text).email, None);
        let filled = "Nama Pemohon : Budi\nEmail : budi.s@gmail.com\nsurat ke info@notaris.co.id";
        assert_eq!(
            applicant_from_form(filled).email.as_deref(),
            Some("budi.s@gmail.com")
        );
    }

    #[test]
    fn a_form_without_email_has_none() {
        let d = applicant_from_form("Nama: Budi\nAlamat: Desa Sukorejo RT 01 RW 02\n");
        assert_eq!(d.email, None);
        assert_eq!(d.name.as_deref(), Some("Budi"));
    }

    #[test]
    fn business_names_are_not_the_applicant() {
        let d = applicant_from_form("Nama Usaha : CV Maju Jaya\nNama Pemohon : Andi\n");
        assert_eq!(d.name.as_deref(), Some("Andi"));
    }
}
