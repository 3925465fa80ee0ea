//! A stand-alone OCR worker process: `loket-ocr-worker <languages>`, speaking the pool's protocol
//! on stdin/stdout. The `loket` binary offers the same as its hidden `__ocr-worker` subcommand;
//! this target exists so integration tests can start workers (`CARGO_BIN_EXE_loket-ocr-worker`).

fn main() -> std::process::ExitCode {
    let languages = std::env::args().nth(1).unwrap_or_else(|| "ind+eng".into());
    let code = loket::extract::ocr::worker_main(&languages);
    std::process::ExitCode::from(u8::try_from(code).unwrap_or(1))
}
