use std::path::Path;

use proptest::prelude::*;

use super::*;

const CORPUS: &str = "/work/shared/corpus/tnef";

/// A TNEF stream built attribute by attribute, for tests.
pub(crate) struct Builder(Vec<u8>);

impl Builder {
    pub(crate) fn new() -> Self {
        let mut out = SIGNATURE.to_vec();
        out.extend_from_slice(&0x1234u16.to_le_bytes());
        Self(out)
    }

    pub(crate) fn attr(mut self, level: u8, id: u32, data: &[u8]) -> Self {
        self.0.push(level);
        self.0.extend_from_slice(&id.to_le_bytes());
        self.0.extend_from_slice(&(data.len() as u32).to_le_bytes());
        self.0.extend_from_slice(data);
        let sum = data.iter().fold(0u16, |s, &b| s.wrapping_add(u16::from(b)));
        self.0.extend_from_slice(&sum.to_le_bytes());
        self
    }

    /// An attachment with an 8.3 title and, if given, a long name in its MAPI properties.
    pub(crate) fn file(self, title: &str, long: Option<&str>, data: &[u8]) -> Self {
        let mut this = self
            .attr(2, ATT_ATTACH_REND_DATA, &[0; 14])
            .attr(2, ATT_ATTACH_TITLE, &[title.as_bytes(), b"\0"].concat())
            .attr(2, ATT_ATTACH_DATA, data);
        if let Some(long) = long {
            this = this.attr(
                2,
                ATT_ATTACHMENT,
                &props_string8(PR_ATTACH_LONG_FILENAME, long),
            );
        }
        this
    }

    /// The message's RTF body, stored uncompressed ("MELA") in `PR_RTF_COMPRESSED`.
    pub(crate) fn rtf_body(self, rtf: &[u8]) -> Self {
        let mut blob = ((rtf.len() + 12) as u32).to_le_bytes().to_vec();
        blob.extend_from_slice(&(rtf.len() as u32).to_le_bytes());
        blob.extend_from_slice(&UNCOMPRESSED.to_le_bytes());
        blob.extend_from_slice(&0u32.to_le_bytes());
        blob.extend_from_slice(rtf);
        let mut v = 1u32.to_le_bytes().to_vec();
        v.extend_from_slice(&0x0102u16.to_le_bytes());
        v.extend_from_slice(&PR_RTF_COMPRESSED.to_le_bytes());
        v.extend_from_slice(&1u32.to_le_bytes());
        v.extend_from_slice(&(blob.len() as u32).to_le_bytes());
        v.extend_from_slice(&blob);
        v.resize(v.len().div_ceil(4) * 4, 0);
        self.attr(1, ATT_MAPI_PROPS, &v)
    }

    pub(crate) fn bytes(self) -> Vec<u8> {
        self.0
    }
}

/// A MAPI property list with one PT_STRING8 property.
fn props_string8(id: u16, value: &str) -> Vec<u8> {
    let mut v = 1u32.to_le_bytes().to_vec();
    v.extend_from_slice(&0x001Eu16.to_le_bytes());
    v.extend_from_slice(&id.to_le_bytes());
    v.extend_from_slice(&1u32.to_le_bytes());
    let s = [value.as_bytes(), b"\0"].concat();
    v.extend_from_slice(&(s.len() as u32).to_le_bytes());
    v.extend_from_slice(&s);
    v.resize(v.len().div_ceil(4) * 4, 0);
    v
}

#[test]
fn a_pdf_in_winmail_dat_comes_out_with_its_long_name() {
    let data = Builder::new()
        .file(
            "SURATP~1.PDF",
            Some("Surat Permohonan PBG.pdf"),
            b"%PDF-1.4 x",
        )
        .file("KTP.JPG", None, b"\xff\xd8\xff\xe0")
        .bytes();
    let tnef = unpack(&data, &ArchiveLimits::default()).unwrap();
    let names: Vec<&str> = tnef.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["Surat Permohonan PBG.pdf", "KTP.JPG"]);
    assert_eq!(tnef.files[0].data, b"%PDF-1.4 x");
    assert!(tnef.body().is_none());
}

#[test]
fn a_bad_checksum_or_truncation_is_a_clear_error() {
    let mut data = Builder::new().file("A.PDF", None, b"%PDF-1.4").bytes();
    let last = data.len() - 1;
    data[last] ^= 0xFF;
    let err = unpack(&data, &ArchiveLimits::default()).unwrap_err();
    assert!(err.to_string().contains("checksum"), "{err}");
    let data = Builder::new().file("A.PDF", None, b"%PDF-1.4").bytes();
    let err = unpack(&data[..data.len() - 5], &ArchiveLimits::default()).unwrap_err();
    assert!(
        matches!(&err, DocumentError::Corrupt { detail, .. } if detail.contains("left")),
        "{err}"
    );
    assert!(unpack(b"not tnef", &ArchiveLimits::default()).is_err());
}

#[test]
fn a_broken_property_list_loses_the_long_name_not_the_file() {
    let data = Builder::new()
        .attr(2, ATT_ATTACH_REND_DATA, &[0; 14])
        .attr(2, ATT_ATTACH_TITLE, b"SURAT.PDF\0")
        .attr(2, ATT_ATTACH_DATA, b"%PDF-1.4")
        .attr(2, ATT_ATTACHMENT, &[9, 0, 0, 0, 0x77, 0x77])
        .attr(2, ATT_ATTACH_REND_DATA, &[0; 14])
        .attr(2, ATT_ATTACH_TITLE, b"PESAN.MSG\0")
        .bytes();
    let tnef = unpack(&data, &ArchiveLimits::default()).unwrap();
    assert_eq!(tnef.files.len(), 1);
    assert_eq!(tnef.files[0].name, "SURAT.PDF");
    assert_eq!(tnef.problems.len(), 2, "{:?}", tnef.problems);
    assert!(
        tnef.problems[1].contains("embedded message"),
        "{:?}",
        tnef.problems
    );
}

#[test]
fn limits_of_archives_apply() {
    let small = ArchiveLimits {
        max_entries: 2,
        max_entry_bytes: 100,
        ..ArchiveLimits::default()
    };
    let three = Builder::new()
        .file("A", None, b"a")
        .file("B", None, b"b")
        .file("C", None, b"c")
        .bytes();
    assert!(matches!(
        unpack(&three, &small),
        Err(DocumentError::TooLarge(_))
    ));
    let big = Builder::new().file("A", None, &[0; 200]).bytes();
    assert!(matches!(
        unpack(&big, &small),
        Err(DocumentError::TooLarge(_))
    ));
}

#[test]
fn rtf_becomes_text() {
    let rtf = br"{\rtf1\ansi\ansicpg1252{\fonttbl{\f0\fswiss Arial;}}{\colortbl;\red0\green0\blue0;}{\*\generator Msftedit;}\pard\f0\fs20 Nama: Budi\par Alamat:\tab Jl. Merdeka\par Caf\'e9 \u8364?5\par}";
    assert_eq!(
        rtf_to_text(rtf),
        "Nama: Budi\nAlamat:\tJl. Merdeka\nCaf\u{e9} \u{20ac}5"
    );
}

#[test]
fn uncompressed_rtf_is_taken_as_is() {
    let body = b"{\\rtf1 halo}";
    let mut data = ((body.len() + 12) as u32).to_le_bytes().to_vec();
    data.extend_from_slice(&(body.len() as u32).to_le_bytes());
    data.extend_from_slice(&UNCOMPRESSED.to_le_bytes());
    data.extend_from_slice(&0u32.to_le_bytes());
    data.extend_from_slice(body);
    assert_eq!(decompress_rtf(&data, 1 << 20).unwrap(), body);
}

#[test]
fn the_prebuffer_is_207_bytes() {
    assert_eq!(RTF_PREBUF.len(), 207);
}

/// The example of MS-OXRTFCP 3.1.1 (compressed, simple).
#[test]
fn the_spec_example_decompresses() {
    let data: [u8; 49] = [
        0x2d, 0x00, 0x00, 0x00, 0x2b, 0x00, 0x00, 0x00, 0x4c, 0x5a, 0x46, 0x75, 0xf1, 0xc5, 0xc7,
        0xa7, 0x03, 0x00, 0x0a, 0x00, 0x72, 0x63, 0x70, 0x67, 0x31, 0x32, 0x35, 0x42, 0x32, 0x0a,
        0xf3, 0x20, 0x68, 0x65, 0x6c, 0x09, 0x00, 0x20, 0x62, 0x77, 0x05, 0xb0, 0x6c, 0x64, 0x7d,
        0x0a, 0x80, 0x0f, 0xa0,
    ];
    let out = decompress_rtf(&data, 1 << 20).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out),
        "{\\rtf1\\ansi\\ansicpg1252\\pard hello world}\r\n"
    );
}

/// Each corpus sample gives the files its `.list` names (`body.rtf` there stands for the RTF
/// body), with the bytes of the files in its folder.
#[test]
fn corpus_samples_give_their_listed_files() {
    let dir = Path::new(CORPUS);
    if !dir.is_dir() {
        println!("skipping: {CORPUS} not found");
        return;
    }
    let mut samples: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "tnef"))
        .collect();
    samples.sort();
    assert!(samples.len() >= 5);
    for path in samples {
        let data = std::fs::read(&path).unwrap();
        let list = std::fs::read_to_string(path.with_extension("list")).unwrap();
        let folder = path.with_extension("");
        let mut expected: Vec<String> = list
            .lines()
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        // Some lists leave out files their folder has (long-filename, missing-filenames).
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let file = entry.file_name().to_string_lossy().into_owned();
            if file != "message.rtf" && !expected.contains(&file) {
                expected.push(file);
            }
        }
        let got = unpack(&data, &ArchiveLimits::default());
        let name = path.display();
        let tnef = got.unwrap_or_else(|e| panic!("{name}: {e}"));
        // The lists are in byte order, not the stream's.
        let mut names: Vec<&str> = tnef.files.iter().map(|f| f.name.as_str()).collect();
        names.sort();
        let mut files: Vec<&str> = expected
            .iter()
            .map(String::as_str)
            .filter(|n| *n != "body.rtf")
            .collect();
        files.sort();
        println!("{name}: {names:?}, body {:?}", tnef.body().map(|b| b.len()));
        assert_eq!(names, files, "{name}");
        assert!(tnef.problems.is_empty(), "{name}: {:?}", tnef.problems);
        for f in &tnef.files {
            if let Ok(want) = std::fs::read(folder.join(&f.name)) {
                assert!(
                    same(&f.data, &want),
                    "{name}: {} has {} bytes, {} expected",
                    f.name,
                    f.data.len(),
                    want.len()
                );
            }
        }
        if expected.iter().any(|n| n == "body.rtf") {
            let rtf = tnef
                .body_rtf
                .as_deref()
                .unwrap_or_else(|| panic!("{name}: no RTF"));
            if let Ok(want) = std::fs::read(folder.join("message.rtf")) {
                assert!(
                    same(rtf, &want),
                    "{name}: RTF of {} bytes, {} expected",
                    rtf.len(),
                    want.len()
                );
            }
            let from_rtf = rtf_to_text(rtf);
            println!("{name} RTF as text: {from_rtf:?}");
            assert!(
                !from_rtf.is_empty() && !from_rtf.contains('\\') && !from_rtf.contains("Arial"),
                "{name}: {from_rtf}"
            );
            let body = tnef.body().unwrap_or_default();
            assert!(
                !body.is_empty() && !body.contains("\\rtf"),
                "{name}: {body}"
            );
        }
    }
}

/// Equal bytes, or equal text once CRLF is LF (the corpus's text files were checked out with
/// LF line ends).
fn same(got: &[u8], want: &[u8]) -> bool {
    got == want
        || String::from_utf8_lossy(got).replace("\r\n", "\n") == String::from_utf8_lossy(want)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut data = SIGNATURE.to_vec();
        data.extend_from_slice(&tail);
        let _ = unpack(&data, &ArchiveLimits::default());
        let _ = unpack(&tail, &ArchiveLimits::default());
        let _ = decompress_rtf(&tail, 1 << 20);
        let _ = rtf_to_text(&tail);
    }

    #[test]
    fn mutated_samples_never_panic(at in 0usize..4000, byte in any::<u8>(), cut in 0usize..4000) {
        let mut data = Builder::new()
            .file("A.PDF", Some("Surat.pdf"), b"%PDF-1.4 hello")
            .attr(1, ATT_MAPI_PROPS, &props_string8(PR_BODY, "halo"))
            .bytes();
        let at = at % data.len();
        data[at] = byte;
        data.truncate(cut.max(1));
        let _ = unpack(&data, &ArchiveLimits::default());
    }
}
