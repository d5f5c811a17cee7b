//! The node type catalog: each type's category, ports and the JSON Schema of its
//! configuration. The frontend renders configuration forms from the schemas; validation
//! checks every node's configuration against its schema.

use std::sync::OnceLock;

use serde_json::{Value, json};

/// One node type.
pub struct NodeType {
    pub key: &'static str,
    pub category: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub inputs: &'static [&'static str],
    pub outputs: &'static [&'static str],
    /// Running it twice has no effect outside the run (so an interrupted one may rerun).
    pub safe_to_repeat: bool,
    /// Timeout of one attempt when the node sets none, in milliseconds.
    pub default_timeout_ms: u64,
    pub schema: Value,
    /// Compiled `schema`.
    pub validator: jsonschema::Validator,
    /// Configuration keys the node evaluates itself, once per item (with `item` and `index`),
    /// instead of the engine evaluating them once before the node runs.
    pub per_item: &'static [&'static str],
    /// Before it starts, what finished so far is written, so a crash while it runs (a long
    /// wait) resumes after those nodes.
    pub checkpoint_before: bool,
}

impl NodeType {
    fn per_item(mut self, keys: &'static [&'static str]) -> Self {
        self.per_item = keys;
        self
    }

    fn checkpoint_before(mut self) -> Self {
        self.checkpoint_before = true;
        self
    }
}

const MAIN: &[&str] = &["main"];
const MAIN_ERR: &[&str] = &["main", "error"];
const NONE: &[&str] = &[];

fn expr(description: &str) -> Value {
    json!({ "type": "string", "maxLength": 10000, "description": description })
}

fn def(
    key: &'static str,
    category: &'static str,
    name: &'static str,
    description: &'static str,
    (inputs, outputs): (&'static [&'static str], &'static [&'static str]),
    safe_to_repeat: bool,
    default_timeout_ms: u64,
    properties: Value,
    required: &[&str],
) -> NodeType {
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    });
    let validator = jsonschema::validator_for(&schema).expect("built-in node schemas are valid");
    NodeType {
        key,
        category,
        name,
        description,
        inputs,
        outputs,
        safe_to_repeat,
        default_timeout_ms,
        schema,
        validator,
        per_item: &[],
        checkpoint_before: false,
    }
}

/// Every node type, in palette order.
pub fn all() -> &'static [NodeType] {
    static CATALOG: OnceLock<Vec<NodeType>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        vec![
            def(
                "trigger.manual",
                "trigger",
                "Manual trigger",
                "Starts the workflow from executeWorkflow; its output is the run's input.",
                (NONE, MAIN),
                true,
                1_000,
                json!({}),
                &[],
            ),
            def(
                "trigger.webhook",
                "trigger",
                "Webhook",
                "Starts the workflow on POST /hooks/{workflow}/{token}; output is { body, headers, query }.",
                (NONE, MAIN),
                true,
                1_000,
                json!({}),
                &[],
            ),
            def(
                "trigger.schedule",
                "trigger",
                "Schedule",
                "Starts the latest version on a cron schedule (5 or 6 fields, UTC or a time zone).",
                (NONE, MAIN),
                true,
                1_000,
                json!({
                    "cron": { "type": "string", "minLength": 9, "maxLength": 120, "description": "Cron expression, e.g. `*/5 * * * *`" },
                    "timezone": { "type": "string", "maxLength": 64, "description": "IANA time zone, default UTC" },
                }),
                &["cron"],
            ),
            def(
                "http.request",
                "action",
                "HTTP Request",
                "Calls an HTTP API; output is { status, headers, body }. 4xx/5xx answers fail the node.",
                (MAIN, MAIN_ERR),
                false,
                30_000,
                json!({
                    "method": { "enum": ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"], "default": "GET" },
                    "url": expr("Absolute http(s) URL; expressions allowed"),
                    "headers": { "type": "object", "additionalProperties": { "type": "string", "maxLength": 10000 } },
                    "query": { "type": "object", "additionalProperties": { "type": "string", "maxLength": 10000 } },
                    "body": { "description": "JSON body (object, array or expression)" },
                    "failOnHttpError": { "type": "boolean", "default": true },
                }),
                &["url"],
            ),
            def(
                "code",
                "transform",
                "Code",
                "Runs a Rhai script with `input` (this node's input) and `trigger` (the run's input); the script's value is the output. No file or network access; operation, size and time limits.",
                (MAIN, MAIN_ERR),
                true,
                5_000,
                json!({
                    "source": { "type": "string", "minLength": 1, "maxLength": 20000, "description": "Rhai script" },
                    "maxOperations": { "type": "integer", "minimum": 1000, "maximum": 10000000, "default": 1000000 },
                }),
                &["source"],
            ),
            def(
                "logic.conditional",
                "logic",
                "Conditional",
                "Sends its input to `true` or `false` by a condition.",
                (MAIN, &["true", "false", "error"]),
                true,
                1_000,
                json!({ "condition": expr("Expression, e.g. `{{ input.count > 3 }}`") }),
                &["condition"],
            ),
            def(
                "logic.loop",
                "logic",
                "Loop",
                "Runs the nodes after `body` once per item (as `item`, `index`), then emits the list of their results on `done`.",
                (MAIN, &["body", "done", "error"]),
                true,
                600_000,
                json!({
                    "items": expr("Expression giving a list, e.g. `{{ input.items }}`"),
                    "maxItems": { "type": "integer", "minimum": 1, "maximum": 10000, "default": 1000 },
                }),
                &["items"],
            ),
            def(
                "logic.filter",
                "logic",
                "Filter",
                "Keeps the items for which the condition holds (each as `item`).",
                (MAIN, MAIN_ERR),
                true,
                5_000,
                json!({
                    "items": expr("Expression giving a list; default the input"),
                    "condition": expr("Expression over `item`, e.g. `{{ item.active }}`"),
                }),
                &["condition"],
            )
            .per_item(&["condition"]),
            def(
                "flow.delay",
                "flow",
                "Delay",
                "Waits, then passes its input on. Cancelling the run interrupts the wait.",
                (MAIN, MAIN_ERR),
                true,
                86_400_000,
                json!({ "milliseconds": { "type": "integer", "minimum": 0, "maximum": 86400000 } }),
                &["milliseconds"],
            )
            .checkpoint_before(),
            def(
                "email.send",
                "action",
                "Email",
                "Sends a mail through the outbox.",
                (MAIN, MAIN_ERR),
                false,
                10_000,
                json!({
                    "to": expr("Recipient address"),
                    "subject": { "type": "string", "minLength": 1, "maxLength": 500 },
                    "body": { "type": "string", "maxLength": 100000 },
                }),
                &["to", "subject", "body"],
            ),
            def(
                "data.source",
                "data",
                "Data Source",
                "Reads the organisation's data: members, teams, environment variables or a memory store.",
                (MAIN, MAIN_ERR),
                true,
                10_000,
                json!({
                    "source": { "enum": ["members", "teams", "environment", "memory"] },
                    "store": { "type": "string", "maxLength": 100 },
                    "limit": { "type": "integer", "minimum": 1, "maximum": 1000, "default": 100 },
                }),
                &["source"],
            ),
            def(
                "ai.llm",
                "ai",
                "LLM",
                "Asks an OpenAI-compatible chat-completions model; output is { text, model, usage }.",
                (MAIN, MAIN_ERR),
                true,
                120_000,
                json!({
                    "prompt": expr("User message; expressions allowed"),
                    "system": expr("System message"),
                    "model": { "type": "string", "maxLength": 200 },
                    "temperature": { "type": "number", "minimum": 0, "maximum": 2 },
                    "apiKey": expr("Key, usually `{{ secrets.OPENAI_API_KEY }}`; default ZYGO_LLM_API_KEY, only without a baseUrl of its own"),
                    "baseUrl": { "type": "string", "maxLength": 500 },
                }),
                &["prompt"],
            ),
            def(
                "memory.store",
                "ai",
                "Memory Store",
                "Saves a record in one of the organisation's memory stores.",
                (MAIN, MAIN_ERR),
                false,
                10_000,
                json!({
                    "store": { "type": "string", "minLength": 1, "maxLength": 100 },
                    "content": expr("Text to remember"),
                    "metadata": { "type": "object" },
                }),
                &["store", "content"],
            ),
            def(
                "memory.search",
                "ai",
                "Memory Search",
                "Finds records of a memory store by keywords, best first.",
                (MAIN, MAIN_ERR),
                true,
                10_000,
                json!({
                    "store": { "type": "string", "minLength": 1, "maxLength": 100 },
                    "query": expr("Keywords"),
                    "limit": { "type": "integer", "minimum": 1, "maximum": 100, "default": 5 },
                }),
                &["store", "query"],
            ),
            def(
                "ai.rag",
                "ai",
                "RAG Context",
                "Retrieves records from memory and builds a prompt with them; output is { prompt, documents }.",
                (MAIN, MAIN_ERR),
                true,
                10_000,
                json!({
                    "store": { "type": "string", "minLength": 1, "maxLength": 100 },
                    "query": expr("The question"),
                    "limit": { "type": "integer", "minimum": 1, "maximum": 50, "default": 5 },
                }),
                &["store", "query"],
            ),
            def(
                "ai.agent",
                "ai",
                "AI Agent",
                "A tool-calling loop over the LLM. Its tools are the nodes connected to its `tools` port; each call runs that node with the call's arguments as input.",
                (MAIN, &["main", "tools", "error"]),
                false,
                300_000,
                json!({
                    "prompt": expr("The task"),
                    "system": expr("System message"),
                    "model": { "type": "string", "maxLength": 200 },
                    "apiKey": expr("Key; default ZYGO_LLM_API_KEY, only without a baseUrl of its own"),
                    "baseUrl": { "type": "string", "maxLength": 500 },
                    "maxSteps": { "type": "integer", "minimum": 1, "maximum": 50, "default": 8 },
                }),
                &["prompt"],
            ),
        ]
    })
}

/// The type named `key`.
pub fn get(key: &str) -> Option<&'static NodeType> {
    all().iter().find(|t| t.key == key)
}
