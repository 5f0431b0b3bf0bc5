//! Where two runs of one seed part: the first divergent trace record, its index, time
//! and both records, found with memory bounded whatever the run's length.
//!
//! A run's digest is taken over chunks of [`CHUNK_RECORDS`] records; with
//! `chunk_digests` on, the trace keeps one 64-bit digest per chunk (8 bytes per 8,192
//! records: 1 MB for a billion events). Two runs' chunk digests give the first chunk
//! that differs; both runs are then made again writing only that chunk's trace lines,
//! and the lines give the record. Each re-run is checked against its first run's hash,
//! so a divergence that does not replay (the nondeterminism is not tied to one run) is
//! said, not hidden.
//!
//! [`perturbed`] is the test-only hook: the scenario of the second run with one more
//! fault (1 ms extra latency on every link for 1 s from `at`), a divergence injected on
//! purpose to show the report (`faultline run --inject-divergence-at`, hidden, for tests).

use std::ops::Range;
use std::sync::Arc;

use serde_json::Value;

use crate::engine::trace::CHUNK_RECORDS;
use crate::runner::{self, TraceRequest};
use crate::scenario::resolve::resolve;
use crate::scenario::{self, Dur, ResolvedScenario};

/// The first record where two runs differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// Index of the record in the trace, from 0.
    pub index: u64,
    /// Where the runs part: the earlier of the two records' times, ns.
    pub t_ns: Option<u64>,
    /// The first run's record (`None`: that run ended before it).
    pub first: Option<String>,
    /// The second run's record.
    pub second: Option<String>,
}

/// What a determinism check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Both runs hashed the same.
    Same {
        /// The shared trace hash.
        trace_hash: String,
    },
    /// They did not.
    Diverged {
        /// The first run's trace hash.
        first_hash: String,
        /// The second run's.
        second_hash: String,
        /// The first divergent record, when the re-runs found it.
        divergence: Option<Divergence>,
        /// What else the check saw (re-runs that did not replay).
        notes: Vec<String>,
    },
}

/// Runs `second` at `seed` and compares it with a first run of `first` that hashed
/// `first_hash`; on a mismatch, finds the first divergent record (four more runs, each
/// holding at most one chunk of trace lines).
pub fn check(
    first: &Arc<ResolvedScenario>,
    second: &Arc<ResolvedScenario>,
    seed: u64,
    first_hash: &str,
) -> Result<Verdict, String> {
    let digests = TraceRequest {
        chunk_digests: true,
        ..TraceRequest::default()
    };
    let run = |scenario: &Arc<ResolvedScenario>, request: TraceRequest| {
        runner::run_traced(Arc::clone(scenario), seed, request)
            .map_err(|err| format!("a run of the determinism check failed: {err}"))
    };
    let b = run(second, digests.clone())?;
    let second_hash = b.timed.output.core().trace_hash.clone();
    if second_hash == first_hash {
        return Ok(Verdict::Same {
            trace_hash: second_hash,
        });
    }
    let mut notes = Vec::new();
    let a = run(first, digests)?;
    let a_hash = a.timed.output.core().trace_hash.clone();
    if a_hash != first_hash {
        notes.push(format!(
            "a third run of the first scenario hashed {a_hash}, not {first_hash}: the \
             nondeterminism is not tied to one run; the records below are of the later runs"
        ));
    }
    let Some(chunk) = first_difference(&a.chunk_digests, &b.chunk_digests) else {
        notes.push("the chunk digests agree although the hashes differ".to_owned());
        return Ok(Verdict::Diverged {
            first_hash: first_hash.to_owned(),
            second_hash,
            divergence: None,
            notes,
        });
    };
    let window = window_of(chunk);
    let lines = TraceRequest {
        line_window: Some(window.clone()),
        ..TraceRequest::default()
    };
    let a_lines = run(first, lines.clone())?;
    let b_lines = run(second, lines)?;
    for (name, again, hash) in [
        ("first", &a_lines, &a_hash),
        ("second", &b_lines, &second_hash),
    ] {
        let replayed = &again.timed.output.core().trace_hash;
        if replayed != hash {
            notes.push(format!(
                "the {name} scenario hashed {replayed} when run again for its trace lines, not {hash}"
            ));
        }
    }
    let divergence = first_divergent_line(&a_lines.window_lines, &b_lines.window_lines).map(
        |(offset, first, second)| {
            // Where they part: the earlier of the two records.
            let times = [first.as_deref(), second.as_deref()].map(|line| line.and_then(time_of));
            let t_ns = times.into_iter().flatten().min();
            Divergence {
                index: window.start + offset as u64,
                t_ns,
                first,
                second,
            }
        },
    );
    if divergence.is_none() {
        notes.push(format!(
            "records {}..{} read the same in both re-runs",
            window.start, window.end
        ));
    }
    Ok(Verdict::Diverged {
        first_hash: first_hash.to_owned(),
        second_hash,
        divergence,
        notes,
    })
}

/// `run --check-determinism`: runs `scenario` at `seed` again (with the test-only
/// divergence from `inject_at`, see [`perturbed`]) against a first run that hashed
/// `first_hash`; returns whether they agreed and what to print.
pub fn check_run(
    scenario: &Arc<ResolvedScenario>,
    seed: u64,
    first_hash: &str,
    inject_at: Option<Dur>,
) -> (bool, String) {
    let second = match inject_at {
        None => Arc::clone(scenario),
        Some(at) => match perturbed(scenario, at) {
            Ok(changed) => Arc::new(changed),
            Err(err) => {
                return (
                    false,
                    format!("determinism  FAIL: cannot inject the divergence: {err}\n"),
                )
            }
        },
    };
    match check(scenario, &second, seed, first_hash) {
        Ok(verdict) => describe(&verdict, seed),
        Err(err) => (false, format!("determinism  FAIL: {err}\n")),
    }
}

/// The records of chunk `chunk`.
pub fn window_of(chunk: usize) -> Range<u64> {
    let start = chunk as u64 * CHUNK_RECORDS;
    start..start + CHUNK_RECORDS
}

/// The first chunk whose digests differ, or where one run has a chunk the other lacks.
pub fn first_difference(a: &[u64], b: &[u64]) -> Option<usize> {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .or_else(|| (a.len() != b.len()).then(|| a.len().min(b.len())))
}

/// The first position where two runs' lines differ, with both lines (`None` past the
/// end of one).
pub fn first_divergent_line(
    a: &[String],
    b: &[String],
) -> Option<(usize, Option<String>, Option<String>)> {
    let length = a.len().max(b.len());
    (0..length).find_map(|index| {
        let (x, y) = (a.get(index), b.get(index));
        (x != y).then(|| (index, x.cloned(), y.cloned()))
    })
}

/// The `t_ns` of a trace line.
fn time_of(line: &str) -> Option<u64> {
    serde_json::from_str::<Value>(line)
        .ok()?
        .get("t_ns")?
        .as_u64()
}

/// The verdict as the command prints it: one line when the runs agree, else the two
/// hashes, the first divergent record and any notes.
pub fn describe(verdict: &Verdict, seed: u64) -> (bool, String) {
    match verdict {
        Verdict::Same { trace_hash } => (
            true,
            format!("determinism  ok (two runs, trace_hash {trace_hash})\n"),
        ),
        Verdict::Diverged {
            first_hash,
            second_hash,
            divergence,
            notes,
        } => {
            let mut text = format!(
                "determinism  FAIL: trace hashes differ between two runs of seed {seed}: \
                 {first_hash} vs {second_hash}\n"
            );
            match divergence {
                Some(divergence) => {
                    let time = divergence.t_ns.map_or_else(
                        || "an unknown time".to_owned(),
                        |t| format!("t = {}.{:09} s", t / 1_000_000_000, t % 1_000_000_000),
                    );
                    text.push_str(&format!(
                        "first divergent record: #{} (from 0) at {time}\n",
                        divergence.index
                    ));
                    for (run, line) in [("run 1", &divergence.first), ("run 2", &divergence.second)]
                    {
                        text.push_str(&format!(
                            "  {run}: {}\n",
                            line.as_deref()
                                .unwrap_or("(no record: the run ended before it)")
                        ));
                    }
                }
                None => text.push_str("first divergent record: not found\n"),
            }
            for note in notes {
                text.push_str(&format!("  note: {note}\n"));
            }
            (false, text)
        }
    }
}

/// The test-only divergence: `scenario` with 1 ms of extra latency on every link for
/// 1 s from `at`.
pub fn perturbed(scenario: &ResolvedScenario, at: Dur) -> Result<ResolvedScenario, String> {
    let mut changed = scenario.as_run()?;
    changed.faults.push(scenario::Fault {
        at,
        for_: Some(Dur::from_secs(1)),
        timing: Some(scenario::Timing {
            from: scenario::Selector::parse("*")?,
            to: scenario::Selector::parse("*")?,
            extra_latency: scenario::Dist::Constant(Dur::from_millis(1)),
        }),
        ..scenario::Fault::default()
    });
    resolve(changed).map_err(|issue| format!("{}: {}", issue.path, issue.message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_are_found_at_the_first_chunk_and_line() {
        assert_eq!(first_difference(&[1, 2, 3], &[1, 2, 4]), Some(2));
        assert_eq!(first_difference(&[1, 2], &[1, 2, 4]), Some(2));
        assert_eq!(first_difference(&[1, 2], &[1, 2]), None);
        let a: Vec<String> = ["x", "y", "z"].map(String::from).to_vec();
        let b: Vec<String> = ["x", "q"].map(String::from).to_vec();
        assert_eq!(
            first_divergent_line(&a, &b),
            Some((1, Some("y".into()), Some("q".into())))
        );
        assert_eq!(
            first_divergent_line(&a[..2], &a),
            Some((2, None, Some("z".into())))
        );
        assert_eq!(window_of(2), 2 * CHUNK_RECORDS..3 * CHUNK_RECORDS);
        assert_eq!(time_of("{\"t_ns\":42,\"ev\":\"x\"}"), Some(42));
    }
}
