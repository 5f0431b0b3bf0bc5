//! Faultline's network layer over madsim time: per-link latency distributions and drop
//! rates, and the time-windowed faults that change them (partitions, omission, timing).
//!
//! madsim's own network has one global latency range and loss rate and a 1 ms floor;
//! this layer samples every one-way delay exactly, in nanoseconds.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::nodes::{NodeId, NodeSet};
use super::queue::Nanos;
use super::sampler::Sampler;

/// Why a message was lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// A partition cut the link.
    Partition,
    /// An omission fault dropped it.
    Omission,
    /// The link's background loss rate dropped it.
    Loss,
}

impl DropReason {
    /// Short name for traces.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Partition => "partition",
            DropReason::Omission => "omission",
            DropReason::Loss => "loss",
        }
    }
}

/// What happens to one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// Delivered after this one-way delay.
    Deliver {
        /// One-way delay, nanoseconds.
        latency_ns: Nanos,
    },
    /// Lost.
    Drop(DropReason),
}

/// A per-link override.
#[derive(Clone, Debug)]
pub struct LinkRule {
    /// Senders.
    pub from: NodeSet,
    /// Receivers.
    pub to: NodeSet,
    /// Latency on these links, if overridden.
    pub latency: Option<Sampler>,
    /// Drop rate on these links, if overridden.
    pub drop_rate: Option<f64>,
}

/// A network fault while it is active.
#[derive(Clone, Debug)]
pub enum NetFault {
    /// Nodes in different groups cannot talk.
    Groups(Vec<NodeSet>),
    /// Messages from `from` to `to` are lost.
    OneWay {
        /// Senders.
        from: NodeSet,
        /// Receivers.
        to: NodeSet,
    },
    /// These nodes neither send nor receive.
    Isolate(NodeSet),
    /// A fraction of messages from `from` to `to` are lost.
    Omission {
        /// Senders.
        from: NodeSet,
        /// Receivers.
        to: NodeSet,
        /// Fraction lost.
        rate: f64,
    },
    /// Messages from `from` to `to` take extra time.
    Timing {
        /// Senders.
        from: NodeSet,
        /// Receivers.
        to: NodeSet,
        /// Extra one-way delay.
        extra: Sampler,
    },
}

impl NetFault {
    fn cuts(&self, from: NodeId, to: NodeId) -> bool {
        match self {
            NetFault::Groups(groups) => {
                let group_of = |node| groups.iter().position(|group| group.contains(node));
                matches!((group_of(from), group_of(to)), (Some(a), Some(b)) if a != b)
            }
            NetFault::OneWay {
                from: senders,
                to: receivers,
            } => senders.contains(from) && receivers.contains(to),
            NetFault::Isolate(nodes) => nodes.contains(from) || nodes.contains(to),
            NetFault::Omission { .. } | NetFault::Timing { .. } => false,
        }
    }
}

/// The network: defaults, link overrides and active faults.
#[derive(Clone, Debug)]
pub struct Network {
    latency: Sampler,
    drop_rate: f64,
    links: Vec<LinkRule>,
    /// Active faults by fault id, each with its own random stream (so one fault's draws
    /// do not shift another's, nor the latency draws); few at a time, so a Vec beats a
    /// map.
    active: Vec<(u32, NetFault, ChaCha8Rng)>,
}

impl Network {
    /// A network with default latency and loss, and per-link overrides.
    pub fn new(latency: Sampler, drop_rate: f64, links: Vec<LinkRule>) -> Self {
        debug_assert!((0.0..=1.0).contains(&drop_rate));
        Network {
            latency,
            drop_rate,
            links,
            active: Vec::new(),
        }
    }

    /// Starts fault `id`, which draws (omission and timing) from `rng`.
    pub fn activate(&mut self, id: u32, fault: NetFault, rng: ChaCha8Rng) {
        debug_assert!(self.active.iter().all(|(active, _, _)| *active != id));
        self.active.push((id, fault, rng));
    }

    /// Ends fault `id` (no-op if it is not active).
    pub fn deactivate(&mut self, id: u32) {
        self.active.retain(|(active, _, _)| *active != id);
    }

    /// Decides the fate of one message sent now from `from` to `to`: latency and
    /// background loss draw from `rng`, each active fault from its own stream.
    #[inline]
    pub fn route(&mut self, from: NodeId, to: NodeId, rng: &mut impl Rng) -> Route {
        let mut extra_ns: Nanos = 0;
        for (_, fault, fault_rng) in &mut self.active {
            if fault.cuts(from, to) {
                return Route::Drop(DropReason::Partition);
            }
            match fault {
                NetFault::Omission {
                    from: senders,
                    to: receivers,
                    rate,
                } if senders.contains(from)
                    && receivers.contains(to)
                    && fault_rng.gen::<f64>() < *rate =>
                {
                    return Route::Drop(DropReason::Omission);
                }
                NetFault::Timing {
                    from: senders,
                    to: receivers,
                    extra,
                } if senders.contains(from) && receivers.contains(to) => {
                    extra_ns = extra_ns.saturating_add(extra.sample_ns(fault_rng));
                }
                _ => {}
            }
        }
        let (latency, drop_rate) = self.link(from, to);
        if drop_rate > 0.0 && rng.gen::<f64>() < drop_rate {
            return Route::Drop(DropReason::Loss);
        }
        Route::Deliver {
            latency_ns: latency.sample_ns(rng).saturating_add(extra_ns),
        }
    }

    #[inline]
    fn link(&self, from: NodeId, to: NodeId) -> (&Sampler, f64) {
        for rule in &self.links {
            if rule.from.contains(from) && rule.to.contains(to) {
                return (
                    rule.latency.as_ref().unwrap_or(&self.latency),
                    rule.drop_rate.unwrap_or(self.drop_rate),
                );
            }
        }
        (&self.latency, self.drop_rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn fault_rng(id: u64) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(100 + id)
    }

    fn set(nodes: &[NodeId]) -> NodeSet {
        let mut set = NodeSet::empty(8);
        nodes.iter().for_each(|&node| set.insert(node));
        set
    }

    #[test]
    fn partitions_cut_the_right_directions() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut net = Network::new(Sampler::Constant(1_000), 0.0, Vec::new());
        net.activate(
            0,
            NetFault::OneWay {
                from: set(&[5]),
                to: set(&[0, 1]),
            },
            fault_rng(0),
        );
        assert_eq!(
            net.route(5, 0, &mut rng),
            Route::Drop(DropReason::Partition)
        );
        assert_eq!(
            net.route(0, 5, &mut rng),
            Route::Deliver { latency_ns: 1_000 }
        );
        net.deactivate(0);
        net.activate(
            1,
            NetFault::Groups(vec![set(&[0, 1]), set(&[5])]),
            fault_rng(1),
        );
        assert_eq!(
            net.route(0, 5, &mut rng),
            Route::Drop(DropReason::Partition)
        );
        assert_eq!(
            net.route(5, 1, &mut rng),
            Route::Drop(DropReason::Partition)
        );
        assert_eq!(
            net.route(0, 1, &mut rng),
            Route::Deliver { latency_ns: 1_000 }
        );
        assert_eq!(
            net.route(2, 5, &mut rng),
            Route::Deliver { latency_ns: 1_000 }
        );
    }

    #[test]
    fn isolation_cuts_every_link_of_the_node() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut net = Network::new(Sampler::Constant(1_000), 0.0, Vec::new());
        net.activate(2, NetFault::Isolate(set(&[3])), fault_rng(2));
        assert_eq!(
            net.route(3, 0, &mut rng),
            Route::Drop(DropReason::Partition)
        );
        assert_eq!(
            net.route(0, 3, &mut rng),
            Route::Drop(DropReason::Partition)
        );
        assert_eq!(
            net.route(0, 1, &mut rng),
            Route::Deliver { latency_ns: 1_000 }
        );
        net.deactivate(2);
        assert_eq!(
            net.route(3, 0, &mut rng),
            Route::Deliver { latency_ns: 1_000 }
        );
    }

    #[test]
    fn omission_drops_about_its_rate() {
        // 100k messages at q = 0.3: sd of the count is ~145, so +-1% (1,000) is > 6 sd.
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut net = Network::new(Sampler::Constant(1), 0.0, Vec::new());
        net.activate(
            0,
            NetFault::Omission {
                from: set(&[0]),
                to: set(&[1]),
                rate: 0.3,
            },
            fault_rng(0),
        );
        let dropped = (0..100_000)
            .filter(|_| matches!(net.route(0, 1, &mut rng), Route::Drop(DropReason::Omission)))
            .count();
        assert!((29_000..=31_000).contains(&dropped), "dropped {dropped}");
    }

    #[test]
    fn a_faults_draws_do_not_shift_the_latency_draws() {
        // Messages 2 -> 3 interleaved with messages 0 -> 1 under an omission fault that
        // draws for every 0 -> 1 message but drops none: all latencies are the same with
        // and without the fault (with one stream for both, each fault draw shifted them).
        let latencies = |with_fault: bool| {
            let mut rng = ChaCha8Rng::seed_from_u64(4);
            let mut net = Network::new(Sampler::Uniform(1, 1_000_000), 0.0, Vec::new());
            if with_fault {
                let omission = NetFault::Omission {
                    from: set(&[0]),
                    to: set(&[1]),
                    rate: 0.0,
                };
                net.activate(0, omission, fault_rng(0));
            }
            (0..1_000)
                .filter_map(|i| {
                    let (from, to) = if i % 2 == 0 { (0, 1) } else { (2, 3) };
                    match net.route(from, to, &mut rng) {
                        Route::Deliver { latency_ns } => Some(latency_ns),
                        Route::Drop(_) => None,
                    }
                })
                .collect::<Vec<_>>()
        };
        let (with, without) = (latencies(true), latencies(false));
        assert_eq!(with.len(), 1_000);
        assert_eq!(with, without);
    }

    #[test]
    fn timing_adds_latency_and_links_override_defaults() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let link = LinkRule {
            from: set(&[0]),
            to: set(&[1]),
            latency: Some(Sampler::Constant(7)),
            drop_rate: None,
        };
        let mut net = Network::new(Sampler::Constant(100), 0.0, vec![link]);
        assert_eq!(net.route(0, 1, &mut rng), Route::Deliver { latency_ns: 7 });
        assert_eq!(
            net.route(1, 0, &mut rng),
            Route::Deliver { latency_ns: 100 }
        );
        net.activate(
            4,
            NetFault::Timing {
                from: set(&[1]),
                to: set(&[0]),
                extra: Sampler::Constant(50),
            },
            fault_rng(4),
        );
        assert_eq!(
            net.route(1, 0, &mut rng),
            Route::Deliver { latency_ns: 150 }
        );
    }
}
