//! What each node type does: one [`NodeKind`] per type, one file per kind (the triggers
//! share one), listed in [`KINDS`] — the registry the catalog is made of. A node runs with
//! its configuration's expressions already evaluated and returns the output port it emits
//! on and its output. Helpers several kinds share (the public-only HTTP client, the script
//! sandbox, the model client, access checks, memory search) are in `support`.
//!
//! Adding a node type: a file implementing [`NodeKind`], and its line in [`KINDS`].

use std::{collections::HashMap, sync::Arc};

use serde_json::Value;

use super::{
    definition::graph::NodeSpec,
    runtime::{Runner, expr},
};

mod agent;
mod code;
mod collection;
mod conditional;
mod config;
mod data_source;
mod delay;
mod email;
mod filter;
mod http_request;
mod infrastructure;
mod kind;
mod llm;
mod loops;
mod memory_search;
mod memory_store;
mod rag;
pub(crate) mod support;
pub mod trigger;

pub(crate) use agent::Agent;
pub(crate) use code::Code;
pub(crate) use collection::{CollectionCollect, CollectionRecords};
pub(crate) use conditional::Conditional;
pub(crate) use data_source::DataSource;
pub(crate) use delay::Delay;
pub(crate) use email::SendEmail;
pub(crate) use filter::Filter;
pub(crate) use http_request::HttpRequest;
pub(crate) use infrastructure::{InfrastructureAction, InfrastructureStatus};
pub(crate) use kind::{DynNodeKind, NodeCtx, NodeKind};
pub(crate) use llm::Llm;
pub(crate) use loops::Loop;
pub(crate) use memory_search::MemorySearch;
pub(crate) use memory_store::MemoryStore;
pub(crate) use rag::RagContext;
pub use support::{
    net::http_client,
    script::{ScriptLimits, run_script},
};
pub(crate) use trigger::{ManualTrigger, ScheduleTrigger, WebhookTrigger};

/// Every node type, in palette order.
pub(crate) static KINDS: &[&dyn DynNodeKind] = &[
    &ManualTrigger,
    &WebhookTrigger,
    &ScheduleTrigger,
    &HttpRequest,
    &Code,
    &Conditional,
    &Loop,
    &Filter,
    &Delay,
    &SendEmail,
    &DataSource,
    &InfrastructureStatus,
    &InfrastructureAction,
    &CollectionRecords,
    &CollectionCollect,
    &Llm,
    &MemoryStore,
    &MemorySearch,
    &RagContext,
    &Agent,
];

/// A node's failure, with the kind retry policies match on.
#[derive(Debug)]
pub struct NodeError {
    /// `timeout`, `network`, `http_4xx`, `http_5xx`, `http_429`, `script`, `model`,
    /// `expression`, `config`, `internal`.
    pub kind: &'static str,
    pub message: String,
}

impl NodeError {
    pub fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    /// Does a policy's `retryOn` list cover this error?
    pub fn matches(&self, retry_on: &[String]) -> bool {
        retry_on.is_empty()
            || retry_on
                .iter()
                .any(|k| k == "any" || k == self.kind || (k == "http_4xx" && self.kind == "http_429"))
    }
}

impl From<sea_orm::DbErr> for NodeError {
    fn from(e: sea_orm::DbErr) -> Self {
        NodeError::new("internal", e.to_string())
    }
}

/// The port a node emits on and its output.
pub(crate) type Out = Result<(String, Value), NodeError>;

/// Emits `v` on `main`.
fn main(v: Value) -> Out {
    Ok(("main".into(), v))
}

/// Runs one attempt of `spec`. `secrets` puts the values of the node's secret markers into
/// what an HTTP, LLM, AI Agent or Email node sends (and nowhere else). The output is
/// refused when larger than `ZYGO_WORKFLOW_MAX_OUTPUT_BYTES` as JSON (measured without
/// copying it), before the run stores or passes it on.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn execute(
    runner: Arc<Runner>,
    spec: &NodeSpec,
    iteration: &str,
    input: &Value,
    config: &Value,
    secrets: &expr::SecretSet,
    outputs: &mut HashMap<String, Value>,
    item: &Value,
    index: &Value,
) -> Out {
    let max = expr::Budget::of(&runner.app.config.workflows).max_output;
    let Some(node_type) = spec.kind() else {
        return Err(NodeError::new("config", format!("unknown node type `{}`", spec.node_type)));
    };
    let ctx = NodeCtx { runner, spec, iteration, input, secrets, outputs, item, index };
    let (port, output) = node_type.kind.run_json(ctx, config).await?;
    if crate::modules::workflows::runtime::budget::json_len(&output, max).is_err() {
        return Err(NodeError::new(
            "config",
            format!("the node's output is larger than {max} bytes (ZYGO_WORKFLOW_MAX_OUTPUT_BYTES)"),
        ));
    }
    Ok((port, output))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    /// Keys are unique, and every kind is found by its own key.
    #[test]
    fn the_registry_is_the_catalog() {
        let catalog = super::super::catalog::all();
        assert_eq!(catalog.len(), KINDS.len());
        assert_eq!(catalog.iter().map(|t| t.key).collect::<HashSet<_>>().len(), KINDS.len());
        for t in catalog {
            let found = super::super::catalog::get(t.key).expect("found by its key");
            assert!(std::ptr::eq(found, t));
        }
        assert_eq!(catalog[0].key, ManualTrigger::KEY);
        assert_eq!(catalog.last().map(|t| t.key), Some(Agent::KEY));
    }
}
