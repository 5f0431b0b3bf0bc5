//! The ping kind, written outside the crate through the public interface alone, shared
//! by the tests that need a kind of their own: a pinger sends a ping every `every_ms`
//! to a ponger, which answers; the kernel's network carries both ways, and the run's
//! fault plan cuts and crashes them. It implements the kernel's `Workload` and the
//! registry's `Kind` (scenario keys, resolve step, record, figures, series, tables,
//! checks).
#![allow(dead_code)]

use std::io::{self, Write};

use faultline::engine::driver;
use faultline::engine::kernel::Kernel;
use faultline::engine::network::Route;
use faultline::engine::nodes::{Family, NodeFaults, NodeId};
use faultline::engine::queue::Nanos;
use faultline::engine::trace::{Record, TraceEvent};
use faultline::engine::workload::{NodeChange, Workload};
use faultline::engine::EngineError;
use faultline::format::check::{BoundKind, CheckSpec, Direction};
use faultline::format::{Issue, RunInfo};
use faultline::record::{core_summary, Invocation};
use faultline::workload::{Context, EventEstimate, Kind, MemoryEstimate, NumberLimit, Resolution};
use faultline_reports::figures::{
    Aggregate, Better, FigureSpec, Quantity, RecordTable, SeriesSpec, SeriesTable,
};
use faultline_reports::record::RunRecord;
use serde::{Deserialize, Serialize};

pub const MS: Nanos = 1_000_000;
pub const PING_EVERY_NS: Nanos = 100 * MS;

#[derive(Clone, Copy, Debug)]
pub enum PingEvent {
    /// Time for the pinger's next ping.
    Tick,
    /// A ping reaches the ponger.
    Ping { seq: u64 },
    /// A pong reaches the pinger.
    Pong { seq: u64 },
}

#[derive(Clone, Copy, Debug)]
pub enum PingTrace {
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
pub const PINGER: NodeId = 0;
pub const PONGER: NodeId = 1;

#[derive(Debug, Default)]
pub struct Ping {
    pub ponger_up: bool,
    pub sent: u64,
    /// (ping number, time its pong came back in ns).
    pub answered: Vec<(u64, Nanos)>,
    pub lost: u64,
    pub crashes: u32,
    pub every_ns: Nanos,
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
pub struct PingConfig {
    pub every_ns: Nanos,
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

pub fn families() -> Vec<Family> {
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

/// The ping workload's scenario keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PingSpec {
    /// Milliseconds between two pings.
    pub every_ms: u64,
}

pub struct PingKind;

pub const PING_FIGURES: &[FigureSpec] = &[
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

pub const PING_SERIES: &[SeriesSpec] = &[SeriesSpec {
    name: "pongs_per_s",
    label: "pongs received",
    unit: "pongs/s",
    quantity: Quantity::Rate,
    about: "Pongs received in the window, per second.",
}];

pub const PING_CHECKS: &[CheckSpec] = &[CheckSpec {
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
    const NUMBER_LIMITS: &'static [NumberLimit] = &[NumberLimit {
        path: "workload.every_ms",
        min: 1,
        max: 3_600_000,
        what: "ms",
    }];
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
