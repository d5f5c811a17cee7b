//! Code: a Rhai script in the sandbox of `support::script`.

use std::{
    sync::{Arc, atomic::AtomicBool},
    time::Instant,
};

use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    NodeError, Out, config,
    kind::{MAIN, MAIN_ERR, NodeCtx, NodeKind},
    main,
    support::script::{ScriptLimits, StopOnDrop, run_script},
};
use crate::modules::workflows::runtime::expr;

pub(crate) struct Code;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CodeConfig {
    #[serde(deserialize_with = "config::string")]
    source: String,
    #[serde(default, deserialize_with = "config::lenient")]
    max_operations: Option<u64>,
}

impl NodeKind for Code {
    const KEY: &'static str = "code";
    const CATEGORY: &'static str = "transform";
    const NAME: &'static str = "Code";
    const DESCRIPTION: &'static str = "Runs a Rhai script with `input` (this node's input) and `trigger` (the run's input); the script's value is the output. No file or network access; operation, size and time limits.";
    const INPUTS: &'static [&'static str] = MAIN;
    const OUTPUTS: &'static [&'static str] = MAIN_ERR;
    const SAFE_TO_REPEAT: bool = true;
    const DEFAULT_TIMEOUT_MS: u64 = 5_000;
    const REQUIRED: &'static [&'static str] = &["source"];
    type Config = CodeConfig;

    fn properties() -> Value {
        json!({
            "source": { "type": "string", "minLength": 1, "maxLength": 20000, "description": "Rhai script" },
            "maxOperations": { "type": "integer", "minimum": 1000, "maximum": 10000000, "default": 1000000 },
        })
    }

    async fn run(&self, ctx: NodeCtx<'_>, config: CodeConfig) -> Out {
        let NodeCtx { runner, spec, input, .. } = ctx;
        let stop = Arc::new(AtomicBool::new(false));
        let _guard = StopOnDrop(stop.clone());
        let timeout = spec.timeout();
        let limits = ScriptLimits {
            max_ops: config.max_operations.unwrap_or(1_000_000),
            deadline: Instant::now() + timeout,
            timeout,
            budget: expr::Budget::of(&runner.app.config.workflows),
        };
        let (input, trigger) = (input.clone(), runner.exec.input.clone());
        let source = config.source;
        let result = tokio::task::spawn_blocking(move || run_script(&source, input, trigger, limits, stop))
            .await
            .map_err(|e| NodeError::new("internal", e.to_string()))?;
        let (value, printed) = result?;
        for line in printed {
            runner.log(Some(&spec.id), entity::execution_log::LogLevel::Info, line);
        }
        main(value)
    }
}
