//! Node naming and node sets.
//!
//! A workload declares its node *families* in order (`client-` with 1,000 nodes, then
//! `server-` with 3, say); the kernel numbers the nodes of all families one after the
//! other (`client-0` is node 0, `server-0` is node 1,000), so a node is one `u32` and a
//! selector compiles to a bitset over node ids: a partition or omission check is one bit
//! test per rule, whatever the workload.

use super::selector::Selector;

/// A node id: the families' nodes numbered one after the other, in declaration order.
pub type NodeId = u32;

/// Which node faults a family's nodes accept; a scenario fault that aims elsewhere is
/// refused when the scenario is resolved, with the family named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeFaults {
    /// `crash` / `restart_after` (and random crash processes).
    pub crash: bool,
    /// `pause` (and random pause processes).
    pub pause: bool,
    /// `slowdown`.
    pub slowdown: bool,
    /// `disk` (the nodes have disks).
    pub disk: bool,
}

impl NodeFaults {
    /// No node faults: only network and clock faults reach these nodes.
    pub const NONE: NodeFaults = NodeFaults {
        crash: false,
        pause: false,
        slowdown: false,
        disk: false,
    };
    /// Every node fault.
    pub const ALL: NodeFaults = NodeFaults {
        crash: true,
        pause: true,
        slowdown: true,
        disk: true,
    };
}

/// A family of nodes named `{prefix}0 .. {prefix}{count-1}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Family {
    /// Name prefix with its dash: `"client-"`.
    pub prefix: &'static str,
    /// Number of nodes.
    pub count: u32,
    /// Whether each node runs as a madsim node (crash = `kill`, restart = `restart`,
    /// pause = `pause`). Large populations of plain state machines are not hosted.
    pub hosted: bool,
    /// The node faults these nodes accept.
    pub faults: NodeFaults,
}

/// The nodes of a run: the workload's families, numbered in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topology {
    families: Vec<Family>,
    /// The id of each family's first node.
    firsts: Vec<NodeId>,
    node_count: u32,
}

impl Topology {
    /// Numbers the nodes of `families` in order. Fails when there are more than
    /// `u32::MAX` nodes or two families share a prefix.
    pub fn new(families: Vec<Family>) -> Result<Self, String> {
        let mut firsts = Vec::with_capacity(families.len());
        let mut next: u32 = 0;
        for (index, family) in families.iter().enumerate() {
            if families[..index]
                .iter()
                .any(|other| other.prefix == family.prefix)
            {
                return Err(format!("two node families named {}*", family.prefix));
            }
            firsts.push(next);
            next = next
                .checked_add(family.count)
                .ok_or("more than 4 billion nodes")?;
        }
        Ok(Topology {
            families,
            firsts,
            node_count: next,
        })
    }

    /// All nodes.
    #[inline]
    pub fn node_count(&self) -> u32 {
        self.node_count
    }

    /// The families, in node-id order.
    pub fn families(&self) -> &[Family] {
        &self.families
    }

    /// The nodes of the hosted families (see [`Family::hosted`]), ascending.
    pub fn hosted(&self) -> Vec<NodeId> {
        self.families
            .iter()
            .zip(&self.firsts)
            .filter(|(family, _)| family.hosted)
            .flat_map(|(family, &first)| first..first + family.count)
            .collect()
    }

    /// The id of node `index` of family `family` (an index into [`Self::families`]).
    #[inline]
    pub fn node(&self, family: usize, index: u32) -> NodeId {
        debug_assert!(index < self.families[family].count);
        self.firsts[family] + index
    }

    /// The id of the first node of the family named `prefix` (`"server-"`).
    pub fn first_of(&self, prefix: &str) -> Option<NodeId> {
        let family = self.families.iter().position(|f| f.prefix == prefix)?;
        Some(self.firsts[family])
    }

    /// (family index, index within the family) of `node`.
    pub fn locate(&self, node: NodeId) -> (usize, u32) {
        debug_assert!(node < self.node_count);
        // Few families: a scan beats a search.
        let family = self
            .firsts
            .iter()
            .rposition(|&first| first <= node)
            .unwrap_or(0);
        (family, node - self.firsts[family])
    }

    /// The name of a node (`server-2`).
    pub fn name(&self, node: NodeId) -> String {
        let (family, index) = self.locate(node);
        format!("{}{index}", self.families[family].prefix)
    }

    /// The nodes a selector matches, as a set.
    pub fn select(&self, selector: &Selector) -> NodeSet {
        let mut set = NodeSet::empty(self.node_count);
        for node in self.matching(selector) {
            set.insert(node);
        }
        set
    }

    /// The nodes a selector matches, in id order.
    pub fn matching(&self, selector: &Selector) -> Vec<NodeId> {
        let mut nodes = Vec::new();
        // Names are generated, so matching every name costs one format per node; this
        // runs once per fault at start-up, never on the hot path.
        let mut name = String::with_capacity(24);
        for (family, first) in self.families.iter().zip(&self.firsts) {
            if !selector.matches_family(family.prefix, family.count) {
                continue;
            }
            for index in 0..family.count {
                name.clear();
                use std::fmt::Write;
                let _ = write!(name, "{}{index}", family.prefix);
                if selector.matches(&name) {
                    nodes.push(first + index);
                }
            }
        }
        nodes
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

    fn family(prefix: &'static str, count: u32) -> Family {
        Family {
            prefix,
            count,
            hosted: false,
            faults: NodeFaults::NONE,
        }
    }

    #[test]
    fn selectors_compile_to_the_right_nodes() {
        let topology = Topology::new(vec![family("client-", 12), family("server-", 3)]).unwrap();
        let clients = topology.select(&Selector::parse("client-*").unwrap());
        assert_eq!(clients.len(), 12);
        let ones = topology.select(&Selector::parse("client-1*").unwrap());
        assert_eq!(ones.len(), 3); // client-1, client-10, client-11
        let server = topology.select(&Selector::parse("server-2").unwrap());
        assert!(server.contains(14) && server.len() == 1);
        assert_eq!(topology.select(&Selector::parse("*").unwrap()).len(), 15);
        assert_eq!(topology.name(13), "server-1");
        assert_eq!(topology.locate(13), (1, 1));
        assert_eq!(topology.locate(0), (0, 0));
        assert_eq!(topology.first_of("server-"), Some(12));
        assert_eq!(topology.node(1, 2), 14);
    }

    #[test]
    fn families_number_nodes_in_order_and_refuse_twins() {
        let topology = Topology::new(vec![
            family("acct-", 2),
            family("agent-", 0),
            family("sink-", 1),
        ])
        .unwrap();
        assert_eq!(topology.node_count(), 3);
        assert_eq!(topology.name(2), "sink-0");
        assert_eq!(
            topology.matching(&Selector::parse("a*").unwrap()),
            vec![0, 1]
        );
        assert!(Topology::new(vec![family("x-", 1), family("x-", 2)]).is_err());
    }
}
