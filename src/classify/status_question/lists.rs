//! The word lists, as data. Every word here is canonical (see `words.rs`: "sdh" arrives as
//! "sudah", "gimana" as "bagaimana"); a test checks that each survives normalisation unchanged.
//! Multi-word entries are phrases, matched word by word. Kept out of rustfmt (one word a line
//! would make this a thousand lines).

use super::words::CODE;

/// "status" itself.
pub const STATUS: &[&str] = &["status"];
/// Words for how far something got.
pub const PROGRESS: &[&str] = &["perkembangan", "progres", "kemajuan", "update", "kelanjutan", "news"];
/// These ask about a case only when it is someone's ("proses permohonan saya", "kabar permohonan
/// saya"): "bagaimana proses pengajuan PBG?" asks how the procedure works, "apa kabar" is a
/// greeting, "dapat kabar bahwa izin PBG..." is news.
pub const WEAK_PROGRESS: &[&str] = &["proses", "kabar", "hasil"];
/// What the question is about.
pub const OBJECTS: &[&str] = &[
    CODE, "permohonan", "izin", "berkas", "pengajuan", "dokumen", "application", "permit",
    "licence", "file", "request", "pbg", "imb", "nib", "sip", "sipa", "sipb", "sipp", "iumk",
    "sppl", "kkpr", "skrk", "tdup", "reklame", "trayek", "apotek", "klinik",
];
pub const POSSESSIVE: &[&str] = &["saya", "kami", "kita", "my", "our"];
/// Verbs that ask for information.
pub const CHECK: &[&str] = &["cek", "tanya", "info", "lacak", "track", "tracking", "see"];
pub const QUESTION: &[&str] = &[
    "?", "bagaimana", "kapan", "apa", "belum", "what", "when", "how", "has", "is", "did", "will",
    "any", "yet",
];
/// "Is it done?" words.
pub const DONE: &[&str] = &[
    "jadi", "selesai", "terbit", "keluar", "disetujui", "diambil", "ambil", "diproses",
    "diverifikasi", "diperiksa", "ditinjau", "diterima", "approved", "ready", "done", "finished",
    "issued", "processed", "granted", "completed", "verified", "reviewed", "received",
];
/// Markers that a question is about the sender's own case, not permits in general: a possessive,
/// a code, "already/yet", the applicant's name ("atas nama"), or a case already filed ("diajukan").
pub const OWN: &[&str] = &["saya", "kami", "kita", "my", "our", CODE, "sudah", "belum", "yet", "already", "nama", "diajukan", "ajukan"];
/// Phrases that are a status question by themselves.
pub const WHERE: &[&str] = &[
    "sampai mana", "tahap mana", "tahap apa", "sejauh mana", "sampai dimana", "how far",
    "any update", "ada update", "ada perkembangan", "any progres", "sudah ada kabar",
    "ada kabar ?", "ada kabar belum", "smp mana", "any news",
];
/// "status ..." that is a fact, not a question ("status tanah: SHM").
pub const FIELD_NOUNS: &[&str] = &[
    "tanah", "lahan", "kepemilikan", "perkawinan", "pernikahan", "kawin", "bangunan", "hak",
    "hukum", "badan", "usaha", "karyawan", "pekerjaan", "kepegawaian", "pegawai", "pengiriman",
    "paket", "pesanan", "order", "transaksi", "layanan", "server", "akun", "str", "ruko", "sewa",
    "gedung", "tempat", "kependudukan", "keluarga", "oss", "pembayaran", "notification",
];
/// English puts the thing first: "marital status", "delivery status".
pub const FIELD_NOUNS_BEFORE: &[&str] = &[
    "marital", "land", "delivery", "employment", "legal", "ownership", "payment", "shipping",
    "order", "account", "server", "building",
];

/// Machine mail: auto-replies, bounces, newsletters, invitations, offers.
pub const AUTOMATED: &[&str] = &[
    "out of office", "out of the office", "automatic reply", "auto reply", "autoreply",
    "balasan otomatis", "di luar kantor", "sedang cuti", "delivery status", "undeliverable",
    "mail delivery", "could not be delivered", "returned mail", "newsletter", "buletin",
    "unsubscribe", "berhenti berlangganan", "edisi", "webinar", "undangan", "mengundang",
    "sosialisasi", "rapat koordinasi", "promo", "diskon", "penawaran", "menawarkan", "klik",
    "tautan berikut", "pengiriman",
];
/// Frustration and complaint words: these win over a status question (the message goes to the
/// complaints desk, where a person reads it).
pub const COMPLAINT: &[&str] = &[
    "kecewa", "mengecewakan", "disappointed", "disappointing", "buruk", "jelek", "parah", "lambat",
    "lelet", "lama sekali", "lama banget", "kesal", "marah", "komplain", "complain", "complaint",
    "keluhan", "mengeluh", "pengaduan", "mengadu", "mengadukan", "aduan", "lapor", "melapor",
    "melaporkan", "laporkan", "ombudsman", "pungli", "calo", "suap", "dipersulit", "protes",
    "tidak profesional", "tidak ramah", "tidak ada kabar", "belum ada kabar", "tidak ada respon",
    "belum ada respon", "tidak ada tanggapan", "tidak ditanggapi", "tidak dibalas",
    "belum dibalas", "tidak ada jawaban", "belum ada jawaban", "berbulan", "kenapa belum",
    "mengapa belum", "kok belum", "kok lama", "sudah lewat", "melebihi", "unacceptable",
    "frustrated", "terrible", "ridiculous", "no response", "nobody", "still no", "still not",
];
/// Sending or applying now: an application, or a reply that brings documents.
pub const SENDS: &[&str] = &[
    "terlampir", "bersama ini", "dengan ini", "please find", "attached", "enclosed",
    "bermaksud", "yang bertanda tangan", "mohon diproses", "apply for", "to apply",
    "mendaftarkan", "mau daftar", "mau urus", "mau ngurus", "susulan",
];
/// Verbs of sending, unless a past marker comes just before ("sudah saya kirim").
pub const SEND_VERBS: &[&str] = &[
    "kirim", "kirimkan", "mengirim", "mengirimkan", "lampirkan", "melampirkan", "dilampirkan",
    "upload", "unggah", "mengunggah", "send", "sending", "attach", "mengajukan",
];
pub const PAST: &[&str] = &["sudah", "telah", "pernah", "kemarin", "yang", "already", "have", "had"];
/// Names of documents: with files attached, the message is bringing them.
pub const DOCUMENT_NOUNS: &[&str] = &[
    "ktp", "npwp", "sertifikat", "akta", "scan", "foto", "surat", "pbb", "gambar", "denah",
    "ijazah", "str", "lampiran", "pdf", "formulir", "kuasa", "revisi",
];
/// It asks for something else: requirements, procedure, costs, hours, a change, a cancellation.
pub const OTHER_ASKS: &[&str] = &[
    "syarat", "persyaratan", "requirement", "requirements", "cara", "prosedur", "procedure",
    "how to", "how do", "how can", "how long", "biaya", "tarif", "how much", "berapa lama",
    "berapa hari", "biasanya", "umumnya", "usually", "normally", "jam pelayanan", "jam kerja",
    "jam buka", "jam berapa", "perlu izin", "apa perlu", "apa harus", "apa bisa", "apa wajib",
    "bisa diurus", "kbli", "dokumen apa", "what documents", "which documents", "unduh",
    "download", "batal", "batalkan", "membatalkan", "pembatalan", "cancel", "withdraw", "ubah",
    "mengubah", "perubahan", "ganti", "mengganti", "update data", "koreksi", "kata sandi",
    "password", "konsultasi", "cek di mana", "cek dimana", "bisa cek", "where can",
];
/// Words the rules look at directly.
pub const OTHER_WORDS: &[&str] = &["ya", "pak", "bu", "ada", "sejauh", "tahap", "di", "mana", "dimana", "sampai", "lagi", "re", "fw", "fwd"];

/// Every list, for the lexicon.
pub const ALL: &[&[&str]] = &[
    STATUS, PROGRESS, WEAK_PROGRESS, OBJECTS, POSSESSIVE, CHECK, QUESTION, DONE, OWN, WHERE,
    FIELD_NOUNS, FIELD_NOUNS_BEFORE, AUTOMATED, COMPLAINT, SENDS, SEND_VERBS, PAST,
    DOCUMENT_NOUNS, OTHER_ASKS, OTHER_WORDS,
];

/// variant -> canonical word. Only forms real applicants write; fuzzy matching covers the rest.
pub const SYNONYMS: &[(&str, &[&str])] = &[
    ("sudah", &["sdh", "udah", "udh", "sudh", "sdah", "dah", "uda", "sampun", "mpun", "wis", "uwis"]),
    ("belum", &["blm", "blum", "blom", "belom", "dereng", "durung"]),
    ("sampai", &["smpai", "sampe", "smpe", "sampek", "nyampe", "nyampai", "sampay", "dugi"]),
    ("mana", &["mna", "mn", "pundi"]),
    ("bagaimana", &["gmn", "gimana", "bgmn", "gmana", "gmna", "gimna", "gemana", "pripun", "kumaha", "piye", "how's", "hows"]),
    ("apa", &["apakah", "apkh", "apakh", "nopo", "menopo"]),
    ("kapan", &["kpn", "kapn", "kapankah"]),
    ("saya", &["sy", "sya", "saia", "aku", "gue", "gw", "kulo", "kula", "i'd", "i'm", "me"]),
    ("tanya", &["tnya", "tny", "nanya", "bertanya", "menanyakan", "tanyakan", "nanyain", "pirsa", "ask", "asking", "enquire", "inquire"]),
    ("info", &["inpo", "informasi", "information", "tahu", "tau", "know"]),
    ("cek", &["dicek", "cekin", "ngecek", "mengecek", "check", "chek", "ceck", "checking", "dicheck", "cekkan", "dicekkan"]),
    ("status", &["stts"]),
    ("progres", &["progress", "proges", "progrs"]),
    ("update", &["updates", "apdet", "updet"]),
    ("kabar", &["kbr"]),
    ("izin", &["ijin", "izn", "ijn", "izinn", "perizinan", "perijinan"]),
    ("permohonan", &["pemohonan", "mohonan", "permhonan"]),
    ("berkas", &["brks", "brkas"]),
    ("jadi", &["jd", "jdi"]),
    ("selesai", &["slsai", "slesai", "selese", "kelar", "beres", "rampung"]),
    ("terbit", &["diterbitkan", "terbitkan"]),
    ("yang", &["yg"]),
    ("tidak", &["tdk", "gak", "ga", "nggak", "enggak", "gk", "ndak", "tak"]),
    ("mohon", &["mhn", "mohn", "nyuwun", "tolong"]),
    ("kemarin", &["kmrn", "kemaren", "kmren"]),
    ("lampirkan", &["lampirin", "lampirkn"]),
    ("kirim", &["krm", "kirimin"]),
    ("licence", &["license", "licenses", "licences"]),
    ("application", &["applications", "aplication", "aplikasi"]),
    ("permit", &["permits"]),
];

/// Frequent words that must never be read as a typo of a cue word ("permisi" is not "permit",
/// "berkah" is not "berkas").
pub const PROTECTED: &[&str] = &[
    "permisi", "berkah", "sampah", "bekas", "selasa", "statis", "protes", "terima", "kasih",
    "selamat", "semoga", "bapak", "mohon", "maaf", "siang", "malam", "senin", "kamis", "jumat",
    "sabtu", "minggu", "bulan", "tahun", "nomor", "alamat", "kantor", "petugas", "sekarang",
    "keluarga", "pengaduan", "pengajuan", "persetujuan", "perpanjangan", "perubahan", "sertifikat",
    "dokter", "status", "statement", "states", "station", "setelah", "sebelum", "sedang",
];
