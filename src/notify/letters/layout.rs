//! Where everything goes on a receipt letter (A4 portrait, millimetres from the top left).
//!
//! The recipient block sits in the window of a DL envelope with a left window (DIN 5008 form B:
//! 20 mm from the left, 45 mm from the top, 90 x 45 mm), so the letter folded in three needs no
//! separate address label. Document lists that do not fit continue on further pages, each with
//! the tracking code in its header.

use qrcode::EcLevel;

use super::draw::{wrap, PageOps};
use super::fonts::Face;
use super::{LetterError, ReceiptLetter, StatusNoticeLetter};

const LEFT: f32 = 20.0;
const RIGHT: f32 = 190.0;
const WIDTH: f32 = RIGHT - LEFT;
/// Body text must end above this line; the footer lives below it.
const BOTTOM: f32 = 276.0;
const WINDOW_WIDTH: f32 = 85.0;
const WINDOW_BOTTOM: f32 = 89.0;
const INFO_LEFT: f32 = 125.0;
const BODY_SIZE: f32 = 10.0;
const LINE: f32 = 5.0;
const CODE_SIZE: f32 = 22.0;

/// What differs between the kinds of letter besides the body.
struct Texts {
    title: &'static str,
    continued: &'static str,
    footer: &'static str,
}

const RECEIPT: Texts = Texts {
    title: "TANDA TERIMA BERKAS PERMOHONAN",
    continued: "TANDA TERIMA BERKAS PERMOHONAN (lanjutan)",
    footer: "Tanda terima ini dibuat otomatis dan sah tanpa tanda tangan.",
};

const STATUS_NOTICE: Texts = Texts {
    title: "PEMBERITAHUAN STATUS PERMOHONAN",
    continued: "PEMBERITAHUAN STATUS PERMOHONAN (lanjutan)",
    footer: "Pemberitahuan ini dibuat otomatis dan sah tanpa tanda tangan.",
};

/// Lays out one receipt; returns one or more pages.
pub(super) fn letter_pages(letter: &ReceiptLetter) -> Result<Vec<PageOps>, LetterError> {
    pages(letter, &RECEIPT, &letter.kind_label, |flow| {
        body(flow, letter)
    })
}

/// Lays out one status notice: the receipt's letterhead, window and code box, then the new
/// status, the officer's note and what is still missing.
pub(super) fn status_notice_pages(
    notice: &StatusNoticeLetter,
) -> Result<Vec<PageOps>, LetterError> {
    let line = format!("Status baru: {}", notice.status_label);
    pages(&notice.letter, &STATUS_NOTICE, &line, |flow| {
        status_body(flow, notice)
    })
}

fn pages(
    letter: &ReceiptLetter,
    texts: &'static Texts,
    under_title: &str,
    body: impl FnOnce(&mut Flow),
) -> Result<Vec<PageOps>, LetterError> {
    let mut page = PageOps::default();
    letterhead(&mut page, letter);
    window(&mut page, letter);
    info_block(&mut page, letter);
    code_box(&mut page, letter, texts.title, under_title)?;
    let mut flow = Flow {
        pages: vec![page],
        y: 166.0,
        code: clean(&letter.tracking_code),
        continued: texts.continued,
    };
    body(&mut flow);
    let total = flow.pages.len();
    let office = clean(&letter.office_name);
    for (i, page) in flow.pages.iter_mut().enumerate() {
        footer(page, &office, texts.footer, i + 1, total);
    }
    Ok(flow.pages)
}

fn letterhead(page: &mut PageOps, letter: &ReceiptLetter) {
    let mut y = 20.0;
    for line in wrap(&clean(&letter.office_name), Face::Bold, 15.0, WIDTH) {
        page.text(LEFT, y, Face::Bold, 15.0, line);
        y += 6.5;
    }
    y -= 1.0;
    for extra in [&letter.office_address, &letter.office_contact]
        .into_iter()
        .flatten()
    {
        for line in wrap(&clean(extra), Face::Regular, 9.0, WIDTH) {
            page.text(LEFT, y, Face::Regular, 9.0, line);
            y += 4.2;
        }
    }
    page.rule(LEFT, y.max(30.0), WIDTH, 0.5);
}

/// The recipient, inside the envelope window, under a one-line return address.
fn window(page: &mut PageOps, letter: &ReceiptLetter) {
    let mut sender = clean(&letter.office_name);
    if let Some(address) = &letter.office_address {
        sender = format!("{sender} · {}", clean(address));
    }
    let sender = wrap(&sender, Face::Regular, 6.5, WINDOW_WIDTH).remove(0);
    page.text(LEFT, 49.0, Face::Regular, 6.5, sender);
    page.rule(LEFT, 50.2, WINDOW_WIDTH, 0.15);

    page.text(LEFT, 56.0, Face::Regular, BODY_SIZE, "Kepada Yth.");
    let name = letter.applicant_name.as_deref().map(clean);
    let name = name.filter(|n| !n.is_empty()).unwrap_or("Pemohon".into());
    let mut y = 61.5;
    let mut lines: Vec<(Face, String)> = wrap(&name, Face::Bold, 11.0, WINDOW_WIDTH)
        .into_iter()
        .map(|l| (Face::Bold, l))
        .collect();
    for part in letter.applicant_address.iter().flat_map(|a| a.lines()) {
        let part = clean(part);
        lines.extend(
            wrap(&part, Face::Regular, BODY_SIZE, WINDOW_WIDTH)
                .into_iter()
                .filter(|l| !l.is_empty())
                .map(|l| (Face::Regular, l)),
        );
    }
    for (face, line) in lines {
        if y > WINDOW_BOTTOM {
            break;
        }
        let size = if face == Face::Bold { 11.0 } else { BODY_SIZE };
        page.text(LEFT, y, face, size, line);
        y += LINE;
    }
}

/// Date, tracking code and permit type to the right of the window.
fn info_block(page: &mut PageOps, letter: &ReceiptLetter) {
    let width = RIGHT - INFO_LEFT;
    let mut y = 53.0;
    let mut item = |label: &str, face: Face, value: &str, max_lines: usize| {
        page.text(INFO_LEFT, y, Face::Regular, 7.5, label);
        y += 4.5;
        for line in wrap(value, face, BODY_SIZE, width)
            .into_iter()
            .take(max_lines)
        {
            page.text(INFO_LEFT, y, face, BODY_SIZE, line);
            y += 4.5;
        }
        y += 2.0;
    };
    item("Tanggal", Face::Regular, &clean(&letter.date), 1);
    item(
        "Nomor pelacakan",
        Face::MonoBold,
        &clean(&letter.tracking_code),
        2,
    );
    if let Some(permit) = &letter.permit_type_name {
        item("Jenis izin", Face::Regular, &clean(permit), 3);
    }
}

/// Title, the tracking code in large type and the QR code to the status page.
fn code_box(
    page: &mut PageOps,
    letter: &ReceiptLetter,
    title: &str,
    under_title: &str,
) -> Result<(), LetterError> {
    page.text(LEFT, 104.0, Face::Bold, 15.0, title);
    let kind = clean(under_title);
    if !kind.is_empty() {
        page.text(LEFT, 110.0, Face::Regular, BODY_SIZE, kind);
    }
    let (top, height) = (115.0, 43.0);
    page.frame(LEFT, top, WIDTH, height, 0.4);
    page.text(
        LEFT + 5.0,
        top + 9.0,
        Face::Regular,
        9.0,
        "Nomor pelacakan / Tracking code",
    );
    let code = clean(&letter.tracking_code);
    // Shrink an unusually long code so it never runs into the QR code.
    let room = 120.0;
    let natural = super::draw::mm(Face::MonoBold.width(&code, CODE_SIZE));
    let size = if natural > room {
        CODE_SIZE * room / natural
    } else {
        CODE_SIZE
    };
    page.text(LEFT + 5.0, top + 22.0, Face::MonoBold, size, code.clone());
    page.text(
        LEFT + 5.0,
        top + 31.0,
        Face::Regular,
        8.5,
        "Simpan nomor ini dan sebutkan setiap kali menghubungi kami.",
    );
    let target = letter.status_url.clone().unwrap_or(code);
    let (qr_size, qr_x) = (30.0, RIGHT - 35.0);
    page.qr(qr_x, top + 4.0, qr_size, &target, EcLevel::M)?;
    let caption = if letter.status_url.is_some() {
        "Pindai untuk cek status"
    } else {
        "Nomor pelacakan"
    };
    page.text_centred(
        qr_x + qr_size / 2.0,
        top + 38.5,
        Face::Regular,
        7.0,
        caption,
    );
    Ok(())
}

fn body(flow: &mut Flow, letter: &ReceiptLetter) {
    let code = clean(&letter.tracking_code);
    let permit = match &letter.permit_type_name {
        Some(p) => format!(" {}", clean(p)),
        None => String::new(),
    };
    flow.paragraph(&format!(
        "Dengan hormat, kami telah menerima berkas permohonan{permit} Anda dan mencatatnya \
         dengan nomor pelacakan {code}."
    ));
    flow.gap();
    flow.heading(&format!(
        "Dokumen yang kami terima ({}):",
        letter.documents.len()
    ));
    if letter.documents.is_empty() {
        flow.paragraph("Tidak ada dokumen yang dapat kami baca dari kiriman ini.");
    }
    for (i, doc) in letter.documents.iter().enumerate() {
        flow.item(&format!("{}.", i + 1), &clean(doc));
    }
    flow.gap();
    if letter.missing.is_empty() {
        flow.heading("Kelengkapan persyaratan:");
        flow.paragraph(
            "Berkas Anda tampak lengkap. Petugas kami akan memeriksanya dan menghubungi Anda \
             bila masih ada kekurangan.",
        );
    } else {
        flow.heading("Persyaratan yang belum kami terima:");
        for req in &letter.missing {
            flow.item("–", &clean(req));
        }
        flow.paragraph(&format!(
            "Mohon lengkapi persyaratan tersebut dengan menyebut nomor pelacakan {code}. \
             Petugas kami akan memeriksa kembali seluruh berkas."
        ));
    }
    flow.gap();
    flow.heading("Cek status permohonan:");
    match &letter.status_url {
        Some(url) => flow.paragraph(&format!("Cek status: {}", clean(url))),
        None => flow.paragraph(&format!(
            "Hubungi kantor kami dengan menyebut nomor pelacakan {code}."
        )),
    }
    if let Some(contact) = &letter.office_contact {
        flow.paragraph(&format!("Kontak: {}", clean(contact)));
    }
    flow.gap();
    flow.small(&format!(
        "English: this is the receipt for your permit application. Please quote the tracking \
         code {code} whenever you contact us."
    ));
}

/// The status notice's text: the new status, the officer's note verbatim (its line breaks
/// kept), what is still missing and where to check the status.
fn status_body(flow: &mut Flow, notice: &StatusNoticeLetter) {
    let letter = &notice.letter;
    let code = clean(&letter.tracking_code);
    let permit = match &letter.permit_type_name {
        Some(p) => format!(" {}", clean(p)),
        None => String::new(),
    };
    flow.paragraph(&format!(
        "Dengan hormat, kami memberitahukan bahwa status permohonan{permit} Anda dengan nomor \
         pelacakan {code} telah berubah menjadi:"
    ));
    flow.gap();
    flow.lines(
        LEFT + 8.0,
        Face::Bold,
        12.0,
        6.0,
        &clean(&notice.status_label),
    );
    flow.gap();
    if !notice.note.trim().is_empty() {
        flow.heading("Catatan petugas:");
        for line in notice.note.lines() {
            if line.trim().is_empty() {
                flow.gap();
            } else {
                flow.lines(LEFT + 8.0, Face::Regular, BODY_SIZE, LINE, &clean(line));
            }
        }
        flow.gap();
    }
    if !letter.missing.is_empty() {
        flow.heading("Persyaratan yang masih kurang:");
        for req in &letter.missing {
            flow.item("–", &clean(req));
        }
        flow.paragraph(&format!(
            "Mohon lengkapi persyaratan tersebut dengan menyebut nomor pelacakan {code}."
        ));
        flow.gap();
    }
    flow.heading("Cek status permohonan:");
    match &letter.status_url {
        Some(url) => flow.paragraph(&format!("Cek status: {}", clean(url))),
        None => flow.paragraph(&format!(
            "Hubungi kantor kami dengan menyebut nomor pelacakan {code}."
        )),
    }
    if let Some(contact) = &letter.office_contact {
        flow.paragraph(&format!("Kontak: {}", clean(contact)));
    }
    flow.gap();
    flow.small(&format!(
        "English: the status of your application {code} is now \"{}\".",
        clean(&notice.status.replace('_', " "))
    ));
}

fn footer(page: &mut PageOps, office: &str, note: &str, number: usize, total: usize) {
    page.rule(LEFT, 281.0, WIDTH, 0.2);
    let office = wrap(office, Face::Regular, 7.0, WIDTH - 30.0).remove(0);
    page.text(LEFT, 285.0, Face::Regular, 7.0, office);
    page.text(LEFT, 288.5, Face::Regular, 7.0, note);
    let pages = format!("Halaman {number} dari {total}");
    page.text_right(RIGHT, 285.0, Face::Regular, 7.0, &pages);
}

/// Running text that continues on a new page when it reaches the footer.
struct Flow {
    pages: Vec<PageOps>,
    y: f32,
    code: String,
    /// The title of continuation pages.
    continued: &'static str,
}

impl Flow {
    fn page(&mut self) -> &mut PageOps {
        // `pages` starts with one page and only grows.
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Makes room for `height` mm, starting a continuation page if needed.
    fn ensure(&mut self, height: f32) {
        if self.y + height <= BOTTOM {
            return;
        }
        let mut page = PageOps::default();
        page.text(LEFT, 20.0, Face::Bold, 11.0, self.continued);
        page.text_right(RIGHT, 20.0, Face::MonoBold, 11.0, &self.code);
        page.rule(LEFT, 23.0, WIDTH, 0.3);
        self.pages.push(page);
        self.y = 32.0;
    }

    fn lines(&mut self, x: f32, face: Face, size: f32, line_height: f32, text: &str) {
        for line in wrap(text, face, size, RIGHT - x) {
            self.ensure(line_height);
            let y = self.y;
            self.page().text(x, y, face, size, line);
            self.y += line_height;
        }
    }

    fn paragraph(&mut self, text: &str) {
        self.lines(LEFT, Face::Regular, BODY_SIZE, LINE, text);
    }

    fn small(&mut self, text: &str) {
        self.lines(LEFT, Face::Regular, 8.5, 4.2, text);
    }

    fn heading(&mut self, text: &str) {
        // Keep a heading with at least one line of what follows.
        self.ensure(2.0 * LINE);
        self.lines(LEFT, Face::Bold, BODY_SIZE, LINE, text);
    }

    /// A list item with a hanging indent.
    fn item(&mut self, marker: &str, text: &str) {
        self.ensure(LINE);
        let y = self.y;
        self.page()
            .text(LEFT + 1.0, y, Face::Regular, BODY_SIZE, marker);
        self.lines(LEFT + 8.0, Face::Regular, BODY_SIZE, LINE, text);
    }

    fn gap(&mut self) {
        self.y += 2.5;
    }
}

/// Text from outside (file names, addresses) with control characters made harmless.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::letters::draw::Op;

    fn letter() -> ReceiptLetter {
        ReceiptLetter {
            office_name: "DPMPTSP Kota Maju".into(),
            office_address: None,
            office_contact: None,
            date: "1 Januari 2027".into(),
            tracking_code: "DPM-7K2QX-9M4TB".into(),
            applicant_name: Some("Nama\tDengan\u{7}Kontrol".into()),
            applicant_address: Some("Baris alamat yang panjang sekali\n".repeat(20)),
            documents: vec!["a.pdf".into()],
            missing: vec![],
            permit_type_name: None,
            status_url: None,
            kind_label: String::new(),
        }
    }

    fn texts(page: &PageOps) -> Vec<(f32, f32, &str)> {
        page.ops
            .iter()
            .filter_map(|op| match op {
                Op::Text { x, y, text, .. } => Some((*x, *y, text.as_str())),
                Op::Rects(_) => None,
            })
            .collect()
    }

    #[test]
    fn a_long_address_stays_inside_the_envelope_window() {
        let pages = letter_pages(&letter()).expect("layout");
        let window: Vec<_> = texts(&pages[0])
            .into_iter()
            .filter(|(x, y, _)| *x < 110.0 && (45.0..100.0).contains(y))
            .collect();
        assert!(window.iter().any(|(_, _, t)| t.contains("Baris alamat")));
        for (_, y, text) in window {
            assert!(y <= 90.0, "{text:?} printed below the window at {y} mm");
        }
    }

    #[test]
    fn control_characters_in_names_become_spaces() {
        let pages = letter_pages(&letter()).expect("layout");
        assert!(texts(&pages[0])
            .iter()
            .any(|(_, _, t)| *t == "Nama Dengan Kontrol"));
    }
}
