//! Pinned trace hashes: the event order of every bundled scenario (and of three coverage
//! scenarios in `tests/pinned/` that reach every engine path the bundled ones miss) at
//! two seeds each. A refactor keeps these identical; a deliberate change of event order
//! updates them in a commit of its own that says why.

use std::path::PathBuf;
use std::sync::Arc;

use faultline::scenario;

/// (scenario, seed, trace_hash, events)
const PINNED: &[(&str, u64, &str, u64)] = &[
    (
        "thundering-herd",
        1,
        "d6dd9fd8e0536ac759e6ee49c4792750851f5fd433749041e78994edd0222f75",
        1054384,
    ),
    (
        "thundering-herd",
        2,
        "abb2a5fcd4ecd7a109790004ffc34c45535ab427f5cbaa0c928b884a342a08d0",
        1047295,
    ),
    (
        "retry-storm",
        1,
        "b146c03f267e352f683096aa3a852729ea9d7b5c6b8e7c44b52b74d4ab6bd430",
        1343469,
    ),
    (
        "retry-storm",
        2,
        "a4d92ca62dafc936a694dfae6b7686832e19c97af30ef89490d4c2107584b298",
        1352389,
    ),
    (
        "partition",
        1,
        "19d817dbb6d893ac18ac0b81d76114447fa11406d3aa3f9a46cfcd679345671d",
        277610,
    ),
    (
        "partition",
        2,
        "903e324072a8fc5b7cff115ef765fd7f18e5bcbe5031757008a2b37c465af1e9",
        276223,
    ),
    (
        "omission-timing",
        1,
        "88c2742cdd38ee1311419d2325d3fd6e6d785a638bf2932c1c473abb18a63033",
        216930,
    ),
    (
        "omission-timing",
        2,
        "7b4c333a6d4bcd4add52feac0413bf1003aaed697f1218155f5a90721f55f339",
        217676,
    ),
    (
        "cover-closed",
        1,
        "8667379a66a5ed5e69f162c74cfe0afa23c26d14e68c4a79467c8c039ef3d1dc",
        103735,
    ),
    (
        "cover-closed",
        2,
        "a283b9346eb27c89e842b5d3b0744f119fd533f3c659a531ab1621a0dba397b6",
        110466,
    ),
    (
        "cover-open",
        1,
        "b1afeaba2882954888d25d510d2f76333cf8827298a0dadf895aafe30c50bce2",
        169234,
    ),
    (
        "cover-open",
        2,
        "a86486897bc0bfa59def603b814a3e14993516ab7b12a3bb32ceff0214a7ee02",
        171537,
    ),
    (
        "cover-window",
        1,
        "36bea2d54172142c12f314131c4000997ed862a022fcd9b59b38eca04edde66f",
        191069,
    ),
    (
        "cover-window",
        2,
        "e699daae854e247f11908c4dd36b7e99f696abbae036d6a939079c6d62e8fe1e",
        164180,
    ),
    (
        "bank-snapshots",
        1,
        "ac602895f9001888b7c4d8577de32c27b98d2d815b0061fc386be93064b3b771",
        36035,
    ),
    (
        "bank-snapshots",
        2,
        "5fae2004763216f105891a9744b16527ddd7042127a708aac7322a1d4dc0f1dc",
        36340,
    ),
    (
        "bank-no-fifo",
        1,
        "b9d7237eb5aaf60f0331553f8864adf693a8b0824c50fa736a4c2d8570d57590",
        36260,
    ),
    (
        "bank-no-fifo",
        2,
        "01e67a0853251f7ea23f9067dae2663094eb0e6391428e29cb6fde1b677bc832",
        36280,
    ),
    (
        "bank-no-wal",
        1,
        "d2402dd7403975941b8baa5fbdf2357eaf48b00c2758109d1ec5a7e78fd8ec1c",
        24408,
    ),
    (
        "bank-no-wal",
        2,
        "ff1a16743f82d121598172416e02c95c59dbbd773a6f16102f5d97122580ed5b",
        24186,
    ),
    (
        "bank-no-fsync",
        1,
        "6f73514d98b86e41939b765ea4f506c2674f44b819990065096377b632e3f468",
        24951,
    ),
    (
        "bank-no-fsync",
        2,
        "2a8ba1331351452cc5378c6500c3de37e5b5e150caa77167b40d98bc5b94ed76",
        24489,
    ),
    (
        "hlc-skew",
        1,
        "77b7380c0c3bd2a0e8f34d245d3c9cae4ad11db29dfebf171acf37227a9af03e",
        23987,
    ),
    (
        "hlc-skew",
        2,
        "39547ff8cd9a33a37e718ef1b9241dbe35e31e0cd2b65372a22ed0563e037d4d",
        24054,
    ),
];

fn path_of(name: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let bundled = root.join("scenarios").join(format!("{name}.json"));
    if bundled.exists() {
        bundled
    } else {
        root.join("tests")
            .join("pinned")
            .join(format!("{name}.json"))
    }
}

#[test]
fn every_pinned_scenario_keeps_its_trace_hash() {
    let mut mismatches = Vec::new();
    for &(name, seed, hash, events) in PINNED {
        let scenario =
            Arc::new(scenario::load_file(&path_of(name)).unwrap_or_else(|err| panic!("{err}")));
        let output = faultline::runner::run(scenario, seed, None)
            .unwrap_or_else(|err| panic!("{name} seed {seed}: {err}"))
            .output;
        let core = output.core();
        if core.trace_hash != hash || core.events != events {
            mismatches.push(format!(
                "{name} seed {seed}: trace_hash {} ({} events), pinned {hash} ({events} events)",
                core.trace_hash, core.events
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "event order changed:\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn every_bundled_scenario_is_pinned_at_two_seeds() {
    for entry in
        std::fs::read_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios")).unwrap()
    {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        if path.extension().is_none_or(|ext| ext != "json") || name == "schema" {
            continue;
        }
        let seeds = PINNED.iter().filter(|pinned| pinned.0 == name).count();
        assert!(seeds >= 2, "{name} is pinned at {seeds} seeds, not two");
    }
}
