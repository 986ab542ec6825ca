//! docs/json.schema.json, generated from the types the documents are made
//! of: the envelope written here (which command has which fields, `ok`
//! without `error`), each command's fields from its type's `JsonSchema`.
//! A test checks the committed file against it (`STACKTAG_BLESS=1` rewrites
//! it); the integration test `json::` validates every command's output.

use std::borrow::Cow;

use schemars::generate::{Contract, SchemaSettings};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Map, Value};

use super::*;
use crate::cli::exit::TABLE;

/// The commands and the type of their fields, in the order the file lists them.
fn commands(g: &mut SchemaGenerator) -> Vec<(&'static [&'static str], Value)> {
    vec![
        (
            &["hook", "tags-file", "manifest"],
            g.subschema_for::<Hook>().to_value(),
        ),
        (&["apply"], g.subschema_for::<Apply>().to_value()),
        (&["push"], g.subschema_for::<PerImage<Push>>().to_value()),
        (&["merge"], g.subschema_for::<PerImage<Merge>>().to_value()),
        (
            &["image-ref"],
            g.subschema_for::<PerImage<ImageRef>>().to_value(),
        ),
        (
            &["attach"],
            g.subschema_for::<PerImage<Attach>>().to_value(),
        ),
        (
            &["explain"],
            g.subschema_for::<PerImage<Explain>>().to_value(),
        ),
        (&["check"], g.subschema_for::<Check>().to_value()),
        (&["list"], g.subschema_for::<List>().to_value()),
        (&["wiki"], g.subschema_for::<Wiki>().to_value()),
        (&["save"], g.subschema_for::<Save>().to_value()),
        (&["load"], g.subschema_for::<Load>().to_value()),
        (&["ci"], g.subschema_for::<Ci>().to_value()),
        (&["copy"], g.subschema_for::<Copy>().to_value()),
        (&["delete"], g.subschema_for::<Delete>().to_value()),
        (&["retain"], g.subschema_for::<Retain>().to_value()),
        (&["tags"], g.subschema_for::<PerImage<TagList>>().to_value()),
        (
            &["find"],
            g.subschema_for::<crate::catalog::Answer>().to_value(),
        ),
        (&["build"], g.subschema_for::<BuildRun>().to_value()),
        (&["diff"], g.subschema_for::<DiffDoc>().to_value()),
    ]
}

/// An exit code other than 0, from the one table (docs/exit-codes.md).
pub struct ExitCode;

impl JsonSchema for ExitCode {
    fn schema_name() -> Cow<'static, str> {
        "exit_code".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let codes: Vec<i32> = TABLE.iter().map(|(c, _)| *c).filter(|c| *c != 0).collect();
        json_schema!({
            "description": "As docs/exit-codes.md: never 0 here",
            "enum": codes
        })
    }
}

/// The schema of every document, as docs/json.schema.json holds it.
pub fn document() -> Value {
    let mut settings = SchemaSettings::draft2020_12();
    settings.contract = Contract::Serialize;
    let mut g = settings.into_generator();
    let commands = commands(&mut g);
    let error = g.subschema_for::<ErrorDoc>().to_value();
    let mut defs: Map<String, Value> = g.take_definitions(true);
    // A command's own type, and the types of its variants (diff's changes).
    let mut roots: Vec<String> = commands
        .iter()
        .map(|(_, r)| def_name(r).to_string())
        .collect();
    for root in roots.clone() {
        for key in ["oneOf", "anyOf"] {
            let variants = defs[&root].get(key).and_then(Value::as_array);
            for variant in variants.into_iter().flatten() {
                if variant.get("$ref").is_some() {
                    roots.push(def_name(variant).to_string());
                }
            }
        }
    }
    for (name, def) in defs.iter_mut() {
        close(def, roots.contains(name));
    }
    let mut names = vec!["stacktag"];
    let mut rules = vec![
        json!({
            "if": {"properties": {"ok": {"const": true}}},
            "then": {"not": {"required": ["error"]}},
            "else": {"required": ["error"]}
        }),
        json!({
            "if": {"properties": {"command": {"const": "stacktag"}}},
            "then": {"properties": {"ok": {"const": false}}}
        }),
    ];
    for (group, root) in &commands {
        names.extend(group.iter());
        let fields = fields_of(&defs, &defs[def_name(root)]);
        let when = match group {
            [one] => json!({"const": one}),
            more => json!({"enum": more}),
        };
        // All of the command's fields, or (on a failed run) none of them.
        rules.push(json!({
            "if": {"properties": {"command": when}},
            "then": {"anyOf": [
                root,
                {
                    "properties": {"ok": {"const": false}},
                    "not": {"anyOf": fields.iter().map(|f| json!({"required": [f]})).collect::<Vec<_>>()}
                }
            ]}
        }));
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": format!("stacktag --format json (schema {SCHEMA})"),
        "description": "The one JSON document a stacktag command prints with --format json, or writes with --metadata-file. See docs/json.md. Generated from the types by src/cli/json/schema.rs: do not edit (STACKTAG_BLESS=1 cargo test --lib json::schema rewrites it).",
        "type": "object",
        "required": ["schema", "command", "ok"],
        "properties": {
            "schema": {"const": SCHEMA},
            "command": {
                "enum": names,
                "description": "The subcommand; `stacktag` for a command line that named none that is known"
            },
            "ok": {"type": "boolean"},
            "error": error
        },
        "allOf": rules,
        "unevaluatedProperties": false,
        "$defs": defs
    })
}

/// The file's text: pretty-printed, with a final newline.
pub fn text() -> String {
    serde_json::to_string_pretty(&document()).expect("plain data") + "\n"
}

fn def_name(reference: &Value) -> &str {
    reference["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .expect("a command's fields are a named type")
}

/// The fields a command's type can have (of every variant, for an enum).
fn fields_of(defs: &Map<String, Value>, def: &Value) -> Vec<String> {
    if let Some(r) = def.get("$ref") {
        let name = r
            .as_str()
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .unwrap_or_default();
        return defs.get(name).map_or(Vec::new(), |d| fields_of(defs, d));
    }
    let mut fields: Vec<String> = def
        .get("properties")
        .and_then(Value::as_object)
        .map_or(Vec::new(), |p| p.keys().cloned().collect());
    for key in ["oneOf", "anyOf", "allOf"] {
        for variant in def.get(key).and_then(Value::as_array).into_iter().flatten() {
            for f in fields_of(defs, variant) {
                if !fields.contains(&f) {
                    fields.push(f);
                }
            }
        }
    }
    fields
}

/// Every object with `properties` refuses the others (`additionalProperties:
/// false`), except a command's own (`root`): its fields sit beside the
/// envelope's, which `unevaluatedProperties` closes.
fn close(schema: &mut Value, root: bool) {
    match schema {
        Value::Object(map) => {
            // Rust's doc links read as plain code in the schema.
            if let Some(Value::String(d)) = map.get_mut("description") {
                *d = d.replace("[`", "`").replace("`]", "`");
            }
            if !root && map.contains_key("properties") && !map.contains_key("additionalProperties")
            {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            for (key, value) in map.iter_mut() {
                let variants = matches!(key.as_str(), "oneOf" | "anyOf" | "allOf");
                close(value, root && variants);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| close(v, root)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/json.schema.json is what the types say (`STACKTAG_BLESS=1` rewrites it).
    #[test]
    fn the_committed_schema_is_the_generated_one() {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/json.schema.json");
        let _ = file;
        // The one golden helper: STACKTAG_BLESS=1 rewrites it; read the diff.
        crate::golden::golden_at("docs/json.schema.json", &text());
    }

    #[test]
    fn every_command_with_a_document_is_in_the_schema() {
        let doc = document();
        let names = doc["properties"]["command"]["enum"].as_array().unwrap();
        use clap::CommandFactory;
        let text_only = ["prune", "gc"];
        for c in crate::cli::Cli::command().get_subcommands() {
            let c = c.get_name();
            assert!(
                text_only.contains(&c) || names.contains(&json!(c)),
                "{c} is not in the schema's commands"
            );
        }
    }
}
