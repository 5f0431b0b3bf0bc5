//! A per-node disk whose crash semantics are real: what a process wrote survives a
//! crash only if an fsync covering it completed first.
//!
//! madsim's own `fs` keeps every write through a node kill (its power failure is not
//! implemented and `sync_all` does nothing), so a write-ahead log that never fsyncs
//! would look durable there. The engine owns one [`Disk`] per node with storage, calls
//! it from process code (append, read, fsync) and calls [`Disk::crash`] when a fault
//! kills the node. The disk is a plain deterministic data structure: time comes in as
//! `now_ns`, randomness as an `Rng` (the engine passes a ChaCha8 stream), and nothing
//! is read from the host.
//!
//! # The crash model
//!
//! Each file has two images: the *cache*, which reads see (like a page cache: the
//! durable bytes and everything written since), and the *durable image*, which a crash
//! leaves behind.
//! - [`Disk::append`] and [`Disk::truncate`] change the cache only. A truncate is
//!   durable only once an fsync begun after it completes; a crash before that brings
//!   the cut bytes back (the stricter choice: a Raft log that truncates a conflicting
//!   suffix and acknowledges before syncing is then caught).
//! - An fsync takes simulated time. [`Disk::begin_fsync`] draws its latency from the
//!   configured [`Sampler`]; [`Disk::complete_fsync`] makes the durable image exactly
//!   the cache as it was at the begin: writes and truncates after the begin are not
//!   covered. Of two fsyncs of one file, the one begun later wins, whatever order they
//!   complete in.
//! - [`Disk::crash`] drops the cache: each file becomes its durable image, so every
//!   byte written since the file's last completed fsync is lost, and every pending
//!   fsync is void. Completing a void fsync is an error ([`DiskError::FsyncVoid`]),
//!   never a silent success, so a caller cannot mistake it for durability.
//! - With `torn_writes`, a crash instead writes a random prefix of each file's unsynced
//!   tail over the durable image at its offsets, so recovery must detect a torn last
//!   record. The cut falls on a sector boundary (`sector_bytes`; 1 means any byte),
//!   chosen uniformly among the candidates: nothing, every boundary strictly inside the
//!   tail, and all of it. With 1-byte sectors the kept length is uniform in
//!   `0..=tail_len`.
//! - File names are durable at once: a file created and never synced survives a crash
//!   empty, and a removed file stays removed, as if the engine fsynced the directory
//!   after each (Pillai et al., "All File Systems Are Not Created Equal", OSDI 2014,
//!   show real file systems need that directory fsync).
//!
//! # Faults
//!
//! Switched on and off by the engine at fault-window start and end
//! ([`Disk::activate`], [`Disk::deactivate`]), as data ([`DiskFault`]). FoundationDB's
//! simulator and TigerBeetle's VOPR both model torn writes and fsyncs that lie.
//! - `LyingFsync`: an fsync that completes while the fault is active reports success
//!   and persists nothing. Disks with volatile write caches that ignore flushes do
//!   this, and so does Linux after a failed writeback, which marks the dirty pages
//!   clean: a later fsync succeeds over data that never reached the disk (Rebello et
//!   al., "Can Applications Recover from fsync Failures?", USENIX ATC 2020).
//! - `ReadCorruption { rate }`: each read, with probability `rate`, returns its bytes
//!   with one bit flipped at a uniform position. The stored bytes stay intact: the
//!   corruption is transient, on the read path (cable, controller, DMA), so a re-read
//!   once the fault ends is clean: damage that differs from read to read is this, unlike
//!   a torn tail, which reads the same every time (the bank's recovery reads again to
//!   tell them apart, `faultline_models::wal::Rereads`). Chosen over bit rot because it keeps the stored image exactly what the
//!   crash model says, so crash tests and corruption tests do not confound each other,
//!   and it still forces a checksum on every read. Latent sector errors are measured by
//!   Bairavasundaram et al., "An Analysis of Latent Sector Errors in Disk Drives",
//!   SIGMETRICS 2007, and silent corruption in their "An Analysis of Data Corruption in
//!   the Storage Stack", FAST 2008.
//! - `Full`: every append fails with [`DiskError::Full`] (ENOSPC); truncate and remove
//!   still work.
//!
//! # Space
//!
//! A file reserves the largest of its images: the cache, the durable image, and the
//! image each pending fsync will make durable. Space cut by a truncate is freed once
//! the truncate is durable, as a journaling file system frees blocks at commit; so no
//! crash or completed fsync can take the disk past its capacity.
//!
//! # Invariants (checked with `debug_assert!` after every operation)
//!
//! - The durable image is the first `common_len` bytes of the cache followed by
//!   `stale`, the durable bytes past them the cache no longer holds (non-empty only
//!   after an unsynced truncate), so `common_len <= cache length` and a file costs one
//!   copy of its bytes, not two.
//! - A pending fsync's image is the first `low` bytes of the cache followed by its
//!   `cut`, and its length is the cache length at its begin: a completed fsync never
//!   covers bytes written after its begin.
//! - `used_bytes` is the sum of the files' reservations and never exceeds the capacity;
//!   the pending-fsync count is the sum over files and never exceeds its limit.

use std::collections::BTreeMap;
use std::fmt;

use rand::Rng;

use super::queue::Nanos;
use super::sampler::Sampler;

/// Highest `max_files` a configuration may set (crash and fsync completion walk the
/// files).
pub const FILES_LIMIT: usize = 4096;
/// Highest `max_name_bytes` a configuration may set (NAME_MAX on Linux).
pub const NAME_LIMIT_BYTES: usize = 255;
/// Highest `max_pending_fsyncs` a configuration may set (a truncate walks them).
pub const PENDING_FSYNCS_LIMIT: usize = 4096;
/// Disk faults active at once at most.
pub const ACTIVE_FAULTS_LIMIT: usize = 64;
/// Largest `sector_bytes`, bytes.
pub const SECTOR_LIMIT_BYTES: u64 = 1 << 20;

/// An fsync's id: unique on its disk, increasing in begin order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FsyncId(pub u64);

/// A file's identity: unique on its disk, so a ticket of a removed file never matches
/// a new file of the same name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileId(u64);

/// Limits and timing of one disk.
#[derive(Clone, Debug, PartialEq)]
pub struct DiskConfig {
    /// Files the disk holds at most.
    pub max_files: usize,
    /// Longest file name, bytes.
    pub max_name_bytes: usize,
    /// Capacity, bytes: the sum of what the files reserve (see [`Disk::used_bytes`]).
    pub capacity_bytes: u64,
    /// Largest single append, bytes.
    pub max_write_bytes: u64,
    /// Fsyncs pending at once at most, over all files.
    pub max_pending_fsyncs: usize,
    /// Latency of one fsync, drawn at its begin (ns).
    pub fsync_latency: Sampler,
    /// Whether a crash keeps a random prefix of each unsynced tail (else loses it all).
    pub torn_writes: bool,
    /// The unit a torn tail is cut at, bytes (512 or 4096 for sectors, 1 for any byte).
    pub sector_bytes: u64,
}

impl Default for DiskConfig {
    /// Small limits for tests and examples (64 files of names up to 64 bytes, 64 MiB,
    /// 1 MiB writes, 64 pending fsyncs), fsyncs of 2 ms mean exponential latency, no
    /// torn writes. Scenarios set their own.
    fn default() -> Self {
        DiskConfig {
            max_files: 64,
            max_name_bytes: 64,
            capacity_bytes: 64 << 20,
            max_write_bytes: 1 << 20,
            max_pending_fsyncs: 64,
            fsync_latency: Sampler::Exponential(2.0e6),
            torn_writes: false,
            sector_bytes: 1,
        }
    }
}

impl DiskConfig {
    /// Checks the limits; the error names what is wrong.
    pub fn validate(&self) -> Result<(), DiskError> {
        let bad = |message: String| Err(DiskError::Config(message));
        if !(1..=FILES_LIMIT).contains(&self.max_files) {
            return bad(format!(
                "max_files is {}, must be 1..={FILES_LIMIT}",
                self.max_files
            ));
        }
        if !(1..=NAME_LIMIT_BYTES).contains(&self.max_name_bytes) {
            return bad(format!(
                "max_name_bytes is {} B, must be 1..={NAME_LIMIT_BYTES} B",
                self.max_name_bytes
            ));
        }
        if self.capacity_bytes == 0 || usize::try_from(self.capacity_bytes).is_err() {
            return bad(format!(
                "capacity_bytes is {} B, must be above 0 and addressable",
                self.capacity_bytes
            ));
        }
        if !(1..=self.capacity_bytes).contains(&self.max_write_bytes) {
            return bad(format!(
                "max_write_bytes is {} B, must be 1..={} B (the capacity)",
                self.max_write_bytes, self.capacity_bytes
            ));
        }
        if !(1..=PENDING_FSYNCS_LIMIT).contains(&self.max_pending_fsyncs) {
            return bad(format!(
                "max_pending_fsyncs is {}, must be 1..={PENDING_FSYNCS_LIMIT}",
                self.max_pending_fsyncs
            ));
        }
        if !(1..=SECTOR_LIMIT_BYTES).contains(&self.sector_bytes) {
            return bad(format!(
                "sector_bytes is {} B, must be 1..={SECTOR_LIMIT_BYTES} B",
                self.sector_bytes
            ));
        }
        Ok(())
    }
}

/// A disk fault while it is active.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DiskFault {
    /// Fsyncs that complete report success and persist nothing.
    LyingFsync,
    /// Each read returns one bit flipped with this probability (0..=1); stored bytes
    /// stay intact.
    ReadCorruption {
        /// Probability per read.
        rate: f64,
    },
    /// Every append fails with [`DiskError::Full`].
    Full,
}

/// Why a ticket no longer stands for a pending fsync.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoidCause {
    /// The disk crashed after the fsync began.
    Crash,
    /// The fsync completed already, or its file was removed.
    NotPending,
}

/// A failed disk operation, with its context.
#[derive(Clone, Debug, PartialEq)]
pub enum DiskError {
    /// The configuration cannot be used.
    Config(String),
    /// No file has this name.
    NotFound {
        /// The name asked for.
        file: String,
    },
    /// A new file's name is empty or too long.
    BadName {
        /// Length of the name, bytes.
        len_bytes: usize,
        /// The longest allowed, bytes.
        limit_bytes: usize,
    },
    /// Creating a file would exceed the file limit.
    TooManyFiles {
        /// The limit.
        limit: usize,
    },
    /// No space: the append would exceed the capacity, or a `Full` fault is active.
    Full {
        /// Bytes in use before the append.
        used_bytes: u64,
        /// Bytes the append asked for.
        request_bytes: u64,
        /// The capacity, bytes.
        capacity_bytes: u64,
        /// Whether a `Full` fault refused it (else the capacity did).
        by_fault: bool,
    },
    /// One append is larger than the single-write limit.
    WriteTooLarge {
        /// Bytes asked for.
        len_bytes: u64,
        /// The limit, bytes.
        limit_bytes: u64,
    },
    /// A read reaches past the end of the file.
    OutOfRange {
        /// The file.
        file: String,
        /// Offset asked for, bytes.
        offset: u64,
        /// Length asked for, bytes.
        len_bytes: u64,
        /// The file's length, bytes.
        file_len_bytes: u64,
    },
    /// A truncate would lengthen the file.
    TruncateBeyondEnd {
        /// The file.
        file: String,
        /// Length asked for, bytes.
        len_bytes: u64,
        /// The file's length, bytes.
        file_len_bytes: u64,
    },
    /// Beginning an fsync would exceed the pending-fsync limit.
    TooManyFsyncs {
        /// The limit.
        limit: usize,
    },
    /// The fsync was completed before its latency elapsed; it is still pending.
    FsyncNotDone {
        /// The fsync.
        id: FsyncId,
        /// When it is done, ns.
        done_at_ns: Nanos,
        /// When completion was asked, ns.
        now_ns: Nanos,
    },
    /// The ticket stands for no pending fsync; nothing was made durable.
    FsyncVoid {
        /// The fsync.
        id: FsyncId,
        /// Why.
        cause: VoidCause,
    },
    /// A fault cannot be activated.
    BadFault {
        /// The fault id.
        id: u32,
        /// What is wrong.
        reason: String,
    },
    /// A real file failed (the live backend, `faultline::engine::live`).
    Io {
        /// The file.
        file: String,
        /// What was done to it (`open`, `append to`, `fsync`, ...).
        op: &'static str,
        /// The system's error.
        message: String,
    },
}

impl fmt::Display for DiskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiskError::Config(message) => write!(f, "disk configuration: {message}"),
            DiskError::NotFound { file } => write!(f, "no file named {file:?}"),
            DiskError::BadName {
                len_bytes,
                limit_bytes,
            } => write!(
                f,
                "file name of {len_bytes} B: names are 1..={limit_bytes} B"
            ),
            DiskError::TooManyFiles { limit } => {
                write!(f, "the disk holds {limit} files already (its limit)")
            }
            DiskError::Full {
                used_bytes,
                request_bytes,
                capacity_bytes,
                by_fault,
            } => {
                if *by_fault {
                    write!(f, "disk full (fault): append of {request_bytes} B refused")
                } else {
                    write!(
                        f,
                        "disk full: append of {request_bytes} B with {used_bytes} B of \
                         {capacity_bytes} B used"
                    )
                }
            }
            DiskError::WriteTooLarge {
                len_bytes,
                limit_bytes,
            } => write!(
                f,
                "append of {len_bytes} B exceeds the single-write limit of {limit_bytes} B"
            ),
            DiskError::OutOfRange {
                file,
                offset,
                len_bytes,
                file_len_bytes,
            } => write!(
                f,
                "read of {len_bytes} B at offset {offset} B of {file:?} passes its end \
                 ({file_len_bytes} B)"
            ),
            DiskError::TruncateBeyondEnd {
                file,
                len_bytes,
                file_len_bytes,
            } => write!(
                f,
                "truncate of {file:?} to {len_bytes} B would lengthen it \
                 ({file_len_bytes} B)"
            ),
            DiskError::TooManyFsyncs { limit } => {
                write!(f, "{limit} fsyncs pending already (the limit)")
            }
            DiskError::FsyncNotDone {
                id,
                done_at_ns,
                now_ns,
            } => write!(
                f,
                "fsync {} completed at {now_ns} ns, before it is done at {done_at_ns} ns",
                id.0
            ),
            DiskError::FsyncVoid { id, cause } => match cause {
                VoidCause::Crash => write!(
                    f,
                    "fsync {} is void: the disk crashed after it began, nothing was synced",
                    id.0
                ),
                VoidCause::NotPending => write!(
                    f,
                    "fsync {} is not pending: completed already, or its file was removed",
                    id.0
                ),
            },
            DiskError::BadFault { id, reason } => write!(f, "disk fault {id}: {reason}"),
            DiskError::Io { file, op, message } => write!(f, "{op} {file:?}: {message}"),
        }
    }
}

impl std::error::Error for DiskError {}

/// Proof of a begun fsync, handed back to [`Disk::complete_fsync`] at `done_at_ns`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FsyncTicket {
    /// The fsync.
    pub id: FsyncId,
    /// When it is done, ns: begin time plus the drawn latency.
    pub done_at_ns: Nanos,
    file: FileId,
    /// The disk's crash count at the begin: any crash since voids the ticket.
    crash_epoch: u64,
}

/// What happened on one disk, for the run records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiskCounters {
    /// Appends that succeeded.
    pub writes: u64,
    /// Bytes those appends wrote.
    pub bytes_written: u64,
    /// Appends refused for lack of space (capacity or `Full` fault).
    pub writes_refused_full: u64,
    /// Reads that succeeded.
    pub reads: u64,
    /// Reads returned with a flipped bit.
    pub reads_corrupted: u64,
    /// Truncates.
    pub truncates: u64,
    /// Files removed.
    pub removes: u64,
    /// Fsyncs begun.
    pub fsyncs_begun: u64,
    /// Fsyncs completed with success reported (the lying ones included).
    pub fsyncs_completed: u64,
    /// Completed fsyncs that reported success and persisted nothing.
    pub fsyncs_lied: u64,
    /// Completions refused because the ticket was void.
    pub fsyncs_void: u64,
    /// Crashes.
    pub crashes: u64,
    /// Unsynced bytes lost at crashes.
    pub bytes_lost_at_crash: u64,
    /// Unsynced tails of which a crash kept part, but not all.
    pub torn_tails_kept: u64,
}

impl fmt::Display for DiskCounters {
    /// An aligned table, one counter per line, with its unit.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: [(&str, u64, &str); 14] = [
            ("writes", self.writes, "appends"),
            ("bytes written", self.bytes_written, "B"),
            ("writes refused full", self.writes_refused_full, "appends"),
            ("reads", self.reads, "reads"),
            ("reads corrupted", self.reads_corrupted, "reads"),
            ("truncates", self.truncates, "truncates"),
            ("removes", self.removes, "files"),
            ("fsyncs begun", self.fsyncs_begun, "fsyncs"),
            ("fsyncs completed", self.fsyncs_completed, "fsyncs"),
            ("fsyncs that lied", self.fsyncs_lied, "fsyncs"),
            ("fsyncs void", self.fsyncs_void, "fsyncs"),
            ("crashes", self.crashes, "crashes"),
            ("bytes lost at crash", self.bytes_lost_at_crash, "B"),
            ("torn tails kept", self.torn_tails_kept, "files"),
        ];
        for (label, value, unit) in rows {
            writeln!(f, "{label:<20} {value:>14} {unit}")?;
        }
        Ok(())
    }
}

/// A begun, not yet completed fsync of one file.
#[derive(Clone, Debug, PartialEq)]
struct PendingFsync {
    id: FsyncId,
    /// Cache length at the begin: the durable length once it completes.
    begin_len: usize,
    /// The first `low` bytes of the cache are the ones it had at the begin.
    low: usize,
    /// The begin-time cache bytes past `low` that truncates have cut since.
    cut: Vec<u8>,
}

/// One file: its cache, its durable image and its pending fsyncs.
#[derive(Clone, Debug, PartialEq)]
struct File {
    id: FileId,
    /// What reads see.
    data: Vec<u8>,
    /// The durable image is `data[..common_len]` followed by `stale`.
    common_len: usize,
    /// Durable bytes past `common_len` that the cache no longer holds.
    stale: Vec<u8>,
    /// The fsync that set the durable image, if any.
    durable_as_of: Option<FsyncId>,
    /// Pending fsyncs in begin order.
    pending: Vec<PendingFsync>,
}

impl File {
    fn new(id: FileId) -> Self {
        File {
            id,
            data: Vec::new(),
            common_len: 0,
            stale: Vec::new(),
            durable_as_of: None,
            pending: Vec::new(),
        }
    }

    fn durable_len(&self) -> usize {
        self.common_len + self.stale.len()
    }

    /// Bytes written since the cache and the durable image last agreed.
    fn unsynced_len(&self) -> usize {
        self.data.len() - self.common_len
    }

    /// Space reserved if the cache were `cache_len` long: the largest image.
    fn reserved_for(&self, cache_len: usize) -> usize {
        let pending = self.pending.iter().map(|p| p.begin_len).max().unwrap_or(0);
        cache_len.max(self.durable_len()).max(pending)
    }

    fn reserved_bytes(&self) -> usize {
        self.reserved_for(self.data.len())
    }

    fn durable_image(&self) -> Vec<u8> {
        let mut image = Vec::with_capacity(self.durable_len());
        image.extend_from_slice(&self.data[..self.common_len]);
        image.extend_from_slice(&self.stale);
        image
    }

    fn check(&self) {
        debug_assert!(
            self.common_len <= self.data.len(),
            "durable prefix {} B past the cache {} B",
            self.common_len,
            self.data.len()
        );
        for p in &self.pending {
            debug_assert!(p.low <= self.data.len(), "fsync {:?} low past cache", p.id);
            debug_assert_eq!(
                p.low + p.cut.len(),
                p.begin_len,
                "fsync {:?} would cover bytes written after its begin",
                p.id
            );
        }
        debug_assert!(
            self.pending.windows(2).all(|pair| pair[0].id < pair[1].id),
            "pending fsyncs out of begin order"
        );
    }
}

/// Prepends `front` to `back`.
fn prepend(back: &mut Vec<u8>, front: &[u8]) {
    back.splice(0..0, front.iter().copied());
}

/// How many unsynced bytes from file offset `start` up to `end` a torn crash keeps:
/// uniform among 0, every multiple of `sector_bytes` strictly inside, and all.
fn torn_keep(start: usize, end: usize, sector_bytes: usize, rng: &mut impl Rng) -> usize {
    debug_assert!(start < end && sector_bytes >= 1);
    let inside = (end - 1) / sector_bytes - start / sector_bytes;
    let pick = rng.gen_range(0..=inside + 1);
    let kept = if pick == 0 {
        0
    } else if pick == inside + 1 {
        end - start
    } else {
        (start / sector_bytes + pick) * sector_bytes - start
    };
    debug_assert!(kept <= end - start);
    kept
}

/// One node's disk (see the module docs for the crash model).
#[derive(Clone, Debug, PartialEq)]
pub struct Disk {
    config: DiskConfig,
    files: BTreeMap<String, File>,
    /// Sum of the files' reservations, bytes.
    used_bytes: u64,
    /// Pending fsyncs over all files.
    pending_fsyncs: usize,
    next_fsync: u64,
    next_file: u64,
    /// Crashes so far; a ticket from an earlier epoch is void.
    crash_epoch: u64,
    /// Active faults by fault id; few at a time, so a Vec.
    faults: Vec<(u32, DiskFault)>,
    counters: DiskCounters,
}

impl Disk {
    /// An empty disk.
    pub fn new(config: DiskConfig) -> Result<Self, DiskError> {
        config.validate()?;
        Ok(Disk {
            config,
            files: BTreeMap::new(),
            used_bytes: 0,
            pending_fsyncs: 0,
            next_fsync: 1,
            next_file: 0,
            crash_epoch: 0,
            faults: Vec::new(),
            counters: DiskCounters::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &DiskConfig {
        &self.config
    }

    /// What happened so far.
    pub fn counters(&self) -> &DiskCounters {
        &self.counters
    }

    /// Bytes in use: the sum over files of the largest of their images (cache, durable
    /// image, pending fsyncs' images).
    pub fn used_bytes(&self) -> u64 {
        self.used_bytes
    }

    /// Fsyncs begun and not yet completed or voided.
    pub fn pending_fsyncs(&self) -> usize {
        self.pending_fsyncs
    }

    /// The file names, in byte order.
    pub fn list(&self) -> impl Iterator<Item = &str> + '_ {
        self.files.keys().map(String::as_str)
    }

    /// Appends `bytes` to `file`, creating it if missing; returns the offset they
    /// start at. The bytes are in the cache only until an fsync covers them. On error
    /// nothing changes.
    pub fn append(&mut self, file: &str, bytes: &[u8]) -> Result<u64, DiskError> {
        let request_bytes = bytes.len() as u64;
        if request_bytes > self.config.max_write_bytes {
            return Err(DiskError::WriteTooLarge {
                len_bytes: request_bytes,
                limit_bytes: self.config.max_write_bytes,
            });
        }
        let existing = self.files.get(file);
        if existing.is_none() {
            if file.is_empty() || file.len() > self.config.max_name_bytes {
                return Err(DiskError::BadName {
                    len_bytes: file.len(),
                    limit_bytes: self.config.max_name_bytes,
                });
            }
            if self.files.len() >= self.config.max_files {
                return Err(DiskError::TooManyFiles {
                    limit: self.config.max_files,
                });
            }
        }
        let full = |by_fault| DiskError::Full {
            used_bytes: self.used_bytes,
            request_bytes,
            capacity_bytes: self.config.capacity_bytes,
            by_fault,
        };
        if self.is_active(|fault| matches!(fault, DiskFault::Full)) {
            let refused = full(true);
            self.counters.writes_refused_full += 1;
            return Err(refused);
        }
        let (before, after) = match existing {
            Some(f) => (
                f.reserved_bytes(),
                f.reserved_for(f.data.len() + bytes.len()),
            ),
            None => (0, bytes.len()),
        };
        let used_after = self.used_bytes - before as u64 + after as u64;
        if used_after > self.config.capacity_bytes {
            let refused = full(false);
            self.counters.writes_refused_full += 1;
            return Err(refused);
        }
        if existing.is_none() {
            let id = FileId(self.next_file);
            self.next_file += 1;
            self.files.insert(file.to_owned(), File::new(id));
        }
        let f = self
            .files
            .get_mut(file)
            .expect("the file exists: found or just created");
        let offset = f.data.len() as u64;
        f.data.extend_from_slice(bytes);
        debug_assert_eq!(f.reserved_bytes(), after);
        self.used_bytes = used_after;
        self.counters.writes += 1;
        self.counters.bytes_written += request_bytes;
        self.check();
        Ok(offset)
    }

    /// Reads `len_bytes` at `offset` of `file` as the cache holds them (durable and
    /// unsynced bytes alike). An active `ReadCorruption` fault may flip one bit of the
    /// returned copy, drawn from `rng`; the stored bytes never change.
    pub fn read(
        &mut self,
        file: &str,
        offset: u64,
        len_bytes: u64,
        rng: &mut impl Rng,
    ) -> Result<Vec<u8>, DiskError> {
        let f = self.file(file)?;
        let file_len_bytes = f.data.len() as u64;
        let range = offset
            .checked_add(len_bytes)
            .filter(|&end| end <= file_len_bytes)
            .map(|end| offset as usize..end as usize)
            .ok_or_else(|| DiskError::OutOfRange {
                file: file.to_owned(),
                offset,
                len_bytes,
                file_len_bytes,
            })?;
        let mut out = f.data[range].to_vec();
        self.counters.reads += 1;
        if out.is_empty() {
            return Ok(out);
        }
        let mut corrupt = false;
        for (_, fault) in &self.faults {
            if let DiskFault::ReadCorruption { rate } = *fault {
                // Every active fault with a rate above 0 draws, hit or not, so the draws do not
                // depend on which fault hits first.
                corrupt |= rate > 0.0 && rng.gen::<f64>() < rate;
            }
        }
        if corrupt {
            let bit = rng.gen_range(0..out.len() as u64 * 8);
            out[(bit / 8) as usize] ^= 1 << (bit % 8);
            self.counters.reads_corrupted += 1;
        }
        Ok(out)
    }

    /// The length of `file` as reads see it, bytes.
    pub fn len(&self, file: &str) -> Result<u64, DiskError> {
        Ok(self.file(file)?.data.len() as u64)
    }

    /// The length of `file` a crash without torn writes would leave, bytes.
    pub fn durable_len(&self, file: &str) -> Result<u64, DiskError> {
        Ok(self.file(file)?.durable_len() as u64)
    }

    /// The bytes of `file` a crash without torn writes would leave.
    pub fn durable_image(&self, file: &str) -> Result<Vec<u8>, DiskError> {
        Ok(self.file(file)?.durable_image())
    }

    /// What reads of `file` see, without a read: no fault applies and no counter moves
    /// (for the engine's end-of-run inspection, not for process code).
    pub fn inspect(&self, file: &str) -> Result<Vec<u8>, DiskError> {
        Ok(self.file(file)?.data.clone())
    }

    /// Cuts `file` to `len_bytes` (at most its length). Reads see the cut at once; it
    /// is durable only once an fsync begun after it completes, and space is freed then.
    pub fn truncate(&mut self, file: &str, len_bytes: u64) -> Result<(), DiskError> {
        let f = self
            .files
            .get_mut(file)
            .ok_or_else(|| DiskError::NotFound {
                file: file.to_owned(),
            })?;
        let file_len_bytes = f.data.len() as u64;
        if len_bytes > file_len_bytes {
            return Err(DiskError::TruncateBeyondEnd {
                file: file.to_owned(),
                len_bytes,
                file_len_bytes,
            });
        }
        let len = len_bytes as usize;
        let before = f.reserved_bytes();
        // Bytes the durable image or a pending fsync's image still needs move out of
        // the cache into `stale` or the fsync's `cut`.
        if len < f.common_len {
            prepend(&mut f.stale, &f.data[len..f.common_len]);
            f.common_len = len;
        }
        for p in &mut f.pending {
            if len < p.low {
                prepend(&mut p.cut, &f.data[len..p.low]);
                p.low = len;
            }
        }
        f.data.truncate(len);
        let after = f.reserved_bytes();
        debug_assert!(after <= before, "a truncate grew the reservation");
        self.used_bytes = self.used_bytes - before as u64 + after as u64;
        self.counters.truncates += 1;
        self.check();
        Ok(())
    }

    /// Removes `file` (durable at once); its pending fsyncs become void.
    pub fn remove(&mut self, file: &str) -> Result<(), DiskError> {
        let f = self.files.remove(file).ok_or_else(|| DiskError::NotFound {
            file: file.to_owned(),
        })?;
        self.used_bytes -= f.reserved_bytes() as u64;
        self.pending_fsyncs -= f.pending.len();
        self.counters.removes += 1;
        self.check();
        Ok(())
    }

    /// Begins an fsync of `file` at `now_ns`, its latency drawn from `rng`. Complete it
    /// at or after the ticket's `done_at_ns`; it covers exactly the cache as it is now.
    pub fn begin_fsync(
        &mut self,
        file: &str,
        now_ns: Nanos,
        rng: &mut impl Rng,
    ) -> Result<FsyncTicket, DiskError> {
        if self.pending_fsyncs >= self.config.max_pending_fsyncs {
            // (Checked first so that a refusal draws nothing.)
            self.file(file)?;
            return Err(DiskError::TooManyFsyncs {
                limit: self.config.max_pending_fsyncs,
            });
        }
        let sampler = self.config.fsync_latency;
        let f = self
            .files
            .get_mut(file)
            .ok_or_else(|| DiskError::NotFound {
                file: file.to_owned(),
            })?;
        let latency_ns = sampler.sample_ns(rng);
        let id = FsyncId(self.next_fsync);
        self.next_fsync += 1;
        let begin_len = f.data.len();
        f.pending.push(PendingFsync {
            id,
            begin_len,
            low: begin_len,
            cut: Vec::new(),
        });
        let ticket = FsyncTicket {
            id,
            done_at_ns: now_ns.saturating_add(latency_ns),
            file: f.id,
            crash_epoch: self.crash_epoch,
        };
        self.pending_fsyncs += 1;
        self.counters.fsyncs_begun += 1;
        self.check();
        Ok(ticket)
    }

    /// Completes the fsync of `ticket` at `now_ns`: the file's durable image becomes
    /// its cache as it was at the begin (unless an fsync begun later completed first,
    /// or a `LyingFsync` fault is active: then nothing changes and success is still
    /// reported). Errors: [`DiskError::FsyncVoid`] after a crash since the begin, a
    /// removal of the file or a completion already; [`DiskError::FsyncNotDone`] before
    /// `done_at_ns` (the fsync stays pending).
    pub fn complete_fsync(&mut self, ticket: FsyncTicket, now_ns: Nanos) -> Result<(), DiskError> {
        let void = |cause| DiskError::FsyncVoid {
            id: ticket.id,
            cause,
        };
        if ticket.crash_epoch != self.crash_epoch {
            self.counters.fsyncs_void += 1;
            return Err(void(VoidCause::Crash));
        }
        if now_ns < ticket.done_at_ns {
            return Err(DiskError::FsyncNotDone {
                id: ticket.id,
                done_at_ns: ticket.done_at_ns,
                now_ns,
            });
        }
        let lying = self.is_active(|fault| matches!(fault, DiskFault::LyingFsync));
        let found = self
            .files
            .values_mut()
            .find(|f| f.id == ticket.file)
            .and_then(|f| {
                let index = f.pending.iter().position(|p| p.id == ticket.id)?;
                Some((f, index))
            });
        let Some((f, index)) = found else {
            self.counters.fsyncs_void += 1;
            return Err(void(VoidCause::NotPending));
        };
        let before = f.reserved_bytes();
        let done = f.pending.remove(index);
        if !lying && f.durable_as_of.is_none_or(|as_of| as_of < done.id) {
            debug_assert_eq!(done.low + done.cut.len(), done.begin_len);
            debug_assert!(done.low <= f.data.len());
            f.common_len = done.low;
            f.stale = done.cut;
            f.durable_as_of = Some(done.id);
        }
        let after = f.reserved_bytes();
        debug_assert!(after <= before, "an fsync grew the reservation");
        self.used_bytes = self.used_bytes - before as u64 + after as u64;
        self.pending_fsyncs -= 1;
        self.counters.fsyncs_completed += 1;
        if lying {
            self.counters.fsyncs_lied += 1;
        }
        self.check();
        Ok(())
    }

    /// The node died: every file becomes its durable image (with `torn_writes`, with a
    /// prefix of its unsynced tail written over it, drawn from `rng`), and every
    /// pending fsync is void.
    pub fn crash(&mut self, rng: &mut impl Rng) {
        self.crash_epoch += 1;
        self.counters.crashes += 1;
        let sector_bytes = self.config.sector_bytes as usize;
        let mut used_bytes = 0u64;
        for f in self.files.values_mut() {
            let tail = f.unsynced_len();
            let kept = if self.config.torn_writes && tail > 0 {
                torn_keep(f.common_len, f.data.len(), sector_bytes, rng)
            } else {
                0
            };
            self.counters.bytes_lost_at_crash += (tail - kept) as u64;
            if 0 < kept && kept < tail {
                self.counters.torn_tails_kept += 1;
            }
            // The kept bytes overwrite the durable image at their offsets; durable
            // bytes past them (cut by an unsynced truncate) come back.
            f.data.truncate(f.common_len + kept);
            if kept < f.stale.len() {
                f.data.extend_from_slice(&f.stale[kept..]);
            }
            f.stale.clear();
            f.common_len = f.data.len();
            f.pending.clear();
            used_bytes += f.reserved_bytes() as u64;
        }
        self.used_bytes = used_bytes;
        self.pending_fsyncs = 0;
        self.check();
    }

    /// Starts fault `id` (the engine calls this at fault-window start).
    pub fn activate(&mut self, id: u32, fault: DiskFault) -> Result<(), DiskError> {
        let bad = |reason: String| Err(DiskError::BadFault { id, reason });
        if let DiskFault::ReadCorruption { rate } = fault {
            if !(0.0..=1.0).contains(&rate) {
                return bad(format!("read corruption rate {rate} is not in 0..=1"));
            }
        }
        if self.faults.iter().any(|(active, _)| *active == id) {
            return bad("already active".into());
        }
        if self.faults.len() >= ACTIVE_FAULTS_LIMIT {
            return bad(format!(
                "{ACTIVE_FAULTS_LIMIT} disk faults active already (the limit)"
            ));
        }
        self.faults.push((id, fault));
        Ok(())
    }

    /// Ends fault `id` (no-op if it is not active).
    pub fn deactivate(&mut self, id: u32) {
        self.faults.retain(|(active, _)| *active != id);
    }

    fn is_active(&self, kind: impl Fn(&DiskFault) -> bool) -> bool {
        self.faults.iter().any(|(_, fault)| kind(fault))
    }

    fn file(&self, file: &str) -> Result<&File, DiskError> {
        self.files.get(file).ok_or_else(|| DiskError::NotFound {
            file: file.to_owned(),
        })
    }

    /// Checks the invariants of the module docs (debug builds only).
    fn check(&self) {
        if !cfg!(debug_assertions) {
            return;
        }
        let mut used_bytes = 0u64;
        let mut pending = 0usize;
        for f in self.files.values() {
            f.check();
            used_bytes += f.reserved_bytes() as u64;
            pending += f.pending.len();
        }
        debug_assert_eq!(self.used_bytes, used_bytes, "used bytes drifted");
        debug_assert!(
            self.used_bytes <= self.config.capacity_bytes,
            "{} B used of {} B",
            self.used_bytes,
            self.config.capacity_bytes
        );
        debug_assert_eq!(self.pending_fsyncs, pending, "pending fsyncs drifted");
        debug_assert!(self.pending_fsyncs <= self.config.max_pending_fsyncs);
        debug_assert!(self.files.len() <= self.config.max_files);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    const FSYNC_NS: Nanos = 2_000_000;

    fn config(torn_writes: bool) -> DiskConfig {
        DiskConfig {
            fsync_latency: Sampler::Constant(FSYNC_NS),
            torn_writes,
            ..DiskConfig::default()
        }
    }

    fn disk(torn_writes: bool) -> Disk {
        Disk::new(config(torn_writes)).unwrap()
    }

    fn rng(seed: u64) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(seed)
    }

    /// The whole file as reads see it (no fault active, so no draw matters).
    fn contents(disk: &mut Disk, file: &str) -> Vec<u8> {
        let len = disk.len(file).unwrap();
        disk.read(file, 0, len, &mut rng(0)).unwrap()
    }

    /// Begins and completes one fsync.
    fn sync(disk: &mut Disk, file: &str) {
        let ticket = disk.begin_fsync(file, 0, &mut rng(0)).unwrap();
        disk.complete_fsync(ticket, ticket.done_at_ns).unwrap();
    }

    #[test]
    fn unsynced_writes_are_lost_and_synced_ones_survive() {
        let mut disk = disk(false);
        assert_eq!(disk.append("wal", b"synced "), Ok(0));
        sync(&mut disk, "wal");
        assert_eq!(disk.append("wal", b"unsynced"), Ok(7));
        assert_eq!(contents(&mut disk, "wal"), b"synced unsynced");
        assert_eq!(disk.durable_len("wal"), Ok(7));
        disk.crash(&mut rng(1));
        assert_eq!(contents(&mut disk, "wal"), b"synced ");
        assert_eq!(disk.counters().bytes_lost_at_crash, 8);
        assert_eq!(disk.used_bytes(), 7);
        // A file never synced survives empty: names are durable at once.
        disk.append("other", b"gone").unwrap();
        disk.crash(&mut rng(2));
        assert_eq!(disk.list().collect::<Vec<_>>(), ["other", "wal"]);
        assert_eq!(disk.len("other"), Ok(0));
    }

    #[test]
    fn an_fsync_in_progress_at_the_crash_persists_nothing() {
        let mut disk = disk(false);
        disk.append("wal", b"record").unwrap();
        let ticket = disk.begin_fsync("wal", 5, &mut rng(0)).unwrap();
        assert_eq!(ticket.done_at_ns, 5 + FSYNC_NS);
        disk.crash(&mut rng(1));
        assert_eq!(disk.len("wal"), Ok(0));
        assert_eq!(disk.pending_fsyncs(), 0);
        assert_eq!(
            disk.complete_fsync(ticket, ticket.done_at_ns),
            Err(DiskError::FsyncVoid {
                id: ticket.id,
                cause: VoidCause::Crash
            })
        );
        assert_eq!(disk.len("wal"), Ok(0));
        assert_eq!(disk.counters().fsyncs_void, 1);
        assert_eq!(disk.counters().fsyncs_completed, 0);
    }

    #[test]
    fn an_fsync_covers_exactly_the_bytes_written_before_its_begin() {
        let mut disk = disk(false);
        disk.append("wal", b"before").unwrap();
        let ticket = disk.begin_fsync("wal", 0, &mut rng(0)).unwrap();
        disk.append("wal", b"after").unwrap();
        assert_eq!(
            disk.complete_fsync(ticket, ticket.done_at_ns - 1),
            Err(DiskError::FsyncNotDone {
                id: ticket.id,
                done_at_ns: ticket.done_at_ns,
                now_ns: ticket.done_at_ns - 1
            })
        );
        disk.complete_fsync(ticket, ticket.done_at_ns).unwrap();
        assert_eq!(disk.durable_image("wal"), Ok(b"before".to_vec()));
        assert_eq!(
            disk.complete_fsync(ticket, ticket.done_at_ns),
            Err(DiskError::FsyncVoid {
                id: ticket.id,
                cause: VoidCause::NotPending
            })
        );
        disk.crash(&mut rng(1));
        assert_eq!(contents(&mut disk, "wal"), b"before");
    }

    #[test]
    fn the_fsync_begun_later_wins_whatever_the_completion_order() {
        let mut disk = disk(false);
        disk.append("wal", b"ab").unwrap();
        let first = disk.begin_fsync("wal", 0, &mut rng(0)).unwrap();
        disk.append("wal", b"cd").unwrap();
        let second = disk.begin_fsync("wal", 0, &mut rng(0)).unwrap();
        assert!(first.id < second.id);
        disk.complete_fsync(second, second.done_at_ns).unwrap();
        disk.complete_fsync(first, first.done_at_ns).unwrap();
        assert_eq!(disk.durable_image("wal"), Ok(b"abcd".to_vec()));
        assert_eq!(disk.counters().fsyncs_completed, 2);
    }

    #[test]
    fn a_truncate_is_durable_only_after_an_fsync() {
        let mut disk = disk(false);
        disk.append("wal", b"good torn").unwrap();
        sync(&mut disk, "wal");
        disk.truncate("wal", 4).unwrap();
        assert_eq!(contents(&mut disk, "wal"), b"good");
        disk.crash(&mut rng(1));
        assert_eq!(
            contents(&mut disk, "wal"),
            b"good torn",
            "the cut came back"
        );
        disk.truncate("wal", 4).unwrap();
        disk.append("wal", b"!").unwrap();
        sync(&mut disk, "wal");
        disk.crash(&mut rng(2));
        assert_eq!(contents(&mut disk, "wal"), b"good!");
        assert_eq!(disk.used_bytes(), 5);
    }

    #[test]
    fn an_fsync_begun_before_a_truncate_persists_the_uncut_bytes() {
        let mut disk = disk(false);
        disk.append("wal", b"abcdef").unwrap();
        let ticket = disk.begin_fsync("wal", 0, &mut rng(0)).unwrap();
        disk.truncate("wal", 2).unwrap();
        disk.append("wal", b"XY").unwrap();
        disk.complete_fsync(ticket, ticket.done_at_ns).unwrap();
        assert_eq!(disk.durable_image("wal"), Ok(b"abcdef".to_vec()));
        assert_eq!(contents(&mut disk, "wal"), b"abXY");
        disk.crash(&mut rng(1));
        assert_eq!(contents(&mut disk, "wal"), b"abcdef");
    }

    #[test]
    fn torn_tails_are_prefixes_and_nothing_part_and_all_occur() {
        // 2,000 crashes of an 8-byte unsynced tail with 1-byte sectors: each of the 9
        // kept lengths has p = 1/9, so "nothing" and "all" each expect 222.2 (sd 14.1)
        // and "part" 1,555.6 (sd 18.6). The bands of +-80 are over 4 sd wide; a miss
        // means the rule is not uniform.
        let written = b"12345678";
        let (mut nothing, mut part, mut all) = (0, 0, 0);
        for seed in 0..2_000 {
            let mut disk = disk(true);
            disk.append("wal", b"head").unwrap();
            sync(&mut disk, "wal");
            disk.append("wal", written).unwrap();
            disk.crash(&mut rng(seed));
            let survived = contents(&mut disk, "wal");
            assert_eq!(&survived[..4], b"head");
            let tail = &survived[4..];
            assert_eq!(tail, &written[..tail.len()], "seed {seed}: not a prefix");
            assert_eq!(
                disk.counters().bytes_lost_at_crash,
                (written.len() - tail.len()) as u64
            );
            match tail.len() {
                0 => nothing += 1,
                8 => all += 1,
                _ => {
                    part += 1;
                    assert_eq!(disk.counters().torn_tails_kept, 1);
                }
            }
        }
        assert!((142..=302).contains(&nothing), "nothing {nothing}");
        assert!((142..=302).contains(&all), "all {all}");
        assert!((1_476..=1_636).contains(&part), "part {part}");
    }

    #[test]
    fn torn_tails_are_cut_at_sector_boundaries() {
        // A tail over offsets 6..16 with 4-byte sectors: the cuts are at 6, 8, 12 and
        // 16, so 0, 2, 6 or all 10 bytes are kept. 400 crashes: each length is missed
        // with probability (3/4)^400 < 1e-49.
        let mut seen = BTreeMap::new();
        for seed in 0..400 {
            let mut disk = Disk::new(DiskConfig {
                sector_bytes: 4,
                ..config(true)
            })
            .unwrap();
            disk.append("wal", b"durabl").unwrap();
            sync(&mut disk, "wal");
            disk.append("wal", b"0123456789").unwrap();
            disk.crash(&mut rng(seed));
            let survived = contents(&mut disk, "wal");
            assert_eq!(&survived[6..], &b"0123456789"[..survived.len() - 6]);
            *seen.entry(survived.len() - 6).or_insert(0) += 1;
        }
        assert_eq!(seen.keys().copied().collect::<Vec<_>>(), [0, 2, 6, 10]);
    }

    #[test]
    fn a_torn_write_over_an_unsynced_truncate_overwrites_the_old_bytes() {
        // Durable "abcdef", cut to "ab" and "XY" written, unsynced: the kept prefix of
        // "XY" lies over "cd", and "ef" (and "cd" past it) come back.
        let mut outcomes = BTreeMap::new();
        for seed in 0..200 {
            let mut disk = disk(true);
            disk.append("wal", b"abcdef").unwrap();
            sync(&mut disk, "wal");
            disk.truncate("wal", 2).unwrap();
            disk.append("wal", b"XY").unwrap();
            disk.crash(&mut rng(seed));
            outcomes.insert(contents(&mut disk, "wal"), ());
        }
        let expected: Vec<&[u8]> = vec![b"abXYef", b"abXdef", b"abcdef"];
        let mut got: Vec<Vec<u8>> = outcomes.into_keys().collect();
        got.sort();
        let mut want: Vec<Vec<u8>> = expected.into_iter().map(<[u8]>::to_vec).collect();
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn a_lying_fsync_reports_success_and_persists_nothing_until_the_fault_ends() {
        let mut disk = disk(false);
        disk.append("wal", b"lost").unwrap();
        disk.activate(3, DiskFault::LyingFsync).unwrap();
        let ticket = disk.begin_fsync("wal", 0, &mut rng(0)).unwrap();
        assert_eq!(disk.complete_fsync(ticket, ticket.done_at_ns), Ok(()));
        assert_eq!(disk.durable_len("wal"), Ok(0));
        assert_eq!(disk.counters().fsyncs_lied, 1);
        assert_eq!(disk.counters().fsyncs_completed, 1);
        // Begun during the fault, completed after it: the completion decides.
        let ticket = disk.begin_fsync("wal", 0, &mut rng(0)).unwrap();
        disk.crash(&mut rng(1));
        assert_eq!(disk.len("wal"), Ok(0));
        assert!(disk.complete_fsync(ticket, ticket.done_at_ns).is_err());
        disk.deactivate(3);
        disk.append("wal", b"kept").unwrap();
        sync(&mut disk, "wal");
        disk.crash(&mut rng(2));
        assert_eq!(contents(&mut disk, "wal"), b"kept");
        assert_eq!(disk.counters().fsyncs_lied, 1);
    }

    #[test]
    fn read_corruption_flips_exactly_one_bit_and_leaves_the_disk_intact() {
        let stored: Vec<u8> = (0..=255).collect();
        let mut disk = disk(false);
        disk.append("data", &stored).unwrap();
        disk.activate(1, DiskFault::ReadCorruption { rate: 1.0 })
            .unwrap();
        let mut rng = rng(7);
        let mut bits_hit = BTreeMap::new();
        for _ in 0..200 {
            let read = disk.read("data", 0, 256, &mut rng).unwrap();
            let flipped: Vec<(usize, u8)> = read
                .iter()
                .zip(&stored)
                .enumerate()
                .filter(|(_, (a, b))| a != b)
                .map(|(at, (a, b))| (at, a ^ b))
                .collect();
            assert_eq!(flipped.len(), 1, "one byte differs");
            assert_eq!(flipped[0].1.count_ones(), 1, "by one bit");
            bits_hit.insert(flipped[0], ());
        }
        // 200 draws over 2,048 bits: a stuck position would show as few distinct hits.
        assert!(bits_hit.len() > 150, "{} distinct bits", bits_hit.len());
        assert_eq!(disk.counters().reads_corrupted, 200);
        disk.deactivate(1);
        assert_eq!(contents(&mut disk, "data"), stored, "stored bytes intact");
    }

    #[test]
    fn read_corruption_follows_its_rate_and_never_at_zero() {
        let mut disk = disk(false);
        disk.append("data", &[0u8; 64]).unwrap();
        disk.activate(1, DiskFault::ReadCorruption { rate: 0.0 })
            .unwrap();
        let mut rng = rng(11);
        for _ in 0..10_000 {
            assert_eq!(disk.read("data", 0, 64, &mut rng).unwrap(), [0u8; 64]);
        }
        assert_eq!(disk.counters().reads_corrupted, 0);
        disk.deactivate(1);
        // 20,000 reads at rate 0.25: expect 5,000 corrupted, sd 61; +-400 is over 6 sd.
        disk.activate(2, DiskFault::ReadCorruption { rate: 0.25 })
            .unwrap();
        let corrupted = (0..20_000)
            .filter(|_| disk.read("data", 0, 64, &mut rng).unwrap() != [0u8; 64])
            .count();
        assert!(
            (4_600..=5_400).contains(&corrupted),
            "corrupted {corrupted}"
        );
        assert_eq!(disk.counters().reads_corrupted, corrupted as u64);
    }

    #[test]
    fn a_full_fault_refuses_every_append_and_changes_nothing() {
        let mut disk = disk(false);
        disk.append("wal", b"abc").unwrap();
        let before = disk.clone();
        disk.activate(9, DiskFault::Full).unwrap();
        for file in ["wal", "new"] {
            assert!(matches!(
                disk.append(file, b"x"),
                Err(DiskError::Full { by_fault: true, .. })
            ));
        }
        assert_eq!(disk.counters().writes_refused_full, 2);
        assert_eq!(disk.list().collect::<Vec<_>>(), ["wal"]);
        assert_eq!(disk.len("wal"), Ok(3));
        assert_eq!(disk.used_bytes(), before.used_bytes());
        assert_eq!(disk.counters().writes, before.counters().writes);
        disk.truncate("wal", 1).unwrap();
        disk.deactivate(9);
        assert_eq!(disk.append("wal", b"d"), Ok(1));
    }

    #[test]
    fn the_capacity_refuses_a_write_past_it_and_changes_nothing() {
        let mut disk = Disk::new(DiskConfig {
            capacity_bytes: 100,
            max_write_bytes: 100,
            ..config(false)
        })
        .unwrap();
        disk.append("a", &[1; 60]).unwrap();
        let before = disk.clone();
        assert_eq!(
            disk.append("b", &[2; 41]),
            Err(DiskError::Full {
                used_bytes: 60,
                request_bytes: 41,
                capacity_bytes: 100,
                by_fault: false
            })
        );
        assert_eq!(disk.counters().writes_refused_full, 1);
        let mut refused = disk.clone();
        refused.counters.writes_refused_full = 0;
        assert_eq!(refused, before, "nothing else changed");
        disk.append("b", &[2; 40]).unwrap();
        assert_eq!(disk.used_bytes(), 100);
        // Cut space is freed once the cut is durable.
        sync(&mut disk, "a");
        disk.truncate("a", 0).unwrap();
        assert!(matches!(
            disk.append("b", b"x"),
            Err(DiskError::Full { .. })
        ));
        sync(&mut disk, "a");
        assert_eq!(disk.used_bytes(), 40);
        disk.append("b", &[3; 60]).unwrap();
    }

    #[test]
    fn limits_and_bad_input_are_errors_with_context() {
        let mut disk = Disk::new(DiskConfig {
            max_files: 2,
            max_name_bytes: 4,
            max_write_bytes: 8,
            max_pending_fsyncs: 1,
            ..config(false)
        })
        .unwrap();
        assert_eq!(
            disk.append("", b"x"),
            Err(DiskError::BadName {
                len_bytes: 0,
                limit_bytes: 4
            })
        );
        assert!(matches!(
            disk.append("toolong", b"x"),
            Err(DiskError::BadName { len_bytes: 7, .. })
        ));
        assert_eq!(
            disk.append("a", &[0; 9]),
            Err(DiskError::WriteTooLarge {
                len_bytes: 9,
                limit_bytes: 8
            })
        );
        disk.append("a", b"1").unwrap();
        disk.append("b", b"2").unwrap();
        assert_eq!(
            disk.append("c", b"3"),
            Err(DiskError::TooManyFiles { limit: 2 })
        );
        assert!(matches!(
            disk.read("a", 1, 1, &mut rng(0)),
            Err(DiskError::OutOfRange { .. })
        ));
        assert!(matches!(
            disk.read("a", u64::MAX, 2, &mut rng(0)),
            Err(DiskError::OutOfRange { .. })
        ));
        assert!(matches!(
            disk.truncate("a", 2),
            Err(DiskError::TruncateBeyondEnd { .. })
        ));
        assert!(matches!(disk.len("zz"), Err(DiskError::NotFound { .. })));
        let ticket = disk.begin_fsync("a", 0, &mut rng(0)).unwrap();
        assert_eq!(
            disk.begin_fsync("b", 0, &mut rng(0)),
            Err(DiskError::TooManyFsyncs { limit: 1 })
        );
        disk.remove("a").unwrap();
        assert_eq!(disk.pending_fsyncs(), 0);
        disk.append("a", b"new").unwrap();
        assert_eq!(
            disk.complete_fsync(ticket, ticket.done_at_ns),
            Err(DiskError::FsyncVoid {
                id: ticket.id,
                cause: VoidCause::NotPending
            }),
            "a ticket of a removed file never matches its successor"
        );
        assert_eq!(disk.durable_len("a"), Ok(0));
        for rate in [-0.1, 1.5, f64::NAN] {
            assert!(matches!(
                disk.activate(1, DiskFault::ReadCorruption { rate }),
                Err(DiskError::BadFault { id: 1, .. })
            ));
        }
        disk.activate(1, DiskFault::Full).unwrap();
        assert!(disk.activate(1, DiskFault::LyingFsync).is_err());
        assert!(Disk::new(DiskConfig {
            max_files: 0,
            ..config(false)
        })
        .is_err());
        assert!(Disk::new(DiskConfig {
            sector_bytes: 0,
            ..config(false)
        })
        .is_err());
        // Messages carry the numbers and their units.
        let message = DiskError::Full {
            used_bytes: 60,
            request_bytes: 41,
            capacity_bytes: 100,
            by_fault: false,
        }
        .to_string();
        assert_eq!(message, "disk full: append of 41 B with 60 B of 100 B used");
    }

    #[test]
    fn counters_print_as_an_aligned_table() {
        let mut disk = disk(false);
        disk.append("wal", b"abc").unwrap();
        let table = disk.counters().to_string();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 14);
        assert_eq!(lines[1], "bytes written                     3 B");
        // Every value ends in column 35, followed by its unit.
        for line in &lines {
            let (value, unit) = line.split_at(35);
            assert!(value.ends_with(|c: char| c.is_ascii_digit()), "{line:?}");
            assert!(unit.starts_with(' ') && unit.len() > 1, "{line:?}");
        }
    }

    /// One step of a random workload over two files.
    #[derive(Clone, Debug)]
    enum Op {
        Append { file: usize, bytes: Vec<u8> },
        Truncate { file: usize, keep_permille: u16 },
        Remove { file: usize },
        Begin { file: usize },
        Complete { pick: usize },
        Read { file: usize },
        Crash,
    }

    const NAMES: [&str; 2] = ["a", "b"];

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            5 => (0..2usize, prop::collection::vec(any::<u8>(), 0..24))
                .prop_map(|(file, bytes)| Op::Append { file, bytes }),
            2 => (0..2usize, 0..=1000u16)
                .prop_map(|(file, keep_permille)| Op::Truncate { file, keep_permille }),
            1 => (0..2usize).prop_map(|file| Op::Remove { file }),
            3 => (0..2usize).prop_map(|file| Op::Begin { file }),
            3 => any::<usize>().prop_map(|pick| Op::Complete { pick }),
            1 => (0..2usize).prop_map(|file| Op::Read { file }),
            1 => Just(Op::Crash),
        ]
    }

    /// The obvious model: both images of every file in full, and a full copy of the
    /// cache per pending fsync.
    #[derive(Clone, Debug, Default)]
    struct ModelFile {
        cache: Vec<u8>,
        durable: Vec<u8>,
        durable_as_of: Option<FsyncId>,
    }

    fn model_config(torn_writes: bool) -> DiskConfig {
        DiskConfig {
            max_pending_fsyncs: PENDING_FSYNCS_LIMIT,
            ..config(torn_writes)
        }
    }

    proptest! {
        /// The compact disk agrees with the obvious model on every read and durable
        /// image; a torn crash leaves `cache[..j] ++ durable[j..]` for some `j`.
        #[test]
        fn matches_a_model_that_keeps_both_images(
            ops in prop::collection::vec(op(), 1..200),
            torn in any::<bool>(),
            seed in any::<u64>(),
        ) {
            let mut disk = Disk::new(model_config(torn)).unwrap();
            let mut rng = rng(seed);
            let mut model: BTreeMap<&str, ModelFile> = BTreeMap::new();
            let mut pending: Vec<(FsyncTicket, &str, Vec<u8>)> = Vec::new();
            let mut void: Vec<FsyncTicket> = Vec::new();
            for op in ops {
                match op {
                    Op::Append { file, bytes } => {
                        let name = NAMES[file];
                        let m = model.entry(name).or_default();
                        prop_assert_eq!(disk.append(name, &bytes), Ok(m.cache.len() as u64));
                        m.cache.extend_from_slice(&bytes);
                    }
                    Op::Truncate { file, keep_permille } => {
                        let name = NAMES[file];
                        match model.get_mut(name) {
                            None => prop_assert!(disk.truncate(name, 0).is_err()),
                            Some(m) => {
                                let len = m.cache.len() * usize::from(keep_permille) / 1000;
                                prop_assert_eq!(disk.truncate(name, len as u64), Ok(()));
                                m.cache.truncate(len);
                            }
                        }
                    }
                    Op::Remove { file } => {
                        let name = NAMES[file];
                        prop_assert_eq!(disk.remove(name).is_ok(), model.remove(name).is_some());
                        let (gone, kept) = pending.into_iter().partition(|(_, n, _)| *n == name);
                        pending = kept;
                        void.extend(gone.into_iter().map(|(t, _, _): (FsyncTicket, _, _)| t));
                    }
                    Op::Begin { file } => {
                        let name = NAMES[file];
                        match model.get(name) {
                            None => prop_assert!(disk.begin_fsync(name, 0, &mut rng).is_err()),
                            Some(m) => {
                                let ticket = disk.begin_fsync(name, 0, &mut rng).unwrap();
                                pending.push((ticket, name, m.cache.clone()));
                            }
                        }
                    }
                    Op::Complete { pick } => {
                        let total = pending.len() + void.len();
                        if total == 0 {
                            continue;
                        }
                        let pick = pick % total;
                        if pick < pending.len() {
                            let (ticket, name, image) = pending.remove(pick);
                            prop_assert_eq!(disk.complete_fsync(ticket, ticket.done_at_ns), Ok(()));
                            let m = model.get_mut(name).unwrap();
                            if m.durable_as_of.is_none_or(|as_of| as_of < ticket.id) {
                                m.durable = image;
                                m.durable_as_of = Some(ticket.id);
                            }
                        } else {
                            let ticket = void.remove(pick - pending.len());
                            let completed = disk.complete_fsync(ticket, ticket.done_at_ns);
                            prop_assert!(
                                matches!(completed, Err(DiskError::FsyncVoid { .. })),
                                "{:?}", completed
                            );
                        }
                    }
                    Op::Read { file } => {
                        let name = NAMES[file];
                        if let Some(m) = model.get(name) {
                            let half = m.cache.len() as u64 / 2;
                            let read = disk.read(name, half, m.cache.len() as u64 - half, &mut rng);
                            prop_assert_eq!(read, Ok(m.cache[half as usize..].to_vec()));
                        }
                    }
                    Op::Crash => {
                        disk.crash(&mut rng);
                        void.extend(pending.drain(..).map(|(t, _, _)| t));
                        for (name, m) in &mut model {
                            let survived = contents(&mut disk, name);
                            if torn {
                                let fits = (0..=m.cache.len()).any(|j| {
                                    let mut expected = m.cache[..j].to_vec();
                                    expected.extend_from_slice(m.durable.get(j..).unwrap_or(&[]));
                                    expected == survived
                                });
                                prop_assert!(fits, "{:?} from {:?} over {:?}", survived, m.cache, m.durable);
                                m.durable = survived.clone();
                            }
                            m.cache = m.durable.clone();
                        }
                    }
                }
                prop_assert_eq!(disk.list().collect::<Vec<_>>(), model.keys().copied().collect::<Vec<_>>());
                for (name, m) in &model {
                    prop_assert_eq!(&contents(&mut disk, name), &m.cache);
                    prop_assert_eq!(&disk.durable_image(name).unwrap(), &m.durable);
                }
                prop_assert_eq!(disk.pending_fsyncs(), pending.len());
                prop_assert!(disk.used_bytes() <= disk.config().capacity_bytes);
            }
        }

        /// The same operations and the same seed give the same disk, bit for bit, and
        /// the same reads, with torn writes and read corruption on.
        #[test]
        fn same_operations_and_seed_give_the_same_disk(
            ops in prop::collection::vec(op(), 1..120),
            seed in any::<u64>(),
        ) {
            let run = || {
                let mut disk = Disk::new(model_config(true)).unwrap();
                disk.activate(0, DiskFault::ReadCorruption { rate: 0.5 }).unwrap();
                let mut rng = rng(seed);
                let mut tickets = Vec::new();
                let mut reads = Vec::new();
                for op in &ops {
                    match op {
                        Op::Append { file, bytes } => {
                            let _ = disk.append(NAMES[*file], bytes);
                        }
                        Op::Truncate { file, keep_permille } => {
                            let len = disk.len(NAMES[*file]).unwrap_or(0);
                            let _ = disk.truncate(NAMES[*file], len * u64::from(*keep_permille) / 1000);
                        }
                        Op::Remove { file } => {
                            let _ = disk.remove(NAMES[*file]);
                        }
                        Op::Begin { file } => {
                            tickets.extend(disk.begin_fsync(NAMES[*file], 0, &mut rng).ok());
                        }
                        Op::Complete { pick } if !tickets.is_empty() => {
                            let ticket: FsyncTicket = tickets.remove(pick % tickets.len());
                            let _ = disk.complete_fsync(ticket, ticket.done_at_ns);
                        }
                        Op::Complete { .. } => {}
                        Op::Read { file } => {
                            let len = disk.len(NAMES[*file]).unwrap_or(0);
                            reads.push(disk.read(NAMES[*file], 0, len, &mut rng));
                        }
                        Op::Crash => disk.crash(&mut rng),
                    }
                }
                (disk, reads)
            };
            let (first, first_reads) = run();
            let (second, second_reads) = run();
            prop_assert_eq!(&first, &second);
            prop_assert_eq!(first_reads, second_reads);
            prop_assert_eq!(first.counters(), second.counters());
        }
    }
}
