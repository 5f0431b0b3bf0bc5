//! The driver: one run of one workload inside a madsim runtime.
//!
//! madsim provides the seeded runtime, the virtual clock (advanced to the event time
//! before every fault action and at the end of the run), and the nodes of the hosted
//! families, whose kill / restart / pause carry the crash and pause faults. The kernel
//! provides the rest (see [`super::kernel`]).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use super::disk::Disk;
use super::faults::{self, ActionLabel, FaultAction, FaultPlan, Interval};
use super::handoff;
use super::host::Host;
use super::kernel::{Due, Kernel, KernelParts};
use super::network::{LinkRule, Network};
use super::nodes::{NodeId, Topology};
use super::plan::{NetworkPlan, Plan};
use super::process::NodeDisk;
use super::queue::Nanos;
use super::streams::{self, stream};
use super::trace::{KernelEvent, Record, Trace, TraceOptions};
use super::workload::{NodeChange, Workload};
use super::{EngineError, TraceSink};

/// Most pending events at once (bounds the kernel's memory whatever the scenario).
pub const MAX_PENDING_EVENTS: usize = 50_000_000;

/// What the kernel reports of every run, whatever the workload.
#[derive(Clone, Debug)]
pub struct CoreOutput {
    /// The seed it ran with.
    pub seed: u64,
    /// Simulated time, ns.
    pub simulated_ns: Nanos,
    /// Events recorded in the trace.
    pub events: u64,
    /// Events the driver handled: workload events (messages, timers) and fault actions.
    pub handled: u64,
    /// Hex digest of the ordered event trace.
    pub trace_hash: String,
    /// Metrics window length, ns.
    pub window_ns: Nanos,
    /// Fault intervals, by start.
    pub faults: Vec<Interval>,
    /// One digest per chunk of the trace, when asked for ([`TraceOptions`]).
    pub chunk_digests: Vec<u64>,
}

/// A finished run: the kernel's part and the workload's.
#[derive(Clone, Debug)]
pub struct Finished<O> {
    /// The kernel's part.
    pub core: CoreOutput,
    /// The workload's output.
    pub workload: O,
}

/// Runs workload `W` with `config` over `plan` at `seed` to completion on the current
/// thread.
///
/// Run each simulation on a fresh thread: madsim seeds some per-thread state only for
/// the first runtime on a thread.
pub fn run<W: Workload>(
    config: &W::Config,
    plan: &Plan,
    seed: u64,
    trace_lines: TraceSink,
) -> Result<Finished<W::Output>, EngineError> {
    run_with::<W>(
        config,
        plan,
        seed,
        TraceOptions {
            lines: trace_lines,
            ..TraceOptions::default()
        },
    )
}

/// [`run`], with the trace's diagnostics ([`TraceOptions`]), stopping with
/// [`EngineError::Limit`] once more than the plan's `max_events` events (workload events
/// and fault actions handled) would be handled.
pub fn run_with<W: Workload>(
    config: &W::Config,
    setup: &Plan,
    seed: u64,
    trace: TraceOptions,
) -> Result<Finished<W::Output>, EngineError> {
    let max_events = setup.max_events;
    let progress = trace.progress.clone();
    let topology = Topology::new(setup.families.clone()).map_err(EngineError::Config)?;
    let plan = faults::compile(
        &setup.faults,
        &setup.random_faults,
        setup.duration_ns,
        &topology,
        seed,
    )
    .map_err(EngineError::Config)?;
    let window_count = usize::try_from(setup.duration_ns.div_ceil(setup.window_ns).max(1))
        .map_err(|_| EngineError::Limit("too many metrics windows".into()))?;
    let network = build_network(&setup.network, &topology);
    let with_clocks = plan
        .actions
        .iter()
        .any(|(_, action)| matches!(action, FaultAction::Clock { .. }));

    let disks = build_disks::<W>(config, &topology, seed)?;
    let runtime = madsim::runtime::Runtime::with_seed_and_config(seed, madsim::Config::default());
    let host = Host::new(&runtime, &topology, |node| W::process(config, node));
    let parts = KernelParts {
        topology,
        network,
        with_clocks,
        trace: Trace::with_options(trace),
        disks,
        seed,
        duration_ns: setup.duration_ns,
        window_ns: setup.window_ns,
        window_count,
        max_pending_events: MAX_PENDING_EVENTS,
    };
    runtime.block_on(async move {
        let mut kernel = Kernel::new(parts);
        let world = W::start(config, &mut kernel)?;
        host.wait_for_boot().await.map_err(EngineError::Invariant)?;
        let driving = drive_owned(world, kernel, host, plan, max_events);
        // A process workload's driver runs as the hand-off coroutine: one madsim poll
        // per process step instead of two (see `handoff`).
        let Driven {
            handled,
            world,
            kernel,
            host,
            plan,
        } = if W::PROCESSES {
            handoff::run(driving).await
        } else {
            driving.await
        };
        let handled = handled?;
        // A process that panicked where no settle saw it (while booting, at the end).
        if let Some(panic) = super::process::take_panic() {
            return Err(EngineError::Panic {
                name: kernel.topology().name(panic.node),
                node: panic.node,
                at_ns: setup.duration_ns,
                message: panic.message,
            });
        }
        host.check_boots().map_err(EngineError::Invariant)?;
        let workload = world.finish(&kernel)?;
        let events = kernel.events();
        let (trace_hash, chunk_digests) = kernel.finish_trace()?;
        if let Some(progress) = &progress {
            progress.publish(setup.duration_ns, events);
        }
        Ok(Finished {
            core: CoreOutput {
                seed,
                simulated_ns: setup.duration_ns,
                events,
                handled,
                trace_hash,
                window_ns: setup.window_ns,
                faults: plan.intervals,
                chunk_digests,
            },
            workload,
        })
    })
}

/// Each node's disk, for the families whose workload gives them one.
fn build_disks<W: Workload>(
    config: &W::Config,
    topology: &Topology,
    seed: u64,
) -> Result<Vec<Option<Rc<RefCell<NodeDisk>>>>, EngineError> {
    let mut disks = Vec::new();
    for (index, family) in topology.families().iter().enumerate() {
        let Some(disk_config) = W::disk(config, family) else {
            continue;
        };
        disks.resize(topology.node_count() as usize, None);
        for member in 0..family.count {
            let node = topology.node(index, member);
            let disk = Disk::new(disk_config.clone())
                .map_err(|err| EngineError::Config(format!("{}: {err}", topology.name(node))))?;
            disks[node as usize] = Some(Rc::new(RefCell::new(NodeDisk {
                disk,
                rng: stream(seed, streams::DISK, u64::from(node)),
            })));
        }
    }
    Ok(disks)
}

fn build_network(spec: &NetworkPlan, topology: &Topology) -> Network {
    let links = spec
        .links
        .iter()
        .map(|link| LinkRule {
            from: topology.select(&link.from),
            to: topology.select(&link.to),
            latency: link.latency,
            drop_rate: link.drop_rate,
        })
        .collect();
    Network::new(spec.latency, spec.drop_rate, links)
}

/// What [`drive_owned`] hands back: the events handled, and the state it drove.
struct Driven<W: Workload> {
    handled: Result<u64, EngineError>,
    world: W,
    kernel: Kernel<W::Event>,
    host: Host,
    plan: FaultPlan,
}

/// Settles the processes' start, then runs [`drive`], owning what it drives (so the
/// hand-off coroutine can hold it).
async fn drive_owned<W: Workload>(
    mut world: W,
    mut kernel: Kernel<W::Event>,
    mut host: Host,
    plan: FaultPlan,
    max_events: u64,
) -> Driven<W> {
    let handled = async {
        if W::PROCESSES {
            world.settle(&mut kernel, 0).await?;
        }
        drive(&mut world, &mut kernel, &mut host, &plan, max_events).await
    }
    .await;
    Driven {
        handled,
        world,
        kernel,
        host,
        plan,
    }
}

/// The event loop; returns the events it handled.
async fn drive<W: Workload>(
    world: &mut W,
    kernel: &mut Kernel<W::Event>,
    host: &mut Host,
    plan: &FaultPlan,
    max_events: u64,
) -> Result<u64, EngineError> {
    for (index, (at_ns, _)) in plan.actions.iter().enumerate() {
        let index =
            u32::try_from(index).map_err(|_| EngineError::Limit("too many faults".into()))?;
        kernel.schedule_fault(*at_ns, index)?;
    }
    // madsim's virtual clock follows the kernel's lazily: only madsim's node lifecycle
    // (kill / restart / pause / resume, in fault actions) and whoever reads the clock
    // after the run observe it, and nothing in madsim runs between two events (this
    // loop does not yield to madsim's scheduler except inside fault actions). So the
    // clock is moved, exactly, to the event's time before every fault action and to the
    // last event's time at the end, instead of once per event time (a mutex, a timer
    // heap check and a thread-local lookup each).
    let mut madsim_ns: Nanos = 0;
    let mut now_ns: Nanos = 0;
    let mut handled: u64 = 0;
    while let Some((at_ns, due)) = world.next_event(kernel) {
        now_ns = at_ns;
        handled += 1;
        if handled > max_events {
            return Err(EngineError::Limit(format!(
                "the run reached its limit of {max_events} events at simulated time {:.3} s \
                 of {:.3} s; shorten \"duration\" or lower the load",
                now_ns as f64 / 1e9,
                kernel.duration_ns() as f64 / 1e9
            )));
        }
        match due {
            Due::Fault { action } => {
                // madsim's nodes are killed, restarted, paused and resumed from the
                // main task, never inside a process's poll.
                handoff::on_main().await;
                sync_madsim_clock(&mut madsim_ns, now_ns);
                apply_fault(
                    world,
                    kernel,
                    host,
                    now_ns,
                    action,
                    &plan.actions[action as usize].1,
                    &plan.labels[action as usize],
                )
                .await?
            }
            Due::Work(event) => dispatch(world, kernel, now_ns, &event)?,
        }
        if W::PROCESSES {
            world.settle(kernel, now_ns).await?;
        }
    }
    sync_madsim_clock(&mut madsim_ns, now_ns);
    if W::PROCESSES {
        world.drain(kernel, now_ns).await?;
    }
    Ok(handled)
}

/// Hands one event to the workload. Out of line and by reference on purpose: the event
/// was just written field by field, and copying it whole (as an inlined by-value call
/// did) reads it back in 16-byte loads that cannot be forwarded from those narrow
/// stores, a stall of a dozen cycles on every event. Reading through the reference,
/// each handler loads the fields it uses.
#[inline(never)]
fn dispatch<W: Workload>(
    world: &mut W,
    kernel: &mut Kernel<W::Event>,
    now_ns: Nanos,
    event: &W::Event,
) -> Result<(), EngineError> {
    world.handle(kernel, now_ns, event)
}

/// Moves madsim's virtual clock forward to `now_ns` (exact, never a 1 ms sleep).
#[inline]
#[allow(clippy::disallowed_methods)] // the one place that moves madsim's clock
fn sync_madsim_clock(madsim_ns: &mut Nanos, now_ns: Nanos) {
    if now_ns > *madsim_ns {
        madsim::time::advance(Duration::from_nanos(now_ns - *madsim_ns));
        *madsim_ns = now_ns;
    }
}

/// Whether `node` runs as a madsim node.
fn hosted<E: Copy>(kernel: &Kernel<E>, node: NodeId) -> bool {
    let topology = kernel.topology();
    topology.families()[topology.locate(node).0].hosted
}

async fn apply_fault<W: Workload>(
    world: &mut W,
    kernel: &mut Kernel<W::Event>,
    host: &mut Host,
    now_ns: Nanos,
    index: u32,
    action: &FaultAction,
    label: &ActionLabel,
) -> Result<(), EngineError> {
    kernel.trace(Record::at(
        now_ns,
        KernelEvent::Fault {
            action: index,
            phase: label.phase,
            fault: &label.fault,
        },
    ))?;
    match action {
        FaultAction::Crash { node } => {
            if world.node_change(kernel, now_ns, *node, NodeChange::Crash)? {
                if hosted(kernel, *node) {
                    host.kill(*node).map_err(EngineError::Invariant)?;
                }
                kernel.crash_disk(*node);
            }
        }
        FaultAction::Restart { node } => {
            if world.node_change(kernel, now_ns, *node, NodeChange::Restart)?
                && hosted(kernel, *node)
            {
                host.restart(*node).await.map_err(EngineError::Invariant)?;
            }
        }
        FaultAction::Pause { node } => {
            if world.node_change(kernel, now_ns, *node, NodeChange::Pause)? && hosted(kernel, *node)
            {
                host.pause(*node).map_err(EngineError::Invariant)?;
            }
        }
        FaultAction::Resume { node } => {
            if world.node_change(kernel, now_ns, *node, NodeChange::Resume)?
                && hosted(kernel, *node)
            {
                host.resume(*node).map_err(EngineError::Invariant)?;
            }
        }
        FaultAction::NetStart {
            id,
            fault,
            stream_key,
        } => kernel.activate_net_fault(*id, fault.clone(), *stream_key),
        FaultAction::NetEnd { id } => kernel.network_mut().deactivate(*id),
        FaultAction::Clock {
            nodes,
            skew_ns,
            drift_ppm,
            jump_ns,
        } => kernel.set_clocks(
            now_ns,
            |node| nodes.contains(node),
            *skew_ns,
            *drift_ppm,
            *jump_ns,
        ),
        FaultAction::DiskStart { id, nodes, fault } => kernel
            .disk_fault(nodes, *id, Some(*fault))
            .map_err(|err| EngineError::Invariant(format!("disk fault: {err}")))?,
        FaultAction::DiskEnd { id, nodes } => kernel
            .disk_fault(nodes, *id, None)
            .map_err(|err| EngineError::Invariant(format!("disk fault: {err}")))?,
        FaultAction::Slowdown { nodes, factor } => {
            for node in nodes {
                world.node_change(
                    kernel,
                    now_ns,
                    *node,
                    NodeChange::Slowdown { factor: *factor },
                )?;
            }
        }
    }
    Ok(())
}
