//! The account process: `async fn main(ctx)` around an [`Account`], the init task of
//! its madsim node. Its state lives in this future, so a crash drops it and a restart
//! runs `main` again, which rebuilds the account from the write-ahead log on its disk.

use std::sync::Arc;

use super::account::{Account, AccountConfig, Action, BankMsg, BankReport, Input, Log, Output};
use crate::engine::disk::DiskError;
use crate::engine::nodes::NodeId;
use crate::engine::process::{Ctx, Incoming, Init, ProcessTable};

/// The account's log file.
pub const WAL_FILE: &str = "wal";

/// Reads of a log whose checksum fails before recovery believes the failure (a read can
/// be corrupted in transit; the stored bytes are re-read).
pub const READ_ATTEMPTS: u32 = 3;

/// What a process of the bank talks with.
pub type BankCtx = Ctx<BankMsg, BankReport>;

/// The init task of account `node`.
pub fn init(config: Arc<AccountConfig>, node: NodeId) -> Init {
    Arc::new(move || {
        let config = Arc::clone(&config);
        Box::pin(async move {
            let ctx: BankCtx = ProcessTable::boot(node).await;
            main(&ctx, &config, node).await;
            // Only a halted account's main returns.
            ctx.exit();
        })
    })
}

/// The log on this node's disk.
struct DiskLog<'a>(&'a BankCtx);

impl Log for DiskLog<'_> {
    fn append(&mut self, record: &[u8]) -> Result<(), String> {
        let Some(mut disk) = self.0.disk() else {
            return Err("no disk".to_owned());
        };
        disk.disk
            .append(WAL_FILE, record)
            .map(|_| ())
            .map_err(|err| err.to_string())
    }
}

/// The log's bytes as they can be read back: on a checksum failure the file is read
/// again (up to [`READ_ATTEMPTS`] times) and the longest valid read wins. `Err` when
/// every read failed its checksum: the log may be intact on disk, so nothing may be
/// cut, and the account cannot start from it.
fn read_log(ctx: &BankCtx) -> Result<Vec<u8>, String> {
    let Some(mut disk) = ctx.disk() else {
        return Ok(Vec::new());
    };
    let disk = &mut *disk;
    let len = match disk.disk.len(WAL_FILE) {
        Ok(len) => len,
        Err(DiskError::NotFound { .. }) => return Ok(Vec::new()),
        Err(err) => return Err(format!("the log cannot be read: {err}")),
    };
    let mut clean = false;
    let mut best: Vec<u8> = Vec::new();
    let mut best_valid = 0;
    for _ in 0..READ_ATTEMPTS {
        let Ok(bytes) = disk.disk.read(WAL_FILE, 0, len, &mut disk.rng) else {
            break;
        };
        let (valid, corrupt) = {
            let recovery = faultline_models::wal::recover(&bytes);
            let corrupt = matches!(
                recovery.stop,
                faultline_models::wal::Stop::ChecksumMismatch { .. }
            );
            (recovery.valid_len, corrupt)
        };
        if valid >= best_valid {
            best_valid = valid;
            best = bytes;
        }
        if !corrupt {
            clean = true;
            break;
        }
    }
    if clean {
        Ok(best)
    } else {
        Err(format!(
            "every one of {READ_ATTEMPTS} reads of the log failed its checksum at byte {best_valid} or before"
        ))
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
    let bytes = if config.wal {
        match read_log(ctx) {
            Ok(bytes) => bytes,
            Err(reason) => {
                // Fail-stop: cutting a log that may be intact would lose acknowledged
                // work, and starting without it would too.
                ctx.report(BankReport::Halted(reason));
                return;
            }
        }
    } else {
        Vec::new()
    };
    let (mut account, recovery) = Account::recover(config.clone(), node, slot, &bytes);
    if recovery.cut_bytes > 0 {
        if let Some(mut disk) = ctx.disk() {
            // A torn or corrupt tail goes: later records must follow the good ones.
            let _ = disk.disk.truncate(WAL_FILE, recovery.valid_bytes);
        }
    }
    ctx.report(BankReport::Recovered(recovery));
    // Reused for every input.
    let mut out = Output::default();
    account.start(ctx.clock(), &mut *ctx.rng(), &mut out);
    if !execute(ctx, &mut out) {
        return;
    }
    loop {
        let input = match ctx.recv().await {
            Incoming::Message { from, msg } => Input::Message { from, msg },
            Incoming::Timer { token } => Input::Timer(token),
        };
        let pt_ns = ctx.clock();
        account.handle(input, pt_ns, &mut *ctx.rng(), &mut DiskLog(ctx), &mut out);
        if !execute(ctx, &mut out) {
            return;
        }
    }
}

/// Carries out what the account asked for; false once the account halts. The reports
/// go first (see [`Output`]). An fsync is a barrier (group commit): the sends after it
/// leave once the log is durable, while the account goes on taking input. Empties
/// `out`.
fn execute(ctx: &BankCtx, out: &mut Output) -> bool {
    for report in out.reports.drain(..) {
        ctx.report(report);
    }
    for action in out.actions.drain(..) {
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
        }
    }
    true
}
