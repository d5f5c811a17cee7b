//! Memory Search: finds records of a memory store by keywords.

use serde_json::{Value, json};

use super::{
    Out,
    kind::{MAIN, MAIN_ERR, NodeCtx, NodeKind, expr},
    main,
    support::memory::{SearchConfig, search},
};

pub(crate) struct MemorySearch;

impl NodeKind for MemorySearch {
    const KEY: &'static str = "memory.search";
    const CATEGORY: &'static str = "ai";
    const NAME: &'static str = "Memory Search";
    const DESCRIPTION: &'static str = "Finds records of a memory store by keywords, best first.";
    const INPUTS: &'static [&'static str] = MAIN;
    const OUTPUTS: &'static [&'static str] = MAIN_ERR;
    const SAFE_TO_REPEAT: bool = true;
    const DEFAULT_TIMEOUT_MS: u64 = 10_000;
    const REQUIRED: &'static [&'static str] = &["store", "query"];
    type Config = SearchConfig;

    fn properties() -> Value {
        json!({
            "store": { "type": "string", "minLength": 1, "maxLength": 100 },
            "query": expr("Keywords"),
            "limit": { "type": "integer", "minimum": 1, "maximum": 100, "default": 5 },
        })
    }

    async fn run(&self, ctx: NodeCtx<'_>, config: SearchConfig) -> Out {
        let docs = search(&ctx.runner, &config).await?;
        main(json!({ "documents": docs }))
    }
}
