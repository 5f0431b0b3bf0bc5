//! `kvstore`: every `faultline` command, with the store's kind, and the store's own rows
//! in `kvstore bench`.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    faultline::cli::main_with(
        faultline::cli::Kinds::new()
            .with::<faultline_kvstore::Kv>()
            .bench(faultline_kvstore::bench::rows),
    )
}
