//! `faultline report DIR... [--out DIR]`: rebuilds reports from saved records, without
//! simulating. Run directories (`summary.json`, `timeline.csv`) get their `report.html`,
//! `report.md` and plots again; comparison directories (`compare.json`) every variant's
//! report, then `compare.html`, `compare.md` and the overlays; sweep directories
//! (`sweep.json`) get their sweep report, and several shard directories of one sweep are
//! merged into one sweep (its `sweep.json` equal to the unsharded sweep's, byte for byte)
//! in `--out`, by default their common parent directory (where the shards must all
//! be). The merge never writes into a shard, and replaces in the parent only files a
//! merge wrote; a `--out` of its own is written whole, like a sweep.

use std::path::{Path, PathBuf};

use crate::sweep::{self, record};
use faultline_reports::figures::FigureInfo;

use super::compare::{self, report_failure, MANIFEST_FILE};
use super::output;
use super::{Failure, EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK};

/// Marks a directory that holds merged shards beside them (their parent): its sweep
/// files may be replaced by the next merge. Unlike [`output::MARKER_FILE`] it does not
/// make the directory replaceable, since it holds the shards.
pub const MERGE_MARKER_FILE: &str = ".faultline-merge";

/// Rebuilds each directory's report, or merges sweep shards. Exits as the thing it
/// rebuilds would: 1 when a run, a variant of a comparison or a seed of a sweep failed a
/// check, 2 when a directory has no valid records (or an output is refused), 3 when a
/// report cannot be written; with several directories, the highest.
pub fn run(dirs: &[PathBuf], out: Option<&Path>) -> u8 {
    let maps = dirs.iter().filter(|dir| super::map::is_map(dir)).count();
    if maps > 0 {
        if maps < dirs.len() {
            eprintln!("error: give either grid directories (with map.json) or others, not both");
            return EXIT_BAD_INPUT;
        }
        return super::map::report(dirs, out).unwrap_or_else(|failure| {
            eprintln!("error: {}", failure.message);
            failure.code
        });
    }
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
            Err(failure) => {
                eprintln!("error: {}", failure.message);
                failure.code
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
            compare::rebuild(dir)
                .map(|rebuilt| (dir.join("compare.html"), rebuilt.written, rebuilt.failed))
        } else {
            rebuild_run(dir).map(|(written, failed)| (dir.join("report.html"), written, failed))
        };
        match rebuilt {
            Ok((report, written, failed)) => {
                println!("report       {} ({written} files)", report.display());
                if failed {
                    println!("checks       FAIL (as recorded in {})", dir.display());
                    code = code.max(EXIT_CHECK_FAILED);
                }
            }
            Err(failure) => {
                eprintln!("error: {}", failure.message);
                code = code.max(failure.code);
            }
        }
    }
    code
}

/// Rebuilds a run's report; the files written, and whether a check failed.
fn rebuild_run(dir: &Path) -> Result<(usize, bool), Failure> {
    let rec = faultline_reports::load_run(dir).map_err(|err| report_failure(dir, &err))?;
    let written =
        faultline_reports::write_run_report(dir, &rec).map_err(|err| report_failure(dir, &err))?;
    let failed = rec.summary.checks.iter().any(|check| !check.passed);
    Ok((written.len(), failed))
}

/// The one directory holding every one of `dirs` (the shards of a sweep are written
/// side by side); shards in different directories need `--out`.
fn common_parent(dirs: &[PathBuf]) -> Result<PathBuf, String> {
    let parents: Vec<PathBuf> = dirs
        .iter()
        .map(|dir| {
            output::absolute(dir)
                .parent()
                .map(Path::to_path_buf)
                .ok_or_else(|| format!("{}: has no parent directory: give --out", dir.display()))
        })
        .collect::<Result<_, _>>()?;
    if parents.iter().any(|parent| *parent != parents[0]) {
        return Err(format!(
            "the shards are in different directories ({} and {}): give --out DIR for the              merged sweep",
            parents[0].display(),
            parents
                .iter()
                .find(|parent| **parent != parents[0])
                .map_or_else(String::new, |parent| parent.display().to_string())
        ));
    }
    Ok(parents[0].clone())
}

/// Refuses to write the merged sweep's files into `out`, a directory beside or above
/// the shards, when it holds such a file that no merge wrote (a user's own
/// `sweep.json`).
fn check_merge_into(out: &Path, figures: &[FigureInfo]) -> Result<(), Failure> {
    if out.join(MERGE_MARKER_FILE).is_file() {
        return Ok(());
    }
    match sweep::written_files(figures)
        .iter()
        .find(|name| out.join(name).exists())
    {
        Some(name) => Err(Failure::from(format!(
            "{}: already holds {name}, not written by a merge of shards, so it is not              replaced; move it away, or give --out with a new directory",
            out.display()
        ))),
        None => Ok(()),
    }
}

fn merge(dirs: &[PathBuf], out: Option<&Path>) -> Result<u8, Failure> {
    let files = dirs
        .iter()
        .map(|dir| record::SweepFile::load(dir))
        .collect::<Result<Vec<_>, _>>()?;
    let timings = dirs
        .iter()
        .map(|dir| record::TimingFile::load(dir))
        .collect::<Result<Vec<_>, _>>()?;
    let merged = record::merge(files)?;
    let outcome = sweep::Outcome {
        file: merged,
        timing: record::merge_timing(timings),
    };
    let single = dirs.len() == 1;
    let out = match out {
        Some(out) => out.to_path_buf(),
        None if single => dirs[0].clone(),
        None => common_parent(dirs)?,
    };
    let out_abs = output::absolute(&out);
    let abs: Vec<PathBuf> = dirs.iter().map(|dir| output::absolute(dir)).collect();
    let in_place = single && out_abs == abs[0];
    if !in_place {
        if let Some(dir) = abs
            .iter()
            .zip(dirs)
            .find_map(|(shard, dir)| out_abs.starts_with(shard).then_some(dir))
        {
            return Err(Failure::from(format!(
                "--out {}: would write into the shard {}, an input of the merge; give --out                  a directory of its own",
                out.display(),
                dir.display()
            )));
        }
    }
    let holds_shards = abs.iter().any(|shard| shard.starts_with(&out_abs));
    if in_place || holds_shards {
        // Beside the shards (or the one sweep rebuilt in place): each file replaced
        // atomically.
        if !in_place {
            check_merge_into(&out, &outcome.file.figures)?;
        }
        sweep::write(&out, &outcome, dirs).map_err(Failure::io)?;
        if !in_place {
            sweep::write_file(&out.join(MERGE_MARKER_FILE), b"faultline-merge/1\n")
                .map_err(Failure::io)?;
        }
    } else {
        let staged = output::stage(&output::Request {
            out: &out,
            kind: output::Kind::Sweep,
            source: format!(
                "faultline report {}",
                abs.iter()
                    .map(|dir| dir.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            default: false,
            inputs: dirs,
        })?;
        sweep::write(staged.path(), &outcome, dirs).map_err(Failure::io)?;
        staged.commit()?;
    }
    print!(
        "{}",
        sweep::report::terminal_summary(&outcome.file, &outcome.timing, 20)
    );
    println!("records      {}", out.join(record::SWEEP_FILE).display());
    println!("report       {}", out.join("sweep.html").display());
    Ok(super::sweep::finish(&outcome.file))
}
