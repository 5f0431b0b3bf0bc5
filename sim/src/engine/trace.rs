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
    /// A metrics window closed.
    Window,
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
            TraceKind::Window => "window",
        }
    }
}

/// Flush the digest buffer at this size: large enough for BLAKE3's SIMD path.
const DIGEST_CHUNK_BYTES: usize = 64 * 1024;

/// Bytes digested per event: time, kind, client, server, request, detail.
const RECORD_BYTES: usize = 8 + 1 + 4 + 4 + 8 + 8;

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
        // One fixed-size copy instead of six growing appends.
        let mut bytes = [0u8; RECORD_BYTES];
        bytes[0..8].copy_from_slice(&at_ns.to_le_bytes());
        bytes[8] = kind as u8;
        bytes[9..13].copy_from_slice(&client.to_le_bytes());
        bytes[13..17].copy_from_slice(&server.to_le_bytes());
        bytes[17..25].copy_from_slice(&request.to_le_bytes());
        bytes[25..33].copy_from_slice(&detail.to_le_bytes());
        self.buffer.extend_from_slice(&bytes);
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
