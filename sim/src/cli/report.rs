//! `faultline report DIR... [--out DIR]`: rebuilds reports from saved records, without
//! simulating. Run directories (`summary.json`, `timeline.csv`) get their `report.html`,
//! `report.md` and plots again; comparison directories (`compare.json`) every variant's
//! report, then `compare.html`, `compare.md` and the overlays; sweep directories
//! (`sweep.json`) get their sweep report, and several shard directories of one sweep are
//! merged into one sweep (its `sweep.json` equal to the unsharded sweep's, byte for byte)
//! in `--out`, by default their common parent directory.

use std::path::{Path, PathBuf};

use crate::sweep::{self, record};

use super::compare::{self, MANIFEST_FILE};
use super::{EXIT_BAD_INPUT, EXIT_OK};

/// Rebuilds each directory's report, or merges sweep shards; exit 2 if any directory
/// has no valid records, 1 if a merged sweep has a failed seed.
pub fn run(dirs: &[PathBuf], out: Option<&Path>) -> u8 {
    let sweeps = dirs
        .iter()
        .filter(|dir| dir.join(record::SWEEP_FILE).is_file())
        .count();
    if sweeps > 0 {
        if sweeps < dirs.len() {
            eprintln!(
                "error: give either sweep directories (with {}) or run directories, not both",
                record::SWEEP_FILE
            );
            return EXIT_BAD_INPUT;
        }
        return match merge(dirs, out) {
            Ok(code) => code,
            Err(err) => {
                eprintln!("error: {err}");
                EXIT_BAD_INPUT
            }
        };
    }
    if out.is_some() {
        eprintln!(
            "error: --out is for merging sweep directories; run reports are rebuilt in place"
        );
        return EXIT_BAD_INPUT;
    }
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

/// The deepest directory holding every one of `dirs`.
fn common_parent(dirs: &[PathBuf]) -> Result<PathBuf, String> {
    let absolute: Vec<PathBuf> = dirs
        .iter()
        .map(|dir| std::fs::canonicalize(dir).map_err(|err| format!("{}: {err}", dir.display())))
        .collect::<Result<_, _>>()?;
    let mut parent = absolute[0]
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    while !absolute.iter().all(|dir| dir.starts_with(&parent)) {
        parent = parent
            .parent()
            .map(Path::to_path_buf)
            .ok_or("the directories share no parent: give --out")?;
    }
    Ok(parent)
}

fn merge(dirs: &[PathBuf], out: Option<&Path>) -> Result<u8, String> {
    let files = dirs
        .iter()
        .map(|dir| record::SweepFile::load(dir))
        .collect::<Result<Vec<_>, _>>()?;
    let timings = dirs
        .iter()
        .map(|dir| record::TimingFile::load(dir))
        .collect::<Result<Vec<_>, _>>()?;
    let out = match out {
        Some(out) => out.to_path_buf(),
        None if dirs.len() == 1 => dirs[0].clone(),
        None => common_parent(dirs)?,
    };
    let merged = record::merge(files)?;
    let outcome = sweep::Outcome {
        file: merged,
        timing: record::merge_timing(timings),
    };
    sweep::write(&out, &outcome, dirs)?;
    print!(
        "{}",
        sweep::report::terminal_summary(&outcome.file, &outcome.timing, 20)
    );
    println!("records      {}", out.join(record::SWEEP_FILE).display());
    println!("report       {}", out.join("sweep.html").display());
    Ok(super::sweep::finish(&outcome.file))
}
