//! The madsim side of a run: one madsim node per server, so crash, restart and pause
//! go through madsim's own node lifecycle (`kill` drops the node's tasks, `restart`
//! re-runs its init, `pause` freezes it), and every boot is counted.
//!
//! The node's init task is the server process's boot: it bumps the boot counter and then
//! lives until killed. The engine checks after each restart that madsim really booted
//! the node again, and at the end that boots = 1 + restarts for every server.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use madsim::runtime::{Handle, NodeHandle, Runtime};

/// Most scheduler yields to wait for a restarted node's init task to run.
const MAX_BOOT_YIELDS: u32 = 10_000;

/// madsim nodes for the servers.
pub struct Host {
    nodes: Vec<NodeHandle>,
    boots: Vec<Arc<AtomicU32>>,
    restarts: Vec<u32>,
}

impl Host {
    /// Creates one madsim node per server (`server-0`, ...).
    pub fn new(runtime: &Runtime, servers: u32) -> Self {
        let mut nodes = Vec::with_capacity(servers as usize);
        let mut boots = Vec::with_capacity(servers as usize);
        for index in 0..servers {
            let counter = Arc::new(AtomicU32::new(0));
            let boot_counter = Arc::clone(&counter);
            let node = runtime
                .create_node()
                .name(format!("server-{index}"))
                .init(move || {
                    let boot_counter = Arc::clone(&boot_counter);
                    async move {
                        boot_counter.fetch_add(1, Ordering::Relaxed);
                        std::future::pending::<()>().await;
                    }
                })
                .build();
            nodes.push(node);
            boots.push(counter);
        }
        Host {
            nodes,
            boots,
            restarts: vec![0; servers as usize],
        }
    }

    /// Kills a server's node.
    pub fn kill(&self, server: u32) {
        Handle::current().kill(self.nodes[server as usize].id());
    }

    /// Restarts a killed server's node and waits for its init task to run.
    pub async fn restart(&mut self, server: u32) -> Result<(), String> {
        let index = server as usize;
        let before = self.boots[index].load(Ordering::Relaxed);
        Handle::current().restart(self.nodes[index].id());
        self.restarts[index] += 1;
        for _ in 0..MAX_BOOT_YIELDS {
            if self.boots[index].load(Ordering::Relaxed) > before {
                return Ok(());
            }
            madsim::task::yield_now().await;
        }
        Err(format!(
            "madsim did not boot server-{server} after a restart"
        ))
    }

    /// Pauses a server's node.
    pub fn pause(&self, server: u32) {
        Handle::current().pause(self.nodes[server as usize].id());
    }

    /// Resumes a server's node.
    pub fn resume(&self, server: u32) {
        Handle::current().resume(self.nodes[server as usize].id());
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
        Err("madsim did not boot every server node".into())
    }

    /// Checks that madsim booted each node exactly once plus once per restart.
    pub fn check_boots(&self) -> Result<(), String> {
        for (index, boots) in self.boots.iter().enumerate() {
            let booted = boots.load(Ordering::Relaxed);
            let expected = 1 + self.restarts[index];
            if booted != expected {
                return Err(format!(
                    "server-{index}: madsim booted it {booted} times, expected {expected}"
                ));
            }
        }
        Ok(())
    }
}
