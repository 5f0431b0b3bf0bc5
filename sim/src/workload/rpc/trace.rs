//! The rpc workload's trace vocabulary. A record's node is the client and its peer the
//! server (both as indices within their family), its id the logical request. A record
//! of the server's answer names the server first in its line (see
//! [`TraceEvent::sent_by_peer`]).
//!
//! The digest codes and details are those of the first trace format, so runs recorded
//! before the kernel/workload split hash the same.

use std::io::{self, Write};

use faultline_models::breaker::BreakerState;

use crate::engine::network::DropReason;
use crate::engine::trace::TraceEvent;

/// Why a message was lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropCause {
    /// The network lost it (a partition, an omission fault or background loss).
    Network(DropReason),
    /// It reached a crashed server.
    NodeDown,
}

/// Why a server turned an attempt away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectCause {
    /// The queue was full.
    QueueFull,
    /// It waited longer than `shed_after`.
    Shed,
    /// The server's concurrency limit was reached.
    Limited,
}

/// How a logical request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailCause {
    /// Its last attempt got an error.
    Error,
    /// Its last attempt timed out.
    Timeout,
    /// An open breaker refused it.
    Breaker,
    /// The retry budget refused its retry (it then ends as an error or a timeout too).
    Budget,
}

/// What happened to a client's connection (see `conn.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ConnStep {
    /// The client learnt its connection was reset.
    Reset = 0,
    /// A connect was sent.
    Try = 1,
    /// The connection is up again.
    Up = 2,
    /// The server refused the connect (it is down).
    Refused = 3,
    /// The connect got no answer in time.
    TimedOut = 4,
    /// An attempt waits in the offline queue.
    Held = 5,
    /// The offline queue was full: the attempt failed at once.
    OfflineFull = 6,
}

/// One kind of rpc trace record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RpcTrace {
    /// A logical request was issued.
    Request,
    /// An attempt was sent (client -> server); `attempt` counts from 0.
    Send {
        /// Attempts sent before this one.
        attempt: u32,
    },
    /// An attempt reached a server.
    Arrive,
    /// A server turned an attempt away.
    Reject(RejectCause),
    /// A server finished serving an attempt and replied.
    Serve,
    /// A message was lost.
    Drop {
        /// Why.
        cause: DropCause,
        /// A reply (server -> client), else an attempt (client -> server). Only the
        /// line's field order shows it; the digest keeps the first format's detail.
        reply: bool,
    },
    /// A reply reached its client.
    Reply {
        /// Success or error reply.
        ok: bool,
    },
    /// An attempt timed out.
    Timeout,
    /// A retry was scheduled after a backoff.
    Backoff {
        /// The sleep, ns.
        delay_ns: u64,
    },
    /// A logical request succeeded.
    Success {
        /// First send to successful reply, ns.
        latency_ns: u64,
    },
    /// A logical request failed.
    Fail(FailCause),
    /// A client's breaker changed state.
    Breaker(BreakerState),
    /// A server crashed.
    Crash,
    /// A server restarted.
    Restart,
    /// A client connection event.
    Conn(ConnStep),
}

fn breaker_name(state: BreakerState) -> &'static str {
    match state {
        BreakerState::Closed => "closed",
        BreakerState::Open => "open",
        BreakerState::HalfOpen => "half_open",
    }
}

impl DropCause {
    fn name(self) -> &'static str {
        match self {
            DropCause::Network(reason) => reason.as_str(),
            DropCause::NodeDown => "node_down",
        }
    }
}

impl FailCause {
    fn name(self) -> &'static str {
        match self {
            FailCause::Error => "error",
            FailCause::Timeout => "timeout",
            FailCause::Breaker => "breaker",
            FailCause::Budget => "budget",
        }
    }
}

impl ConnStep {
    fn name(self) -> &'static str {
        match self {
            ConnStep::Reset => "reset",
            ConnStep::Try => "try",
            ConnStep::Up => "up",
            ConnStep::Refused => "refused",
            ConnStep::TimedOut => "timed_out",
            ConnStep::Held => "held",
            ConnStep::OfflineFull => "offline_full",
        }
    }
}

/// Every kind's name (`ev`), as [`TraceEvent::name`] gives it (`faultline trace --kind`
/// checks its names against them).
pub const KINDS: &[&str] = &[
    "request", "send", "arrive", "reject", "serve", "drop", "reply", "timeout", "backoff",
    "success", "fail", "breaker", "crash", "restart", "conn",
];

impl TraceEvent for RpcTrace {
    const NODE: &'static str = "client";
    const PEER: &'static str = "server";

    #[inline(always)]
    fn code(&self) -> u8 {
        match self {
            RpcTrace::Request => 0,
            RpcTrace::Send { .. } => 1,
            RpcTrace::Arrive => 2,
            RpcTrace::Reject(_) => 3,
            RpcTrace::Serve => 4,
            RpcTrace::Drop { .. } => 5,
            RpcTrace::Reply { .. } => 6,
            RpcTrace::Timeout => 7,
            RpcTrace::Backoff { .. } => 8,
            RpcTrace::Success { .. } => 9,
            RpcTrace::Fail(_) => 10,
            RpcTrace::Breaker(_) => 11,
            // 12 and 13 are the kernel's.
            RpcTrace::Crash => 14,
            RpcTrace::Restart => 15,
            RpcTrace::Conn(_) => 16,
        }
    }

    #[inline(always)]
    fn detail(&self) -> u64 {
        match *self {
            RpcTrace::Request
            | RpcTrace::Arrive
            | RpcTrace::Serve
            | RpcTrace::Timeout
            | RpcTrace::Crash
            | RpcTrace::Restart => 0,
            RpcTrace::Send { attempt } => u64::from(attempt),
            RpcTrace::Reject(RejectCause::QueueFull) => 0,
            RpcTrace::Reject(RejectCause::Shed) => 1,
            RpcTrace::Reject(RejectCause::Limited) => 2,
            RpcTrace::Drop {
                cause: DropCause::Network(DropReason::Partition),
                ..
            } => 0,
            RpcTrace::Drop {
                cause: DropCause::Network(DropReason::Omission),
                ..
            } => 1,
            RpcTrace::Drop {
                cause: DropCause::Network(DropReason::Loss),
                ..
            } => 2,
            RpcTrace::Drop {
                cause: DropCause::NodeDown,
                ..
            } => 3,
            RpcTrace::Reply { ok } => u64::from(ok),
            RpcTrace::Backoff { delay_ns } => delay_ns,
            RpcTrace::Success { latency_ns } => latency_ns,
            RpcTrace::Fail(FailCause::Error) => 0,
            RpcTrace::Fail(FailCause::Timeout) => 1,
            RpcTrace::Fail(FailCause::Breaker) => 2,
            RpcTrace::Fail(FailCause::Budget) => 3,
            RpcTrace::Breaker(BreakerState::Closed) => 0,
            RpcTrace::Breaker(BreakerState::Open) => 1,
            RpcTrace::Breaker(BreakerState::HalfOpen) => 2,
            RpcTrace::Conn(step) => step as u64,
        }
    }

    fn sent_by_peer(&self) -> bool {
        // The server's answer on its way to the client: a reply leaving (`serve`, and
        // `reject`'s error reply), arriving, or lost; a connect's answer.
        matches!(
            self,
            RpcTrace::Serve
                | RpcTrace::Reject(_)
                | RpcTrace::Reply { .. }
                | RpcTrace::Drop { reply: true, .. }
                | RpcTrace::Conn(ConnStep::Up | ConnStep::Refused)
        )
    }

    fn name(&self) -> &'static str {
        match self {
            RpcTrace::Request => "request",
            RpcTrace::Send { .. } => "send",
            RpcTrace::Arrive => "arrive",
            RpcTrace::Reject(_) => "reject",
            RpcTrace::Serve => "serve",
            RpcTrace::Drop { .. } => "drop",
            RpcTrace::Reply { .. } => "reply",
            RpcTrace::Timeout => "timeout",
            RpcTrace::Backoff { .. } => "backoff",
            RpcTrace::Success { .. } => "success",
            RpcTrace::Fail(_) => "fail",
            RpcTrace::Breaker(_) => "breaker",
            RpcTrace::Crash => "crash",
            RpcTrace::Restart => "restart",
            RpcTrace::Conn(_) => "conn",
        }
    }

    fn write_fields(&self, out: &mut dyn Write) -> io::Result<()> {
        match *self {
            RpcTrace::Request
            | RpcTrace::Arrive
            | RpcTrace::Serve
            | RpcTrace::Timeout
            | RpcTrace::Crash
            | RpcTrace::Restart => Ok(()),
            RpcTrace::Send { attempt } => write!(out, ",\"attempt\":{attempt}"),
            RpcTrace::Reject(RejectCause::QueueFull) => write!(out, ",\"cause\":\"queue_full\""),
            RpcTrace::Reject(RejectCause::Shed) => write!(out, ",\"cause\":\"shed\""),
            RpcTrace::Reject(RejectCause::Limited) => write!(out, ",\"cause\":\"limited\""),
            RpcTrace::Drop { cause, .. } => write!(out, ",\"reason\":\"{}\"", cause.name()),
            RpcTrace::Reply { ok } => write!(out, ",\"ok\":{ok}"),
            RpcTrace::Backoff { delay_ns } => write!(out, ",\"delay_ns\":{delay_ns}"),
            RpcTrace::Success { latency_ns } => write!(out, ",\"latency_ns\":{latency_ns}"),
            RpcTrace::Fail(cause) => write!(out, ",\"cause\":\"{}\"", cause.name()),
            RpcTrace::Breaker(state) => write!(out, ",\"state\":\"{}\"", breaker_name(state)),
            RpcTrace::Conn(step) => write!(out, ",\"step\":\"{}\"", step.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::trace::KERNEL_CODES;

    #[test]
    fn codes_are_distinct_and_leave_the_kernel_codes_free() {
        let kinds = [
            RpcTrace::Request,
            RpcTrace::Send { attempt: 0 },
            RpcTrace::Arrive,
            RpcTrace::Reject(RejectCause::Shed),
            RpcTrace::Serve,
            RpcTrace::Drop {
                cause: DropCause::NodeDown,
                reply: false,
            },
            RpcTrace::Reply { ok: true },
            RpcTrace::Timeout,
            RpcTrace::Backoff { delay_ns: 1 },
            RpcTrace::Success { latency_ns: 1 },
            RpcTrace::Fail(FailCause::Budget),
            RpcTrace::Breaker(BreakerState::Open),
            RpcTrace::Crash,
            RpcTrace::Restart,
            RpcTrace::Conn(ConnStep::Up),
        ];
        let mut codes: Vec<u8> = kinds.iter().map(TraceEvent::code).collect();
        assert!(codes.iter().all(|code| !KERNEL_CODES.contains(code)));
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), kinds.len());
        let names: Vec<&str> = kinds.iter().map(TraceEvent::name).collect();
        assert_eq!(names, KINDS);
    }

    /// The node fields of `kind`'s line, in the order written.
    fn node_fields(kind: RpcTrace) -> String {
        use crate::engine::trace::{Record, SharedLines, Trace};
        let buffer = SharedLines::default();
        let mut trace = Trace::new(Some(Box::new(buffer.clone())));
        trace
            .record(Record::at(1, kind).node(3).peer(0).id(7))
            .unwrap();
        trace.finish().unwrap();
        let line = String::from_utf8(buffer.0.borrow().clone()).unwrap();
        let client = line.find("\"client\":3").expect("client field");
        let server = line.find("\"server\":0").expect("server field");
        if server < client {
            "server > client".to_owned()
        } else {
            "client > server".to_owned()
        }
    }

    #[test]
    fn a_line_names_the_sender_of_its_message_first() {
        let network = DropCause::Network(DropReason::Partition);
        let towards_server = [
            RpcTrace::Send { attempt: 0 },
            RpcTrace::Arrive,
            RpcTrace::Drop {
                cause: network,
                reply: false,
            },
            RpcTrace::Drop {
                cause: DropCause::NodeDown,
                reply: false,
            },
            RpcTrace::Timeout,
            RpcTrace::Conn(ConnStep::Try),
        ];
        let towards_client = [
            RpcTrace::Serve,
            RpcTrace::Reject(RejectCause::QueueFull),
            RpcTrace::Reply { ok: true },
            RpcTrace::Reply { ok: false },
            RpcTrace::Drop {
                cause: network,
                reply: true,
            },
            RpcTrace::Conn(ConnStep::Up),
            RpcTrace::Conn(ConnStep::Refused),
        ];
        for kind in towards_server {
            assert_eq!(node_fields(kind), "client > server", "{kind:?}");
        }
        for kind in towards_client {
            assert_eq!(node_fields(kind), "server > client", "{kind:?}");
        }
        // The direction is in the line only: a drop's digest detail is the first
        // format's, whichever way the message went.
        let way = |reply| RpcTrace::Drop {
            cause: network,
            reply,
        };
        assert_eq!(way(true).detail(), way(false).detail());
        assert_eq!(way(true).code(), way(false).code());
    }
}
