//! RAG Context: retrieves records from memory and builds a prompt with them.

use serde_json::{Value, json};

use super::{
    Out,
    kind::{MAIN, MAIN_ERR, NodeCtx, NodeKind, expr},
    main,
    support::memory::{SearchConfig, search},
};

pub(crate) struct RagContext;

impl NodeKind for RagContext {
    const KEY: &'static str = "ai.rag";
    const CATEGORY: &'static str = "ai";
    const NAME: &'static str = "RAG Context";
    const DESCRIPTION: &'static str =
        "Retrieves records from memory and builds a prompt with them; output is { prompt, documents }.";
    const INPUTS: &'static [&'static str] = MAIN;
    const OUTPUTS: &'static [&'static str] = MAIN_ERR;
    const SAFE_TO_REPEAT: bool = true;
    const DEFAULT_TIMEOUT_MS: u64 = 10_000;
    const REQUIRED: &'static [&'static str] = &["store", "query"];
    type Config = SearchConfig;

    fn properties() -> Value {
        json!({
            "store": { "type": "string", "minLength": 1, "maxLength": 100 },
            "query": expr("The question"),
            "limit": { "type": "integer", "minimum": 1, "maximum": 50, "default": 5 },
        })
    }

    async fn run(&self, ctx: NodeCtx<'_>, config: SearchConfig) -> Out {
        let docs = search(&ctx.runner, &config).await?;
        let mut prompt = String::from("Answer using only the context below.\n\nContext:\n");
        for d in &docs {
            prompt.push_str(&format!("- {}\n", d["content"].as_str().unwrap_or_default()));
        }
        prompt.push_str(&format!("\nQuestion: {}", config.query));
        main(json!({ "prompt": prompt, "documents": docs }))
    }
}
