//! A service written outside the crate on the public service host
//! (`faultline::engine::service`): three peers, each an `async fn main(ctx)` that
//! recovers a counter from its disk, ticks on a timer, makes each tick durable and then
//! tells a random other peer. The tests hold the host to its guarantees: a crash drops
//! the process and voids its timers, a restart runs `main` again from the disk, what
//! reaches a down node is counted and traced, a panic names its node and time, a
//! process that never waits is an error, and the same seed replays the same run.

use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;

use faultline::engine::disk::DiskConfig;
use faultline::engine::driver::{self, Finished};
use faultline::engine::nodes::{Family, NodeFaults, NodeId};
use faultline::engine::plan::{Fault, NetworkPlan, Plan, PlannedFault, MAX_EVENTS};
use faultline::engine::process::{Ctx, Incoming, Init};
use faultline::engine::queue::Nanos;
use faultline::engine::sampler::Sampler;
use faultline::engine::selector::Selector;
use faultline::engine::service::{main_task, Finishing, HostStats, Hosting, Service, ServiceHost};
use faultline::engine::EngineError;
use rand::Rng;

const MS: Nanos = 1_000_000;
const TICK_NS: Nanos = 100 * MS;
const PEERS: u32 = 3;
const COUNT_FILE: &str = "count";

#[derive(Clone, Debug, Default)]
struct Config {
    /// Peer 1 panics at its first tick from this time on.
    panic_after_ns: Option<Nanos>,
    /// Peer 2 spins without waiting at its first tick.
    spin: bool,
}

/// What a peer reports.
#[derive(Debug)]
enum Report {
    Booted {
        incarnation: u32,
        recovered: u64,
    },
    Tick,
    /// A timer set by another incarnation reached this one (the host must never).
    StaleTimer,
    Received,
}

#[derive(Debug, Default)]
struct Gossip {
    boots: Vec<Vec<(u32, u64)>>,
    ticks: u64,
    stale_timers: u64,
    received: u64,
}

#[derive(Debug)]
struct Output {
    boots: Vec<Vec<(u32, u64)>>,
    ticks: u64,
    stale_timers: u64,
    received: u64,
    stats: HostStats,
}

async fn peer(ctx: Ctx<u64, Report>, config: Config) {
    let recovered = {
        let count = ctx.file(COUNT_FILE).expect("a peer has a disk");
        count.len().unwrap_or(0) / 8
    };
    let incarnation = ctx.incarnation();
    ctx.report(Report::Booted {
        incarnation,
        recovered,
    });
    // The token names the incarnation, so a stale timer would show.
    ctx.set_timer(ctx.now() + TICK_NS, u64::from(incarnation));
    loop {
        match ctx.recv().await {
            Incoming::Timer { token } => {
                if token != u64::from(ctx.incarnation()) {
                    ctx.report(Report::StaleTimer);
                }
                if ctx.node() == 1 && config.panic_after_ns.is_some_and(|at| ctx.now() >= at) {
                    panic!("boom: peer 1 lost its counter");
                }
                if ctx.node() == 2 && config.spin {
                    loop {
                        futures_yield().await;
                    }
                }
                ctx.report(Report::Tick);
                {
                    let mut count = ctx.file(COUNT_FILE).expect("a peer has a disk");
                    count
                        .append(&1u64.to_le_bytes())
                        .expect("the disk has room");
                }
                ctx.barrier(COUNT_FILE).expect("an fsync begins");
                let to = (ctx.node() + ctx.rng().gen_range(1..PEERS)) % PEERS;
                ctx.send(to, 1);
                ctx.set_timer(ctx.now() + TICK_NS, token);
            }
            Incoming::Message { .. } => ctx.report(Report::Received),
        }
    }
}

/// Yields once to the runtime (something the host never sees, as a real bug would).
fn futures_yield() -> impl std::future::Future<Output = ()> {
    let mut yielded = false;
    std::future::poll_fn(move |cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
}

impl Service for Gossip {
    type Config = Config;
    type Msg = u64;
    type Report = Report;
    type Event = ();
    type Output = Output;

    fn main(config: &Config, node: NodeId) -> Option<Init> {
        let config = config.clone();
        Some(main_task(node, move |ctx| peer(ctx, config.clone())))
    }

    fn disk(_config: &Config, _family: &Family) -> Option<DiskConfig> {
        Some(DiskConfig::default())
    }

    fn start(_config: &Config, host: &mut Hosting<'_, Self>) -> Result<Self, EngineError> {
        let peers = host.kernel().topology().node_count() as usize;
        Ok(Gossip {
            boots: vec![Vec::new(); peers],
            ..Gossip::default()
        })
    }

    fn report(
        &mut self,
        _host: &mut Hosting<'_, Self>,
        _now_ns: Nanos,
        node: NodeId,
        report: Report,
    ) -> Result<(), EngineError> {
        match report {
            Report::Booted {
                incarnation,
                recovered,
            } => self.boots[node as usize].push((incarnation, recovered)),
            Report::Tick => self.ticks += 1,
            Report::StaleTimer => self.stale_timers += 1,
            Report::Received => self.received += 1,
        }
        Ok(())
    }

    fn finish(self, host: &Finishing<'_, Self>) -> Result<Output, EngineError> {
        Ok(Output {
            boots: self.boots,
            ticks: self.ticks,
            stale_timers: self.stale_timers,
            received: self.received,
            stats: host.stats().clone(),
        })
    }
}

/// The trace's lines, kept in memory.
#[derive(Clone, Default)]
struct Lines(Rc<RefCell<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn plan(crash: bool) -> Plan {
    let faults = if crash {
        vec![PlannedFault {
            at_ns: 2_050 * MS,
            fault: Fault::Crash {
                nodes: Selector::parse("peer-0").expect("a selector"),
                restart_after_ns: Some(1_000 * MS),
            },
            label: "peer-0".to_owned(),
        }]
    } else {
        Vec::new()
    };
    Plan {
        families: vec![Family {
            prefix: "peer-",
            count: PEERS,
            hosted: true,
            faults: NodeFaults::ALL,
        }],
        network: NetworkPlan {
            latency: Sampler::Uniform(MS, 3 * MS),
            drop_rate: 0.0,
            links: Vec::new(),
        },
        faults,
        random_faults: Vec::new(),
        duration_ns: 5_000 * MS,
        window_ns: 1_000 * MS,
        max_events: MAX_EVENTS,
    }
}

type Run = Result<(Finished<Output>, String), EngineError>;

fn run(seed: u64, config: Config, crash: bool) -> Run {
    // madsim wants a fresh thread per runtime, as the crate's own runner does.
    #[allow(clippy::disallowed_methods)]
    let worker = std::thread::spawn(move || {
        let lines = Lines::default();
        let finished = driver::run::<ServiceHost<Gossip>>(
            &config,
            &plan(crash),
            seed,
            Some(Box::new(lines.clone())),
        )?;
        let text = String::from_utf8(lines.0.borrow().clone()).expect("utf-8 lines");
        Ok((finished, text))
    });
    worker.join().expect("the run does not panic")
}

#[test]
fn a_crash_drops_the_process_and_a_restart_runs_main_again_from_its_disk() {
    let (finished, lines) = run(7, Config::default(), true).expect("the run completes");
    let output = &finished.workload;
    // Peer 0 booted twice; the second incarnation found the ticks its first made
    // durable (about 20 by 2.05 s, at one tick per 100 ms).
    assert_eq!(output.boots[0].len(), 2, "{:?}", output.boots);
    assert_eq!(output.boots[0][0], (0, 0));
    let (incarnation, recovered) = output.boots[0][1];
    assert_eq!(incarnation, 1);
    assert!((18..=20).contains(&recovered), "recovered {recovered}");
    for node in 1..PEERS as usize {
        assert_eq!(output.boots[node], vec![(0, 0)]);
    }
    // No timer of the dead incarnation reached the new one.
    assert_eq!(output.stale_timers, 0);
    // A second down: no ticks; 5 s x 3 peers x 10 ticks/s, minus the second.
    assert!(
        (135..=150).contains(&output.ticks) && output.ticks < 150,
        "{} ticks",
        output.ticks
    );
    // What the others sent to peer 0 while it was down is counted and traced.
    assert!(output.stats.to_down_nodes > 0, "{:?}", output.stats);
    // Every message is delivered, lost or refused, but the last few still in flight.
    let settled = output.stats.delivered + output.stats.dropped + output.stats.to_down_nodes;
    assert!(
        settled <= output.stats.sent && output.stats.sent - settled <= u64::from(PEERS),
        "{:?}",
        output.stats
    );
    assert_eq!(output.received, output.stats.delivered);
    for kind in [
        "\"ev\":\"crash\"",
        "\"ev\":\"restart\"",
        "\"ev\":\"node_down\"",
    ] {
        assert!(lines.contains(kind), "no {kind} record");
    }
}

#[test]
fn the_same_seed_replays_the_same_run_and_another_seed_does_not() {
    let a = run(11, Config::default(), true).expect("a run");
    let b = run(11, Config::default(), true).expect("a run");
    let c = run(12, Config::default(), true).expect("a run");
    assert_eq!(a.0.core.trace_hash, b.0.core.trace_hash);
    assert_eq!(a.1, b.1, "the same lines");
    assert_ne!(a.0.core.trace_hash, c.0.core.trace_hash);
}

#[test]
fn a_panic_ends_the_run_naming_the_node_the_time_and_the_place() {
    let config = Config {
        panic_after_ns: Some(1_000 * MS),
        ..Config::default()
    };
    let err = run(3, config, false).expect_err("the panic ends the run");
    match &err {
        EngineError::Panic {
            node,
            name,
            at_ns,
            message,
        } => {
            assert_eq!(*node, 1);
            assert_eq!(name, "peer-1");
            // The first tick at or after 1 s: ticks fall on multiples of 100 ms.
            assert_eq!(*at_ns, 1_000 * MS);
            assert!(
                message.contains("boom: peer 1 lost its counter"),
                "{message}"
            );
            assert!(message.contains("service_host.rs"), "{message}");
        }
        other => panic!("expected a panic error, got {other}"),
    }
    let text = err.to_string();
    assert!(text.contains("peer-1 panicked at 1.000000000 s"), "{text}");
}

#[test]
fn a_process_that_never_waits_is_an_invariant_error() {
    let config = Config {
        spin: true,
        ..Config::default()
    };
    let err = run(3, config, false).expect_err("a spinning process cannot settle");
    assert!(
        matches!(&err, EngineError::Invariant(text) if text.contains("did not wait again")),
        "{err}"
    );
}

/// The gossip service as a kind, so its scenario files run from a binary of its own.
mod kind {
    use super::*;
    use faultline::engine::driver::Finished;
    use faultline::engine::service::HOST_TRACE_KINDS;
    use faultline::format::check::CheckSpec;
    use faultline::format::{Dur, Issue, RunInfo};
    use faultline::record::{core_summary, Invocation};
    use faultline::workload::{
        Context, EventEstimate, Kind, MemoryEstimate, NumberLimit, Resolution,
    };
    use faultline_reports::figures::{
        Aggregate, Better, FigureSpec, Quantity, RecordTable, SeriesSpec, SeriesTable,
    };
    use faultline_reports::record::RunRecord;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub(crate) struct GossipSpec {
        /// Peer 1 panics at its first tick from this time on.
        #[serde(default)]
        pub(crate) panic_after: Option<Dur>,
    }

    pub(crate) struct GossipKind;

    const FIGURES: &[FigureSpec] = &[FigureSpec::new(
        "ticks",
        "ticks",
        "ticks",
        Better::Neither,
        Quantity::Count,
        Aggregate::Mean,
        "Timer ticks of every peer.",
    )];

    impl Kind for GossipKind {
        const NAME: &'static str = "gossip";
        type Spec = GossipSpec;
        type World = ServiceHost<Gossip>;
        const CHECKS: &'static [CheckSpec] = &[];
        const NUMBER_LIMITS: &'static [NumberLimit] = &[];
        const FIGURES: &'static [FigureSpec] = FIGURES;
        const SERIES: &'static [SeriesSpec] = &[];
        const TRACE_KINDS: &'static [&'static str] = HOST_TRACE_KINDS;

        fn resolve(spec: &GossipSpec, scenario: &Context<'_>) -> Result<Resolution<Config>, Issue> {
            let ticks = scenario.duration.as_nanos() as f64 / TICK_NS as f64 * f64::from(PEERS);
            Ok(Resolution {
                config: Config {
                    panic_after_ns: spec.panic_after.map(Dur::as_nanos),
                    spin: false,
                },
                families: plan(false).families,
                events: EventEstimate {
                    events: ticks * 6.0,
                    reckoning: format!("{ticks} ticks x 6 events"),
                    advice: "shorten the run".to_owned(),
                },
                memory: MemoryEstimate::default(),
            })
        }

        fn record(
            run: &RunInfo,
            _config: &Config,
            finished: &Finished<Output>,
            invocation: &Invocation,
        ) -> RunRecord {
            let mut summary = core_summary(Self::NAME, &finished.core, run, invocation);
            summary.sections.insert(
                Self::NAME.to_owned(),
                serde_json::json!({ "ticks": finished.workload.ticks }),
            );
            RunRecord {
                summary,
                ..RunRecord::default()
            }
        }

        fn figures(record: &RunRecord) -> Vec<Option<f64>> {
            vec![record.summary.sections[Self::NAME]["ticks"].as_f64()]
        }

        fn series(_record: &RunRecord) -> SeriesTable {
            SeriesTable::default()
        }

        fn tables(_record: &RunRecord) -> Vec<RecordTable> {
            Vec::new()
        }
    }
}

/// Set in a child process of this test binary: the command line to run as a binary
/// with the gossip kind (its stderr is what the parent reads).
const CHILD_ARGS: &str = "SERVICE_HOST_CLI_ARGS";

#[test]
fn cli_child() {
    let Ok(args) = std::env::var(CHILD_ARGS) else {
        return; // only in the child process
    };
    let kinds = faultline::cli::Kinds::new().with::<kind::GossipKind>();
    let args: Vec<&str> = args.split('\u{1f}').collect();
    std::process::exit(i32::from(faultline::cli::run_with(&kinds, args)));
}

#[test]
fn a_panic_from_the_command_line_exits_1_with_the_node_the_time_and_the_replay() {
    let dir = std::env::temp_dir().join(format!("service-host-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let scenario = dir.join("gossip.json");
    std::fs::write(
        &scenario,
        r#"{"name": "gossip", "seed": 3, "duration": "5s",
            "network": {"latency": {"uniform": ["1ms", "3ms"]}},
            "workload": {"kind": "gossip", "panic_after": "1s"}}"#,
    )
    .expect("written");
    let args = [
        "gossip-sim",
        "run",
        scenario.to_str().expect("a utf-8 path"),
        "--out",
        dir.join("run").to_str().expect("a utf-8 path"),
    ]
    .join("\u{1f}");
    let out = std::process::Command::new(std::env::current_exe().expect("this test binary"))
        .args(["cli_child", "--exact", "--nocapture", "--test-threads", "1"])
        .env(CHILD_ARGS, args)
        .output()
        .expect("the child runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the process of peer-1 panicked at 1.000000000 s of simulated time: boom: peer 1 lost its counter (at tests/service_host.rs:"),
        "{err}"
    );
    assert!(err.contains("gossip-sim run"), "no reproduce line: {err}");
    assert!(err.contains("--seed 3"), "no reproduce line: {err}");
    assert!(!err.contains("RUST_BACKTRACE"), "a backtrace note: {err}");
    let _ = std::fs::remove_dir_all(dir);
}
