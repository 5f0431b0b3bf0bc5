//! The ordered event trace: its digest (`trace_hash`) always, its lines (`trace.jsonl`)
//! with `--trace`.
//!
//! Every event the engine handles is folded into a BLAKE3 digest in order, so two runs
//! with the same hash went through the same events at the same nanoseconds.
//!
//! For diagnostics ([`TraceOptions`]) the trace can also keep one digest per chunk of
//! [`CHUNK_RECORDS`] records, and write only the lines of a window of records: two runs'
//! chunk digests say where they part, and a second pass writes just that chunk's lines
//! (see `sweep::diverge`). Both work in the cold path, once per chunk or per line.

use std::io::{self, Write};
use std::ops::Range;

use super::faults::Phase;
use super::queue::Nanos;

/// A workload's trace vocabulary: an enum whose variants carry their typed details
/// (a drop's reason, a breaker's new state), so no record holds a magic number.
///
/// [`code`](Self::code) and [`detail`](Self::detail) are what the digest folds in: two
/// kinds must not share a code, and codes [`KERNEL_CODES`] are the kernel's own.
pub trait TraceEvent: Copy {
    /// Name of the record's `node` field in `trace.jsonl` (`"client"`).
    const NODE: &'static str = "node";
    /// Name of the record's `peer` field in `trace.jsonl` (`"server"`).
    const PEER: &'static str = "peer";
    /// Whether this is the kernel's vocabulary (the only one allowed [`KERNEL_CODES`]).
    const KERNEL: bool = false;
    /// The kind's code in the digest.
    fn code(&self) -> u8;
    /// The detail word in the digest (0 when the kind has none).
    fn detail(&self) -> u64;
    /// The kind's name in `trace.jsonl` (`"ev"`).
    fn name(&self) -> &'static str;
    /// Whether the record's message travels from its peer to its node (a reply reaching
    /// its client): its line then names the peer before the node, so a message's sender
    /// always comes first (`faultline trace` draws them in that order, `A > B`).
    fn sent_by_peer(&self) -> bool {
        false
    }
    /// The typed details as JSON fields for `trace.jsonl`, each written as
    /// `,"key":value`.
    fn write_fields(&self, out: &mut dyn Write) -> io::Result<()>;
}

/// Digest codes the kernel keeps for its own records (12 and 13: the fault records of
/// the first trace format, kept so that earlier traces hash the same).
pub const KERNEL_CODES: std::ops::RangeInclusive<u8> = 12..=13;

/// The kernel's own records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelEvent<'a> {
    /// A fault action of the plan takes effect: it starts or ends a fault.
    Fault {
        /// Index of the action in the compiled fault plan (the only part in the digest,
        /// as in the first trace format: the name and phase follow from it).
        action: u32,
        /// Whether the action starts or ends its fault.
        phase: Phase,
        /// The fault's name (`crash server-0`), from the plan's labels.
        fault: &'a str,
    },
}

impl TraceEvent for KernelEvent<'_> {
    const KERNEL: bool = true;

    fn code(&self) -> u8 {
        match self {
            KernelEvent::Fault { .. } => 12,
        }
    }

    fn detail(&self) -> u64 {
        match *self {
            KernelEvent::Fault { action, .. } => u64::from(action),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            KernelEvent::Fault { .. } => "fault",
        }
    }

    fn write_fields(&self, out: &mut dyn Write) -> io::Result<()> {
        match *self {
            KernelEvent::Fault {
                action,
                phase,
                fault,
            } => {
                write!(
                    out,
                    ",\"action\":{action},\"phase\":\"{}\",\"fault\":",
                    phase.as_str()
                )?;
                // The name holds the scenario's selectors: escaped as JSON.
                serde_json::to_writer(out, fault).map_err(io::Error::from)
            }
        }
    }
}

/// The names (`ev`) of the kernel's own records, [`KernelEvent`], in every trace.
pub const KERNEL_KINDS: &[&str] = &["fault"];

/// Marks an absent node or peer of a [`Record`].
pub const NO_NODE: u32 = u32::MAX;
/// Marks an absent id of a [`Record`].
pub const NO_ID: u64 = u64::MAX;

/// One trace record: when, what, and who (any of `node`, `peer` and `id` may be absent).
/// Built with [`Record::at`] and the setters: `Record::at(now_ns, kind).node(3).id(7)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<K> {
    /// Simulated time, ns.
    pub at_ns: Nanos,
    /// What happened.
    pub kind: K,
    /// The node it happened at (a workload may number within one family), or [`NO_NODE`].
    pub node: u32,
    /// The other node involved, or [`NO_NODE`].
    pub peer: u32,
    /// The request, message or transfer id, or [`NO_ID`].
    pub id: u64,
}

impl<K: TraceEvent> Record<K> {
    /// A record of `kind` at `at_ns`, with no node, peer or id yet.
    #[inline(always)]
    pub fn at(at_ns: Nanos, kind: K) -> Self {
        Record {
            at_ns,
            kind,
            node: NO_NODE,
            peer: NO_NODE,
            id: NO_ID,
        }
    }

    /// Sets the node.
    #[inline(always)]
    pub fn node(mut self, node: u32) -> Self {
        self.node = node;
        self
    }

    /// Sets the peer.
    #[inline(always)]
    pub fn peer(mut self, peer: u32) -> Self {
        self.peer = peer;
        self
    }

    /// Sets the id.
    #[inline(always)]
    pub fn id(mut self, id: u64) -> Self {
        self.id = id;
        self
    }
}

/// Flush the digest buffer at this size: large enough for BLAKE3's SIMD path.
const DIGEST_CHUNK_BYTES: usize = 64 * 1024;

/// Records per digest chunk (each record is mixed to 8 bytes).
pub const CHUNK_RECORDS: u64 = (DIGEST_CHUNK_BYTES / 8) as u64;

/// Trace lines kept in memory and shared with whoever reads them once the run is over
/// (a run is one thread, so `Rc`): a window of lines for the divergence finder, and
/// tests that read what a trace wrote.
#[derive(Clone, Debug, Default)]
pub struct SharedLines(pub std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl SharedLines {
    /// What has been written so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.borrow()).into_owned()
    }
}

impl Write for SharedLines {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Where a run's trace goes besides its digest.
#[derive(Default)]
pub struct TraceOptions {
    /// Trace lines (`trace.jsonl`), if any.
    pub lines: Option<Box<dyn Write>>,
    /// Keep one 64-bit digest per chunk of [`CHUNK_RECORDS`] records.
    pub chunk_digests: bool,
    /// Write only the lines of these records (indices from 0), not all.
    pub line_window: Option<Range<u64>>,
    /// Where the driver publishes how far the run has got, for a watcher outside it
    /// (not part of the trace: watching changes nothing in the run).
    pub progress: Option<std::sync::Arc<super::progress::Progress>>,
}

/// Odd 64-bit constants (the fractional digits of pi) keying the record mix.
const MIX: [u64; 4] = [
    0x243F_6A88_85A3_08D3,
    0x1319_8A2E_0370_7345,
    0xA409_3822_299F_31D1,
    0x082E_FA98_EC4E_6C89,
];

/// Multiply two 64-bit words to 128 bits and fold the halves: the core of wyhash's mix.
#[inline(always)]
fn mum(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

/// Receives every event in order.
pub struct Trace {
    hasher: blake3::Hasher,
    buffer: Vec<u8>,
    events: u64,
    lines: Option<Box<dyn Write>>,
    /// Per-chunk digests, when asked for.
    chunks: Option<Vec<u64>>,
    /// The records whose lines are written.
    line_window: Range<u64>,
    /// Where how far the run has got is published, once per digest chunk.
    progress: Option<std::sync::Arc<super::progress::Progress>>,
}

impl Trace {
    /// A trace that only digests; `lines` also writes one JSON object per event.
    pub fn new(lines: Option<Box<dyn Write>>) -> Self {
        Trace::with_options(TraceOptions {
            lines,
            ..TraceOptions::default()
        })
    }

    /// A trace with diagnostics (see [`TraceOptions`]).
    pub fn with_options(options: TraceOptions) -> Self {
        Trace {
            hasher: blake3::Hasher::new(),
            buffer: Vec::with_capacity(DIGEST_CHUNK_BYTES + 64),
            events: 0,
            lines: options.lines,
            chunks: options.chunk_digests.then(Vec::new),
            line_window: options.line_window.unwrap_or(0..u64::MAX),
            progress: options.progress,
        }
    }

    /// Records one event.
    #[inline(always)]
    pub fn record<K: TraceEvent>(&mut self, record: Record<K>) -> io::Result<()> {
        let code = record.kind.code();
        debug_assert!(
            K::KERNEL || !KERNEL_CODES.contains(&code),
            "a workload trace kind uses a kernel code"
        );
        self.events += 1;
        // Each record is mixed to 64 bits first, so BLAKE3 digests 8 bytes per event
        // instead of 33 (it was the largest single cost after the queue). Two records
        // that differ collide with probability about 2^-64.
        let ids = (u64::from(record.node) << 32) | u64::from(record.peer);
        let mixed = mum(record.at_ns ^ MIX[0], ids ^ MIX[1]);
        let mixed = mum(
            mixed ^ record.id ^ MIX[2],
            record.kind.detail().rotate_left(8) ^ u64::from(code) ^ MIX[3],
        );
        self.buffer.extend_from_slice(&mixed.to_le_bytes());
        if self.buffer.len() >= DIGEST_CHUNK_BYTES {
            self.flush_digest(record.at_ns);
        }
        if self.lines.is_some() {
            self.write_line(&record)
        } else {
            Ok(())
        }
    }

    #[cold]
    #[inline(never)]
    fn flush_digest(&mut self, at_ns: Nanos) {
        debug_assert!(self.buffer.len() == DIGEST_CHUNK_BYTES);
        // The progress of a watched run rides on this cold path: nothing is added to
        // the per-event one (a check per event there cost 1.9 % of the rpc bench's
        // instructions).
        if let Some(progress) = &self.progress {
            progress.publish(at_ns, self.events);
        }
        self.hasher.update(&self.buffer);
        self.chunk_done();
        self.buffer.clear();
    }

    /// Keeps the digest of the chunk in the buffer, when asked for.
    fn chunk_done(&mut self) {
        if let Some(chunks) = self.chunks.as_mut() {
            if !self.buffer.is_empty() {
                let digest = blake3::hash(&self.buffer);
                let mut word = [0u8; 8];
                word.copy_from_slice(&digest.as_bytes()[..8]);
                chunks.push(u64::from_le_bytes(word));
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn write_line<K: TraceEvent>(&mut self, record: &Record<K>) -> io::Result<()> {
        // `events` already counts this record.
        if !self.line_window.contains(&(self.events - 1)) {
            return Ok(());
        }
        let Some(out) = self.lines.as_mut() else {
            return Ok(());
        };
        write!(
            out,
            "{{\"t_ns\":{},\"ev\":\"{}\"",
            record.at_ns,
            record.kind.name()
        )?;
        let node = (K::NODE, record.node);
        let peer = (K::PEER, record.peer);
        let (first, second) = if record.kind.sent_by_peer() {
            (peer, node)
        } else {
            (node, peer)
        };
        for (field, index) in [first, second] {
            if index != NO_NODE {
                write!(out, ",\"{field}\":{index}")?;
            }
        }
        if record.id != NO_ID {
            write!(out, ",\"id\":{}", record.id)?;
        }
        record.kind.write_fields(out.as_mut())?;
        writeln!(out, "}}")
    }

    /// Events recorded so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// The per-chunk digests so far (empty unless asked for), the last, partial chunk
    /// included once the trace is finished.
    pub fn chunk_digests(&self) -> &[u64] {
        self.chunks.as_deref().unwrap_or(&[])
    }

    /// Finishes: flushes the lines and returns the hex digest and the per-chunk digests
    /// (empty unless asked for).
    pub fn finish_with_chunks(mut self) -> io::Result<(String, Vec<u64>)> {
        self.hasher.update(&self.buffer);
        self.chunk_done();
        if let Some(out) = self.lines.as_mut() {
            out.flush()?;
        }
        let chunks = self.chunks.take().unwrap_or_default();
        debug_assert!(
            chunks.is_empty() || chunks.len() as u64 == self.events.div_ceil(CHUNK_RECORDS)
        );
        Ok((self.hasher.finalize().to_hex().to_string(), chunks))
    }

    /// Finishes: flushes the lines and returns the hex digest.
    pub fn finish(mut self) -> io::Result<String> {
        self.hasher.update(&self.buffer);
        if let Some(out) = self.lines.as_mut() {
            out.flush()?;
        }
        Ok(self.hasher.finalize().to_hex().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A test vocabulary: one kind with a detail.
    #[derive(Clone, Copy, Debug)]
    enum Probe {
        Ping(u64),
        Pong,
    }

    impl TraceEvent for Probe {
        fn code(&self) -> u8 {
            match self {
                Probe::Ping(_) => 1,
                Probe::Pong => 2,
            }
        }
        fn detail(&self) -> u64 {
            match *self {
                Probe::Ping(detail) => detail,
                Probe::Pong => 0,
            }
        }
        fn name(&self) -> &'static str {
            match self {
                Probe::Ping(_) => "ping",
                Probe::Pong => "pong",
            }
        }
        fn write_fields(&self, out: &mut dyn Write) -> io::Result<()> {
            match *self {
                Probe::Ping(detail) => write!(out, ",\"n\":{detail}"),
                Probe::Pong => Ok(()),
            }
        }
    }

    fn digest(records: &[Record<Probe>]) -> String {
        let mut trace = Trace::new(None);
        for record in records {
            trace.record(*record).unwrap();
        }
        trace.finish().unwrap()
    }

    #[test]
    fn every_field_of_a_record_changes_the_digest() {
        let base_record = Record::at(1, Probe::Ping(5)).node(2).peer(3).id(4);
        let base = digest(&[base_record]);
        let variants = [
            Record {
                at_ns: 9,
                ..base_record
            },
            Record {
                kind: Probe::Pong,
                ..base_record
            },
            Record {
                kind: Probe::Ping(9),
                ..base_record
            },
            base_record.node(9),
            base_record.peer(9),
            base_record.id(9),
            base_record.node(3).peer(2),
        ];
        for (index, variant) in variants.iter().enumerate() {
            assert_ne!(digest(&[*variant]), base, "variant {index} collides");
        }
    }

    #[test]
    fn equal_traces_hash_equal_and_order_matters() {
        let a = [
            Record::at(1, Probe::Pong).node(1),
            Record::at(2, Probe::Ping(4)),
        ];
        let b = [a[1], a[0]];
        assert_eq!(digest(&a), digest(&a));
        assert_ne!(digest(&a), digest(&b));
        assert_eq!(digest(&a).len(), 64);
    }

    #[test]
    fn chunk_digests_locate_the_first_difference_and_windows_cut_lines() {
        let records = |changed: Option<u64>| -> Vec<Record<Probe>> {
            (0..3 * CHUNK_RECORDS + 5)
                .map(|i| Record::at(i, Probe::Ping(u64::from(changed == Some(i)))))
                .collect()
        };
        let digests = |records: &[Record<Probe>]| {
            let mut trace = Trace::with_options(TraceOptions {
                chunk_digests: true,
                ..TraceOptions::default()
            });
            for record in records {
                trace.record(*record).unwrap();
            }
            trace.finish_with_chunks().unwrap()
        };
        let (hash, base) = digests(&records(None));
        assert_eq!(base.len(), 4);
        assert_eq!(
            hash,
            digest(&records(None)),
            "chunk digests leave the hash alone"
        );
        let (_, changed) = digests(&records(Some(2 * CHUNK_RECORDS + 1)));
        let first = base.iter().zip(&changed).position(|(a, b)| a != b);
        assert_eq!(first, Some(2));
        assert_eq!(base[3], changed[3]);

        let buffer = SharedLines::default();
        let mut trace = Trace::with_options(TraceOptions {
            lines: Some(Box::new(buffer.clone())),
            line_window: Some(3..5),
            ..TraceOptions::default()
        });
        for i in 0..10 {
            trace.record(Record::at(i, Probe::Pong)).unwrap();
        }
        trace.finish().unwrap();
        let text = String::from_utf8(buffer.0.borrow().clone()).unwrap();
        assert_eq!(
            text,
            "{\"t_ns\":3,\"ev\":\"pong\"}\n{\"t_ns\":4,\"ev\":\"pong\"}\n"
        );
    }

    #[test]
    fn lines_carry_typed_fields_and_leave_out_absent_ones() {
        let buffer = SharedLines::default();
        let mut trace = Trace::new(Some(Box::new(buffer.clone())));
        trace
            .record(Record::at(7, Probe::Ping(3)).node(1).id(9))
            .unwrap();
        trace
            .record(Record::at(
                8,
                KernelEvent::Fault {
                    action: 2,
                    phase: Phase::End,
                    fault: "crash \"x\"",
                },
            ))
            .unwrap();
        trace.finish().unwrap();
        let text = String::from_utf8(buffer.0.borrow().clone()).unwrap();
        assert_eq!(
            text,
            "{\"t_ns\":7,\"ev\":\"ping\",\"node\":1,\"id\":9,\"n\":3}\n{\"t_ns\":8,\"ev\":\"fault\",\"action\":2,\"phase\":\"end\",\"fault\":\"crash \\\"x\\\"\"}\n"
        );
    }
}
