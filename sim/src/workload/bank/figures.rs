//! What the bank workload declares about its results: its figures (money, lost
//! transfers, invariant violations, snapshots, clocks, recoveries), its per-window
//! series and its tables, all taken from its record section and timelines. Its checks
//! read the `<invariant>_violations` figures.

use faultline_reports::figures::{
    self,    Aggregate, Better, FigureSpec, Quantity, RecordTable, SeriesSpec, SeriesTable,
};
use faultline_reports::record::{BankSummary, RunRecord};

/// An invariant's violations: a count that should be 0, summarized across seeds as the
/// fraction of seeds that broke it.
const fn violations(name: &'static str, label: &'static str, about: &'static str) -> FigureSpec {
    FigureSpec::new(
        name,
        label,
        "violations",
        Better::Lower,
        Quantity::Count,
        Aggregate::FractionOfSeeds,
        about,
    )
}

/// The invariants whose violations are figures, in [`FIGURES`] order (the name of the
/// invariant in `bank.invariants`, the figure's label).
const INVARIANTS: [&str; 6] = [
    "durability",
    "snapshot_conservation",
    "causality",
    "consistent_cut",
    "hlc_bounds",
    "snapshot_liveness",
];

/// The figures of a bank run.
pub const FIGURES: &[FigureSpec] = &[
    FigureSpec::new(
        "money_start_units",
        "money at the start",
        "units",
        Better::Neither,
        Quantity::Count,
        Aggregate::Mean,
        "Units of money in the bank when the run started: accounts times their opening balance.",
    ),
    FigureSpec::new(
        "money_end_units",
        "money at the end",
        "units",
        Better::Neither,
        Quantity::Count,
        Aggregate::Mean,
        "Units at the end of the run: the accounts' final balances (live, or what their disks hold) plus transfers debited and not yet credited.",
    ),
    FigureSpec::new(
        "money_lost_units",
        "money lost",
        "units",
        Better::Neither,
        Quantity::Count,
        Aggregate::Mean,
        "Money at the start minus money at the end: positive when money was lost, negative when money was made (a transfer credited whose debit a crash undid); any value but 0 is a bug.",
    ),
    FigureSpec::new(
        "money_error_units",
        "money made or lost",
        "units",
        Better::Lower,
        Quantity::Count,
        Aggregate::Sum,
        "How far the money at the end is from the money at the start, either way (a sweep sums it, so money made at one seed does not hide money lost at another).",
    ).headline(),
    FigureSpec::new(
        "acked_transfers_lost",
        "acknowledged transfers lost",
        "transfers",
        Better::Lower,
        Quantity::Count,
        Aggregate::Sum,
        "Transfers a receiver acknowledged to their sender that are missing from the receiver's final state (a credit acknowledged before it was durable).",
    ).headline(),
    violations(
        "durability_violations",
        "durability violations",
        "Channels whose receiver lost acknowledged transfers, plus 1 when the money at the end differs from the money at the start.",
    ).headline(),
    violations(
        "snapshot_conservation_violations",
        "conservation violations",
        "Completed Chandy-Lamport snapshots whose recorded balances plus in-flight transfers differ from the money in the bank.",
    ).headline(),
    violations(
        "causality_violations",
        "causality violations",
        "Event pairs whose vector-clock, Lamport or HLC order disagrees with happens-before.",
    ).headline(),
    violations(
        "consistent_cut_violations",
        "consistent-cut violations",
        "Snapshots that record a receive whose send they do not record.",
    ),
    violations(
        "hlc_bounds_violations",
        "HLC bound violations",
        "Events where l < pt, l - pt > epsilon, or c above the number of events within epsilon plus one (Kulkarni et al. 2014).",
    ),
    violations(
        "snapshot_liveness_violations",
        "snapshot liveness violations",
        "1 when no snapshot completed within complete_within after the last fault healed.",
    ),
    FigureSpec::new(
        "snapshots_completed",
        "snapshots completed",
        "snapshots",
        Better::Higher,
        Quantity::Count,
        Aggregate::Mean,
        "Chandy-Lamport snapshots for which every account's part came in.",
    ),
    FigureSpec::new(
        "snapshots_abandoned",
        "snapshots abandoned",
        "snapshots",
        Better::Lower,
        Quantity::Count,
        Aggregate::Mean,
        "Snapshots given up (a participant crashed, or a timeout ran out).",
    ),
    FigureSpec::new(
        "max_hlc_offset_ms",
        "largest HLC l - pt",
        "ms",
        Better::Lower,
        Quantity::Duration,
        Aggregate::Max,
        "How far a hybrid logical clock's l ran ahead of its node's physical clock, at most, over every event.",
    ).headline(),
    FigureSpec::new(
        "recoveries",
        "recoveries",
        "restarts",
        Better::Neither,
        Quantity::Count,
        Aggregate::Mean,
        "Account restarts, each replaying its write-ahead log.",
    ),
    FigureSpec::new(
        "records_replayed",
        "log records replayed",
        "records",
        Better::Neither,
        Quantity::Count,
        Aggregate::Mean,
        "Write-ahead-log records replayed over every recovery.",
    ),
    FigureSpec::new(
        "halts",
        "accounts halted",
        "accounts",
        Better::Lower,
        Quantity::Count,
        Aggregate::FractionOfSeeds,
        "Accounts that stopped: their log refused a record they cannot do without, or recovery found damage it would not cut.",
    ),
    FigureSpec::new(
        "transfers_made",
        "transfers made",
        "transfers",
        Better::Neither,
        Quantity::Count,
        Aggregate::Mean,
        "Transfers debited and sent.",
    ),
    FigureSpec::new(
        "transfers_credited",
        "transfers credited",
        "transfers",
        Better::Neither,
        Quantity::Count,
        Aggregate::Mean,
        "Transfers credited by their receiver.",
    ),
    FigureSpec::new(
        "messages_delivered",
        "messages delivered",
        "messages",
        Better::Neither,
        Quantity::Count,
        Aggregate::Mean,
        "Messages (transfers, acknowledgements, markers) the network delivered.",
    ),
    FigureSpec::new(
        "messages_dropped",
        "messages lost",
        "messages",
        Better::Neither,
        Quantity::Count,
        Aggregate::Mean,
        "Messages the network lost.",
    ),
    FigureSpec::new(
        "checkpoints",
        "checkpoints taken",
        "checkpoints",
        Better::Neither,
        Quantity::Count,
        Aggregate::Mean,
        "Checkpoints the accounts wrote and synced (runs with workload.checkpoints only).",
    ),
    FigureSpec::new(
        "checkpoint_stall_s",
        "time checkpoints stalled the accounts",
        "s",
        Better::Lower,
        Quantity::Duration,
        Aggregate::Mean,
        "Time the checkpoints stalled their accounts, all accounts together: each stalls for the configured cost, at least until it is synced.",
    ),
    FigureSpec::new(
        "replayed_records_without_checkpoints",
        "records a replay of the whole log would take",
        "records",
        Better::Neither,
        Quantity::Count,
        Aggregate::Mean,
        "Log records the restarts would have replayed with no checkpoint: the records their checkpoints cover plus those they replayed (compare with records_replayed).",
    ),
    FigureSpec::new(
        "checkpoint_lost_s",
        "time lost to checkpoints and recovery",
        "s",
        Better::Lower,
        Quantity::Duration,
        Aggregate::Mean,
        "Checkpoint stalls plus the time the records each restart replayed span by its account's clock (the work redone, were it redone at the speed it was first done): the sum Young's and Daly's interval minimises.",
    ),
];

/// The per-window series of a bank run.
pub const SERIES: &[SeriesSpec] = &[
    SeriesSpec {
        name: "transfers_per_s",
        label: "transfers made",
        unit: "transfers/s",
        quantity: Quantity::Rate,
        about: "Transfers debited and sent in the window, per second.",
    },
    SeriesSpec {
        name: "credits_per_s",
        label: "transfers credited",
        unit: "transfers/s",
        quantity: Quantity::Rate,
        about: "Transfers credited in the window, per second.",
    },
    SeriesSpec {
        name: "delivered_per_s",
        label: "messages delivered",
        unit: "messages/s",
        quantity: Quantity::Rate,
        about: "Messages the network delivered in the window, per second.",
    },
    SeriesSpec {
        name: "dropped_per_s",
        label: "messages lost",
        unit: "messages/s",
        quantity: Quantity::Rate,
        about: "Messages the network lost in the window, per second.",
    },
    SeriesSpec {
        name: "in_flight_units",
        label: "money in flight",
        unit: "units",
        quantity: Quantity::Count,
        about: "Money debited and not yet credited at the window's end.",
    },
    SeriesSpec {
        name: "hlc_max_counter",
        label: "largest HLC counter",
        unit: "c",
        quantity: Quantity::Count,
        about: "Largest hybrid-logical-clock counter c of the window's events.",
    },
];

fn violations_of(bank: &BankSummary, invariant: &str) -> Option<f64> {
    bank.invariants
        .iter()
        .find(|found| found.name == invariant)
        .map(|found| found.violations as f64)
}

/// The values of [`FIGURES`], in order.
pub fn figures(record: &RunRecord) -> Vec<Option<f64>> {
    let Some(bank) = record.summary.bank.as_ref() else {
        return vec![None; FIGURES.len()];
    };
    let count = |n: u64| Some(n as f64);
    let mut values = vec![
        count(bank.total_units),
        count(bank.final_units),
        Some(bank.total_units as f64 - bank.final_units as f64),
        count(bank.total_units.abs_diff(bank.final_units)),
        count(bank.acked_transfers_lost),
    ];
    values.extend(
        INVARIANTS
            .iter()
            .map(|invariant| violations_of(bank, invariant)),
    );
    values.extend([
        count(
            bank.snapshots
                .iter()
                .filter(|s| s.completed_s.is_some())
                .count() as u64,
        ),
        count(
            bank.snapshots
                .iter()
                .filter(|s| s.abandoned.is_some())
                .count() as u64,
        ),
        Some(bank.hlc.max_offset_ms),
        count(bank.recoveries.len() as u64),
        count(bank.recoveries.iter().map(|r| r.records).sum()),
        count(bank.halts),
        count(bank.transfers),
        count(bank.credits),
        count(bank.messages_delivered),
        count(bank.messages_dropped),
    ]);
    let checkpoints = bank.checkpoints.as_ref();
    let replay_span_s: f64 = bank
        .recoveries
        .iter()
        .filter_map(|recovery| recovery.replay_span_s)
        .sum();
    values.extend([
        checkpoints.map(|c| c.taken as f64),
        checkpoints.map(|c| c.stall_s),
        checkpoints.map(|_| {
            bank.recoveries
                .iter()
                .map(|r| r.records_without_checkpoint.unwrap_or(r.records))
                .sum::<u64>() as f64
        }),
        checkpoints.map(|c| c.stall_s + replay_span_s),
    ]);
    values
}

/// The values of [`SERIES`] from `bank_timeline.csv`'s rows.
pub fn series(record: &RunRecord) -> SeriesTable {
    let per_s = |count: u64| figures::per_second(count, record.summary.window_s);
    let rows = &record.bank_timeline;
    SeriesTable {
        t_s: rows.iter().map(|row| row.t_s).collect(),
        columns: vec![
            rows.iter().map(|row| per_s(row.transfers)).collect(),
            rows.iter().map(|row| per_s(row.credits)).collect(),
            rows.iter().map(|row| per_s(row.delivered)).collect(),
            rows.iter().map(|row| per_s(row.dropped)).collect(),
            rows.iter().map(|row| row.in_flight_units as f64).collect(),
            rows.iter().map(|row| row.hlc_max_counter as f64).collect(),
        ],
    }
}

fn seconds(s: Option<f64>) -> String {
    s.map_or_else(|| "-".to_owned(), |s| format!("{s:.3}"))
}

/// The tables of a bank run: invariants, snapshots, recoveries and halts.
pub fn tables(record: &RunRecord) -> Vec<RecordTable> {
    let Some(bank) = record.summary.bank.as_ref() else {
        return Vec::new();
    };
    let mut invariants = RecordTable::new(
        "invariants",
        "Invariants",
        "Every invariant check, whether or not the scenario lists it: what it compared, what broke it first.",
        &["invariant", "compared", "violations", "first violation"],
    );
    for found in &bank.invariants {
        invariants.push(vec![
            found.name.clone(),
            found.compared.to_string(),
            found.violations.to_string(),
            found.examples.first().cloned().unwrap_or_default(),
        ]);
    }
    let mut snapshots = RecordTable::new(
        "snapshots",
        "Snapshots",
        "Chandy-Lamport snapshots: who started each, when, and how it ended.",
        &[
            "id",
            "initiator",
            "started (s)",
            "completed (s)",
            "abandoned (s)",
            "why abandoned",
        ],
    );
    for snapshot in &bank.snapshots {
        snapshots.push(vec![
            snapshot.id.to_string(),
            snapshot.initiator.clone(),
            format!("{:.3}", snapshot.started_s),
            seconds(snapshot.completed_s),
            seconds(snapshot.abandoned_s),
            snapshot.abandoned.clone().unwrap_or_default(),
        ]);
    }
    let mut recoveries = RecordTable::new(
        "recoveries",
        "Recoveries",
        "Each restart: what it replayed from its write-ahead log and why replay stopped.",
        &[
            "at (s)",
            "account",
            "resumed from",
            "records",
            "bytes kept",
            "bytes cut",
            "stop",
            "balance (units)",
        ],
    );
    for recovery in &bank.recoveries {
        recoveries.push(vec![
            format!("{:.3}", recovery.at_s),
            recovery.account.clone(),
            recovery
                .resumed_from
                .clone()
                .unwrap_or_else(|| "fresh".to_owned()),
            recovery.records.to_string(),
            recovery.valid_bytes.to_string(),
            recovery.cut_bytes.to_string(),
            recovery.stop.clone(),
            recovery.balance.to_string(),
        ]);
    }
    let mut halts = RecordTable::new(
        "halts",
        "Halted accounts",
        "Accounts that stopped, when and why.",
        &["at (s)", "account", "reason"],
    );
    for halt in &bank.halted {
        halts.push(vec![
            format!("{:.3}", halt.at_s),
            halt.account.clone(),
            halt.reason.clone(),
        ]);
    }
    let mut tables = vec![invariants, snapshots, recoveries, halts];
    if let Some(taken) = &bank.checkpoints {
        let mut checkpoints = RecordTable::new(
            "checkpoints",
            "Checkpoints",
            "What the checkpoints cost and what they saved each restart: records replayed and the time they span, with the checkpoint and from the whole log.",
            &["what", "with checkpoints", "from the whole log"],
        );
        let interval = format!("{:.3} s ({})", taken.interval_s, taken.reckoning);
        checkpoints.push(vec!["interval".to_owned(), interval, String::new()]);
        checkpoints.push(vec![
            "taken, bytes, stall".to_owned(),
            format!(
                "{} checkpoints, {} bytes, {:.3} s stalled",
                taken.taken, taken.bytes, taken.stall_s
            ),
            String::new(),
        ]);
        for recovery in &bank.recoveries {
            checkpoints.push(vec![
                format!(
                    "restart of {} at {:.3} s (checkpoint {})",
                    recovery.account,
                    recovery.at_s,
                    recovery
                        .checkpoint
                        .map_or_else(|| "none".to_owned(), |generation| generation.to_string())
                ),
                format!(
                    "{} records, {:.3} s",
                    recovery.records,
                    recovery.replay_span_s.unwrap_or(0.0)
                ),
                format!(
                    "{} records, {:.3} s",
                    recovery.records_without_checkpoint.unwrap_or(recovery.records),
                    recovery.replay_span_without_s.unwrap_or(0.0)
                ),
            ]);
        }
        tables.push(checkpoints);
    }
    tables
}

#[cfg(test)]
mod tests {
    use super::*;


    #[test]
    fn figures_and_values_line_up() {
        let record = RunRecord {
            summary: faultline_reports::record::Summary {
                bank: Some(BankSummary::default()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(figures(&record).len(), FIGURES.len());
        for (index, invariant) in INVARIANTS.iter().enumerate() {
            assert_eq!(FIGURES[5 + index].name, format!("{invariant}_violations"));
        }
    }
}
