//! Checks: `{"availability_at_least": 0.95}`, `{"p99_latency_at_most": "1s"}`,
//! `{"conservation": true}`. A check is one key naming what it checks and its bound; each
//! workload declares the checks it offers ([`CheckSpec`]) and the metric each one reads,
//! so a new workload brings its own checks without touching another's.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Dur;

/// A check evaluated after the run; a failed one exits 1.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    /// What it checks, as written (`"availability_at_least"`).
    pub name: String,
    /// The bound as written.
    pub bound: Bound,
}

/// A check's bound.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bound {
    /// A number (a fraction for availabilities).
    Number(f64),
    /// A duration (`"1s"`).
    Duration(Dur),
    /// An invariant switched on (`true`) or off.
    Flag(bool),
}

impl Bound {
    /// The bound as a number: durations in milliseconds, flags as 0 or 1.
    pub fn value(&self) -> f64 {
        match *self {
            Bound::Number(value) => value,
            Bound::Duration(duration) => duration.as_secs_f64() * 1e3,
            Bound::Flag(on) => f64::from(u8::from(on)),
        }
    }
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bound::Number(value) => write!(f, "{value}"),
            Bound::Duration(duration) => write!(f, "{duration}"),
            Bound::Flag(on) => write!(f, "{on}"),
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.bound)
    }
}

/// The kind of bound a check takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoundKind {
    /// A fraction from 0 to 1.
    Fraction,
    /// A duration above 0.
    Duration,
    /// A number of at least 0.
    NonNegative,
    /// `true` (checked) or `false` (not checked).
    Flag,
}

/// Which way a check's metric must stand against its bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// The metric is at least the bound.
    AtLeast,
    /// The metric is at most the bound.
    AtMost,
    /// The invariant held (the metric, its violations, is 0), when the flag is on.
    Holds,
}

/// A check a workload offers.
#[derive(Clone, Copy, Debug)]
pub struct CheckSpec {
    /// Its key in a scenario (`"availability_at_least"`).
    pub name: &'static str,
    /// The workload metric it reads (`"availability"`); durations in milliseconds,
    /// invariants as their number of violations (0: held).
    pub metric: &'static str,
    /// Its bound's kind.
    pub bound: BoundKind,
    /// How the metric must stand against the bound.
    pub direction: Direction,
    /// Writes the measured value against the bound in words, for the records
    /// (`"availability 99.1000% vs at least 95.0000%"`).
    pub describe: fn(measured: f64, bound: f64) -> String,
}

/// `availability_at_least`: the check of any workload that declares an `availability`
/// figure (the rpc workload's, a store's of one's own).
pub const AVAILABILITY_AT_LEAST: CheckSpec = CheckSpec {
    name: "availability_at_least",
    metric: "availability",
    bound: BoundKind::Fraction,
    direction: Direction::AtLeast,
    describe: |measured, bound| {
        format!(
            "availability {:.4}% vs at least {:.4}%",
            measured * 100.0,
            bound * 100.0
        )
    },
};

impl CheckSpec {
    /// Whether `measured` passes `bound`.
    pub fn passes(&self, measured: f64, bound: &Bound) -> bool {
        match self.direction {
            Direction::AtLeast => measured >= bound.value(),
            Direction::AtMost => measured <= bound.value(),
            Direction::Holds => !matches!(bound, Bound::Flag(true)) || measured == 0.0,
        }
    }

    /// Checks that `bound` is of this check's kind; the message says what to write.
    pub fn accepts(&self, bound: &Bound) -> Result<(), String> {
        let name = self.name;
        match (self.bound, bound) {
            (BoundKind::Fraction, Bound::Number(value)) => {
                if value.is_finite() && (0.0..=1.0).contains(value) {
                    Ok(())
                } else {
                    Err(format!(
                        "{value} is not a probability: write a number from 0 to 1 (e.g. 0.99)"
                    ))
                }
            }
            (BoundKind::NonNegative, Bound::Number(value)) => {
                if value.is_finite() && *value >= 0.0 {
                    Ok(())
                } else {
                    Err(format!(
                        "{value} is out of range: write a number of at least 0"
                    ))
                }
            }
            (BoundKind::Duration, Bound::Duration(value)) => {
                if value.0.is_zero() {
                    Err("must be above 0 (write e.g. \"1s\")".to_owned())
                } else {
                    Ok(())
                }
            }
            (BoundKind::Flag, Bound::Flag(_)) => Ok(()),
            (kind, _) => Err(format!(
                "\"{name}\" takes {}",
                match kind {
                    BoundKind::Fraction => "a fraction from 0 to 1 (e.g. 0.99)",
                    BoundKind::Duration => "a duration such as \"1s\"",
                    BoundKind::NonNegative => "a number of at least 0",
                    BoundKind::Flag => "true or false",
                }
            )),
        }
    }
}

impl Serialize for Check {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        match &self.bound {
            Bound::Number(value) => map.serialize_entry(&self.name, value)?,
            Bound::Duration(value) => map.serialize_entry(&self.name, value)?,
            Bound::Flag(value) => map.serialize_entry(&self.name, value)?,
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Check {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(CheckVisitor)
    }
}

/// The bound as written: a number, a duration string or a flag.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawBound {
    Flag(bool),
    Number(f64),
    Text(String),
}

struct CheckVisitor;

impl<'de> Visitor<'de> for CheckVisitor {
    type Value = Check;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a check with one key, such as {\"availability_at_least\": 0.99} or \
             {\"p99_latency_at_most\": \"1s\"}",
        )
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Check, A::Error> {
        let Some(name) = map.next_key::<String>()? else {
            return Err(de::Error::custom(
                "an empty check: write one key, such as {\"availability_at_least\": 0.99}",
            ));
        };
        let bound = match map.next_value::<RawBound>() {
            Ok(RawBound::Flag(on)) => Bound::Flag(on),
            Ok(RawBound::Number(value)) => Bound::Number(value),
            Ok(RawBound::Text(text)) => {
                Bound::Duration(text.parse::<Dur>().map_err(de::Error::custom)?)
            }
            Err(_) => {
                return Err(de::Error::custom(format!(
                    "check \"{name}\": its bound is a number, a duration such as \"1s\", or true"
                )))
            }
        };
        if let Some(second) = map.next_key::<String>()? {
            return Err(de::Error::custom(format!(
                "one check per entry: this entry has both \"{name}\" and \"{second}\"; split it \
                 into two entries"
            )));
        }
        Ok(Check { name, bound })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_read_and_write_one_key() {
        let checks: Vec<Check> = serde_json::from_str(
            r#"[{"availability_at_least": 0.9}, {"p99_latency_at_most": "1s"}, {"conservation": true}]"#,
        )
        .unwrap();
        assert_eq!(checks[0].bound, Bound::Number(0.9));
        assert_eq!(checks[1].bound.value(), 1000.0);
        assert_eq!(checks[2].bound, Bound::Flag(true));
        assert_eq!(
            serde_json::to_string(&checks).unwrap(),
            r#"[{"availability_at_least":0.9},{"p99_latency_at_most":"1s"},{"conservation":true}]"#
        );
        for bad in [
            r#"{}"#,
            r#"{"a": 1, "b": 2}"#,
            r#"{"a": [1]}"#,
            r#"{"a": "fast"}"#,
        ] {
            assert!(serde_json::from_str::<Check>(bad).is_err(), "{bad}");
        }
    }
}
