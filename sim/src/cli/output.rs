//! Output directories written whole: a command writes into a temporary sibling of its
//! output directory and renames it into place at the end, so a reused `--out` never
//! mixes files of two runs, and a run that fails (or is interrupted) leaves the
//! previous output as it was.
//!
//! Every directory Faultline writes carries a marker, [`MARKER_FILE`], naming its kind
//! and the command that produced it. Only an empty directory or one with the marker is
//! ever replaced; a default path (no `--out`) is replaced only by the command that
//! wrote it; and an output never holds one of the command's own inputs.

use std::path::{Component, Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use super::{Failure, EXIT_BAD_INPUT, EXIT_IO};

/// The marker file in every output directory Faultline writes.
pub const MARKER_FILE: &str = ".faultline-output";

/// The marker's format; a marker of another format is not replaced.
pub const MARKER_FORMAT: &str = "faultline-output/1";

/// Files an output of an older build holds (it has no marker).
const OLD_MARKERS: [&str; 3] = ["summary.json", "compare.json", "sweep.json"];

/// A temporary name's longest kept part of the output's name (a file name has at most
/// 255 bytes, and the temporary one adds a dot, a digest and `.partial-PID.old`).
const TEMP_NAME_BYTES: usize = 100;

/// What an output directory holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `faultline run`.
    Run,
    /// `faultline compare`.
    Compare,
    /// `faultline sweep`, or merged shards.
    Sweep,
    /// `faultline shrink`.
    Shrink,
}

/// The content of [`MARKER_FILE`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Marker {
    /// [`MARKER_FORMAT`].
    pub format: String,
    /// What the directory holds.
    pub kind: Kind,
    /// The command that wrote it, without `--out` (its scenario file made absolute).
    pub source: String,
}

/// An output to write.
#[derive(Debug)]
pub struct Request<'a> {
    /// The directory.
    pub out: &'a Path,
    /// What it will hold.
    pub kind: Kind,
    /// The command writing it (see [`Marker::source`]).
    pub source: String,
    /// Whether `out` is a default path (no `--out`): then only an output of the same
    /// command is replaced.
    pub default: bool,
    /// The command's inputs (files or directories), which the output must not hold.
    pub inputs: &'a [PathBuf],
}

/// An output directory being written.
#[derive(Debug)]
pub struct Staged {
    target: PathBuf,
    temp: PathBuf,
    committed: bool,
}

/// A refusal: bad input, exit code 2.
fn refuse(message: String) -> Failure {
    Failure {
        code: EXIT_BAD_INPUT,
        message,
    }
}

/// An output that could not be written: exit code 3.
fn io_failure(message: String) -> Failure {
    Failure {
        code: EXIT_IO,
        message,
    }
}

/// `path` made absolute without following a last component that does not exist: the
/// deepest existing ancestor canonicalised, the rest appended.
pub fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut existing = joined.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(canonical) = std::fs::canonicalize(existing) {
            return rest
                .iter()
                .rev()
                .fold(canonical, |acc: PathBuf, part| acc.join(part));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                existing = parent;
            }
            _ => return joined,
        }
    }
}

/// The words of a command's source for the marker: `faultline KIND FILE ARGS...` with
/// the file made absolute, so two spellings of one file are one source.
pub fn source(command: &str, scenario: &Path, args: &[String]) -> String {
    let mut text = format!("faultline {command} {}", absolute(scenario).display());
    for arg in args {
        text.push(' ');
        text.push_str(arg);
    }
    text
}

/// The part of a default output name that identifies the `--set` values: empty without
/// any, else `-set-` and 8 hex digits of their digest, so runs with different overrides
/// never share a default directory.
pub fn set_suffix(sets: &[crate::scenario::overrides::Set]) -> String {
    if sets.is_empty() {
        return String::new();
    }
    let text: Vec<String> = sets.iter().map(ToString::to_string).collect();
    let digest = blake3::hash(text.join("\n").as_bytes()).to_hex();
    format!("-set-{}", &digest[..8])
}

/// The `--set` arguments as the marker's source lists them.
pub fn set_args(sets: &[crate::scenario::overrides::Set]) -> Vec<String> {
    sets.iter().map(|set| set.argument()).collect()
}

/// Where `req.out`'s replacement is written, next to it: a directory created now (with
/// its marker), so an output that cannot be written fails before anything runs.
pub fn stage(req: &Request<'_>) -> Result<Staged, Failure> {
    let out = req.out;
    let name = match out.components().next_back() {
        Some(Component::Normal(name)) => name.to_string_lossy().into_owned(),
        _ => {
            return Err(refuse(format!(
                "--out {}: name a directory (not `.`, `..` or a root)",
                out.display()
            )))
        }
    };
    check_inputs(out, req.inputs)?;
    if let Ok(meta) = std::fs::metadata(out) {
        if !meta.is_dir() {
            return Err(refuse(format!(
                "--out {}: is a file, not a directory; name a directory",
                out.display()
            )));
        }
        check_replaceable(out, req)?;
    }
    let parent = out
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)
        .map_err(|err| io_failure(format!("cannot create {}: {err}", parent.display())))?;
    clean_stale(parent);
    let temp = parent.join(format!(
        ".{}.partial-{}",
        short_name(&name),
        std::process::id()
    ));
    if temp.exists() {
        std::fs::remove_dir_all(&temp)
            .map_err(|err| io_failure(format!("cannot clear {}: {err}", temp.display())))?;
    }
    std::fs::create_dir(&temp)
        .map_err(|err| io_failure(format!("cannot create {}: {err}", temp.display())))?;
    let staged = Staged {
        target: out.to_path_buf(),
        temp,
        committed: false,
    };
    register(Pending::Temp(staged.temp.clone()));
    let marker = Marker {
        format: MARKER_FORMAT.to_owned(),
        kind: req.kind,
        source: req.source.clone(),
    };
    write_marker(&staged.temp, &marker)?;
    Ok(staged)
}

/// Writes `marker` into `dir`.
pub fn write_marker(dir: &Path, marker: &Marker) -> Result<(), Failure> {
    let path = dir.join(MARKER_FILE);
    let mut json = serde_json::to_string_pretty(marker)
        .map_err(|err| io_failure(format!("{}: {err}", path.display())))?;
    json.push('\n');
    faultline_reports::io::write_file(&path, json.as_bytes())
        .map_err(|err| io_failure(err.to_string()))
}

/// Reads the marker of `dir`: `None` when it has none.
pub fn read_marker(dir: &Path) -> Result<Option<Marker>, String> {
    let path = dir.join(MARKER_FILE);
    if !path.is_file() {
        return Ok(None);
    }
    let meta = std::fs::metadata(&path).map_err(|err| format!("{}: {err}", path.display()))?;
    if meta.len() > 64 * 1024 {
        return Err(format!(
            "{}: not a faultline marker (too large)",
            path.display()
        ));
    }
    let text =
        std::fs::read_to_string(&path).map_err(|err| format!("{}: {err}", path.display()))?;
    let marker: Marker = serde_json::from_str(&text)
        .map_err(|err| format!("{}: not a faultline marker: {err}", path.display()))?;
    if marker.format != MARKER_FORMAT {
        return Err(format!(
            "{}: marker format {:?}, this faultline writes {MARKER_FORMAT:?}",
            path.display(),
            marker.format
        ));
    }
    Ok(Some(marker))
}

/// Refuses an output that is, holds or lies inside one of the inputs.
fn check_inputs(out: &Path, inputs: &[PathBuf]) -> Result<(), Failure> {
    let out_abs = absolute(out);
    for input in inputs {
        let input_abs = absolute(input);
        if input_abs.starts_with(&out_abs) || out_abs.starts_with(&input_abs) {
            return Err(refuse(format!(
                "--out {}: would {} {}, an input of this command; name another output \
                 directory with --out",
                out.display(),
                if input_abs.starts_with(&out_abs) {
                    "replace"
                } else {
                    "be written inside"
                },
                input.display()
            )));
        }
    }
    Ok(())
}

/// Refuses to replace `out` (an existing directory) unless it is empty or a faultline
/// output, and, for a default path, one of the same command.
fn check_replaceable(out: &Path, req: &Request<'_>) -> Result<(), Failure> {
    let empty = std::fs::read_dir(out).is_ok_and(|mut entries| entries.next().is_none());
    if empty {
        return Ok(());
    }
    let marker = read_marker(out).map_err(|err| {
        refuse(format!(
            "--out {}: {err}; delete the directory yourself, or name another one with --out",
            out.display()
        ))
    })?;
    let Some(marker) = marker else {
        let old = OLD_MARKERS.iter().any(|file| out.join(file).is_file());
        return Err(refuse(if old {
            format!(
                "{}: exists and has no {MARKER_FILE} marker (an older faultline wrote it, \
                 or it is not a faultline output), so it is not replaced; delete it \
                 yourself, or name another directory with --out",
                out.display()
            )
        } else {
            format!(
                "{}: exists and is not a faultline output directory (it has no \
                 {MARKER_FILE}); name a new directory with --out, or empty this one",
                out.display()
            )
        }));
    };
    if req.default && marker.source != req.source {
        let how = if req.kind == Kind::Shrink {
            "pass --out with a new file for the minimal scenario".to_owned()
        } else {
            format!(
                "pass --out {} to replace it, or --out with a new directory",
                out.display()
            )
        };
        return Err(refuse(format!(
            "{}: holds the output of another command ({}), so this default path is not \
             reused; {how}",
            out.display(),
            marker.source,
        )));
    }
    Ok(())
}

/// `name`, or its first bytes and a digest of it when it is too long for a temporary
/// name.
fn short_name(name: &str) -> String {
    if name.len() <= TEMP_NAME_BYTES {
        return name.to_owned();
    }
    let mut end = TEMP_NAME_BYTES - 9;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    let digest = blake3::hash(name.as_bytes()).to_hex();
    format!("{}-{}", &name[..end], &digest[..8])
}

/// The process id a temporary directory name ends with (`.NAME.partial-PID` or
/// `.NAME.partial-PID.old`).
fn partial_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?;
    let (_, tail) = rest.rsplit_once(".partial-")?;
    tail.strip_suffix(".old").unwrap_or(tail).parse().ok()
}

/// Whether process `pid` runs (Linux `/proc`; elsewhere every process counts as
/// running, so nothing is removed).
fn running(pid: u32) -> bool {
    let proc_dir = Path::new("/proc");
    !proc_dir.join("self").exists() || proc_dir.join(pid.to_string()).exists()
}

/// Removes the temporary directories in `parent` left by interrupted commands whose
/// process is gone (best effort: a directory that cannot be removed is left).
fn clean_stale(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = partial_pid(&name) else {
            continue;
        };
        if pid != std::process::id() && !running(pid) && entry.path().is_dir() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

impl Staged {
    /// The directory to write into.
    pub fn path(&self) -> &Path {
        &self.temp
    }

    /// Puts the written directory in place of the output directory.
    pub fn commit(mut self) -> Result<(), Failure> {
        let old = self.temp.with_file_name(format!(
            "{}.old",
            self.temp.file_name().unwrap_or_default().to_string_lossy()
        ));
        {
            // Held across both renames, so a signal's clean-up sees them both or neither.
            let mut pending = pending();
            if self.target.exists() {
                std::fs::rename(&self.target, &old).map_err(|err| {
                    io_failure(format!(
                        "cannot move {} aside: {err}",
                        self.target.display()
                    ))
                })?;
                pending.push(Pending::Old {
                    old: old.clone(),
                    target: self.target.clone(),
                });
            }
            if let Err(err) = std::fs::rename(&self.temp, &self.target) {
                if old.exists() {
                    let _ = std::fs::rename(&old, &self.target);
                }
                pending.retain(|entry| !entry.is(&old));
                return Err(io_failure(format!(
                    "cannot move {} to {}: {err}",
                    self.temp.display(),
                    self.target.display()
                )));
            }
            self.committed = true;
            pending.retain(|entry| !entry.is(&self.temp));
            // The new output is in place: the old one is only rubbish now.
            for entry in pending.iter_mut() {
                if entry.is(&old) {
                    *entry = Pending::Temp(old.clone());
                }
            }
        }
        let removed = if old.exists() {
            std::fs::remove_dir_all(&old)
                .map_err(|err| io_failure(format!("cannot remove {}: {err}", old.display())))
        } else {
            Ok(())
        };
        pending().retain(|entry| !entry.is(&old));
        removed
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: a partial output is never left behind as if it were whole.
            let _ = std::fs::remove_dir_all(&self.temp);
            pending().retain(|entry| !entry.is(&self.temp));
        }
    }
}

/// A directory the signal handler must deal with.
#[derive(Debug)]
enum Pending {
    /// A partial output: removed.
    Temp(PathBuf),
    /// The previous output, moved aside while the new one is renamed in: put back if
    /// the new one is not in place.
    Old { old: PathBuf, target: PathBuf },
}

impl Pending {
    fn is(&self, path: &Path) -> bool {
        match self {
            Pending::Temp(temp) => temp == path,
            Pending::Old { old, .. } => old == path,
        }
    }
}

/// The directories of this process being written (not simulation state: the CLI's
/// bookkeeping for clean-up on a signal).
static PENDING: Mutex<Vec<Pending>> = Mutex::new(Vec::new());

fn pending() -> MutexGuard<'static, Vec<Pending>> {
    PENDING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn register(entry: Pending) {
    pending().push(entry);
}

/// Removes every partial output of this process and puts back any previous output moved
/// aside; returns with the registry locked, so no commit starts after it.
fn clean_up() -> MutexGuard<'static, Vec<Pending>> {
    let mut pending = pending();
    for entry in pending.drain(..) {
        match entry {
            Pending::Temp(temp) => {
                // Worker threads may still be writing into it: a few tries.
                for _ in 0..5 {
                    if std::fs::remove_dir_all(&temp).is_ok() || !temp.exists() {
                        break;
                    }
                }
            }
            Pending::Old { old, target } => {
                if !target.exists() {
                    let _ = std::fs::rename(&old, &target);
                }
            }
        }
    }
    pending
}

/// Exit code after SIGINT (128 + 2, the shells' convention).
pub const EXIT_SIGINT: u8 = 130;
/// Exit code after SIGTERM (128 + 15).
pub const EXIT_SIGTERM: u8 = 143;

/// On SIGINT or SIGTERM: removes this process's partial outputs (the previous outputs
/// stay as they were) and exits with [`EXIT_SIGINT`] or [`EXIT_SIGTERM`].
pub fn clean_up_on_signals() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    // A thread outside every simulation: it only waits for a signal.
    #[allow(clippy::disallowed_methods)]
    let spawned = std::thread::Builder::new()
        .name("signals".to_owned())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let _held = clean_up();
                eprintln!("interrupted: partial output removed, previous output kept");
                std::process::exit(if signal == SIGINT {
                    i32::from(EXIT_SIGINT)
                } else {
                    i32::from(EXIT_SIGTERM)
                });
            }
        });
    drop(spawned);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_fit_and_name_their_process() {
        let long = "n".repeat(250);
        let short = short_name(&long);
        assert!(short.len() <= TEMP_NAME_BYTES, "{short}");
        assert_ne!(short_name(&"n".repeat(251)), short);
        let temp = format!(".{short}.partial-4294967295.old");
        assert!(temp.len() < 255, "{}", temp.len());
        assert_eq!(partial_pid(&temp), Some(4_294_967_295));
        assert_eq!(partial_pid(".seed-1.partial-42"), Some(42));
        assert_eq!(partial_pid("seed-1.partial-42"), None);
        assert_eq!(partial_pid(".seed-1.partial-x"), None);
        assert!(short_name(&"ü".repeat(60)).len() <= TEMP_NAME_BYTES);
    }

    #[test]
    fn absolute_keeps_missing_components() {
        let cwd = std::fs::canonicalize(".").unwrap();
        assert_eq!(absolute(Path::new("no/such/dir")), cwd.join("no/such/dir"));
        assert_eq!(absolute(Path::new(".")), cwd);
    }
}
