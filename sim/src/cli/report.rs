//! `faultline report DIR...`: rebuilds reports from saved records, without simulating:
//! a run's `report.html`, `report.md` and plots, or a comparison's (every variant's, then
//! `compare.html`, `compare.md` and the overlays).

use std::path::PathBuf;

use super::compare::{self, MANIFEST_FILE};
use super::{EXIT_BAD_INPUT, EXIT_OK};

/// Rebuilds each directory's report; exit 2 if any directory has no valid records.
pub fn run(dirs: &[PathBuf]) -> u8 {
    let mut code = EXIT_OK;
    for dir in dirs {
        let rebuilt = if dir.join(MANIFEST_FILE).is_file() {
            compare::rebuild(dir).map(|written| (dir.join("compare.html"), written))
        } else {
            faultline_reports::rebuild_report(dir)
                .map(|written| (dir.join("report.html"), written.len()))
                .map_err(|err| err.to_string())
        };
        match rebuilt {
            Ok((report, written)) => {
                println!("report       {} ({written} files)", report.display())
            }
            Err(err) => {
                eprintln!("error: {}: {err}", dir.display());
                code = EXIT_BAD_INPUT;
            }
        }
    }
    code
}
