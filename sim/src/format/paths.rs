//! Paths between files: where one file, named from one directory, stands from another
//! (report links between sweep directories, a copied scenario's `$schema`).

use std::path::{Component, Path, PathBuf};

/// The path from directory `from` to `to`, both made absolute first.
pub fn relative(from: &Path, to: &Path) -> Option<PathBuf> {
    let from = std::fs::canonicalize(from).ok()?;
    let to = std::fs::canonicalize(to).ok()?;
    let from: Vec<Component> = from.components().collect();
    let to: Vec<Component> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut path = PathBuf::new();
    for _ in common..from.len() {
        path.push("..");
    }
    for component in &to[common..] {
        path.push(component.as_os_str());
    }
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_and_descend() {
        let root = std::env::temp_dir().join(format!("faultline-rel-{}", std::process::id()));
        let target = root.join("shard-1").join("runs").join("seed-3");
        std::fs::create_dir_all(&target).unwrap();
        std::fs::create_dir_all(root.join("merged")).unwrap();
        assert_eq!(
            relative(&root.join("merged"), &target).unwrap(),
            PathBuf::from("../shard-1/runs/seed-3")
        );
        assert_eq!(
            relative(&root, &target).unwrap(),
            PathBuf::from("shard-1/runs/seed-3")
        );
        let _ = std::fs::remove_dir_all(&root);
    }
}
