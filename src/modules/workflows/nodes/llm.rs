//! LLM: one chat-completions call.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    Out, config,
    kind::{MAIN, MAIN_ERR, NodeCtx, NodeKind, expr},
    main,
    support::model::{ModelConfig, base_messages, chat, model_of},
};

pub(crate) struct Llm;

#[derive(Deserialize)]
pub(crate) struct LlmConfig {
    #[serde(flatten)]
    model: ModelConfig,
    #[serde(default, deserialize_with = "config::lenient")]
    temperature: Option<f64>,
}

impl NodeKind for Llm {
    const KEY: &'static str = "ai.llm";
    const CATEGORY: &'static str = "ai";
    const NAME: &'static str = "LLM";
    const DESCRIPTION: &'static str =
        "Asks an OpenAI-compatible chat-completions model; output is { text, model, usage }.";
    const INPUTS: &'static [&'static str] = MAIN;
    const OUTPUTS: &'static [&'static str] = MAIN_ERR;
    const SAFE_TO_REPEAT: bool = true;
    const DEFAULT_TIMEOUT_MS: u64 = 120_000;
    const REVEALS_SECRETS: bool = true;
    const REQUIRED: &'static [&'static str] = &["prompt"];
    type Config = LlmConfig;

    fn properties() -> Value {
        json!({
            "prompt": expr("User message; expressions allowed"),
            "system": expr("System message"),
            "model": { "type": "string", "maxLength": 200 },
            "temperature": { "type": "number", "minimum": 0, "maximum": 2 },
            "apiKey": expr("Key, usually `{{ secrets.OPENAI_API_KEY }}`; default ZYGO_LLM_API_KEY, only without a baseUrl of its own"),
            "baseUrl": { "type": "string", "maxLength": 500 },
        })
    }

    async fn run(&self, ctx: NodeCtx<'_>, config: LlmConfig) -> Out {
        let runner = &ctx.runner;
        let m = model_of(runner, &config.model).await?;
        let (message, usage) =
            chat(runner, &m, &base_messages(&config.model), &[], config.temperature).await?;
        main(json!({ "text": message["content"], "model": m.model, "usage": usage }))
    }
}
