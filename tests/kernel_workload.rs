//! A workload written outside the crate, through the kernel's public interface alone:
//! a pinger sends a ping every 100 ms to a ponger, which answers; the kernel's network
//! carries both ways, with a partition and a crash from the run's fault plan. This
//! is all a new workload needs besides its registration line (see `workload/mod.rs`).

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

impl Workload for Ping {
    type Config = ();
    type Event = PingEvent;
    type Output = Ping;

    fn start(_config: &(), kernel: &mut Kernel<PingEvent>) -> Result<Self, EngineError> {
        kernel.schedule(0, PingEvent::Tick)?;
        Ok(Ping {
            ponger_up: true,
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
                kernel.schedule(now_ns + PING_EVERY_NS, PingEvent::Tick)
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
        driver::run::<Ping>(&(), &plan, seed, None)
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
