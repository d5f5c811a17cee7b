//! [`NodeKind`]: one node type — its catalog entry and what a node of that type does.

use std::{collections::HashMap, future::Future, sync::Arc};

use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{Out, config};
use crate::modules::workflows::{
    catalog::NodeType,
    definition::graph::NodeSpec,
    runtime::{Runner, expr},
};

/// What one attempt of a node gets besides its configuration.
pub(crate) struct NodeCtx<'a> {
    pub runner: Arc<Runner>,
    pub spec: &'a NodeSpec,
    /// Which pass of the enclosing loops (or agent tool calls) this is; empty at the top.
    pub iteration: &'a str,
    pub input: &'a Value,
    /// The values behind the secret markers of the node's configuration.
    pub secrets: &'a expr::SecretSet,
    /// Outputs of the nodes that ran so far (in this iteration's scope).
    pub outputs: &'a mut HashMap<String, Value>,
    /// The enclosing loop's item and index (`null` outside loops).
    pub item: &'a Value,
    pub index: &'a Value,
}

/// One node type. Its constants and schema are its entry in the catalog
/// ([`NodeType::of`]), which is made of the registry [`super::KINDS`]; `run` is one attempt
/// of a node of the type.
pub(crate) trait NodeKind: Send + Sync + 'static {
    /// The key in a node's `type`, e.g. `http.request`.
    const KEY: &'static str;
    /// `trigger`, `action`, `transform`, `logic`, `flow`, `data` or `ai`.
    const CATEGORY: &'static str;
    const NAME: &'static str;
    const DESCRIPTION: &'static str;
    const INPUTS: &'static [&'static str];
    const OUTPUTS: &'static [&'static str];
    /// Running it twice has no effect outside the run (so an interrupted one may rerun).
    const SAFE_TO_REPEAT: bool;
    /// Timeout of one attempt when the node sets none, in milliseconds.
    const DEFAULT_TIMEOUT_MS: u64;
    /// Configuration keys the node evaluates itself, once per item (with `item` and
    /// `index`), instead of the engine evaluating them once before the node runs.
    const PER_ITEM: &'static [&'static str] = &[];
    /// Before it starts, what finished so far is written, so a crash while it runs (a long
    /// wait) resumes after those nodes.
    const CHECKPOINT_BEFORE: bool = false;
    /// `run` gets the values of the secret markers in its configuration: only for what a
    /// node sends (HTTP, LLM, AI Agent, Email), never for what is stored or logged.
    const REVEALS_SECRETS: bool = false;
    /// Keys the configuration's JSON Schema requires.
    const REQUIRED: &'static [&'static str];

    /// The configuration, deserialised once per attempt from the evaluated JSON (see
    /// [`config`] for how tolerant its fields are and how a bad one is reported).
    type Config: DeserializeOwned + Send;

    /// The JSON Schema `properties` of the configuration.
    fn properties() -> Value;

    /// One attempt: the output port the node emits on and its output.
    fn run(&self, ctx: NodeCtx<'_>, config: Self::Config) -> impl Future<Output = Out> + Send;
}

/// [`NodeKind`] as a trait object, for the registry.
pub(crate) trait DynNodeKind: Send + Sync {
    /// The catalog entry.
    fn node_type(&'static self) -> NodeType;

    /// One attempt with the evaluated configuration as JSON: reveals the secrets if the kind
    /// does, deserialises it into the kind's `Config` (a field of the wrong type fails with
    /// kind `config`), then runs.
    fn run_json<'a>(&'a self, ctx: NodeCtx<'a>, config: &'a Value) -> BoxFuture<'a, Out>;
}

impl<K: NodeKind> DynNodeKind for K {
    fn node_type(&'static self) -> NodeType {
        NodeType::of(self)
    }

    fn run_json<'a>(&'a self, ctx: NodeCtx<'a>, config: &'a Value) -> BoxFuture<'a, Out> {
        Box::pin(async move {
            let config = if K::REVEALS_SECRETS {
                config::parse(&ctx.secrets.reveal(config))?
            } else {
                config::parse(config)?
            };
            NodeKind::run(self, ctx, config).await
        })
    }
}

/// Port lists.
pub(crate) const MAIN: &[&str] = &["main"];
pub(crate) const MAIN_ERR: &[&str] = &["main", "error"];
pub(crate) const NONE: &[&str] = &[];

/// The schema of a string that usually holds an expression.
pub(crate) fn expr(description: &str) -> Value {
    json!({ "type": "string", "maxLength": 10000, "description": description })
}
