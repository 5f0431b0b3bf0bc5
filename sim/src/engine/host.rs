//! The madsim side of a run: one madsim node per node of a hosted family (see
//! [`Family::hosted`](super::nodes::Family::hosted)), so crash, restart and pause go through madsim's own node
//! lifecycle (`kill` drops the node's tasks, `restart` re-runs its init, `pause` freezes
//! it), and every boot is counted.
//!
//! The node's init task is the process's boot: it bumps the boot counter and then lives
//! until killed. The engine checks after each restart that madsim really booted the node
//! again, and at the end that boots = 1 + restarts for every hosted node.
//!
//! When the run ends, [`Host`]'s drop kills every node: a madsim task that never
//! finishes holds its own waker (madsim's task info keeps it, and a process's mailbox
//! too), a cycle that only killing breaks, so without it every run leaked its processes'
//! state (about 0.5 MB per seed of a small bank sweep).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use madsim::runtime::{Handle, NodeHandle, Runtime};

use super::nodes::{NodeId, Topology};
use super::process::{Init, Supervised};

/// Most scheduler yields to wait for a restarted node's init task to run.
const MAX_BOOT_YIELDS: u32 = 10_000;

/// madsim nodes for the hosted families.
pub struct Host {
    /// The hosted node ids, ascending; `handles[i]` is `ids[i]`'s madsim node.
    ids: Vec<NodeId>,
    handles: Vec<NodeHandle>,
    names: Vec<String>,
    boots: Vec<Arc<AtomicU32>>,
    restarts: Vec<u32>,
}

impl Host {
    /// Creates one madsim node per node of every hosted family, named as the node. Its
    /// init task counts the boot, then runs the node's process (`process(node)`, if the
    /// workload has one) and lives on until killed.
    pub fn new(
        runtime: &Runtime,
        topology: &Topology,
        process: impl Fn(NodeId) -> Option<Init>,
    ) -> Self {
        super::process::install_panic_hook();
        let hosted = topology.hosted();
        let mut handles = Vec::with_capacity(hosted.len());
        let mut names = Vec::with_capacity(hosted.len());
        let mut boots = Vec::with_capacity(hosted.len());
        for &id in &hosted {
            let counter = Arc::new(AtomicU32::new(0));
            let boot_counter = Arc::clone(&counter);
            let name = topology.name(id);
            let main = process(id);
            let node = runtime
                .create_node()
                .name(name.clone())
                .init(move || {
                    let boot_counter = Arc::clone(&boot_counter);
                    let main = main.clone();
                    Supervised(
                        id,
                        Box::pin(async move {
                            boot_counter.fetch_add(1, Ordering::Relaxed);
                            if let Some(main) = main {
                                main().await;
                            }
                            std::future::pending::<()>().await;
                        }),
                    )
                })
                .build();
            handles.push(node);
            names.push(name);
            boots.push(counter);
        }
        Host {
            restarts: vec![0; hosted.len()],
            ids: hosted,
            handles,
            names,
            boots,
        }
    }

    /// The index of `node` among the hosted nodes.
    fn index(&self, node: NodeId) -> Result<usize, String> {
        self.ids
            .binary_search(&node)
            .map_err(|_| format!("node {node} has no madsim node (its family is not hosted)"))
    }

    /// Kills a node's madsim node.
    pub fn kill(&self, node: NodeId) -> Result<(), String> {
        let index = self.index(node)?;
        Handle::current().kill(self.handles[index].id());
        Ok(())
    }

    /// Restarts a killed node and waits for its init task to run.
    pub async fn restart(&mut self, node: NodeId) -> Result<(), String> {
        let index = self.index(node)?;
        let before = self.boots[index].load(Ordering::Relaxed);
        Handle::current().restart(self.handles[index].id());
        self.restarts[index] += 1;
        for _ in 0..MAX_BOOT_YIELDS {
            if self.boots[index].load(Ordering::Relaxed) > before {
                return Ok(());
            }
            madsim::task::yield_now().await;
        }
        Err(format!(
            "madsim did not boot {} after a restart",
            self.names[index]
        ))
    }

    /// Pauses a node's madsim node.
    pub fn pause(&self, node: NodeId) -> Result<(), String> {
        let index = self.index(node)?;
        Handle::current().pause(self.handles[index].id());
        Ok(())
    }

    /// Resumes a node's madsim node.
    pub fn resume(&self, node: NodeId) -> Result<(), String> {
        let index = self.index(node)?;
        Handle::current().resume(self.handles[index].id());
        Ok(())
    }

    /// Waits until every node has booted once (their init tasks run on the first polls).
    pub async fn wait_for_boot(&self) -> Result<(), String> {
        for _ in 0..MAX_BOOT_YIELDS {
            if self
                .boots
                .iter()
                .all(|boots| boots.load(Ordering::Relaxed) >= 1)
            {
                return Ok(());
            }
            madsim::task::yield_now().await;
        }
        Err("madsim did not boot every hosted node".into())
    }

    /// Kills every node, so that the executor drops their tasks (see the module
    /// documentation); runs when the host is dropped, at the end of the run.
    fn shutdown(&self) {
        // Outside a runtime (a panic unwinding past `block_on`) there is nothing to kill.
        let Ok(handle) = Handle::try_current() else {
            return;
        };
        for node in &self.handles {
            handle.kill(node.id());
        }
    }

    /// Checks that madsim booted each node exactly once plus once per restart.
    pub fn check_boots(&self) -> Result<(), String> {
        for (index, boots) in self.boots.iter().enumerate() {
            let booted = boots.load(Ordering::Relaxed);
            let expected = 1 + self.restarts[index];
            if booted != expected {
                return Err(format!(
                    "{}: madsim booted it {booted} times, expected {expected}",
                    self.names[index]
                ));
            }
        }
        Ok(())
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        // The kills wake the tasks; `block_on` drains every woken task before it returns,
        // dropping their futures since their nodes are killed.
        self.shutdown();
    }
}
