//! Checkpoints over a write-ahead log, and the optimum interval between them.
//!
//! A [`Checkpoint`] is a snapshot of application state plus the log position it covers:
//! the byte offset in the WAL ([`crate::wal`]) just past the last record the state
//! includes. Recovery ([`plan_recovery`]) loads the newest valid checkpoint and replays
//! the log records from its position on. A checkpoint is stored as one WAL record whose
//! payload is `[log_position: u64 LE][state bytes]`, so it carries the same length and
//! CRC-32C as a log record and a torn or corrupt checkpoint is detected the same way.
//!
//! The recovery rule:
//! 1. recover the log ([`crate::wal::recover`]): its valid records and `valid_len`;
//! 2. a checkpoint is valid if its bytes are exactly one intact record and its position
//!    is the start of a recovered record or `valid_len` (a checkpoint that covers bytes
//!    the log lost, or points into the middle of a record, cannot be trusted to match
//!    the log);
//! 3. among the valid checkpoints take the one with the largest position (the later one
//!    in the list on a tie); with none, start from the initial state at position 0;
//! 4. replay every recovered record at or after that position, in order.
//!
//! The writer's side of the contract: write a checkpoint at position `p` only after the
//! log is durable through `p`, and keep the log from the oldest checkpoint you might
//! fall back to.
//!
//! # The checkpoint interval
//!
//! With checkpoint cost `C` and failure rate `lambda = 1/MTBF`, the fraction of time
//! lost to checkpointing plus the expected rework after a failure (half an interval on
//! average) is, to first order, `C/T + lambda T / 2`, minimised by Young's interval
//! `T_opt = sqrt(2 C / lambda)` (J. W. Young, "A first order approximation to the
//! optimum checkpoint interval", CACM 17(9), 1974). Daly's higher-order estimate
//! (J. T. Daly, "A higher order estimate of the optimum checkpoint interval for restart
//! dumps", Future Generation Computer Systems 22(3), 2006) minimises the complete
//! exponential-failure model instead: `T_opt = sqrt(2 C M) (1 + (1/3) sqrt(C / 2M) +
//! (1/9) (C / 2M)) - C` for `C < 2M`, and `T_opt = M` otherwise (`M` = MTBF).
//!
//! # Invariants (checked with `debug_assert!`)
//!
//! - The plan's checkpoint position is a record boundary of the recovered log, and the
//!   replayed records are exactly the recovered records at or after it.
//! - No rejected checkpoint has a larger position than the chosen one and passes the
//!   validity rule (the choice is the newest valid one).
//! - Young's and Daly's intervals are positive and finite.

use core::fmt;
use core::time::Duration;

use crate::wal::{self, Record, Stop, WalError};

/// Bytes of the log position at the start of a stored checkpoint's payload.
const POSITION_LEN: usize = 8;

/// A snapshot of application state `S` and the log position it covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checkpoint<S> {
    /// The application state, including every log record before `log_position`.
    pub state: S,
    /// Byte offset in the log just past the last record `state` includes.
    pub log_position: u64,
}

impl<S> Checkpoint<S> {
    /// A checkpoint of `state` covering the log up to byte `log_position`.
    pub fn new(state: S, log_position: u64) -> Self {
        Checkpoint {
            state,
            log_position,
        }
    }

    /// The same checkpoint with its state transformed (e.g. decoded from bytes).
    pub fn map<T>(self, f: impl FnOnce(S) -> T) -> Checkpoint<T> {
        Checkpoint {
            state: f(self.state),
            log_position: self.log_position,
        }
    }
}

impl<S: AsRef<[u8]>> Checkpoint<S> {
    /// The stored form: one WAL record with payload `[log_position u64 LE][state]`.
    ///
    /// # Errors
    ///
    /// [`WalError::TooLong`] if the state is over `MAX_RECORD_LEN - 8` bytes.
    pub fn encode(&self) -> Result<Vec<u8>, WalError> {
        let state = self.state.as_ref();
        let mut payload = Vec::with_capacity(POSITION_LEN + state.len());
        payload.extend_from_slice(&self.log_position.to_le_bytes());
        payload.extend_from_slice(state);
        wal::encode(&payload)
    }
}

/// Why a stored checkpoint was not used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckpointError {
    /// The bytes do not start with one intact record (torn, corrupt, bad length).
    Unreadable(Stop),
    /// Bytes follow the checkpoint's record.
    TrailingBytes {
        /// How many, bytes.
        extra_bytes: u64,
    },
    /// The record is too short to hold a log position.
    TooShort {
        /// The record's payload length, bytes (at least 8 needed).
        payload_bytes: u64,
    },
    /// The checkpoint covers more log than recovery found.
    BeyondLog {
        /// The checkpoint's position, bytes.
        log_position: u64,
        /// The recovered log's valid length, bytes.
        log_valid_len: u64,
    },
    /// The position falls inside a record rather than between two.
    NotOnRecordBoundary {
        /// The checkpoint's position, bytes.
        log_position: u64,
    },
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            CheckpointError::Unreadable(stop) => write!(f, "checkpoint unreadable: {stop}"),
            CheckpointError::TrailingBytes { extra_bytes } => {
                write!(f, "checkpoint followed by {extra_bytes} stray bytes")
            }
            CheckpointError::TooShort { payload_bytes } => write!(
                f,
                "checkpoint payload is {payload_bytes} bytes, too short for a log position"
            ),
            CheckpointError::BeyondLog {
                log_position,
                log_valid_len,
            } => write!(
                f,
                "checkpoint covers the log to byte {log_position}, \
                 but only {log_valid_len} bytes of log survive"
            ),
            CheckpointError::NotOnRecordBoundary { log_position } => write!(
                f,
                "checkpoint position {log_position} is inside a log record"
            ),
        }
    }
}

impl std::error::Error for CheckpointError {}

/// Reads a stored checkpoint (the output of [`Checkpoint::encode`]), borrowing its state.
///
/// # Errors
///
/// [`CheckpointError::Unreadable`], [`CheckpointError::TrailingBytes`] or
/// [`CheckpointError::TooShort`].
pub fn decode(bytes: &[u8]) -> Result<Checkpoint<&[u8]>, CheckpointError> {
    let r = wal::recover(bytes);
    let Some(record) = r.records.first() else {
        return Err(CheckpointError::Unreadable(r.stop));
    };
    if record.end() != bytes.len() as u64 {
        return Err(CheckpointError::TrailingBytes {
            extra_bytes: bytes.len() as u64 - record.end(),
        });
    }
    let payload = record.payload;
    if payload.len() < POSITION_LEN {
        return Err(CheckpointError::TooShort {
            payload_bytes: payload.len() as u64,
        });
    }
    let (position, state) = payload.split_at(POSITION_LEN);
    let mut le = [0u8; POSITION_LEN];
    le.copy_from_slice(position);
    Ok(Checkpoint::new(state, u64::from_le_bytes(le)))
}

/// What to load and what to replay after a crash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoveryPlan<'c, 'l> {
    /// The newest valid checkpoint and its index in the input, if any.
    pub checkpoint: Option<(usize, Checkpoint<&'c [u8]>)>,
    /// The log records to replay over it (or over the initial state), in order.
    pub replay: Vec<Record<'l>>,
    /// Valid length of the log, bytes: truncate the log here before appending.
    pub log_valid_len: u64,
    /// Why log recovery stopped.
    pub log_stop: Stop,
    /// The checkpoints that failed the validity rule and why, by index in the input
    /// (older valid ones are neither chosen nor listed here).
    pub rejected: Vec<(usize, CheckpointError)>,
}

impl RecoveryPlan<'_, '_> {
    /// The position replay starts from: the checkpoint's, or 0 without one.
    pub fn start_position(&self) -> u64 {
        self.checkpoint.map_or(0, |(_, c)| c.log_position)
    }

    /// Rebuilds the state: `decode` the checkpoint's state (or take `initial()` without
    /// one), then `apply` each replayed record's payload in order.
    ///
    /// # Errors
    ///
    /// The first error `decode` or `apply` returns.
    pub fn restore<S, E>(
        &self,
        initial: impl FnOnce() -> S,
        decode: impl FnOnce(&[u8]) -> Result<S, E>,
        mut apply: impl FnMut(&mut S, &[u8]) -> Result<(), E>,
    ) -> Result<S, E> {
        let mut state = match self.checkpoint {
            Some((_, c)) => decode(c.state)?,
            None => initial(),
        };
        for record in &self.replay {
            apply(&mut state, record.payload)?;
        }
        Ok(state)
    }
}

/// Applies the recovery rule (module docs) to stored checkpoints and a log.
///
/// `checkpoints` may be in any order; each is judged on its own. Never panics.
pub fn plan_recovery<'c, 'l>(checkpoints: &[&'c [u8]], log: &'l [u8]) -> RecoveryPlan<'c, 'l> {
    let recovered = wal::recover(log);
    let valid_len = recovered.valid_len;
    let on_boundary = |position: u64| {
        position == valid_len
            || recovered
                .records
                .binary_search_by_key(&position, |r| r.offset)
                .is_ok()
    };
    let mut best: Option<(usize, Checkpoint<&'c [u8]>)> = None;
    let mut rejected = Vec::new();
    for (index, bytes) in checkpoints.iter().enumerate() {
        let judged = decode(bytes).and_then(|c| {
            if c.log_position > valid_len {
                Err(CheckpointError::BeyondLog {
                    log_position: c.log_position,
                    log_valid_len: valid_len,
                })
            } else if !on_boundary(c.log_position) {
                Err(CheckpointError::NotOnRecordBoundary {
                    log_position: c.log_position,
                })
            } else {
                Ok(c)
            }
        });
        match judged {
            Ok(c) => {
                if best.is_none_or(|(_, b)| c.log_position >= b.log_position) {
                    best = Some((index, c));
                }
            }
            Err(e) => rejected.push((index, e)),
        }
    }
    let start = best.map_or(0, |(_, c)| c.log_position);
    let replay: Vec<Record<'l>> = recovered
        .records
        .iter()
        .copied()
        .filter(|r| r.offset >= start)
        .collect();
    debug_assert!(on_boundary(start));
    debug_assert!(replay.first().is_none_or(|r| r.offset == start));
    debug_assert_eq!(
        replay.len(),
        recovered.records.len()
            - recovered
                .records
                .iter()
                .filter(|r| r.end() <= start)
                .count()
    );
    RecoveryPlan {
        checkpoint: best,
        replay,
        log_valid_len: valid_len,
        log_stop: recovered.stop,
        rejected,
    }
}

/// Why an optimum interval cannot be computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntervalError {
    /// The checkpoint cost is zero (the optimum would be to checkpoint continuously).
    ZeroCost,
    /// The mean time between failures is zero.
    ZeroMtbf,
    /// The interval does not fit in a [`Duration`].
    Overflow,
}

impl fmt::Display for IntervalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntervalError::ZeroCost => write!(f, "checkpoint cost must be positive"),
            IntervalError::ZeroMtbf => write!(f, "mean time between failures must be positive"),
            IntervalError::Overflow => write!(f, "checkpoint interval overflows a Duration"),
        }
    }
}

impl std::error::Error for IntervalError {}

fn checked_inputs(cost: Duration, mtbf: Duration) -> Result<(f64, f64), IntervalError> {
    if cost.is_zero() {
        return Err(IntervalError::ZeroCost);
    }
    if mtbf.is_zero() {
        return Err(IntervalError::ZeroMtbf);
    }
    Ok((cost.as_secs_f64(), mtbf.as_secs_f64()))
}

fn interval_from_secs(secs: f64) -> Result<Duration, IntervalError> {
    debug_assert!(secs.is_finite() && secs > 0.0, "interval {secs} s");
    Duration::try_from_secs_f64(secs).map_err(|_| IntervalError::Overflow)
}

/// Young's optimum checkpoint interval (Young 1974): `sqrt(2 C MTBF)`.
///
/// For `C = 10 s` and `MTBF = 24 h` it is `sqrt(2 * 10 * 86400) = 1314.5 s`.
///
/// # Errors
///
/// [`IntervalError`] for a zero cost or MTBF, or an interval beyond `Duration`.
pub fn young_interval(
    checkpoint_cost: Duration,
    mtbf: Duration,
) -> Result<Duration, IntervalError> {
    let (c_s, m_s) = checked_inputs(checkpoint_cost, mtbf)?;
    interval_from_secs((2.0 * c_s * m_s).sqrt())
}

/// Daly's higher-order optimum checkpoint interval (Daly 2006, eq. 37):
/// `sqrt(2 C M) (1 + (1/3) sqrt(C/2M) + (1/9) (C/2M)) - C` for `C < 2M`, else `M`.
///
/// Closer than Young's to the true optimum of the exponential-failure model when the
/// checkpoint cost is not small against the MTBF; the two agree as `C/M -> 0`.
///
/// # Errors
///
/// [`IntervalError`] for a zero cost or MTBF, or an interval beyond `Duration`.
pub fn daly_interval(checkpoint_cost: Duration, mtbf: Duration) -> Result<Duration, IntervalError> {
    let (c_s, m_s) = checked_inputs(checkpoint_cost, mtbf)?;
    if c_s >= 2.0 * m_s {
        return Ok(mtbf);
    }
    let x = c_s / (2.0 * m_s);
    let t_s = (2.0 * c_s * m_s).sqrt() * (1.0 + x.sqrt() / 3.0 + x / 9.0) - c_s;
    // With x < 1: t = 2M (sqrt(x) - 2x/3 + x^1.5/9) > 0, since sqrt(x) > x.
    interval_from_secs(t_s)
}

/// First-order expected waste of checkpointing every `interval`: `C/T + T/(2 MTBF)`,
/// the fraction of time spent writing checkpoints plus redoing lost work (Young 1974).
///
/// Infinite for a zero interval or a zero MTBF.
pub fn first_order_waste(interval: Duration, checkpoint_cost: Duration, mtbf: Duration) -> f64 {
    let t_s = interval.as_secs_f64();
    let c_s = checkpoint_cost.as_secs_f64();
    let m_s = mtbf.as_secs_f64();
    if t_s == 0.0 || m_s == 0.0 {
        return f64::INFINITY;
    }
    c_s / t_s + t_s / (2.0 * m_s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    const HOUR_S: u64 = 3600;

    #[test]
    fn young_matches_worked_numbers() {
        // C = 10 s, MTBF = 24 h: sqrt(2 * 10 * 86400) = sqrt(1,728,000) = 1314.534 s.
        let t = young_interval(secs(10), secs(24 * HOUR_S)).unwrap();
        assert!((t.as_secs_f64() - 1314.534).abs() < 1e-3, "{t:?}");
        // C = 5 min, MTBF = 6 h: sqrt(2 * 300 * 21600) = sqrt(12,960,000) = 3600 s exactly.
        let t = young_interval(secs(300), secs(6 * HOUR_S)).unwrap();
        assert!((t.as_secs_f64() - 3600.0).abs() < 1e-6, "{t:?}");
        // At the optimum the waste is C/T + T/2M = sqrt(2C/M) = sqrt(600/21600) = 1/6.
        let w = first_order_waste(t, secs(300), secs(6 * HOUR_S));
        assert!((w - 1.0 / 6.0).abs() < 1e-9, "{w}");
    }

    #[test]
    fn daly_matches_worked_numbers() {
        // C = 300 s, M = 21600 s: C/2M = 1/144, sqrt = 1/12, so
        // T = 3600 (1 + 1/36 + 1/1296) - 300 = 3600 + 100 + 25/9 - 300 = 3402 + 7/9 s.
        let t = daly_interval(secs(300), secs(6 * HOUR_S)).unwrap();
        assert!(
            (t.as_secs_f64() - (3402.0 + 7.0 / 9.0)).abs() < 1e-6,
            "{t:?}"
        );
        // C = 10 s, M = 86400 s: C/2M = 1/17280, sqrt = 0.0076073;
        // 1314.534 * (1 + 0.0025358 + 0.0000064) - 10 = 1307.876 s.
        let t = daly_interval(secs(10), secs(24 * HOUR_S)).unwrap();
        assert!((t.as_secs_f64() - 1307.876).abs() < 1e-3, "{t:?}");
        // Daly's rule for C >= 2M: checkpoint once per MTBF.
        assert_eq!(daly_interval(secs(200), secs(100)).unwrap(), secs(100));
    }

    #[test]
    fn interval_inputs_are_checked() {
        assert_eq!(
            young_interval(Duration::ZERO, secs(1)),
            Err(IntervalError::ZeroCost)
        );
        assert_eq!(
            young_interval(secs(1), Duration::ZERO),
            Err(IntervalError::ZeroMtbf)
        );
        assert_eq!(
            daly_interval(Duration::ZERO, secs(1)),
            Err(IntervalError::ZeroCost)
        );
        assert_eq!(
            young_interval(Duration::MAX, Duration::MAX),
            Err(IntervalError::Overflow)
        );
        assert!(first_order_waste(Duration::ZERO, secs(1), secs(1)).is_infinite());
        assert!(IntervalError::ZeroMtbf.to_string().contains("positive"));
    }

    /// Daly's complete model: expected wall time per unit of work, up to a constant
    /// factor, when checkpointing every `t` with cost `c` and exponential failures of
    /// mean `m` (Daly 2006, eq. 20): `(exp((t + c)/m) - 1) / t`.
    fn daly_model_cost(t: f64, c: f64, m: f64) -> f64 {
        (((t + c) / m).exp() - 1.0) / t
    }

    /// The model's true optimum by golden-section search on `(0, 10 m]` (the cost is
    /// unimodal in `t`): 300 iterations shrink the bracket by 0.618^300, far below f64
    /// resolution.
    fn model_optimum(c: f64, m: f64) -> f64 {
        let ratio = (5f64.sqrt() - 1.0) / 2.0;
        let (mut lo, mut hi) = (1e-12 * m, 10.0 * m);
        for _ in 0..300 {
            let a = hi - ratio * (hi - lo);
            let b = lo + ratio * (hi - lo);
            if daly_model_cost(a, c, m) < daly_model_cost(b, c, m) {
                hi = b;
            } else {
                lo = a;
            }
        }
        (lo + hi) / 2.0
    }

    proptest! {
        #[test]
        fn young_minimises_first_order_waste(
            cost_ms in 1u64..=3_600_000,
            mtbf_over_cost in 2.0f64..1e6,
            step in prop::sample::select(vec![1e-3, 1e-2, 0.1, 0.5, 2.0]),
        ) {
            let cost = Duration::from_millis(cost_ms);
            let mtbf = cost.mul_f64(mtbf_over_cost);
            let t = young_interval(cost, mtbf).unwrap();
            let best = first_order_waste(t, cost, mtbf);
            // Nearby intervals on both sides waste more (relative slack 1e-12 for the
            // rounding of t to whole nanoseconds and of the f64 arithmetic).
            for other in [t.mul_f64(1.0 + step), t.mul_f64(1.0 / (1.0 + step))] {
                let w = first_order_waste(other, cost, mtbf);
                prop_assert!(best <= w * (1.0 + 1e-12), "T={:?} {} vs {:?} {}", t, best, other, w);
            }
            // The minimum value is sqrt(2 C / M).
            let expected = (2.0 * cost.as_secs_f64() / mtbf.as_secs_f64()).sqrt();
            prop_assert!((best - expected).abs() <= 1e-9 * expected.max(1.0));
        }

        #[test]
        fn daly_is_closer_than_young_to_the_complete_models_optimum(
            half_ratio in 1e-6f64..0.9,
            mtbf_s in 60.0f64..1e7,
        ) {
            // C / 2M = half_ratio, inside Daly's range C < 2M.
            let cost_s = 2.0 * mtbf_s * half_ratio;
            let cost = Duration::from_secs_f64(cost_s);
            let mtbf = Duration::from_secs_f64(mtbf_s);
            let young = young_interval(cost, mtbf).unwrap().as_secs_f64();
            let daly = daly_interval(cost, mtbf).unwrap().as_secs_f64();
            let c = cost.as_secs_f64();
            let m = mtbf.as_secs_f64();
            let opt = model_optimum(c, m);
            prop_assert!((daly - opt).abs() <= (young - opt).abs(), "daly {} young {} opt {}", daly, young, opt);
            prop_assert!(
                daly_model_cost(daly, c, m) <= daly_model_cost(young, c, m) * (1.0 + 1e-12)
            );
            // First order they agree: within 2 sqrt(C/2M) relative (the expansion's
            // leading correction, -sqrt(x) * 2/3 relative to Young's).
            prop_assert!((young - daly).abs() <= 2.0 * half_ratio.sqrt() * young);
        }
    }

    // ---------- checkpoint storage and the recovery rule ----------

    #[test]
    fn checkpoint_round_trips_and_rejects_damage() {
        let c = Checkpoint::new(b"state".as_slice(), 42);
        let bytes = c.encode().unwrap();
        assert_eq!(decode(&bytes), Ok(c));
        let empty_state = Checkpoint::new(Vec::<u8>::new(), 7).encode().unwrap();
        assert_eq!(decode(&empty_state).unwrap().state, b"");
        assert_eq!(
            decode(&bytes[..bytes.len() - 1]),
            Err(CheckpointError::Unreadable(Stop::Torn {
                offset: 0,
                needed_bytes: bytes.len() as u64,
                available_bytes: bytes.len() as u64 - 1
            }))
        );
        let mut extra = bytes.clone();
        extra.push(0);
        assert_eq!(
            decode(&extra),
            Err(CheckpointError::TrailingBytes { extra_bytes: 1 })
        );
        assert_eq!(
            decode(&wal::encode(b"short").unwrap()),
            Err(CheckpointError::TooShort { payload_bytes: 5 })
        );
        assert!(matches!(
            decode(&[]),
            Err(CheckpointError::Unreadable(Stop::Clean))
        ));
    }

    /// The test application: a count of records and the sum of their amounts.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    struct Tally {
        count: u64,
        sum: u64,
    }

    impl Tally {
        fn to_bytes(self) -> Vec<u8> {
            [self.count.to_le_bytes(), self.sum.to_le_bytes()].concat()
        }

        fn from_bytes(b: &[u8]) -> Result<Tally, String> {
            let arr: [u8; 16] = b.try_into().map_err(|_| format!("{} bytes", b.len()))?;
            let (count, sum) = arr.split_at(8);
            Ok(Tally {
                count: u64::from_le_bytes(count.try_into().unwrap()),
                sum: u64::from_le_bytes(sum.try_into().unwrap()),
            })
        }

        fn apply(&mut self, payload: &[u8]) -> Result<(), String> {
            let amount: [u8; 8] = payload.try_into().map_err(|_| "bad record".to_string())?;
            self.count += 1;
            self.sum += u64::from_le_bytes(amount);
            Ok(())
        }
    }

    #[test]
    fn recovery_by_hand() {
        let mut log = Vec::new();
        let mut state = Tally::default();
        let mut checkpoints = Vec::new();
        for amount in [5u64, 7, 11] {
            wal::encode_into(&mut log, &amount.to_le_bytes()).unwrap();
            state.apply(&amount.to_le_bytes()).unwrap();
            checkpoints.push(
                Checkpoint::new(state.to_bytes(), log.len() as u64)
                    .encode()
                    .unwrap(),
            );
        }
        wal::encode_into(&mut log, &13u64.to_le_bytes()).unwrap();
        // The newest checkpoint is torn; the one before covers 2 records.
        let last = checkpoints.len() - 1;
        let torn_len = checkpoints[last].len() - 3;
        checkpoints[last].truncate(torn_len);
        let refs: Vec<&[u8]> = checkpoints.iter().map(|c| c.as_slice()).collect();
        let plan = plan_recovery(&refs, &log);
        let (index, chosen) = plan.checkpoint.unwrap();
        assert_eq!(index, 1);
        assert_eq!(
            Tally::from_bytes(chosen.state).unwrap(),
            Tally { count: 2, sum: 12 }
        );
        assert_eq!(plan.replay.len(), 2, "records 11 and 13 replay");
        assert!(matches!(
            plan.rejected[..],
            [(2, CheckpointError::Unreadable(_))]
        ));
        let restored = plan
            .restore(Tally::default, Tally::from_bytes, Tally::apply)
            .unwrap();
        assert_eq!(restored, Tally { count: 4, sum: 36 });
        // A checkpoint pointing inside a record is rejected.
        let inside = Checkpoint::new(Tally::default().to_bytes(), 3)
            .encode()
            .unwrap();
        let plan = plan_recovery(&[inside.as_slice()], &log);
        assert_eq!(
            plan.rejected,
            vec![(0, CheckpointError::NotOnRecordBoundary { log_position: 3 })]
        );
        assert_eq!(plan.start_position(), 0);
        assert_eq!(plan.replay.len(), 4);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Whatever happens to the checkpoints (torn, bit-flipped, ahead of a torn log),
        /// recovery yields the state of replaying the surviving log from scratch.
        #[test]
        fn recovery_equals_replaying_the_surviving_log(
            amounts in prop::collection::vec(0u64..1_000_000, 0..30),
            checkpoint_after in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
            damage in prop::collection::vec((0u8..4, any::<prop::sample::Index>()), 6),
            log_cut_frac in 0.0f64..=1.0,
            cut_log in any::<bool>(),
        ) {
            let mut log = Vec::new();
            let mut boundaries = vec![0u64];
            let mut tallies = vec![Tally::default()];
            for a in &amounts {
                wal::encode_into(&mut log, &a.to_le_bytes()).unwrap();
                let mut t = *tallies.last().unwrap();
                t.apply(&a.to_le_bytes()).unwrap();
                tallies.push(t);
                boundaries.push(log.len() as u64);
            }
            // Checkpoints after random records (indexes into boundaries).
            let mut stored: Vec<(u64, Vec<u8>, bool)> = Vec::new();
            for (i, at) in checkpoint_after.iter().enumerate() {
                let k = at.index(boundaries.len());
                let mut bytes = Checkpoint::new(tallies[k].to_bytes(), boundaries[k]).encode().unwrap();
                let (kind, where_) = damage[i];
                let intact = match kind {
                    0 => { let n = where_.index(bytes.len()); bytes.truncate(n); false }
                    1 => { let bit = where_.index(bytes.len() * 8); bytes[bit / 8] ^= 1 << (bit % 8); false }
                    _ => true,
                };
                stored.push((boundaries[k], bytes, intact));
            }
            if cut_log {
                let cut = (log.len() as f64 * log_cut_frac) as usize;
                log.truncate(cut);
            }
            let refs: Vec<&[u8]> = stored.iter().map(|(_, b, _)| b.as_slice()).collect();
            let plan = plan_recovery(&refs, &log);
            let surviving = wal::recover(&log);
            prop_assert_eq!(plan.log_valid_len, surviving.valid_len);
            // The oracle: the tally after every record that survived.
            let expected = tallies[surviving.records.len()];
            let got = plan.restore(Tally::default, Tally::from_bytes, Tally::apply);
            prop_assert_eq!(got, Ok(expected));
            // The chosen checkpoint is the newest intact one the log still covers
            // (a flipped bit is always caught: see the wal tests' tolerance note).
            let newest_usable = stored
                .iter()
                .filter(|(pos, _, intact)| *intact && *pos <= surviving.valid_len)
                .map(|(pos, _, _)| *pos)
                .max();
            prop_assert_eq!(plan.checkpoint.map(|(_, c)| c.log_position), newest_usable);
            let unusable = stored
                .iter()
                .filter(|(pos, _, intact)| !*intact || *pos > surviving.valid_len)
                .count();
            prop_assert_eq!(plan.rejected.len(), unusable);
        }
    }
}
