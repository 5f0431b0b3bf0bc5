//! The bank benchmark's floor: the bank's traffic through a bare process skeleton on
//! the same service host, with no bank logic. 16 nodes each start transfers as a
//! Poisson process at the bank bench's rate (a timer per transfer, exponential gaps, as
//! the accounts do) to a random other node, which acknowledges each one. What is left
//! is the host's own work per message (mailbox, driver, one task poll per step, the
//! network), so the bank's messages per second over the floor's is the share of the
//! bank's cost that is its own logic (log, clocks, snapshots, checker).

use rand::Rng;
use rand_distr::{Distribution, Exp1};

use crate::engine::driver::Finished;
use crate::engine::process::{Ctx, Incoming, Init};
use crate::engine::queue::Nanos;
use crate::engine::service::{main_task, Finishing, Hosting, Service};
use crate::engine::EngineError;

/// The transfer timer's token.
const TOKEN_TRANSFER: u64 = 1;

/// The traffic: as the bank bench's (see `bench::bank_scenario`).
#[derive(Clone, Copy, Debug)]
pub struct FloorConfig {
    /// Nodes.
    pub nodes: u32,
    /// Transfers each node starts per second.
    pub transfers_per_s: u32,
}

/// What the nodes send: a transfer, or its acknowledgement.
#[derive(Clone, Copy, Debug)]
pub enum FloorMsg {
    /// A transfer (its amount is drawn, as the bank's, but nothing keeps a balance).
    Transfer,
    /// The receiver has it.
    Ack,
}

/// The engine side: counts the acknowledgements the nodes report.
pub struct Floor {
    acked: u64,
}

/// A finished run.
#[derive(Debug)]
pub struct FloorOutput {
    /// Transfers acknowledged (as the nodes reported).
    pub acked: u64,
    /// Messages the host delivered.
    pub delivered: u64,
}

async fn node_main(ctx: Ctx<FloorMsg, u32>, config: FloorConfig) {
    let gap_ns = 1e9 / f64::from(config.transfers_per_s.max(1));
    let next = |ctx: &Ctx<FloorMsg, u32>| {
        let unit: f64 = Exp1.sample(&mut *ctx.rng());
        ctx.set_timer(
            ctx.now() + (unit * gap_ns).round().max(1.0) as u64,
            TOKEN_TRANSFER,
        );
    };
    next(&ctx);
    let mut acked = 0u32;
    loop {
        match ctx.recv().await {
            Incoming::Timer { .. } => {
                let to = {
                    let mut rng = ctx.rng();
                    let to = (ctx.node() + rng.gen_range(1..config.nodes)) % config.nodes;
                    let _amount: u32 = rng.gen_range(1..=20);
                    to
                };
                ctx.send(to, FloorMsg::Transfer);
                next(&ctx);
            }
            Incoming::Message {
                from,
                msg: FloorMsg::Transfer,
            } => ctx.send(from, FloorMsg::Ack),
            Incoming::Message {
                msg: FloorMsg::Ack, ..
            } => {
                acked += 1;
                // Report in batches, as a service exports a counter.
                if acked == 1024 {
                    ctx.report(acked);
                    acked = 0;
                }
            }
        }
    }
}

impl Service for Floor {
    type Config = FloorConfig;
    type Msg = FloorMsg;
    type Report = u32;
    type Event = ();
    type Output = FloorOutput;

    fn main(config: &FloorConfig, node: u32) -> Option<Init> {
        let config = *config;
        Some(main_task(node, move |ctx| node_main(ctx, config)))
    }

    fn start(_config: &FloorConfig, _host: &mut Hosting<'_, Self>) -> Result<Self, EngineError> {
        Ok(Floor { acked: 0 })
    }

    fn report(
        &mut self,
        _host: &mut Hosting<'_, Self>,
        _now_ns: Nanos,
        _node: u32,
        acked: u32,
    ) -> Result<(), EngineError> {
        self.acked += u64::from(acked);
        Ok(())
    }

    fn finish(self, host: &Finishing<'_, Self>) -> Result<FloorOutput, EngineError> {
        Ok(FloorOutput {
            acked: self.acked,
            delivered: host.stats().delivered,
        })
    }
}

/// One run on a thread of its own: wall seconds and the finished run (the user
/// service's plan: 1-5 ms links, as the bank bench's network).
pub fn run(config: FloorConfig, seconds: u32) -> (f64, Finished<FloorOutput>) {
    super::chatter::timed_run::<Floor>(config, super::chatter::plan(config.nodes, seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_transfer_is_acknowledged_at_the_configured_rate() {
        let config = FloorConfig {
            nodes: 16,
            transfers_per_s: 200,
        };
        let (_, finished) = run(config, 2);
        let FloorOutput { acked, delivered } = finished.workload;
        // 16 nodes x 200/s x 2 s = 6,400 transfers expected; Poisson, so within 5 sigma
        // (sigma = 80). Each is a transfer and an ack; the last few ms are in flight.
        let transfers = delivered / 2;
        assert!((6_000..=6_800).contains(&transfers), "{delivered}");
        // Acks are reported in batches of 1,024 per node.
        assert!(
            acked <= transfers && transfers - acked < 16 * 1024,
            "{acked}"
        );
        assert_eq!(
            run(config, 2).1.workload.delivered,
            delivered,
            "deterministic"
        );
    }
}
