//! Per-node physical clocks with skew, drift and jumps (`clock` faults).
//!
//! Models that need physical time (the HLC) read the node's clock, never true time.
//! A clock reads `true + offset + drift_ppm * (true - since) / 1e6`; it never runs
//! backwards unless a fault sets a negative jump, which real clocks also do (NTP steps).

use super::queue::Nanos;

/// One node's physical clock.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PhysicalClock {
    /// Offset from true time at `since_ns`, nanoseconds (negative: behind).
    offset_ns: i64,
    /// Drift rate in parts per million from `since_ns`.
    drift_ppm: f64,
    /// True time the current settings took effect.
    since_ns: Nanos,
}

impl PhysicalClock {
    /// Reads the clock at true time `true_ns`; never below zero.
    #[inline]
    pub fn read(&self, true_ns: Nanos) -> Nanos {
        let elapsed_ns = true_ns.saturating_sub(self.since_ns) as f64;
        let drift_ns = (elapsed_ns * self.drift_ppm / 1e6) as i64;
        let reading = true_ns as i64 + self.offset_ns + drift_ns;
        reading.max(0) as Nanos
    }

    /// How far the clock is ahead of true time at `true_ns` (negative: behind).
    pub fn offset_at(&self, true_ns: Nanos) -> i64 {
        self.read(true_ns) as i64 - true_ns as i64
    }

    /// Applies a clock fault at `true_ns`, replacing earlier settings: from then on the
    /// clock reads `true + skew + jump`, drifting at `drift_ppm`.
    pub fn apply(&mut self, true_ns: Nanos, skew_ns: i64, drift_ppm: f64, jump_ns: i64) {
        *self = PhysicalClock {
            offset_ns: skew_ns + jump_ns,
            drift_ppm,
            since_ns: true_ns,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skew_and_drift_add_up() {
        let mut clock = PhysicalClock::default();
        assert_eq!(clock.read(5_000), 5_000);
        clock.apply(1_000_000_000, 250_000_000, 200.0, 0);
        // 10 s after the fault: 250 ms skew + 200 ppm * 10 s = 2 ms drift.
        assert_eq!(clock.offset_at(11_000_000_000), 252_000_000);
    }

    #[test]
    fn negative_skew_is_behind_and_never_below_zero() {
        let mut clock = PhysicalClock::default();
        clock.apply(0, -250_000_000, 0.0, 0);
        assert_eq!(clock.read(100_000_000), 0);
        assert_eq!(clock.offset_at(1_000_000_000), -250_000_000);
    }
}
