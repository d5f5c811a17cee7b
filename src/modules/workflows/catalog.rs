//! The node type catalog: each type's category, ports and the JSON Schema of its
//! configuration, as its [`NodeKind`] declares them, in the order of the registry
//! [`nodes::KINDS`] (the palette's). The frontend renders configuration forms from the
//! schemas; validation checks every node's configuration against its schema.

use std::sync::OnceLock;

use serde_json::{Value, json};

use super::nodes::{self, DynNodeKind, NodeKind};

/// One node type.
pub struct NodeType {
    pub key: &'static str,
    pub category: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub inputs: &'static [&'static str],
    pub outputs: &'static [&'static str],
    /// Running it twice has no effect outside the run (so an interrupted one may rerun).
    pub safe_to_repeat: bool,
    /// Timeout of one attempt when the node sets none, in milliseconds.
    pub default_timeout_ms: u64,
    pub schema: Value,
    /// Compiled `schema`.
    pub validator: jsonschema::Validator,
    /// Configuration keys the node evaluates itself, once per item (with `item` and `index`),
    /// instead of the engine evaluating them once before the node runs.
    pub per_item: &'static [&'static str],
    /// Before it starts, what finished so far is written, so a crash while it runs (a long
    /// wait) resumes after those nodes.
    pub checkpoint_before: bool,
    /// What runs a node of this type.
    pub(crate) kind: &'static dyn DynNodeKind,
}

impl NodeType {
    /// The entry of `kind`.
    pub(crate) fn of<K: NodeKind>(kind: &'static K) -> Self {
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": K::properties(),
            "required": K::REQUIRED,
            "additionalProperties": false,
        });
        let validator = jsonschema::validator_for(&schema).expect("built-in node schemas are valid");
        NodeType {
            key: K::KEY,
            category: K::CATEGORY,
            name: K::NAME,
            description: K::DESCRIPTION,
            inputs: K::INPUTS,
            outputs: K::OUTPUTS,
            safe_to_repeat: K::SAFE_TO_REPEAT,
            default_timeout_ms: K::DEFAULT_TIMEOUT_MS,
            schema,
            validator,
            per_item: K::PER_ITEM,
            checkpoint_before: K::CHECKPOINT_BEFORE,
            kind,
        }
    }
}

/// Every node type, in palette order.
pub fn all() -> &'static [NodeType] {
    static CATALOG: OnceLock<Vec<NodeType>> = OnceLock::new();
    CATALOG.get_or_init(|| nodes::KINDS.iter().map(|k| k.node_type()).collect())
}

/// The type named `key`.
pub fn get(key: &str) -> Option<&'static NodeType> {
    all().iter().find(|t| t.key == key)
}
