//! The account process: `async fn main(ctx)` around an [`Account`], the init task of
//! its madsim node. Its state lives in this future, so a crash drops it and a restart
//! runs `main` again, which rebuilds the account from the write-ahead log on its disk.

use std::sync::Arc;

use faultline_models::wal;

use super::account::{
    Account, AccountConfig, Action, BankMsg, BankReport, CheckpointWrite, Checkpointed, Input,
    Log, Output,
};
use crate::engine::disk::DiskError;
use crate::engine::nodes::NodeId;
use crate::engine::process::{Ctx, Incoming, Init};
use crate::engine::service::main_task;

/// The account's log file.
pub const WAL_FILE: &str = "wal";

/// The account's checkpoint files: generation `g` goes to `CHECKPOINT_FILES[g % 2]`,
/// so the previous checkpoint stays whole while the next is written.
pub const CHECKPOINT_FILES: [&str; 2] = ["ckpt-0", "ckpt-1"];

/// How a restart reads a damaged log again ([`wal::Rereads`]): a second read at once
/// (a torn tail reads the same twice and is cut without delay), then waits of 100 ms
/// doubling to 2 s, 10 reads in all (9.1 s of waiting), before the account fail-stops.
/// Long enough to outlast a read path that corrupts for a few seconds, short against
/// a run.
pub const REREADS: wal::RereadPolicy = wal::RereadPolicy {
    max_reads: 10,
    first_wait_ns: 100_000_000,
    max_wait_ns: 2_000_000_000,
};

/// What a process of the bank talks with.
pub type BankCtx = Ctx<BankMsg, BankReport>;

/// The init task of account `node`.
pub fn init(config: Arc<AccountConfig>, node: NodeId) -> Init {
    // Only a halted account's main returns.
    main_task(node, move |ctx: BankCtx| {
        let config = Arc::clone(&config);
        async move { main(&ctx, &config, node).await }
    })
}

/// What the host hands a process, as the account takes it (the direct driver's too).
impl From<Incoming<BankMsg>> for Input {
    fn from(incoming: Incoming<BankMsg>) -> Input {
        match incoming {
            Incoming::Message { from, msg } => Input::Message { from, msg },
            Incoming::Timer { token } => Input::Timer(token),
        }
    }
}

/// The log on this node's disk.
struct DiskLog<'a>(&'a BankCtx);

impl Log for DiskLog<'_> {
    fn append(&mut self, record: &[u8]) -> Result<(), String> {
        let Some(mut wal) = self.0.file(WAL_FILE) else {
            return Err("no disk".to_owned());
        };
        wal.append(record)
            .map(|_| ())
            .map_err(|err| err.to_string())
    }
}

/// The log's bytes as they can be trusted ([`wal::Rereads`]): a clean read, or a torn
/// tail two reads agree on. Damage that reads differently each time (in transit) is
/// read again after a wait. `Err` (fail-stop) for damage that persists with a valid
/// record after it (corruption: cutting would lose durable records) or that never
/// settles: the log may be intact on disk, so nothing may be cut, and the account
/// cannot start without it.
async fn read_log(ctx: &BankCtx, file: &str) -> Result<Vec<u8>, String> {
    let mut rereads = wal::Rereads::new(REREADS);
    loop {
        let bytes = {
            let Some(mut wal) = ctx.file(file) else {
                return Ok(Vec::new());
            };
            let len = match wal.len() {
                Ok(len) => len,
                Err(DiskError::NotFound { .. }) => return Ok(Vec::new()),
                Err(err) => return Err(format!("the log cannot be read: {err}")),
            };
            wal.read(0, len)
                .map_err(|err| format!("the log cannot be read: {err}"))?
        };
        match rereads.read(bytes) {
            wal::Verdict::Replay(bytes) => return Ok(bytes),
            wal::Verdict::ReadAgain { after_ns: 0 } => {}
            wal::Verdict::ReadAgain { after_ns } => {
                ctx.sleep_until(ctx.now().saturating_add(after_ns)).await;
            }
            wal::Verdict::FailStop(stop) => return Err(format!("log at recovery: {stop}")),
        }
    }
}

async fn main(ctx: &BankCtx, config: &AccountConfig, node: NodeId) {
    // The engine's boot message names this incarnation's vector-clock entry.
    let slot = loop {
        if let Incoming::Message {
            msg: BankMsg::Boot { slot },
            ..
        } = ctx.recv().await
        {
            break slot;
        }
    };
    let mut files = Vec::new();
    let names = if config.checkpoints.is_some() {
        &[WAL_FILE, CHECKPOINT_FILES[0], CHECKPOINT_FILES[1]][..]
    } else {
        &[WAL_FILE][..]
    };
    if config.wal {
        for name in names {
            match read_log(ctx, name).await {
                Ok(bytes) => files.push(bytes),
                Err(reason) => {
                    // Fail-stop: cutting a log that may be intact would lose
                    // acknowledged work, and starting without it would too.
                    ctx.report(BankReport::Halted(reason));
                    return;
                }
            }
        }
    }
    let bytes = files.first().cloned().unwrap_or_default();
    let checkpoints: Vec<&[u8]> = files.iter().skip(1).map(Vec::as_slice).collect();
    let (mut account, recovery) =
        match Account::recover_from(config.clone(), node, slot, &bytes, &checkpoints) {
            Ok(recovered) => recovered,
            Err(reason) => {
                ctx.report(BankReport::Halted(format!("at recovery: {reason}")));
                return;
            }
        };
    if recovery.cut_bytes > 0 {
        if let Some(mut wal) = ctx.file(WAL_FILE) {
            // A torn tail goes (read_log let no other damage through): later records
            // must follow the good ones.
            let _ = wal.truncate(recovery.valid_bytes);
        }
    }
    if let Some(header) = account.take_log_restart() {
        // The checkpoint loaded holds the whole log on disk: the log starts again.
        if !cut_log(ctx).await {
            ctx.report(BankReport::Halted(
                "at recovery: the log could not be cut after its checkpoint".to_owned(),
            ));
            return;
        }
        if let Some(mut disk) = ctx.sim_disk() {
            let _ = disk.disk.append(WAL_FILE, &header);
        }
    }
    ctx.report(BankReport::Recovered(recovery));
    // Reused for every input.
    let mut out = Output::default();
    account.start(ctx.clock(), &mut *ctx.rng(), &mut out);
    if !execute(ctx, &mut account, &mut out).await {
        return;
    }
    loop {
        let input = Input::from(ctx.recv().await);
        let pt_ns = ctx.clock();
        account.handle(input, pt_ns, &mut *ctx.rng(), &mut DiskLog(ctx), &mut out);
        if !execute(ctx, &mut account, &mut out).await {
            return;
        }
    }
}

/// Cuts the log to nothing and waits until the cut is synced. Appending at once would
/// let a torn crash lay the new records over the old log's durable bytes, where an old
/// record past them would read as one of the new generation's.
async fn cut_log(ctx: &BankCtx) -> bool {
    let ticket = {
        let Some(mut disk) = ctx.sim_disk() else {
            return false;
        };
        let disk = &mut *disk;
        let now_ns = ctx.now();
        if disk.disk.truncate(WAL_FILE, 0).is_err() {
            return false;
        }
        match disk.disk.begin_fsync(WAL_FILE, now_ns, &mut disk.rng) {
            Ok(ticket) => ticket,
            Err(_) => return false,
        }
    };
    ctx.sleep_until(ticket.done_at_ns).await;
    let Some(mut disk) = ctx.sim_disk() else {
        return false;
    };
    disk.disk.complete_fsync(ticket, ctx.now()).is_ok()
}

/// Writes a checkpoint (see [`CheckpointWrite`]): into the older checkpoint file, then
/// a stall of its cost and until its fsync completes, then the log starts again with
/// the new generation's header. The account takes no input meanwhile. A checkpoint
/// the disk refuses is skipped (the log is kept whole); a crash meanwhile ends this
/// process, and recovery finds the previous checkpoint and the log it kept.
async fn write_checkpoint(ctx: &BankCtx, account: &mut Account, write: CheckpointWrite) {
    let file = CHECKPOINT_FILES[write.generation as usize % 2];
    let began_ns = ctx.now();
    let ticket = {
        let Some(mut disk) = ctx.sim_disk() else {
            return;
        };
        let disk = &mut *disk;
        let written = disk
            .disk
            .truncate(file, 0)
            .or_else(|err| match err {
                DiskError::NotFound { .. } => Ok(()),
                err => Err(err),
            })
            .and_then(|()| disk.disk.append(file, &write.bytes));
        if written.is_err() {
            return;
        }
        match disk.disk.begin_fsync(file, began_ns, &mut disk.rng) {
            Ok(ticket) => ticket,
            Err(_) => return,
        }
    };
    let until_ns = ticket
        .done_at_ns
        .max(began_ns.saturating_add(write.cost_ns));
    ctx.sleep_until(until_ns).await;
    {
        let Some(mut disk) = ctx.sim_disk() else {
            return;
        };
        if disk.disk.complete_fsync(ticket, ctx.now()).is_err() {
            return;
        }
    }
    if !cut_log(ctx).await {
        return;
    }
    {
        let Some(mut disk) = ctx.sim_disk() else {
            return;
        };
        if disk.disk.append(WAL_FILE, &write.header).is_err() {
            return;
        }
    }
    account.checkpoint_written(write.generation, write.header.len() as u64);
    ctx.report(BankReport::Checkpointed(Checkpointed {
        generation: write.generation,
        bytes: write.bytes.len() as u64,
        records_covered: write.records_covered,
        stall_ns: ctx.now().saturating_sub(began_ns),
    }));
}

/// Carries out what the account asked for; false once the account halts. The reports
/// go first (see [`Output`]). An fsync is a barrier (group commit): the sends after it
/// leave once the log is durable, while the account goes on taking input. Empties
/// `out`.
async fn execute(ctx: &BankCtx, account: &mut Account, out: &mut Output) -> bool {
    for report in out.reports.drain(..) {
        ctx.report(report);
    }
    // Taken out while a checkpoint may stall, and put back to keep its capacity.
    let mut actions = std::mem::take(&mut out.actions);
    for action in actions.drain(..) {
        match action {
            Action::Fsync => {
                if let Err(err) = ctx.barrier(WAL_FILE) {
                    ctx.report(BankReport::Halted(format!("fsync failed: {err}")));
                    return false;
                }
            }
            Action::Send { to, msg } => ctx.send(to, msg),
            Action::Timer { token, after_ns } => {
                // The delay is on the node's clock; its drift (parts per million) is
                // not worth converting for a timer.
                ctx.set_timer(ctx.now().saturating_add(after_ns), token);
            }
            Action::Halt => return false,
            Action::Checkpoint(write) => write_checkpoint(ctx, account, write).await,
        }
    }
    out.actions = actions;
    true
}
