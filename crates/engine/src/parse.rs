//! Reading a definition from JSON (an API body, an import file) with the failing
//! field named: serde's own error says only "unknown variant `htp`" and a line and
//! column, which is no help beside a step in the builder.

use obera_types::{FieldError, WorkflowDefinition};

/// Parses a definition, or names the first field that is not what it must be, as
/// `steps[2].config.type` (by index: the step's key may be the thing that failed).
pub fn parse_definition(json: &[u8]) -> Result<WorkflowDefinition, FieldError> {
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let definition: WorkflowDefinition = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|e| FieldError {
            field: match e.path().to_string().as_str() {
                "." => String::new(),
                path => path.to_owned(),
            },
            message: e.inner().to_string(),
        })?;
    deserializer.end().map_err(|e| FieldError {
        field: String::new(),
        message: e.to_string(),
    })?;
    Ok(definition)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_step_type_names_the_config_it_is_in() {
        let json = br#"{"steps":[
            {"key":"a","name":"A","config":{"type":"transform","expression":"1"}},
            {"key":"b","name":"B","config":{"type":"htp","url":"x"}}
        ]}"#;
        let err = parse_definition(json).err();
        assert_eq!(
            err.as_ref().map(|e| e.field.as_str()),
            Some("steps[1].config.type")
        );
        assert!(
            err.is_some_and(|e| e.message.contains("unknown variant `htp`")),
            "the message names the bad type"
        );
    }

    #[test]
    fn a_bad_key_or_branch_names_its_field() {
        let bad_key = br#"{"steps":[{"key":"Bad Key","name":"A","config":{"type":"transform","expression":"1"}}]}"#;
        assert_eq!(
            parse_definition(bad_key).err().map(|e| e.field),
            Some("steps[0].key".to_owned())
        );
        let bad_branch =
            br#"{"steps":[{"key":"a","name":"A","config":{"type":"transform","expression":"1"},
            "next":[{"to":"a","branch":"sometimes"}]}]}"#;
        assert_eq!(
            parse_definition(bad_branch).err().map(|e| e.field),
            Some("steps[0].next[0].branch".to_owned())
        );
    }

    #[test]
    fn trailing_garbage_and_non_json_are_refused() {
        assert!(parse_definition(br#"{"steps":[]} x"#).is_err());
        assert!(parse_definition(b"not json").is_err());
        assert!(parse_definition(br#"{"steps":[]}"#).is_ok());
    }
}
