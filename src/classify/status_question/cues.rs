//! The phrases that ask how far a case is, and the ones that show a message is something else.
//!
//! All words here are canonical (see `words.rs`: "sdh" arrives as "sudah", "gimana" as
//! "bagaimana"); a test checks that every listed word survives normalisation unchanged.

use super::words::{Token, CODE};

/// "status" itself.
const STATUS: &[&str] = &["status"];
/// Words for how far something got.
const PROGRESS: &[&str] = &[
    "perkembangan",
    "progres",
    "kemajuan",
    "update",
    "kabar",
    "hasil",
];
/// "proses" asks about a case only when it is someone's ("proses permohonan saya"); "bagaimana
/// proses pengajuan PBG?" asks how the procedure works.
const WEAK_PROGRESS: &[&str] = &["proses"];
/// What the question is about.
const OBJECTS: &[&str] = &[
    CODE,
    "permohonan",
    "izin",
    "berkas",
    "pengajuan",
    "dokumen",
    "application",
    "permit",
    "licence",
    "file",
    "request",
    "pbg",
    "imb",
    "nib",
    "sip",
    "sipa",
    "sipb",
    "sipp",
    "iumk",
    "sppl",
    "kkpr",
    "skrk",
    "tdup",
    "reklame",
    "trayek",
    "apotek",
    "klinik",
];
const POSSESSIVE: &[&str] = &["saya", "kami", "kita", "my", "our"];
/// Verbs that ask for information.
const CHECK: &[&str] = &["cek", "tanya", "info", "lacak", "track", "tracking", "see"];
const QUESTION: &[&str] = &[
    "?",
    "bagaimana",
    "kapan",
    "apa",
    "belum",
    "what",
    "when",
    "how",
    "has",
    "is",
    "did",
    "will",
    "any",
    "yet",
];
/// "Is it done?" words.
const DONE: &[&str] = &[
    "jadi",
    "selesai",
    "terbit",
    "keluar",
    "disetujui",
    "diambil",
    "ambil",
    "diproses",
    "approved",
    "ready",
    "done",
    "finished",
    "issued",
    "processed",
    "granted",
    "completed",
];
/// Markers that a question is about the sender's own case, not permits in general.
const OWN: &[&str] = &[
    "saya", "kami", "kita", "my", "our", CODE, "sudah", "belum", "yet", "already",
];
/// Phrases that are a status question by themselves.
const WHERE: &[&str] = &[
    "sampai mana",
    "tahap mana",
    "tahap apa",
    "sejauh mana",
    "sampai dimana",
    "how far",
    "any update",
    "ada update",
    "ada perkembangan",
    "any progres",
];
/// "status ..." that is a fact, not a question ("status tanah: SHM").
pub const FIELD_NOUNS: &[&str] = &[
    "tanah",
    "lahan",
    "kepemilikan",
    "perkawinan",
    "pernikahan",
    "kawin",
    "bangunan",
    "hak",
    "hukum",
    "badan",
    "usaha",
    "karyawan",
    "pekerjaan",
    "kepegawaian",
    "pegawai",
    "pengiriman",
    "paket",
    "pesanan",
    "order",
    "transaksi",
    "layanan",
    "server",
    "akun",
    "str",
    "ruko",
    "sewa",
    "gedung",
    "tempat",
    "kependudukan",
    "keluarga",
    "oss",
    "pembayaran",
    "notification",
];
/// English puts the thing first: "marital status", "delivery status".
pub const FIELD_NOUNS_BEFORE: &[&str] = &[
    "marital",
    "land",
    "delivery",
    "employment",
    "legal",
    "ownership",
    "payment",
    "shipping",
    "order",
    "account",
    "server",
    "building",
];

/// Machine mail: auto-replies, bounces, newsletters, invitations, offers.
pub const AUTOMATED: &[&str] = &[
    "out of office",
    "out of the office",
    "automatic reply",
    "auto reply",
    "autoreply",
    "balasan otomatis",
    "di luar kantor",
    "sedang cuti",
    "delivery status",
    "undeliverable",
    "mail delivery",
    "could not be delivered",
    "returned mail",
    "newsletter",
    "buletin",
    "unsubscribe",
    "berhenti berlangganan",
    "edisi",
    "webinar",
    "undangan",
    "mengundang",
    "sosialisasi",
    "rapat koordinasi",
    "promo",
    "diskon",
    "penawaran",
    "menawarkan",
    "klik",
    "tautan berikut",
    "pengiriman",
];
/// Frustration and complaint words: these win over a status question (the message goes to the
/// complaints desk, where a person reads it).
pub const COMPLAINT: &[&str] = &[
    "kecewa",
    "mengecewakan",
    "disappointed",
    "disappointing",
    "buruk",
    "jelek",
    "parah",
    "lambat",
    "lelet",
    "lama sekali",
    "lama banget",
    "kesal",
    "marah",
    "komplain",
    "complain",
    "complaint",
    "keluhan",
    "mengeluh",
    "pengaduan",
    "mengadu",
    "mengadukan",
    "aduan",
    "lapor",
    "melapor",
    "melaporkan",
    "laporkan",
    "ombudsman",
    "pungli",
    "calo",
    "suap",
    "dipersulit",
    "protes",
    "tidak profesional",
    "tidak ramah",
    "tidak ada kabar",
    "belum ada kabar",
    "tidak ada respon",
    "belum ada respon",
    "tidak ada tanggapan",
    "tidak ditanggapi",
    "tidak dibalas",
    "belum dibalas",
    "tidak ada jawaban",
    "belum ada jawaban",
    "berbulan",
    "kenapa belum",
    "mengapa belum",
    "kok belum",
    "kok lama",
    "sudah lewat",
    "melebihi",
    "unacceptable",
    "frustrated",
    "terrible",
    "ridiculous",
    "no response",
    "nobody",
    "still no",
    "still not",
];
/// Sending or applying now: an application, or a reply that brings documents.
pub const SENDS: &[&str] = &[
    "terlampir",
    "bersama ini",
    "dengan ini",
    "please find",
    "attached",
    "enclosed",
    "bermaksud",
    "yang bertanda tangan",
    "mohon diproses",
    "apply for",
    "to apply",
    "mendaftarkan",
    "mau daftar",
    "mau urus",
    "mau ngurus",
    "susulan",
];
/// Verbs of sending, unless a past marker comes just before ("sudah saya kirim").
pub const SEND_VERBS: &[&str] = &[
    "kirim",
    "kirimkan",
    "mengirim",
    "mengirimkan",
    "lampirkan",
    "melampirkan",
    "dilampirkan",
    "upload",
    "unggah",
    "mengunggah",
    "send",
    "sending",
    "attach",
    "mengajukan",
];
pub const PAST: &[&str] = &[
    "sudah", "telah", "pernah", "kemarin", "yang", "already", "have", "had",
];
/// Names of documents: with files attached, the message is bringing them.
pub const DOCUMENT_NOUNS: &[&str] = &[
    "ktp",
    "npwp",
    "sertifikat",
    "akta",
    "scan",
    "foto",
    "surat",
    "pbb",
    "gambar",
    "denah",
    "ijazah",
    "str",
    "lampiran",
    "pdf",
    "formulir",
    "kuasa",
    "revisi",
];
/// It asks for something else: requirements, procedure, costs, hours, a change, a cancellation.
pub const OTHER_ASKS: &[&str] = &[
    "syarat",
    "persyaratan",
    "requirement",
    "requirements",
    "cara",
    "prosedur",
    "procedure",
    "how to",
    "how do",
    "how can",
    "how long",
    "biaya",
    "tarif",
    "how much",
    "berapa lama",
    "berapa hari",
    "biasanya",
    "umumnya",
    "usually",
    "normally",
    "jam pelayanan",
    "jam kerja",
    "jam buka",
    "jam berapa",
    "perlu izin",
    "apa perlu",
    "apa harus",
    "apa bisa",
    "apa wajib",
    "bisa diurus",
    "kbli",
    "dokumen apa",
    "what documents",
    "which documents",
    "unduh",
    "download",
    "batal",
    "batalkan",
    "membatalkan",
    "pembatalan",
    "cancel",
    "withdraw",
    "ubah",
    "mengubah",
    "perubahan",
    "ganti",
    "mengganti",
    "update data",
    "koreksi",
    "kata sandi",
    "password",
    "konsultasi",
    "cek di mana",
    "cek dimana",
    "bisa cek",
    "where can",
];

/// Every word the lists use (for the lexicon: known words are never fuzzed into others).
pub fn vocabulary() -> impl Iterator<Item = &'static str> {
    let lists: [&[&'static str]; 22] = [
        FIELD_NOUNS_BEFORE,
        STATUS,
        PROGRESS,
        WEAK_PROGRESS,
        OBJECTS,
        POSSESSIVE,
        CHECK,
        QUESTION,
        DONE,
        OWN,
        WHERE,
        FIELD_NOUNS,
        AUTOMATED,
        COMPLAINT,
        SENDS,
        SEND_VERBS,
        PAST,
        DOCUMENT_NOUNS,
        OTHER_ASKS,
        &["ya", "pak", "bu"],
        &["ada", "sejauh", "tahap"],
        &["di", "mana", "dimana", "sampai"],
    ];
    lists
        .into_iter()
        .flatten()
        .flat_map(|p| p.split(' '))
        .filter(|w| !w.starts_with('#'))
}

/// Where a cue was found: token indices, first and last.
pub type Span = (usize, usize);

fn is(list: &[&str], t: &Token) -> bool {
    list.contains(&t.word.as_str())
}

/// The first of `phrases` found in `toks`, as a span and the phrase.
pub fn find_phrase(toks: &[Token], phrases: &[&'static str]) -> Option<(Span, &'static str)> {
    for (i, _) in toks.iter().enumerate() {
        for p in phrases {
            let n = p.split(' ').count();
            let hit = toks.len() >= i + n && p.split(' ').zip(&toks[i..]).all(|(w, t)| t.word == w);
            if hit {
                return Some(((i, i + n - 1), p));
            }
        }
    }
    None
}

/// A word of `list` within `window` tokens of `i`, either side.
fn near(toks: &[Token], i: usize, window: usize, list: &[&str]) -> Option<usize> {
    let lo = i.saturating_sub(window);
    let hi = (i + window).min(toks.len().saturating_sub(1));
    (lo..=hi).find(|&j| j != i && is(list, &toks[j]))
}

fn span(a: usize, b: usize) -> Span {
    (a.min(b), a.max(b))
}

/// A phrase that asks how far the case is, if the field has one.
/// `context` is true when the other field (the subject) names a case or an application.
pub fn find_cue(toks: &[Token], context: bool) -> Option<Span> {
    if let Some((s, _)) = find_phrase(toks, WHERE) {
        return Some(s);
    }
    toks.iter()
        .enumerate()
        .find_map(|(i, t)| cue_at(toks, i, t, context))
}

fn cue_at(toks: &[Token], i: usize, t: &Token, context: bool) -> Option<Span> {
    let strong = is(STATUS, t) || is(PROGRESS, t);
    if strong || is(WEAK_PROGRESS, t) {
        // "cek status", "mohon info perkembangan", "may I know the progress"
        if let Some(j) = (i.saturating_sub(4)..i).find(|&j| is(CHECK, &toks[j])) {
            return Some(span(j, i));
        }
    }
    if strong {
        // "status permohonan", "progress izin klinik kami", "kabar permohonan saya"
        if let Some(j) = near(toks, i, 4, OBJECTS) {
            return Some(span(i, j));
        }
        // "bagaimana statusnya", "status?"; "apa kabar" is a greeting, not a question
        if t.word != "kabar" {
            if let Some(j) = near(toks, i, 3, QUESTION) {
                return Some(span(i, j));
            }
        }
    }
    if is(WEAK_PROGRESS, t) {
        let object = near(toks, i, 3, OBJECTS)?;
        let own = near(toks, i, 5, POSSESSIVE).or_else(|| near(toks, i, 5, &[CODE]))?;
        return Some(span(i.min(object), own.max(object)));
    }
    if is(DONE, t) {
        return done_question(toks, i, context);
    }
    // "how is my application going"
    if t.word == "how" && toks.get(i + 1).is_some_and(|n| n.word == "is") {
        let j = (i + 2..(i + 5).min(toks.len())).find(|&j| is(OBJECTS, &toks[j]))?;
        return Some((i, j));
    }
    None
}

/// "apakah izin saya sudah jadi?", "kapan PBG saya keluar", "is my permit approved yet?"
fn done_question(toks: &[Token], i: usize, context: bool) -> Option<Span> {
    let q = near(toks, i, 6, QUESTION)?;
    let own = near(toks, i, 6, OWN)?;
    let object = near(toks, i, 6, OBJECTS);
    if object.is_none() && !context {
        return None;
    }
    let ends = [Some(q), Some(own), object, Some(i)];
    let lo = ends.iter().flatten().min().copied().unwrap_or(i);
    let hi = ends.iter().flatten().max().copied().unwrap_or(i);
    Some((lo, hi))
}

/// The subject is nothing but "status" (with a code, a "re:", a "pak").
pub fn bare_status_subject(toks: &[Token]) -> Option<Span> {
    let filler = [
        "re", "fw", "fwd", "aw", "tr", "pak", "bu", "mohon", "ya", "?", "saya", CODE,
    ];
    let i = toks.iter().position(|t| is(STATUS, t))?;
    toks.iter()
        .all(|t| is(STATUS, t) || filler.contains(&t.word.as_str()))
        .then_some((i, i))
}

/// A sending verb not marked as past ("berikut saya kirimkan", not "sudah saya kirim").
pub fn sends_now(toks: &[Token]) -> Option<usize> {
    (0..toks.len()).find(|&i| {
        is(SEND_VERBS, &toks[i]) && !(i.saturating_sub(3)..i).any(|j| is(PAST, &toks[j]))
    })
}

/// Something else asked for. "berapa lama" asks about permits in general, "berapa lama lagi"
/// about this case, so that one does not count (and the search goes on after it).
pub fn other_ask(toks: &[Token]) -> Option<&'static str> {
    let ((_, last), p) = find_phrase(toks, OTHER_ASKS)?;
    let lagi = toks.get(last + 1).is_some_and(|t| t.word == "lagi");
    if lagi && p.starts_with("berapa") {
        return other_ask(&toks[last + 1..]);
    }
    Some(p)
}

/// A word of `list` anywhere.
pub fn any_word(toks: &[Token], list: &[&str]) -> Option<usize> {
    toks.iter().position(|t| is(list, t))
}
