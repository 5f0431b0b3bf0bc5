//! Durations written with units (`"250us"`, `"5ms"`, `"1.5s"`, `"2m"`), parsed by humantime.

use core::fmt;
use core::time::Duration;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// Longest duration any field may hold, seconds (365 days): far above any run, so that
/// sums and products of durations in nanoseconds cannot overflow.
pub const MAX_ANY_DURATION_S: u64 = 365 * 86_400;

/// A duration in a scenario file: a string with units, exact to the nanosecond.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dur(pub Duration);

impl Dur {
    /// Nanoseconds, saturating at `u64::MAX` (584 years; limits refuse far less).
    pub fn as_nanos(self) -> u64 {
        u64::try_from(self.0.as_nanos()).unwrap_or(u64::MAX)
    }

    /// Seconds as a float.
    pub fn as_secs_f64(self) -> f64 {
        self.0.as_secs_f64()
    }

    /// From nanoseconds.
    pub const fn from_nanos(nanos: u64) -> Self {
        Dur(Duration::from_nanos(nanos))
    }

    /// From milliseconds.
    pub const fn from_millis(millis: u64) -> Self {
        Dur(Duration::from_millis(millis))
    }

    /// From seconds.
    pub const fn from_secs(secs: u64) -> Self {
        Dur(Duration::from_secs(secs))
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

impl core::str::FromStr for Dur {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.trim_start().starts_with('-') {
            return Err(format!(
                "invalid duration {text:?}: a duration cannot be negative here (write e.g. \"0s\" or \"1s\")"
            ));
        }
        let parsed = humantime::parse_duration(text.trim())
            .map_err(|err| format!("invalid duration {text:?}: {err} (write a number with a unit, e.g. \"250us\", \"5ms\", \"1.5s\", \"2m\")"))?;
        // A cap far above any run (at most a day) keeps sums and products of durations,
        // in nanoseconds, far from overflow.
        if parsed > Duration::from_secs(MAX_ANY_DURATION_S) {
            return Err(format!(
                "duration {text:?} exceeds the limit of {MAX_ANY_DURATION_S} s (365 days) for \
                 any duration in a scenario"
            ));
        }
        Ok(Dur(parsed))
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string with a unit, e.g. \"5ms\"")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Dur, E> {
                text.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// A duration that may be negative (`"-250ms"`), e.g. a clock skew behind true time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SignedDur {
    /// Nanoseconds, negative for "behind".
    pub nanos: i64,
}

impl fmt::Display for SignedDur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let magnitude = Duration::from_nanos(self.nanos.unsigned_abs());
        let sign = if self.nanos < 0 { "-" } else { "" };
        write!(f, "{sign}{}", humantime::format_duration(magnitude))
    }
}

impl core::str::FromStr for SignedDur {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        let (negative, magnitude) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
        };
        let magnitude: Dur = magnitude.parse()?;
        let nanos = i64::try_from(magnitude.0.as_nanos())
            .map_err(|_| format!("duration {text:?} is too large"))?;
        Ok(SignedDur {
            nanos: if negative { -nanos } else { nanos },
        })
    }
}

impl Serialize for SignedDur {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SignedDur {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = SignedDur;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string with a unit, optionally negative, e.g. \"-250ms\"")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<SignedDur, E> {
                text.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}
