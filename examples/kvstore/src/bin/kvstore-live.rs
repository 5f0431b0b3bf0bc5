//! `kvstore-live`: the store's code, unchanged, on the `live` backend of `Ctx`.
//!
//! Three replicas, each its own OS process (this binary again, with `replica`), and a
//! client in this process, all on 127.0.0.1. The primary's process is killed partway
//! and restarted on the same port and data directory: it replays its log and serves
//! again. The client reports every operation; at the end the whole history goes
//! through the `linearizable` checker (operations in flight at the kill stay open).
//!
//! ```text
//! kvstore-live [--seconds S] [--dir DIR] [--quiet] [--json] [--wipe-on-restart]
//! kvstore-live replica --node N --dir DIR [--port P] [--max-seconds S]
//! ```
//!
//! `--wipe-on-restart` deletes the primary's log before it restarts (a lost disk): the
//! recovery checks then fail, which shows they can. Exit code 0 when every check
//! holds, 1 when one fails, 2 for bad arguments, 3 when the run could not be done.
//!
//! Threads and the wall clock are this program's, never a simulation's: the
//! supervisor (kills and restarts) and the watchdog run beside the client, and all
//! read one monotonic clock. Every child is killed on every way out (a guard's
//! `Drop`, the watchdog), and a replica also exits when its stdin closes (its parent
//! is gone) or after `--max-seconds`: no orphans.
#![forbid(unsafe_code)]
// This program runs real processes in real time: the simulator's guards do not apply.
#![allow(clippy::disallowed_methods)]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitCode, Stdio};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use faultline::engine::live::{next_incarnation, LiveNode};
use faultline::engine::nodes::NodeId;
use faultline::workload::history::{HistoryLog, OpReport, Operation};
use faultline_kvstore::live::{assess, format_peers, parse_peers, Recovery};
use faultline_kvstore::store::{self, Report, StoreConfig, PRIMARY, REPLICAS, WAL};

/// The client's node id.
const CLIENT: NodeId = REPLICAS;
/// Longest run accepted, seconds.
const MAX_SECONDS: f64 = 600.0;

fn store_config() -> StoreConfig {
    StoreConfig {
        keys: 8,
        think_ns: 5_000_000,
        timeout_ns: 100_000_000,
        write_fraction: 0.5,
        ack_before_durable: false,
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = if args.first().map(String::as_str) == Some("replica") {
        replica(&args[1..])
    } else {
        parent(&args)
    };
    match result {
        Ok(code) => code,
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            eprintln!(
                "usage: kvstore-live [--seconds S] [--dir DIR] [--quiet] [--json] [--wipe-on-restart]"
            );
            ExitCode::from(2)
        }
        Err(Failure::Run(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(3)
        }
    }
}

enum Failure {
    Usage(String),
    Run(String),
}

fn run_err(what: impl std::fmt::Display) -> Failure {
    Failure::Run(what.to_string())
}

/// `--name value` pairs and `--flag`s.
struct Args {
    values: BTreeMap<String, String>,
    flags: Vec<String>,
}

impl Args {
    fn parse(args: &[String], with_value: &[&str], flags: &[&str]) -> Result<Args, Failure> {
        let mut parsed = Args {
            values: BTreeMap::new(),
            flags: Vec::new(),
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let Some(name) = arg.strip_prefix("--") else {
                return Err(Failure::Usage(format!("unknown argument {arg:?}")));
            };
            if with_value.contains(&name) {
                let value = args
                    .next()
                    .ok_or_else(|| Failure::Usage(format!("{arg} needs a value")))?;
                parsed.values.insert(name.to_owned(), value.clone());
            } else if flags.contains(&name) {
                parsed.flags.push(name.to_owned());
            } else {
                return Err(Failure::Usage(format!("unknown argument {arg:?}")));
            }
        }
        Ok(parsed)
    }

    fn number<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, Failure>
    where
        T::Err: std::fmt::Display,
    {
        match self.values.get(name) {
            None => Ok(default),
            Some(text) => text
                .parse()
                .map_err(|err| Failure::Usage(format!("--{name} {text:?}: {err}"))),
        }
    }

    fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|flag| flag == name)
    }
}

// ---- a replica process ----

/// Binds, prints its port, reads the peer table from stdin, then runs the replica
/// until killed, until stdin closes, or for `--max-seconds`.
fn replica(args: &[String]) -> Result<ExitCode, Failure> {
    let args = Args::parse(args, &["node", "dir", "port", "max-seconds"], &[])?;
    let node: NodeId = args.number("node", u32::MAX)?;
    if node >= REPLICAS {
        return Err(Failure::Usage(format!(
            "--node: a replica is 0..{REPLICAS}"
        )));
    }
    let dir = PathBuf::from(
        args.values
            .get("dir")
            .ok_or_else(|| Failure::Usage("--dir is required".to_owned()))?,
    );
    let port: u16 = args.number("port", 0)?;
    let max_seconds: f64 = args.number("max-seconds", 60.0)?;
    if !(0.0..=MAX_SECONDS).contains(&max_seconds) {
        return Err(Failure::Usage(format!(
            "--max-seconds {max_seconds}: 0 to {MAX_SECONDS}"
        )));
    }
    let socket = UdpSocket::bind(("127.0.0.1", port)).map_err(run_err)?;
    let port = socket.local_addr().map_err(run_err)?.port();
    println!("port {port}");
    let mut stdin = std::io::stdin().lock();
    let mut line = String::new();
    stdin.read_line(&mut line).map_err(run_err)?;
    let peers = parse_peers(line.trim()).map_err(Failure::Usage)?;
    drop(stdin);
    // The parent is gone when stdin closes: go too.
    std::thread::spawn(|| {
        let mut rest = String::new();
        while std::io::stdin()
            .read_line(&mut rest)
            .is_ok_and(|read| read > 0)
        {
            rest.clear();
        }
        std::process::exit(0);
    });
    let incarnation = next_incarnation(&dir).map_err(run_err)?;
    let config = store_config();
    LiveNode::new(node, socket, peers)
        .data_dir(&dir)
        .incarnation(incarnation)
        .report_to(|_now_ns, report: Report| {
            if let Report::Recovered { records } = report {
                println!("recovered {records}");
            }
        })
        .stop_after(Duration::from_secs_f64(max_seconds))
        .run(move |ctx| store::replica(ctx, config))
        .map_err(run_err)?;
    Ok(ExitCode::SUCCESS)
}

// ---- the parent: replicas, client, kill and restart ----

/// The replica processes; every one left is killed when this goes.
#[derive(Default)]
struct Children(Vec<Option<Child>>);

impl Children {
    fn kill(&mut self, node: NodeId) {
        if let Some(mut child) = self.0.get_mut(node as usize).and_then(Option::take) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn kill_all(&mut self) {
        for node in 0..self.0.len() {
            self.kill(node as NodeId);
        }
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        self.kill_all();
    }
}

/// A replica just started: its stdin (for the peer table; its closing stops the
/// replica) and its stdout's lines.
struct Started {
    port: u16,
    stdin: ChildStdin,
    lines: std::io::Lines<BufReader<ChildStdout>>,
}

fn start_replica(
    children: &Mutex<Children>,
    node: NodeId,
    dir: &Path,
    port: u16,
    max_seconds: f64,
) -> Result<Started, Failure> {
    let exe = std::env::current_exe().map_err(run_err)?;
    let mut child = Command::new(exe)
        .args([
            "replica",
            "--node",
            &node.to_string(),
            "--port",
            &port.to_string(),
        ])
        .arg("--dir")
        .arg(dir.join(format!("replica-{node}")))
        .args(["--max-seconds", &format!("{max_seconds}")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|err| run_err(format!("cannot start replica {node}: {err}")))?;
    let stdin = child.stdin.take().expect("piped");
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    {
        let mut children = children.lock().expect("no panic holds the lock");
        let slot = node as usize;
        if children.0.len() <= slot {
            children.0.resize_with(slot + 1, || None);
        }
        children.0[slot] = Some(child);
    }
    let first = lines
        .next()
        .transpose()
        .map_err(run_err)?
        .ok_or_else(|| run_err(format!("replica {node} ended before it bound its port")))?;
    let port = first
        .strip_prefix("port ")
        .and_then(|port| port.parse().ok())
        .ok_or_else(|| run_err(format!("replica {node} said {first:?}, not its port")))?;
    Ok(Started { port, stdin, lines })
}

fn send_peers(started: &mut Started, peers: &BTreeMap<NodeId, SocketAddr>) -> Result<(), Failure> {
    writeln!(started.stdin, "{}", format_peers(peers)).map_err(run_err)
}

/// The next `recovered N` a replica prints.
fn recovered(started: &mut Started) -> Result<u64, Failure> {
    for line in started.lines.by_ref() {
        let line = line.map_err(run_err)?;
        if let Some(records) = line.strip_prefix("recovered ") {
            return records.parse().map_err(run_err);
        }
    }
    Err(run_err("the replica ended before it recovered"))
}

/// When the supervisor killed and restarted the primary, and what it replayed.
struct Restart {
    kill_ns: u64,
    restart_ns: u64,
    replayed: u64,
    /// Keeps the restarted primary's stdin open (its closing would stop it).
    _stdin: ChildStdin,
}

fn parent(args: &[String]) -> Result<ExitCode, Failure> {
    let args = Args::parse(
        args,
        &["seconds", "dir"],
        &["quiet", "json", "wipe-on-restart"],
    )?;
    let seconds: f64 = args.number("seconds", 6.0)?;
    if !(1.0..=MAX_SECONDS).contains(&seconds) {
        return Err(Failure::Usage(format!(
            "--seconds {seconds}: 1 to {MAX_SECONDS}"
        )));
    }
    let quiet = args.flag("quiet") || args.flag("json");
    let wipe = args.flag("wipe-on-restart");
    let (dir, made_dir) = match args.values.get("dir") {
        Some(dir) => (PathBuf::from(dir), false),
        None => (
            std::env::temp_dir().join(format!("kvstore-live-{}", std::process::id())),
            true,
        ),
    };
    if made_dir {
        let _ = std::fs::remove_dir_all(&dir);
    }
    std::fs::create_dir_all(&dir).map_err(|err| run_err(format!("{}: {err}", dir.display())))?;
    let kill_at = Duration::from_secs_f64(seconds * 0.35);
    let restart_at = Duration::from_secs_f64(seconds * 0.55);
    // A replica outlives no run by much, whatever happens to this process.
    let max_seconds = seconds + 10.0;

    let children = Arc::new(Mutex::new(Children::default()));
    // The watchdog: past the run and a margin, every child goes and so does this process.
    {
        let children = Arc::clone(&children);
        let deadline = Duration::from_secs_f64(seconds + 20.0);
        std::thread::spawn(move || {
            std::thread::sleep(deadline);
            if let Ok(mut children) = children.lock() {
                children.kill_all();
            }
            eprintln!("error: the run did not end within {deadline:?}; every replica was killed");
            std::process::exit(3);
        });
    }

    let client_socket = UdpSocket::bind(("127.0.0.1", 0)).map_err(run_err)?;
    let mut peers: BTreeMap<NodeId, SocketAddr> = BTreeMap::new();
    peers.insert(CLIENT, client_socket.local_addr().map_err(run_err)?);
    let mut started = Vec::new();
    for node in 0..REPLICAS {
        let replica = start_replica(&children, node, &dir, 0, max_seconds)?;
        peers.insert(node, SocketAddr::from(([127, 0, 0, 1], replica.port)));
        started.push(replica);
    }
    for replica in &mut started {
        send_peers(replica, &peers)?;
    }
    let primary_port = started[PRIMARY as usize].port;
    if !quiet {
        println!(
            "replicas on 127.0.0.1 ports {}, client on {}; data in {}",
            started
                .iter()
                .map(|replica| replica.port.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            peers[&CLIENT].port(),
            dir.display()
        );
    }

    let t0 = Instant::now();
    let supervisor = {
        let children = Arc::clone(&children);
        let dir = dir.clone();
        let peers = peers.clone();
        let primary = started.remove(PRIMARY as usize);
        std::thread::spawn(move || -> Result<Restart, Failure> {
            std::thread::sleep(kill_at.saturating_sub(t0.elapsed()));
            children.lock().map_err(|_| run_err("lock"))?.kill(PRIMARY);
            let kill_ns = t0.elapsed().as_nanos() as u64;
            drop(primary);
            if !quiet {
                println!(
                    "{:>8.3} s  killed replica-0 (the primary)",
                    kill_ns as f64 / 1e9
                );
            }
            if wipe {
                let _ = std::fs::remove_file(dir.join("replica-0").join(WAL));
            }
            std::thread::sleep(restart_at.saturating_sub(t0.elapsed()));
            let mut primary = start_replica(&children, PRIMARY, &dir, primary_port, max_seconds)?;
            send_peers(&mut primary, &peers)?;
            let restart_ns = t0.elapsed().as_nanos() as u64;
            let replayed = recovered(&mut primary)?;
            if !quiet {
                println!(
                    "{:>8.3} s  restarted replica-0: replayed {replayed} records from its log",
                    restart_ns as f64 / 1e9
                );
            }
            Ok(Restart {
                kill_ns,
                restart_ns,
                replayed,
                _stdin: primary.stdin,
            })
        })
    };

    // The client, in this process, on the same clock as the supervisor.
    let history = Rc::new(RefCell::new(HistoryLog::new()));
    let timeouts = Rc::new(RefCell::new(0u64));
    let config = store_config();
    let stats = {
        let history = Rc::clone(&history);
        let timeouts = Rc::clone(&timeouts);
        LiveNode::new(CLIENT, client_socket, peers.clone())
            .report_to(move |_now_ns, report: Report| {
                let at_ns = t0.elapsed().as_nanos() as u64;
                match report {
                    Report::Op(op) => {
                        if !quiet {
                            print_op(at_ns, &op);
                        }
                        history.borrow_mut().record(CLIENT, at_ns, op);
                    }
                    Report::TimedOut { req } => {
                        *timeouts.borrow_mut() += 1;
                        if !quiet {
                            println!("{:>8.3} s  request {req} timed out", at_ns as f64 / 1e9);
                        }
                    }
                    Report::Recovered { .. } => {}
                }
            })
            .stop_after(Duration::from_secs_f64(seconds).saturating_sub(t0.elapsed()))
            .run(move |ctx| store::client(ctx, config))
            .map_err(run_err)?
    };
    let restart = supervisor
        .join()
        .map_err(|_| run_err("the supervisor panicked"))??;
    children.lock().map_err(|_| run_err("lock"))?.kill_all();
    drop(restart._stdin);
    if made_dir {
        let _ = std::fs::remove_dir_all(&dir);
    }

    let ops: Vec<Operation> = history.borrow().operations().copied().collect();
    let recovery = assess(&ops, restart.kill_ns, restart.restart_ns, restart.replayed);
    let failures = recovery.failures();
    if args.flag("json") {
        let summary = serde_json::json!({
            "seconds": seconds,
            "kill_ns": restart.kill_ns,
            "restart_ns": restart.restart_ns,
            "replayed": restart.replayed,
            "timeouts": *timeouts.borrow(),
            "datagrams_sent": stats.sent,
            "datagrams_received": stats.received,
            "acked_before_kill": recovery.acked_before_kill,
            "acked_after_restart": recovery.acked_after_restart,
            "old_values_read_after_restart": recovery.old_values_read_after_restart,
            "linearizability": recovery.linearizability.verdict(),
            "failures": failures,
            "operations": ops,
        });
        println!("{summary}");
    } else {
        print_summary(&recovery, &failures, ops.len(), *timeouts.borrow());
    }
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_op(at_ns: u64, op: &OpReport) {
    let at = at_ns as f64 / 1e9;
    match op {
        OpReport::Invoke { op, key, kind } => println!("{at:>8.3} s  #{op} {kind:?} key {key}"),
        OpReport::Complete { op, outcome } => println!("{at:>8.3} s  #{op} -> {outcome:?}"),
    }
}

fn print_summary(recovery: &Recovery, failures: &[String], operations: usize, timeouts: u64) {
    println!();
    println!(
        "operations                        {operations} ({} open, {timeouts} timed out)",
        recovery.open
    );
    println!(
        "writes acknowledged before kill   {}",
        recovery.acked_before_kill
    );
    println!("records replayed after restart    {}", recovery.replayed);
    println!(
        "writes acknowledged after restart {}",
        recovery.acked_after_restart
    );
    println!(
        "reads after restart of old writes {}",
        recovery.old_values_read_after_restart
    );
    println!(
        "linearizable                      {}",
        recovery.linearizability.verdict()
    );
    if failures.is_empty() {
        println!("PASS  the primary recovered from its log and served again");
    } else {
        for failure in failures {
            println!("FAIL  {failure}");
        }
    }
}
