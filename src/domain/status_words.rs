//! What the public status page (`/status/CODE`) tells an applicant, in Bahasa Indonesia: the
//! status in words and what to do now. Pure text; the page escapes it.
//!
//! The page shows no personal data (SPEC "Officers' desk"), so these sentences name only the
//! office, the kind of request and the names of missing requirements.

use super::case::{Kind, Status};

/// The status as the applicant reads it.
pub fn status_label(status: Status) -> &'static str {
    match status {
        Status::Received => "Diterima",
        Status::Queued => "Dalam antrean",
        Status::InReview => "Sedang diperiksa",
        Status::NeedsCorrection => "Perlu perbaikan / kelengkapan",
        Status::Approved => "Disetujui",
        Status::Rejected => "Ditolak",
        Status::Closed => "Selesai/ditutup",
        Status::Failed => "Gagal diproses",
    }
}

/// What the applicant should do now, concretely. `missing_names` are the names of requirements
/// still missing (empty when none or unknown); they are listed whenever the case is still open.
pub fn next_step(
    status: Status,
    kind: Kind,
    missing_names: &[String],
    office_name: &str,
) -> String {
    let thing = noun(kind);
    let main = match status {
        Status::Received => format!(
            "{} Anda sudah kami terima dan sedang dicatat. Anda belum perlu melakukan apa pun.",
            capitalised(thing)
        ),
        Status::Queued => format!(
            "{} Anda menunggu giliran diperiksa petugas {office_name}. Anda belum perlu melakukan \
             apa pun; kabar selanjutnya kami kirim melalui email atau surat.",
            capitalised(thing)
        ),
        Status::InReview => format!(
            "Petugas {office_name} sedang memeriksa {thing} Anda. Anda belum perlu melakukan apa \
             pun; kabar selanjutnya kami kirim melalui email atau surat."
        ),
        Status::NeedsCorrection if missing_names.is_empty() => format!(
            "Mohon perbaiki atau lengkapi berkas sesuai catatan petugas yang kami kirim melalui \
             email atau surat. {} Waktu layanan tidak dihitung sampai perbaikan kami terima.",
            how_to_send(office_name)
        ),
        Status::NeedsCorrection => format!(
            "Mohon kirimkan: {}. {} Waktu layanan tidak dihitung sampai kelengkapan kami terima.",
            missing_names.join("; "),
            how_to_send(office_name)
        ),
        Status::Approved => format!(
            "{} Anda disetujui. Ikuti petunjuk dalam pemberitahuan yang kami kirim melalui email \
             atau surat (misalnya cara mengambil atau mengunduh dokumen izin).",
            capitalised(thing)
        ),
        Status::Rejected => format!(
            "{} Anda ditolak; alasannya ada dalam pemberitahuan yang kami kirim melalui email atau \
             surat. Anda dapat mengajukan {thing} baru bila persyaratannya sudah dapat dipenuhi, \
             atau bertanya ke {office_name} dengan menyebut nomor pelacakan.",
            capitalised(thing)
        ),
        Status::Closed => closed(kind, office_name),
        Status::Failed => format!(
            "Berkas Anda tidak dapat kami proses secara otomatis; petugas {office_name} akan \
             memeriksanya. Anda belum perlu melakukan apa pun. Bila dalam 3 hari kerja belum ada \
             kabar, hubungi kami dengan menyebut nomor pelacakan."
        ),
    };
    let still_open = matches!(status, Status::Received | Status::Queued | Status::InReview);
    if still_open && !missing_names.is_empty() {
        format!(
            "{main} Persyaratan yang masih kurang: {}. {}",
            missing_names.join("; "),
            how_to_send(office_name)
        )
    } else {
        main
    }
}

fn how_to_send(office_name: &str) -> String {
    format!(
        "Caranya: balas (reply) email dari {office_name} dan lampirkan berkasnya, tanpa menghapus \
         nomor pelacakan dari subjek email; atau antar langsung ke loket {office_name} atau \
         kirim lewat pos, dengan nomor pelacakan ditulis pada sampul atau surat pengantar."
    )
}

fn closed(kind: Kind, office_name: &str) -> String {
    match kind {
        Kind::Complaint => "Pengaduan Anda telah selesai ditindaklanjuti. Bila masalahnya belum \
                            teratasi, kirim pengaduan baru dengan menyebut nomor pelacakan ini."
            .to_string(),
        Kind::Consultation => format!(
            "Pertanyaan Anda sudah dijawab melalui email atau surat. Bila masih ada pertanyaan, \
             hubungi {office_name} dengan menyebut nomor pelacakan ini."
        ),
        Kind::Application | Kind::Other => format!(
            "{} ini sudah selesai dan ditutup. Tidak ada lagi yang perlu Anda lakukan.",
            capitalised(noun(kind))
        ),
    }
}

/// How the request is called in a sentence.
fn noun(kind: Kind) -> &'static str {
    match kind {
        Kind::Application => "permohonan",
        Kind::Complaint => "pengaduan",
        Kind::Consultation => "pertanyaan",
        Kind::Other => "pesan",
    }
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFICE: &str = "DPMPTSP Kota Contoh";
    const ALL: [Status; 8] = Status::ALL;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_status_has_its_own_label() {
        let labels: std::collections::HashSet<&str> =
            ALL.iter().map(|&s| status_label(s)).collect();
        assert_eq!(labels.len(), ALL.len());
        assert_eq!(
            status_label(Status::NeedsCorrection),
            "Perlu perbaikan / kelengkapan"
        );
        assert_eq!(status_label(Status::Closed), "Selesai/ditutup");
    }

    #[test]
    fn applicant_asked_for_documents_reads_what_to_send_and_how() {
        let missing = names(&["Fotokopi KTP pemohon", "Gambar rencana bangunan"]);
        let text = next_step(Status::NeedsCorrection, Kind::Application, &missing, OFFICE);
        assert!(
            text.starts_with("Mohon kirimkan: Fotokopi KTP pemohon; Gambar rencana bangunan."),
            "{text}"
        );
        assert!(
            text.contains("balas (reply) email dari DPMPTSP Kota Contoh"),
            "{text}"
        );
        assert!(text.contains("nomor pelacakan dari subjek email"), "{text}");
        assert!(text.contains("kirim lewat pos"), "{text}");
        assert!(text.contains("Waktu layanan tidak dihitung"), "{text}");
    }

    #[test]
    fn correction_without_listed_documents_points_to_the_officers_note() {
        let text = next_step(Status::NeedsCorrection, Kind::Application, &[], OFFICE);
        assert!(text.contains("sesuai catatan petugas"), "{text}");
        assert!(text.contains("Caranya: balas (reply) email"), "{text}");
    }

    #[test]
    fn queued_application_with_gaps_still_lists_them() {
        let missing = names(&["NIB"]);
        let text = next_step(Status::Queued, Kind::Application, &missing, OFFICE);
        assert!(
            text.starts_with("Permohonan Anda menunggu giliran"),
            "{text}"
        );
        assert!(
            text.contains("Persyaratan yang masih kurang: NIB."),
            "{text}"
        );
    }

    #[test]
    fn finished_cases_do_not_ask_for_documents() {
        let missing = names(&["NIB"]);
        for status in [Status::Approved, Status::Rejected, Status::Closed] {
            let text = next_step(status, Kind::Application, &missing, OFFICE);
            assert!(!text.contains("NIB"), "{status}: {text}");
        }
    }

    #[test]
    fn wording_follows_the_kind_of_request() {
        let closed = next_step(Status::Closed, Kind::Complaint, &[], OFFICE);
        assert!(
            closed.starts_with("Pengaduan Anda telah selesai"),
            "{closed}"
        );
        let answered = next_step(Status::Closed, Kind::Consultation, &[], OFFICE);
        assert!(
            answered.starts_with("Pertanyaan Anda sudah dijawab"),
            "{answered}"
        );
        let review = next_step(Status::InReview, Kind::Complaint, &[], OFFICE);
        assert!(review.contains("memeriksa pengaduan Anda"), "{review}");
    }

    #[test]
    fn every_status_and_kind_gives_a_sentence() {
        for status in ALL {
            for kind in [
                Kind::Application,
                Kind::Complaint,
                Kind::Consultation,
                Kind::Other,
            ] {
                let text = next_step(status, kind, &[], OFFICE);
                assert!(text.ends_with('.'), "{status}/{kind}: {text}");
                assert!(!text.contains("  "), "{status}/{kind}: {text}");
            }
        }
    }
}
