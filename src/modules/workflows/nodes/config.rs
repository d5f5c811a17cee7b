//! Reading a node's evaluated configuration into its kind's typed `Config`.
//!
//! A configuration is checked against its JSON Schema when the workflow is saved, but its
//! expressions are evaluated later and may give any JSON value, so the fields are as tolerant
//! as the nodes always were: most take any value and read one of the wrong type as missing
//! ([`lenient`]) or keep it as JSON ([`present`], `serde_json::Value`); a field a node cannot
//! do without is a [`string`], and one of another type fails the node with kind `config` and
//! `config.<key> must be a string`. A configuration that is not an object reads as `{}`.

use std::fmt;

use serde::{
    Deserialize,
    de::{self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, Visitor},
};
use serde_json::Value;

use super::NodeError;

/// `config` as a `C`; a field that does not deserialise is named in the error.
pub(crate) fn parse<C: DeserializeOwned>(config: &Value) -> Result<C, NodeError> {
    C::deserialize(Fields(config)).map_err(|e| NodeError::new("config", e.0))
}

/// The error of a required string field of another type (or missing where the node checks
/// it itself).
pub(crate) fn not_a_string(key: &str) -> NodeError {
    NodeError::new("config", format!("config.{key} {MUST_BE_A_STRING}"))
}

const MUST_BE_A_STRING: &str = "must be a string";

/// A field the node needs as a string (`#[serde(deserialize_with = "config::string")]`).
pub(crate) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        _ => Err(de::Error::custom(MUST_BE_A_STRING)),
    }
}

/// A field read when it has the right type and as missing otherwise, like
/// `config.get(key).and_then(Value::as_…)` (with `#[serde(default, deserialize_with =
/// "config::lenient")]` on an `Option`).
pub(crate) fn lenient<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    Ok(T::deserialize(Value::deserialize(d)?).ok())
}

/// A field of any JSON value where `null` is not the same as missing: `Some(Value::Null)`
/// (with `#[serde(default, deserialize_with = "config::present")]` on an `Option<Value>`).
pub(crate) fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// The configuration object as a deserializer that knows which key it is reading.
struct Fields<'de>(&'de Value);

/// An error already phrased for the node's log.
#[derive(Debug)]
struct FieldError(String);

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FieldError {}

impl de::Error for FieldError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        FieldError(format!("config: {msg}"))
    }

    fn missing_field(field: &'static str) -> Self {
        FieldError(format!("config.{field} is required"))
    }
}

impl<'de> Deserializer<'de> for Fields<'de> {
    type Error = FieldError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_map(Entries { iter: self.0.as_object().into_iter().flatten(), value: None })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

/// The entries of the configuration object (none if it is not one); a value's error is
/// prefixed with its key.
struct Entries<'de, I> {
    iter: I,
    value: Option<(&'de str, &'de Value)>,
}

impl<'de, I: Iterator<Item = (&'de String, &'de Value)>> MapAccess<'de> for Entries<'de, I> {
    type Error = FieldError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, FieldError> {
        let Some((key, value)) = self.iter.next() else {
            return Ok(None);
        };
        self.value = Some((key, value));
        seed.deserialize(de::value::BorrowedStrDeserializer::new(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, FieldError> {
        let (key, value) = self.value.take().expect("serde reads a key before its value");
        seed.deserialize(value).map_err(|e| {
            let e = e.to_string();
            // `must …` reads as a sentence after the key; anything else (serde's own
            // messages) after a colon.
            FieldError(if e.starts_with("must ") {
                format!("config.{key} {e}")
            } else {
                format!("config.{key}: {e}")
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Sample {
        #[serde(deserialize_with = "string")]
        url: String,
        #[serde(default, deserialize_with = "lenient")]
        max_items: Option<u64>,
        #[serde(default, deserialize_with = "present")]
        body: Option<Value>,
    }

    fn parse_sample(v: Value) -> Result<Sample, (&'static str, String)> {
        parse::<Sample>(&v).map_err(|e| (e.kind, e.message))
    }

    #[test]
    fn fields_are_as_tolerant_as_json_reads_and_bad_ones_are_named() {
        let s = parse_sample(json!({ "url": "u", "maxItems": 3, "body": null, "other": [1] })).unwrap();
        assert_eq!((s.url.as_str(), s.max_items, s.body), ("u", Some(3), Some(Value::Null)));
        let s = parse_sample(json!({ "url": "u", "maxItems": -1 })).unwrap();
        assert_eq!((s.max_items, s.body), (None, None));
        assert_eq!(parse_sample(json!({ "maxItems": 3.5, "url": "u" })).unwrap().max_items, None);
        assert_eq!(
            parse_sample(json!({ "url": 5 })).unwrap_err(),
            ("config", "config.url must be a string".to_string())
        );
        assert_eq!(
            parse_sample(json!({ "url": null })).unwrap_err(),
            ("config", "config.url must be a string".to_string())
        );
        assert_eq!(parse_sample(json!({})).unwrap_err(), ("config", "config.url is required".to_string()));
        assert_eq!(parse_sample(json!(null)).unwrap_err(), ("config", "config.url is required".to_string()));
    }
}
