//! Conditional: sends its input to `true` or `false`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    Out,
    kind::{MAIN, NodeCtx, NodeKind, expr},
};
use crate::modules::workflows::runtime::expr::truthy;

pub(crate) struct Conditional;

#[derive(Deserialize)]
pub(crate) struct ConditionalConfig {
    /// Evaluated by the engine; any value, by its truthiness.
    #[serde(default)]
    condition: Value,
}

impl NodeKind for Conditional {
    const KEY: &'static str = "logic.conditional";
    const CATEGORY: &'static str = "logic";
    const NAME: &'static str = "Conditional";
    const DESCRIPTION: &'static str = "Sends its input to `true` or `false` by a condition.";
    const INPUTS: &'static [&'static str] = MAIN;
    const OUTPUTS: &'static [&'static str] = &["true", "false", "error"];
    const SAFE_TO_REPEAT: bool = true;
    const DEFAULT_TIMEOUT_MS: u64 = 1_000;
    const REQUIRED: &'static [&'static str] = &["condition"];
    type Config = ConditionalConfig;

    fn properties() -> Value {
        json!({ "condition": expr("Expression, e.g. `{{ input.count > 3 }}`") })
    }

    async fn run(&self, ctx: NodeCtx<'_>, config: ConditionalConfig) -> Out {
        Ok((if truthy(&config.condition) { "true" } else { "false" }.into(), ctx.input.clone()))
    }
}
