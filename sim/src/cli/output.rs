//! Output directories written whole: a command writes into a temporary sibling of its
//! output directory and renames it into place at the end, so a reused `--out` never
//! mixes files of two runs, and a run that fails leaves the previous output as it was.

use std::path::{Path, PathBuf};

/// Files that mark a directory as a faultline output (a run, or a comparison).
const MARKERS: [&str; 2] = ["summary.json", "compare.json"];

/// An output directory being written.
#[derive(Debug)]
pub struct Staged {
    target: PathBuf,
    temp: PathBuf,
    committed: bool,
}

/// Where `out`'s replacement is written, next to it. An existing `out` is replaced only
/// when it is empty or a faultline output; any other directory or file is refused, so
/// that `--out` never deletes someone's files.
pub fn stage(out: &Path) -> Result<Staged, String> {
    if out.exists() && !replaceable(out) {
        return Err(format!(
            "--out {}: exists and is not a faultline output directory (it holds no \
             summary.json or compare.json); name a new directory, or empty this one",
            out.display()
        ));
    }
    let name = out
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .ok_or_else(|| format!("--out {}: name a directory", out.display()))?;
    let parent = out
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)
        .map_err(|err| format!("cannot create {}: {err}", parent.display()))?;
    let temp = parent.join(format!(".{name}.partial-{}", std::process::id()));
    if temp.exists() {
        std::fs::remove_dir_all(&temp)
            .map_err(|err| format!("cannot clear {}: {err}", temp.display()))?;
    }
    std::fs::create_dir(&temp).map_err(|err| format!("cannot create {}: {err}", temp.display()))?;
    Ok(Staged {
        target: out.to_path_buf(),
        temp,
        committed: false,
    })
}

fn replaceable(dir: &Path) -> bool {
    if !dir.is_dir() {
        return false;
    }
    let empty = std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_none());
    empty || MARKERS.iter().any(|marker| dir.join(marker).is_file())
}

impl Staged {
    /// The directory to write into.
    pub fn path(&self) -> &Path {
        &self.temp
    }

    /// Puts the written directory in place of the output directory.
    pub fn commit(mut self) -> Result<(), String> {
        let old = self.temp.with_file_name(format!(
            "{}.old",
            self.temp.file_name().unwrap_or_default().to_string_lossy()
        ));
        if self.target.exists() {
            std::fs::rename(&self.target, &old)
                .map_err(|err| format!("cannot move {} aside: {err}", self.target.display()))?;
        }
        std::fs::rename(&self.temp, &self.target).map_err(|err| {
            format!(
                "cannot move {} to {}: {err}",
                self.temp.display(),
                self.target.display()
            )
        })?;
        self.committed = true;
        if old.exists() {
            std::fs::remove_dir_all(&old)
                .map_err(|err| format!("cannot remove {}: {err}", old.display()))?;
        }
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: a partial output is never left behind as if it were whole.
            let _ = std::fs::remove_dir_all(&self.temp);
        }
    }
}
