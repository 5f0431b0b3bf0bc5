//! Statistics of a bank run: what its report section shows, computed from the record's
//! `bank` section, `bank_timeline.csv` and `hlc_offsets.csv` alone.
//!
//! - **Invariants**: each of `summary.bank.invariants` is *held* (compared something,
//!   no violation), *broken* (a violation) or *not exercised* (compared nothing, e.g.
//!   snapshot conservation in a run without snapshots). A check of the scenario names
//!   its invariant by its first word (`causality true`).
//! - **Snapshots**: a snapshot is *completed* (it has `completed_s`), *abandoned* (it
//!   has a reason) or *unfinished* (neither: still running when the run ended). Its
//!   duration is `completed_s - started_s`. Past [`MAX_LISTED_SNAPSHOTS`] the first
//!   [`LISTED_SNAPSHOTS`] are listed, then every later snapshot that did not complete
//!   (up to [`LISTED_SNAPSHOTS`] more), and the rest are folded into one row per status.
//! - **HLC offsets**: `hlc_offsets.csv` has a row per window and account with an event
//!   whose `l - pt` was positive; a missing row reads as 0 ms. Per account: the largest
//!   offset, when, and how many windows went past epsilon (none when `hlc_bounds`
//!   holds: the per-window maxima are a second view of that check). Past
//!   [`MAX_LISTED_ACCOUNTS`] accounts the [`LISTED_ACCOUNTS`] with the largest offsets
//!   are listed and the rest folded.
//! - **Money in flight**: debited and not yet credited at each window's end, units; its
//!   peak and mean over the windows.
//!
//! Every table is of bounded length, and each pass is linear in the rows of the record
//! (plus a sort of the snapshots' durations), so a day of windows with thousands of
//! snapshots reports quickly.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::record::{BankSummary, DiskSummary, RecoverySummary, RunRecord};

/// Snapshots listed one by one when there are more than [`MAX_LISTED_SNAPSHOTS`].
pub const LISTED_SNAPSHOTS: usize = 20;
/// Up to this many snapshots are all listed; past it, the rest are folded by status.
pub const MAX_LISTED_SNAPSHOTS: usize = 30;
/// Recoveries listed one by one when there are more than [`MAX_LISTED_RECOVERIES`].
pub const LISTED_RECOVERIES: usize = 20;
/// Up to this many recoveries are all listed; past it, the rest are folded.
pub const MAX_LISTED_RECOVERIES: usize = 30;
/// Accounts listed in the HLC table when there are more than [`MAX_LISTED_ACCOUNTS`].
pub const LISTED_ACCOUNTS: usize = 20;
/// Up to this many accounts are all listed; past it, the rest are folded.
pub const MAX_LISTED_ACCOUNTS: usize = 30;
/// Violation examples kept per invariant.
pub const MAX_EXAMPLES: usize = 8;
/// Characters kept of one violation example.
pub const MAX_EXAMPLE_CHARS: usize = 400;
/// Invariants reported at most (the simulator has six).
pub const MAX_INVARIANTS: usize = 64;

/// What an invariant check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvariantStatus {
    /// Compared something and found no violation.
    Held,
    /// Found at least one violation.
    Broken,
    /// Compared nothing (e.g. snapshot checks in a run without snapshots).
    NotExercised,
}

impl InvariantStatus {
    /// `held`, `BROKEN`, `not exercised`.
    pub fn word(self) -> &'static str {
        match self {
            InvariantStatus::Held => "held",
            InvariantStatus::Broken => "BROKEN",
            InvariantStatus::NotExercised => "not exercised",
        }
    }
}

/// One invariant as the report shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InvariantStats {
    /// The invariant (`causality`, `snapshot_conservation`, ...).
    pub name: String,
    /// Pairs or states compared.
    pub compared: u64,
    /// Violations found.
    pub violations: u64,
    /// Held, broken or not exercised.
    pub status: InvariantStatus,
    /// Whether one of the scenario's checks asks for it.
    pub checked: bool,
    /// The first violations, in words (at most [`MAX_EXAMPLES`], each at most
    /// [`MAX_EXAMPLE_CHARS`] characters).
    pub examples: Vec<String>,
}

/// How a snapshot ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotStatus {
    /// Every account's part came in.
    Completed,
    /// Given up (a crash during it, a newer snapshot).
    Abandoned,
    /// Still running when the run ended.
    Unfinished,
}

impl SnapshotStatus {
    /// `completed`, `abandoned`, `unfinished`.
    pub fn word(self) -> &'static str {
        match self {
            SnapshotStatus::Completed => "completed",
            SnapshotStatus::Abandoned => "abandoned",
            SnapshotStatus::Unfinished => "unfinished",
        }
    }
}

/// One snapshot as the report lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotRow {
    /// Its id.
    pub id: u32,
    /// The account that started it.
    pub initiator: String,
    /// Start, seconds.
    pub started_s: f64,
    /// Completion, seconds, when it completed.
    pub completed_s: Option<f64>,
    /// How it ended.
    pub status: SnapshotStatus,
    /// Why it was abandoned.
    pub reason: Option<String>,
    /// Start to completion, ms, when it completed.
    pub duration_ms: Option<f64>,
}

/// Snapshots of one status folded into one row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotGroup {
    /// Their status.
    pub status: SnapshotStatus,
    /// Snapshots in the row.
    pub count: usize,
    /// Lowest id.
    pub first_id: u32,
    /// Highest id.
    pub last_id: u32,
    /// Earliest start, seconds.
    pub first_start_s: f64,
    /// Latest start, seconds.
    pub last_start_s: f64,
    /// Median duration of the completed ones, ms.
    pub median_duration_ms: Option<f64>,
    /// Longest duration of the completed ones, ms.
    pub max_duration_ms: Option<f64>,
}

/// The snapshots of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SnapshotStats {
    /// Snapshots started.
    pub started: usize,
    /// Of those, completed.
    pub completed: usize,
    /// Of those, abandoned.
    pub abandoned: usize,
    /// Of those, still running at the end of the run.
    pub unfinished: usize,
    /// Median duration of the completed snapshots, ms.
    pub median_duration_ms: Option<f64>,
    /// 99th percentile (nearest rank) of their durations, ms.
    pub p99_duration_ms: Option<f64>,
    /// Longest duration, ms.
    pub max_duration_ms: Option<f64>,
    /// The snapshot that took longest.
    pub longest_id: Option<u32>,
    /// Snapshots listed one by one, in id order.
    pub listed: Vec<SnapshotRow>,
    /// The rest, one row per status.
    pub folded: Vec<SnapshotGroup>,
}

/// Recoveries past the listed ones, folded into one row.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RecoveryGroup {
    /// Recoveries in the row.
    pub count: usize,
    /// Earliest, seconds.
    pub first_s: f64,
    /// Latest, seconds.
    pub last_s: f64,
    /// Log records replayed, all together.
    pub records: u64,
    /// Log bytes kept, all together.
    pub valid_bytes: u64,
    /// Log bytes cut, all together.
    pub cut_bytes: u64,
    /// Recoveries whose replay stopped at something other than a clean end.
    pub not_clean: usize,
}

/// The restarts of a run and what each recovered.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RecoveryStats {
    /// Restarts.
    pub total: usize,
    /// Log records replayed over all restarts.
    pub records: u64,
    /// Log bytes cut over all restarts (torn or corrupt tails).
    pub cut_bytes: u64,
    /// Restarts whose replay stopped at something other than a clean end.
    pub not_clean: usize,
    /// Restarts with nothing to resume from (an empty or lost log).
    pub fresh: usize,
    /// Listed one by one, in time order.
    pub listed: Vec<RecoverySummary>,
    /// The rest folded, when there are more than [`MAX_LISTED_RECOVERIES`].
    pub folded: Option<RecoveryGroup>,
}

/// One account's hybrid-logical-clock offsets over the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountOffset {
    /// The account.
    pub account: String,
    /// Largest `l - pt` of any window, ms.
    pub max_offset_ms: f64,
    /// Start of the window where it was seen, seconds.
    pub max_t_s: f64,
    /// Windows with a positive offset (rows of `hlc_offsets.csv`).
    pub windows: usize,
    /// Windows whose largest offset went past epsilon.
    pub over_epsilon: usize,
}

/// Accounts past the listed ones, folded into one row.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountGroup {
    /// Accounts in the row.
    pub count: usize,
    /// Largest offset among them, ms.
    pub max_offset_ms: f64,
    /// Windows with a positive offset, all together.
    pub windows: usize,
    /// Windows past epsilon, all together.
    pub over_epsilon: usize,
}

/// Hybrid-logical-clock figures of a bank run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HlcStats {
    /// The largest offset between two nodes' clocks, ms: the bound on `l - pt`.
    pub epsilon_ms: f64,
    /// Largest `l - pt` seen at any event, ms (summary).
    pub max_offset_ms: f64,
    /// `max_offset_ms / epsilon_ms`, 0..1 when the bound held; `None` when epsilon is 0.
    pub max_offset_of_epsilon: Option<f64>,
    /// Largest counter `c` seen (summary).
    pub max_counter: u64,
    /// The largest counter bound met (summary).
    pub counter_bound: u64,
    /// Window with the largest counter, seconds.
    pub max_counter_t_s: Option<f64>,
    /// Window-account pairs whose largest offset went past epsilon.
    pub windows_over_epsilon: usize,
    /// Accounts in `hlc_offsets.csv` (others never ran ahead of their clock).
    pub accounts_with_offsets: usize,
    /// Per account, in account order (the largest offsets when folded).
    pub accounts: Vec<AccountOffset>,
    /// The other accounts, when there are more than [`MAX_LISTED_ACCOUNTS`].
    pub folded: Option<AccountGroup>,
}

/// Money debited and not yet credited, over the windows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InFlightStats {
    /// Highest at a window's end, units.
    pub peak_units: u64,
    /// Start of that window, seconds.
    pub peak_t_s: Option<f64>,
    /// Mean over the windows, units.
    pub mean_units: Option<f64>,
    /// At the end of the last window, units.
    pub end_units: u64,
}

/// Messages of a bank run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageStats {
    /// Handed to the network (transfers, acknowledgements, markers).
    pub sent: u64,
    /// Delivered.
    pub delivered: u64,
    /// Lost in the network.
    pub dropped: u64,
    /// Reached a node that was down.
    pub to_down_nodes: u64,
    /// `sent - delivered - dropped - to_down_nodes`: still in the network at the end
    /// (negative would be a record that contradicts itself).
    pub remainder: i64,
    /// Markers sent.
    pub markers: u64,
    /// Most messages lost in one window, per second.
    pub peak_dropped_per_s: f64,
    /// Start of that window, seconds.
    pub peak_dropped_t_s: Option<f64>,
}

/// Transfers of a bank run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TransferStats {
    /// Made (debited and sent).
    pub made: u64,
    /// Credited.
    pub credited: u64,
    /// `made - credited`: in flight at the end, or credits a crash took back.
    pub uncredited: i64,
    /// Skipped for want of money.
    pub skipped_funds: u64,
    /// Skipped because a channel's window was full.
    pub skipped_window: u64,
    /// Skipped because the log refused the record.
    pub skipped_log: u64,
    /// Transfers made per second over the run.
    pub per_s: f64,
    /// Fewest transfers made in one window, per second.
    pub min_window_per_s: Option<f64>,
    /// Start of that window, seconds.
    pub min_window_t_s: Option<f64>,
}

/// What the reports show about a bank run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BankStats {
    /// Accounts.
    pub accounts: u32,
    /// Money at the start, units.
    pub total_units: u64,
    /// Money at the end (balances plus in flight), units.
    pub final_units: u64,
    /// `final_units - total_units`: 0 when no money was made or lost.
    pub units_change: i64,
    /// Invariants held, of those exercised.
    pub invariants_held: usize,
    /// Names of the broken invariants.
    pub invariants_broken: Vec<String>,
    /// Every invariant, in the record's order.
    pub invariants: Vec<InvariantStats>,
    /// Transfers.
    pub transfers: TransferStats,
    /// Messages.
    pub messages: MessageStats,
    /// Money in flight.
    pub in_flight: InFlightStats,
    /// Accounts that stopped (their log refused a record they need).
    pub halts: u64,
    /// Snapshots.
    pub snapshots: SnapshotStats,
    /// Restarts.
    pub recoveries: RecoveryStats,
    /// Clocks.
    pub hlc: HlcStats,
    /// The accounts' disks, as the record gives them.
    pub disk: DiskSummary,
    /// The span the zoomed chart panels show (the faults other than clock settings, with
    /// a margin); `None` when they span most of the run.
    pub zoom: Option<super::Span>,
}

/// Computes the bank statistics of a record with a bank section.
pub fn compute(rec: &RunRecord, section: &BankSummary) -> BankStats {
    let invariants = invariants(rec, section);
    let held = invariants
        .iter()
        .filter(|i| i.status == InvariantStatus::Held)
        .count();
    let broken = invariants
        .iter()
        .filter(|i| i.status == InvariantStatus::Broken)
        .map(|i| i.name.clone())
        .collect();
    BankStats {
        accounts: section.accounts,
        total_units: section.total_units,
        final_units: section.final_units,
        units_change: signed_diff(section.final_units, section.total_units),
        invariants_held: held,
        invariants_broken: broken,
        invariants,
        transfers: transfers(rec, section),
        messages: messages(rec, section),
        in_flight: in_flight(rec),
        halts: section.halts,
        snapshots: snapshots(section),
        recoveries: recoveries(section),
        hlc: hlc(rec, section),
        disk: section.disk.clone(),
        zoom: zoom(rec),
    }
}

/// The zoom of a bank run: as [`super::zoom`] with every fault but the clock settings
/// (which last to the end) recovering as it ends, since a bank has no availability to
/// recover.
fn zoom(rec: &RunRecord) -> Option<super::Span> {
    let recs: Vec<super::FaultRecovery> = rec
        .summary
        .faults
        .iter()
        .filter(|f| f.kind != "clock")
        .map(|f| super::FaultRecovery {
            fault: f.clone(),
            recovery: match f.end_s {
                Some(_) => super::Recovery::Recovered { mttr_s: 0.0 },
                None => super::Recovery::Unended,
            },
        })
        .collect();
    super::zoom(rec, &recs)
}

/// `a - b` as a signed number, saturating at the ends of `i64`.
fn signed_diff(a: u64, b: u64) -> i64 {
    if a >= b {
        i64::try_from(a - b).unwrap_or(i64::MAX)
    } else {
        i64::try_from(b - a).map_or(i64::MIN, |d| -d)
    }
}

/// The invariant a check asks for: its first word (`causality true` -> `causality`).
pub fn check_invariant(check_name: &str) -> &str {
    check_name.split_whitespace().next().unwrap_or("")
}

fn invariants(rec: &RunRecord, section: &BankSummary) -> Vec<InvariantStats> {
    section
        .invariants
        .iter()
        .take(MAX_INVARIANTS)
        .map(|inv| {
            let status = if inv.violations > 0 {
                InvariantStatus::Broken
            } else if inv.compared == 0 {
                InvariantStatus::NotExercised
            } else {
                InvariantStatus::Held
            };
            InvariantStats {
                name: inv.name.clone(),
                compared: inv.compared,
                violations: inv.violations,
                status,
                checked: rec
                    .summary
                    .checks
                    .iter()
                    .any(|c| check_invariant(&c.name) == inv.name),
                examples: inv
                    .examples
                    .iter()
                    .take(MAX_EXAMPLES)
                    .map(|e| crate::text::clip(e, MAX_EXAMPLE_CHARS))
                    .collect(),
            }
        })
        .collect()
}

fn transfers(rec: &RunRecord, s: &BankSummary) -> TransferStats {
    let w = super::window_s(rec);
    let run_s = bank_duration_s(rec);
    let mut min: Option<(f64, u64)> = None;
    // The last window may be cut short by the end of the run: only whole windows count.
    for r in rec
        .bank_timeline
        .iter()
        .filter(|r| r.t_s + w <= run_s + 1e-9)
    {
        if min.is_none_or(|(_, m)| r.transfers < m) {
            min = Some((r.t_s, r.transfers));
        }
    }
    TransferStats {
        made: s.transfers,
        credited: s.credits,
        uncredited: signed_diff(s.transfers, s.credits),
        skipped_funds: s.skipped_funds,
        skipped_window: s.skipped_window,
        skipped_log: s.skipped_log,
        per_s: if run_s > 0.0 {
            s.transfers as f64 / run_s
        } else {
            0.0
        },
        min_window_per_s: min.map(|(_, m)| m as f64 / w),
        min_window_t_s: min.map(|(t, _)| t),
    }
}

fn messages(rec: &RunRecord, s: &BankSummary) -> MessageStats {
    let w = super::window_s(rec);
    let mut peak: Option<(f64, u64)> = None;
    for r in &rec.bank_timeline {
        if r.dropped > 0 && peak.is_none_or(|(_, p)| r.dropped > p) {
            peak = Some((r.t_s, r.dropped));
        }
    }
    let accounted = s
        .messages_delivered
        .saturating_add(s.messages_dropped)
        .saturating_add(s.messages_to_down_nodes);
    MessageStats {
        sent: s.messages_sent,
        delivered: s.messages_delivered,
        dropped: s.messages_dropped,
        to_down_nodes: s.messages_to_down_nodes,
        remainder: signed_diff(s.messages_sent, accounted),
        markers: s.markers,
        peak_dropped_per_s: peak.map_or(0.0, |(_, p)| p as f64 / w),
        peak_dropped_t_s: peak.map(|(t, _)| t),
    }
}

fn in_flight(rec: &RunRecord) -> InFlightStats {
    let tl = &rec.bank_timeline;
    let mut peak: Option<(f64, u64)> = None;
    let mut sum: u128 = 0;
    for r in tl {
        sum += u128::from(r.in_flight_units);
        if peak.is_none_or(|(_, p)| r.in_flight_units > p) {
            peak = Some((r.t_s, r.in_flight_units));
        }
    }
    InFlightStats {
        peak_units: peak.map_or(0, |p| p.1),
        peak_t_s: peak.map(|p| p.0),
        mean_units: (!tl.is_empty()).then(|| sum as f64 / tl.len() as f64),
        end_units: tl.last().map_or(0, |r| r.in_flight_units),
    }
}

/// Length of a bank run: `summary.simulated_s`, else the end of the last window.
pub fn bank_duration_s(rec: &RunRecord) -> f64 {
    let d = rec.summary.simulated_s;
    if d.is_finite() && d > 0.0 {
        return d;
    }
    rec.bank_timeline
        .last()
        .map_or(0.0, |r| r.t_s + super::window_s(rec))
}

/// Nearest-rank quantile `q` of sorted values.
fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

fn snapshot_row(s: &crate::record::SnapshotSummary) -> SnapshotRow {
    let status = match (s.completed_s, &s.abandoned) {
        (Some(_), _) => SnapshotStatus::Completed,
        (None, Some(_)) => SnapshotStatus::Abandoned,
        (None, None) => SnapshotStatus::Unfinished,
    };
    SnapshotRow {
        id: s.id,
        initiator: s.initiator.clone(),
        started_s: s.started_s,
        completed_s: s.completed_s,
        status,
        reason: s.abandoned.clone(),
        duration_ms: s
            .completed_s
            .map(|c| (c - s.started_s) * 1e3)
            .filter(|d| d.is_finite()),
    }
}

fn snapshots(section: &BankSummary) -> SnapshotStats {
    let rows: Vec<SnapshotRow> = section.snapshots.iter().map(snapshot_row).collect();
    let of = |st: SnapshotStatus| rows.iter().filter(|r| r.status == st).count();
    let mut durations: Vec<f64> = rows.iter().filter_map(|r| r.duration_ms).collect();
    durations.sort_by(f64::total_cmp);
    let longest = rows
        .iter()
        .filter_map(|r| r.duration_ms.map(|d| (r.id, d)))
        .fold(None, |acc: Option<(u32, f64)>, (id, d)| match acc {
            Some((_, best)) if best >= d => acc,
            _ => Some((id, d)),
        });
    let (listed, folded) = fold_snapshots(rows.clone());
    debug_assert_eq!(
        listed.len() + folded.iter().map(|g| g.count).sum::<usize>(),
        rows.len(),
        "snapshots lost in folding"
    );
    SnapshotStats {
        started: rows.len(),
        completed: of(SnapshotStatus::Completed),
        abandoned: of(SnapshotStatus::Abandoned),
        unfinished: of(SnapshotStatus::Unfinished),
        median_duration_ms: super::median(&durations),
        p99_duration_ms: quantile(&durations, 0.99),
        max_duration_ms: durations.last().copied(),
        longest_id: longest.map(|l| l.0),
        listed,
        folded,
    }
}

/// The first snapshots listed, then the later ones that did not complete (a bounded
/// number), the rest folded by status.
fn fold_snapshots(rows: Vec<SnapshotRow>) -> (Vec<SnapshotRow>, Vec<SnapshotGroup>) {
    if rows.len() <= MAX_LISTED_SNAPSHOTS {
        return (rows, Vec::new());
    }
    let mut listed = Vec::with_capacity(2 * LISTED_SNAPSHOTS);
    let mut rest: BTreeMap<SnapshotStatus, (SnapshotGroup, Vec<f64>)> = BTreeMap::new();
    let mut extra = 0usize;
    for (i, r) in rows.into_iter().enumerate() {
        let notable = r.status != SnapshotStatus::Completed && extra < LISTED_SNAPSHOTS;
        if i < LISTED_SNAPSHOTS || notable {
            if i >= LISTED_SNAPSHOTS {
                extra += 1;
            }
            listed.push(r);
            continue;
        }
        let (g, durations) = rest.entry(r.status).or_insert_with(|| {
            (
                SnapshotGroup {
                    status: r.status,
                    count: 0,
                    first_id: r.id,
                    last_id: r.id,
                    first_start_s: r.started_s,
                    last_start_s: r.started_s,
                    median_duration_ms: None,
                    max_duration_ms: None,
                },
                Vec::new(),
            )
        });
        g.count += 1;
        g.first_id = g.first_id.min(r.id);
        g.last_id = g.last_id.max(r.id);
        g.first_start_s = g.first_start_s.min(r.started_s);
        g.last_start_s = g.last_start_s.max(r.started_s);
        durations.extend(r.duration_ms);
    }
    let folded = rest
        .into_values()
        .map(|(mut g, mut d)| {
            d.sort_by(f64::total_cmp);
            g.median_duration_ms = super::median(&d);
            g.max_duration_ms = d.last().copied();
            g
        })
        .collect();
    (listed, folded)
}

fn recoveries(section: &BankSummary) -> RecoveryStats {
    let all = &section.recoveries;
    let clean = |r: &RecoverySummary| r.stop == "clean";
    let listed_n = if all.len() > MAX_LISTED_RECOVERIES {
        LISTED_RECOVERIES
    } else {
        all.len()
    };
    let rest = &all[listed_n..];
    let folded = rest.first().map(|first| RecoveryGroup {
        count: rest.len(),
        first_s: rest.iter().map(|r| r.at_s).fold(first.at_s, f64::min),
        last_s: rest.iter().map(|r| r.at_s).fold(first.at_s, f64::max),
        records: rest.iter().map(|r| r.records).sum(),
        valid_bytes: rest.iter().map(|r| r.valid_bytes).sum(),
        cut_bytes: rest.iter().map(|r| r.cut_bytes).sum(),
        not_clean: rest.iter().filter(|r| !clean(r)).count(),
    });
    RecoveryStats {
        total: all.len(),
        records: all.iter().map(|r| r.records).sum(),
        cut_bytes: all.iter().map(|r| r.cut_bytes).sum(),
        not_clean: all.iter().filter(|r| !clean(r)).count(),
        fresh: all.iter().filter(|r| r.resumed_from.is_none()).count(),
        listed: all[..listed_n].to_vec(),
        folded,
    }
}

/// Sort key of an account name: `acct-2` before `acct-10` (prefix, then the number its
/// name ends in, then the whole name).
pub fn account_key(name: &str) -> (&str, u64, &str) {
    let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let (prefix, number) = name.split_at(name.len() - digits);
    (prefix, number.parse().unwrap_or(u64::MAX), name)
}

/// Per-account largest offsets from `hlc_offsets.csv`, in account order.
pub fn account_offsets(rec: &RunRecord, epsilon_ms: f64) -> Vec<AccountOffset> {
    let mut by: BTreeMap<&str, AccountOffset> = BTreeMap::new();
    for r in &rec.hlc_offsets {
        let a = by
            .entry(r.account.as_str())
            .or_insert_with(|| AccountOffset {
                account: r.account.clone(),
                max_offset_ms: f64::NEG_INFINITY,
                max_t_s: r.t_s,
                windows: 0,
                over_epsilon: 0,
            });
        a.windows += 1;
        if r.offset_ms > epsilon_ms + 1e-9 {
            a.over_epsilon += 1;
        }
        if r.offset_ms > a.max_offset_ms {
            a.max_offset_ms = r.offset_ms;
            a.max_t_s = r.t_s;
        }
    }
    let mut out: Vec<AccountOffset> = by.into_values().collect();
    out.sort_by(|a, b| account_key(&a.account).cmp(&account_key(&b.account)));
    out
}

fn hlc(rec: &RunRecord, section: &BankSummary) -> HlcStats {
    let h = &section.hlc;
    let accounts = account_offsets(rec, h.epsilon_ms);
    let over: usize = accounts.iter().map(|a| a.over_epsilon).sum();
    let n = accounts.len();
    let (listed, folded) = if n > MAX_LISTED_ACCOUNTS {
        let mut by_size = accounts;
        by_size.sort_by(|a, b| {
            b.max_offset_ms
                .total_cmp(&a.max_offset_ms)
                .then_with(|| account_key(&a.account).cmp(&account_key(&b.account)))
        });
        let rest = by_size.split_off(LISTED_ACCOUNTS);
        by_size.sort_by(|a, b| account_key(&a.account).cmp(&account_key(&b.account)));
        let group = AccountGroup {
            count: rest.len(),
            max_offset_ms: rest.iter().map(|a| a.max_offset_ms).fold(0.0, f64::max),
            windows: rest.iter().map(|a| a.windows).sum(),
            over_epsilon: rest.iter().map(|a| a.over_epsilon).sum(),
        };
        (by_size, Some(group))
    } else {
        (accounts, None)
    };
    let mut peak: Option<(f64, u64)> = None;
    for r in &rec.bank_timeline {
        if peak.is_none_or(|(_, p)| r.hlc_max_counter > p) {
            peak = Some((r.t_s, r.hlc_max_counter));
        }
    }
    HlcStats {
        epsilon_ms: h.epsilon_ms,
        max_offset_ms: h.max_offset_ms,
        max_offset_of_epsilon: (h.epsilon_ms > 0.0).then(|| h.max_offset_ms / h.epsilon_ms),
        max_counter: h.max_counter,
        counter_bound: h.counter_bound,
        max_counter_t_s: peak.map(|p| p.0),
        windows_over_epsilon: over,
        accounts_with_offsets: n,
        accounts: listed,
        folded,
    }
}

/// Where a bank record contradicts itself: timeline totals against the summary,
/// offsets of accounts the bank does not have.
pub fn notes(rec: &RunRecord, section: &BankSummary) -> Vec<String> {
    let mut out = Vec::new();
    let tl = &rec.bank_timeline;
    if !tl.is_empty() {
        let sum = |f: fn(&crate::record::BankWindowRow) -> u64| -> u64 { tl.iter().map(f).sum() };
        let pairs: [(&str, u64, &str, u64); 4] = [
            (
                "transfers",
                sum(|r| r.transfers),
                "transfers",
                section.transfers,
            ),
            ("credits", sum(|r| r.credits), "credits", section.credits),
            (
                "delivered",
                sum(|r| r.delivered),
                "messages_delivered",
                section.messages_delivered,
            ),
            (
                "dropped",
                sum(|r| r.dropped),
                "messages_dropped",
                section.messages_dropped,
            ),
        ];
        for (col, timeline, field, summary) in pairs {
            if timeline != summary {
                out.push(format!(
                    "bank_timeline.csv's `{col}` sums to {} but summary.json's `bank.{field}` is {}",
                    crate::text::count(timeline),
                    crate::text::count(summary)
                ));
            }
        }
    }
    let strangers = rec
        .hlc_offsets
        .iter()
        .filter(|r| {
            let (_, n, _) = account_key(&r.account);
            n >= u64::from(section.accounts)
        })
        .count();
    if strangers > 0 && section.accounts > 0 {
        out.push(format!(
            "hlc_offsets.csv has {} row{} naming accounts the bank's {} accounts do not include",
            crate::text::count(strangers as u64),
            if strangers == 1 { "" } else { "s" },
            crate::text::count(u64::from(section.accounts))
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_sort_by_number() {
        let mut v = vec!["acct-10", "acct-2", "acct-1", "bob"];
        v.sort_by(|a, b| account_key(a).cmp(&account_key(b)));
        assert_eq!(v, ["acct-1", "acct-2", "acct-10", "bob"]);
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.99), Some(99.0));
        assert_eq!(quantile(&v, 0.5), Some(50.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn signed_differences() {
        assert_eq!(signed_diff(7879, 8000), -121);
        assert_eq!(signed_diff(3, 1), 2);
        assert_eq!(signed_diff(0, u64::MAX), i64::MIN);
    }

    #[test]
    fn long_examples_are_clipped() {
        let s = "x".repeat(1000);
        let c = crate::text::clip(&s, 10);
        assert_eq!(c.chars().count(), 10);
        assert!(c.ends_with('…'));
    }
}
