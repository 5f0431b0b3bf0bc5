//! The store's processes, written as a service would be: `async fn main(ctx)` per node,
//! nothing but the [`Ctx`] to talk with.
//!
//! Primary-backup over three replicas: `replica-0` is the primary, the other two its
//! backups. A write goes into the primary's write-ahead log; the primary replicates it
//! once the log is durable (its sends wait behind the fsync, `ctx.barrier`), a backup
//! appends it, makes it durable and acknowledges, and the primary answers the client
//! once one backup has acknowledged: a write is acknowledged only when it is durable
//! on two of the three replicas. Reads go to the primary and see acknowledged writes
//! only. A restarted replica replays its log; the primary sends each backup what it
//! lacks, from what the backup last acknowledged.
//!
//! The bug: with `ack_before_durable`, the primary counts a write as done as soon as it
//! has appended it (reads see it, the client is answered), before the fsync and the
//! backups: a crash loses the unsynced tail, and with it writes the clients were told
//! are stored and reads have returned.

use std::collections::BTreeMap;

use faultline::engine::nodes::NodeId;
use faultline::engine::process::{Ctx, Incoming};
use faultline::workload::history::OpReport;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// The write-ahead log's file.
pub const WAL: &str = "wal";
/// Bytes of one log record: key, value, checksum.
pub const RECORD_BYTES: usize = 24;
/// The primary's node id.
pub const PRIMARY: NodeId = 0;
/// Replicas (the primary and two backups).
pub const REPLICAS: u32 = 3;
/// Most log records the primary resends to a backup at once.
const RESEND_BATCH: u64 = 64;
/// Most records a backup keeps ahead of a gap.
const MAX_AHEAD: usize = 4_096;
/// The primary's resend timer, ns.
const RESEND_EVERY_NS: u64 = 50_000_000;
/// A write's value is its client's node times this, plus its request number.
pub const VALUE_BASE: u64 = 1_000_000;
/// Timer tokens.
const TOKEN_RESEND: u64 = 1;
const TOKEN_NEXT_REQUEST: u64 = 2;
/// A client's request timers carry its request number above this.
const TOKEN_TIMEOUT_BASE: u64 = 1 << 32;

/// What the nodes send each other. `req` is a client's request number, `index` a
/// 1-based position in the primary's log. Serde: the live backend sends it as a
/// datagram (the simulator needs no more than the type).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Msg {
    /// Client to primary: store `value` under `key`.
    Put {
        /// The request.
        req: u64,
        /// The key.
        key: u64,
        /// The value.
        value: u64,
    },
    /// Client to primary: read `key`.
    Get {
        /// The request.
        req: u64,
        /// The key.
        key: u64,
    },
    /// Primary to client: the write is stored at `index`.
    PutOk {
        /// The request.
        req: u64,
        /// Its log index.
        index: u64,
    },
    /// Primary to client: the key holds `value`, written at `index` (0: never written).
    GetOk {
        /// The request.
        req: u64,
        /// The value.
        value: u64,
        /// The log index that wrote it.
        index: u64,
    },
    /// Primary to backup: log record `index`.
    Replicate {
        /// Its log index.
        index: u64,
        /// The key.
        key: u64,
        /// The value.
        value: u64,
    },
    /// Backup to primary: my log is durable up to `len` records.
    Ack {
        /// Records durable at the backup.
        len: u64,
    },
}

/// What the nodes report (what a real store would log or export).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Report {
    /// A replica booted and replayed its log.
    Recovered {
        /// Records replayed.
        records: u64,
    },
    /// A client sent a request or got its answer (the history the checks read).
    Op(OpReport),
    /// A client gave up on a request.
    TimedOut {
        /// The request.
        req: u64,
    },
}

/// What the processes need of the config.
#[derive(Clone, Debug, PartialEq)]
pub struct StoreConfig {
    /// Keys the clients use.
    pub keys: u64,
    /// Time between a client's requests, ns.
    pub think_ns: u64,
    /// How long a client waits for an answer, ns.
    pub timeout_ns: u64,
    /// Fraction of requests that are writes.
    pub write_fraction: f64,
    /// The bug: acknowledge a write before it is durable anywhere.
    pub ack_before_durable: bool,
}

/// A log record's checksum (FNV-1a of key and value).
fn checksum(key: u64, value: u64) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.to_le_bytes().into_iter().chain(value.to_le_bytes()) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// One log record's bytes.
pub fn encode(key: u64, value: u64) -> [u8; RECORD_BYTES] {
    let mut bytes = [0; RECORD_BYTES];
    bytes[..8].copy_from_slice(&key.to_le_bytes());
    bytes[8..16].copy_from_slice(&value.to_le_bytes());
    bytes[16..].copy_from_slice(&checksum(key, value).to_le_bytes());
    bytes
}

/// The records of a log, up to the first torn or damaged one.
pub fn decode(bytes: &[u8]) -> Vec<(u64, u64)> {
    let word = |chunk: &[u8], at: usize| {
        u64::from_le_bytes(chunk[at..at + 8].try_into().expect("8 bytes"))
    };
    bytes
        .chunks_exact(RECORD_BYTES)
        .map(|chunk| (word(chunk, 0), word(chunk, 8), word(chunk, 16)))
        .take_while(|&(key, value, sum)| sum == checksum(key, value))
        .map(|(key, value, _)| (key, value))
        .collect()
}

/// This node's log as it reads after a boot; a torn tail is cut.
fn recover(ctx: &Ctx<Msg, Report>) -> Vec<(u64, u64)> {
    let Some(mut wal) = ctx.file(WAL) else {
        return Vec::new();
    };
    let len = wal.len().unwrap_or(0);
    let bytes = if len == 0 {
        Vec::new()
    } else {
        wal.read(0, len).unwrap_or_default()
    };
    let records = decode(&bytes);
    let valid = (records.len() * RECORD_BYTES) as u64;
    if valid < len {
        // Later records must follow the good ones.
        let _ = wal.truncate(valid);
    }
    records
}

fn append(ctx: &Ctx<Msg, Report>, key: u64, value: u64) -> bool {
    ctx.file(WAL)
        .is_some_and(|mut wal| wal.append(&encode(key, value)).is_ok())
}

/// A replica: the primary or a backup.
pub async fn replica(ctx: Ctx<Msg, Report>, config: StoreConfig) {
    let log = recover(&ctx);
    ctx.report(Report::Recovered {
        records: log.len() as u64,
    });
    if ctx.node() == PRIMARY {
        primary(ctx, config, log).await;
    } else {
        backup(ctx, log).await;
    }
}

async fn primary(ctx: Ctx<Msg, Report>, config: StoreConfig, mut log: Vec<(u64, u64)>) {
    // What reads see: every record durable here when it booted, then each write once
    // a backup has it too.
    let mut state: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    for (at, &(key, value)) in log.iter().enumerate() {
        state.insert(key, (value, at as u64 + 1));
    }
    let mut committed = log.len() as u64;
    // What each backup acknowledged (unknown after a boot: resending starts at 1 and
    // the backup answers with its length).
    let mut acked = [0u64; REPLICAS as usize];
    // Writes waiting for a backup: index -> (client, request).
    let mut waiting: BTreeMap<u64, (NodeId, u64)> = BTreeMap::new();
    ctx.set_timer(ctx.now() + RESEND_EVERY_NS, TOKEN_RESEND);
    loop {
        match ctx.recv().await {
            Incoming::Message {
                from,
                msg: Msg::Put { req, key, value },
            } => {
                if !append(&ctx, key, value) {
                    continue;
                }
                log.push((key, value));
                let index = log.len() as u64;
                if config.ack_before_durable {
                    // The bug: the write counts as done at once: reads see it, and the
                    // answer leaves before the barrier below holds it.
                    apply(&mut state, key, value, index);
                    ctx.send(from, Msg::PutOk { req, index });
                } else {
                    waiting.insert(index, (from, req));
                }
                if ctx.barrier(WAL).is_err() {
                    continue;
                }
                for backup in 1..REPLICAS {
                    ctx.send(backup, Msg::Replicate { index, key, value });
                }
            }
            Incoming::Message {
                from,
                msg: Msg::Get { req, key },
            } => {
                let (value, index) = state.get(&key).copied().unwrap_or((0, 0));
                ctx.send(from, Msg::GetOk { req, value, index });
            }
            Incoming::Message {
                from,
                msg: Msg::Ack { len },
            } => {
                acked[from as usize] = len;
                // Two of three: this replica (its sends waited for its fsync) and one
                // backup.
                let majority = acked[1..]
                    .iter()
                    .copied()
                    .max()
                    .unwrap_or(0)
                    .min(log.len() as u64);
                while committed < majority {
                    committed += 1;
                    let (key, value) = log[committed as usize - 1];
                    apply(&mut state, key, value, committed);
                    if let Some((client, req)) = waiting.remove(&committed) {
                        ctx.send(
                            client,
                            Msg::PutOk {
                                req,
                                index: committed,
                            },
                        );
                    }
                }
            }
            Incoming::Timer {
                token: TOKEN_RESEND,
            } => {
                for backup in 1..REPLICAS {
                    let from = acked[backup as usize];
                    let upto = (log.len() as u64).min(from + RESEND_BATCH);
                    for index in from + 1..=upto {
                        let (key, value) = log[index as usize - 1];
                        ctx.send(backup, Msg::Replicate { index, key, value });
                    }
                }
                ctx.set_timer(ctx.now() + RESEND_EVERY_NS, TOKEN_RESEND);
            }
            _ => {}
        }
    }
}

/// Makes `value`, at log index `index`, what reads of `key` see, unless a later write
/// already is.
fn apply(state: &mut BTreeMap<u64, (u64, u64)>, key: u64, value: u64, index: u64) {
    let seen = state.entry(key).or_insert((value, index));
    if seen.1 < index {
        *seen = (value, index);
    }
}

async fn backup(ctx: Ctx<Msg, Report>, log: Vec<(u64, u64)>) {
    let mut len = log.len() as u64;
    // Records that arrived ahead of a gap (the network reorders), applied once it fills.
    let mut ahead: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    loop {
        let Incoming::Message {
            from,
            msg: Msg::Replicate { index, key, value },
        } = ctx.recv().await
        else {
            continue;
        };
        if index > len + 1 && ahead.len() < MAX_AHEAD {
            ahead.insert(index, (key, value));
        }
        let mut next = (index == len + 1).then_some((key, value));
        let before = len;
        while let Some((key, value)) = next {
            if !append(&ctx, key, value) {
                break;
            }
            len += 1;
            next = ahead.remove(&(len + 1));
        }
        ahead.retain(|&at, _| at > len);
        // The ack waits until the records are durable here.
        if len > before && ctx.barrier(WAL).is_err() {
            continue;
        }
        ctx.send(from, Msg::Ack { len });
    }
}

/// A client: one request at a time, a write or a read of a random key every
/// `think_ns`, giving up after `timeout_ns`.
pub async fn client(ctx: Ctx<Msg, Report>, config: StoreConfig) {
    let mut req = 0u64;
    let mut outstanding: Option<u64> = None;
    ctx.set_timer(ctx.now() + config.think_ns, TOKEN_NEXT_REQUEST);
    loop {
        match ctx.recv().await {
            Incoming::Timer {
                token: TOKEN_NEXT_REQUEST,
            } => {
                req += 1;
                let (key, write) = {
                    let mut rng = ctx.rng();
                    let key = rng.gen_range(0..config.keys);
                    let write = rng.gen_bool(config.write_fraction);
                    (key, write)
                };
                // A value no other write has, readable in a witness: the client's node
                // and its request (fewer than a million per client, see `Kv::resolve`).
                let value = u64::from(ctx.node()) * VALUE_BASE + req;
                let msg = if write {
                    Msg::Put { req, key, value }
                } else {
                    Msg::Get { req, key }
                };
                ctx.report(Report::Op(if write {
                    OpReport::write(req, key as u32, value)
                } else {
                    OpReport::read(req, key as u32)
                }));
                ctx.send(PRIMARY, msg);
                outstanding = Some(req);
                ctx.set_timer(ctx.now() + config.timeout_ns, TOKEN_TIMEOUT_BASE + req);
            }
            Incoming::Timer { token } if token > TOKEN_TIMEOUT_BASE => {
                if outstanding == Some(token - TOKEN_TIMEOUT_BASE) {
                    ctx.report(Report::TimedOut {
                        req: token - TOKEN_TIMEOUT_BASE,
                    });
                    outstanding = None;
                    ctx.set_timer(ctx.now() + config.think_ns, TOKEN_NEXT_REQUEST);
                }
            }
            Incoming::Message { msg, .. } => {
                let (answered, report) = match msg {
                    Msg::PutOk { req, .. } => (req, OpReport::written(req)),
                    Msg::GetOk { req, value, .. } => (req, OpReport::read_ok(req, value)),
                    _ => continue,
                };
                if outstanding == Some(answered) {
                    ctx.report(Report::Op(report));
                    outstanding = None;
                    ctx.set_timer(ctx.now() + config.think_ns, TOKEN_NEXT_REQUEST);
                }
            }
            Incoming::Timer { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_reads_back_up_to_its_first_damaged_record() {
        let mut bytes: Vec<u8> = Vec::new();
        for (key, value) in [(1, 10), (2, 20), (3, 30)] {
            bytes.extend_from_slice(&encode(key, value));
        }
        assert_eq!(decode(&bytes), vec![(1, 10), (2, 20), (3, 30)]);
        // A torn tail: the last record half written.
        assert_eq!(
            decode(&bytes[..RECORD_BYTES * 2 + 7]),
            vec![(1, 10), (2, 20)]
        );
        // A flipped bit in the second record stops the log there.
        bytes[RECORD_BYTES + 3] ^= 1;
        assert_eq!(decode(&bytes), vec![(1, 10)]);
    }
}
