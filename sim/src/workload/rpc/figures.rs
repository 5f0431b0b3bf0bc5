//! What the rpc workload declares about its results: its figures (one number per run),
//! its per-window series and its tables, all taken from its record section and
//! timeline. The checks read figures by name (`availability`, `p99_latency_ms`).

use faultline_reports::figures::{
    self,    Aggregate, Better, FigureSpec, Quantity, RecordTable, SeriesSpec, SeriesTable,
};
use faultline_reports::record::RunRecord;
use faultline_reports::stats::{self, verdict::Verdicts};

/// The figures of an rpc run.
pub const FIGURES: &[FigureSpec] = &[
    FigureSpec::new(
        "availability",
        "availability",
        "fraction",
        Better::Higher,
        Quantity::Ratio,
        Aggregate::Mean,
        "Succeeded / resolved logical requests, each counted in the window it was offered; requests still in flight at the end are left out (0 when requests were offered and none resolved).",
    ).headline(),
    FigureSpec::new(
        "availability_latency",
        "availability within the latency objective",
        "fraction",
        Better::Higher,
        Quantity::Ratio,
        Aggregate::Mean,
        "Requests that succeeded within slo.latency / resolved requests; not measured when the scenario sets no latency objective.",
    ),
    FigureSpec::new(
        "time_availability",
        "time-based availability",
        "fraction",
        Better::Higher,
        Quantity::Ratio,
        Aggregate::Mean,
        "Windows with traffic whose availability met the objective / windows with traffic.",
    ),
    FigureSpec::new(
        "p50_latency_ms",
        "p50 latency",
        "ms",
        Better::Lower,
        Quantity::Duration,
        Aggregate::Mean,
        "Median latency of successful logical requests, first send to successful reply.",
    ),
    FigureSpec::new(
        "p99_latency_ms",
        "p99 latency",
        "ms",
        Better::Lower,
        Quantity::Duration,
        Aggregate::Mean,
        "99th percentile latency of successful logical requests; not measured when none succeeded.",
    ).headline(),
    FigureSpec::new(
        "mean_latency_ms",
        "mean latency",
        "ms",
        Better::Lower,
        Quantity::Duration,
        Aggregate::Mean,
        "Mean latency of successful logical requests.",
    ),
    FigureSpec::new(
        "failed_fraction",
        "failed",
        "fraction",
        Better::Lower,
        Quantity::Ratio,
        Aggregate::Mean,
        "Requests that ended with an error reply (server rejected, node down) / resolved requests.",
    ),
    FigureSpec::new(
        "timed_out_fraction",
        "timed out",
        "fraction",
        Better::Lower,
        Quantity::Ratio,
        Aggregate::Mean,
        "Requests whose last attempt timed out / resolved requests.",
    ),
    FigureSpec::new(
        "breaker_rejected_fraction",
        "rejected by breaker",
        "fraction",
        Better::Lower,
        Quantity::Ratio,
        Aggregate::Mean,
        "Requests ended by an open circuit breaker / resolved requests.",
    ),
    FigureSpec::new(
        "retry_amplification",
        "retry amplification",
        "attempts/request",
        Better::Lower,
        Quantity::Rate,
        Aggregate::Mean,
        "Attempts sent (first tries and retries) per offered logical request.",
    ).headline(),
    FigureSpec::new(
        "peak_arrivals_per_s",
        "peak arrivals",
        "arrivals/s",
        Better::Lower,
        Quantity::Rate,
        Aggregate::Max,
        "Most server arrivals in one metrics window, per second.",
    ),
    FigureSpec::new(
        "peak_multiple",
        "peak load multiple",
        "x steady",
        Better::Lower,
        Quantity::Rate,
        Aggregate::Mean,
        "Peak server arrivals / the steady arrival rate before the first fault: the thundering herd's height.",
    ).headline(),
    FigureSpec::new(
        "worst_recovery_s",
        "worst time to recovery",
        "s",
        Better::Lower,
        Quantity::Duration,
        Aggregate::Max,
        "Longest measured time from a fault's end until availability was back at the objective for good; not measured when no fault ended or one never recovered.",
    ),
    FigureSpec::new(
        "faults_not_recovered",
        "faults not recovered",
        "faults",
        Better::Lower,
        Quantity::Count,
        Aggregate::FractionOfSeeds,
        "Faults after whose end availability never came back to the objective for good (the metastable signature).",
    ),
    FigureSpec::new(
        "metastable",
        "metastable",
        "runs",
        Better::Lower,
        Quantity::Count,
        Aggregate::FractionOfSeeds,
        "1 when a fault was judged metastable: after it ended, 10 windows in a row stayed outside distance 3 of the warm-up baseline without draining (goodput, median latency, retry amplification, timeout and failure fractions); 0 otherwise; not measured without a fault or fewer than 3 windows before it.",
    ),
    FigureSpec::new(
        "recovery_ms",
        "slowest recovery to baseline",
        "ms",
        Better::Lower,
        Quantity::Duration,
        Aggregate::Max,
        "Longest time from a fault's end (the end of the last fault it overlaps) to the first of 3 windows in a row back within distance 3 of the warm-up baseline; not measured when a fault was metastable or the run ended before it came back.",
    ),
    FigureSpec::new(
        "breakers_open_s",
        "breaker open time",
        "s",
        Better::Neither,
        Quantity::Duration,
        Aggregate::Mean,
        "Time during which at least one client's breaker was open (windows with an open breaker, times the window).",
    ),
    FigureSpec::new(
        "offered_requests",
        "requests offered",
        "requests",
        Better::Neither,
        Quantity::Count,
        Aggregate::Mean,
        "Logical requests issued by the clients.",
    ),
    FigureSpec::new(
        "unresolved_requests",
        "requests unresolved",
        "requests",
        Better::Lower,
        Quantity::Count,
        Aggregate::Sum,
        "Logical requests still in flight when the run ended (not counted in availability).",
    ),
];

/// The per-window series of an rpc run.
pub const SERIES: &[SeriesSpec] = &[
    SeriesSpec {
        name: "availability",
        label: "availability",
        unit: "fraction",
        quantity: Quantity::Ratio,
        about: "Succeeded / resolved requests offered in the window (empty when none was offered).",
    },
    SeriesSpec {
        name: "offered_per_s",
        label: "requests offered",
        unit: "requests/s",
        quantity: Quantity::Rate,
        about: "Logical requests issued in the window, per second.",
    },
    SeriesSpec {
        name: "attempts_per_s",
        label: "attempts sent",
        unit: "attempts/s",
        quantity: Quantity::Rate,
        about: "Attempts sent in the window (first tries and retries), per second.",
    },
    SeriesSpec {
        name: "goodput_per_s",
        label: "goodput",
        unit: "requests/s",
        quantity: Quantity::Rate,
        about: "Successes that resolved in the window, per second.",
    },
    SeriesSpec {
        name: "p99_latency_ms",
        label: "p99 latency",
        unit: "ms",
        quantity: Quantity::Duration,
        about: "99th percentile latency of the successes resolved in the window.",
    },
    SeriesSpec {
        name: "breakers_open",
        label: "breakers open",
        unit: "breakers",
        quantity: Quantity::Count,
        about: "Circuit breakers open at the window's end.",
    },
];

/// `part / resolved` (`None` with nothing resolved).
fn fraction(part: u64, resolved: u64) -> Option<f64> {
    (resolved > 0).then(|| part as f64 / resolved as f64)
}

/// The values of [`FIGURES`], in order.
pub fn figures(record: &RunRecord) -> Vec<Option<f64>> {
    let Some(rpc) = record.summary.rpc.as_ref() else {
        return vec![None; FIGURES.len()];
    };
    let run = stats::compute(record);
    let stats = run.rpc.as_ref();
    let requests = &rpc.requests;
    let resolved = requests.resolved();
    let verdicts = stats.and_then(|s| s.verdicts.as_ref());
    let not_recovered = run.faults.not_recovered();
    let worst_recovery_s = if not_recovered > 0 {
        None
    } else {
        stats
            .and_then(|s| s.worst_recovery.as_ref())
            .and_then(|w| w.recovery.mttr_s())
    };
    vec![
        Some(rpc.availability),
        rpc.availability_latency,
        stats.and_then(|s| s.time_availability.fraction),
        Some(rpc.latency_ms.p50),
        Some(rpc.latency_ms.p99),
        Some(rpc.latency_ms.mean),
        fraction(requests.failed, resolved),
        fraction(requests.timed_out, resolved),
        fraction(requests.rejected_by_breaker, resolved),
        // The check's reading: 0 with nothing offered.
        Some(requests.attempts as f64 / requests.offered.max(1) as f64),
        Some(rpc.server.peak_arrivals_per_s),
        stats.and_then(|s| s.peak.multiple),
        worst_recovery_s,
        Some(not_recovered as f64),
        verdicts.map(|v| f64::from(u8::from(v.metastable > 0))),
        verdicts
            .and_then(|v| v.slowest_recovery_s)
            .map(|s| s * 1e3),
        stats.map(|s| s.breakers.open_s),
        Some(requests.offered as f64),
        Some(requests.in_flight as f64),
    ]
}

/// The values of [`SERIES`] from `timeline.csv`'s rows.
pub fn series(record: &RunRecord) -> SeriesTable {
    let per_s = |count: u64| figures::per_second(count, record.summary.window_s);
    let rows = &record.timeline;
    SeriesTable {
        t_s: rows.iter().map(|row| row.t_s).collect(),
        columns: vec![
            rows.iter()
                .map(|row| row.success_ratio().unwrap_or(f64::NAN))
                .collect(),
            rows.iter().map(|row| per_s(row.offered)).collect(),
            rows.iter().map(|row| per_s(row.attempts)).collect(),
            rows.iter().map(|row| per_s(row.completed)).collect(),
            rows.iter().map(|row| row.latency_p99_ms).collect(),
            rows.iter().map(|row| row.breakers_open as f64).collect(),
        ],
    }
}

/// The tables of an rpc run: how the requests ended.
pub fn tables(record: &RunRecord) -> Vec<RecordTable> {
    let Some(rpc) = record.summary.rpc.as_ref() else {
        return Vec::new();
    };
    let requests = &rpc.requests;
    let mut table = RecordTable::new(
        "requests",
        "How the requests ended",
        "Logical requests by outcome; a request may take several attempts.",
        &["outcome", "requests", "of offered (%)"],
    );
    let share = |n: u64| {
        if requests.offered == 0 {
            "-".to_owned()
        } else {
            format!("{:.3}", 100.0 * n as f64 / requests.offered as f64)
        }
    };
    for (outcome, n) in [
        ("succeeded", requests.succeeded),
        ("failed", requests.failed),
        ("timed out", requests.timed_out),
        ("rejected by breaker", requests.rejected_by_breaker),
        ("in flight at the end", requests.in_flight),
        ("offered", requests.offered),
    ] {
        table.push(vec![outcome.to_owned(), n.to_string(), share(n)]);
    }
    let mut tables = vec![table];
    let run = stats::compute(record);
    if let Some(verdicts) = run.rpc.as_ref().and_then(|s| s.verdicts.as_ref()) {
        tables.push(verdict_table(record, verdicts));
    }
    tables
}

/// One row per fault: recovered in T s or metastable.
fn verdict_table(record: &RunRecord, verdicts: &Verdicts) -> RecordTable {
    let mut table = RecordTable::new(
        "verdicts",
        "Recovered or metastable",
        "After each fault ended: back within distance 3 of the warm-up baseline for 3 windows (recovered, timed from the end of the last fault it overlaps), or 10 windows outside without draining (metastable).",
        &["fault", "what", "ended (s)", "verdict", "recovery (s)"],
    );
    for (i, (fault, verdict)) in record.summary.faults.iter().zip(&verdicts.faults).enumerate() {
        table.push(vec![
            (i + 1).to_string(),
            stats::fault_label(fault),
            fault
                .end_s
                .map_or_else(|| "-".to_owned(), |e| format!("{e:.2}")),
            verdict.describe(i + 1),
            verdict
                .recovery_s()
                .map_or_else(|| "-".to_owned(), |t| format!("{t:.2}")),
        ]);
    }
    table
}
