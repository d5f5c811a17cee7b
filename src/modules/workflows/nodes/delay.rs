//! Delay: waits, then passes its input on.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    Out, config,
    kind::{MAIN, MAIN_ERR, NodeCtx, NodeKind},
};

pub(crate) struct Delay;

#[derive(Deserialize)]
pub(crate) struct DelayConfig {
    #[serde(default, deserialize_with = "config::lenient")]
    milliseconds: Option<u64>,
}

impl NodeKind for Delay {
    const KEY: &'static str = "flow.delay";
    const CATEGORY: &'static str = "flow";
    const NAME: &'static str = "Delay";
    const DESCRIPTION: &'static str =
        "Waits, then passes its input on. Cancelling the run interrupts the wait.";
    const INPUTS: &'static [&'static str] = MAIN;
    const OUTPUTS: &'static [&'static str] = MAIN_ERR;
    const SAFE_TO_REPEAT: bool = true;
    const DEFAULT_TIMEOUT_MS: u64 = 86_400_000;
    /// A long wait parks the run: its `running` row is written first.
    const CHECKPOINT_BEFORE: bool = true;
    const REQUIRED: &'static [&'static str] = &["milliseconds"];
    type Config = DelayConfig;

    fn properties() -> Value {
        json!({ "milliseconds": { "type": "integer", "minimum": 0, "maximum": 86400000 } })
    }

    /// Waits in place or parks the run: the engine's business (see `Runner::delay`, which
    /// reads the configuration as JSON).
    async fn run(&self, ctx: NodeCtx<'_>, config: DelayConfig) -> Out {
        let config = json!({ "milliseconds": config.milliseconds });
        ctx.runner.delay(ctx.spec, ctx.iteration, ctx.input, &config).await
    }
}
