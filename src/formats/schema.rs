//! Shapes the JSON documents share (docs/json.md), for the schema generated
//! from the types (docs/json.schema.json): a field of one of these types is
//! stricter than its Rust type says. Use with `#[schemars(with = "...")]`.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

/// `sha256:` and 64 hex digits: a digest or an image ID.
pub struct Digest;

impl JsonSchema for Digest {
    fn schema_name() -> Cow<'static, str> {
        "digest".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"})
    }
}

/// A tag, as the registry's distribution spec allows it.
pub struct Tag;

impl JsonSchema for Tag {
    fn schema_name() -> Cow<'static, str> {
        "tag".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "pattern": "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"})
    }
}

/// A full commit hash.
pub struct Commit;

impl JsonSchema for Commit {
    fn schema_name() -> Cow<'static, str> {
        "commit".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "pattern": "^[0-9a-f]{40}$"})
    }
}

/// `x86_64` or `aarch64`, for a field kept as a string.
pub struct PlatformName;

impl JsonSchema for PlatformName {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "platform_name".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        generator.subschema_for::<super::tags::Platform>()
    }
}

/// Seconds, never negative.
pub struct Seconds;

impl JsonSchema for Seconds {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "seconds".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "number", "minimum": 0})
    }
}
