//! The bank workload's report section on synthetic records: statistics, tables, charts,
//! report.json, the CLI summary, the two CSV files, and bounded size for a long run.

mod common;

use std::fs;
use std::path::Path;

use common::{bank_run, fault, temp_dir};
use faultline_reports::io::{BANK_TIMELINE_FILE, HLC_OFFSETS_FILE};
use faultline_reports::plots::MAX_TIPS;
use faultline_reports::record::{
    BankWindowRow, HlcOffsetRow, RecoverySummary, RunRecord, SnapshotSummary, BANK_TIMELINE_HEADER,
    HLC_OFFSETS_HEADER,
};
use faultline_reports::stats::bank::{self as bank_stats, InvariantStatus, SnapshotStatus};
use faultline_reports::stats::{self, RunStats};
use faultline_reports::{load_run, rebuild_report, save_run, summary_table, write_run_report};

/// Whether a plain-text table has a line whose cells (split at runs of two or more
/// spaces) are `cells`.
fn has_row(table: &str, cells: &[&str]) -> bool {
    table.lines().any(|line| {
        let got: Vec<&str> = line
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        got == cells
    })
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn read(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn statistics_of_a_bank_run() {
    let rec = bank_run();
    let st = stats::compute(&rec);
    assert!(st.rpc.is_none());
    assert!(st.notes.is_empty(), "{:?}", st.notes);
    let b = st.bank.unwrap();
    assert_eq!(
        (b.total_units, b.final_units, b.units_change),
        (4000, 4000, 0)
    );
    assert_eq!(b.invariants_held, 5);
    assert_eq!(b.invariants_broken, ["snapshot_conservation"]);
    let inv = |name: &str| b.invariants.iter().find(|i| i.name == name).unwrap();
    assert_eq!(inv("snapshot_conservation").status, InvariantStatus::Broken);
    assert!(inv("snapshot_conservation").checked);
    assert!(!inv("snapshot_liveness").checked, "not a scenario check");
    assert_eq!(inv("causality").status, InvariantStatus::Held);

    let s = &b.snapshots;
    assert_eq!(
        (s.started, s.completed, s.abandoned, s.unfinished),
        (4, 2, 1, 1)
    );
    // Durations 12 ms and 750 ms: the median is their mean, the p99 the longest.
    assert!(close(s.median_duration_ms.unwrap(), 381.0));
    assert!(close(s.p99_duration_ms.unwrap(), 750.0));
    assert_eq!(s.longest_id, Some(3));
    assert_eq!(s.listed.len(), 4);
    assert!(s.folded.is_empty());
    assert_eq!(s.listed[1].status, SnapshotStatus::Abandoned);
    assert_eq!(
        s.listed[1].reason.as_deref(),
        Some("acct-3 crashed during it")
    );
    assert_eq!(s.listed[3].status, SnapshotStatus::Unfinished);

    let r = &b.recoveries;
    assert_eq!(
        (r.total, r.records, r.cut_bytes, r.not_clean, r.fresh),
        (1, 121, 44, 1, 0)
    );

    let t = &b.transfers;
    assert_eq!((t.made, t.credited, t.uncredited), (94, 94, 0));
    assert!(close(t.per_s, 9.4));
    assert_eq!(
        (t.min_window_per_s, t.min_window_t_s),
        (Some(4.0), Some(4.0))
    );
    assert_eq!(b.messages.remainder, 1);
    assert_eq!(b.messages.peak_dropped_t_s, Some(5.0));
    assert_eq!(
        (
            b.in_flight.peak_units,
            b.in_flight.peak_t_s,
            b.in_flight.mean_units
        ),
        (40, Some(2.0), Some(4.0))
    );

    let h = &b.hlc;
    assert!(close(h.max_offset_of_epsilon.unwrap(), 0.97));
    assert_eq!(h.accounts_with_offsets, 2);
    assert_eq!(h.windows_over_epsilon, 0);
    let names: Vec<&str> = h.accounts.iter().map(|a| a.account.as_str()).collect();
    assert_eq!(names, ["acct-0", "acct-3"]);
    assert_eq!(
        (
            h.accounts[1].max_offset_ms,
            h.accounts[1].max_t_s,
            h.accounts[1].windows
        ),
        (48.5, 8.0, 2)
    );
    // Window 3 has the largest counter (i % 4 + 1 = 4).
    assert_eq!(h.max_counter_t_s, Some(3.0));
    // The crash 4.005-5 s with a margin, on whole windows.
    let z = b.zoom.unwrap();
    assert_eq!((z.from_s, z.to_s), (2.0, 8.0));
}

#[test]
fn a_bank_report_has_its_section() {
    let dir = temp_dir("report");
    let rec = bank_run();
    let files = write_run_report(&dir, &rec).unwrap();
    // The Markdown embeds PNGs, which cannot be hovered; the HTML's SVGs can.
    let md = read(&dir, "report.md");
    assert!(
        !md.to_lowercase().contains("hover"),
        "report.md speaks of hovering"
    );
    assert!(read(&dir, "report.html").contains("Hover a mark for its times"));
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for chart in [
        "snapshots",
        "hlc_offsets",
        "hlc_counter",
        "in_flight",
        "transfers",
    ] {
        for ext in ["svg", "png"] {
            let want = format!("{chart}.{ext}");
            assert!(names.contains(&want), "missing {want}: {names:?}");
        }
        let svg = read(&dir, &format!("{chart}.svg"));
        roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{chart}.svg: {e}"));
        assert!(svg.contains("time (s)"), "{chart}: x axis");
        assert!(svg.contains("ledger (seed 7)"), "{chart}: title");
        let png = fs::read(dir.join(format!("{chart}.png"))).unwrap();
        assert_eq!(&png[1..4], b"PNG", "{chart}.png");
    }

    // Snapshot marks: one hover region each, per panel (whole run and the zoom 2-8 s,
    // which holds snapshots 1-3).
    let svg = read(&dir, "snapshots.svg");
    assert!(svg.contains("snapshot id") && svg.contains("zoom: 2-8 s"));
    assert_eq!(svg.matches("<title>").count(), 4 + 3);
    assert!(svg.contains(
        "<title>snapshot 3 from acct-1\nstarted 6.000 s\ncompleted 6.750 s, after 750.00 ms\nfaults at its start: clock acct-1 skew 40ms drift 0 ppm</title>"
    ));
    assert!(svg.contains(
        "<title>snapshot 2 from acct-0\nstarted 4.000 s\nabandoned 4.300 s, after 300.00 ms: acct-3 crashed during it\n"
    ));
    assert!(svg.contains("still running when the run ended at 10 s"));
    // The legend is drawn into the PNG too, where nothing can be hovered: it says no
    // "hover" (the SVG's hover regions say why).
    assert!(
        svg.lines()
            .any(|line| line.trim() == "abandoned, when given up"),
        "legend"
    );
    assert!(!svg.contains("(hover for why)"), "legend");

    // HLC offsets: a line per account, acct-1 and acct-2 (never ahead) at 0 ms; only
    // the clock faults, the skew from 0 s labelled and the jump shaded; epsilon.
    let svg = read(&dir, "hlc_offsets.svg");
    for want in [
        "acct-0",
        "acct-1",
        "acct-2",
        "acct-3",
        "epsilon 50 ms (largest offset between two clocks)",
        "clock acct-1 skew 40ms drift 0 ppm (whole run)",
        "clock acct-0 jump 30ms",
        "clock fault",
    ] {
        assert!(svg.contains(want), "hlc_offsets.svg lacks {want:?}");
    }
    assert!(!svg.contains("crash fault"), "only clock faults are shaded");
    assert!(svg.contains(
        "<title>8-9 s\nacct-0: 20.000 ms\nacct-1: 0.000 ms\nacct-2: 0.000 ms\nacct-3: 48.500 ms\nfaults: clock acct-1 skew 40ms drift 0 ppm, clock acct-0 jump 30ms</title>"
    ));
    let svg = read(&dir, "in_flight.svg");
    assert!(svg.contains(
        "<title>2-3 s\nin flight: 40 units\ntransfers made: 10\ntransfers credited: 6\nmessages lost: 0\nfaults: clock acct-1 skew 40ms drift 0 ppm</title>"
    ));
    let svg = read(&dir, "hlc_counter.svg");
    assert!(svg.contains("largest counter bound met (30: events within epsilon, plus one)"));

    let html = read(&dir, "report.html");
    for want in [
        // Verdict: checks and every invariant, then the figures.
        "<div class=\"v\">1 of 2 failed</div>",
        "<div class=\"k\">snapshot_conservation</div><div class=\"v\">BROKEN</div><div class=\"d\">1 violation in 2 compared</div><div class=\"d\">e.g. snapshot 3: recorded balances 3990 + in flight 20 = 4010 units, the bank holds 4000</div>",
        "<div class=\"k\">snapshot_liveness</div><div class=\"v\">held</div><div class=\"d\">0 violations in 1 compared</div><div class=\"d\">not among the scenario's checks</div>",
        "<div class=\"k\">money (units)</div><div class=\"v\">4,000 → 4,000</div>",
        "<div class=\"v long\">2 of 4 completed</div>",
        "<div class=\"d\">1 abandoned, 1 still running at the end</div>",
        "<div class=\"d\">median 381.00 ms, longest 750.00 ms (snapshot 3)</div>",
        "<div class=\"d\">acct-3 at 5.000 s: 121 records replayed, torn record at byte 15488</div>",
        "<div class=\"v\">48.500 ms</div>",
        "<div class=\"d\">largest l - pt; epsilon 50.000 ms: 97.0 % of it</div>",
        // Snapshots table.
        "<td class=\"num\">1</td><td>acct-2</td><td class=\"num\">2.000</td><td class=\"num\">2.012</td><td class=\"num\">12.00</td><td>completed</td>",
        "<td class=\"num\">2</td><td>acct-0</td><td class=\"num\">4.000</td><td class=\"num\">n/a</td><td class=\"num\">n/a</td><td>abandoned: acct-3 crashed during it</td>",
        "<td class=\"num\">4</td><td>acct-0</td><td class=\"num\">9.500</td><td class=\"num\">n/a</td><td class=\"num\">n/a</td><td>still running at the end</td>",
        // Recoveries table.
        "<td class=\"num\">5.000</td><td>acct-3</td><td class=\"num\">4</td><td>3:120</td><td class=\"num\">121</td><td class=\"num\">15,488</td><td class=\"num\">44</td><td>torn record at byte 15488</td><td class=\"num\">1,010</td>",
        // HLC per account.
        "<td>acct-3</td><td class=\"num\">48.500</td><td class=\"num\">8.00</td><td class=\"num\">97.0</td><td class=\"num\">2</td><td class=\"num\">0</td>",
        // Invariants table.
        "<td>snapshot_conservation</td><td class=\"fail\">BROKEN</td><td class=\"num\">2</td><td class=\"num\">1</td><td>yes</td>",
        // Transfers, messages, disks.
        "<td>messages unaccounted at end (in the network)</td><td class=\"num\">+1</td><td>messages</td>",
        "<td>transfers, slowest window</td><td class=\"num\">4.0</td><td>transfers/s</td>",
        "<td>unsynced bytes lost at crashes</td><td class=\"num\">128</td><td>B</td>",
        "<td>fsyncs completed</td><td class=\"num\">290</td><td>fsyncs</td>",
        // The bank's glossary, not the rpc one.
        "<dt>snapshot_conservation</dt>",
    ] {
        assert!(html.contains(want), "report.html lacks {want:?}");
    }
    assert!(!html.contains("<dt>retry amplification</dt>"));
    assert!(!html.contains("no report section for workload bank"));
    let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("no {s}"));
    assert!(at("class=\"verdict wide\"") < at("id=\"charts\""));
    assert!(at("id=\"charts\"") < at("id=\"tables\""));
    assert!(at("<summary>Invariants") < at("<summary>Snapshots"));
    assert!(at("<summary>Snapshots") < at("<summary>Recoveries"));
    assert_eq!(html.matches("<svg").count(), 5, "five inline charts");

    let md = read(&dir, "report.md");
    for want in [
        "- snapshot_conservation [FAIL]: **BROKEN** (1 violation in 2 compared; e.g. snapshot 3:",
        "- money (units) [ok]: **4,000 → 4,000** (conserved",
        "![snapshots](snapshots.png)",
        "## Snapshots",
        "|   2 | acct-0    |       4.000 |           n/a |           n/a | abandoned: acct-3 crashed during it |",
        "## Recoveries",
        "## Messages",
        "## Disks",
        "## Faults\n",
    ] {
        assert!(md.contains(want), "report.md lacks {want:?}\n{md}");
    }

    // report.json: the bank part, the numbers the page shows.
    let json = read(&dir, "report.json");
    let st: RunStats = serde_json::from_str(&json).unwrap();
    let b = st.bank.unwrap();
    assert_eq!(b.snapshots.completed, 2);
    assert_eq!(b.recoveries.listed[0].records, 121);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["bank"]["invariants"][2]["status"], "broken");
    assert_eq!(v["bank"]["snapshots"]["listed"][1]["status"], "abandoned");
    assert_eq!(v["bank"]["hlc"]["accounts"][1]["max_offset_ms"], 48.5);
    assert_eq!(v["rpc"], serde_json::Value::Null);
}

#[test]
fn the_cli_summary_shows_the_bank() {
    let t = summary_table(&bank_run());
    for want in [
        "ledger (seed 7)\n",
        "accounts                                  4  accounts\n",
        "money at start                        4,000  units\n",
        "money at end (balances + in flight)   4,000  units\n",
        "transfers made                           94  transfers\n",
        "snapshots completed                  2 of 4  snapshots\n",
        "snapshots abandoned                       1  snapshots\n",
        "recoveries                                1  restarts\n",
        "invariants held                      5 of 6  invariants exercised\n",
        "invariants broken                         1  snapshot_conservation\n",
        "checks passed                        1 of 2  checks\n",
    ] {
        assert!(t.contains(want), "summary lacks {want:?}:\n{t}");
    }
    // Key figures only: the page's table of all metrics has the rest.
    assert!(!t.contains("fsyncs"), "{t}");
    assert!(!t.contains("availability"), "{t}");
}

#[test]
fn bank_csv_files_round_trip() {
    let dir = temp_dir("csv");
    let mut rec = bank_run();
    // Floats that need all 17 digits, and an account name that needs quoting.
    rec.bank_timeline[3].t_s = 3.000_000_000_000_1;
    rec.hlc_offsets[0].offset_ms = 0.1 + 0.2;
    rec.hlc_offsets[1].account = "acct, \"one\"".to_string();
    save_run(&dir, &rec).unwrap();
    let tl = read(&dir, BANK_TIMELINE_FILE);
    assert_eq!(tl.lines().next(), Some(BANK_TIMELINE_HEADER));
    assert_eq!(tl.lines().count(), 11);
    assert_eq!(tl.lines().nth(3), Some("2.0,10,6,20,0,40,3"));
    let off = read(&dir, HLC_OFFSETS_FILE);
    assert_eq!(off.lines().next(), Some(HLC_OFFSETS_HEADER));
    assert_eq!(off.lines().count(), 1 + 12);
    assert_eq!(off.lines().nth(1), Some("0.0,acct-0,0.30000000000000004"));
    assert!(
        off.contains("\"acct, \"\"one\"\"\""),
        "RFC 4180 quoting: {off}"
    );
    assert!(!dir.join("timeline.csv").exists(), "no rpc timeline");
    let back = load_run(&dir).unwrap();
    assert_eq!(back, rec);
    assert_eq!(
        back.bank_timeline[3].t_s.to_bits(),
        rec.bank_timeline[3].t_s.to_bits()
    );

    // A report rebuilt from the saved files is the report of the record.
    let first = temp_dir("csv-direct");
    write_run_report(&first, &rec).unwrap();
    rebuild_report(&dir).unwrap();
    for name in [
        "report.html",
        "report.md",
        "report.json",
        "snapshots.svg",
        "hlc_offsets.svg",
    ] {
        assert_eq!(read(&first, name), read(&dir, name), "{name}");
    }

    // Empty timelines still have their headers and read back empty.
    let mut empty = rec.clone();
    empty.bank_timeline.clear();
    empty.hlc_offsets.clear();
    let dir2 = temp_dir("csv-empty");
    save_run(&dir2, &empty).unwrap();
    assert_eq!(
        read(&dir2, BANK_TIMELINE_FILE),
        format!("{BANK_TIMELINE_HEADER}\n")
    );
    assert_eq!(
        read(&dir2, HLC_OFFSETS_FILE),
        format!("{HLC_OFFSETS_HEADER}\n")
    );
    assert_eq!(load_run(&dir2).unwrap(), empty);
}

#[test]
fn bad_bank_csv_names_the_file_line_and_column() {
    let dir = temp_dir("csv-bad");
    save_run(&dir, &bank_run()).unwrap();
    let path = dir.join(BANK_TIMELINE_FILE);
    let good = read(&dir, BANK_TIMELINE_FILE);
    let cases = [
        (
            format!("{good}10,1,x,0,0,0,0\n"),
            "bank_timeline.csv:12: column `credits`: `x` is not a count",
        ),
        (
            format!("{good}9,1,1,0,0,0,0\n"),
            "bank_timeline.csv:12: column `t_s`: 9 s does not follow the previous window (9 s)",
        ),
        (
            "t_s,transfers\n0,1\n".to_string(),
            "bank_timeline.csv:1: header lacks column `credits`",
        ),
    ];
    for (text, want) in cases {
        fs::write(&path, text).unwrap();
        let msg = load_run(&dir).unwrap_err().to_string();
        assert!(msg.contains(want), "{msg}\nwanted {want}");
    }
    fs::write(&path, good).unwrap();
    let path = dir.join(HLC_OFFSETS_FILE);
    let good = read(&dir, HLC_OFFSETS_FILE);
    fs::write(&path, format!("{good}9.0,acct-1,-2.5\n")).unwrap();
    let msg = load_run(&dir).unwrap_err().to_string();
    assert!(
        msg.contains(
            "hlc_offsets.csv:14: column `offset_ms`: -2.5 is not an offset at or above 0 ms"
        ),
        "{msg}"
    );
    fs::write(&path, format!("{good}1.0,acct-1,2.5\n")).unwrap();
    let msg = load_run(&dir).unwrap_err().to_string();
    assert!(
        msg.contains("hlc_offsets.csv:14: column `t_s`: 1 s comes before"),
        "{msg}"
    );
}

#[test]
fn a_run_without_snapshots_or_restarts() {
    let dir = temp_dir("quiet");
    let mut rec = bank_run();
    let b = rec.summary.bank.as_mut().unwrap();
    b.snapshots.clear();
    b.recoveries.clear();
    for inv in &mut b.invariants {
        if inv.name.starts_with("snapshot") || inv.name == "consistent_cut" {
            *inv = faultline_reports::record::Invariant {
                name: inv.name.clone(),
                ..Default::default()
            };
        }
    }
    // A durability failure: money lost at the crash.
    b.final_units = 3979;
    b.invariants[5].violations = 1;
    b.invariants[5].examples = vec!["acct-3 acknowledged every frame from acct-0 up to #34, but its final state holds them only up to #1".to_string()];
    let st = stats::compute(&rec);
    let bs = st.bank.as_ref().unwrap();
    assert_eq!(bs.units_change, -21);
    assert_eq!(bs.invariants_held, 2);
    assert_eq!(bs.invariants_broken, ["durability"]);
    let not_exercised = bs
        .invariants
        .iter()
        .filter(|i| i.status == InvariantStatus::NotExercised)
        .count();
    assert_eq!(not_exercised, 3);
    let files = write_run_report(&dir, &rec).unwrap();
    assert!(
        !files.iter().any(|p| p.ends_with("snapshots.svg")),
        "no empty chart"
    );
    let html = read(&dir, "report.html");
    for want in [
        "<div class=\"k\">snapshot_conservation</div><div class=\"v\">not exercised</div><div class=\"d\">nothing to compare in this run</div>",
        "<div class=\"v\">4,000 → 3,979</div><div class=\"d\">21 units lost (balances plus money in flight at the end)</div>",
        "<div class=\"d\">no snapshot was started</div>",
        "<div class=\"d\">no account restarted</div>",
    ] {
        assert!(html.contains(want), "report.html lacks {want:?}");
    }
    assert!(!html.contains("<summary>Snapshots"), "no empty table");
    assert!(!html.contains("<summary>Recoveries"), "no empty table");
    let t = summary_table(&rec);
    for want in [
        ["invariants held", "2 of 3", "invariants exercised"],
        ["invariants broken", "1", "durability"],
        ["snapshots completed", "none taken", "snapshots"],
        ["recoveries", "0", "restarts"],
    ] {
        assert!(has_row(&t, &want), "no row {want:?}:\n{t}");
    }
}

#[test]
fn a_bank_record_that_contradicts_itself_says_so() {
    let mut rec = bank_run();
    rec.summary.bank.as_mut().unwrap().transfers += 5;
    rec.hlc_offsets.push(HlcOffsetRow {
        t_s: 9.0,
        account: "acct-9".to_string(),
        offset_ms: 1.0,
    });
    let notes = stats::compute(&rec).notes;
    assert!(
        notes
            .iter()
            .any(|n| n == "bank_timeline.csv's `transfers` sums to 94 but summary.json's `bank.transfers` is 99"),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("1 row naming accounts the bank's 4 accounts do not include")),
        "{notes:?}"
    );
    // A bank run without its section is one too (and reports its core).
    let mut bare = bank_run();
    bare.summary.bank = None;
    let notes = stats::compute(&bare).notes;
    assert!(
        notes.iter().any(|n| n.contains("no `bank` section")),
        "{notes:?}"
    );
}

#[test]
fn many_accounts_keep_the_offset_chart_readable() {
    let dir = temp_dir("accounts");
    let mut rec = bank_run();
    rec.summary.bank.as_mut().unwrap().accounts = 100;
    rec.hlc_offsets.clear();
    for i in 0..10u32 {
        for a in 0..100u32 {
            rec.hlc_offsets.push(HlcOffsetRow {
                t_s: f64::from(i),
                account: format!("acct-{a}"),
                // acct-99 runs furthest ahead, acct-0 least.
                offset_ms: f64::from(a) * 0.4 + f64::from(i) * 0.01,
            });
        }
    }
    let st = stats::compute(&rec);
    let h = &st.bank.as_ref().unwrap().hlc;
    assert_eq!(h.accounts.len(), bank_stats::LISTED_ACCOUNTS);
    assert_eq!(
        h.accounts[0].account, "acct-80",
        "the furthest ahead, in account order"
    );
    let g = h.folded.as_ref().unwrap();
    assert_eq!((g.count, g.windows), (80, 800));
    assert!(close(g.max_offset_ms, 79.0 * 0.4 + 0.09));
    write_run_report(&dir, &rec).unwrap();
    let svg = read(&dir, "hlc_offsets.svg");
    assert!(
        svg.contains("largest of the other 93 accounts"),
        "one line for the rest"
    );
    // Seven accounts of their own: 93..99.
    assert!(svg.contains("acct-93") && svg.contains("acct-99") && !svg.contains(">acct-92<"));
    let html = read(&dir, "report.html");
    assert!(html.contains("<td>80 more accounts</td>"));
}

/// A tiny deterministic generator (64-bit LCG) for the long run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
fn a_long_run_with_many_snapshots_makes_a_bounded_report() {
    // An hour at 0.1 s windows, 50 accounts, a snapshot every 0.25 s (14,400), 300
    // restarts and 1,000 crashes and partitions.
    const WINDOWS: u32 = 36_000;
    const ACCOUNTS: u32 = 50;
    let w = 0.1;
    let run_s = f64::from(WINDOWS) * w;
    let mut rng = Lcg(5);
    let mut rec = bank_run();
    rec.summary.simulated_s = run_s;
    rec.summary.window_s = w;
    rec.summary.faults = (0..1000)
        .map(|i| {
            let a = rng.next() * run_s;
            let kind = if i % 2 == 0 { "crash" } else { "partition" };
            fault(
                kind,
                &format!("acct-{}", i % ACCOUNTS),
                a,
                Some((a + 5.0).min(run_s)),
            )
        })
        .collect();
    rec.bank_timeline = (0..WINDOWS)
        .map(|i| BankWindowRow {
            t_s: f64::from(i) * w,
            transfers: 5,
            credits: 5,
            delivered: 10,
            dropped: u64::from(i % 97 == 0),
            in_flight_units: (rng.next() * 100.0) as u64,
            hlc_max_counter: (rng.next() * 10.0) as u64,
        })
        .collect();
    rec.hlc_offsets = (0..WINDOWS)
        .flat_map(|i| {
            (0..ACCOUNTS).step_by(2).map(move |a| HlcOffsetRow {
                t_s: f64::from(i) * w,
                account: format!("acct-{a}"),
                offset_ms: f64::from(a) + f64::from(i % 10),
            })
        })
        .collect();
    let b = rec.summary.bank.as_mut().unwrap();
    b.accounts = ACCOUNTS;
    b.transfers = 5 * u64::from(WINDOWS);
    b.credits = b.transfers;
    b.messages_delivered = 10 * u64::from(WINDOWS);
    b.messages_dropped = rec.bank_timeline.iter().map(|r| r.dropped).sum();
    b.snapshots = (1..=14_400u32)
        .map(|id| {
            let start = f64::from(id) * 0.25;
            let (completed_s, abandoned) = match id % 50 {
                0 => (None, Some(format!("superseded by snapshot {}", id + 1))),
                _ => (Some(start + 0.01 + rng.next() * 0.2), None),
            };
            SnapshotSummary {
                id,
                initiator: format!("acct-{}", id % ACCOUNTS),
                started_s: start,
                completed_s,
                abandoned,
                abandoned_s: None,
            }
        })
        .collect();
    b.recoveries = (0..300)
        .map(|i| RecoverySummary {
            at_s: f64::from(i) * 12.0,
            account: format!("acct-{}", i % ACCOUNTS),
            records: 100,
            valid_bytes: 12_800,
            stop: "clean".to_string(),
            ..RecoverySummary::default()
        })
        .collect();

    let st = stats::compute(&rec);
    assert!(st.notes.is_empty(), "{:?}", st.notes);
    let bs = st.bank.as_ref().unwrap();
    let s = &bs.snapshots;
    assert_eq!((s.started, s.completed, s.abandoned), (14_400, 14_112, 288));
    assert_eq!(
        s.listed.len(),
        2 * bank_stats::LISTED_SNAPSHOTS,
        "the first 20, and the next 20 that did not complete"
    );
    assert_eq!(
        s.listed.len() + s.folded.iter().map(|g| g.count).sum::<usize>(),
        14_400,
        "nothing lost in the folding"
    );
    assert_eq!(bs.recoveries.listed.len(), bank_stats::LISTED_RECOVERIES);
    assert_eq!(bs.recoveries.folded.as_ref().unwrap().count, 280);
    assert_eq!(
        bs.hlc.accounts.len(),
        25,
        "25 accounts ran ahead: all listed"
    );

    let dir = temp_dir("long");
    write_run_report(&dir, &rec).unwrap();
    let size = |name: &str| fs::metadata(dir.join(name)).unwrap().len();
    // Bounds in bytes, each well above what the run needs and far below one row per
    // snapshot or window.
    assert!(
        size("report.md") < 100_000,
        "report.md {} B",
        size("report.md")
    );
    assert!(
        size("report.json") < 200_000,
        "report.json {} B",
        size("report.json")
    );
    assert!(
        size("report.html") < 3_000_000,
        "report.html {} B",
        size("report.html")
    );
    for name in [
        "snapshots",
        "hlc_offsets",
        "hlc_counter",
        "in_flight",
        "transfers",
    ] {
        let svg = format!("{name}.svg");
        assert!(size(&svg) < 800_000, "{svg} {} B", size(&svg));
        let text = read(&dir, &svg);
        assert!(
            text.matches("<title>").count() <= 2 * MAX_TIPS,
            "{svg}: {} tooltips",
            text.matches("<title>").count()
        );
    }
    // Snapshots past MAX_TIPS are merged into runs of one outcome.
    let svg = read(&dir, "snapshots.svg");
    assert!(
        svg.contains("<title>snapshots 1-180: 177 completed\nstarted 0.250-"),
        "merged marks"
    );
    // Records without `abandoned_s` put the crosses at the starts.
    assert!(svg.contains("<title>snapshots 1-180: 3 abandoned\nabandoned 12.500-37.500 s</title>"));
}

#[test]
fn a_record_of_the_old_shape_without_bank_files_is_an_error() {
    let dir = temp_dir("missing-csv");
    let rec: RunRecord = bank_run();
    save_run(&dir, &rec).unwrap();
    fs::remove_file(dir.join(HLC_OFFSETS_FILE)).unwrap();
    let msg = load_run(&dir).unwrap_err().to_string();
    assert!(msg.contains("hlc_offsets.csv"), "{msg}");
}

#[test]
fn offsets_without_a_timeline_still_chart() {
    let dir = temp_dir("no-timeline");
    let mut rec = bank_run();
    rec.bank_timeline.clear();
    // A row far past the run: left out of the chart, not a reason to allocate for it.
    rec.hlc_offsets.push(HlcOffsetRow {
        t_s: 1e12,
        account: "acct-0".to_string(),
        offset_ms: 1.0,
    });
    let files = write_run_report(&dir, &rec).unwrap();
    let has = |name: &str| files.iter().any(|p| p.ends_with(name));
    assert!(has("hlc_offsets.svg") && has("snapshots.svg"));
    assert!(!has("hlc_counter.svg") && !has("in_flight.svg") && !has("transfers.svg"));
    let svg = read(&dir, "hlc_offsets.svg");
    assert!(svg.contains("<title>8-9 s\nacct-0: 20.000 ms"), "{svg}");
}
