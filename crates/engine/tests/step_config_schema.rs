//! The OpenAPI schema of step configs is what SDK generators turn into classes: a
//! `oneOf` with a `type` discriminator naming one schema per step kind, each of them
//! a typed object rather than a free-form map.

use obera_types::StepConfig;
use serde_json::Value;
use utoipa::{PartialSchema, ToSchema};

fn components() -> serde_json::Map<String, Value> {
    let mut schemas = Vec::new();
    <StepConfig as ToSchema>::schemas(&mut schemas);
    schemas
        .into_iter()
        .map(|(name, schema)| (name, serde_json::to_value(schema).unwrap_or(Value::Null)))
        .collect()
}

#[test]
fn step_config_is_a_one_of_with_a_type_discriminator_over_every_kind() {
    let schema = serde_json::to_value(StepConfig::schema()).unwrap_or(Value::Null);
    let one_of = schema["oneOf"].as_array().cloned().unwrap_or_default();
    assert_eq!(one_of.len(), StepConfig::TAGS.len());
    assert_eq!(schema["discriminator"]["propertyName"], "type");
    let mapping = schema["discriminator"]["mapping"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let components = components();
    for tag in StepConfig::TAGS {
        let reference = mapping[*tag].as_str().unwrap_or_default();
        assert!(
            one_of.iter().any(|item| item["$ref"] == reference),
            "{tag} is not among the oneOf items"
        );
        let name = reference.trim_start_matches("#/components/schemas/");
        let variant = &components[name];
        assert_eq!(
            variant["properties"]["type"]["enum"],
            serde_json::json!([tag]),
            "{name}"
        );
        assert!(
            variant["required"]
                .as_array()
                .is_some_and(|r| r.contains(&Value::from("type"))),
            "{name} does not require `type`"
        );
    }
}

/// A schema is free-form when it is an object that says nothing about its fields.
fn free_form(schema: &Value) -> bool {
    let is_object = schema["type"] == "object" || schema.get("properties").is_some();
    let described = schema
        .get("properties")
        .is_some_and(|p| p.as_object().is_some_and(|m| !m.is_empty()));
    let open_extra = matches!(schema.get("additionalProperties"), Some(Value::Bool(true)))
        || schema
            .get("additionalProperties")
            .is_some_and(|a| a.as_object().is_some_and(|m| m.is_empty()));
    (is_object && !described && schema.get("$ref").is_none())
        || open_extra
        || *schema == serde_json::json!({})
}

fn walk<'a>(value: &'a Value, at: String, out: &mut Vec<(String, &'a Value)>) {
    out.push((at.clone(), value));
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k != "enum" && k != "default" && k != "example" {
                    walk(v, format!("{at}.{k}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                walk(v, format!("{at}[{i}]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn no_step_config_schema_is_a_free_form_object() {
    let components = components();
    assert!(
        components.len() > StepConfig::TAGS.len(),
        "nested schemas are collected too"
    );
    let mut nodes = Vec::new();
    for (name, schema) in &components {
        walk(schema, name.clone(), &mut nodes);
    }
    let loose: Vec<&String> = nodes
        .iter()
        .filter(|(at, node)| {
            // Only schema positions: the roots and the values of `properties` / `items`.
            let is_schema_position = !at.contains('.')
                || at
                    .rsplit_once('.')
                    .is_some_and(|(parent, _)| parent.ends_with(".properties"))
                || at.ends_with(".items");
            is_schema_position && node.is_object() && free_form(node)
        })
        .map(|(at, _)| at)
        .collect();
    assert!(loose.is_empty(), "free-form objects at {loose:?}");
    assert!(
        free_form(&serde_json::json!({ "type": "object" })),
        "the detector finds maps"
    );
    assert!(free_form(
        &serde_json::json!({ "type": "object", "additionalProperties": true })
    ));
    for expected in [
        "HttpStep",
        "LoopStep",
        "DbOperation",
        "NotifyChannel",
        "GetUserOperation",
        "Template",
    ] {
        assert!(
            components.contains_key(expected),
            "{expected} is not published"
        );
    }
}
#[test]
fn the_definition_schema_collects_its_steps_despite_loop_bodies_nesting_definitions() {
    let mut schemas = Vec::new();
    <obera_types::WorkflowDefinition as ToSchema>::schemas(&mut schemas);
    let names: Vec<&str> = schemas.iter().map(|(n, _)| n.as_str()).collect();
    for expected in [
        "Step",
        "StepConfig",
        "Edge",
        "Branch",
        "RetryPolicy",
        "OnError",
        "LoopStep",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
}
