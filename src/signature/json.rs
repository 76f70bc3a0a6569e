//! Signed JSON read the way the signers' own verifiers read it, or refused. Go's encoding/json
//! (cosign, notation, in-toto) matches object keys to a struct's (ASCII) field names
//! case-insensitively with Unicode simple case folding, and the last of several matching keys
//! wins; serde matches exactly and keeps the first. A payload with two keys that fold to the
//! same name could therefore bind a signature to one digest here and to another in cosign, so
//! any object with such keys is refused, and the keys that remain are matched by their fold.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// A key as Go's decoder compares it with an ASCII field name: ASCII letters without case, and
/// the only two non-ASCII runes whose simple case folding reaches an ASCII letter, `ſ` (U+017F,
/// folds with `s`) and the Kelvin sign (U+212A, folds with `k`). Any other rune folds to no
/// ASCII letter in Go (not `ı`, not the ligature `ﬆ`), so it is kept as it is.
pub fn fold(key: &str) -> String {
    key.chars()
        .map(|c| match c {
            '\u{017f}' => 's',
            '\u{212a}' => 'k',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Parse `bytes` as JSON, refusing any object with two keys that fold to the same name.
pub fn parse_unique(bytes: &[u8]) -> Result<Value, String> {
    serde_json::from_slice::<Unique>(bytes).map(|u| u.0).map_err(|e| e.to_string())
}

/// The member of `v` whose key folds to `key`'s fold (there is at most one after
/// [`parse_unique`]).
pub fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    let want = fold(key);
    v.as_object()?.iter().find(|(k, _)| fold(k) == want).map(|(_, v)| v)
}

/// Rename, at every depth, the keys that fold to one of `fields` to that field's spelling, so a
/// serde struct reads what Go's case-insensitive decoder would. Call after [`parse_unique`].
pub fn canonical_keys(v: Value, fields: &[&str]) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let f = fold(&k);
                let name = fields.iter().find(|n| fold(n) == f).map_or(k, |n| n.to_string());
                out.insert(name, canonical_keys(v, fields));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.into_iter().map(|v| canonical_keys(v, fields)).collect()),
        other => other,
    }
}

/// [`canonical_keys`] on the top-level object only (a header whose nested values are kept as they are).
pub fn canonical_keys_top(v: Value, fields: &[&str]) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let f = fold(&k);
                    (fields.iter().find(|n| fold(n) == f).map_or(k, |n| n.to_string()), v)
                })
                .collect(),
        ),
        other => other,
    }
}

/// Parse signed JSON into `T` as Go would: duplicates (by fold) refused, field names matched by fold.
pub fn from_signed<T: serde::de::DeserializeOwned>(bytes: &[u8], fields: &[&str]) -> Result<T, String> {
    let v = parse_unique(bytes)?;
    serde_json::from_value(canonical_keys(v, fields)).map_err(|e| e.to_string())
}

struct Unique(Value);

impl<'de> Deserialize<'de> for Unique {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Unique, D::Error> {
        d.deserialize_any(UniqueVisitor).map(Unique)
    }
}

struct UniqueVisitor;

impl<'de> Visitor<'de> for UniqueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JSON")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::from(n))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::from(n))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_string()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Unique(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        let mut seen = std::collections::HashMap::new();
        while let Some(k) = map.next_key::<String>()? {
            if let Some(first) = seen.insert(fold(&k), k.clone()) {
                return Err(de::Error::custom(format!(
                    "keys {first:?} and {k:?} name the same member (Go's decoder matches keys case-insensitively \
                     and would take the last)"
                )));
            }
            let Unique(v) = map.next_value()?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_and_case_variants_are_refused() {
        assert!(parse_unique(br#"{"a":1,"a":2}"#).is_err());
        assert!(parse_unique(br#"{"critical":{"Image":{},"image":{}}}"#).is_err());
        // U+017F LATIN SMALL LETTER LONG S folds to s, U+212A KELVIN SIGN to k, as in Go.
        assert!(parse_unique("{\"docker-manifest-digest\":1,\"docker-manifeſt-digest\":2}".as_bytes()).is_err());
        assert!(parse_unique("[{\"kind\":1,\"\u{212a}ind\":2}]".as_bytes()).is_err());
        assert!(parse_unique(br#"{"a":{"b":1},"c":[{"b":2}]}"#).is_ok());
        // Go folds neither the dotless i nor the st ligature to ASCII: these are other keys.
        assert!(parse_unique("{\"digest\":1,\"dıgest\":2}".as_bytes()).is_ok());
        assert!(parse_unique("{\"digest\":1,\"digeﬆ\":2}".as_bytes()).is_ok());
    }

    #[test]
    fn members_are_found_by_fold() {
        let v = parse_unique(br#"{"Critical":{"IMAGE":{"Docker-manifest-digest":"sha256:x"}}}"#).unwrap();
        let d = get(get(get(&v, "critical").unwrap(), "image").unwrap(), "docker-manifest-digest").unwrap();
        assert_eq!(d, "sha256:x");
        let c = canonical_keys(v, &["critical", "image"]);
        assert!(c.get("critical").and_then(|c| c.get("image")).is_some());
        let v = parse_unique("{\"docker-manifeﬆ-digest\":\"x\"}".as_bytes()).unwrap();
        assert!(get(&v, "docker-manifest-digest").is_none());
    }
}
