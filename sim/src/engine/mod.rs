//! The engine: a discrete-event loop with exact nanosecond times, driven inside a madsim
//! runtime.
//!
//! madsim provides the seeded runtime, the virtual clock (advanced to the event time
//! before every fault action and at the end of the run), and the server nodes whose
//! kill / restart / pause carry the crash and pause faults. Faultline provides what
//! madsim lacks: exact latency, service and backoff times (madsim sleeps have a 1 ms
//! floor), per-link distributions, partitions, omission and timing faults, per-node
//! clocks, random fault processes, metrics and the trace digest.
//!
//! Nothing but the seed reaches a run: every random draw comes from ChaCha8 streams
//! derived from it ([`streams`]), the event order is a total order on (time, insertion),
//! and no hash-map iteration, wall clock or OS thread is involved.

pub mod clock;
pub mod config;
pub mod disk;
pub mod faults;
pub mod host;
pub mod metrics;
pub mod network;
pub mod nodes;
pub mod queue;
pub mod rpc;
pub mod slots;
pub mod streams;
pub mod trace;

use std::fmt;
use std::io::{self, Write};
use std::time::Duration;

use self::config::RpcConfig;
use self::faults::{FaultAction, FaultPlan, Interval};
use self::host::Host;
use self::metrics::{Metrics, Totals, WindowCounters};
use self::network::{LinkRule, Network};
use self::nodes::Topology;
use self::queue::Nanos;
use self::rpc::{Event, HlcStats, RpcWorld};
use self::trace::{Trace, TraceKind};
use crate::scenario::Scenario;

/// Why a run could not complete.
#[derive(Debug)]
pub enum EngineError {
    /// The scenario cannot be run as written.
    Config(String),
    /// A limit was reached during the run.
    Limit(String),
    /// Writing the trace failed.
    Io(io::Error),
    /// An engine invariant broke (a bug: please report it with the seed).
    Invariant(String),
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::Config(message) => write!(f, "{message}"),
            EngineError::Limit(message) => write!(f, "limit reached: {message}"),
            EngineError::Io(err) => write!(f, "writing the trace: {err}"),
            EngineError::Invariant(message) => write!(f, "engine invariant broken: {message}"),
        }
    }
}

impl std::error::Error for EngineError {}

/// What a run produced.
#[derive(Debug)]
pub struct RunOutput {
    /// The seed it ran with.
    pub seed: u64,
    /// Simulated time, ns.
    pub simulated_ns: Nanos,
    /// Events handled.
    pub events: u64,
    /// Hex digest of the ordered event trace.
    pub trace_hash: String,
    /// Metrics windows in time order.
    pub windows: Vec<WindowCounters>,
    /// Window length, ns.
    pub window_ns: Nanos,
    /// Latency of successes: p50, p99, p99.9, mean, max (ns).
    pub latency_ns: [f64; 5],
    /// Totals.
    pub totals: Totals,
    /// Logical requests in flight at the end.
    pub in_flight: u64,
    /// Fault intervals.
    pub faults: Vec<Interval>,
    /// HLC observations.
    pub hlc: HlcStats,
    /// Approximate bytes of per-client model state.
    pub bytes_per_client: usize,
}

/// Where the trace lines go, if anywhere.
pub type TraceSink = Option<Box<dyn Write>>;

/// Runs `scenario` with `seed` to completion on the current thread.
///
/// Run each simulation on a fresh thread: madsim seeds some per-thread state only for
/// the first runtime on a thread.
pub fn simulate(
    scenario: &Scenario,
    seed: u64,
    trace_lines: TraceSink,
) -> Result<RunOutput, EngineError> {
    let cfg = RpcConfig::from_scenario(scenario).map_err(EngineError::Config)?;
    let topology = cfg.topology;
    let plan = faults::compile(scenario, &topology, seed).map_err(EngineError::Config)?;
    let window_ns = scenario.metrics.window.as_nanos();
    let duration_ns = scenario.duration.as_nanos();
    let window_count = usize::try_from(duration_ns.div_ceil(window_ns).max(1))
        .map_err(|_| EngineError::Limit("too many metrics windows".into()))?;
    let network = build_network(scenario, &topology);
    let with_clocks = plan
        .actions
        .iter()
        .any(|(_, action)| matches!(action, FaultAction::Clock { .. }));

    let runtime = madsim::runtime::Runtime::with_seed_and_config(seed, madsim::Config::default());
    let mut host = Host::new(&runtime, topology.servers);
    let metrics = Metrics::new(window_ns, window_count);
    let trace = Trace::new(trace_lines);
    runtime.block_on(async move {
        let mut world = RpcWorld::new(cfg, seed, network, metrics, trace, with_clocks)?;
        host.wait_for_boot().await.map_err(EngineError::Invariant)?;
        drive(&mut world, &mut host, &plan).await?;
        host.check_boots().map_err(EngineError::Invariant)?;
        finish(world, plan, seed, duration_ns, window_ns)
    })
}

fn build_network(scenario: &Scenario, topology: &Topology) -> Network {
    let links = scenario
        .network
        .links
        .iter()
        .map(|link| LinkRule {
            from: topology.select(&link.from),
            to: topology.select(&link.to),
            latency: link.latency.as_ref().map(|dist| dist.sampler()),
            drop_rate: link.drop_rate,
        })
        .collect();
    Network::new(
        scenario.network.latency.sampler(),
        scenario.network.drop_rate,
        links,
    )
}

/// The event loop.
async fn drive(world: &mut RpcWorld, host: &mut Host, plan: &FaultPlan) -> Result<(), EngineError> {
    for (index, (at_ns, _)) in plan.actions.iter().enumerate() {
        let index =
            u32::try_from(index).map_err(|_| EngineError::Limit("too many faults".into()))?;
        world.schedule(*at_ns, Event::Fault { index })?;
    }
    // madsim's virtual clock follows Faultline's lazily: only madsim's node lifecycle
    // (kill / restart / pause / resume, in fault actions) and whoever reads the clock
    // after the run observe it, and nothing in madsim runs between two events (this
    // loop does not yield to madsim's scheduler except inside fault actions). So the
    // clock is moved, exactly, to the event's time before every fault action and to the
    // last event's time at the end, instead of once per event time (a mutex, a timer
    // heap check and a thread-local lookup each).
    let mut madsim_ns: Nanos = 0;
    let mut now_ns: Nanos = 0;
    while let Some((at_ns, event)) = world.pop_next() {
        now_ns = at_ns;
        match event {
            Event::Fault { index } => {
                sync_madsim_clock(&mut madsim_ns, now_ns);
                apply_fault(world, host, now_ns, index, &plan.actions[index as usize].1).await?
            }
            _ => dispatch(world, now_ns, &event)?,
        }
    }
    sync_madsim_clock(&mut madsim_ns, now_ns);
    Ok(())
}

/// Hands one event to the world. Out of line and by reference on purpose: the event was
/// just written field by field, and copying it whole (as an inlined by-value call did)
/// reads it back in 16-byte loads that cannot be forwarded from those narrow stores, a
/// stall of a dozen cycles on every event. Reading through the reference, each handler
/// loads the fields it uses.
#[inline(never)]
fn dispatch(world: &mut RpcWorld, now_ns: Nanos, event: &Event) -> Result<(), EngineError> {
    world.handle(now_ns, *event)
}

/// Moves madsim's virtual clock forward to `now_ns` (exact, never a 1 ms sleep).
#[inline]
fn sync_madsim_clock(madsim_ns: &mut Nanos, now_ns: Nanos) {
    if now_ns > *madsim_ns {
        madsim::time::advance(Duration::from_nanos(now_ns - *madsim_ns));
        *madsim_ns = now_ns;
    }
}

async fn apply_fault(
    world: &mut RpcWorld,
    host: &mut Host,
    now_ns: Nanos,
    index: u32,
    action: &FaultAction,
) -> Result<(), EngineError> {
    world
        .trace
        .record(
            now_ns,
            TraceKind::FaultStart,
            u32::MAX,
            u32::MAX,
            u64::MAX,
            u64::from(index),
        )
        .map_err(EngineError::Io)?;
    match action {
        FaultAction::Crash { server } => {
            if world.crash(now_ns, *server)? {
                host.kill(*server);
            }
        }
        FaultAction::Restart { server } => {
            if world.restart(now_ns, *server)? {
                host.restart(*server)
                    .await
                    .map_err(EngineError::Invariant)?;
            }
        }
        FaultAction::Pause { server } => {
            if world.pause(now_ns, *server) {
                host.pause(*server);
            }
        }
        FaultAction::Resume { server } => {
            if world.resume(now_ns, *server)? {
                host.resume(*server);
            }
        }
        FaultAction::NetStart { id, fault } => world.net.activate(*id, fault.clone()),
        FaultAction::NetEnd { id } => world.net.deactivate(*id),
        FaultAction::Clock {
            nodes,
            skew_ns,
            drift_ppm,
            jump_ns,
        } => {
            for (node, clock) in world.clocks.iter_mut().enumerate() {
                if nodes.contains(node as u32) {
                    clock.apply(now_ns, *skew_ns, *drift_ppm, *jump_ns);
                }
            }
        }
        FaultAction::Slowdown { servers, factor } => {
            for server in servers {
                world.set_slowdown(*server, *factor);
            }
        }
    }
    Ok(())
}

fn finish(
    world: RpcWorld,
    plan: FaultPlan,
    seed: u64,
    duration_ns: Nanos,
    window_ns: Nanos,
) -> Result<RunOutput, EngineError> {
    let in_flight = world.in_flight();
    let bytes_per_client = world.bytes_per_client();
    let hlc = world.hlc_stats;
    let events = world.trace.events();
    let trace_hash = world.trace.finish().map_err(EngineError::Io)?;
    let (windows, latency_ns, totals) = world.metrics.finish();
    let resolved = totals.succeeded + totals.failed + totals.timed_out + totals.rejected_by_breaker;
    if resolved + in_flight != totals.offered {
        return Err(EngineError::Invariant(format!(
            "requests do not add up: {resolved} resolved + {in_flight} in flight != {} offered",
            totals.offered
        )));
    }
    Ok(RunOutput {
        seed,
        simulated_ns: duration_ns,
        events,
        trace_hash,
        windows,
        window_ns,
        latency_ns,
        totals,
        in_flight,
        faults: plan.intervals,
        hlc,
        bytes_per_client,
    })
}
