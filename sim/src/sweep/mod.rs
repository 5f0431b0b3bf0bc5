//! Many seeds of one scenario. This first part holds the field paths that `--set`, the
//! swarm draws and the shrinker share ([`paths`]), and swarm draws that give every seed
//! its own fault mix ([`swarm`]).

pub mod paths;
pub mod swarm;
