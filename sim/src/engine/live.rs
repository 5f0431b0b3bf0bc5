//! The live backend of [`Ctx`] (feature `live`): the same `async fn main(ctx)` on real
//! sockets, real files and real time, with tokio.
//!
//! - **Messages** are UDP datagrams, one message each, serialized with serde as JSON.
//!   UDP because the simulated network already loses, delays and reorders messages, so
//!   code that passes its scenarios tolerates exactly what UDP does, and a killed peer
//!   simply drops what is sent to it (no connection to re-establish, no head-of-line
//!   blocking behind a dead peer). A datagram is accepted only from an address of the
//!   peer table, and only if it decodes; anything else is counted and dropped.
//! - **The disk** is a directory: a file per name, appended to, read and cut with
//!   `std::fs`; [`Ctx::barrier`] is the same group commit as in the simulator
//!   ([`GroupCommit`]) with a real `File::sync_data` on tokio's blocking pool: the sends
//!   after a barrier leave once the fsync that covers them has completed, and the
//!   process goes on taking input meanwhile.
//! - **Time**: [`Ctx::now`] is monotonic ns since the node started, [`Ctx::clock`] the
//!   system clock (ns since the Unix epoch); timers and `sleep_until` are tokio timers.
//! - **Randomness**: [`Ctx::rng`] is a ChaCha8 stream seeded from the OS.
//! - **Reports** go to the sink the caller gives, with the node's [`Ctx::now`].
//! - **Incarnation**: the caller's counter ([`next_incarnation`] keeps one in the data
//!   directory).
//!
//! A node runs on a current-thread runtime with a [`LocalSet`] (the process future is
//! not `Send`). Only this module reads the wall clock or the OS's randomness: the
//! simulator never compiles it. Addresses are only those the caller passes.

use std::cell::{Cell, RefCell, RefMut};
use std::collections::{BTreeMap, VecDeque};
use std::fs::{self, File, OpenOptions};
use std::future::Future;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::net::UdpSocket;
use tokio::sync::Notify;
use tokio::task::LocalSet;
use tokio::time::Instant;

use super::commit::{Fsync, GroupCommit};
use super::disk::DiskError;
use super::nodes::NodeId;
use super::process::{Ctx, Incoming, MAILBOX_LIMIT, SLEEP_TOKENS};
use super::queue::Nanos;

/// Largest datagram sent or received, bytes (UDP's payload limit over IPv4).
pub const MAX_DATAGRAM_BYTES: usize = 65_507;

/// Longest file name, bytes.
pub const MAX_NAME_BYTES: usize = 255;

/// The file of the data directory that keeps the incarnation counter.
pub const INCARNATION_FILE: &str = "incarnation";

/// A failure to start or run a live node.
#[derive(Debug)]
pub struct LiveError(String);

impl std::fmt::Display for LiveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LiveError {}

impl LiveError {
    fn io(what: impl std::fmt::Display, err: io::Error) -> Self {
        LiveError(format!("{what}: {err}"))
    }
}

/// What a live node did, counted (what a production node would export as metrics).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LiveStats {
    /// Datagrams sent.
    pub sent: u64,
    /// Datagrams received and delivered.
    pub received: u64,
    /// Sends dropped: no address for the node, too large, or the socket refused them.
    pub send_failed: u64,
    /// Datagrams dropped: from an address not in the peer table.
    pub unknown_source: u64,
    /// Datagrams dropped: they did not decode as a message.
    pub undecodable: u64,
    /// Messages and timers dropped at a full mailbox.
    pub inbox_full: u64,
    /// Fsyncs completed.
    pub fsyncs: u64,
    /// Fsyncs that failed (the sends they held never left).
    pub fsync_failures: u64,
}

/// Reads the incarnation counter kept in `dir` (0 if there is none), stores the next
/// value for the next boot (atomically, and synced), and returns the one read.
pub fn next_incarnation(dir: &Path) -> Result<u32, LiveError> {
    fs::create_dir_all(dir).map_err(|err| LiveError::io(dir.display(), err))?;
    let path = dir.join(INCARNATION_FILE);
    let current = match fs::read_to_string(&path) {
        Ok(text) => text.trim().parse::<u32>().map_err(|err| {
            LiveError(format!(
                "{}: not an incarnation count: {err}",
                path.display()
            ))
        })?,
        Err(err) if err.kind() == io::ErrorKind::NotFound => 0,
        Err(err) => return Err(LiveError::io(path.display(), err)),
    };
    let next = current
        .checked_add(1)
        .ok_or_else(|| LiveError(format!("{}: the count is at its limit", path.display())))?;
    faultline_reports::io::write_file(&path, format!("{next}\n").as_bytes())
        .map_err(|err| LiveError(err.to_string()))?;
    sync_dir(dir).map_err(|err| LiveError::io(dir.display(), err))?;
    Ok(current)
}

/// Makes a directory's entries (a created or renamed file) durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// A report sink: the node's [`Ctx::now`] and what the process reported.
type Sink<R> = Box<dyn FnMut(Nanos, R)>;

/// One node of a live deployment: build it, then [`LiveNode::run`] its `main`.
pub struct LiveNode<R> {
    node: NodeId,
    socket: std::net::UdpSocket,
    peers: BTreeMap<NodeId, SocketAddr>,
    data_dir: Option<PathBuf>,
    incarnation: u32,
    sink: Sink<R>,
    stop_after: Option<Duration>,
}

impl<R: 'static> LiveNode<R> {
    /// Node `node`, receiving on `socket` (bound by the caller), sending to `peers`
    /// (node id to address; its own entry, if any, is not used). Without a data
    /// directory it has no disk; reports are dropped until a sink is given.
    pub fn new(
        node: NodeId,
        socket: std::net::UdpSocket,
        peers: BTreeMap<NodeId, SocketAddr>,
    ) -> Self {
        LiveNode {
            node,
            socket,
            peers,
            data_dir: None,
            incarnation: 0,
            sink: Box::new(|_, _| {}),
            stop_after: None,
        }
    }

    /// The node's disk: files in `dir` (created if missing).
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// What [`Ctx::incarnation`] returns (see [`next_incarnation`]).
    pub fn incarnation(mut self, incarnation: u32) -> Self {
        self.incarnation = incarnation;
        self
    }

    /// Where [`Ctx::report`] goes: `sink(now_ns, report)`.
    pub fn report_to(mut self, sink: impl FnMut(Nanos, R) + 'static) -> Self {
        self.sink = Box::new(sink);
        self
    }

    /// Stops the node after `duration` even if `main` has not returned.
    pub fn stop_after(mut self, duration: Duration) -> Self {
        self.stop_after = Some(duration);
        self
    }

    /// Runs `main(ctx)` on a current-thread runtime until it returns (or the time
    /// given to [`LiveNode::stop_after`] is up); returns what the node counted.
    pub fn run<M, F, Fut>(self, main: F) -> Result<LiveStats, LiveError>
    where
        M: Serialize + DeserializeOwned + 'static,
        F: FnOnce(Ctx<M, R>) -> Fut,
        Fut: Future<Output = ()>,
    {
        let LiveNode {
            node,
            socket,
            peers,
            data_dir,
            incarnation,
            sink,
            stop_after,
        } = self;
        let disk = match data_dir {
            Some(dir) => {
                fs::create_dir_all(&dir).map_err(|err| LiveError::io(dir.display(), err))?;
                Some(RefCell::new(LiveDisk::new(dir)))
            }
            None => None,
        };
        socket
            .set_nonblocking(true)
            .map_err(|err| LiveError::io("the node's socket", err))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|err| LiveError::io("the node's runtime", err))?;
        let local = LocalSet::new();
        local.block_on(&runtime, async move {
            let socket = Rc::new(
                UdpSocket::from_std(socket)
                    .map_err(|err| LiveError::io("the node's socket", err))?,
            );
            let sources = peers.iter().map(|(&node, &addr)| (addr, node)).collect();
            let shared = Rc::new(Shared {
                incarnation,
                started: Instant::now(),
                // An OS-seeded stream: a live node's draws need not repeat.
                rng: RefCell::new(ChaCha8Rng::from_entropy()),
                inbox: RefCell::new(Inbox {
                    queue: VecDeque::new(),
                    waker: None,
                }),
                next_sleep: Cell::new(SLEEP_TOKENS),
                timers: RefCell::new(BTreeMap::new()),
                next_timer: Cell::new(0),
                timer_set: Notify::new(),
                socket: Rc::clone(&socket),
                peers,
                encode: encode::<M>,
                disk,
                commit: RefCell::new(GroupCommit::default()),
                fsync_begun: Notify::new(),
                sink: RefCell::new(sink),
                stats: RefCell::new(LiveStats::default()),
            });
            let tasks = [
                tokio::task::spawn_local(receive(Rc::clone(&shared), socket, sources)),
                tokio::task::spawn_local(timers(Rc::clone(&shared))),
                tokio::task::spawn_local(fsyncs(Rc::clone(&shared))),
            ];
            let main = main(Ctx::live(node, Rc::clone(&shared)));
            match stop_after {
                Some(duration) => {
                    let _ = tokio::time::timeout(duration, main).await;
                }
                None => main.await,
            }
            for task in tasks {
                task.abort();
            }
            let stats = shared.stats.borrow().clone();
            Ok(stats)
        })
    }
}

fn encode<M: Serialize>(msg: &M) -> Option<Vec<u8>> {
    serde_json::to_vec(msg).ok()
}

/// Receives datagrams into the node's mailbox.
async fn receive<M: DeserializeOwned, R>(
    shared: Rc<Shared<M, R>>,
    socket: Rc<UdpSocket>,
    sources: BTreeMap<SocketAddr, NodeId>,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM_BYTES];
    loop {
        // An error (an ICMP report of an earlier send) concerns no datagram: go on.
        let Ok((len, addr)) = socket.recv_from(&mut buf).await else {
            continue;
        };
        let Some(&from) = sources.get(&addr) else {
            shared.stats.borrow_mut().unknown_source += 1;
            continue;
        };
        match serde_json::from_slice::<M>(&buf[..len]) {
            Ok(msg) => {
                shared.stats.borrow_mut().received += 1;
                shared.push(Incoming::Message { from, msg });
            }
            Err(_) => shared.stats.borrow_mut().undecodable += 1,
        }
    }
}

/// Fires the node's timers into its mailbox, earliest first (ties in the order set).
async fn timers<M, R>(shared: Rc<Shared<M, R>>) {
    loop {
        let next = shared.timers.borrow().keys().next().copied();
        let Some((at_ns, seq)) = next else {
            shared.timer_set.notified().await;
            continue;
        };
        if at_ns <= shared.now_ns() {
            if let Some(token) = shared.timers.borrow_mut().remove(&(at_ns, seq)) {
                shared.push(Incoming::Timer { token });
            }
            continue;
        }
        // Until it is due, or an earlier timer is set.
        let due = shared.started + Duration::from_nanos(at_ns);
        let _ = tokio::time::timeout_at(due, shared.timer_set.notified()).await;
    }
}

/// Runs each fsync the group commit begins on tokio's blocking pool (the process goes
/// on meanwhile); its completion releases the sends it covers.
async fn fsyncs<M, R>(shared: Rc<Shared<M, R>>) {
    loop {
        shared.fsync_begun.notified().await;
        while let Some(file) = shared.disk().and_then(|mut disk| disk.to_sync.take()) {
            let synced = tokio::task::spawn_blocking(move || file.sync_data())
                .await
                .map_err(|err| io::Error::other(err.to_string()))
                .and_then(|synced| synced);
            shared.fsync_done(synced);
        }
    }
}

struct Inbox<M> {
    queue: VecDeque<Incoming<M>>,
    waker: Option<Waker>,
}

/// A live node's state, shared by its [`Ctx`] handles and its tasks.
pub(super) struct Shared<M, R> {
    incarnation: u32,
    started: Instant,
    rng: RefCell<ChaCha8Rng>,
    inbox: RefCell<Inbox<M>>,
    next_sleep: Cell<u64>,
    /// Timers set and not yet fired: (when, order set) to token.
    timers: RefCell<BTreeMap<(Nanos, u64), u64>>,
    next_timer: Cell<u64>,
    timer_set: Notify,
    socket: Rc<UdpSocket>,
    peers: BTreeMap<NodeId, SocketAddr>,
    encode: fn(&M) -> Option<Vec<u8>>,
    disk: Option<RefCell<LiveDisk>>,
    commit: RefCell<GroupCommit<M, ()>>,
    fsync_begun: Notify,
    sink: RefCell<Sink<R>>,
    stats: RefCell<LiveStats>,
}

// What `Ctx` calls is kept out of line (`inline(never)`), so that each `Ctx` method's
// simulator path stays small enough to inline when the feature is on.
impl<M, R> Shared<M, R> {
    #[inline(never)]
    pub(super) fn incarnation(&self) -> u32 {
        self.incarnation
    }

    #[inline(never)]
    pub(super) fn now_ns(&self) -> Nanos {
        self.started.elapsed().as_nanos() as Nanos
    }

    #[inline(never)]
    pub(super) fn clock_ns(&self) -> Nanos {
        // The node's clock is the system's: that is what this backend is for.
        #[allow(clippy::disallowed_methods)]
        let now = std::time::SystemTime::now();
        now.duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos() as Nanos)
    }

    #[inline(never)]
    pub(super) fn rng(&self) -> RefMut<'_, ChaCha8Rng> {
        self.rng.borrow_mut()
    }

    #[inline(never)]
    pub(super) fn send(&self, to: NodeId, msg: M) {
        let mut commit = self.commit.borrow_mut();
        commit.send(to, msg, |to, msg| self.transmit(to, &msg));
    }

    /// Sends one datagram now; a failure is a lost message, counted.
    fn transmit(&self, to: NodeId, msg: &M) {
        let sent = self.peers.get(&to).and_then(|addr| {
            let bytes = (self.encode)(msg).filter(|b| b.len() <= MAX_DATAGRAM_BYTES)?;
            // Non-blocking: a full socket buffer loses the datagram, as a network would.
            self.socket.try_send_to(&bytes, *addr).ok()
        });
        let mut stats = self.stats.borrow_mut();
        match sent {
            Some(_) => stats.sent += 1,
            None => stats.send_failed += 1,
        }
    }

    #[inline(never)]
    pub(super) fn report(&self, report: R) {
        let now_ns = self.now_ns();
        (self.sink.borrow_mut())(now_ns, report);
    }

    #[inline(never)]
    pub(super) fn next_sleep_token(&self) -> u64 {
        let token = self.next_sleep.get();
        self.next_sleep.set(token + 1);
        token
    }

    #[inline(never)]
    pub(super) fn set_timer(&self, at_ns: Nanos, token: u64) {
        let seq = self.next_timer.get();
        self.next_timer.set(seq + 1);
        self.timers.borrow_mut().insert((at_ns, seq), token);
        self.timer_set.notify_one();
    }

    /// Puts `incoming` into the mailbox and wakes the process.
    fn push(&self, incoming: Incoming<M>) {
        let mut inbox = self.inbox.borrow_mut();
        if inbox.queue.len() >= MAILBOX_LIMIT {
            self.stats.borrow_mut().inbox_full += 1;
            return;
        }
        inbox.queue.push_back(incoming);
        if let Some(waker) = inbox.waker.take() {
            waker.wake();
        }
    }

    /// Polls the mailbox with `take` (what `recv` or `sleep_until` waits for).
    #[inline(never)]
    pub(super) fn poll_inbox<T>(
        &self,
        cx: &mut Context<'_>,
        take: impl FnOnce(&mut VecDeque<Incoming<M>>) -> Option<T>,
    ) -> Poll<T> {
        let mut inbox = self.inbox.borrow_mut();
        match take(&mut inbox.queue) {
            Some(taken) => Poll::Ready(taken),
            None => {
                inbox.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    #[inline(never)]
    pub(super) fn disk(&self) -> Option<RefMut<'_, LiveDisk>> {
        self.disk.as_ref().map(RefCell::borrow_mut)
    }

    #[inline(never)]
    pub(super) fn barrier(&self, file: &str) -> Result<(), DiskError> {
        let Some(disk) = self.disk.as_ref() else {
            return Err(DiskError::Config("this node has no disk".to_owned()));
        };
        let mut disk = disk.borrow_mut();
        let began = self
            .commit
            .borrow_mut()
            .barrier_with(&mut *disk, file, self.now_ns())?;
        if began.is_some() {
            self.fsync_begun.notify_one();
        }
        Ok(())
    }

    fn fsync_done(&self, synced: io::Result<()>) {
        let Some(disk) = self.disk.as_ref() else {
            return;
        };
        let mut disk = disk.borrow_mut();
        let mut commit = self.commit.borrow_mut();
        if synced.is_err() {
            // Nothing covers the held sends: they never leave (as in the simulator).
            commit.clear();
            self.stats.borrow_mut().fsync_failures += 1;
            return;
        }
        self.stats.borrow_mut().fsyncs += 1;
        let next =
            commit.complete_with(&mut *disk, self.now_ns(), |to, msg| self.transmit(to, &msg));
        match next {
            // The next fsync is in `to_sync`, for the loop in `fsyncs`.
            Ok(Some(())) | Ok(None) => {}
            Err(_) => self.stats.borrow_mut().fsync_failures += 1,
        }
    }
}

/// A node's disk: a directory of files.
pub struct LiveDisk {
    dir: PathBuf,
    files: BTreeMap<String, File>,
    /// The handle the fsync just begun syncs (taken by the node's fsync task).
    to_sync: Option<File>,
}

impl LiveDisk {
    fn new(dir: PathBuf) -> Self {
        LiveDisk {
            dir,
            files: BTreeMap::new(),
            to_sync: None,
        }
    }

    /// The path of file `name`, if the name is one (a plain name in the directory).
    fn path(&self, name: &str) -> Result<PathBuf, DiskError> {
        let bad = name.is_empty()
            || name.len() > MAX_NAME_BYTES
            || name == "."
            || name == ".."
            || name.contains(['/', '\\', '\0']);
        if bad {
            return Err(DiskError::BadName {
                len_bytes: name.len(),
                limit_bytes: MAX_NAME_BYTES,
            });
        }
        Ok(self.dir.join(name))
    }

    /// The open file `name`; created (and its directory entry made durable) only if
    /// `create`.
    fn open(&mut self, name: &str, create: bool) -> Result<&File, DiskError> {
        if !self.files.contains_key(name) {
            let path = self.path(name)?;
            let existed = path.exists();
            let file = OpenOptions::new()
                .read(true)
                .append(true)
                .create(create)
                .open(&path)
                .map_err(|err| io_error(name, "open", err))?;
            if !existed {
                sync_dir(&self.dir).map_err(|err| io_error(name, "sync the directory of", err))?;
            }
            self.files.insert(name.to_owned(), file);
        }
        Ok(&self.files[name])
    }

    pub(super) fn len(&self, name: &str) -> Result<u64, DiskError> {
        let meta = match self.files.get(name) {
            Some(file) => file.metadata(),
            None => fs::metadata(self.path(name)?),
        };
        meta.map(|meta| meta.len())
            .map_err(|err| io_error(name, "stat", err))
    }

    pub(super) fn read(
        &mut self,
        name: &str,
        offset: u64,
        len_bytes: u64,
    ) -> Result<Vec<u8>, DiskError> {
        let file_len_bytes = self.len(name)?;
        let out_of_range = || DiskError::OutOfRange {
            file: name.to_owned(),
            offset,
            len_bytes,
            file_len_bytes,
        };
        let end = offset.checked_add(len_bytes).ok_or_else(out_of_range)?;
        if end > file_len_bytes {
            return Err(out_of_range());
        }
        let mut bytes = vec![0; len_bytes as usize];
        self.open(name, false)?
            .read_exact_at(&mut bytes, offset)
            .map_err(|err| io_error(name, "read", err))?;
        Ok(bytes)
    }

    pub(super) fn append(&mut self, name: &str, bytes: &[u8]) -> Result<u64, DiskError> {
        let offset = self.len(name).or_else(|err| match err {
            DiskError::NotFound { .. } => Ok(0),
            err => Err(err),
        })?;
        let mut file = self.open(name, true)?;
        file.write_all(bytes)
            .map_err(|err| io_error(name, "append to", err))?;
        Ok(offset)
    }

    pub(super) fn truncate(&mut self, name: &str, len_bytes: u64) -> Result<(), DiskError> {
        let file_len_bytes = self.len(name)?;
        if len_bytes > file_len_bytes {
            return Err(DiskError::TruncateBeyondEnd {
                file: name.to_owned(),
                len_bytes,
                file_len_bytes,
            });
        }
        self.open(name, false)?
            .set_len(len_bytes)
            .map_err(|err| io_error(name, "truncate", err))
    }

    pub(super) fn remove(&mut self, name: &str) -> Result<(), DiskError> {
        self.open(name, false)?;
        self.files.remove(name);
        fs::remove_file(self.dir.join(name)).map_err(|err| io_error(name, "remove", err))?;
        sync_dir(&self.dir).map_err(|err| io_error(name, "sync the directory of", err))
    }
}

impl Fsync for LiveDisk {
    /// The handle to sync waits in `to_sync`, for the node to run.
    type Ticket = ();

    fn begin_fsync(&mut self, file: &str, _now_ns: Nanos) -> Result<(), DiskError> {
        let handle = self
            .open(file, false)?
            .try_clone()
            .map_err(|err| io_error(file, "fsync", err))?;
        self.to_sync = Some(handle);
        Ok(())
    }

    fn complete_fsync(&mut self, _ticket: (), _now_ns: Nanos) -> Result<(), DiskError> {
        // The node calls this once `sync_data` has returned Ok.
        Ok(())
    }
}

fn io_error(file: &str, op: &'static str, err: io::Error) -> DiskError {
    if err.kind() == io::ErrorKind::NotFound {
        return DiskError::NotFound {
            file: file.to_owned(),
        };
    }
    DiskError::Io {
        file: file.to_owned(),
        op,
        message: err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    /// A socket on loopback, port chosen by the system.
    fn socket() -> std::net::UdpSocket {
        std::net::UdpSocket::bind("127.0.0.1:0").expect("a loopback port")
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("faultline-live-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn clock_time_and_randomness_are_real() {
        // 2024-01-01 in ns since the epoch: a simulated clock starts at 0.
        const JAN_2024_NS: u64 = 1_704_067_200_000_000_000;
        let draws = Rc::new(RefCell::new(Vec::new()));
        for _ in 0..2 {
            let draws = Rc::clone(&draws);
            LiveNode::<()>::new(0, socket(), BTreeMap::new())
                .run(move |ctx: Ctx<(), ()>| async move {
                    let (clock_ns, now_ns) = (ctx.clock(), ctx.now());
                    ctx.sleep_until(now_ns + 20_000_000).await;
                    let waited_ns = ctx.now() - now_ns;
                    let draw: u64 = ctx.rng().gen();
                    draws
                        .borrow_mut()
                        .push((clock_ns, ctx.clock() - clock_ns, waited_ns, draw));
                })
                .expect("the node runs");
        }
        let draws = draws.borrow();
        for &(clock_ns, clock_advance_ns, waited_ns, _) in draws.iter() {
            assert!(
                clock_ns > JAN_2024_NS,
                "clock {clock_ns} is not the system's"
            );
            assert!(waited_ns >= 20_000_000, "slept {waited_ns} ns of 20 ms");
            assert!(
                clock_advance_ns >= 15_000_000,
                "the clock moved {clock_advance_ns} ns"
            );
        }
        assert_ne!(
            draws[0].3, draws[1].3,
            "two nodes drew the same: not seeded from the OS"
        );
    }

    #[test]
    fn timers_fire_in_time_order_and_sleeps_do_not_take_them() {
        let fired = Rc::new(RefCell::new(Vec::new()));
        let seen = Rc::clone(&fired);
        LiveNode::<()>::new(0, socket(), BTreeMap::new())
            .run(move |ctx: Ctx<(), ()>| async move {
                let start = ctx.now();
                ctx.set_timer(start + 30_000_000, 3);
                ctx.set_timer(start + 10_000_000, 1);
                ctx.set_timer(start + 20_000_000, 2);
                ctx.sleep_until(start + 5_000_000).await;
                for _ in 0..3 {
                    if let Incoming::Timer { token } = ctx.recv().await {
                        seen.borrow_mut().push((token, ctx.now() - start));
                    }
                }
            })
            .expect("the node runs");
        let fired = fired.borrow();
        assert_eq!(
            fired.iter().map(|&(token, _)| token).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        for &(token, at_ns) in fired.iter() {
            assert!(
                at_ns >= token * 10_000_000,
                "timer {token} fired at {at_ns} ns"
            );
        }
    }

    #[test]
    fn a_send_after_a_barrier_leaves_once_the_log_is_synced() {
        let dir = temp_dir("barrier");
        let socket = socket();
        let peers = BTreeMap::from([(0, socket.local_addr().expect("bound"))]);
        let got = Rc::new(RefCell::new(None));
        let seen = Rc::clone(&got);
        let stats = LiveNode::<()>::new(0, socket, peers)
            .data_dir(&dir)
            .run(move |ctx: Ctx<u64, ()>| async move {
                let mut wal = ctx.file("wal").expect("a disk");
                assert!(matches!(wal.len(), Err(DiskError::NotFound { .. })));
                assert_eq!(wal.append(b"record").expect("append"), 0);
                drop(wal);
                ctx.barrier("wal").expect("an fsync begins");
                // To itself: it leaves only once the fsync has completed.
                ctx.send(0, 7);
                let shared = ctx.live_shared();
                assert_eq!(
                    shared.commit.borrow().held(),
                    1,
                    "not held behind the fsync"
                );
                assert_eq!(shared.stats.borrow().sent, 0, "left before the fsync");
                if let Incoming::Message { from, msg } = ctx.recv().await {
                    *seen.borrow_mut() = Some((from, msg));
                }
                let mut wal = ctx.file("wal").expect("a disk");
                assert_eq!(wal.read(0, 6).expect("read"), b"record");
                wal.truncate(3).expect("truncate");
                assert_eq!(wal.len().expect("len"), 3);
                assert!(matches!(wal.read(2, 5), Err(DiskError::OutOfRange { .. })));
                drop(wal);
                assert!(matches!(
                    ctx.file("../escape").expect("a disk").append(b"x"),
                    Err(DiskError::BadName { .. })
                ));
            })
            .expect("the node runs");
        assert_eq!(*got.borrow(), Some((0, 7)));
        assert_eq!((stats.fsyncs, stats.sent, stats.received), (1, 1, 1));
        assert_eq!(fs::read(dir.join("wal")).expect("the file"), b"rec");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_node_without_a_disk_refuses_a_barrier() {
        LiveNode::<()>::new(0, socket(), BTreeMap::new())
            .run(|ctx: Ctx<(), ()>| async move {
                assert!(ctx.file("wal").is_none());
                assert!(ctx.barrier("wal").is_err());
            })
            .expect("the node runs");
    }

    #[test]
    fn datagrams_from_strangers_or_that_do_not_decode_are_dropped_and_counted() {
        let node = socket();
        let known = socket();
        let stranger = socket();
        let to = node.local_addr().expect("bound");
        let peers = BTreeMap::from([(1, known.local_addr().expect("bound"))]);
        stranger.send_to(b"5", to).expect("sent");
        known.send_to(b"not json", to).expect("sent");
        known.send_to(b"5", to).expect("sent");
        let got = Rc::new(RefCell::new(None));
        let seen = Rc::clone(&got);
        let stats = LiveNode::<()>::new(0, node, peers)
            .stop_after(Duration::from_secs(5))
            .run(move |ctx: Ctx<u64, ()>| async move {
                if let Incoming::Message { from, msg } = ctx.recv().await {
                    *seen.borrow_mut() = Some((from, msg));
                }
            })
            .expect("the node runs");
        assert_eq!(*got.borrow(), Some((1, 5)));
        assert_eq!((stats.unknown_source, stats.undecodable), (1, 1));
    }

    #[test]
    fn reports_reach_the_sink_and_the_incarnation_counts_boots() {
        let dir = temp_dir("incarnation");
        assert_eq!(next_incarnation(&dir).expect("first"), 0);
        assert_eq!(next_incarnation(&dir).expect("second"), 1);
        fs::write(dir.join(INCARNATION_FILE), "many").expect("write");
        let err = next_incarnation(&dir).expect_err("not a number");
        assert!(
            err.to_string().contains("not an incarnation count"),
            "{err}"
        );
        let reports = Rc::new(RefCell::new(Vec::new()));
        let sink = Rc::clone(&reports);
        LiveNode::new(2, socket(), BTreeMap::new())
            .incarnation(4)
            .report_to(move |_now_ns, report| sink.borrow_mut().push(report))
            .run(|ctx: Ctx<(), (u32, u32)>| async move {
                ctx.report((ctx.node(), ctx.incarnation()));
            })
            .expect("the node runs");
        assert_eq!(*reports.borrow(), [(2, 4)]);
        let _ = fs::remove_dir_all(&dir);
    }
}
