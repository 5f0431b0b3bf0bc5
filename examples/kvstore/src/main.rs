//! `kvstore`: every `faultline` command, with the store's kind.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    faultline::cli::main_with(faultline::cli::Kinds::new().with::<faultline_kvstore::Kv>())
}
