//! The model of LLM and AI Agent nodes: an OpenAI-compatible chat-completions endpoint.

use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Value, json};

use super::net::{check_url, send_error, status_error};
use crate::modules::workflows::{
    nodes::{NodeError, config},
    runtime::Runner,
};

/// What LLM and AI Agent nodes say about their model and their first messages.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ModelConfig {
    #[serde(default, deserialize_with = "config::lenient")]
    api_key: Option<String>,
    #[serde(default, deserialize_with = "config::lenient")]
    base_url: Option<String>,
    #[serde(default, deserialize_with = "config::lenient")]
    model: Option<String>,
    #[serde(default, deserialize_with = "config::lenient")]
    system: Option<String>,
    /// Sent as it is when a string, as JSON otherwise.
    #[serde(default, deserialize_with = "config::present")]
    prompt: Option<Value>,
}

pub(crate) struct Model {
    url: String,
    pub(crate) model: String,
    key: Option<String>,
    /// The URL is the operator's (`ZYGO_LLM_BASE_URL`), not the graph's.
    operator: bool,
}

/// The endpoint, model and key of an LLM or AI Agent node. The platform's key
/// (`ZYGO_LLM_API_KEY`) goes only to the platform's endpoint (`ZYGO_LLM_BASE_URL`): a node
/// that names another base URL brings its own key (`{{ secrets.NAME }}`) and reaches it
/// through the public-only client, like an HTTP Request node.
pub(crate) async fn model_of(runner: &Runner, config: &ModelConfig) -> Result<Model, NodeError> {
    let cfg = &runner.app.config.workflows;
    let own_key = config.api_key.clone().filter(|k| !k.is_empty());
    let node_base = config.base_url.as_deref().map(|u| u.trim_end_matches('/').to_string());
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
    let model = config.model.clone().or(cfg.llm_model.clone());
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
pub(crate) async fn chat(
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

pub(crate) fn base_messages(config: &ModelConfig) -> Vec<Value> {
    let mut messages = Vec::new();
    if let Some(s) = config.system.as_deref().filter(|s| !s.is_empty()) {
        messages.push(json!({ "role": "system", "content": s }));
    }
    let prompt = match &config.prompt {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => String::new(),
    };
    messages.push(json!({ "role": "user", "content": prompt }));
    messages
}
