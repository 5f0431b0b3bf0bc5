//! A workload written outside the crate, through the public interface alone: a pinger
//! sends a ping every 100 ms to a ponger, which answers; the kernel's network carries
//! both ways, with a partition and a crash from the run's fault plan. It implements the
//! kernel's `Workload` and the registry's `Kind` (scenario keys, resolve step, record,
//! figures, series, tables, checks), and its records go through run reports,
//! comparisons and sweeps that have never heard of it. Scenario files need the kind in
//! the registry, a line inside the crate (see `docs/adding-a-workload.md`).

use std::io::{self, Write};

use faultline::engine::driver;
use faultline::engine::kernel::Kernel;
use faultline::engine::network::Route;
use faultline::engine::nodes::{Family, NodeFaults, NodeId};
use faultline::engine::plan::{Fault, NetFaultPlan, NetworkPlan, Plan, PlannedFault, MAX_EVENTS};
use faultline::engine::queue::Nanos;
use faultline::engine::sampler::Sampler;
use faultline::engine::selector::Selector;
use faultline::engine::trace::{Record, TraceEvent};
use faultline::engine::workload::{NodeChange, Workload};
use faultline::engine::EngineError;

mod common;

const MS: Nanos = 1_000_000;
const PING_EVERY_NS: Nanos = 100 * MS;

#[derive(Clone, Copy, Debug)]
enum PingEvent {
    /// Time for the pinger's next ping.
    Tick,
    /// A ping reaches the ponger.
    Ping { seq: u64 },
    /// A pong reaches the pinger.
    Pong { seq: u64 },
}

#[derive(Clone, Copy, Debug)]
enum PingTrace {
    Sent,
    Answered,
    Lost,
}

impl TraceEvent for PingTrace {
    fn code(&self) -> u8 {
        match self {
            PingTrace::Sent => 1,
            PingTrace::Answered => 2,
            PingTrace::Lost => 3,
        }
    }
    fn detail(&self) -> u64 {
        0
    }
    fn name(&self) -> &'static str {
        match self {
            PingTrace::Sent => "sent",
            PingTrace::Answered => "answered",
            PingTrace::Lost => "lost",
        }
    }
    fn write_fields(&self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }
}

/// The pinger is node 0, the ponger node 1.
const PINGER: NodeId = 0;
const PONGER: NodeId = 1;

#[derive(Debug, Default)]
struct Ping {
    ponger_up: bool,
    sent: u64,
    /// (ping number, time its pong came back in ns).
    answered: Vec<(u64, Nanos)>,
    lost: u64,
    crashes: u32,
    every_ns: Nanos,
}

impl Ping {
    fn send(
        &mut self,
        kernel: &mut Kernel<PingEvent>,
        now_ns: Nanos,
        from: NodeId,
        to: NodeId,
        event: PingEvent,
        seq: u64,
    ) -> Result<(), EngineError> {
        match kernel.route(from, to) {
            Route::Deliver { latency_ns } => kernel.schedule(now_ns + latency_ns, event),
            Route::Drop(_) => {
                self.lost += 1;
                kernel.trace(
                    Record::at(now_ns, PingTrace::Lost)
                        .node(from)
                        .peer(to)
                        .id(seq),
                )
            }
        }
    }
}

/// The ping workload's resolved config.
#[derive(Clone, Debug)]
struct PingConfig {
    every_ns: Nanos,
}

impl Workload for Ping {
    type Config = PingConfig;
    type Event = PingEvent;
    type Output = Ping;

    fn start(config: &PingConfig, kernel: &mut Kernel<PingEvent>) -> Result<Self, EngineError> {
        kernel.schedule(0, PingEvent::Tick)?;
        Ok(Ping {
            ponger_up: true,
            every_ns: config.every_ns,
            ..Ping::default()
        })
    }

    fn handle(
        &mut self,
        kernel: &mut Kernel<PingEvent>,
        now_ns: Nanos,
        event: &PingEvent,
    ) -> Result<(), EngineError> {
        match *event {
            PingEvent::Tick => {
                let seq = self.sent;
                self.sent += 1;
                kernel.trace(Record::at(now_ns, PingTrace::Sent).node(PINGER).id(seq))?;
                self.send(kernel, now_ns, PINGER, PONGER, PingEvent::Ping { seq }, seq)?;
                kernel.schedule(now_ns + self.every_ns, PingEvent::Tick)
            }
            PingEvent::Ping { seq } if self.ponger_up => {
                self.send(kernel, now_ns, PONGER, PINGER, PingEvent::Pong { seq }, seq)
            }
            PingEvent::Ping { .. } => Ok(()), // a crashed ponger answers nothing
            PingEvent::Pong { seq } => {
                self.answered.push((seq, now_ns));
                kernel.trace(Record::at(now_ns, PingTrace::Answered).node(PINGER).id(seq))
            }
        }
    }

    fn node_change(
        &mut self,
        _kernel: &mut Kernel<PingEvent>,
        _now_ns: Nanos,
        node: NodeId,
        change: NodeChange,
    ) -> Result<bool, EngineError> {
        assert_eq!(node, PONGER, "only the ponger takes node faults");
        let before = self.ponger_up;
        match change {
            NodeChange::Crash => {
                self.ponger_up = false;
                self.crashes += 1;
            }
            NodeChange::Restart => self.ponger_up = true,
            other => panic!("unexpected {other:?}"),
        }
        Ok(before != self.ponger_up)
    }

    fn finish(self, _kernel: &Kernel<PingEvent>) -> Result<Ping, EngineError> {
        Ok(self)
    }
}

fn families() -> Vec<Family> {
    vec![
        Family {
            prefix: "pinger-",
            count: 1,
            hosted: false,
            faults: NodeFaults::NONE,
        },
        Family {
            prefix: "ponger-",
            count: 1,
            hosted: true,
            faults: NodeFaults::ALL,
        },
    ]
}

fn run(seed: u64) -> driver::Finished<Ping> {
    run_every(seed, PING_EVERY_NS)
}

fn run_every(seed: u64, every_ns: Nanos) -> driver::Finished<Ping> {
    // madsim wants a fresh thread per runtime, as the crate's own runner does.
    #[allow(clippy::disallowed_methods)]
    let worker = std::thread::spawn(move || {
        let nodes = |text: &str| Selector::parse(text).expect("a valid selector");
        let plan = Plan {
            families: families(),
            network: NetworkPlan {
                latency: Sampler::Uniform(2 * MS, 4 * MS),
                drop_rate: 0.0,
                links: Vec::new(),
            },
            faults: vec![
                PlannedFault {
                    at_ns: 2_000 * MS,
                    fault: Fault::Net {
                        fault: NetFaultPlan::Groups(vec![
                            vec![nodes("pinger-*")],
                            vec![nodes("ponger-*")],
                        ]),
                        for_ns: 2_000 * MS,
                        stream_key: 1,
                    },
                    label: "pinger-* | ponger-*".to_owned(),
                },
                PlannedFault {
                    at_ns: 6_000 * MS,
                    fault: Fault::Crash {
                        nodes: nodes("ponger-0"),
                        restart_after_ns: Some(1_000 * MS),
                    },
                    label: "ponger-0".to_owned(),
                },
            ],
            random_faults: Vec::new(),
            duration_ns: 10_000 * MS,
            window_ns: 1_000 * MS,
            max_events: MAX_EVENTS,
        };
        driver::run::<Ping>(&PingConfig { every_ns }, &plan, seed, None)
    });
    worker
        .join()
        .expect("the run does not panic")
        .expect("the run completes")
}

#[test]
fn a_workload_outside_the_crate_runs_through_the_kernel_with_its_faults() {
    let finished = run(3);
    let ping = &finished.workload;
    // One ping per 100 ms over 10 s (the tick at 10 s itself is the run's last event).
    assert_eq!(ping.sent, 101);
    // Pings into the partition [2 s, 4 s) are lost on the way out: 20 of them.
    assert_eq!(ping.lost, 20);
    assert_eq!(ping.crashes, 1);
    // Every pong comes back one round trip (two draws of 2-4 ms) after its ping, and
    // none while cut off or crashed.
    for &(seq, at_ns) in &ping.answered {
        let sent_ns = seq * PING_EVERY_NS;
        assert!(
            (4 * MS..=8 * MS).contains(&(at_ns - sent_ns)),
            "ping {seq} at {at_ns} ns"
        );
        assert!(
            !(2_000 * MS..4_000 * MS).contains(&sent_ns),
            "through the partition"
        );
        assert!(
            !(6_000 * MS..7_000 * MS).contains(&sent_ns),
            "from a crashed ponger"
        );
    }
    // 101 pings, 20 lost in the partition, 10 unanswered while crashed, and the last
    // (at 10 s) has no time to come back.
    assert_eq!(ping.answered.len(), 101 - 20 - 10 - 1);
    assert_eq!(finished.core.faults.len(), 2);
}

#[test]
fn the_same_seed_gives_the_same_trace() {
    let (a, b) = (run(5), run(5));
    assert_eq!(a.core.trace_hash, b.core.trace_hash);
    assert_eq!(a.core.events, b.core.events);
    // Every trace record: pings sent, answered and lost, and the four fault actions
    // (partition start and end, crash, restart).
    let ping = &a.workload;
    assert_eq!(
        a.core.events,
        ping.sent + ping.answered.len() as u64 + ping.lost + 4
    );
    assert_ne!(
        run(6).core.trace_hash,
        a.core.trace_hash,
        "another seed, another trace"
    );
}

// --- The same workload as a registry kind, with its figures ------------------------

use faultline::format::check::{Bound, BoundKind, Check, CheckSpec, Direction};
use faultline::format::{Issue, RunInfo};
use faultline::record::{core_summary, Invocation};
use faultline::workload::{
    record_of, Context, EventEstimate, Kind, MemoryEstimate, NumberLimit, Resolution,
};
use faultline_reports::figures::{
    self, Aggregate, Better, FigureSpec, Quantity, RecordTable, SeriesSpec, SeriesTable,
};
use faultline_reports::record::RunRecord;
use serde::{Deserialize, Serialize};

/// The ping workload's scenario keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct PingSpec {
    /// Milliseconds between two pings.
    every_ms: u64,
}

struct PingKind;

const PING_FIGURES: &[FigureSpec] = &[
    FigureSpec {
        name: "answered",
        label: "pings answered",
        unit: "fraction",
        better: Better::Higher,
        quantity: Quantity::Ratio,
        aggregate: Aggregate::Mean,
        headline: true,
        about: "Pongs received / pings sent.",
    },
    FigureSpec {
        name: "lost",
        label: "pings lost",
        unit: "pings",
        better: Better::Lower,
        quantity: Quantity::Count,
        aggregate: Aggregate::Sum,
        headline: true,
        about: "Pings the network dropped on the way out.",
    },
    FigureSpec {
        name: "mean_rtt_ms",
        label: "mean round trip",
        unit: "ms",
        better: Better::Lower,
        quantity: Quantity::Duration,
        aggregate: Aggregate::Mean,
        headline: false,
        about: "Mean time from a ping to its pong.",
    },
];

const PING_SERIES: &[SeriesSpec] = &[SeriesSpec {
    name: "pongs_per_s",
    label: "pongs received",
    unit: "pongs/s",
    quantity: Quantity::Rate,
    about: "Pongs received in the window, per second.",
}];

const PING_CHECKS: &[CheckSpec] = &[CheckSpec {
    name: "answered_at_least",
    metric: "answered",
    bound: BoundKind::Fraction,
    direction: Direction::AtLeast,
    describe: |measured, bound| {
        format!(
            "{:.1}% answered vs at least {:.1}%",
            measured * 100.0,
            bound * 100.0
        )
    },
}];

impl Kind for PingKind {
    const NAME: &'static str = "ping";
    type Spec = PingSpec;
    type World = Ping;
    const CHECKS: &'static [CheckSpec] = PING_CHECKS;
    const NUMBER_LIMITS: &'static [NumberLimit] = &[];
    const FIGURES: &'static [FigureSpec] = PING_FIGURES;
    const SERIES: &'static [SeriesSpec] = PING_SERIES;
    const TRACE_KINDS: &'static [&'static str] = &["sent", "answered", "lost"];

    fn resolve(spec: &PingSpec, scenario: &Context<'_>) -> Result<Resolution<PingConfig>, Issue> {
        if spec.every_ms == 0 {
            return Err(Issue {
                path: "workload.every_ms".to_owned(),
                message: "a ping every 0 ms never ends".to_owned(),
            });
        }
        let every_ns = spec.every_ms * MS;
        let pings = scenario.duration.as_nanos() as f64 / every_ns as f64;
        Ok(Resolution {
            config: PingConfig { every_ns },
            families: families(),
            events: EventEstimate {
                events: pings * 3.0,
                reckoning: format!("{pings} pings x 3 events"),
                advice: "raise workload.every_ms".to_owned(),
            },
            memory: MemoryEstimate::default(),
        })
    }

    fn record(
        run: &RunInfo,
        _config: &PingConfig,
        finished: &driver::Finished<Ping>,
        invocation: &Invocation,
    ) -> RunRecord {
        let ping = &finished.workload;
        let rtts_ms: Vec<f64> = ping
            .answered
            .iter()
            .map(|&(seq, at_ns)| (at_ns - seq * ping.every_ns) as f64 / MS as f64)
            .collect();
        let mut summary = core_summary("ping", &finished.core, run, invocation);
        summary.sections.insert(
            "ping".to_owned(),
            serde_json::json!({
                "sent": ping.sent,
                "answered": ping.answered.len(),
                "lost": ping.lost,
                "crashes": ping.crashes,
                "mean_rtt_ms": rtts_ms.iter().sum::<f64>() / rtts_ms.len().max(1) as f64,
                // Pong arrival times, for the series.
                "answered_at_ns": ping.answered.iter().map(|&(_, at)| at).collect::<Vec<_>>(),
            }),
        );
        RunRecord {
            summary,
            ..RunRecord::default()
        }
    }

    fn figures(record: &RunRecord) -> Vec<Option<f64>> {
        let section = &record.summary.sections["ping"];
        let sent = section["sent"].as_f64().expect("sent");
        let answered = section["answered"].as_f64().expect("answered");
        vec![
            Some(answered / sent.max(1.0)),
            section["lost"].as_f64(),
            section["mean_rtt_ms"].as_f64(),
        ]
    }

    fn series(record: &RunRecord) -> SeriesTable {
        let window_s = record.summary.window_s;
        let windows = (record.summary.simulated_s / window_s).ceil() as usize;
        let mut pongs = vec![0.0; windows];
        for at in record.summary.sections["ping"]["answered_at_ns"]
            .as_array()
            .expect("arrival times")
        {
            let at_s = at.as_u64().expect("ns") as f64 / 1e9;
            pongs[((at_s / window_s) as usize).min(windows - 1)] += 1.0 / window_s;
        }
        SeriesTable {
            t_s: (0..windows).map(|w| w as f64 * window_s).collect(),
            columns: vec![pongs],
        }
    }

    fn tables(record: &RunRecord) -> Vec<RecordTable> {
        let section = &record.summary.sections["ping"];
        let mut table = RecordTable::new(
            "pings",
            "Pings",
            "How the pings ended.",
            &["outcome", "pings"],
        );
        for outcome in ["sent", "answered", "lost"] {
            table.push(vec![outcome.to_owned(), section[outcome].to_string()]);
        }
        vec![table]
    }
}

/// What the resolve step would keep of a scenario that checks `answered_at_least 0.7`.
fn run_info(seed: u64) -> RunInfo {
    RunInfo {
        name: "ping-partition".to_owned(),
        description: "A ping every 100 ms through a partition and a crash.".to_owned(),
        seed,
        slo: 0.99,
        checks: vec![Check {
            name: "answered_at_least".to_owned(),
            bound: Bound::Number(0.7),
        }],
        spec: serde_json::json!({"name": "ping-partition", "workload": {"kind": "ping", "every_ms": 100}}),
    }
}

/// A run of the ping kind at `seed`, pinging every `every_ms`, as its record.
fn ping_record(seed: u64, every_ms: u64) -> RunRecord {
    let finished = run_every(seed, every_ms * MS);
    let invocation = Invocation {
        scenario_path: "ping.json".to_owned(),
        wall_s: 0.0,
        reproduce: format!("faultline run ping.json --seed {seed}"),
    };
    record_of::<PingKind>(
        &run_info(seed),
        &PingConfig {
            every_ns: every_ms * MS,
        },
        &finished,
        &invocation,
    )
}

#[test]
fn an_outside_kind_declares_its_figures_and_its_checks_read_them() {
    let record = ping_record(3, 100);
    let summary = &record.summary;
    assert_eq!(summary.workload, "ping");
    // 101 pings, 70 answered (see the test above): 69.3 %, under the check's 70 %.
    let answered = figures::value(&summary.figures, "answered").expect("measured");
    assert!((answered - 70.0 / 101.0).abs() < 1e-12, "{answered}");
    assert_eq!(figures::value(&summary.figures, "lost"), Some(20.0));
    let rtt = figures::value(&summary.figures, "mean_rtt_ms").expect("measured");
    assert!((4.0..=8.0).contains(&rtt), "{rtt}");
    let check = &summary.checks[0];
    assert!(!check.passed, "{check:?}");
    assert_eq!(check.figure.as_deref(), Some("answered"));
    assert_eq!(check.threshold, Some(0.7));
    assert!(check.detail.contains("69.3% answered"), "{}", check.detail);
    // The series counts every pong once.
    let pongs: f64 = record.series.columns[0].iter().sum::<f64>() * summary.window_s;
    assert!((pongs - 70.0).abs() < 1e-9, "{pongs}");
    assert_eq!(summary.tables[0].rows[1], ["answered", "70"]);
}

#[test]
fn an_outside_kinds_record_round_trips_and_gets_a_report() {
    let record = ping_record(3, 100);
    let dir = common::temp_dir("outside-kind-report");
    faultline_reports::save_run(&dir, &record).expect("saved");
    let back = faultline_reports::load_run(&dir).expect("read back");
    assert_eq!(back.summary, record.summary);
    assert_eq!(back.series, record.series);
    assert_eq!(back.summary.sections["ping"]["lost"], 20);
    faultline_reports::write_run_report(&dir, &back).expect("a report");
    let page = std::fs::read_to_string(dir.join("report.md")).expect("report.md");
    assert!(page.contains("answered_at_least 0.7"), "{page}");
}

#[test]
fn an_outside_kind_is_compared_by_its_own_figures() {
    let variants: Vec<(String, RunRecord)> = [100, 250]
        .iter()
        .map(|&every_ms| (format!("{every_ms}ms"), ping_record(3, every_ms)))
        .collect();
    let dir = common::temp_dir("outside-kind-compare");
    let dirs: Vec<String> = variants.iter().map(|(label, _)| label.clone()).collect();
    faultline_reports::write_comparison_in(&dir, "ping", "workload.every_ms", &variants, &dirs)
        .expect("a comparison");
    let page = std::fs::read_to_string(dir.join("compare.md")).expect("compare.md");
    for (label, record) in &variants {
        let lost = figures::value(&record.summary.figures, "lost").expect("lost");
        assert!(page.contains(label.as_str()), "{page}");
        // Each variant's own number of lost pings is in its column of the figures.
        assert!(
            page.contains(&format!("{lost:.0}")),
            "{lost} not in\n{page}"
        );
    }
    assert!(page.contains("pings answered"), "{page}");
    // Its glossary is its own: built from its declarations, no rpc term.
    assert!(page.contains("Pongs received / pings sent."), "{page}");
    assert!(!page.contains("amplification"), "{page}");
}

#[test]
fn an_outside_kind_is_swept_by_its_own_figures() {
    use faultline::sweep::record::{totals, SweepFile, TimingFile, FORMAT};
    use faultline::sweep::seeds::SeedRange;
    use faultline_reports::figures::FigureInfo;

    let seeds = SeedRange { start: 1, end: 9 };
    let records: Vec<RunRecord> = seeds
        .seeds(None)
        .into_iter()
        .map(|seed| ping_record(seed, 100))
        .collect();
    let declared: Vec<FigureInfo> = PING_FIGURES.iter().map(FigureInfo::from).collect();
    let runs: Vec<_> = records.iter().map(faultline::sweep::summarize).collect();
    let file = SweepFile {
        format: FORMAT.to_owned(),
        scenario: "ping-partition".to_owned(),
        scenario_path: "ping.json".to_owned(),
        scenario_digest: "0".repeat(64),
        workload: "ping".to_owned(),
        totals: totals(&declared, &runs),
        figures: declared,
        set: Vec::new(),
        seeds,
        shard: None,
        runs,
    };
    file.check().expect("a valid sweep record");
    // Lost pings are summed over the seeds, by their declaration.
    let lost: f64 = records
        .iter()
        .map(|record| figures::value(&record.summary.figures, "lost").expect("lost"))
        .sum();
    let total = file
        .totals
        .figures
        .iter()
        .find(|figure| figure.name == "lost")
        .expect("a total per figure");
    assert_eq!(total.aggregate, Some(lost));
    let dir = common::temp_dir("outside-kind-sweep");
    let timing = TimingFile {
        parts: Vec::new(),
        runs: Vec::new(),
    };
    faultline::sweep::report::write(&dir, &file, &timing, &[]).expect("a sweep report");
    let page = std::fs::read_to_string(dir.join("sweep.md")).expect("sweep.md");
    assert!(
        page.contains(&format!("| pings lost | pings | sum {lost:.0} |")),
        "{page}"
    );
    // Its headline figure's histogram, with the check's bound drawn on it.
    let svg = std::fs::read_to_string(dir.join("answered-hist.svg")).expect("a histogram");
    assert!(svg.contains("answered_at_least 0.7"), "{svg}");
}
