//! The store's rows in `kvstore bench` (`Kinds::bench`): the linearizability checker on
//! a history of 10,000 operations over 100 keys, beside the run that produced it.
//!
//! The run: 30 clients on 100 keys (half writes), the primary crashed for 300 ms in the
//! middle, so the history holds open operations (requests that timed out may or may
//! not have taken effect), which are what makes the search branch. The history is then
//! checked again, alone, timed, with this process's peak memory reset just before
//! (`reset_peak_rss`), so the peak above the memory held before the check is the
//! checker's own.

use faultline::cli::bench::{reset_peak_rss, vm_hwm_kib, vm_rss_kib, Row};
use faultline::format::Dur;
use faultline::runner::Stopwatch;
use faultline::workload::history::Budget;

use crate::{run_with_primary_crash, KvOutput, KvSpec};

const MS: u64 = 1_000_000;
/// Keys of the benchmark's history.
pub const KEYS: u64 = 100;
/// Clients of the run.
const CLIENTS: u32 = 30;

/// The run: `seconds` of [`CLIENTS`] clients on [`KEYS`] keys, a primary crash halfway.
fn run(seconds: u64) -> (f64, KvOutput) {
    let spec = KvSpec {
        clients: CLIENTS,
        keys: KEYS,
        think: Dur::from_millis(2),
        timeout: Dur::from_millis(50),
        write_fraction: 0.5,
        ack_before_durable: false,
    };
    let duration_ns = seconds * 1_000 * MS;
    let clock = Stopwatch::start();
    let output = run_with_primary_crash(&spec, seconds * 1_000, duration_ns / 2, 300 * MS, 1);
    (clock.elapsed_s(), output)
}

/// The rows: the run, then the check of its history alone.
pub fn rows(quick: bool) -> Vec<Row> {
    // About 2,000 operations per simulated second (30 clients, each waiting for two
    // fsyncs per write and a 2 ms think); the full row's history holds about 10,000.
    let seconds = if quick { 1 } else { 5 };
    let (run_s, output) = run(seconds);
    let operations = output.history.len();
    let open = output
        .history
        .operations()
        .filter(|op| op.completion.is_none())
        .count();
    let before_kib = vm_rss_kib();
    let reset = reset_peak_rss();
    let clock = Stopwatch::start();
    let checked = output.history.check(0, &Budget::default());
    let check_s = clock.elapsed_s();
    let peak_kib = vm_hwm_kib().saturating_sub(before_kib);
    let verdict = checked.verdict();
    vec![
        Row::new(
            format!("kvstore: the run, {operations} operations over {KEYS} keys"),
            format!("{run_s:.3}"),
            "s wall",
            format!(
                "this machine's; {CLIENTS} clients, {seconds} s simulated, a primary crash; \
                 {open} operations left open; includes the run's own check"
            ),
        ),
        Row::new(
            format!("kvstore: linearizability check of those {operations} operations"),
            format!("{check_s:.3}"),
            "s wall",
            format!(
                "this machine's; verdict {verdict}; {:.0} operations/s; {:.2} of the run's wall",
                operations as f64 / check_s.max(1e-9),
                check_s / run_s.max(1e-9)
            ),
        ),
        Row::new(
            "kvstore: linearizability check, peak memory above before",
            if reset {
                format!("{:.1}", peak_kib as f64 / 1024.0)
            } else {
                "-".to_owned()
            },
            "MiB",
            if reset {
                format!(
                    "VmHWM during the check minus VmRSS before ({:.1} MiB, the history included)",
                    before_kib as f64 / 1024.0
                )
            } else {
                "this system cannot reset its peak RSS (/proc/self/clear_refs)".to_owned()
            },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quick_rows_check_a_linearizable_history_of_the_store() {
        let rows = rows(true);
        assert_eq!(rows.len(), 3);
        assert!(rows[1].note.contains("verdict linearizable"), "{rows:?}");
        // One simulated second: about 2,000 operations.
        let operations: usize = rows[0]
            .what
            .split_whitespace()
            .find_map(|word| word.parse().ok())
            .expect("the run's row names its operations");
        assert!((1_000..=4_000).contains(&operations), "{operations}");
        for row in &rows[..2] {
            let seconds: f64 = row.value.parse().expect("a wall time");
            assert!(seconds > 0.0, "{row:?}");
        }
    }
}
