//! The bank workload's trace vocabulary. A record's node is the account and its peer
//! the other account of a message (both as indices `acct-i`; a receive's line names the
//! sender, its peer, first), its id the frame's sequence number. Event records carry every clock, so the causal checks can be
//! recomputed from `trace.jsonl` alone.

use std::io::{self, Write};

use super::account::{Event, EventKind, Recovery, Skip, What};
use crate::engine::network::DropReason;
use crate::engine::trace::TraceEvent;

/// Every kind's name (`ev`), as [`TraceEvent::name`] gives it (`faultline trace --kind`
/// checks its names against them).
pub const KINDS: &[&str] = &[
    "send",
    "receive",
    "local",
    "recover",
    "snapshot_start",
    "snapshot_part",
    "snapshot_done",
    "drop",
    "node_down",
    "crash",
    "restart",
    "skip",
    "halt",
];

/// One kind of bank trace record.
#[derive(Clone, Copy, Debug)]
pub enum BankTrace<'a> {
    /// A send, receive or local event with its clocks (and their fingerprint).
    Event(&'a Event, u64),
    /// A restarted account recovered from its log.
    Recover(&'a Recovery),
    /// A snapshot was started at the record's node.
    SnapshotStart {
        /// The snapshot.
        snapshot: u32,
    },
    /// The record's node finished its part of a snapshot.
    SnapshotPart {
        /// The snapshot.
        snapshot: u32,
    },
    /// Every account's part is in: the snapshot is complete.
    SnapshotDone {
        /// The snapshot.
        snapshot: u32,
    },
    /// A message was lost in the network.
    Drop(DropReason),
    /// A message reached a node that is down.
    NodeDown,
    /// An account crashed.
    Crash,
    /// An account restarted.
    Restart,
    /// An account skipped a transfer.
    Skip(Skip),
    /// An account stopped.
    Halt,
}

fn what_fields(out: &mut dyn Write, what: What) -> io::Result<()> {
    match what {
        What::Transfer(amount) => write!(out, ",\"what\":\"transfer\",\"amount\":{amount}"),
        What::Marker(snapshot) => write!(out, ",\"what\":\"marker\",\"snapshot\":{snapshot}"),
        What::Initiate(snapshot) => write!(out, ",\"what\":\"initiate\",\"snapshot\":{snapshot}"),
    }
}

impl TraceEvent for BankTrace<'_> {
    const NODE: &'static str = "acct";
    const PEER: &'static str = "peer";

    fn code(&self) -> u8 {
        match self {
            BankTrace::Event(event, _) => match event.kind {
                EventKind::Send { .. } => 1,
                EventKind::Receive { .. } => 2,
                EventKind::Local => 3,
            },
            BankTrace::Recover(_) => 4,
            BankTrace::SnapshotStart { .. } => 5,
            BankTrace::SnapshotPart { .. } => 6,
            BankTrace::SnapshotDone { .. } => 7,
            BankTrace::Drop(_) => 8,
            BankTrace::NodeDown => 9,
            BankTrace::Crash => 10,
            BankTrace::Restart => 11,
            // 12 and 13 are the kernel's.
            BankTrace::Skip(_) => 14,
            BankTrace::Halt => 15,
        }
    }

    fn detail(&self) -> u64 {
        match *self {
            BankTrace::Event(event, print) => print ^ event.pt_ns.rotate_left(17),
            BankTrace::Recover(recovery) => {
                recovery.records
                    ^ recovery.valid_bytes.rotate_left(20)
                    ^ recovery.balance.rotate_left(40)
            }
            BankTrace::SnapshotStart { snapshot }
            | BankTrace::SnapshotPart { snapshot }
            | BankTrace::SnapshotDone { snapshot } => u64::from(snapshot),
            BankTrace::Drop(reason) => reason as u64,
            BankTrace::Skip(skip) => skip as u64,
            BankTrace::NodeDown | BankTrace::Crash | BankTrace::Restart | BankTrace::Halt => 0,
        }
    }

    fn sent_by_peer(&self) -> bool {
        // A receive's peer sent the frame.
        matches!(self, BankTrace::Event(event, _) if matches!(event.kind, EventKind::Receive { .. }))
    }

    fn name(&self) -> &'static str {
        match self {
            BankTrace::Event(event, _) => match event.kind {
                EventKind::Send { .. } => "send",
                EventKind::Receive { .. } => "receive",
                EventKind::Local => "local",
            },
            BankTrace::Recover(_) => "recover",
            BankTrace::SnapshotStart { .. } => "snapshot_start",
            BankTrace::SnapshotPart { .. } => "snapshot_part",
            BankTrace::SnapshotDone { .. } => "snapshot_done",
            BankTrace::Drop(_) => "drop",
            BankTrace::NodeDown => "node_down",
            BankTrace::Crash => "crash",
            BankTrace::Restart => "restart",
            BankTrace::Skip(_) => "skip",
            BankTrace::Halt => "halt",
        }
    }

    fn write_fields(&self, out: &mut dyn Write) -> io::Result<()> {
        match *self {
            BankTrace::Event(event, _) => {
                let stamp = &event.stamp;
                write!(
                    out,
                    ",\"slot\":{},\"index\":{},\"lamport\":{},\"hlc_l\":{},\"hlc_c\":{},\"pt_ns\":{},\"vc\":[",
                    stamp.event.slot, stamp.event.index, stamp.lamport, stamp.hlc.l_ns, stamp.hlc.c, event.pt_ns
                )?;
                for (index, entry) in stamp.vc.as_slice().iter().enumerate() {
                    if index > 0 {
                        out.write_all(b",")?;
                    }
                    write!(out, "{entry}")?;
                }
                out.write_all(b"]")?;
                if let EventKind::Receive { sent_by, .. } = event.kind {
                    write!(out, ",\"sent_by\":[{},{}]", sent_by.slot, sent_by.index)?;
                }
                what_fields(out, event.what)
            }
            BankTrace::Recover(recovery) => {
                write!(
                    out,
                    ",\"slot\":{},\"records\":{},\"valid_bytes\":{},\"cut_bytes\":{},\"stop\":\"{}\",\"balance\":{}",
                    recovery.slot, recovery.records, recovery.valid_bytes, recovery.cut_bytes, recovery.stop, recovery.balance
                )?;
                if let Some(from) = recovery.resumed_from {
                    write!(out, ",\"resumed_from\":[{},{}]", from.slot, from.index)?;
                }
                Ok(())
            }
            BankTrace::SnapshotStart { snapshot }
            | BankTrace::SnapshotPart { snapshot }
            | BankTrace::SnapshotDone { snapshot } => write!(out, ",\"snapshot\":{snapshot}"),
            BankTrace::Drop(reason) => write!(out, ",\"reason\":\"{}\"", reason.as_str()),
            BankTrace::Skip(skip) => write!(
                out,
                ",\"reason\":\"{}\"",
                match skip {
                    Skip::Funds => "funds",
                    Skip::Window => "window",
                    Skip::Log => "log",
                }
            ),
            BankTrace::NodeDown | BankTrace::Crash | BankTrace::Restart | BankTrace::Halt => Ok(()),
        }
    }
}
