//! The `faultline` command: a thin shell over [`faultline::cli`].
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    faultline::cli::main()
}
