//! Seed ranges and shards.
//!
//! A range is written as Rust writes one: `A..B` is half-open (B is not run), `A..=B`
//! includes B, and a bare `N` is the one seed N. A shard `I/N` takes every N-th seed of
//! the range starting at position I, so the N slices interleave: each gets seeds from
//! the whole range (early seeds are not all on one machine) and their union is the
//! range, each seed exactly once.
//!
//! Batch engines give a task its index in the environment; [`shard_from_env`] reads the
//! common ones: Kubernetes Indexed Jobs (`JOB_COMPLETION_INDEX`, with the count from
//! `--shards N`), Slurm job arrays (`SLURM_ARRAY_TASK_ID` counted from
//! `SLURM_ARRAY_TASK_MIN`, and `SLURM_ARRAY_TASK_COUNT`). A CI matrix passes
//! `--shard ${{ strategy.job-index }}/${{ strategy.job-total }}` itself.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Most seeds one sweep may hold (a bound on the result vector and on sweep.json).
pub const MAX_SEEDS: u64 = 10_000_000;

/// Most shards a sweep may be cut into.
pub const MAX_SHARDS: u64 = 1_000_000;

/// A half-open seed range `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedRange {
    /// First seed.
    pub start: u64,
    /// One past the last seed.
    pub end: u64,
}

impl SeedRange {
    /// Parses `A..B`, `A..=B` or `N`.
    pub fn parse(text: &str) -> Result<SeedRange, String> {
        let text = text.trim();
        let number = |part: &str| {
            part.trim().parse::<u64>().map_err(|_| {
                format!("--seeds {text:?}: {part:?} is not a seed (write A..B, A..=B or N)")
            })
        };
        let (start, end) = if let Some((a, b)) = text.split_once("..=") {
            let b = number(b)?;
            let end = b
                .checked_add(1)
                .ok_or_else(|| format!("--seeds {text:?}: the last seed is too large"))?;
            (number(a)?, end)
        } else if let Some((a, b)) = text.split_once("..") {
            (number(a)?, number(b)?)
        } else {
            let n = number(text)?;
            (n, n.saturating_add(1))
        };
        if end <= start {
            return Err(format!(
                "--seeds {text:?} is empty: A..B runs A up to B-1, so B must be above A"
            ));
        }
        if end - start > MAX_SEEDS {
            return Err(format!(
                "--seeds {text:?}: {} seeds, more than the limit of {MAX_SEEDS} in one sweep \
                 (cut it with --shard)",
                end - start
            ));
        }
        Ok(SeedRange { start, end })
    }

    /// Seeds in the range.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Whether the range is empty (never, once parsed).
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    /// The seeds of `shard` (all seeds when `None`), in order.
    pub fn seeds(&self, shard: Option<Shard>) -> Vec<u64> {
        let (index, count) = shard.map_or((0, 1), |shard| (shard.index, shard.count));
        debug_assert!(index < count);
        (self.start..self.end)
            .skip(index as usize)
            .step_by(count as usize)
            .collect()
    }
}

impl fmt::Display for SeedRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// One of `count` interleaved slices of a seed range (`index` from 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// Which slice, from 0.
    pub index: u64,
    /// How many slices.
    pub count: u64,
}

impl Shard {
    /// A checked shard.
    pub fn new(index: u64, count: u64) -> Result<Shard, String> {
        if count == 0 || count > MAX_SHARDS {
            return Err(format!(
                "a sweep is cut into 1 to {MAX_SHARDS} shards, not {count}"
            ));
        }
        if index >= count {
            return Err(format!(
                "shard index {index} is out of range: with {count} shards the index runs from 0 to {}",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }

    /// Parses `I/N`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (index, count) = text
            .split_once('/')
            .ok_or_else(|| format!("--shard {text:?}: write I/N, e.g. 0/4 (index from 0)"))?;
        let parse = |part: &str| {
            part.trim()
                .parse::<u64>()
                .map_err(|_| format!("--shard {text:?}: {part:?} is not a whole number"))
        };
        Shard::new(parse(index)?, parse(count)?).map_err(|err| format!("--shard {text:?}: {err}"))
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Where a shard came from, for the output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardSource {
    /// The shard.
    pub shard: Shard,
    /// `--shard`, or the environment variables it was read from.
    pub from: String,
}

/// Reads the shard from the environment of a batch engine, through `var` (a lookup such
/// as `std::env::var`, so tests can pass their own). `shards` is `--shards N`.
///
/// Returns `Ok(None)` when no engine's variables are set and `--shards` is absent.
pub fn shard_from_env(
    var: impl Fn(&str) -> Option<String>,
    shards: Option<u64>,
) -> Result<Option<ShardSource>, String> {
    let number = |name: &str| -> Result<Option<u64>, String> {
        match var(name) {
            None => Ok(None),
            Some(text) => text
                .trim()
                .parse::<u64>()
                .map(Some)
                .map_err(|_| format!("{name}={text:?} is not a whole number")),
        }
    };
    if let Some(index) = number("JOB_COMPLETION_INDEX")? {
        let count = shards.ok_or_else(|| {
            "JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but the shard count is not: \
             pass --shards N with N the Job's completions"
                .to_owned()
        })?;
        let shard =
            Shard::new(index, count).map_err(|err| format!("JOB_COMPLETION_INDEX: {err}"))?;
        return Ok(Some(ShardSource {
            shard,
            from: format!("JOB_COMPLETION_INDEX={index}, --shards {count}"),
        }));
    }
    if let Some(task) = number("SLURM_ARRAY_TASK_ID")? {
        let min = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        let count = match (number("SLURM_ARRAY_TASK_COUNT")?, shards) {
            (Some(count), Some(given)) if count != given => {
                return Err(format!(
                    "SLURM_ARRAY_TASK_COUNT={count} but --shards {given}: leave out --shards \
                     or make them agree"
                ))
            }
            (Some(count), _) | (None, Some(count)) => count,
            (None, None) => {
                return Err(
                    "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not: \
                            pass --shards N"
                        .to_owned(),
                )
            }
        };
        let index = task.checked_sub(min).ok_or_else(|| {
            format!("SLURM_ARRAY_TASK_ID={task} is below SLURM_ARRAY_TASK_MIN={min}")
        })?;
        let shard = Shard::new(index, count).map_err(|err| {
            format!("SLURM_ARRAY_TASK_ID={task} (from SLURM_ARRAY_TASK_MIN={min}): {err}; the array must be contiguous")
        })?;
        return Ok(Some(ShardSource {
            shard,
            from: format!(
                "SLURM_ARRAY_TASK_ID={task}, SLURM_ARRAY_TASK_MIN={min}, SLURM_ARRAY_TASK_COUNT={count}"
            ),
        }));
    }
    match shards {
        Some(count) => Err(format!(
            "--shards {count} without a shard index: give --shard I/{count}, or run under a \
             Kubernetes Indexed Job (JOB_COMPLETION_INDEX) or a Slurm array (SLURM_ARRAY_TASK_ID)"
        )),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_like_rust_ranges() {
        assert_eq!(
            SeedRange::parse("1..5").unwrap(),
            SeedRange { start: 1, end: 5 }
        );
        assert_eq!(SeedRange::parse("1..=5").unwrap().len(), 5);
        assert_eq!(SeedRange::parse("7").unwrap().seeds(None), vec![7]);
        assert!(SeedRange::parse("5..5").is_err());
        assert!(SeedRange::parse("5..2").is_err());
        assert!(SeedRange::parse("a..2").is_err());
        assert!(SeedRange::parse("0..100000000").is_err());
        assert!(SeedRange::parse(&format!("0..={}", u64::MAX)).is_err());
    }

    #[test]
    fn shards_interleave_and_cover_the_range_once() {
        let range = SeedRange::parse("10..27").unwrap();
        let mut all = Vec::new();
        for index in 0..4 {
            let seeds = range.seeds(Some(Shard::new(index, 4).unwrap()));
            assert!(seeds.windows(2).all(|pair| pair[1] - pair[0] == 4));
            assert_eq!(seeds[0], 10 + index);
            all.extend(seeds);
        }
        all.sort_unstable();
        assert_eq!(all, range.seeds(None));
        // More shards than seeds: the last shards are empty, the union still exact.
        let small = SeedRange::parse("0..2").unwrap();
        assert!(small.seeds(Some(Shard::new(3, 5).unwrap())).is_empty());
    }

    #[test]
    fn shard_text_is_checked() {
        assert_eq!(Shard::parse("2/4").unwrap(), Shard { index: 2, count: 4 });
        assert!(Shard::parse("4/4").is_err());
        assert!(Shard::parse("0/0").is_err());
        assert!(Shard::parse("1").is_err());
        assert!(Shard::parse("x/2").is_err());
    }

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    #[test]
    fn engines_give_the_index_through_their_variables() {
        let k8s = shard_from_env(env(&[("JOB_COMPLETION_INDEX", "3")]), Some(8)).unwrap();
        assert_eq!(k8s.unwrap().shard, Shard { index: 3, count: 8 });
        assert!(shard_from_env(env(&[("JOB_COMPLETION_INDEX", "3")]), None).is_err());
        let slurm = shard_from_env(
            env(&[
                ("SLURM_ARRAY_TASK_ID", "5"),
                ("SLURM_ARRAY_TASK_MIN", "1"),
                ("SLURM_ARRAY_TASK_COUNT", "6"),
            ]),
            None,
        )
        .unwrap();
        assert_eq!(slurm.unwrap().shard, Shard { index: 4, count: 6 });
        let slurm_zero = shard_from_env(
            env(&[
                ("SLURM_ARRAY_TASK_ID", "0"),
                ("SLURM_ARRAY_TASK_COUNT", "2"),
            ]),
            None,
        )
        .unwrap();
        assert_eq!(slurm_zero.unwrap().shard, Shard { index: 0, count: 2 });
        assert!(shard_from_env(
            env(&[
                ("SLURM_ARRAY_TASK_ID", "2"),
                ("SLURM_ARRAY_TASK_COUNT", "2")
            ]),
            None
        )
        .is_err());
        assert!(shard_from_env(
            env(&[
                ("SLURM_ARRAY_TASK_ID", "1"),
                ("SLURM_ARRAY_TASK_COUNT", "2")
            ]),
            Some(3)
        )
        .is_err());
        assert_eq!(shard_from_env(env(&[]), None).unwrap(), None);
        assert!(shard_from_env(env(&[]), Some(4)).is_err());
        assert!(shard_from_env(env(&[("JOB_COMPLETION_INDEX", "x")]), Some(2)).is_err());
    }
}
