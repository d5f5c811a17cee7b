//! Filter: keeps the items for which a condition holds.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    NodeError, Out, config,
    kind::{MAIN, MAIN_ERR, NodeCtx, NodeKind, expr},
    main,
};
use crate::modules::workflows::runtime::expr::{Budget, eval_str, truthy};

pub(crate) struct Filter;

#[derive(Deserialize)]
pub(crate) struct FilterConfig {
    /// Default the input; anything but a list is refused when the node runs.
    #[serde(default, deserialize_with = "config::present")]
    items: Option<Value>,
    // `condition` is per item: the node evaluates it from the node's own configuration.
}

impl NodeKind for Filter {
    const KEY: &'static str = "logic.filter";
    const CATEGORY: &'static str = "logic";
    const NAME: &'static str = "Filter";
    const DESCRIPTION: &'static str = "Keeps the items for which the condition holds (each as `item`).";
    const INPUTS: &'static [&'static str] = MAIN;
    const OUTPUTS: &'static [&'static str] = MAIN_ERR;
    const SAFE_TO_REPEAT: bool = true;
    const DEFAULT_TIMEOUT_MS: u64 = 5_000;
    const PER_ITEM: &'static [&'static str] = &["condition"];
    const REQUIRED: &'static [&'static str] = &["condition"];
    type Config = FilterConfig;

    fn properties() -> Value {
        json!({
            "items": expr("Expression giving a list; default the input"),
            "condition": expr("Expression over `item`, e.g. `{{ item.active }}`"),
        })
    }

    async fn run(&self, ctx: NodeCtx<'_>, config: FilterConfig) -> Out {
        let NodeCtx { runner, spec, input, outputs, .. } = ctx;
        let items = match config.items {
            Some(Value::Array(a)) => a,
            None => match input {
                Value::Array(a) => a.clone(),
                _ => return Err(NodeError::new("config", "the input is not a list; set config.items")),
            },
            _ => return Err(NodeError::new("config", "config.items must evaluate to a list")),
        };
        let condition = spec.config.get("condition").and_then(Value::as_str).unwrap_or("false");
        let mut kept = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let ctx = runner.context(input, outputs, &HashMap::new(), &item, &json!(i));
            let v = eval_str(condition, &ctx, Budget::of(&runner.app.config.workflows))
                .map_err(|e| NodeError::new("expression", format!("config.condition: {e}")))?;
            if truthy(&v) {
                kept.push(item);
            }
        }
        main(Value::Array(kept))
    }
}
