//! The office's holiday list is checked by `loket rules check` alongside the permit rules.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo_rules() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")
}

/// A copy of the shipped `rules/` folder in a temporary office folder.
fn office_with_shipped_rules() -> tempfile::TempDir {
    let office = tempfile::tempdir().unwrap();
    copy_dir(&repo_rules(), &office.path().join("rules"));
    office
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// `loket rules check` run in the office folder, which has no config: `./rules` is checked.
fn rules_check(office: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_loket"))
        .args(["rules", "check"])
        .current_dir(office)
        .env_remove("LOKET_CONFIG")
        .output()
        .unwrap()
}

#[test]
fn rules_check_counts_the_shipped_days_off_and_flags_the_2027_estimates() {
    let office = office_with_shipped_rules();
    let out = rules_check(office.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("holidays.toml: days off 2025: 28, 2026: 25, 2027: 17 (8 tentative)"),
        "{stdout}"
    );
}

#[test]
fn office_mistyping_a_new_holiday_is_told_the_file_and_line() {
    let office = office_with_shipped_rules();
    let path = office.path().join("rules/holidays.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    let line = text.lines().count() + 3;
    text.push_str("\n[[holiday]]\ndate = \"2028-02-30\"\nname = \"Tahun Baru Imlek\"\n");
    std::fs::write(&path, text).unwrap();

    let out = rules_check(office.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "rules/holidays.toml:{line}: `2028-02-30` is not a date"
        )),
        "{stderr}"
    );
}

#[test]
fn an_office_without_a_holiday_list_still_passes_with_weekends_only() {
    let office = office_with_shipped_rules();
    std::fs::remove_file(office.path().join("rules/holidays.toml")).unwrap();
    let out = rules_check(office.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("none listed, deadlines skip weekends only"),
        "{stdout}"
    );
}
