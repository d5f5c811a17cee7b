//! LLM and AI Agent nodes against an OpenAI-compatible model.

#[allow(unused_imports)]
use super::*;

pub(super) struct Model {
    url: String,
    model: String,
    key: Option<String>,
    /// The URL is the operator's (`ZYGO_LLM_BASE_URL`), not the graph's.
    operator: bool,
}

/// The endpoint, model and key of an LLM or AI Agent node. The platform's key
/// (`ZYGO_LLM_API_KEY`) goes only to the platform's endpoint (`ZYGO_LLM_BASE_URL`): a node
/// that names another base URL brings its own key (`{{ secrets.NAME }}`) and reaches it
/// through the public-only client, like an HTTP Request node.
pub(super) async fn model_of(runner: &Runner, config: &Value) -> Result<Model, NodeError> {
    let cfg = &runner.app.config.workflows;
    let own_key = str_of(config, "apiKey").filter(|k| !k.is_empty()).map(str::to_string);
    let node_base = str_of(config, "baseUrl").map(|u| u.trim_end_matches('/').to_string());
    let (base, operator) = match node_base {
        Some(u) if Some(&u) != cfg.llm_base_url.as_ref() => {
            if own_key.is_none() {
                return Err(NodeError::new(
                    "config",
                    "config.apiKey: a node with its own baseUrl must bring its own key (e.g. `{{ secrets.NAME }}`); \
                     the platform's key is only sent to ZYGO_LLM_BASE_URL",
                ));
            }
            check_url(runner, &u).await?;
            (Some(u), false)
        }
        _ => (cfg.llm_base_url.clone(), true),
    };
    let model = str_of(config, "model").map(str::to_string).or(cfg.llm_model.clone());
    let (Some(base), Some(model)) = (base, model) else {
        return Err(NodeError::new(
            "model",
            "no model configured: set ZYGO_LLM_BASE_URL and ZYGO_LLM_MODEL (or the node's baseUrl and model)",
        ));
    };
    let key = match own_key {
        Some(k) => Some(k),
        None if operator => cfg.llm_api_key.as_ref().map(|k| k.expose_secret().to_string()),
        None => None,
    };
    Ok(Model { url: format!("{base}/chat/completions"), model, key, operator })
}

/// One chat-completions call; returns the assistant message and the usage.
pub(super) async fn chat(
    runner: &Runner,
    m: &Model,
    messages: &[Value],
    tools: &[Value],
    temperature: Option<f64>,
) -> Result<(Value, Value), NodeError> {
    let mut body = json!({ "model": m.model, "messages": messages });
    if !tools.is_empty() {
        body["tools"] = Value::Array(tools.to_vec());
    }
    if let Some(t) = temperature {
        body["temperature"] = json!(t);
    }
    let engine = &runner.app.engine;
    let http = if m.operator { &engine.operator_http } else { &engine.http };
    let mut req = http.post(&m.url).json(&body);
    if let Some(k) = &m.key {
        req = req.bearer_auth(k);
    }
    let resp = req.send().await.map_err(send_error)?;
    let status = resp.status();
    let text = resp.text().await.map_err(send_error)?;
    if !status.is_success() {
        let msg = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
            .unwrap_or(text);
        return Err(status_error(status, "the model", &msg));
    }
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| NodeError::new("model", format!("the model's answer is not JSON: {e}")))?;
    let message = v["choices"][0]["message"].clone();
    if message.is_null() {
        return Err(NodeError::new("model", "the model's answer has no choices[0].message"));
    }
    Ok((message, v["usage"].clone()))
}

pub(super) fn base_messages(config: &Value) -> Vec<Value> {
    let mut messages = Vec::new();
    if let Some(s) = str_of(config, "system").filter(|s| !s.is_empty()) {
        messages.push(json!({ "role": "system", "content": s }));
    }
    let prompt = match config.get("prompt") {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => String::new(),
    };
    messages.push(json!({ "role": "user", "content": prompt }));
    messages
}

pub(super) async fn llm(runner: &Runner, config: &Value) -> Out {
    let m = model_of(runner, config).await?;
    let (message, usage) =
        chat(runner, &m, &base_messages(config), &[], config.get("temperature").and_then(Value::as_f64))
            .await?;
    main(json!({ "text": message["content"], "model": m.model, "usage": usage }))
}

pub(super) async fn agent(
    runner: Arc<Runner>,
    spec: &NodeSpec,
    iteration: &str,
    config: &Value,
    outputs: &mut HashMap<String, Value>,
    item: &Value,
    index: &Value,
) -> Out {
    let m = model_of(&runner, config).await?;
    let max_steps = config.get("maxSteps").and_then(Value::as_u64).unwrap_or(8).clamp(1, 50);
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
    let mut messages = base_messages(config);
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
                    runner.log(Some(&spec.id), "info", format!("step {step}: calling tool `{name}`"));
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
