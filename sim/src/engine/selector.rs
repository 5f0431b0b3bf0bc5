//! Node selectors: a node name, or a prefix with a trailing `*` (`"client-*"`, `"*"`).
//! The scenario format reads and writes them as strings (`format::selector`).

use core::fmt;

/// Selects nodes by exact name or by prefix (trailing `*`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Selector {
    text: String,
}

impl Selector {
    /// Parses a selector; `*` is allowed only as the last character.
    pub fn parse(text: &str) -> Result<Self, String> {
        let star_count = text.matches('*').count();
        if text.is_empty() {
            return Err("empty node selector (write a node name such as \"server-0\", or a prefix such as \"client-*\")".into());
        }
        if star_count > 1 || (star_count == 1 && !text.ends_with('*')) {
            return Err(format!(
                "node selector {text:?}: `*` may only stand at the end (e.g. \"client-*\")"
            ));
        }
        Ok(Selector {
            text: text.to_owned(),
        })
    }

    /// Whether `name` is selected.
    pub fn matches(&self, name: &str) -> bool {
        match self.text.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == self.text,
        }
    }

    /// The selector as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the selector matches at least one of the nodes `{family}0` ..
    /// `{family}{count-1}` (e.g. family `"client-"`), without building their names.
    ///
    /// A node index is written in plain decimal (no leading zeros), so a prefix that ends
    /// inside the index matches exactly when the smallest index starting with those digits,
    /// the digits themselves, is below `count`.
    pub fn matches_family(&self, family: &str, count: u32) -> bool {
        if count == 0 {
            return false;
        }
        let (pattern, is_prefix) = match self.text.strip_suffix('*') {
            Some(prefix) => (prefix, true),
            None => (self.text.as_str(), false),
        };
        if is_prefix && family.starts_with(pattern) {
            // `*`, `cl*`, `client-*`: every node of the family, and there is one.
            return true;
        }
        let Some(digits) = pattern.strip_prefix(family) else {
            return false;
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        if digits.len() > 1 && digits.starts_with('0') {
            // No index is written with a leading zero.
            return false;
        }
        // More than 10 digits exceed every u32 count.
        match digits.parse::<u64>() {
            Ok(index) => index < u64::from(count),
            Err(_) => false,
        }
    }
}

impl Selector {
    /// How many of the nodes `{family}0` .. `{family}{count-1}` the selector matches,
    /// without building their names (`"server-1*"` of 200 servers: `server-1`,
    /// `server-10` .. `server-19` and `server-100` .. `server-199`, 111 nodes).
    pub fn count_in_family(&self, family: &str, count: u32) -> u64 {
        let count = u64::from(count);
        if !self.matches_family(family, count as u32) {
            return 0;
        }
        let Some(prefix) = self.text.strip_suffix('*') else {
            return 1;
        };
        let Some(digits) = prefix.strip_prefix(family).filter(|d| !d.is_empty()) else {
            // `*`, `cl*`, `client-*`: the whole family.
            return count;
        };
        if digits == "0" {
            // No other index starts with a 0.
            return 1;
        }
        // Indices starting with `digits`: [d * 10^k, (d + 1) * 10^k) for k = 0, 1, ...
        // (at most 10 ranges below a u32 count).
        let Ok(first) = digits.parse::<u64>() else {
            return 0;
        };
        let (mut low, mut high, mut total) = (first, first + 1, 0);
        while low < count {
            total += high.min(count) - low;
            low = low.saturating_mul(10);
            high = high.saturating_mul(10);
        }
        total
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(text: &str) -> Selector {
        Selector::parse(text).unwrap()
    }

    #[test]
    fn counts_match_the_names_they_select() {
        for (text, count) in [
            ("server-1*", 200),
            ("server-1*", 1),
            ("server-1*", 2),
            ("server-0*", 50),
            ("server-*", 37),
            ("*", 5),
            ("server-12", 13),
            ("server-12", 12),
            ("serv*", 3),
            ("client-*", 3),
            ("server-9*", 1000),
        ] {
            let selector = sel(text);
            let names = (0..count)
                .filter(|index| selector.matches(&format!("server-{index}")))
                .count() as u64;
            assert_eq!(
                selector.count_in_family("server-", count),
                names,
                "{text} of {count}"
            );
        }
    }

    #[test]
    fn exact_names_match_only_existing_indices() {
        assert!(sel("client-0").matches_family("client-", 1));
        assert!(!sel("client-1").matches_family("client-", 1));
        assert!(sel("client-9").matches_family("client-", 10));
        assert!(!sel("client-10").matches_family("client-", 10));
        assert!(!sel("client-01").matches_family("client-", 10));
        assert!(!sel("client-").matches_family("client-", 10));
        assert!(!sel("client-x").matches_family("client-", 10));
        assert!(!sel("server-0").matches_family("client-", 10));
        assert!(!sel("client-99999999999999999999999").matches_family("client-", u32::MAX));
    }

    #[test]
    fn prefixes_match_when_some_index_starts_with_the_digits() {
        assert!(sel("*").matches_family("client-", 1));
        assert!(!sel("*").matches_family("client-", 0));
        assert!(sel("c*").matches_family("client-", 1));
        assert!(sel("client-*").matches_family("client-", 1));
        assert!(!sel("server-*").matches_family("client-", 5));
        // client-1* matches client-1, client-10.. : needs index 1.
        assert!(!sel("client-1*").matches_family("client-", 1));
        assert!(sel("client-1*").matches_family("client-", 2));
        // client-12* needs index 12 at least.
        assert!(!sel("client-12*").matches_family("client-", 12));
        assert!(sel("client-12*").matches_family("client-", 13));
        // client-0* matches client-0 only.
        assert!(sel("client-0*").matches_family("client-", 1));
        assert!(!sel("client-00*").matches_family("client-", 1000));
        assert!(!sel("client-1x*").matches_family("client-", 1000));
    }

    #[test]
    fn matches_family_agrees_with_matches_on_every_name() {
        let selectors = [
            "*",
            "c*",
            "client-*",
            "client-1*",
            "client-10*",
            "client-0*",
            "client-3",
            "client-",
            "client-12*",
            "server-*",
            "client-00*",
            "clientx*",
        ];
        for count in 0..=25u32 {
            for text in selectors {
                let selector = sel(text);
                let expected = (0..count).any(|index| selector.matches(&format!("client-{index}")));
                assert_eq!(
                    selector.matches_family("client-", count),
                    expected,
                    "{text} {count}"
                );
            }
        }
    }
}
