//! `loket`: see `loket --help` and the README.

fn main() -> std::process::ExitCode {
    loket::cli::main()
}
