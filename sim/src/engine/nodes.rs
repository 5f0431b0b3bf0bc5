//! Node naming and node sets.
//!
//! Clients are `client-0 .. client-{n-1}` (node ids `0 .. n`), servers are
//! `server-0 .. server-{m-1}` (node ids `n .. n+m`). A selector compiles to a bitset over
//! node ids so that a partition or omission check is one bit test per rule.

use crate::scenario::Selector;

/// A node id: clients first, then servers.
pub type NodeId = u32;

/// The nodes of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Topology {
    /// Number of clients.
    pub clients: u32,
    /// Number of servers.
    pub servers: u32,
}

impl Topology {
    /// All nodes.
    pub fn node_count(&self) -> u32 {
        self.clients + self.servers
    }

    /// The node id of `server-index`.
    #[inline]
    pub fn server_node(&self, index: u32) -> NodeId {
        debug_assert!(index < self.servers);
        self.clients + index
    }

    /// The node id of `client-index`.
    #[inline]
    pub fn client_node(&self, index: u32) -> NodeId {
        debug_assert!(index < self.clients);
        index
    }

    /// The name of a node.
    pub fn name(&self, node: NodeId) -> String {
        if node < self.clients {
            format!("client-{node}")
        } else {
            format!("server-{}", node - self.clients)
        }
    }

    /// The nodes a selector matches, as a set.
    pub fn select(&self, selector: &Selector) -> NodeSet {
        let mut set = NodeSet::empty(self.node_count());
        // Names are generated, so matching every name costs one format per node; this
        // runs once per fault at start-up, never on the hot path.
        let mut name = String::with_capacity(24);
        for node in 0..self.node_count() {
            name.clear();
            use std::fmt::Write;
            if node < self.clients {
                let _ = write!(name, "client-{node}");
            } else {
                let _ = write!(name, "server-{}", node - self.clients);
            }
            if selector.matches(&name) {
                set.insert(node);
            }
        }
        set
    }

    /// The server indices a selector matches.
    pub fn select_servers(&self, selector: &Selector) -> Vec<u32> {
        (0..self.servers)
            .filter(|&index| selector.matches(&format!("server-{index}")))
            .collect()
    }
}

/// A set of node ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeSet {
    words: Vec<u64>,
}

impl NodeSet {
    /// No nodes, sized for `node_count` ids.
    pub fn empty(node_count: u32) -> Self {
        NodeSet {
            words: vec![0; (node_count as usize).div_ceil(64)],
        }
    }

    /// Adds a node.
    pub fn insert(&mut self, node: NodeId) {
        self.words[(node / 64) as usize] |= 1 << (node % 64);
    }

    /// Whether the node is in the set.
    #[inline]
    pub fn contains(&self, node: NodeId) -> bool {
        self.words
            .get((node / 64) as usize)
            .is_some_and(|word| word & (1 << (node % 64)) != 0)
    }

    /// Adds every node of `other` (a set over the same nodes).
    pub fn union_with(&mut self, other: &NodeSet) {
        debug_assert_eq!(self.words.len(), other.words.len());
        for (word, other_word) in self.words.iter_mut().zip(&other.words) {
            *word |= other_word;
        }
    }

    /// Number of nodes in the set.
    pub fn len(&self) -> usize {
        self.words
            .iter()
            .map(|word| word.count_ones() as usize)
            .sum()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|&word| word == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_compile_to_the_right_nodes() {
        let topology = Topology {
            clients: 12,
            servers: 3,
        };
        let clients = topology.select(&Selector::parse("client-*").unwrap());
        assert_eq!(clients.len(), 12);
        let ones = topology.select(&Selector::parse("client-1*").unwrap());
        assert_eq!(ones.len(), 3); // client-1, client-10, client-11
        let server = topology.select(&Selector::parse("server-2").unwrap());
        assert!(server.contains(14) && server.len() == 1);
        assert_eq!(topology.select(&Selector::parse("*").unwrap()).len(), 15);
        assert_eq!(topology.name(13), "server-1");
    }
}
