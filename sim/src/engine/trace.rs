//! The ordered event trace: its digest (`trace_hash`) always, its lines (`trace.jsonl`)
//! with `--trace`.
//!
//! Every event the engine handles is folded into a BLAKE3 digest in order, so two runs
//! with the same hash went through the same events at the same nanoseconds.

use std::io::{self, Write};

use super::queue::Nanos;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum TraceKind {
    /// A logical request was issued.
    Request,
    /// An attempt was sent (client -> server).
    Send,
    /// An attempt reached a server.
    Arrive,
    /// A server rejected an attempt (queue full, shed, clock guard).
    Reject,
    /// A server finished serving an attempt and replied.
    Serve,
    /// A message was lost (detail: 0 partition, 1 omission, 2 loss, 3 node down).
    Drop,
    /// A reply reached its client.
    Reply,
    /// An attempt timed out.
    Timeout,
    /// A retry was scheduled after a backoff (detail: backoff ns).
    Backoff,
    /// A logical request succeeded (detail: latency ns).
    Success,
    /// A logical request failed (detail: 0 error, 1 timeout, 2 breaker, 3 budget).
    Fail,
    /// A breaker changed state (detail: new state 0 closed, 1 open, 2 half-open).
    Breaker,
    /// A fault started (detail: fault index).
    FaultStart,
    /// A fault ended (detail: fault index).
    FaultEnd,
    /// A server crashed.
    Crash,
    /// A server restarted.
    Restart,
    /// A client connection event (detail: 0 reset, 1 connect sent, 2 connected,
    /// 3 refused, 4 connect timed out, 5 attempt held offline, 6 offline queue full).
    Conn,
}

impl TraceKind {
    /// Name in `trace.jsonl`.
    pub fn as_str(self) -> &'static str {
        match self {
            TraceKind::Request => "request",
            TraceKind::Send => "send",
            TraceKind::Arrive => "arrive",
            TraceKind::Reject => "reject",
            TraceKind::Serve => "serve",
            TraceKind::Drop => "drop",
            TraceKind::Reply => "reply",
            TraceKind::Timeout => "timeout",
            TraceKind::Backoff => "backoff",
            TraceKind::Success => "success",
            TraceKind::Fail => "fail",
            TraceKind::Breaker => "breaker",
            TraceKind::FaultStart => "fault_start",
            TraceKind::FaultEnd => "fault_end",
            TraceKind::Crash => "crash",
            TraceKind::Restart => "restart",
            TraceKind::Conn => "conn",
        }
    }
}

/// Flush the digest buffer at this size: large enough for BLAKE3's SIMD path.
const DIGEST_CHUNK_BYTES: usize = 64 * 1024;

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
}

impl Trace {
    /// A trace that only digests; `lines` also writes one JSON object per event.
    pub fn new(lines: Option<Box<dyn Write>>) -> Self {
        Trace {
            hasher: blake3::Hasher::new(),
            buffer: Vec::with_capacity(DIGEST_CHUNK_BYTES + 64),
            events: 0,
            lines,
        }
    }

    /// Records one event. `client`, `server` and `request` are `u32::MAX`/`u64::MAX`
    /// when not applicable.
    #[inline(always)]
    pub fn record(
        &mut self,
        at_ns: Nanos,
        kind: TraceKind,
        client: u32,
        server: u32,
        request: u64,
        detail: u64,
    ) -> io::Result<()> {
        self.events += 1;
        // Each record is mixed to 64 bits first, so BLAKE3 digests 8 bytes per event
        // instead of 33 (it was the largest single cost after the queue). Two records
        // that differ collide with probability about 2^-64.
        let ids = (u64::from(client) << 32) | u64::from(server);
        let mixed = mum(at_ns ^ MIX[0], ids ^ MIX[1]);
        let mixed = mum(
            mixed ^ request ^ MIX[2],
            detail.rotate_left(8) ^ (kind as u64) ^ MIX[3],
        );
        self.buffer.extend_from_slice(&mixed.to_le_bytes());
        if self.buffer.len() >= DIGEST_CHUNK_BYTES {
            self.flush_digest();
        }
        if self.lines.is_some() {
            self.write_line(at_ns, kind, client, server, request, detail)
        } else {
            Ok(())
        }
    }

    #[cold]
    #[inline(never)]
    fn flush_digest(&mut self) {
        self.hasher.update(&self.buffer);
        self.buffer.clear();
    }

    #[cold]
    #[inline(never)]
    fn write_line(
        &mut self,
        at_ns: Nanos,
        kind: TraceKind,
        client: u32,
        server: u32,
        request: u64,
        detail: u64,
    ) -> io::Result<()> {
        let Some(out) = self.lines.as_mut() else {
            return Ok(());
        };
        write!(out, "{{\"t_ns\":{at_ns},\"ev\":\"{}\"", kind.as_str())?;
        if client != u32::MAX {
            write!(out, ",\"client\":{client}")?;
        }
        if server != u32::MAX {
            write!(out, ",\"server\":{server}")?;
        }
        if request != u64::MAX {
            write!(out, ",\"req\":{request}")?;
        }
        writeln!(out, ",\"detail\":{detail}}}")
    }

    /// Events recorded so far.
    pub fn events(&self) -> u64 {
        self.events
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

    #[test]
    fn every_field_of_a_record_changes_the_digest() {
        let digest = |at, kind, client, server, request, detail| {
            let mut trace = Trace::new(None);
            trace
                .record(at, kind, client, server, request, detail)
                .unwrap();
            trace.finish().unwrap()
        };
        let base = digest(1, TraceKind::Send, 2, 3, 4, 5);
        let variants = [
            digest(9, TraceKind::Send, 2, 3, 4, 5),
            digest(1, TraceKind::Arrive, 2, 3, 4, 5),
            digest(1, TraceKind::Send, 9, 3, 4, 5),
            digest(1, TraceKind::Send, 2, 9, 4, 5),
            digest(1, TraceKind::Send, 2, 3, 9, 5),
            digest(1, TraceKind::Send, 2, 3, 4, 9),
            digest(1, TraceKind::Send, 3, 2, 4, 5),
        ];
        for (index, variant) in variants.iter().enumerate() {
            assert_ne!(*variant, base, "variant {index} collides");
        }
    }

    #[test]
    fn equal_traces_hash_equal_and_order_matters() {
        let digest = |events: &[(u64, TraceKind)]| {
            let mut trace = Trace::new(None);
            for &(at, kind) in events {
                trace.record(at, kind, 1, 2, 3, 4).unwrap();
            }
            trace.finish().unwrap()
        };
        let a = [(1, TraceKind::Send), (2, TraceKind::Arrive)];
        let b = [(2, TraceKind::Arrive), (1, TraceKind::Send)];
        assert_eq!(digest(&a), digest(&a));
        assert_ne!(digest(&a), digest(&b));
        assert_eq!(digest(&a).len(), 64);
    }
}
