//! The same account logic driven by direct calls, without madsim tasks: for the
//! benchmark, which measures the process runtime's share of the cost per message.
//!
//! Each account is an [`Account`] held here; an input is handed to it at once, its
//! actions are carried out in order, and an fsync blocks the account until the kernel's
//! fsync-done event, inputs queueing meanwhile (the mailbox semantics of
//! [`crate::engine::process`]). Nothing else differs from a process run: the same
//! network, disks, checks and trace. Node faults are not supported (the benchmark has
//! none).

use std::collections::VecDeque;

use rand_chacha::ChaCha8Rng;

use super::account::{Account, AccountConfig, Action, BankMsg, BankReport, Input, Log};
use super::process::WAL_FILE;
use crate::engine::disk::FsyncTicket;
use crate::engine::kernel::Kernel;
use crate::engine::nodes::NodeId;
use crate::engine::process::{NodeDisk, Outgoing};
use crate::engine::queue::Nanos;
use crate::engine::streams;
use crate::engine::EngineError;

use std::cell::RefCell;
use std::rc::Rc;

/// One account driven directly.
struct Driven {
    account: Account,
    inbox: VecDeque<Input>,
    pending: VecDeque<Action>,
    /// The fsync the account waits for.
    blocked: Option<FsyncTicket>,
    rng: ChaCha8Rng,
    disk: Option<Rc<RefCell<NodeDisk>>>,
    /// The account's actions for one input (reused).
    scratch: Vec<Action>,
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
    /// Fresh accounts (slots `0..accounts`), their first actions pending.
    pub fn new(config: &AccountConfig, kernel: &Kernel<super::BankEvent>) -> Self {
        let driven = (0..config.accounts)
            .map(|node| {
                let (mut account, _) = Account::recover(config.clone(), node, node, &[]);
                let mut rng = kernel.stream(streams::PROCESS, u64::from(node));
                let mut actions = Vec::new();
                account.start(kernel.physical(node, 0), &mut rng, &mut actions);
                Driven {
                    account,
                    inbox: VecDeque::new(),
                    pending: actions.into(),
                    blocked: None,
                    rng,
                    disk: kernel.disk(node),
                    scratch: Vec::new(),
                }
            })
            .collect();
        Direct { driven }
    }

    /// Queues an input for `node`.
    pub fn deliver(&mut self, node: NodeId, input: Input) {
        self.driven[node as usize].inbox.push_back(input);
    }

    /// The fsync `node` waited for is done.
    pub fn fsync_done(&mut self, node: NodeId, now_ns: Nanos) -> Result<(), EngineError> {
        let driven = &mut self.driven[node as usize];
        if let (Some(ticket), Some(disk)) = (driven.blocked.take(), &driven.disk) {
            disk.borrow_mut()
                .disk
                .complete_fsync(ticket, now_ns)
                .map_err(|err| EngineError::Invariant(format!("fsync: {err}")))?;
        }
        Ok(())
    }

    /// Runs `node` until it waits: its pending actions, then its queued inputs, into
    /// `out`; returns the time an fsync it began is done, if it blocked on one.
    pub fn run(
        &mut self,
        node: NodeId,
        now_ns: Nanos,
        pt_ns: Nanos,
        out: &mut Vec<Out>,
    ) -> Result<Option<Nanos>, EngineError> {
        let driven = &mut self.driven[node as usize];
        loop {
            if driven.blocked.is_some() || driven.account.halted() {
                return Ok(None);
            }
            if let Some(action) = driven.pending.pop_front() {
                match action {
                    Action::Fsync => {
                        let Some(disk) = &driven.disk else {
                            continue;
                        };
                        let mut disk = disk.borrow_mut();
                        let NodeDisk { disk, rng } = &mut *disk;
                        let ticket = disk
                            .begin_fsync(WAL_FILE, now_ns, rng)
                            .map_err(|err| EngineError::Invariant(format!("fsync: {err}")))?;
                        driven.blocked = Some(ticket);
                        return Ok(Some(ticket.done_at_ns));
                    }
                    Action::Send { to, msg } => out.push(Outgoing::Send { to, msg }),
                    Action::Timer { token, after_ns } => out.push(Outgoing::Timer {
                        at_ns: now_ns.saturating_add(after_ns),
                        token,
                    }),
                    Action::Report(report) => out.push(Outgoing::Report(report)),
                    Action::Halt => return Ok(None),
                }
                continue;
            }
            let Some(input) = driven.inbox.pop_front() else {
                return Ok(None);
            };
            let mut log = DirectLog(&driven.disk);
            driven
                .account
                .handle(input, pt_ns, &mut driven.rng, &mut log, &mut driven.scratch);
            // Reports first, as the process runtime hands them over (a stable sort keeps
            // the order within each kind).
            driven
                .scratch
                .sort_by_key(|action| !matches!(action, Action::Report(_)));
            driven.pending.extend(driven.scratch.drain(..));
        }
    }
}
