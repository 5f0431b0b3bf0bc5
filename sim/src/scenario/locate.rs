//! Finds where a field path such as `faults[2].omission.rate` stands in scenario text, so
//! that errors found after parsing (semantic rules, limits) still carry a line and column.
//!
//! The walker reads only what lies on the path and skips every other value with a flat
//! bracket counter (no recursion), so it cannot overflow the stack; on text that is not
//! valid JSON it gives up and returns the deepest position found so far.

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    /// An object key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// Where a path was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Location {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Whether the whole path was found (otherwise: the deepest enclosing value present,
    /// e.g. the object a defaulted field would belong to).
    pub exact: bool,
}

/// Splits `a.b[2].c` into segments; `None` for a malformed path.
fn parse_path(path: &str) -> Option<Vec<Segment>> {
    let mut segments = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            segments.push(Segment::Index(after[..end].parse().ok()?));
            rest = &after[end + 1..];
        } else {
            let rest_key = rest.strip_prefix('.').unwrap_or(rest);
            let end = rest_key.find(['.', '[']).unwrap_or(rest_key.len());
            if end == 0 {
                return None;
            }
            segments.push(Segment::Key(rest_key[..end].to_owned()));
            rest = &rest_key[end..];
        }
    }
    Some(segments)
}

/// Finds the value at `path` (empty: the root value) in `text`.
pub(crate) fn locate(text: &str, path: &str) -> Option<Location> {
    let segments = parse_path(path)?;
    let mut walker = Walker {
        bytes: text.as_bytes(),
        pos: 0,
    };
    walker.skip_ws();
    walker.peek()?;
    let mut best = walker.pos;
    let mut exact = true;
    for segment in &segments {
        walker.skip_ws();
        best = walker.pos;
        let found = match segment {
            Segment::Key(key) => walker.enter_key(text, key),
            Segment::Index(index) => walker.enter_index(*index),
        };
        if found.is_none() {
            exact = false;
            break;
        }
    }
    if exact {
        walker.skip_ws();
        best = walker.pos;
    }
    let (line, column) = line_column(text, best);
    Some(Location {
        line,
        column,
        exact,
    })
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

struct Walker<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Walker<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        self.skip_ws();
        (self.peek()? == byte).then(|| self.pos += 1)
    }

    /// At a `"`: skips the string; returns the byte range of its raw contents.
    fn string(&mut self) -> Option<(usize, usize)> {
        if self.peek()? != b'"' {
            return None;
        }
        self.pos += 1;
        let start = self.pos;
        loop {
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return Some((start, self.pos - 1));
                }
                b'\\' => self.pos += 2,
                _ => self.pos += 1,
            }
        }
    }

    /// Skips one value of any kind.
    fn skip_value(&mut self) -> Option<()> {
        self.skip_ws();
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        b'"' => {
                            self.string()?;
                        }
                        b'{' | b'[' => {
                            depth += 1;
                            self.pos += 1;
                        }
                        b'}' | b']' => {
                            depth = depth.checked_sub(1)?;
                            self.pos += 1;
                            if depth == 0 {
                                return Some(());
                            }
                        }
                        _ => self.pos += 1,
                    }
                }
            }
            _ => {
                let start = self.pos;
                while let Some(byte) = self.peek() {
                    if matches!(byte, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.pos += 1;
                }
                (self.pos > start).then_some(())
            }
        }
    }

    /// At an object: moves to the value of `key`.
    fn enter_key(&mut self, text: &str, key: &str) -> Option<()> {
        self.eat(b'{')?;
        loop {
            self.skip_ws();
            if self.peek()? == b'}' {
                return None;
            }
            let (start, end) = self.string()?;
            let raw = text.get(start..end)?;
            let matches = if raw.contains('\\') {
                serde_json::from_str::<String>(text.get(start - 1..end + 1)?).ok()? == key
            } else {
                raw == key
            };
            self.eat(b':')?;
            self.skip_ws();
            if matches {
                return Some(());
            }
            self.skip_value()?;
            self.skip_ws();
            if self.peek()? == b',' {
                self.pos += 1;
            }
        }
    }

    /// At an array: moves to element `index`.
    fn enter_index(&mut self, index: usize) -> Option<()> {
        self.eat(b'[')?;
        let mut current = 0;
        loop {
            self.skip_ws();
            if self.peek()? == b']' {
                return None;
            }
            if current == index {
                return Some(());
            }
            self.skip_value()?;
            self.skip_ws();
            if self.peek()? == b',' {
                self.pos += 1;
            }
            current += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "{\n  \"name\": \"x\",\n  \"faults\": [\n    {\"at\": \"1s\", \"pause\": \"server-0\"},\n    {\"at\": \"2s\", \"omission\": {\"to\": \"server-0\", \"rate\": 1.5}}\n  ],\n  \"we\\\"ird\": [[1, {\"a\": \"]\"}], 2]\n}\n";

    #[test]
    fn paths_parse() {
        assert_eq!(
            parse_path("faults[1].omission.rate").unwrap(),
            vec![
                Segment::Key("faults".into()),
                Segment::Index(1),
                Segment::Key("omission".into()),
                Segment::Key("rate".into())
            ]
        );
        assert_eq!(parse_path("").unwrap(), vec![]);
        assert_eq!(parse_path("partition[0][1]").unwrap().len(), 3);
        assert!(parse_path("a..b").is_none());
        assert!(parse_path("a[x]").is_none());
    }

    #[test]
    fn finds_values_by_path() {
        let at = |path| {
            let loc = locate(TEXT, path).unwrap();
            (loc.line, loc.column, loc.exact)
        };
        assert_eq!(at(""), (1, 1, true));
        assert_eq!(at("name"), (2, 11, true));
        assert_eq!(at("faults[1].omission.rate"), (5, 57, true));
        assert_eq!(at("faults[0]"), (4, 5, true));
        // Absent: the deepest enclosing value.
        assert_eq!(at("faults[1].omission.from"), (5, 30, false));
        assert_eq!(at("faults[7].at"), (3, 13, false));
        assert_eq!(at("metrics.window"), (1, 1, false));
        assert_eq!(at("we\"ird[1]"), (7, 32, true));
    }

    #[test]
    fn never_panics_on_broken_text() {
        for text in [
            "",
            "{",
            "{\"a\"",
            "{\"a\": [",
            "[[[[",
            "{\"a\": \"\\",
            "}",
            "\"x",
        ] {
            let _ = locate(text, "a[3].b");
            let _ = locate(text, "");
        }
        let deep = "[".repeat(100_000);
        let _ = locate(&format!("{{\"x\": {deep}, \"a\": 1}}"), "a");
    }
}
