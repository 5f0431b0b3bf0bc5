//! Group commit: messages that may leave a node only once its log is durable.
//!
//! A process that must not send before its log is on disk (a bank account debits and
//! logs a transfer before the frame leaves) asks for a *barrier* instead of waiting for
//! an fsync. The barrier begins an fsync of the file; every message the process sends
//! from then on is held here, in order, and released when an fsync that covers all the
//! bytes written before it completes. The process goes on taking input meanwhile, as a
//! database's log writer does (group commit: DeWitt et al., "Implementation Techniques
//! for Main Memory Database Systems", SIGMOD 1984; Helland et al., "Group Commit Timers
//! and High Volume Transaction Systems", 1987).
//!
//! At most one fsync is in flight per node. A barrier while one is in flight asks for
//! one more, begun when the first completes: it covers every byte written before it
//! begins, so the messages held after the second barrier leave at its completion, and
//! any number of barriers meanwhile share it. The runtime completes the fsync at its
//! time (the kernel's event), without waking the process.
//!
//! Sans-IO in the quinn-proto sense: the caller hands in the disk and the time, and
//! schedules the completion at the time [`GroupCommit::barrier`] and
//! [`GroupCommit::complete`] return. The disk is anything that begins and completes
//! fsyncs ([`Fsync`]): the simulated disk, or a real file on the live backend
//! (`barrier_with` and `complete_with`, whose ticket stands for the fsync in flight).
//!
//! # Invariants
//!
//! - A message is held exactly when an fsync is in flight at its send, and leaves in
//!   send order.
//! - `first_batch` (when set) is at most the number held: the messages sent before the
//!   barrier that asked for the next fsync.
//! - A crash ([`GroupCommit::clear`]) or an fsync that fails drops everything held:
//!   those messages never left, and nothing is held while no fsync is in flight.

use std::collections::VecDeque;

use super::disk::{DiskError, FsyncTicket};
use super::nodes::NodeId;
use super::process::NodeDisk;
use super::queue::Nanos;

/// What a group commit syncs: the simulated disk (its fsync takes a drawn latency and
/// completes at the kernel's event) or, with the `live` feature, a real file.
pub trait Fsync {
    /// What names the fsync in flight.
    type Ticket: Copy;

    /// Begins an fsync of `file` at `now_ns`: it covers every byte written so far.
    fn begin_fsync(&mut self, file: &str, now_ns: Nanos) -> Result<Self::Ticket, DiskError>;

    /// Completes the fsync `ticket` names at `now_ns`.
    fn complete_fsync(&mut self, ticket: Self::Ticket, now_ns: Nanos) -> Result<(), DiskError>;
}

impl Fsync for NodeDisk {
    type Ticket = FsyncTicket;

    #[inline]
    fn begin_fsync(&mut self, file: &str, now_ns: Nanos) -> Result<FsyncTicket, DiskError> {
        let NodeDisk { disk, rng } = self;
        disk.begin_fsync(file, now_ns, rng)
    }

    #[inline]
    fn complete_fsync(&mut self, ticket: FsyncTicket, now_ns: Nanos) -> Result<(), DiskError> {
        self.disk.complete_fsync(ticket, now_ns)
    }
}

/// Most messages one node holds behind its fsyncs (past this, sends are dropped and
/// counted; a process with a bounded window never gets near it).
pub const HELD_LIMIT: usize = 1 << 20;

/// One node's group commit (see the module documentation); `T` names the fsync in
/// flight ([`Fsync::Ticket`]).
#[derive(Debug)]
pub struct GroupCommit<M, T = FsyncTicket> {
    /// The file the barriers sync (one per node: a process has one log).
    file: Option<String>,
    /// The fsync in flight.
    in_flight: Option<T>,
    /// A barrier came while `in_flight` was: `held[..first_batch]` leave when it
    /// completes, and the rest after the next fsync.
    first_batch: Option<usize>,
    held: VecDeque<(NodeId, M)>,
    /// Sends dropped at [`HELD_LIMIT`].
    dropped: u64,
}

impl<M, T> Default for GroupCommit<M, T> {
    fn default() -> Self {
        GroupCommit {
            file: None,
            in_flight: None,
            first_batch: None,
            held: VecDeque::new(),
            dropped: 0,
        }
    }
}

impl<M> GroupCommit<M> {
    /// [`GroupCommit::barrier_with`] on the simulated disk: returns when to call
    /// [`GroupCommit::complete`] if it began an fsync.
    #[inline]
    pub fn barrier(
        &mut self,
        disk: &mut NodeDisk,
        file: &str,
        now_ns: Nanos,
    ) -> Result<Option<Nanos>, DiskError> {
        Ok(self
            .barrier_with(disk, file, now_ns)?
            .map(|ticket| ticket.done_at_ns))
    }

    /// [`GroupCommit::complete_with`] on the simulated disk: returns when to call this
    /// again.
    #[inline]
    pub fn complete(
        &mut self,
        disk: &mut NodeDisk,
        now_ns: Nanos,
        release: impl FnMut(NodeId, M),
    ) -> Result<Option<Nanos>, DiskError> {
        Ok(self
            .complete_with(disk, now_ns, release)?
            .map(|ticket| ticket.done_at_ns))
    }
}

impl<M, T: Copy> GroupCommit<M, T> {
    /// Sends `msg` to `to`: into `send` at once, or held until the fsync in flight (and
    /// the one after it, if asked for) completes.
    #[inline]
    pub fn send(&mut self, to: NodeId, msg: M, send: impl FnOnce(NodeId, M)) {
        if self.in_flight.is_none() {
            debug_assert!(self.held.is_empty() && self.first_batch.is_none());
            send(to, msg);
        } else if self.held.len() < HELD_LIMIT {
            self.held.push_back((to, msg));
        } else {
            self.dropped += 1;
        }
    }

    /// A barrier on `file`: the messages sent from now on leave once every byte written
    /// to it so far is durable. Returns the ticket of the fsync it began, on which to
    /// call [`GroupCommit::complete_with`] (`None`: one is in flight already, and the
    /// next is asked for).
    pub fn barrier_with<D: Fsync<Ticket = T>>(
        &mut self,
        disk: &mut D,
        file: &str,
        now_ns: Nanos,
    ) -> Result<Option<T>, DiskError> {
        match &self.file {
            Some(synced) if synced != file => {
                return Err(DiskError::Config(format!(
                    "a group commit syncs one file ({synced}), not also {file}"
                )))
            }
            Some(_) => {}
            None => self.file = Some(file.to_owned()),
        }
        if self.in_flight.is_some() {
            if self.first_batch.is_none() {
                self.first_batch = Some(self.held.len());
            }
            return Ok(None);
        }
        assert!(
            self.held.is_empty(),
            "messages held with no fsync in flight"
        );
        let ticket = disk.begin_fsync(file, now_ns)?;
        self.in_flight = Some(ticket);
        Ok(Some(ticket))
    }

    /// Completes the fsync in flight at `now_ns` (its time), hands the messages it
    /// releases to `release` in send order, and begins the next fsync if one was asked
    /// for: returns its ticket, on which to call this again. `Ok(None)` with nothing in
    /// flight (a crash came between).
    pub fn complete_with<D: Fsync<Ticket = T>>(
        &mut self,
        disk: &mut D,
        now_ns: Nanos,
        mut release: impl FnMut(NodeId, M),
    ) -> Result<Option<T>, DiskError> {
        let Some(ticket) = self.in_flight.take() else {
            return Ok(None);
        };
        if let Err(err) = disk.complete_fsync(ticket, now_ns) {
            // Nothing covers them any more: they never leave.
            self.clear();
            return Err(err);
        }
        let asked_for_next = self.first_batch.take();
        let leaving = asked_for_next.unwrap_or(self.held.len());
        assert!(
            leaving <= self.held.len(),
            "a first batch past the held messages"
        );
        for (to, msg) in self.held.drain(..leaving) {
            release(to, msg);
        }
        if asked_for_next.is_none() {
            return Ok(None);
        }
        // A barrier came while that fsync was in flight: the next covers it.
        let file = self.file.as_deref().expect("a barrier named the file");
        match disk.begin_fsync(file, now_ns) {
            Ok(ticket) => {
                self.in_flight = Some(ticket);
                Ok(Some(ticket))
            }
            Err(err) => {
                // Nothing will cover them: they never leave.
                self.clear();
                Err(err)
            }
        }
    }

    /// A crash: what was held never left, and the fsync in flight is void.
    pub fn clear(&mut self) {
        self.in_flight = None;
        self.first_batch = None;
        self.held.clear();
    }

    /// Messages held now.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Sends dropped because too many were held.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::disk::{Disk, DiskConfig};
    use crate::engine::sampler::Sampler;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    const FILE: &str = "wal";

    fn node_disk(fsync_ns: Nanos) -> NodeDisk {
        NodeDisk {
            disk: Disk::new(DiskConfig {
                fsync_latency: Sampler::Constant(fsync_ns),
                ..DiskConfig::default()
            })
            .unwrap(),
            rng: ChaCha8Rng::seed_from_u64(1),
        }
    }

    /// A disk with a 5-byte record and a group commit whose fsync of it is in flight
    /// (done at 10 ns).
    fn in_flight<M>() -> (NodeDisk, GroupCommit<M>) {
        let mut disk = node_disk(10);
        let mut commit = GroupCommit::default();
        disk.disk.append(FILE, b"debit").unwrap();
        assert_eq!(commit.barrier(&mut disk, FILE, 0).unwrap(), Some(10));
        (disk, commit)
    }

    #[test]
    fn sends_wait_for_the_fsync_that_covers_them_and_later_barriers_share_one() {
        let mut disk = node_disk(10);
        let mut commit = GroupCommit::default();
        let mut out = Vec::new();
        commit.send(1, "before", |to, msg| out.push((to, msg)));
        assert_eq!(
            out,
            [(1, "before")],
            "nothing in flight: a send leaves at once"
        );
        disk.disk.append(FILE, b"debit").unwrap();
        assert_eq!(commit.barrier(&mut disk, FILE, 0).unwrap(), Some(10));
        commit.send(2, "frame", |to, msg| out.push((to, msg)));
        disk.disk.append(FILE, b"credit").unwrap();
        // In flight: no fsync now, the next one is asked for.
        assert_eq!(commit.barrier(&mut disk, FILE, 3).unwrap(), None);
        assert_eq!(commit.barrier(&mut disk, FILE, 4).unwrap(), None);
        commit.send(3, "ack", |to, msg| out.push((to, msg)));
        assert_eq!(out.len(), 1);
        assert_eq!(commit.held(), 2);
        let mut released = Vec::new();
        let next = commit
            .complete(&mut disk, 10, |to, msg| released.push((to, msg)))
            .unwrap();
        assert_eq!(
            released,
            [(2, "frame")],
            "the ack's record is not durable yet"
        );
        assert_eq!(disk.disk.durable_len(FILE).unwrap(), 5);
        assert_eq!(next, Some(20), "one more fsync for both later barriers");
        let next = commit
            .complete(&mut disk, 20, |to, msg| released.push((to, msg)))
            .unwrap();
        assert_eq!(next, None);
        assert_eq!(released, [(2, "frame"), (3, "ack")]);
        assert_eq!(disk.disk.durable_len(FILE).unwrap(), 11);
        assert_eq!(commit.held(), 0);
    }

    #[test]
    fn a_crash_drops_what_was_held_and_voids_the_fsync() {
        let (mut disk, mut commit) = in_flight();
        commit.send(2, "frame", |_, _| panic!("held"));
        commit.clear();
        disk.disk.crash(&mut disk.rng);
        let next = commit
            .complete(&mut disk, 10, |_, _: &str| panic!("nothing is released"))
            .unwrap();
        assert_eq!(next, None);
        assert_eq!(disk.disk.durable_len(FILE).unwrap(), 0);
        let mut out = Vec::new();
        commit.send(2, "after", |to, msg| out.push((to, msg)));
        assert_eq!(out, [(2, "after")]);
    }

    #[test]
    fn a_failed_completion_drops_what_was_held() {
        let (mut disk, mut commit) = in_flight();
        commit.send(2, "frame", |_, _| panic!("held"));
        disk.disk.remove(FILE).unwrap();
        let err = commit
            .complete(&mut disk, 10, |_, _: &str| panic!("nothing is released"))
            .unwrap_err();
        assert!(err.to_string().contains("not pending"), "{err}");
        assert_eq!(commit.held(), 0);
        let mut out = Vec::new();
        commit.send(2, "after", |to, msg| out.push((to, msg)));
        assert_eq!(
            out,
            [(2, "after")],
            "nothing in flight: a send leaves at once"
        );
    }

    #[test]
    fn sends_past_the_limit_are_dropped_and_counted() {
        let (mut disk, mut commit) = in_flight();
        for _ in 0..HELD_LIMIT + 3 {
            commit.send(1, (), |_, _| panic!("held"));
        }
        assert_eq!(commit.held(), HELD_LIMIT);
        assert_eq!(commit.dropped(), 3);
        let mut released = 0;
        commit
            .complete(&mut disk, 10, |_, ()| released += 1)
            .unwrap();
        assert_eq!(released, HELD_LIMIT);
    }

    #[test]
    fn a_second_file_is_refused() {
        let mut disk = node_disk(10);
        let mut commit: GroupCommit<()> = GroupCommit::default();
        disk.disk.append(FILE, b"x").unwrap();
        disk.disk.append("other", b"y").unwrap();
        commit.barrier(&mut disk, FILE, 0).unwrap();
        let err = commit.barrier(&mut disk, "other", 1).unwrap_err();
        assert!(err.to_string().contains("one file"), "{err}");
    }

    #[derive(Clone, Debug)]
    enum Op {
        Write(u8),
        Barrier,
        Send,
        /// Run the completion that is due (if any).
        Complete,
        Crash,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (1u8..20).prop_map(Op::Write),
            2 => Just(Op::Barrier),
            3 => Just(Op::Send),
            2 => Just(Op::Complete),
            1 => Just(Op::Crash),
        ]
    }

    proptest! {
        /// Laws: a message leaves only once every byte written before the last barrier
        /// ahead of its send is durable; messages leave in send order; once the due
        /// completions have run, nothing is held.
        #[test]
        fn a_message_leaves_only_behind_a_durable_log(
            ops in proptest::collection::vec(op(), 1..80),
            fsync_ns in 1u64..50,
        ) {
            let mut disk = node_disk(fsync_ns);
            let mut commit = GroupCommit::default();
            let mut now_ns: Nanos = 0;
            let mut due: Option<Nanos> = None;
            // The log length at the last barrier (what the next sends need durable).
            let mut needed = 0u64;
            let mut next_id = 0u32;
            let mut released: Vec<(u32, u64)> = Vec::new();
            for op in ops.iter().chain(std::iter::repeat_n(&Op::Complete, 3)) {
                match op {
                    Op::Write(len) => {
                        disk.disk.append(FILE, &vec![7; usize::from(*len)]).unwrap();
                    }
                    Op::Barrier => {
                        if disk.disk.len(FILE).is_err() {
                            disk.disk.append(FILE, b"x").unwrap();
                        }
                        needed = disk.disk.len(FILE).unwrap();
                        if let Some(at) = commit.barrier(&mut disk, FILE, now_ns).unwrap() {
                            prop_assert!(due.is_none(), "two fsyncs in flight");
                            due = Some(at);
                        }
                    }
                    Op::Send => {
                        let id = next_id;
                        next_id += 1;
                        commit.send(0, (id, needed), |_, msg| released.push(msg));
                    }
                    Op::Complete => {
                        if let Some(at) = due.take() {
                            now_ns = now_ns.max(at);
                            let before = released.len();
                            due = commit
                                .complete(&mut disk, now_ns, |_, msg| released.push(msg))
                                .unwrap();
                            let durable = disk.disk.durable_len(FILE).unwrap();
                            for &(_, need) in &released[before..] {
                                prop_assert!(need <= durable, "left before its log was durable");
                            }
                        }
                    }
                    Op::Crash => {
                        commit.clear();
                        due = None;
                        let NodeDisk { disk, rng } = &mut disk;
                        disk.crash(rng);
                        needed = 0;
                    }
                }
                now_ns += 1;
            }
            prop_assert!(due.is_none() && commit.held() == 0, "held after the completions");
            prop_assert!(
                released.windows(2).all(|pair| pair[0].0 < pair[1].0),
                "out of send order"
            );
        }
    }
}
