//! A deserializer wrapper that holds every scenario type to the shape its JSON Schema
//! promises: an object where an object is required.
//!
//! serde's derived structs also read a JSON array as their fields in order, so
//! `"metrics": ["1s"]` or `"network": []` would load. [`Strict`] wraps any deserializer
//! (serde_json's, or a `serde_json::Value`) and everything it hands out (map values,
//! list elements, enum contents), and refuses a list wherever a struct is read, for every
//! type at once. It also words what a struct or an enum expects in the user's terms (the
//! keys of the object, the names of the kinds) instead of Rust type names.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// Most keys or names listed in an expectation; the rest are counted.
const MAX_NAMES_SHOWN: usize = 8;

/// Wraps a deserializer; see the module documentation.
pub struct Strict<D>(pub D);

/// What the wrapped visitor is reading, for its expectation and the list rule.
#[derive(Clone, Copy)]
enum Shape {
    /// Whatever the visitor says.
    Other,
    /// A struct with these keys: an object, never a list.
    Struct(&'static [&'static str]),
}

struct Wrap<V> {
    visitor: V,
    shape: Shape,
}

impl<V> Wrap<V> {
    fn other(visitor: V) -> Self {
        Wrap {
            visitor,
            shape: Shape::Other,
        }
    }
}

/// `"a", "b", "c"` (at most [`MAX_NAMES_SHOWN`], then how many more).
fn names(list: &[&str]) -> String {
    let mut text = list
        .iter()
        .take(MAX_NAMES_SHOWN)
        .map(|name| format!("\"{name}\""))
        .collect::<Vec<_>>()
        .join(", ");
    if list.len() > MAX_NAMES_SHOWN {
        text.push_str(&format!(" and {} more", list.len() - MAX_NAMES_SHOWN));
    }
    text
}

macro_rules! forward {
    ($($method:ident),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
                self.0.$method(Wrap::other(visitor))
            }
        )*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Strict<D> {
    type Error = D::Error;

    forward!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier,
        deserialize_ignored_any,
    );

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_unit_struct(name, Wrap::other(visitor))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0
            .deserialize_newtype_struct(name, Wrap::other(visitor))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple(len, Wrap::other(visitor))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0
            .deserialize_tuple_struct(name, len, Wrap::other(visitor))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let shape = Shape::Struct(fields);
        self.0
            .deserialize_struct(name, fields, Wrap { visitor, shape })
    }

    /// An enum is read by its shape, as a name (`"full"`) or a one-key object
    /// (`{"exponential": "5ms"}`), so that any other value gets "expected one of ..." and
    /// a second key gets its own message (serde_json's own enum reading says only
    /// "expected value" for both).
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(EnumShim { visitor, variants })
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

macro_rules! visit {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(
            fn $method<E: de::Error>(self, value: $ty) -> Result<Self::Value, E> {
                self.visitor.$method(value)
            }
        )*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.shape {
            Shape::Other => self.visitor.expecting(f),
            Shape::Struct([]) => f.write_str("an object {}"),
            Shape::Struct(fields) => write!(f, "an object with the keys {}", names(fields)),
        }
    }

    visit!(
        visit_bool(bool),
        visit_i8(i8),
        visit_i16(i16),
        visit_i32(i32),
        visit_i64(i64),
        visit_i128(i128),
        visit_u8(u8),
        visit_u16(u16),
        visit_u32(u32),
        visit_u64(u64),
        visit_u128(u128),
        visit_f32(f32),
        visit_f64(f64),
        visit_char(char),
        visit_str(&str),
        visit_borrowed_str(&'de str),
        visit_string(String),
        visit_bytes(&[u8]),
        visit_borrowed_bytes(&'de [u8]),
        visit_byte_buf(Vec<u8>),
    );

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visitor.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visitor.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        self.visitor.visit_some(Strict(deserializer))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        self.visitor.visit_newtype_struct(Strict(deserializer))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        if let Shape::Struct(_) = self.shape {
            // The rule of this module: a struct is an object, never its fields in order.
            return Err(de::Error::invalid_type(de::Unexpected::Seq, &self));
        }
        self.visitor.visit_seq(StrictSeq(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.visitor.visit_map(StrictMap(map))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        self.visitor.visit_enum(StrictEnum(data))
    }
}

/// Reads an enum from a name or a one-key object.
struct EnumShim<V> {
    visitor: V,
    variants: &'static [&'static str],
}

impl<'de, V: Visitor<'de>> Visitor<'de> for EnumShim<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "one of {}", names(self.variants))
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Self::Value, E> {
        self.visitor.visit_enum(NameOnly {
            name: name.to_owned(),
            marker: std::marker::PhantomData,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let Some(kind) = map.next_key::<String>()? else {
            return Err(de::Error::custom(format!(
                "an empty object: write one key, one of {}",
                names(self.variants)
            )));
        };
        let value = self.visitor.visit_enum(OneKey {
            map: &mut map,
            kind: kind.clone(),
        })?;
        if let Some(extra) = map.next_key::<String>()? {
            return Err(de::Error::custom(format!(
                "one kind per object: this object has both {kind:?} and {extra:?}; keep one"
            )));
        }
        Ok(value)
    }
}

/// An enum written as a name: a kind that takes no value.
struct NameOnly<E> {
    name: String,
    marker: std::marker::PhantomData<E>,
}

impl<'de, E: de::Error> EnumAccess<'de> for NameOnly<E> {
    type Error = E;
    type Variant = Self;

    fn variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<(T::Value, Self), E> {
        let kind = seed.deserialize(de::value::StrDeserializer::<E>::new(&self.name))?;
        Ok((kind, self))
    }
}

impl<'de, E: de::Error> de::VariantAccess<'de> for NameOnly<E> {
    type Error = E;

    fn unit_variant(self) -> Result<(), E> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _: T) -> Result<T::Value, E> {
        Err(self.takes_a_value())
    }

    fn tuple_variant<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, E> {
        Err(self.takes_a_value())
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, E> {
        Err(self.takes_a_value())
    }
}

impl<E: de::Error> NameOnly<E> {
    fn takes_a_value(&self) -> E {
        E::custom(format!(
            "{:?} takes a value: write {{{:?}: ...}}",
            self.name, self.name
        ))
    }
}

/// An enum written as a one-key object: the key is the kind, the value its contents.
struct OneKey<'a, A> {
    map: &'a mut A,
    kind: String,
}

impl<'de, A: MapAccess<'de>> EnumAccess<'de> for OneKey<'_, A> {
    type Error = A::Error;
    type Variant = Self;

    fn variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<(T::Value, Self), A::Error> {
        let kind = seed.deserialize(de::value::StrDeserializer::<A::Error>::new(&self.kind))?;
        Ok((kind, self))
    }
}

impl<'de, A: MapAccess<'de>> de::VariantAccess<'de> for OneKey<'_, A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.map.next_value::<de::IgnoredAny>()?;
        Err(de::Error::custom(format!(
            "{:?} takes no value: write it as a name, {:?}",
            self.kind, self.kind
        )))
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.map.next_value_seed(StrictSeed(seed))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(VisitorSeed {
            visitor,
            form: Form::Tuple(len),
        })
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(VisitorSeed {
            visitor,
            form: Form::Struct(fields),
        })
    }
}

/// The contents of a tuple or struct variant.
enum Form {
    Tuple(usize),
    Struct(&'static [&'static str]),
}

struct VisitorSeed<V> {
    visitor: V,
    form: Form,
}

impl<'de, V: Visitor<'de>> DeserializeSeed<'de> for VisitorSeed<V> {
    type Value = V::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<V::Value, D::Error> {
        match self.form {
            Form::Tuple(len) => Strict(deserializer).deserialize_tuple(len, self.visitor),
            Form::Struct(fields) => {
                Strict(deserializer).deserialize_struct("", fields, self.visitor)
            }
        }
    }
}

struct StrictSeed<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for StrictSeed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(Strict(deserializer))
    }
}

struct StrictSeq<A>(A);

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for StrictSeq<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(StrictSeed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

struct StrictMap<A>(A);

impl<'de, A: MapAccess<'de>> MapAccess<'de> for StrictMap<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(StrictSeed(seed))
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.0.next_value_seed(StrictSeed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

struct StrictEnum<A>(A);

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for StrictEnum<A> {
    type Error = A::Error;
    type Variant = StrictVariant<A::Variant>;

    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, Self::Variant), A::Error> {
        let (value, variant) = self.0.variant_seed(StrictSeed(seed))?;
        Ok((value, StrictVariant(variant)))
    }
}

struct StrictVariant<A>(A);

impl<'de, A: de::VariantAccess<'de>> de::VariantAccess<'de> for StrictVariant<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.0.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.0.newtype_variant_seed(StrictSeed(seed))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.0.tuple_variant(len, Wrap::other(visitor))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        let shape = Shape::Struct(fields);
        self.0.struct_variant(fields, Wrap { visitor, shape })
    }
}

/// A key given twice in one object of a JSON text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateKey {
    /// Field path of the second one (`network.latency.exponential`).
    pub path: String,
    /// The key.
    pub key: String,
    /// 1-based line of the second one.
    pub line: usize,
    /// 1-based column where the second one starts (its opening quote).
    pub column: usize,
}

/// The first key given twice in one object of `text` (`{"exponential": "2ms",
/// "exponential": "3ms"}`), if any. serde's structs refuse a repeated field, but a value
/// read whole (a distribution, a map) keeps the last of two keys silently; this pass
/// over the text finds a repetition wherever it is. A text that is not JSON has none
/// (its syntax error is the parser's to report).
pub fn duplicate_key(text: &str) -> Option<DuplicateKey> {
    let found = std::cell::RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let walk = KeyWalk {
        path: String::new(),
        found: &found,
    };
    let err = walk.deserialize(&mut deserializer).err()?;
    let (path, key) = found.into_inner()?;
    // serde stops just past the key's closing quote: step back to its opening one.
    let line_text = text.lines().nth(err.line().saturating_sub(1)).unwrap_or("");
    let end = line_text
        .char_indices()
        .nth(err.column())
        .map_or(line_text.len(), |(at, _)| at);
    let column = opening_quote(&line_text[..end])
        .map_or(err.column(), |at| line_text[..at].chars().count() + 1);
    Some(DuplicateKey {
        path,
        key,
        line: err.line(),
        column,
    })
}

/// Byte offset of the quote that opens the string closed by the last quote of `line`.
fn opening_quote(line: &str) -> Option<usize> {
    let close = line.rfind('"')?;
    let bytes = line.as_bytes();
    let mut at = close;
    while at > 0 {
        at -= 1;
        if bytes[at] == b'"' {
            let backslashes = bytes[..at]
                .iter()
                .rev()
                .take_while(|b| **b == b'\\')
                .count();
            if backslashes % 2 == 0 {
                return Some(at);
            }
        }
    }
    None
}

/// Walks any JSON value, keeping the path, and stops at a repeated key.
struct KeyWalk<'a> {
    path: String,
    found: &'a std::cell::RefCell<Option<(String, String)>>,
}

impl<'de> DeserializeSeed<'de> for KeyWalk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeyWalk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        loop {
            let element = KeyWalk {
                path: format!("{}[{index}]", self.path),
                found: self.found,
            };
            if seq.next_element_seed(element)?.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut keys = std::collections::BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.path.is_empty() {
                key.clone()
            } else {
                format!("{}.{key}", self.path)
            };
            if keys.contains(&key) {
                *self.found.borrow_mut() = Some((path, key));
                return Err(de::Error::custom("duplicate key"));
            }
            map.next_value_seed(KeyWalk {
                path,
                found: self.found,
            })?;
            keys.insert(key);
        }
        Ok(())
    }
}

/// Deserializes `T` from `deserializer` through [`Strict`], keeping serde's path to an
/// error (`clients.retry.backoff`).
pub fn deserialize<'de, D, T>(deserializer: D) -> Result<T, serde_path_to_error::Error<D::Error>>
where
    D: Deserializer<'de>,
    T: de::Deserialize<'de>,
{
    serde_path_to_error::deserialize(Strict(deserializer))
}

/// Reads `T` from a value buffered by a hand-written `Deserialize` (a shape chosen by
/// looking at the value, where serde's `untagged` would lose every path inside it), and
/// carries an error's path inside the value out to the loader as a [`NestedError`].
pub fn nested<T: de::DeserializeOwned, E: de::Error>(value: Value) -> Result<T, E> {
    deserialize(value).map_err(|err| {
        E::custom(NestedError {
            path: err.path().to_string(),
            message: err.into_inner().to_string(),
        })
    })
}

/// What a buffered value is, for `invalid type` errors.
pub fn unexpected(value: &Value) -> de::Unexpected<'_> {
    match value {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Number(number) => match (number.as_u64(), number.as_i64(), number.as_f64()) {
            (Some(n), _, _) => de::Unexpected::Unsigned(n),
            (None, Some(n), _) => de::Unexpected::Signed(n),
            (None, None, Some(n)) => de::Unexpected::Float(n),
            _ => de::Unexpected::Other("a number"),
        },
        Value::String(s) => de::Unexpected::Str(s),
        Value::Array(_) => de::Unexpected::Seq,
        Value::Object(_) => de::Unexpected::Map,
    }
}

/// The error of a workload object's own keys: serde's path inside the object and its
/// message, carried out through serde's error type to the loader, which locates it.
#[derive(Debug)]
pub struct NestedError {
    /// Path inside the `workload` object (`clients.retry.backoff.jitter`).
    pub path: String,
    /// serde's message.
    pub message: String,
}

/// The separator of [`NestedError`]'s fields inside a serde error message.
pub const NESTED_MARK: char = '\u{1}';

impl fmt::Display for NestedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{NESTED_MARK}{}{NESTED_MARK}{}", self.path, self.message)
    }
}

impl NestedError {
    /// Splits a message written by [`NestedError`]'s `Display` back into (path, message).
    pub fn parse(message: &str) -> Option<(&str, &str)> {
        let rest = message.strip_prefix(NESTED_MARK)?;
        rest.split_once(NESTED_MARK)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        a: u32,
        #[serde(default)]
        b: Vec<u32>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        One(Inner),
        Two,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Outer {
        inner: Inner,
        kinds: Vec<Kind>,
    }

    fn parse(text: &str) -> Result<Outer, String> {
        let mut json = serde_json::Deserializer::from_str(text);
        super::deserialize(&mut json).map_err(|err| format!("{}: {}", err.path(), err.inner()))
    }

    #[test]
    fn objects_and_lists_load_as_before() {
        let outer =
            parse(r#"{"inner": {"a": 1, "b": [2]}, "kinds": [{"one": {"a": 3}}, "two"]}"#).unwrap();
        assert_eq!(outer.inner, Inner { a: 1, b: vec![2] });
        assert_eq!(
            outer.kinds,
            vec![Kind::One(Inner { a: 3, b: vec![] }), Kind::Two]
        );
    }

    #[test]
    fn a_list_where_an_object_is_required_is_refused_at_any_depth() {
        let err = parse(r#"{"inner": [1], "kinds": []}"#).unwrap_err();
        assert!(
            err.starts_with(
                "inner: invalid type: sequence, expected an object with the keys \"a\", \"b\""
            ),
            "{err}"
        );
        let err = parse(r#"{"inner": {"a": 1}, "kinds": [{"one": [1]}]}"#).unwrap_err();
        assert!(
            err.starts_with("kinds[0].one: invalid type: sequence"),
            "{err}"
        );
        let err = parse(r#"[{"a": 1}, []]"#).unwrap_err();
        assert!(err.contains("expected an object"), "{err}");
        // Through a Value too.
        let value: serde_json::Value =
            serde_json::from_str(r#"{"inner": [1], "kinds": []}"#).unwrap();
        let err = super::deserialize::<_, Outer>(value).unwrap_err();
        assert_eq!(err.path().to_string(), "inner");
    }

    #[test]
    fn enums_name_their_kinds() {
        let err = parse(r#"{"inner": {"a": 1}, "kinds": [5]}"#).unwrap_err();
        assert!(err.contains("expected one of \"one\", \"two\""), "{err}");
        assert!(!err.contains("enum Kind"), "{err}");
    }
}
