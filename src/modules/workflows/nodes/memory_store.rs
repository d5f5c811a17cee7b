//! Memory Store: saves a record in one of the organisation's memory stores.

use chrono::Utc;
use entity::memory_record;
use sea_orm::Set;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    NodeError, Out, config,
    kind::{MAIN, MAIN_ERR, NodeCtx, NodeKind, expr},
    main,
};

pub(crate) struct MemoryStore;

#[derive(Deserialize)]
pub(crate) struct MemoryStoreConfig {
    #[serde(deserialize_with = "config::string")]
    store: String,
    /// Stored as it is when a string, as JSON otherwise.
    #[serde(default, deserialize_with = "config::present")]
    content: Option<Value>,
    /// Default `{}`.
    #[serde(default, deserialize_with = "config::present")]
    metadata: Option<Value>,
}

impl NodeKind for MemoryStore {
    const KEY: &'static str = "memory.store";
    const CATEGORY: &'static str = "ai";
    const NAME: &'static str = "Memory Store";
    const DESCRIPTION: &'static str = "Saves a record in one of the organisation's memory stores.";
    const INPUTS: &'static [&'static str] = MAIN;
    const OUTPUTS: &'static [&'static str] = MAIN_ERR;
    const SAFE_TO_REPEAT: bool = false;
    const DEFAULT_TIMEOUT_MS: u64 = 10_000;
    const REQUIRED: &'static [&'static str] = &["store", "content"];
    type Config = MemoryStoreConfig;

    fn properties() -> Value {
        json!({
            "store": { "type": "string", "minLength": 1, "maxLength": 100 },
            "content": expr("Text to remember"),
            "metadata": { "type": "object" },
        })
    }

    async fn run(&self, ctx: NodeCtx<'_>, config: MemoryStoreConfig) -> Out {
        let NodeCtx { runner, spec, .. } = ctx;
        let store = config.store;
        let content = match config.content {
            Some(Value::String(s)) => s,
            Some(v) => v.to_string(),
            None => return Err(NodeError::new("config", "config.content is required")),
        };
        if content.len() > 100_000 {
            return Err(NodeError::new("config", "config.content is longer than 100000 bytes"));
        }
        let id = Uuid::now_v7();
        runner
            .scope
            .insert(
                &runner.scope.on(&runner.app.db),
                memory_record::ActiveModel {
                    id: Set(id),
                    tenant_id: Set(runner.scope.tenant_id()),
                    store: Set(store.clone()),
                    content: Set(runner.redact(&content)),
                    metadata: Set(config.metadata.unwrap_or_else(|| json!({}))),
                    created_at: Set(Utc::now()),
                },
            )
            .await?;
        runner.log(
            Some(&spec.id),
            entity::execution_log::LogLevel::Info,
            format!("stored a record in memory `{store}`"),
        );
        main(json!({ "id": id, "store": store }))
    }
}
