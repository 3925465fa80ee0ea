//! Made-up cases for benchmarks and demos (`benches/desk.rs`): many cases with Indonesian
//! letters and document text, spread over the departments and statuses of the rules, filed
//! through the same repository functions as real intake (so the search index triggers run) in
//! big transactions. Never used by the worker or the desk.
//!
//! The documents have no blob on disk (`loket blobs verify` lists them): only their text is
//! stored, as if read already.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::cases::{self, NewCase, Sorting};
use super::documents::{self, NewDocument, ReadResult};
use super::ids::CaseId;
use super::store::{commit, QueryContext, Store, StoreError};
use crate::domain::{ApplicantDetails, Channel, Kind, Status};

/// A word in about 1% of the generated cases (in a document), for searches that should find a
/// few hundred of 100,000: no Indonesian affix shape, so it is searched as itself.
pub const WORD_IN_ONE_PERCENT: &str = "kincir";

/// Common words of applications, letters and forms, roughly most frequent first (split on
/// whitespace).
const VOCABULARY: &str =
    "dan yang di dengan untuk ini dalam pada kami saya permohonan izin bangunan tanah surat \
    nomor tahun kabupaten kecamatan desa kelurahan jalan rumah usaha data pemohon nama alamat \
    luas meter persegi lokasi sesuai dokumen persyaratan lampiran salinan ktp npwp sertifikat \
    hak milik gambar rencana teknis pembangunan gedung persetujuan perizinan pelayanan terpadu \
    satu pintu dinas penanaman modal kepala bidang tanggal bulan hari kerja berlaku masa \
    perpanjangan baru lama lantai dua tiga tinggal toko kantor gudang pabrik warung restoran \
    hotel klinik apotek praktik dokter bidan perawat tenaga kesehatan sarana reklame papan \
    nama baliho ukuran lingkungan hidup limbah air listrik parkir kendaraan akses berdasarkan \
    peraturan daerah bupati menteri undang ketentuan pasal ayat tentang mengajukan mohon \
    diproses terlampir berkas lengkap kurang pemeriksaan verifikasi lapangan petugas tim \
    rekomendasi hasil pernyataan bertanda tangan materai benar pajak bumi retribusi pembayaran \
    bukti lunas rekening bank kode tagihan sistem online oss nib berusaha risiko rendah \
    menengah tinggi kegiatan jenis fungsi hunian keagamaan sosial budaya khusus konstruksi \
    struktur arsitektur utilitas pondasi atap dinding beton baja kayu tangga jendela pintu \
    halaman pagar sempadan garis koefisien dasar hijau ruang terbuka tata wilayah zonasi \
    peruntukan pemukiman perdagangan jasa industri pertanian sawah kebun sungai saluran \
    drainase sumur resapan septik tank sampah kebersihan keamanan ketertiban warga rukun \
    tetangga ketua lurah camat pengantar keterangan domisili kartu keluarga akta pendirian \
    perusahaan direktur komisaris pemilik penanggung jawab kuasa pengurusan hormat terima \
    kasih atas perhatian bapak ibu demikian disampaikan sebagaimana mestinya selanjutnya telah \
    akan dapat tidak belum sudah harus wajib segera mohon bantuan";

/// Words few cases use, each in roughly 0.1% of them (split on whitespace).
const RARE_WORDS: &str =
    "tambak kolam bengkel asrama masjid gereja pura vihara sekolah pesantren panti jompo \
    laboratorium kolonoskopi radiologi krematorium peternakan unggas sapi kambing menara \
    telekomunikasi pemancar antena galangan dermaga jembatan terowongan bendungan embung \
    tandon genset panel surya biogas insinerator karaoke bioskop gelanggang stadion";

const NAMES: &[&str] = &[
    "Budi Santoso",
    "Siti Rahmawati",
    "Andi Pratama",
    "Dewi Lestari",
    "Hendra Gunawan",
    "Rina Kartika",
    "Ahmad Fauzi",
    "Sri Wahyuni",
    "Agus Salim",
    "Nur Aini",
    "Joko Susilo",
    "Yuliana Putri",
    "Bambang Hartono",
    "Ratna Sari",
    "Eko Prasetyo",
    "Maria Ulfa",
];

/// A made-up case, before filing.
#[derive(Debug, Clone)]
pub struct SyntheticCase {
    pub kind: Kind,
    pub permit_type: Option<String>,
    pub department: Option<String>,
    pub status: Status,
    pub applicant: ApplicantDetails,
    pub subject: String,
    pub body: String,
    pub received_at: i64,
    /// (file name, text as read: pages separated by form feeds).
    pub documents: Vec<(String, String)>,
}

/// What the rules offer to spread cases over.
#[derive(Debug, Clone)]
pub struct Mix {
    /// (permit type id, its department id).
    pub permits: Vec<(String, String)>,
    /// Departments of complaints and consultations (rules/kinds.toml).
    pub complaints: Option<String>,
    pub consultations: Option<String>,
}

/// `n` cases, the same for the same `seed`, received over the year before `now_ms`.
pub fn generate(n: usize, seed: u64, mix: &Mix, now_ms: i64) -> Vec<SyntheticCase> {
    let mut rng = StdRng::seed_from_u64(seed);
    let words = Words {
        common: VOCABULARY.split_whitespace().collect(),
        rare: RARE_WORDS.split_whitespace().collect(),
    };
    (0..n)
        .map(|i| one_case(&mut rng, &words, i, mix, now_ms))
        .collect()
}

struct Words {
    common: Vec<&'static str>,
    rare: Vec<&'static str>,
}

fn one_case(rng: &mut StdRng, words: &Words, i: usize, mix: &Mix, now_ms: i64) -> SyntheticCase {
    const YEAR_MS: i64 = 365 * 24 * 3600 * 1000;
    let name = NAMES[rng.random_range(0..NAMES.len())];
    let roll: f64 = rng.random();
    let (kind, permit, department) = if roll < 0.05 || mix.permits.is_empty() {
        (Kind::Other, None, None)
    } else if roll < 0.80 {
        let (p, d) = &mix.permits[rng.random_range(0..mix.permits.len())];
        (Kind::Application, Some(p.clone()), Some(d.clone()))
    } else if roll < 0.92 {
        (Kind::Complaint, None, mix.complaints.clone())
    } else {
        (Kind::Consultation, None, mix.consultations.clone())
    };
    let subject = match &permit {
        Some(p) => format!("Permohonan {} - {name}", p.to_uppercase()),
        None => format!("{} {name}", kind.as_str()),
    };
    let mut documents = Vec::new();
    for d in 0..rng.random_range(1..=3) {
        let pages: Vec<String> = (0..rng.random_range(1..=2))
            .map(|_| {
                let len = rng.random_range(60..=140);
                prose(rng, words, len)
            })
            .collect();
        documents.push((format!("lampiran-{}.pdf", d + 1), pages.join("\u{c}")));
    }
    if rng.random_bool(0.01) {
        let doc = rng.random_range(0..documents.len());
        documents[doc].1 += &format!(" rencana {WORD_IN_ONE_PERCENT} angin di lahan pemohon");
    }
    SyntheticCase {
        kind,
        permit_type: permit,
        department,
        status: status(rng),
        applicant: ApplicantDetails {
            name: Some(name.to_string()),
            email: Some(format!("pemohon{i}@example.com")),
            address: Some(format!(
                "Jl. Raya {} No. {}",
                rng.random_range(1..200),
                i % 97
            )),
            phone: None,
        },
        body: format!(
            "Dengan hormat,\n\n{}\n\nNIK {}\n\nHormat saya,\n{name}",
            prose(rng, words, 40),
            rng.random_range(1_000_000_000_000_000u64..9_999_999_999_999_999)
        ),
        subject,
        received_at: now_ms - rng.random_range(0..YEAR_MS),
        documents,
    }
}

/// Statuses about as an office's year holds them: most cases finished, a queue of open ones.
fn status(rng: &mut StdRng) -> Status {
    const SHARE: [(Status, f64); 8] = [
        (Status::Received, 0.02),
        (Status::Queued, 0.15),
        (Status::InReview, 0.10),
        (Status::NeedsCorrection, 0.08),
        (Status::Approved, 0.45),
        (Status::Rejected, 0.05),
        (Status::Closed, 0.14),
        (Status::Failed, 0.01),
    ];
    let mut roll: f64 = rng.random();
    for (s, share) in SHARE {
        if roll < share {
            return s;
        }
        roll -= share;
    }
    Status::Closed
}

/// `words` words, frequent ones more often (a skewed pick), now and then a rare one or a number.
fn prose(rng: &mut StdRng, words: &Words, len: usize) -> String {
    let mut out = String::with_capacity(len * 8);
    for w in 0..len {
        if w > 0 {
            out.push(if w % 12 == 0 { '\n' } else { ' ' });
        }
        let roll: f64 = rng.random();
        if roll < 0.003 {
            out.push_str(words.rare[rng.random_range(0..words.rare.len())]);
        } else if roll < 0.03 {
            out.push_str(&rng.random_range(1..2030).to_string());
        } else {
            let skew: f64 = rng.random::<f64>().powi(2);
            out.push_str(words.common[(skew * words.common.len() as f64) as usize]);
        }
    }
    out
}

impl Store {
    /// Refresh the planner's statistics after a bulk load, as autovacuum (PostgreSQL) or a
    /// periodic `ANALYZE` would on a database that grew over months.
    pub async fn analyze(&self) -> Result<(), StoreError> {
        sqlx::query("ANALYZE")
            .execute(self.pool())
            .await
            .what("analyze")?;
        Ok(())
    }

    /// File `batch` as cases with their sorting and read documents, in one transaction.
    pub async fn insert_synthetic(
        &self,
        office: &str,
        batch: &[SyntheticCase],
    ) -> Result<Vec<CaseId>, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut ids = Vec::with_capacity(batch.len());
        for c in batch {
            let new = NewCase {
                channel: Some(Channel::Email),
                applicant: c.applicant.clone(),
                subject: Some(c.subject.clone()),
                body: Some(c.body.clone()),
                received_at: c.received_at,
                ..NewCase::default()
            };
            let (id, _) = cases::insert(&mut tx, office, &new, Status::Received).await?;
            let sorting = Sorting {
                kind: c.kind,
                permit_type: c.permit_type.as_deref(),
                department: c.department.as_deref(),
                application_type: None,
                confidence: 0.9,
                triage: c.department.is_none(),
                decision: "{}".into(),
                requirements: "[]".into(),
                missing: "[]".into(),
                status: c.status,
            };
            cases::save_sorting(&mut tx, id, &sorting).await?;
            for (position, (filename, text)) in c.documents.iter().enumerate() {
                let doc = NewDocument {
                    case_id: id,
                    position: position as i64,
                    filename,
                    original_filename: Some(filename),
                    declared_type: "application/pdf",
                    sha256: "0000000000000000000000000000000000000000000000000000000000000000",
                    size: text.len() as i64,
                    message_id: None,
                };
                let doc_id = documents::insert(&mut tx, &doc).await?;
                let read = ReadResult {
                    content_type: "application/pdf",
                    pages: text.split('\u{c}').count() as i64,
                    page_info: "[]".into(),
                    text: text.clone(),
                    error: None,
                    error_alasan: None,
                };
                documents::save_read(&mut tx, doc_id, &read).await?;
            }
            ids.push(id);
        }
        commit(tx).await?;
        Ok(ids)
    }
}
