//! Write-ahead log record format and crash recovery.
//!
//! A record is `[len: u32 LE][crc: u32 LE][payload]`, where `len` is the payload length
//! in bytes and `crc` is the CRC-32C (Castagnoli) of the payload. Records are appended
//! back to back; there is no file header, so an empty log is zero bytes.
//!
//! Recovery ([`recover`]) walks the log from offset 0 and stops at the first record it
//! cannot trust, reporting why ([`Stop`]): the clean end of the bytes, a torn record (the
//! header or the payload runs past the end: a crash cut an unsynced append short), a
//! length outside `1..=MAX_RECORD_LEN` (garbage where a header should be), or a checksum
//! mismatch (the payload or its checksum changed on the medium or in transit). Everything
//! before the stop is replayed; when the stop is a torn tail (below) the caller truncates
//! the log to [`Recovery::valid_len`] before appending again, so a later append never
//! follows garbage. This is the rule of
//! FoundationDB's simulator and TigerBeetle's VOPR, which both cut unsynced writes short
//! ("torn writes") and flip bits, and of log-structured stores such as LevelDB's log
//! format: a length and a checksum per record let recovery find the last good record.
//!
//! # Torn tail or corruption
//!
//! A stop is not always safe to cut at. A torn write can only damage the end of the log,
//! and what it leaves is the same on every read; a bad record followed by a valid one,
//! or damage that persists across re-reads with valid records after it, is corruption,
//! and cutting there drops records that were durable, perhaps acknowledged. Alagappan
//! et al., "Protocol-Aware Recovery for Consensus-Based Storage" (FAST 2018), make this
//! distinction. [`damage`] scans past a stop for any valid record (a length in range
//! and a matching checksum at any byte offset) and classifies the stop as a
//! [`Damage::TornTail`] or [`Damage::Corrupt`]; [`Rereads`] decides, over successive
//! reads of one log, whether to replay it, read it again after a wait, or stop. A clean
//! read is trusted at once (a CRC catches every single flipped bit); a damaged one only
//! when a second read returns the same bytes, so a read corrupted in transit is never
//! cut. Damage to the last record alone that persists on the medium cannot be told
//! from a torn write by this format (Alagappan et al. add a persist record for that).
//!
//! Choices:
//! - CRC-32C, implemented here with a 256-entry table built at compile time (about
//!   twenty lines, no dependency). Castagnoli's polynomial (G. Castagnoli, S. Brauer,
//!   M. Herrmann, "Optimization of Cyclic Redundancy-Check Codes with 24 and 32 Parity
//!   Bits", IEEE Trans. Communications 1993) has a larger Hamming distance than the
//!   IEEE CRC-32 at the record sizes a log writes, which is why iSCSI (RFC 3720), ext4
//!   and LevelDB use it. Its published check values (RFC 3720 appendix B.4) are tested
//!   below. Like every CRC, it detects every single-bit error in the bytes it covers.
//! - Empty payloads are refused ([`WalError::Empty`]) and a zero length stops recovery:
//!   the CRC-32C of no bytes is 0, so a zero-filled region (a preallocated file, a
//!   zeroed sector) would otherwise read as an endless run of valid empty records.
//! - [`MAX_RECORD_LEN`] is 1 MiB: far above any record the bank workload writes, small
//!   enough that a corrupt length cannot make recovery reserve gigabytes.
//!
//! The checksum covers the payload only, as the format prescribes. A flipped bit in the
//! payload or the checksum is therefore always detected as a mismatch. A flipped bit in
//! the length is detected as a length out of range, a torn record (the new length runs
//! past the end) or, when the new length still fits, a mismatch between the stored CRC
//! and the CRC of a different byte range, which only a CRC collision (probability
//! 2^-32) would hide.
//!
//! # Invariants (checked with `debug_assert!`)
//!
//! - Every record [`recover`] returns has a length in `1..=MAX_RECORD_LEN` and a
//!   matching checksum, and the records tile `0..valid_len` without gaps.
//! - `valid_len <= bytes.len()`; [`Stop::Clean`] iff `valid_len == bytes.len()`;
//!   otherwise the stop's offset is `valid_len`.
//! - `recover(encode(p1) ++ ... ++ encode(pn))` returns `p1..pn` and [`Stop::Clean`].

use core::fmt;

/// Bytes in a record header: the length and the checksum, both `u32` little-endian.
pub const HEADER_LEN: usize = 8;

/// Largest payload a record may carry, in bytes (1 MiB).
pub const MAX_RECORD_LEN: u32 = 1 << 20;

/// The CRC-32C (Castagnoli) of `bytes`: reflected, initial value and final XOR
/// `0xFFFF_FFFF`, as in iSCSI (RFC 3720 section 12.1). `crc32c(b"123456789")` is
/// `0xE306_9283`. Computed by the `crc32c` crate, with the SSE 4.2 instruction where the
/// CPU has it (a WAL checksums every record; a table walk was a tenth of a bank run) and
/// its table otherwise: the same value either way.
pub fn crc32c(bytes: &[u8]) -> u32 {
    ::crc32c::crc32c(bytes)
}

/// Why a payload cannot be encoded as a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalError {
    /// The payload is empty (a zero length marks garbage, see the module docs).
    Empty,
    /// The payload is longer than [`MAX_RECORD_LEN`].
    TooLong {
        /// The payload's length, bytes.
        len_bytes: usize,
        /// The limit, bytes.
        max_bytes: u32,
    },
}

impl fmt::Display for WalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WalError::Empty => write!(f, "a WAL record payload must not be empty"),
            WalError::TooLong {
                len_bytes,
                max_bytes,
            } => write!(
                f,
                "WAL record payload is {len_bytes} bytes, over the {max_bytes}-byte limit"
            ),
        }
    }
}

impl std::error::Error for WalError {}

/// Checks a payload length and returns it as the header's `u32`.
fn checked_len(payload: &[u8]) -> Result<u32, WalError> {
    if payload.is_empty() {
        return Err(WalError::Empty);
    }
    match u32::try_from(payload.len()) {
        Ok(len) if len <= MAX_RECORD_LEN => Ok(len),
        _ => Err(WalError::TooLong {
            len_bytes: payload.len(),
            max_bytes: MAX_RECORD_LEN,
        }),
    }
}

/// Appends the record for `payload` to `buf` (`HEADER_LEN + payload.len()` bytes).
///
/// # Errors
///
/// [`WalError::Empty`] or [`WalError::TooLong`]; `buf` is then unchanged.
pub fn encode_into(buf: &mut Vec<u8>, payload: &[u8]) -> Result<(), WalError> {
    let len = checked_len(payload)?;
    let start = buf.len();
    buf.reserve(HEADER_LEN + payload.len());
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(&crc32c(payload).to_le_bytes());
    buf.extend_from_slice(payload);
    debug_assert_eq!(buf.len() - start, HEADER_LEN + payload.len());
    Ok(())
}

/// Appends the record whose payload `write` appends to `buf`: the payload is written in
/// place after room for the header, which is filled in afterwards (no copy of the
/// payload, unlike [`encode_into`] from a separate buffer).
///
/// # Errors
///
/// [`WalError::Empty`] or [`WalError::TooLong`]; `buf` is then unchanged.
pub fn encode_with(buf: &mut Vec<u8>, write: impl FnOnce(&mut Vec<u8>)) -> Result<(), WalError> {
    let start = buf.len();
    buf.extend_from_slice(&[0; HEADER_LEN]);
    write(buf);
    let payload = &buf[start + HEADER_LEN..];
    let len = match checked_len(payload) {
        Ok(len) => len,
        Err(err) => {
            buf.truncate(start);
            return Err(err);
        }
    };
    let crc = crc32c(payload);
    buf[start..start + 4].copy_from_slice(&len.to_le_bytes());
    buf[start + 4..start + HEADER_LEN].copy_from_slice(&crc.to_le_bytes());
    Ok(())
}

/// The record for `payload`, as a new buffer.
///
/// # Errors
///
/// [`WalError::Empty`] or [`WalError::TooLong`].
pub fn encode(payload: &[u8]) -> Result<Vec<u8>, WalError> {
    let mut buf = Vec::new();
    encode_into(&mut buf, payload)?;
    Ok(buf)
}

/// One record recovered from a log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// Byte offset of the record's header in the log.
    pub offset: u64,
    /// The payload (checksum verified).
    pub payload: &'a [u8],
}

impl Record<'_> {
    /// Byte offset just past this record: where the next record starts.
    pub fn end(&self) -> u64 {
        self.offset + (HEADER_LEN + self.payload.len()) as u64
    }
}

/// Why [`recover`] stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Every byte belongs to a valid record.
    Clean,
    /// The record at `offset` runs past the end of the bytes: its header (fewer than
    /// [`HEADER_LEN`] bytes left) or its payload is incomplete. The signature of a crash
    /// during an unsynced append.
    Torn {
        /// Byte offset of the incomplete record.
        offset: u64,
        /// Bytes the record needs (header, plus the payload once the length is readable).
        needed_bytes: u64,
        /// Bytes present from `offset` to the end.
        available_bytes: u64,
    },
    /// The header at `offset` holds a length outside `1..=MAX_RECORD_LEN`.
    LengthOutOfRange {
        /// Byte offset of the bad header.
        offset: u64,
        /// The length it holds, bytes.
        len_bytes: u32,
    },
    /// The payload of the record at `offset` does not match its checksum: corruption.
    ChecksumMismatch {
        /// Byte offset of the corrupt record.
        offset: u64,
        /// The checksum stored in the header.
        stored: u32,
        /// The checksum of the payload as read.
        computed: u32,
    },
}

impl Stop {
    /// The offset recovery stopped at, unless it reached the clean end.
    pub fn offset(&self) -> Option<u64> {
        match *self {
            Stop::Clean => None,
            Stop::Torn { offset, .. }
            | Stop::LengthOutOfRange { offset, .. }
            | Stop::ChecksumMismatch { offset, .. } => Some(offset),
        }
    }

    /// True for [`Stop::Clean`].
    pub fn is_clean(&self) -> bool {
        matches!(self, Stop::Clean)
    }
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Stop::Clean => write!(f, "clean end of log"),
            Stop::Torn {
                offset,
                needed_bytes,
                available_bytes,
            } => write!(
                f,
                "torn record at offset {offset}: needs {needed_bytes} bytes, \
                 {available_bytes} present"
            ),
            Stop::LengthOutOfRange { offset, len_bytes } => write!(
                f,
                "record at offset {offset} claims {len_bytes} bytes, outside 1..={MAX_RECORD_LEN}"
            ),
            Stop::ChecksumMismatch {
                offset,
                stored,
                computed,
            } => write!(
                f,
                "checksum mismatch at offset {offset}: stored {stored:#010x}, \
                 computed {computed:#010x}"
            ),
        }
    }
}

/// Bytes of candidate payloads [`damage`] may checksum while it scans past a stop
/// (4 MiB). Most byte offsets hold a length that runs past the end and cost nothing; the
/// budget bounds the rest, so no input makes the scan quadratic in its length.
pub const SCAN_BUDGET_BYTES: u64 = 4 * MAX_RECORD_LEN as u64;

/// What lies past a recovery's stop (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Damage {
    /// No valid record starts anywhere after the stop: the bad bytes end the log, as a
    /// torn write leaves them. Cutting them loses no complete record.
    TornTail {
        /// Byte offset of the stop.
        offset: u64,
    },
    /// A valid record starts at `next_offset`, after the bad one at `offset`: the log
    /// goes on past the damage, so cutting at `offset` would drop durable records.
    Corrupt {
        /// Byte offset of the stop.
        offset: u64,
        /// Byte offset of the first valid record after it.
        next_offset: u64,
    },
    /// The scan spent [`SCAN_BUDGET_BYTES`] before finding a valid record or the end;
    /// it stopped at `scanned_to`. Treated as corruption: nothing that may not be a
    /// tail is cut.
    Undecided {
        /// Byte offset of the stop.
        offset: u64,
        /// Byte offset the scan reached.
        scanned_to: u64,
    },
}

impl Damage {
    /// Byte offset of the stop.
    pub fn offset(&self) -> u64 {
        match *self {
            Damage::TornTail { offset }
            | Damage::Corrupt { offset, .. }
            | Damage::Undecided { offset, .. } => offset,
        }
    }

    /// True for [`Damage::TornTail`]: the only damage that may be cut.
    pub fn is_torn_tail(&self) -> bool {
        matches!(self, Damage::TornTail { .. })
    }
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Damage::TornTail { offset } => write!(f, "torn tail at byte {offset}"),
            Damage::Corrupt {
                offset,
                next_offset,
            } => write!(
                f,
                "corrupt record at byte {offset}, a valid record follows at byte {next_offset}"
            ),
            Damage::Undecided { offset, scanned_to } => write!(
                f,
                "bad record at byte {offset}, undecided whether a valid record follows \
                 (scan gave up at byte {scanned_to})"
            ),
        }
    }
}

/// The frame at byte `at` of `bytes`, if its length is in range and it fits: its
/// payload length and end offset (the checksum is not yet checked).
fn frame_at(bytes: &[u8], at: usize) -> Option<(usize, usize)> {
    let rest = bytes.get(at..)?;
    if rest.len() < HEADER_LEN {
        return None;
    }
    let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
    if len == 0 || len > MAX_RECORD_LEN || rest.len() - HEADER_LEN < len as usize {
        return None;
    }
    Some((len as usize, at + HEADER_LEN + len as usize))
}

/// Classifies the damage where `recovery` (of `bytes`) stopped: `None` for a clean end.
/// Scans every byte offset after the stop for a valid record, spending at most
/// [`SCAN_BUDGET_BYTES`] on checksums.
pub fn damage(bytes: &[u8], recovery: &Recovery<'_>) -> Option<Damage> {
    let offset = recovery.stop.offset()?;
    let mut spent_bytes = 0u64;
    let start = offset as usize + 1;
    for at in start..bytes.len() {
        let Some((len, end)) = frame_at(bytes, at) else {
            continue;
        };
        spent_bytes += len as u64;
        if spent_bytes > SCAN_BUDGET_BYTES {
            return Some(Damage::Undecided {
                offset,
                scanned_to: at as u64,
            });
        }
        let stored =
            u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]]);
        if crc32c(&bytes[at + HEADER_LEN..end]) == stored {
            debug_assert!(at as u64 > offset);
            return Some(Damage::Corrupt {
                offset,
                next_offset: at as u64,
            });
        }
    }
    Some(Damage::TornTail { offset })
}

/// How often, and after what waits, a damaged log is read again ([`Rereads`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RereadPolicy {
    /// Reads in all, the first included; at least 2 (a damaged read is trusted only
    /// when a second one agrees).
    pub max_reads: u32,
    /// The wait before the third read, ns (the second follows the first at once, so a
    /// torn tail costs no time); each later wait doubles, up to `max_wait_ns`.
    pub first_wait_ns: u64,
    /// The longest wait between two reads, ns.
    pub max_wait_ns: u64,
}

/// Why [`Rereads`] gave up on a log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailCause {
    /// Two successive reads returned the same bytes and the damage in them is not a
    /// torn tail: corruption on the medium.
    Persistent(Damage),
    /// No read was clean and no two successive reads agreed.
    Unsettled {
        /// The last read's damage.
        last: Damage,
    },
}

/// A log recovery must not replay or cut: the account stops (fail-stop).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailStop {
    /// Why.
    pub cause: FailCause,
    /// Reads made.
    pub reads: u32,
    /// Time waited between them, ns.
    pub waited_ns: u64,
}

impl FailStop {
    /// Byte offset of the damage that stopped recovery.
    pub fn offset(&self) -> u64 {
        match self.cause {
            FailCause::Persistent(damage) | FailCause::Unsettled { last: damage } => {
                damage.offset()
            }
        }
    }
}

impl fmt::Display for FailStop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let waited_s = self.waited_ns as f64 / 1e9;
        match self.cause {
            FailCause::Persistent(damage) => write!(
                f,
                "{damage}, the same on two successive reads (of {} over {waited_s:.3} s): \
                 corruption, not cut",
                self.reads
            ),
            FailCause::Unsettled { last } => write!(
                f,
                "no clean read of the log and no two alike in {} reads over {waited_s:.3} s \
                 (last: {last}): not cut",
                self.reads
            ),
        }
    }
}

/// What to do with a log after a read ([`Rereads::read`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Replay these bytes: clean, or a torn tail two reads agree on (cut the log to
    /// the `valid_len` of their [`recover`]).
    Replay(Vec<u8>),
    /// Read the log again after this wait, ns (0: at once).
    ReadAgain {
        /// The wait, ns.
        after_ns: u64,
    },
    /// Neither replay nor cut the log: stop.
    FailStop(FailStop),
}

/// The reads of one log at recovery, sans-IO: the caller reads the whole log, hands
/// the bytes to [`Rereads::read`] and does what the [`Verdict`] says. A clean read is
/// replayed; a damaged one is replayed (and its torn tail cut) only when the next read
/// returns the same bytes and the damage is a [`Damage::TornTail`]; the same bytes
/// with any other damage fail-stop at once; reads that keep differing are retried
/// after growing waits, and fail-stop after [`RereadPolicy::max_reads`].
///
/// Invariants: at most `max_reads` reads get a verdict other than `FailStop`; the wait
/// between two reads never exceeds `max_wait_ns`; a replayed log is clean or a torn
/// tail.
#[derive(Clone, Debug)]
pub struct Rereads {
    policy: RereadPolicy,
    reads: u32,
    next_wait_ns: u64,
    waited_ns: u64,
    last: Option<Vec<u8>>,
}

impl Rereads {
    /// No read yet. A `max_reads` below 2 is taken as 2.
    pub fn new(policy: RereadPolicy) -> Self {
        Rereads {
            policy: RereadPolicy {
                max_reads: policy.max_reads.max(2),
                ..policy
            },
            reads: 0,
            next_wait_ns: policy.first_wait_ns.min(policy.max_wait_ns),
            waited_ns: 0,
            last: None,
        }
    }

    /// Reads made so far.
    pub fn reads(&self) -> u32 {
        self.reads
    }

    /// The verdict on one more read of the whole log, `bytes`.
    pub fn read(&mut self, bytes: Vec<u8>) -> Verdict {
        self.reads += 1;
        let found = {
            let recovery = recover(&bytes);
            damage(&bytes, &recovery)
        };
        let Some(found) = found else {
            return Verdict::Replay(bytes);
        };
        if self.last.as_ref() == Some(&bytes) {
            if found.is_torn_tail() {
                return Verdict::Replay(bytes);
            }
            return Verdict::FailStop(self.fail(FailCause::Persistent(found)));
        }
        if self.reads >= self.policy.max_reads {
            return Verdict::FailStop(self.fail(FailCause::Unsettled { last: found }));
        }
        self.last = Some(bytes);
        let after_ns = if self.reads == 1 {
            0
        } else {
            let wait = self.next_wait_ns;
            self.next_wait_ns = wait.saturating_mul(2).min(self.policy.max_wait_ns);
            wait
        };
        debug_assert!(after_ns <= self.policy.max_wait_ns);
        self.waited_ns = self.waited_ns.saturating_add(after_ns);
        Verdict::ReadAgain { after_ns }
    }

    fn fail(&mut self, cause: FailCause) -> FailStop {
        self.last = None;
        FailStop {
            cause,
            reads: self.reads,
            waited_ns: self.waited_ns,
        }
    }
}

/// What [`recover`] found in a log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recovery<'a> {
    /// The valid records, in log order.
    pub records: Vec<Record<'a>>,
    /// Bytes covered by the valid records: truncate the log to this length.
    pub valid_len: u64,
    /// Why recovery stopped at `valid_len`.
    pub stop: Stop,
}

/// Replays `bytes` up to the last good record and reports where and why it stopped.
///
/// Never panics: any byte string is a (possibly empty) valid prefix plus a stop reason.
pub fn recover(bytes: &[u8]) -> Recovery<'_> {
    let mut records = Vec::new();
    let mut at = 0usize;
    // Each iteration consumes at least HEADER_LEN + 1 bytes or stops: an explicit bound.
    let max_records = bytes.len() / (HEADER_LEN + 1);
    let stop = loop {
        debug_assert!(records.len() <= max_records);
        let rest = &bytes[at..];
        if rest.is_empty() {
            break Stop::Clean;
        }
        let offset = at as u64;
        if rest.len() < HEADER_LEN {
            break Stop::Torn {
                offset,
                needed_bytes: HEADER_LEN as u64,
                available_bytes: rest.len() as u64,
            };
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let stored = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
        if len == 0 || len > MAX_RECORD_LEN {
            break Stop::LengthOutOfRange {
                offset,
                len_bytes: len,
            };
        }
        let record_len = HEADER_LEN + len as usize;
        if rest.len() < record_len {
            break Stop::Torn {
                offset,
                needed_bytes: record_len as u64,
                available_bytes: rest.len() as u64,
            };
        }
        let payload = &rest[HEADER_LEN..record_len];
        let computed = crc32c(payload);
        if computed != stored {
            break Stop::ChecksumMismatch {
                offset,
                stored,
                computed,
            };
        }
        records.push(Record { offset, payload });
        at += record_len;
    };
    let valid_len = at as u64;
    debug_assert!(at <= bytes.len());
    debug_assert_eq!(stop.is_clean(), at == bytes.len());
    debug_assert!(stop.offset().is_none_or(|o| o == valid_len));
    debug_assert!({
        let mut next = 0u64;
        records.iter().all(|r| {
            let tiles = r.offset == next && !r.payload.is_empty();
            next = r.end();
            tiles && r.payload.len() <= MAX_RECORD_LEN as usize
        }) && next == valid_len
    });
    Recovery {
        records,
        valid_len,
        stop,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Bit-at-a-time CRC-32C, written from the definition, to check the table.
    fn crc32c_bitwise(bytes: &[u8]) -> u32 {
        let mut crc = u32::MAX;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                let mask = (crc & 1).wrapping_neg();
                crc = (crc >> 1) ^ (0x82F6_3B78 & mask);
            }
        }
        !crc
    }

    #[test]
    fn crc32c_matches_published_check_values() {
        // The standard check value of the CRC catalogue for CRC-32/ISCSI.
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        // RFC 3720 appendix B.4, each over 32 bytes.
        assert_eq!(crc32c(&[0u8; 32]), 0x8A91_36AA);
        assert_eq!(crc32c(&[0xFFu8; 32]), 0x62A8_AB43);
        let ascending: Vec<u8> = (0u8..32).collect();
        assert_eq!(crc32c(&ascending), 0x46DD_794E);
        let descending: Vec<u8> = (0u8..32).rev().collect();
        assert_eq!(crc32c(&descending), 0x113F_DB5C);
        assert_eq!(crc32c(&[]), 0);
    }

    #[test]
    fn encode_lays_out_header_then_payload() {
        let rec = encode(b"abc").unwrap();
        assert_eq!(rec.len(), HEADER_LEN + 3);
        assert_eq!(&rec[0..4], &3u32.to_le_bytes());
        assert_eq!(&rec[4..8], &crc32c(b"abc").to_le_bytes());
        assert_eq!(&rec[8..], b"abc");
    }

    #[test]
    fn encode_refuses_empty_and_oversized_payloads() {
        let mut buf = vec![7u8];
        assert_eq!(encode_into(&mut buf, &[]), Err(WalError::Empty));
        let big = vec![0u8; MAX_RECORD_LEN as usize + 1];
        assert_eq!(
            encode_into(&mut buf, &big),
            Err(WalError::TooLong {
                len_bytes: MAX_RECORD_LEN as usize + 1,
                max_bytes: MAX_RECORD_LEN
            })
        );
        assert_eq!(buf, vec![7u8], "a refused payload leaves the buffer alone");
        let max = vec![1u8; MAX_RECORD_LEN as usize];
        let rec = encode(&max).unwrap();
        let r = recover(&rec);
        assert_eq!(r.stop, Stop::Clean);
        assert_eq!(r.records[0].payload.len(), MAX_RECORD_LEN as usize);
        assert!(WalError::Empty.to_string().contains("empty"));
    }

    #[test]
    fn zero_filled_tail_is_not_a_run_of_records() {
        let mut log = encode(b"first").unwrap();
        let good = log.len() as u64;
        log.extend_from_slice(&[0u8; 64]);
        let r = recover(&log);
        assert_eq!(r.records.len(), 1);
        assert_eq!(r.valid_len, good);
        assert_eq!(
            r.stop,
            Stop::LengthOutOfRange {
                offset: good,
                len_bytes: 0
            }
        );
    }

    #[test]
    fn each_stop_reason_by_hand() {
        let mut log = encode(b"one").unwrap();
        let second = log.len();
        log.extend(encode(b"two!").unwrap());
        // Torn header: 5 of the 8 header bytes.
        let r = recover(&log[..second + 5]);
        assert_eq!(
            r.stop,
            Stop::Torn {
                offset: second as u64,
                needed_bytes: 8,
                available_bytes: 5
            }
        );
        // Torn payload: the header and 2 of the 4 payload bytes.
        let r = recover(&log[..second + 10]);
        assert_eq!(
            r.stop,
            Stop::Torn {
                offset: second as u64,
                needed_bytes: 12,
                available_bytes: 10
            }
        );
        // Checksum mismatch: a payload byte changed.
        let mut bad = log.clone();
        bad[second + HEADER_LEN] ^= 0x01;
        let r = recover(&bad);
        assert_eq!(r.records.len(), 1);
        assert_eq!(r.records[0].payload, b"one");
        assert_eq!(
            r.stop,
            Stop::ChecksumMismatch {
                offset: second as u64,
                stored: crc32c(b"two!"),
                // 't' (0x74) with its low bit flipped is 'u' (0x75).
                computed: crc32c(b"uwo!"),
            }
        );
        // Length over the limit.
        let mut bad = log.clone();
        bad[second..second + 4].copy_from_slice(&(MAX_RECORD_LEN + 1).to_le_bytes());
        let r = recover(&bad);
        assert_eq!(
            r.stop,
            Stop::LengthOutOfRange {
                offset: second as u64,
                len_bytes: MAX_RECORD_LEN + 1
            }
        );
        assert!(r.stop.to_string().contains("outside"));
        assert_eq!(recover(&[]).stop, Stop::Clean);
    }

    /// Three records, `one`, `two!` and `three`, and their offsets.
    fn three() -> (Vec<u8>, [usize; 3]) {
        let mut log = encode(b"one").unwrap();
        let second = log.len();
        log.extend(encode(b"two!").unwrap());
        let third = log.len();
        log.extend(encode(b"three").unwrap());
        (log, [0, second, third])
    }

    fn damage_of(bytes: &[u8]) -> Option<Damage> {
        damage(bytes, &recover(bytes))
    }

    #[test]
    fn a_torn_tail_is_a_tail_and_a_bad_middle_is_corruption() {
        let (log, [_, second, third]) = three();
        assert_eq!(damage_of(&log), None);
        // Torn inside the last record: nothing valid follows.
        assert_eq!(
            damage_of(&log[..log.len() - 2]),
            Some(Damage::TornTail {
                offset: third as u64
            })
        );
        // A zero-filled region after the log is a tail too.
        let mut zeros = log.clone();
        zeros.extend_from_slice(&[0u8; 64]);
        assert_eq!(
            damage_of(&zeros),
            Some(Damage::TornTail {
                offset: log.len() as u64
            })
        );
        // The issue's case: a high bit of a middle record's length flipped ("bad
        // length"), with a valid record after it.
        let mut bad = log.clone();
        bad[second + 3] ^= 0x80;
        assert!(matches!(recover(&bad).stop, Stop::LengthOutOfRange { .. }));
        let found = damage_of(&bad).unwrap();
        assert_eq!(
            found,
            Damage::Corrupt {
                offset: second as u64,
                next_offset: third as u64
            }
        );
        assert!(found.to_string().contains("valid record follows at byte"));
        // A length made longer but still in the file reads as torn; the scan still finds
        // the record after it.
        let mut bad = log.clone();
        bad[second] = 200;
        assert!(matches!(recover(&bad).stop, Stop::Torn { .. }));
        assert!(!damage_of(&bad).unwrap().is_torn_tail());
        // A flipped payload bit of the middle record.
        let mut bad = log.clone();
        bad[second + HEADER_LEN] ^= 0x10;
        assert!(matches!(
            damage_of(&bad),
            Some(Damage::Corrupt { next_offset, .. }) if next_offset == third as u64
        ));
        // The same flip in the last record: nothing follows, so it reads as a tail.
        let mut bad = log.clone();
        bad[third + HEADER_LEN] ^= 0x10;
        assert!(damage_of(&bad).unwrap().is_torn_tail());
    }

    #[test]
    fn the_scan_past_a_stop_gives_up_within_its_budget() {
        // Every fourth offset claims a 1 MiB record that fits: without a budget the scan
        // would checksum about 2^19 MiB.
        let mut log = vec![0u8; HEADER_LEN];
        log[0] = 0xFF; // a length out of range at offset 0
        log[1] = 0xFF;
        log[2] = 0xFF;
        while log.len() < 3 * MAX_RECORD_LEN as usize {
            log.extend_from_slice(&MAX_RECORD_LEN.to_le_bytes());
        }
        let found = damage_of(&log).unwrap();
        assert!(
            matches!(found, Damage::Undecided { offset: 0, scanned_to } if scanned_to > 0),
            "{found:?}"
        );
        assert!(!found.is_torn_tail());
        assert!(found.to_string().contains("undecided"));
    }

    const POLICY: RereadPolicy = RereadPolicy {
        max_reads: 6,
        first_wait_ns: 100,
        max_wait_ns: 300,
    };

    fn flipped(log: &[u8], bit: usize) -> Vec<u8> {
        let mut out = log.to_vec();
        out[bit / 8] ^= 1 << (bit % 8);
        out
    }

    #[test]
    fn rereads_replay_a_clean_read_and_a_stable_torn_tail() {
        let (log, _) = three();
        let mut reads = Rereads::new(POLICY);
        assert_eq!(reads.read(log.clone()), Verdict::Replay(log.clone()));
        assert_eq!(reads.reads(), 1);
        // A torn tail: a second read at once, and the same bytes confirm it.
        let torn = log[..log.len() - 3].to_vec();
        let mut reads = Rereads::new(POLICY);
        assert_eq!(reads.read(torn.clone()), Verdict::ReadAgain { after_ns: 0 });
        assert_eq!(reads.read(torn.clone()), Verdict::Replay(torn));
    }

    #[test]
    fn rereads_wait_out_transient_corruption_and_stop_on_persistent() {
        let (log, [_, second, _]) = three();
        // Corrupted in transit three times, differently, then clean: the clean log.
        let mut reads = Rereads::new(POLICY);
        let mut waits = Vec::new();
        for bit in [3, 100, 77] {
            match reads.read(flipped(&log, bit)) {
                Verdict::ReadAgain { after_ns } => waits.push(after_ns),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(waits, vec![0, 100, 200]);
        assert_eq!(reads.read(log.clone()), Verdict::Replay(log.clone()));
        // Corruption on the medium: the same bad middle twice fail-stops.
        let bad = flipped(&log, (second + HEADER_LEN) * 8);
        let mut reads = Rereads::new(POLICY);
        assert_eq!(reads.read(bad.clone()), Verdict::ReadAgain { after_ns: 0 });
        let Verdict::FailStop(stop) = reads.read(bad) else {
            panic!("not a fail-stop");
        };
        assert_eq!(stop.offset(), second as u64);
        assert!(matches!(
            stop.cause,
            FailCause::Persistent(Damage::Corrupt { .. })
        ));
        assert!(stop.to_string().contains("not cut"), "{stop}");
        // Reads that never agree: the policy's reads, waits capped, then a fail-stop.
        let mut reads = Rereads::new(POLICY);
        let mut waits = Vec::new();
        let verdict = loop {
            match reads.read(flipped(&log, 8 * reads.reads() as usize + 1)) {
                Verdict::ReadAgain { after_ns } => waits.push(after_ns),
                other => break other,
            }
        };
        assert_eq!(waits, vec![0, 100, 200, 300, 300]);
        let Verdict::FailStop(stop) = verdict else {
            panic!("{verdict:?}");
        };
        assert_eq!(stop.reads, POLICY.max_reads);
        assert_eq!(stop.waited_ns, 900);
        assert!(matches!(stop.cause, FailCause::Unsettled { .. }));
    }

    fn payloads() -> impl Strategy<Value = Vec<Vec<u8>>> {
        prop::collection::vec(prop::collection::vec(any::<u8>(), 1..64), 0..12)
    }

    fn encode_all(payloads: &[Vec<u8>]) -> (Vec<u8>, Vec<usize>) {
        let mut log = Vec::new();
        let mut starts = Vec::new();
        for p in payloads {
            starts.push(log.len());
            encode_into(&mut log, p).unwrap();
        }
        (log, starts)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Writing the payload in place gives the bytes of framing it from a buffer, and
        /// a refused payload leaves the buffer as it was.
        #[test]
        fn encode_with_matches_encode_into(
            prefix in prop::collection::vec(any::<u8>(), 0..20),
            payload in prop::collection::vec(any::<u8>(), 0..300),
        ) {
            let mut expected = prefix.clone();
            let framed = encode_into(&mut expected, &payload);
            let mut written = prefix.clone();
            let in_place = encode_with(&mut written, |buf| buf.extend_from_slice(&payload));
            prop_assert_eq!(framed, in_place);
            prop_assert_eq!(&written, &expected);
            if payload.is_empty() {
                prop_assert_eq!(&written, &prefix);
            }
        }

        #[test]
        fn table_crc_equals_bitwise_crc(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            prop_assert_eq!(crc32c(&bytes), crc32c_bitwise(&bytes));
        }

        #[test]
        fn any_sequence_of_payloads_round_trips(payloads in payloads()) {
            let (log, starts) = encode_all(&payloads);
            let r = recover(&log);
            prop_assert_eq!(r.stop, Stop::Clean);
            prop_assert_eq!(r.valid_len, log.len() as u64);
            prop_assert_eq!(r.records.len(), payloads.len());
            for ((rec, p), start) in r.records.iter().zip(&payloads).zip(&starts) {
                prop_assert_eq!(rec.payload, p.as_slice());
                prop_assert_eq!(rec.offset, *start as u64);
            }
        }

        #[test]
        fn a_torn_tail_keeps_exactly_the_complete_records(
            payloads in payloads(), cut_frac in 0.0f64..=1.0,
        ) {
            let (log, starts) = encode_all(&payloads);
            let cut = ((log.len() as f64) * cut_frac) as usize;
            let r = recover(&log[..cut]);
            // Complete records are those whose last byte lies before the cut.
            let complete = starts
                .iter()
                .zip(&payloads)
                .filter(|(s, p)| **s + HEADER_LEN + p.len() <= cut)
                .count();
            prop_assert_eq!(r.records.len(), complete);
            for (rec, p) in r.records.iter().zip(&payloads) {
                prop_assert_eq!(rec.payload, p.as_slice());
            }
            let boundary = cut == log.len() || starts.contains(&cut);
            // A cut log is a torn tail, never corruption: it may be cut.
            let found = damage(&log[..cut], &r);
            prop_assert_eq!(found.is_none(), boundary);
            prop_assert!(found.is_none_or(|d| d.is_torn_tail()), "{:?}", found);
            if boundary {
                prop_assert_eq!(r.stop, Stop::Clean);
                prop_assert_eq!(r.valid_len, cut as u64);
            } else {
                let offset = starts[complete] as u64;
                prop_assert_eq!(r.valid_len, offset);
                let is_torn_here = matches!(r.stop, Stop::Torn { offset: o, .. } if o == offset);
                prop_assert!(is_torn_here, "expected torn at {}, got {:?}", offset, r.stop);
            }
        }

        #[test]
        fn a_flipped_bit_is_detected_and_earlier_records_kept(
            payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..64), 1..12),
            which in any::<prop::sample::Index>(),
            bit in any::<prop::sample::Index>(),
        ) {
            let (mut log, starts) = encode_all(&payloads);
            let victim = which.index(payloads.len());
            let start = starts[victim];
            let record_len = HEADER_LEN + payloads[victim].len();
            let bit = bit.index(record_len * 8);
            let byte = start + bit / 8;
            log[byte] ^= 1 << (bit % 8);
            let r = recover(&log);
            prop_assert_eq!(r.records.len(), victim, "stop: {:?}", r.stop);
            for (rec, p) in r.records.iter().zip(&payloads) {
                prop_assert_eq!(rec.payload, p.as_slice());
            }
            prop_assert_eq!(r.valid_len, start as u64);
            prop_assert_eq!(r.stop.offset(), Some(start as u64));
            if byte >= start + 4 {
                // The checksum or the payload changed: a CRC catches every 1-bit error.
                let mismatch = matches!(r.stop, Stop::ChecksumMismatch { .. });
                prop_assert!(mismatch, "{:?}", r.stop);
            }
            // In the length field any non-clean stop at this record is a detection; it
            // passes unless the CRC of the new byte range collides (probability 2^-32).
        }

        /// Damage inside any record but the last is corruption, never a torn tail: the
        /// scan finds the valid record after it.
        #[test]
        fn a_corrupted_middle_is_never_a_torn_tail(
            payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..64), 2..12),
            which in any::<prop::sample::Index>(),
            flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
        ) {
            let (mut log, starts) = encode_all(&payloads);
            let victim = which.index(payloads.len() - 1);
            let start = starts[victim];
            let next = starts[victim + 1];
            // One mask per byte, so two flips never cancel.
            let flips: std::collections::BTreeMap<usize, u8> = flips
                .iter()
                .map(|(at, mask)| (start + at.index(next - start), *mask))
                .collect();
            for (at, mask) in flips {
                log[at] ^= mask;
            }
            let r = recover(&log);
            // A CRC collision (2^-32) would keep the victim; nothing else may.
            prop_assert_eq!(r.valid_len, start as u64, "{:?}", r.stop);
            let found = damage(&log, &r);
            let corrupt = matches!(
                found,
                Some(Damage::Corrupt { offset, next_offset })
                    if offset == start as u64 && next_offset <= next as u64
            );
            prop_assert!(corrupt, "{:?}", found);
            // Read twice alike, it fail-stops; it is never replayed or cut.
            let mut reads = Rereads::new(POLICY);
            prop_assert_eq!(reads.read(log.clone()), Verdict::ReadAgain { after_ns: 0 });
            let stopped = matches!(reads.read(log), Verdict::FailStop(_));
            prop_assert!(stopped);
        }

        /// Reads corrupted in transit (a different bit each time) are read again until a
        /// clean one, which is what is replayed; past the policy's reads, a fail-stop.
        /// No verdict ever replays anything but the log as stored.
        #[test]
        fn transient_corruption_recovers_after_a_reread(
            payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..64), 1..12),
            bits in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        ) {
            let (log, _) = encode_all(&payloads);
            let mut reads = Rereads::new(POLICY);
            let mut previous = usize::MAX;
            let mut verdict = None;
            for bit in &bits {
                let mut bit = bit.index(log.len() * 8);
                if bit == previous {
                    bit = (bit + 1) % (log.len() * 8);
                }
                previous = bit;
                match reads.read(flipped(&log, bit)) {
                    Verdict::ReadAgain { after_ns } => prop_assert!(after_ns <= POLICY.max_wait_ns),
                    other => {
                        verdict = Some(other);
                        break;
                    }
                }
            }
            let verdict = verdict.unwrap_or_else(|| reads.read(log.clone()));
            if bits.len() < POLICY.max_reads as usize {
                prop_assert_eq!(verdict, Verdict::Replay(log));
            } else {
                let stopped = matches!(verdict, Verdict::FailStop(FailStop { reads: 6, .. }));
                prop_assert!(stopped, "{:?}", verdict);
            }
        }

        #[test]
        fn recovery_never_panics_and_reencodes_its_prefix(
            bytes in prop::collection::vec(any::<u8>(), 0..512),
            valid_prefix in payloads(),
        ) {
            // Arbitrary bytes, alone and after a valid prefix (so the walk goes deep).
            for input in [bytes.clone(), [encode_all(&valid_prefix).0, bytes].concat()] {
                let r = recover(&input);
                prop_assert!(r.valid_len <= input.len() as u64);
                let reencoded: Vec<Vec<u8>> = r.records.iter().map(|x| x.payload.to_vec()).collect();
                let (again, _) = encode_all(&reencoded);
                prop_assert_eq!(again.as_slice(), &input[..r.valid_len as usize]);
                prop_assert_eq!(r.stop.is_clean(), r.valid_len == input.len() as u64);
                let found = damage(&input, &r);
                prop_assert_eq!(found.is_none(), r.stop.is_clean());
                if let Some(Damage::Corrupt { offset, next_offset }) = found {
                    // What the scan found is a record: it recovers on its own.
                    prop_assert!(next_offset > offset);
                    let after = recover(&input[next_offset as usize..]);
                    prop_assert!(!after.records.is_empty());
                }
            }
        }
    }
}
