//! The same account logic driven by direct calls, without madsim tasks: for the
//! benchmark, which measures the process runtime's share of the cost per message.
//!
//! Each account is an [`Account`] held here; an input is handed to it at once and its
//! actions are carried out as the process does: reports first, then the rest in order,
//! an fsync being a barrier of its [`GroupCommit`] (the sends after it wait for the
//! kernel's fsync-done event). Nothing else differs from a process run: the same
//! network, disks, checks and trace. Node faults are not supported (the benchmark has
//! none).

use std::collections::VecDeque;

use rand_chacha::ChaCha8Rng;

use super::account::{
    Account, AccountConfig, Action, BankMsg, BankReport, CheckpointWrite, Checkpointed, Input,
    Log, Output,
};
use super::process::{CHECKPOINT_FILES, WAL_FILE};
use crate::engine::commit::GroupCommit;
use crate::engine::kernel::Kernel;
use crate::engine::nodes::NodeId;
use crate::engine::process::{complete_commit, Incoming, NodeDisk, Outgoing};
use crate::engine::queue::Nanos;
use crate::engine::service::{self, HostEvent};
use crate::engine::streams;
use crate::engine::EngineError;

use std::cell::RefCell;
use std::rc::Rc;

/// One account driven directly.
struct Driven {
    account: Account,
    inbox: VecDeque<Input>,
    /// Its sends behind the log's fsyncs.
    commit: GroupCommit<BankMsg>,
    rng: ChaCha8Rng,
    disk: Option<Rc<RefCell<NodeDisk>>>,
    /// What the account asks for on one input (reused).
    scratch: Output,
}

struct DirectLog<'a>(&'a Option<Rc<RefCell<NodeDisk>>>);

impl Log for DirectLog<'_> {
    fn append(&mut self, record: &[u8]) -> Result<(), String> {
        let Some(disk) = self.0 else {
            return Err("no disk".to_owned());
        };
        disk.borrow_mut()
            .disk
            .append(WAL_FILE, record)
            .map(|_| ())
            .map_err(|err| err.to_string())
    }
}

/// The accounts of a direct run.
pub struct Direct {
    driven: Vec<Driven>,
}

/// What an account asked for, as the process runtime would hand it over.
pub type Out = Outgoing<BankMsg, BankReport>;

impl Direct {
    /// Fresh accounts (slots `0..accounts`), their first actions carried out at their
    /// first [`Direct::run`].
    pub fn new(config: &AccountConfig, kernel: &Kernel<HostEvent<super::BankEvent>>) -> Self {
        let driven = (0..config.accounts)
            .map(|node| {
                let (mut account, _) = Account::recover(config.clone(), node, node, &[]);
                let mut rng = kernel.stream(streams::PROCESS, u64::from(node));
                let mut scratch = Output::default();
                account.start(kernel.physical(node, 0), &mut rng, &mut scratch);
                Driven {
                    account,
                    inbox: VecDeque::new(),
                    commit: GroupCommit::default(),
                    rng,
                    disk: kernel.disk(node),
                    scratch,
                }
            })
            .collect();
        Direct { driven }
    }
}

impl service::Direct<BankMsg, BankReport> for Direct {
    fn deliver(&mut self, node: NodeId, incoming: Incoming<BankMsg>) {
        self.driven[node as usize]
            .inbox
            .push_back(Input::from(incoming));
    }

    fn fsync_done(
        &mut self,
        node: NodeId,
        now_ns: Nanos,
        out: &mut Vec<Out>,
    ) -> Result<(), EngineError> {
        let driven = &mut self.driven[node as usize];
        complete_commit(
            &mut driven.commit,
            driven.disk.as_deref(),
            node,
            now_ns,
            out,
        )
    }

    fn run(
        &mut self,
        node: NodeId,
        now_ns: Nanos,
        pt_ns: Nanos,
        out: &mut Vec<Out>,
    ) -> Result<(), EngineError> {
        let driven = &mut self.driven[node as usize];
        // The first actions, from `Account::start`.
        driven.execute(now_ns, out)?;
        while let Some(input) = driven.inbox.pop_front() {
            if driven.account.halted() {
                driven.inbox.clear();
                break;
            }
            let mut log = DirectLog(&driven.disk);
            driven
                .account
                .handle(input, pt_ns, &mut driven.rng, &mut log, &mut driven.scratch);
            driven.execute(now_ns, out)?;
        }
        Ok(())
    }
}

impl Driven {
    /// Writes a checkpoint as the process does, without its stall (a direct run has no
    /// crash for the sync to matter to).
    fn checkpoint(&mut self, write: &CheckpointWrite, out: &mut Vec<Out>) {
        let Some(disk) = &self.disk else {
            return;
        };
        let written = {
            let mut node_disk = disk.borrow_mut();
            let disk = &mut node_disk.disk;
            let file = CHECKPOINT_FILES[write.generation as usize % 2];
            let _ = disk.truncate(file, 0);
            disk.append(file, &write.bytes).is_ok()
                && disk.truncate(WAL_FILE, 0).is_ok()
                && disk.append(WAL_FILE, &write.header).is_ok()
        };
        if !written {
            return;
        }
        self.account
            .checkpoint_written(write.generation, write.header.len() as u64);
        out.push(Outgoing::Report(BankReport::Checkpointed(Checkpointed {
            generation: write.generation,
            bytes: write.bytes.len() as u64,
            records_covered: write.records_covered,
            stall_ns: 0,
        })));
    }

    /// Carries out what the account asked for (in `scratch`) as the process does.
    fn execute(&mut self, now_ns: Nanos, out: &mut Vec<Out>) -> Result<(), EngineError> {
        for report in self.scratch.reports.drain(..) {
            out.push(Outgoing::Report(report));
        }
        let mut actions = std::mem::take(&mut self.scratch.actions);
        for action in actions.drain(..) {
            match action {
                Action::Fsync => {
                    let Some(disk) = &self.disk else {
                        continue;
                    };
                    let began = self
                        .commit
                        .barrier(&mut disk.borrow_mut(), WAL_FILE, now_ns)
                        .map_err(|err| EngineError::Invariant(format!("fsync: {err}")))?;
                    if let Some(at_ns) = began {
                        out.push(Outgoing::Commit { at_ns });
                    }
                }
                Action::Send { to, msg } => self
                    .commit
                    .send(to, msg, |to, msg| out.push(Outgoing::Send { to, msg })),
                Action::Timer { token, after_ns } => out.push(Outgoing::Timer {
                    at_ns: now_ns.saturating_add(after_ns),
                    token,
                }),
                Action::Halt => break,
                Action::Checkpoint(write) => self.checkpoint(&write, out),
            }
        }
        self.scratch.actions = actions;
        Ok(())
    }
}
