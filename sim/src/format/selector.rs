//! Node selectors in scenario files: strings such as `"server-0"` or `"client-*"`,
//! read into the kernel's [`Selector`].

use core::fmt;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

pub use crate::engine::selector::Selector;

impl Serialize for Selector {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Selector {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Selector;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a node selector string such as \"server-0\" or \"client-*\"")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Selector, E> {
                Selector::parse(text).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}
