//! The benchmark's trivial user service, written on the public service API alone
//! ([`crate::engine::service`]): 16 nodes pass 64 tokens around, each node forwarding
//! every token it receives to a random other node, and counting. Run once as
//! `async fn main(ctx)` processes and once by direct calls with the same random draws,
//! so both runs carry the same messages (the digest of every send, in order, is equal)
//! and the difference in cost per message is the host's own.

use std::collections::VecDeque;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::engine::driver::{self, Finished};
use crate::engine::kernel::Kernel;
use crate::engine::nodes::{Family, NodeFaults, NodeId};
use crate::engine::plan::{NetworkPlan, Plan, MAX_EVENTS};
use crate::engine::process::{Ctx, Incoming, Init, Outgoing};
use crate::engine::queue::Nanos;
use crate::engine::sampler::Sampler;
use crate::engine::service::{
    main_task, Direct, Finishing, HostEvent, Hosting, Service, ServiceHost,
};
use crate::engine::streams;
use crate::engine::EngineError;

/// Nodes of the service.
pub const NODES: u32 = 16;
/// Tokens each node starts with.
const TOKENS_PER_NODE: u32 = 4;
const MS: Nanos = 1_000_000;
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Whether the nodes run as processes or by direct calls.
#[derive(Clone, Copy, Debug)]
pub struct ChatterConfig {
    /// Direct calls instead of madsim tasks.
    pub direct: bool,
}

/// The engine side: counts what the nodes report.
pub struct Chatter {
    forwarded: u64,
    digest: u64,
}

/// A finished run: tokens forwarded (as reported) and messages delivered (the host's
/// count).
#[derive(Debug)]
pub struct ChatterOutput {
    /// Tokens the nodes reported forwarding.
    pub forwarded: u64,
    /// Messages the host delivered.
    pub delivered: u64,
    /// FNV-1a of every send (time, sender, receiver, token), in order.
    pub digest: u64,
}

/// Where a node forwards a token: a random other node.
fn next_hop(node: NodeId, rng: &mut ChaCha8Rng) -> NodeId {
    (node + rng.gen_range(1..NODES)) % NODES
}

async fn node_main(ctx: Ctx<u32, u32>) {
    let node = ctx.node();
    for token in 0..TOKENS_PER_NODE {
        let to = next_hop(node, &mut ctx.rng());
        ctx.send(to, token);
    }
    let mut forwarded = 0;
    loop {
        if let Incoming::Message { msg, .. } = ctx.recv().await {
            let to = next_hop(node, &mut ctx.rng());
            ctx.send(to, msg);
            forwarded += 1;
            // Report in batches, as a service exports a counter.
            if forwarded == 1024 {
                ctx.report(forwarded);
                forwarded = 0;
            }
        }
    }
}

/// The same node logic by direct calls.
struct Nodes {
    inboxes: Vec<VecDeque<u32>>,
    rngs: Vec<ChaCha8Rng>,
    started: Vec<bool>,
    forwarded: Vec<u32>,
}

impl Direct<u32, u32> for Nodes {
    fn deliver(&mut self, node: NodeId, incoming: Incoming<u32>) {
        if let Incoming::Message { msg, .. } = incoming {
            self.inboxes[node as usize].push_back(msg);
        }
    }

    fn run(
        &mut self,
        node: NodeId,
        _now_ns: Nanos,
        _pt_ns: Nanos,
        out: &mut Vec<Outgoing<u32, u32>>,
    ) -> Result<(), EngineError> {
        let index = node as usize;
        let rng = &mut self.rngs[index];
        if !self.started[index] {
            self.started[index] = true;
            for token in 0..TOKENS_PER_NODE {
                out.push(Outgoing::Send {
                    to: next_hop(node, rng),
                    msg: token,
                });
            }
        }
        while let Some(msg) = self.inboxes[index].pop_front() {
            out.push(Outgoing::Send {
                to: next_hop(node, rng),
                msg,
            });
            self.forwarded[index] += 1;
            if self.forwarded[index] == 1024 {
                out.push(Outgoing::Report(1024));
                self.forwarded[index] = 0;
            }
        }
        Ok(())
    }

    fn fsync_done(
        &mut self,
        _node: NodeId,
        _now_ns: Nanos,
        out: &mut Vec<Outgoing<u32, u32>>,
    ) -> Result<(), EngineError> {
        out.clear();
        Ok(())
    }
}

impl Service for Chatter {
    type Config = ChatterConfig;
    type Msg = u32;
    type Report = u32;
    type Event = ();
    type Output = ChatterOutput;

    fn main(config: &ChatterConfig, node: NodeId) -> Option<Init> {
        (!config.direct).then(|| main_task(node, node_main))
    }

    fn direct(
        config: &ChatterConfig,
        kernel: &Kernel<HostEvent<()>>,
    ) -> Option<Box<dyn Direct<u32, u32>>> {
        config.direct.then(|| {
            Box::new(Nodes {
                inboxes: vec![VecDeque::new(); NODES as usize],
                rngs: (0..NODES)
                    .map(|node| kernel.stream(streams::PROCESS, u64::from(node)))
                    .collect(),
                started: vec![false; NODES as usize],
                forwarded: vec![0; NODES as usize],
            }) as Box<dyn Direct<u32, u32>>
        })
    }

    fn start(_config: &ChatterConfig, _host: &mut Hosting<'_, Self>) -> Result<Self, EngineError> {
        Ok(Chatter {
            forwarded: 0,
            digest: FNV_OFFSET,
        })
    }

    fn sent(&mut self, now_ns: Nanos, from: NodeId, to: NodeId, token: &u32) {
        for word in [now_ns, u64::from(from), u64::from(to), u64::from(*token)] {
            self.digest = (self.digest ^ word).wrapping_mul(FNV_PRIME);
        }
    }

    fn report(
        &mut self,
        _host: &mut Hosting<'_, Self>,
        _now_ns: Nanos,
        _node: NodeId,
        forwarded: u32,
    ) -> Result<(), EngineError> {
        self.forwarded += u64::from(forwarded);
        Ok(())
    }

    fn finish(self, host: &Finishing<'_, Self>) -> Result<ChatterOutput, EngineError> {
        Ok(ChatterOutput {
            forwarded: self.forwarded,
            delivered: host.stats().delivered,
            digest: self.digest,
        })
    }
}

/// The plan of the bench's process rows: `nodes` hosted nodes, `seconds` of simulated
/// time, 1-5 ms links, no faults.
pub(super) fn plan(nodes: u32, seconds: u32) -> Plan {
    Plan {
        families: vec![Family {
            prefix: "node-",
            count: nodes,
            hosted: true,
            faults: NodeFaults::ALL,
        }],
        network: NetworkPlan {
            latency: Sampler::Uniform(MS, 5 * MS),
            drop_rate: 0.0,
            links: Vec::new(),
        },
        faults: Vec::new(),
        random_faults: Vec::new(),
        duration_ns: u64::from(seconds) * 1_000 * MS,
        window_ns: 1_000 * MS,
        max_events: MAX_EVENTS,
    }
}

/// One run on a thread of its own (madsim wants a fresh one per runtime): wall
/// seconds and the finished run.
pub fn run(seconds: u32, direct: bool) -> (f64, Finished<ChatterOutput>) {
    timed_run::<Chatter>(ChatterConfig { direct }, plan(NODES, seconds))
}

/// Runs service `S` under `plan` at seed 7 on a thread of its own (madsim wants a
/// fresh one per runtime): wall seconds and the finished run. Panics if the run fails:
/// the bench's services have no faults.
pub(super) fn timed_run<S>(config: S::Config, plan: Plan) -> (f64, Finished<S::Output>)
where
    S: Service,
    S::Config: Send + 'static,
    S::Output: Send + 'static,
{
    #[allow(clippy::disallowed_methods)] // a fresh thread per runtime, as the runner's
    let worker = std::thread::spawn(move || {
        let clock = crate::runner::Stopwatch::start();
        let finished = driver::run::<ServiceHost<S>>(&config, &plan, 7, None);
        (clock.elapsed_s(), finished)
    });
    let (wall_s, finished) = worker.join().expect("the bench's service does not panic");
    (wall_s, finished.expect("the bench's service run completes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processes_and_direct_calls_carry_the_same_messages() {
        let (_, tasks) = run(2, false);
        let (_, direct) = run(2, true);
        assert_eq!(tasks.workload.digest, direct.workload.digest);
        assert_eq!(tasks.workload.delivered, direct.workload.delivered);
        assert_eq!(tasks.workload.forwarded, direct.workload.forwarded);
        // 64 tokens, a hop of 3 ms on average: about 21,000 deliveries per second.
        let delivered = tasks.workload.delivered;
        assert!((38_000..=48_000).contains(&delivered), "{delivered}");
        // Reported in batches of 1,024 per node.
        assert!(tasks.workload.forwarded <= delivered);
        assert!(delivered - tasks.workload.forwarded < 16 * 1024);
    }
}
