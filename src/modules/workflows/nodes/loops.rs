//! Loop: runs the nodes after `body` once per item.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    NodeError, Out, config,
    kind::{MAIN, NodeCtx, NodeKind, expr},
    support::stop_to_error,
};
use crate::modules::workflows::runtime::{budget::json_len, expr::Budget};

pub(crate) struct Loop;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LoopConfig {
    /// Evaluated by the engine; anything but a list is refused when the node runs.
    #[serde(default, deserialize_with = "config::lenient")]
    items: Option<Vec<Value>>,
    #[serde(default, deserialize_with = "config::lenient")]
    max_items: Option<u64>,
}

impl NodeKind for Loop {
    const KEY: &'static str = "logic.loop";
    const CATEGORY: &'static str = "logic";
    const NAME: &'static str = "Loop";
    const DESCRIPTION: &'static str = "Runs the nodes after `body` once per item (as `item`, `index`), then emits the list of their results on `done`.";
    const INPUTS: &'static [&'static str] = MAIN;
    const OUTPUTS: &'static [&'static str] = &["body", "done", "error"];
    const SAFE_TO_REPEAT: bool = true;
    const DEFAULT_TIMEOUT_MS: u64 = 600_000;
    const REQUIRED: &'static [&'static str] = &["items"];
    type Config = LoopConfig;

    fn properties() -> Value {
        json!({
            "items": expr("Expression giving a list, e.g. `{{ input.items }}`"),
            "maxItems": { "type": "integer", "minimum": 1, "maximum": 10000, "default": 1000 },
        })
    }

    async fn run(&self, ctx: NodeCtx<'_>, config: LoopConfig) -> Out {
        let NodeCtx { runner, spec, iteration, outputs, .. } = ctx;
        let Some(items) = config.items else {
            return Err(NodeError::new("config", "config.items must evaluate to a list"));
        };
        let max = config.max_items.unwrap_or(1000) as usize;
        if items.len() > max {
            return Err(NodeError::new(
                "config",
                format!("{} items is more than maxItems ({max})", items.len()),
            ));
        }
        let body: BTreeSet<String> = runner.layout.loop_bodies.get(&spec.id).cloned().unwrap_or_default();
        let mut results = Vec::with_capacity(items.len());
        // The results pile up into this node's output: bounded as they come, not once all
        // iterations have each added their (individually bounded) output.
        let max_output = Budget::of(&runner.app.config.workflows).max_output;
        let mut total = 0usize;
        for (i, item) in items.iter().enumerate() {
            let it = if iteration.is_empty() {
                format!("{}:{i}", spec.id)
            } else {
                format!("{iteration}/{}:{i}", spec.id)
            };
            let mut scoped = outputs.clone();
            let index = json!(i);
            let r = runner
                .clone()
                .run_flow(&body, &it, Some((&spec.id, item)), &mut scoped, item, &index)
                .await
                .map_err(stop_to_error)?;
            let r = r.unwrap_or(Value::Null);
            total = total.saturating_add(json_len(&r, max_output).unwrap_or(usize::MAX));
            if total > max_output {
                return Err(NodeError::new(
                    "config",
                    format!(
                        "the loop's results are larger than {max_output} bytes (ZYGO_WORKFLOW_MAX_OUTPUT_BYTES)"
                    ),
                ));
            }
            results.push(r);
        }
        Ok(("done".into(), Value::Array(results)))
    }
}
