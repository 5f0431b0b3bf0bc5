//! The real fault-tolerance code Faultline runs, written sans-IO.
//!
//! Nothing in this crate reads a clock, sleeps, does I/O or draws from a global random
//! source. Time comes in as an argument (a [`core::time::Duration`] since an arbitrary
//! origin); randomness comes in as `&mut impl rand::Rng`; decisions come out as values.
//! The same types serve a production service driven by tokio time and the simulator
//! driven by virtual time, without a line changed (the shape of quinn-proto:
//! `handle_*` feeds events in, `poll_*` asks for decisions and deadlines).
//!
//! Every model states its invariants in its docs and checks them with `debug_assert!`.
//! Published numbers each model must match are cited where they are used.
#![forbid(unsafe_code)]

pub mod backoff;
pub mod breaker;
pub mod budget;
pub mod channel;
pub mod checkpoint;
pub mod clock;
pub mod detector;
pub mod limit;
pub mod linearizability;
pub mod metastability;
pub mod overload_retry;
pub mod reliability;
pub mod snapshot;
pub mod timeout;
pub mod wal;
