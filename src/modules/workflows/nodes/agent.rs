//! AI Agent: a tool-calling loop over the model, whose tools are the nodes on its `tools`
//! port.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    NodeError, Out, config,
    kind::{MAIN, NodeCtx, NodeKind, expr},
    main,
    support::{
        model::{ModelConfig, base_messages, chat, model_of},
        stop_to_error,
    },
};

pub(crate) struct Agent;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AgentConfig {
    #[serde(flatten)]
    model: ModelConfig,
    #[serde(default, deserialize_with = "config::lenient")]
    max_steps: Option<u64>,
}

impl NodeKind for Agent {
    const KEY: &'static str = "ai.agent";
    const CATEGORY: &'static str = "ai";
    const NAME: &'static str = "AI Agent";
    const DESCRIPTION: &'static str = "A tool-calling loop over the LLM. Its tools are the nodes connected to its `tools` port; each call runs that node with the call's arguments as input.";
    const INPUTS: &'static [&'static str] = MAIN;
    const OUTPUTS: &'static [&'static str] = &["main", "tools", "error"];
    const SAFE_TO_REPEAT: bool = false;
    const DEFAULT_TIMEOUT_MS: u64 = 300_000;
    const REVEALS_SECRETS: bool = true;
    const REQUIRED: &'static [&'static str] = &["prompt"];
    type Config = AgentConfig;

    fn properties() -> Value {
        json!({
            "prompt": expr("The task"),
            "system": expr("System message"),
            "model": { "type": "string", "maxLength": 200 },
            "apiKey": expr("Key; default ZYGO_LLM_API_KEY, only without a baseUrl of its own"),
            "baseUrl": { "type": "string", "maxLength": 500 },
            "maxSteps": { "type": "integer", "minimum": 1, "maximum": 50, "default": 8 },
        })
    }

    async fn run(&self, ctx: NodeCtx<'_>, config: AgentConfig) -> Out {
        let NodeCtx { runner, spec, iteration, outputs, item, index, .. } = ctx;
        let m = model_of(&runner, &config.model).await?;
        let max_steps = config.max_steps.unwrap_or(8).clamp(1, 50);
        let tool_ids = runner.layout.agent_tools.get(&spec.id).cloned().unwrap_or_default();
        let tools: Vec<Value> = tool_ids
            .iter()
            .filter_map(|id| runner.graph.node(id))
            .map(|n| {
                let kind = n.kind().map(|k| k.description).unwrap_or_default();
                json!({
                    "type": "function",
                    "function": {
                        "name": n.id,
                        "description": if n.name.is_empty() { kind.to_string() } else { format!("{}: {kind}", n.name) },
                        "parameters": { "type": "object", "additionalProperties": true },
                    },
                })
            })
            .collect();
        let mut messages = base_messages(&config.model);
        let mut calls = Vec::new();
        for step in 1..=max_steps {
            let (message, _usage) = chat(&runner, &m, &messages, &tools, None).await?;
            let tool_calls = message["tool_calls"].as_array().cloned().unwrap_or_default();
            if tool_calls.is_empty() {
                return main(json!({ "text": message["content"], "steps": step, "toolCalls": calls }));
            }
            messages.push(message.clone());
            for (k, call) in tool_calls.iter().enumerate() {
                let name = call["function"]["name"].as_str().unwrap_or_default().to_string();
                let args: Value = call["function"]["arguments"]
                    .as_str()
                    .and_then(|a| serde_json::from_str(a).ok())
                    .unwrap_or(json!({}));
                let content = match runner.graph.node(&name).filter(|_| tool_ids.contains(&name)) {
                    None => json!({ "error": format!("no tool named `{name}`") }),
                    Some(tool) => {
                        let it = if iteration.is_empty() {
                            format!("{}:{step}.{k}", spec.id)
                        } else {
                            format!("{iteration}/{}:{step}.{k}", spec.id)
                        };
                        runner.log(
                            Some(&spec.id),
                            entity::execution_log::LogLevel::Info,
                            format!("step {step}: calling tool `{name}`"),
                        );
                        let r = runner.clone().run_node(tool, &it, args.clone(), outputs, item, index).await;
                        match r {
                            Ok((_, out)) => out,
                            Err(e) => return Err(stop_to_error(e)),
                        }
                    }
                };
                calls.push(json!({ "tool": name, "arguments": args, "result": content }));
                messages.push(json!({
                    "role": "tool",
                    "tool_call_id": call["id"],
                    "content": content.to_string(),
                }));
            }
        }
        Err(NodeError::new("model", format!("the agent did not finish within maxSteps ({max_steps}) steps")))
    }
}
