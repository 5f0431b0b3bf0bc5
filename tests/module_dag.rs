//! The crate's top-level modules import each other without a cycle (issue 19): engine at
//! the bottom, then the file format's shared value types, the records every workload
//! shares, the workloads, the whole scenario file, and the runner, sweep and CLI on top.
//! Reads `sim/src/**.rs` and collects each module's `crate::<module>` references (code,
//! not comments).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The modules whose graph must stay acyclic, bottom first: the direction the README's
/// Layout states.
const ORDER: &[&str] = &[
    "engine", "format", "record", "workload", "scenario", "runner", "sweep", "cli", "sim",
    "testing",
];

type Graph = BTreeMap<String, BTreeSet<String>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules `text` names after `crate::`, either `crate::x` or inside
/// `crate::{x, y::z}`; line comments (and so doc comments) are skipped.
fn references(text: &str) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of the group: those at brace depth 0.
            let mut depth = 0usize;
            let mut start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if c.is_whitespace() => {}
                    _ if start && depth == 0 => {
                        found.insert(ident(&group[i..]));
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            found.insert(ident(rest));
        }
    }
    found
}

fn crate_graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("sim/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph = Graph::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let first = relative.components().next().unwrap().as_os_str();
        let module = Path::new(first).file_stem().unwrap().to_string_lossy();
        if !ORDER.contains(&&*module) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let edges = graph.entry(module.to_string()).or_default();
        for target in references(&text) {
            if target != module && ORDER.contains(&target.as_str()) {
                edges.insert(target);
            }
        }
    }
    graph
}

/// A cycle in `graph` as the path of its modules, if there is one.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, graph, &mut Vec::new(), &mut done) {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn references_reads_paths_and_groups_but_not_comments() {
    let text = "use crate::engine::queue::Nanos;\n\
                use crate::{record::{self, Invocation}, runner};\n\
                // crate::cli is only mentioned\n\
                let x = crate::workload::all();";
    let names: Vec<String> = references(text).into_iter().collect();
    assert_eq!(names, ["engine", "record", "runner", "workload"]);
}

#[test]
fn find_cycle_finds_a_cycle_and_passes_a_dag() {
    let graph = |edges: &[(&str, &str)]| {
        let mut graph = Graph::new();
        for (from, to) in edges {
            graph
                .entry(from.to_string())
                .or_default()
                .insert(to.to_string());
        }
        graph
    };
    let dag = graph(&[("a", "b"), ("b", "c"), ("a", "c")]);
    assert_eq!(find_cycle(&dag), None);
    let cyclic = graph(&[("a", "b"), ("b", "c"), ("c", "a")]);
    assert_eq!(
        find_cycle(&cyclic),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}

#[test]
fn top_level_modules_import_each_other_without_a_cycle() {
    let graph = crate_graph();
    assert!(graph.contains_key("engine") && graph.contains_key("scenario"));
    assert_eq!(find_cycle(&graph), None, "import cycle; graph: {graph:#?}");
}

#[test]
fn every_import_points_down_the_layout_order() {
    let graph = crate_graph();
    let rank = |module: &str| ORDER.iter().position(|m| *m == module).unwrap();
    let upward: Vec<String> = graph
        .iter()
        .flat_map(|(from, targets)| {
            targets
                .iter()
                .filter(|to| rank(to) > rank(from))
                .map(move |to| format!("{from} -> {to}"))
        })
        .collect();
    assert!(
        upward.is_empty(),
        "imports against the order {ORDER:?}: {upward:?}"
    );
}
