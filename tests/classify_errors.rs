//! A broken rules folder: `load_dir` reports every problem, each at its file and line.

use loket::classify::Catalogue;

const DEPARTMENTS: &str = r#"[[department]]
id = "pupr"
name = "Bidang PUPR"
email = "pupr@example.go.id"

[[department]]
id = "pupr"
name = "Bidang PUPR lagi"
email = "pupr2@example.go.id"
"#;

const PERMITS: &str = r#"[[doctype]]
id = "ktp"
name = "KTP"
[[doctype.match]]
regex = '(ktp'
weight = 2.0

[[requirement]]
id = "ktp"
name = "KTP"
doc_types = ["ktp", "kartu_ajaib"]

[[permit]]
id = "pbg"
name = "PBG"
department = "tata_ruang"
sla_days = 28
requires = [
  { id = "ktp" },
  { id = "surat_kuasa", need = "conditional" },
]
[[permit.match]]
phrases = ["pbg"]
weight = 4.0
[[permit.match]]
doc_types = ["surat_ajaib"]
phrases = ["imb"]
weight = 1.0
"#;

const TYPO: &str = r#"[[permit]]
id = "reklame"
name = "Reklame"
department = "pupr"
sla_days = 5
frases = ["reklame"]
"#;

#[test]
fn broken_rules_folder_reports_every_problem_with_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("departments.toml"), DEPARTMENTS).expect("write");
    std::fs::write(dir.path().join("permits.toml"), PERMITS).expect("write");
    std::fs::write(dir.path().join("typo.toml"), TYPO).expect("write");

    let errors = Catalogue::load_dir(dir.path())
        .expect_err("broken rules must not load")
        .0;
    let found: Vec<(String, usize, String)> = errors
        .iter()
        .map(|e| {
            let file = e.file.rsplit('/').next().unwrap_or_default().to_string();
            (file, e.line, e.message.clone())
        })
        .collect();
    let expect = [
        ("departments.toml", 7, "duplicate department id `pupr`"),
        ("permits.toml", 5, "bad regex"),
        ("permits.toml", 11, "unknown document type `kartu_ajaib`"),
        ("permits.toml", 16, "unknown department `tata_ruang`"),
        ("permits.toml", 20, "unknown requirement `surat_kuasa`"),
        ("permits.toml", 20, "conditional but names no condition"),
        ("permits.toml", 26, "unknown document type `surat_ajaib`"),
        ("typo.toml", 6, "unknown field `frases`"),
    ];
    for (file, line, text) in expect {
        assert!(
            found
                .iter()
                .any(|(f, l, m)| f == file && *l == line && m.contains(text)),
            "expected {file}:{line}: {text}\nfound: {found:#?}"
        );
    }
}

#[test]
fn shipped_rules_load_and_name_things() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let cat = Catalogue::load_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    let s = cat.summary();
    assert!(s.permit_types >= 12 && s.document_types >= 15, "{s}");
    assert_eq!(
        cat.permit_type_name("pbg"),
        Some("Persetujuan Bangunan Gedung (PBG, dahulu IMB)")
    );
    assert_eq!(
        cat.document_type_name("ktp"),
        Some("Kartu Tanda Penduduk (KTP)")
    );
    assert_eq!(cat.requirement_name("ktp"), Some("Fotokopi KTP pemohon"));
    assert!(cat.department_name("kesehatan").is_some());
    for (id, _name, dept) in cat.permit_types() {
        assert!(cat.department_name(dept).is_some(), "{id} -> {dept}");
    }
}
