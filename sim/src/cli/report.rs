//! `faultline report DIR...`: rebuilds `report.html`, `report.md` and the plots from
//! saved run records, without simulating.

use std::path::PathBuf;

use super::{EXIT_BAD_INPUT, EXIT_OK};

/// Rebuilds each directory's report; exit 2 if any directory has no valid records.
pub fn run(dirs: &[PathBuf]) -> u8 {
    let mut code = EXIT_OK;
    for dir in dirs {
        match faultline_reports::rebuild_report(dir) {
            Ok(written) => {
                println!(
                    "report       {} ({} files)",
                    dir.join("report.html").display(),
                    written.len()
                )
            }
            Err(err) => {
                eprintln!("error: {}: {err}", dir.display());
                code = EXIT_BAD_INPUT;
            }
        }
    }
    code
}
