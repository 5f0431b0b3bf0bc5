//! The bank workload's section of a run report: verdict cards (every invariant, then
//! money, transfers, snapshots, recoveries, clocks), charts, and tables (snapshots,
//! recoveries, HLC offsets per account, transfers and messages, disks), all from
//! [`BankStats`].

use std::path::Path;

use super::{row, Card, Row, Tone};
use crate::error::ReportError;
use crate::plots::{self, Plot};
use crate::record::RunRecord;
use crate::stats::bank::{BankStats, InvariantStatus, SnapshotStatus};
use crate::stats::RunStats;
use crate::text::{count, fixed, opt_fixed, Align, Table};

/// Violation examples a verdict card shows (the invariants table and report.json keep
/// more).
const CARD_EXAMPLES: usize = 2;
/// Characters of one example on a card.
const CARD_EXAMPLE_CHARS: usize = 160;

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

fn signed(n: i64) -> String {
    match n {
        0 => "0".to_string(),
        n if n > 0 => format!("+{}", count(n.unsigned_abs())),
        n => format!("-{}", count(n.unsigned_abs())),
    }
}

/// One card per invariant: held, broken (with the first examples) or not exercised.
pub(super) fn invariant_cards(b: &BankStats) -> Vec<Card> {
    b.invariants
        .iter()
        .map(|inv| {
            let mut details = vec![format!(
                "{} in {} compared",
                plural(inv.violations, "violation", "violations"),
                count(inv.compared)
            )];
            if inv.status == InvariantStatus::NotExercised {
                details[0] = "nothing to compare in this run".to_string();
            }
            if !inv.checked {
                details.push("not among the scenario's checks".to_string());
            }
            for e in inv.examples.iter().take(CARD_EXAMPLES) {
                details.push(format!("e.g. {}", crate::text::clip(e, CARD_EXAMPLE_CHARS)));
            }
            Card {
                key: inv.name.clone(),
                value: inv.status.word().to_string(),
                details,
                tone: match inv.status {
                    InvariantStatus::Held => Tone::Good,
                    InvariantStatus::Broken => Tone::Bad,
                    InvariantStatus::NotExercised => Tone::Neutral,
                },
            }
        })
        .collect()
}

/// The bank's headline figures: money, transfers, snapshots, recoveries, clocks.
pub(super) fn figure_cards(b: &BankStats) -> Vec<Card> {
    let mut cards = Vec::new();
    let conserved = b.units_change == 0;
    cards.push(Card {
        key: "money (units)".to_string(),
        value: format!("{} → {}", count(b.total_units), count(b.final_units)),
        details: vec![
            if conserved {
                "conserved: balances plus money in flight at the end".to_string()
            } else {
                format!(
                    "{} units {} (balances plus money in flight at the end)",
                    count(b.units_change.unsigned_abs()),
                    if b.units_change < 0 { "lost" } else { "made" }
                )
            },
            format!(
                "across {}",
                plural(u64::from(b.accounts), "account", "accounts")
            ),
        ],
        tone: if conserved { Tone::Good } else { Tone::Bad },
    });
    let t = &b.transfers;
    let mut details = vec![format!("{} credited", count(t.credited))];
    let skipped = [
        (t.skipped_funds, "for want of money"),
        (t.skipped_window, "a channel window full"),
        (t.skipped_log, "the log refused"),
    ];
    for (n, why) in skipped.iter().filter(|(n, _)| *n > 0) {
        details.push(format!("{} skipped, {why}", count(*n)));
    }
    if b.halts > 0 {
        details.push(format!("{} halted", plural(b.halts, "account", "accounts")));
    }
    cards.push(Card {
        key: "transfers".to_string(),
        value: count(t.made),
        details,
        tone: Tone::Neutral,
    });
    let s = &b.snapshots;
    let (value, details) = if s.started == 0 {
        (
            "none".to_string(),
            vec!["no snapshot was started".to_string()],
        )
    } else {
        let mut d = Vec::new();
        let mut ends = Vec::new();
        if s.abandoned > 0 {
            ends.push(format!("{} abandoned", count(s.abandoned as u64)));
        }
        if s.unfinished > 0 {
            ends.push(format!(
                "{} still running at the end",
                count(s.unfinished as u64)
            ));
        }
        if !ends.is_empty() {
            d.push(ends.join(", "));
        }
        if let (Some(m), Some(x)) = (s.median_duration_ms, s.max_duration_ms) {
            d.push(format!(
                "median {} ms, longest {} ms{}",
                fixed(m, 2),
                fixed(x, 2),
                s.longest_id
                    .map_or_else(String::new, |id| format!(" (snapshot {id})"))
            ));
        }
        (
            format!(
                "{} of {} completed",
                count(s.completed as u64),
                count(s.started as u64)
            ),
            d,
        )
    };
    cards.push(Card {
        key: "snapshots".to_string(),
        value,
        details,
        tone: Tone::Neutral,
    });
    let r = &b.recoveries;
    let details = match (r.total, r.listed.first()) {
        (0, _) | (_, None) => vec!["no account restarted".to_string()],
        (1, Some(one)) => vec![format!(
            "{} at {} s: {} replayed, {}",
            one.account,
            fixed(one.at_s, 3),
            plural(one.records, "record", "records"),
            one.stop
        )],
        _ => {
            let mut d = vec![format!(
                "{} replayed in all",
                plural(r.records, "record", "records")
            )];
            if r.not_clean > 0 {
                d.push(format!(
                    "{} stopped at a bad record, {} B cut",
                    count(r.not_clean as u64),
                    count(r.cut_bytes)
                ));
            }
            d
        }
    };
    cards.push(Card {
        key: "recoveries".to_string(),
        value: count(r.total as u64),
        details,
        tone: Tone::Neutral,
    });
    let h = &b.hlc;
    cards.push(Card {
        key: "clocks (HLC)".to_string(),
        value: format!("{} ms", fixed(h.max_offset_ms, 3)),
        details: vec![
            format!(
                "largest l - pt; epsilon {} ms{}",
                fixed(h.epsilon_ms, 3),
                h.max_offset_of_epsilon
                    .map_or_else(String::new, |f| format!(
                        ": {} % of it",
                        fixed(f * 100.0, 1)
                    ))
            ),
            format!(
                "counter c at most {} (bound {})",
                count(h.max_counter),
                count(h.counter_bound)
            ),
        ],
        tone: Tone::Neutral,
    });
    cards
}

/// The few bank rows the CLI prints after a run.
pub(super) fn key_rows(b: &BankStats) -> Vec<Row> {
    let s = &b.snapshots;
    let mut rows = vec![
        row("accounts", count(u64::from(b.accounts)), "accounts"),
        row("money at start", count(b.total_units), "units"),
        row(
            "money at end (balances + in flight)",
            count(b.final_units),
            "units",
        ),
        row("transfers made", count(b.transfers.made), "transfers"),
        row(
            "transfers credited",
            count(b.transfers.credited),
            "transfers",
        ),
        row(
            "snapshots completed",
            if s.started == 0 {
                "none taken".to_string()
            } else {
                format!(
                    "{} of {}",
                    count(s.completed as u64),
                    count(s.started as u64)
                )
            },
            "snapshots",
        ),
        row(
            "snapshots abandoned",
            count(s.abandoned as u64),
            "snapshots",
        ),
        row("recoveries", count(b.recoveries.total as u64), "restarts"),
    ];
    let exercised = b
        .invariants
        .iter()
        .filter(|i| i.status != InvariantStatus::NotExercised)
        .count();
    rows.push(row(
        "invariants held",
        format!("{} of {}", b.invariants_held, exercised),
        "invariants exercised",
    ));
    if !b.invariants_broken.is_empty() {
        rows.push(row(
            "invariants broken",
            count(b.invariants_broken.len() as u64),
            &b.invariants_broken.join(", "),
        ));
    }
    rows
}

/// Every bank figure, for the page's table of all metrics.
pub(super) fn all_rows(b: &BankStats) -> Vec<Row> {
    let mut rows = key_rows(b);
    let t = &b.transfers;
    let s = &b.snapshots;
    let h = &b.hlc;
    rows.extend([
        row("money made or lost", signed(b.units_change), "units"),
        row(
            "money in flight, peak",
            count(b.in_flight.peak_units),
            "units",
        ),
        row(
            "money in flight, mean",
            opt_fixed(b.in_flight.mean_units, 1),
            "units",
        ),
        row(
            "money in flight at end",
            count(b.in_flight.end_units),
            "units",
        ),
        row("transfers, rate", fixed(t.per_s, 2), "transfers/s"),
        row("made - credited", signed(t.uncredited), "transfers"),
        row(
            "skipped, want of money",
            count(t.skipped_funds),
            "transfers",
        ),
        row("skipped, window full", count(t.skipped_window), "transfers"),
        row("skipped, log refused", count(t.skipped_log), "transfers"),
        row("accounts halted", count(b.halts), "accounts"),
        row(
            "snapshots still running at end",
            count(s.unfinished as u64),
            "snapshots",
        ),
        row(
            "snapshot duration, median",
            opt_fixed(s.median_duration_ms, 2),
            "ms",
        ),
        row(
            "snapshot duration, p99",
            opt_fixed(s.p99_duration_ms, 2),
            "ms",
        ),
        row(
            "snapshot duration, longest",
            opt_fixed(s.max_duration_ms, 2),
            "ms",
        ),
        row(
            "log records replayed",
            count(b.recoveries.records),
            "records",
        ),
        row(
            "log bytes cut at recovery",
            count(b.recoveries.cut_bytes),
            "B",
        ),
        row(
            "HLC epsilon (largest clock offset)",
            fixed(h.epsilon_ms, 3),
            "ms",
        ),
        row("HLC l - pt, largest", fixed(h.max_offset_ms, 3), "ms"),
        row("HLC counter c, largest", count(h.max_counter), "ticks"),
        row("HLC counter bound met", count(h.counter_bound), "ticks"),
    ]);
    rows.extend(message_rows(b));
    rows.extend(disk_rows(b));
    rows
}

fn message_rows(b: &BankStats) -> Vec<Row> {
    let m = &b.messages;
    vec![
        row("messages sent", count(m.sent), "messages"),
        row("messages delivered", count(m.delivered), "messages"),
        row("messages lost in the network", count(m.dropped), "messages"),
        row("messages to down nodes", count(m.to_down_nodes), "messages"),
        row(
            "messages unaccounted at end (in the network)",
            signed(m.remainder),
            "messages",
        ),
        row("markers sent", count(m.markers), "markers"),
        row(
            "messages lost, worst window",
            fixed(m.peak_dropped_per_s, 1),
            "messages/s",
        ),
    ]
}

fn disk_rows(b: &BankStats) -> Vec<Row> {
    let d = &b.disk;
    vec![
        row("disk appends", count(d.writes), "appends"),
        row("disk bytes appended", count(d.bytes_written), "B"),
        row(
            "disk appends refused (full)",
            count(d.writes_refused_full),
            "appends",
        ),
        row("fsyncs completed", count(d.fsyncs), "fsyncs"),
        row("fsyncs that lied", count(d.fsyncs_lied), "fsyncs"),
        row("disk crashes", count(d.crashes), "crashes"),
        row(
            "unsynced bytes lost at crashes",
            count(d.bytes_lost_at_crash),
            "B",
        ),
        row("torn tails kept", count(d.torn_tails_kept), "crashes"),
        row("reads corrupted", count(d.reads_corrupted), "reads"),
    ]
}

fn figures_table(rows: &[Row]) -> Table {
    let mut t = Table::new(&[
        ("figure", Align::Left),
        ("value", Align::Right),
        ("unit", Align::Left),
    ]);
    for (m, v, u) in rows {
        t.push(vec![m.clone(), v.clone(), u.clone()]);
    }
    t
}

fn invariants_table(b: &BankStats) -> Table {
    let mut t = Table::new(&[
        ("invariant", Align::Left),
        ("result", Align::Left),
        ("compared", Align::Right),
        ("violations", Align::Right),
        ("scenario check", Align::Left),
        ("first violations", Align::Left),
    ]);
    for inv in &b.invariants {
        let mut examples = inv.examples.iter();
        t.push(vec![
            inv.name.clone(),
            inv.status.word().to_string(),
            count(inv.compared),
            count(inv.violations),
            if inv.checked { "yes" } else { "no" }.to_string(),
            examples.next().cloned().unwrap_or_default(),
        ]);
        for e in examples {
            t.push(vec![
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                e.clone(),
            ]);
        }
    }
    t
}

fn snapshots_table(b: &BankStats) -> Table {
    let mut t = Table::new(&[
        ("id", Align::Right),
        ("initiator", Align::Left),
        ("started (s)", Align::Right),
        ("completed (s)", Align::Right),
        ("duration (ms)", Align::Right),
        ("outcome", Align::Left),
    ]);
    for s in &b.snapshots.listed {
        let outcome = match s.status {
            SnapshotStatus::Completed => "completed".to_string(),
            SnapshotStatus::Abandoned => {
                format!(
                    "abandoned: {}",
                    s.reason.as_deref().unwrap_or("no reason given")
                )
            }
            SnapshotStatus::Unfinished => "still running at the end".to_string(),
        };
        t.push(vec![
            s.id.to_string(),
            s.initiator.clone(),
            fixed(s.started_s, 3),
            opt_fixed(s.completed_s, 3),
            opt_fixed(s.duration_ms, 2),
            outcome,
        ]);
    }
    for g in &b.snapshots.folded {
        let durations = match (g.median_duration_ms, g.max_duration_ms) {
            (Some(m), Some(x)) => format!("median {}, max {}", fixed(m, 2), fixed(x, 2)),
            _ => "n/a".to_string(),
        };
        t.push(vec![
            "...".to_string(),
            format!("ids {}-{}", g.first_id, g.last_id),
            format!("{}-{}", fixed(g.first_start_s, 3), fixed(g.last_start_s, 3)),
            String::new(),
            durations,
            format!("{} more {}", count(g.count as u64), g.status.word()),
        ]);
    }
    t
}

fn recoveries_table(b: &BankStats) -> Table {
    let mut t = Table::new(&[
        ("at (s)", Align::Right),
        ("account", Align::Left),
        ("clock entry", Align::Right),
        ("resumed from", Align::Left),
        ("records replayed", Align::Right),
        ("bytes kept (B)", Align::Right),
        ("bytes cut (B)", Align::Right),
        ("replay stopped", Align::Left),
        ("balance (units)", Align::Right),
    ]);
    for r in &b.recoveries.listed {
        t.push(vec![
            fixed(r.at_s, 3),
            r.account.clone(),
            count(u64::from(r.slot)),
            r.resumed_from
                .clone()
                .unwrap_or_else(|| "nothing (fresh start)".to_string()),
            count(r.records),
            count(r.valid_bytes),
            count(r.cut_bytes),
            r.stop.clone(),
            count(r.balance),
        ]);
    }
    if let Some(g) = &b.recoveries.folded {
        t.push(vec![
            format!("{}-{}", fixed(g.first_s, 3), fixed(g.last_s, 3)),
            format!("{} more restarts", count(g.count as u64)),
            String::new(),
            String::new(),
            count(g.records),
            count(g.valid_bytes),
            count(g.cut_bytes),
            format!("{} not clean", count(g.not_clean as u64)),
            String::new(),
        ]);
    }
    t
}

fn hlc_table(b: &BankStats) -> Table {
    let h = &b.hlc;
    let mut t = Table::new(&[
        ("account", Align::Left),
        ("largest l - pt (ms)", Align::Right),
        ("in window at (s)", Align::Right),
        ("of epsilon (%)", Align::Right),
        ("windows with l > pt", Align::Right),
        ("windows past epsilon", Align::Right),
    ]);
    let of_eps = |ms: f64| {
        if h.epsilon_ms > 0.0 {
            fixed(100.0 * ms / h.epsilon_ms, 1)
        } else {
            "n/a".to_string()
        }
    };
    for a in &h.accounts {
        t.push(vec![
            a.account.clone(),
            fixed(a.max_offset_ms, 3),
            fixed(a.max_t_s, 2),
            of_eps(a.max_offset_ms),
            count(a.windows as u64),
            count(a.over_epsilon as u64),
        ]);
    }
    if let Some(g) = &h.folded {
        t.push(vec![
            format!("{} more accounts", count(g.count as u64)),
            fixed(g.max_offset_ms, 3),
            String::new(),
            of_eps(g.max_offset_ms),
            count(g.windows as u64),
            count(g.over_epsilon as u64),
        ]);
    }
    t
}

/// The bank's tables in page order: title, note, table.
pub(super) fn tables(st: &RunStats, b: &BankStats) -> Vec<(&'static str, String, Table)> {
    let mut out = Vec::new();
    if !b.invariants.is_empty() {
        out.push((
            "Invariants",
            format!(
                "Every invariant the simulator checked, whether or not the scenario asks for it; at most {} violations are kept in words per invariant.",
                crate::stats::bank::MAX_EXAMPLES
            ),
            invariants_table(b),
        ));
    }
    let s = &b.snapshots;
    if s.started > 0 {
        let mut note = "Duration: start to the moment every account's part was in. An abandoned snapshot was given up (a crash during it, or a newer snapshot started first); one still running when the run ended is neither.".to_string();
        if !s.folded.is_empty() {
            note.push_str(&format!(
                " {} snapshots: the first {} are listed, then the later ones that did not complete, and the rest are folded by outcome.",
                count(s.started as u64),
                crate::stats::bank::LISTED_SNAPSHOTS
            ));
        }
        out.push(("Snapshots", note, snapshots_table(b)));
    }
    if b.recoveries.total > 0 {
        let mut note = "What each restart read back from its write-ahead log: the last durable event it resumed from (clock entry:index), the records replayed, the bytes kept and cut (a torn or corrupt tail), why replay stopped, and the balance restored.".to_string();
        if b.recoveries.folded.is_some() {
            note.push_str(&format!(
                " The first {} of {} restarts are listed; the rest are folded.",
                crate::stats::bank::LISTED_RECOVERIES,
                count(b.recoveries.total as u64)
            ));
        }
        out.push(("Recoveries", note, recoveries_table(b)));
    }
    if !b.hlc.accounts.is_empty() {
        let mut note = format!(
            "Per account, the largest l - pt of a window's events (hlc_offsets.csv); accounts not listed never ran ahead of their physical clock. Epsilon, {} ms, is the largest offset between two clocks: l - pt must stay within it.",
            fixed(b.hlc.epsilon_ms, 3)
        );
        if b.hlc.folded.is_some() {
            note.push_str(&format!(
                " The {} accounts that ran furthest ahead are listed; the rest are folded.",
                crate::stats::bank::LISTED_ACCOUNTS
            ));
        }
        out.push(("HLC offsets per account", note, hlc_table(b)));
    }
    let mut transfer_rows = vec![
        row("transfers made", count(b.transfers.made), "transfers"),
        row(
            "transfers credited",
            count(b.transfers.credited),
            "transfers",
        ),
        row(
            "made - credited",
            signed(b.transfers.uncredited),
            "transfers",
        ),
        row(
            "skipped, want of money",
            count(b.transfers.skipped_funds),
            "transfers",
        ),
        row(
            "skipped, window full",
            count(b.transfers.skipped_window),
            "transfers",
        ),
        row(
            "skipped, log refused",
            count(b.transfers.skipped_log),
            "transfers",
        ),
        row(
            "transfers, rate",
            fixed(b.transfers.per_s, 2),
            "transfers/s",
        ),
        row(
            "transfers, slowest window",
            opt_fixed(b.transfers.min_window_per_s, 1),
            "transfers/s",
        ),
        row(
            "money in flight, peak",
            count(b.in_flight.peak_units),
            "units",
        ),
        row(
            "money in flight at end",
            count(b.in_flight.end_units),
            "units",
        ),
    ];
    if b.halts > 0 {
        transfer_rows.push(row("accounts halted", count(b.halts), "accounts"));
    }
    out.push((
        "Transfers",
        format!(
            "Over the {} s run. Made: debited and sent; credited: received and added to a balance. Money in flight: debited and not yet credited, at a window's end.",
            fixed(st.duration_s, 2)
        ),
        figures_table(&transfer_rows),
    ));
    out.push((
        "Messages",
        "Transfers, acknowledgements and markers together. Unaccounted = sent - delivered - lost - to down nodes: still in the network when the run ended.".to_string(),
        figures_table(&message_rows(b)),
    ));
    out.push((
        "Disks",
        "All accounts' disks together. A lying fsync reports success and persists nothing; a crash loses the unsynced bytes, or keeps a torn prefix of them.".to_string(),
        figures_table(&disk_rows(b)),
    ));
    out
}

/// The bank charts the record has data for: snapshots when any was started, the HLC
/// offsets, the HLC counter, money in flight and transfers when there is a timeline.
pub(super) fn plots(dir: &Path, rec: &RunRecord, b: &BankStats) -> Result<Vec<Plot>, ReportError> {
    let mut out = Vec::new();
    if plots::bank::has_snapshots(rec) {
        out.push(plots::bank::snapshots(dir, rec, b.zoom)?);
    }
    if !rec.bank_timeline.is_empty() || !rec.hlc_offsets.is_empty() {
        out.push(plots::bank::hlc_offsets(dir, rec)?);
    }
    if !rec.bank_timeline.is_empty() {
        out.push(plots::bank::hlc_counter(dir, rec)?);
        out.push(plots::bank::in_flight(dir, rec, b.zoom)?);
        out.push(plots::bank::transfers(dir, rec, b.zoom)?);
    }
    Ok(out)
}

/// What a bank chart shows, one sentence, and what hovering it shows (HTML only).
pub(super) fn caption(name: &str) -> super::Caption {
    let (text, hover) = match name {
        "snapshots" => (
            "One lane per snapshot id: a bar from its start to its completion (drawn a few pixels wide at least: most take milliseconds), a cross where an abandoned one was given up, a grey bar for one still running at the end. Faults other than clock settings shaded.",
            "Hover a mark for its times and, for an abandoned one, why.",
        ),
        "hlc_offsets" => (
            "How far each account's hybrid logical clock ran ahead of its physical clock (largest l - pt of each window's events; 0 where the account had none ahead). Clock faults shaded (a skew set at 0 s is labelled, not shaded); dashed line: epsilon, the bound l - pt must keep.",
            "",
        ),
        "hlc_counter" => (
            "The largest HLC logical counter c of each window's events: how many events shared one clock value. Clock faults shaded; dashed line: the largest counter bound the run met.",
            "",
        ),
        "in_flight" => (
            "Money debited by one account and not yet credited by another at the end of each window. Faults other than clock settings shaded.",
            "Hover a window for all of them.",
        ),
        "transfers" => (
            "Transfers made and credited, and messages lost in the network, in each window. Faults other than clock settings shaded.",
            "Hover a window for all of them.",
        ),
        _ => ("", ""),
    };
    super::Caption {
        text: text.to_string(),
        hover,
    }
}

/// The glossary of a bank page.
pub(super) const GLOSSARY: [(&str, &str); 12] = [
    (
        "invariant",
        "a property every run must keep, checked over the whole run: held (compared something, no violation), BROKEN (a violation; the first ones are shown), or not exercised (nothing to compare, e.g. snapshot checks without snapshots).",
    ),
    (
        "causality",
        "the clocks agree with the true happens-before order (program order, send before receive, a restart after the last durable event): vector clocks both ways (e -> f iff VC(e) < VC(f)), Lamport and HLC timestamps one way (e -> f implies L(e) < L(f)); checked on program-order and message pairs and a seeded sample of all pairs.",
    ),
    (
        "hlc_bounds",
        "at every event l >= pt, l - pt <= epsilon (the largest offset between two clocks so far), and c at most the number of events in the last epsilon of time, plus one (Kulkarni et al. 2014, Logical Physical Clocks).",
    ),
    (
        "snapshot_conservation",
        "every completed Chandy-Lamport snapshot's recorded balances plus the transfers recorded in flight in its channels equal the money in the bank (Chandy and Lamport 1985, which assumes FIFO channels).",
    ),
    (
        "consistent_cut",
        "no snapshot records a receive whose send it does not record.",
    ),
    (
        "snapshot_liveness",
        "a snapshot completes within complete_within after the last fault healed.",
    ),
    (
        "durability",
        "every transfer its sender saw acknowledged is in the receiver's final state, and the balances plus the money in flight at the end equal the money the bank started with.",
    ),
    (
        "money in flight",
        "units debited by one account and not yet credited by another; money at the end is the balances plus the money in flight.",
    ),
    (
        "HLC l - pt",
        "how far a hybrid logical clock's l ran ahead of its node's physical clock pt, ms; l follows the fastest clock a message came from.",
    ),
    (
        "epsilon",
        "the largest offset between two nodes' clocks over the run, ms: the bound l - pt must keep.",
    ),
    (
        "HLC counter c",
        "the logical part of an HLC timestamp: events that shared one value of l.",
    ),
    (
        "recovery",
        "a restart reading its write-ahead log back: it replays records until the end or the first torn or corrupt one, cuts the rest, and resumes from the last durable event.",
    ),
];
